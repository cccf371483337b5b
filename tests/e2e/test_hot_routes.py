"""Order intake skips the router's walk (``api/hot_routes.py``) and is answered as before:
the same problems, the same metrics label, and the route found at all (a FastAPI upgrade
that hides it would silently slow intake down)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response

from potok.api.app import create_app
from potok.api.hot_routes import HOT, HotRoutes, qualifies
from potok.api.security import needs
from potok.bootstrap import Potok
from potok.domain.access import Permission
from tests.conftest import LiveServer, key_for
from tests.e2e.test_operations_api import samples
from tests.factories import build_world_api, order_body


def test_order_intake_is_a_hot_route(potok: Potok) -> None:
    app = create_app(potok=potok)
    hot = HotRoutes(app.router, app)

    assert set(hot.routes()) == set(HOT) == {("POST", "/api/v1/orders")}


def test_a_route_that_needs_the_router_does_not_qualify() -> None:
    router = APIRouter()

    @router.post("/checked", dependencies=[needs(Permission.ORDERS_WRITE)])
    async def checked(request: Request) -> Response:
        return Response()

    @router.post("/plain")
    async def plain(request: Request) -> Response:
        return Response()

    @router.post("/{number}")
    async def with_path(request: Request, number: int) -> Response:
        return Response()

    found = {route.path: qualifies(route) for route in router.routes}  # type: ignore[attr-defined]
    assert found == {"/checked": False, "/plain": True, "/{number}": False}


def test_the_hot_route_answers_errors_and_counts_as_before(live: LiveServer) -> None:
    scraper = key_for(live.potok, Permission.METRICS_READ, name="prometheus")
    reader = key_for(live.potok, Permission.ORDERS_READ, name="reader")
    writer = key_for(live.potok)
    with live.client(headers={"Authorization": f"Bearer {scraper}"}) as prometheus:
        before = samples(prometheus.get("/metrics").text)
        with live.client(headers={"Authorization": f"Bearer {writer}"}) as api:
            build_world_api(api, {("MSK", "KET"): 5})
            placed = api.post("/api/v1/orders", json=order_body([("KET", 1)]))
            broken = api.post("/api/v1/orders", json={"channel": "web", "lines": "no"})
            unknown = api.post("/api/v1/orders", json=order_body([("NOPE", 1)]))
        with live.client(headers={"Authorization": f"Bearer {reader}"}) as client:
            refused = client.post("/api/v1/orders", json=order_body([("KET", 1)]))
        with httpx.Client(base_url=live.url) as anonymous:
            nobody = anonymous.post("/api/v1/orders", json=order_body([("KET", 1)]))
        found = samples(prometheus.get("/metrics").text)

    assert placed.status_code == 201
    assert (broken.status_code, broken.json()["code"]) == (422, "invalid-input")
    assert broken.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in broken.json()["errors"]] == ["delivery", "lines"]
    assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (422, "unknown-sku")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert nobody.status_code == 401

    def grew(status: str) -> float:
        labels = (("method", "POST"), ("route", "/api/v1/orders"), ("status", status))
        return found.get(("potok_http_requests_total", labels), 0) - before.get(
            ("potok_http_requests_total", labels), 0
        )

    assert (grew("201"), grew("422"), grew("403"), grew("401")) == (1, 2, 1, 1)
