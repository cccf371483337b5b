"""Lists narrowed to a limited caller are narrowed in the query, not after it: a page holds
as many of the caller's rows as it can, and the cursor goes on to the rest. Before, the
alerts, documents and re-plan runs lists read a page of everyone's rows and then dropped
what the caller may not see, so a channel-bound key got empty pages (with a cursor) while
its own rows waited further on. Alerts that belong to no order are the network's: every
caller who may read alerts sees them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from potok.domain.access import Permission, Role
from potok.domain.alerts import AlertKind
from potok.domain.kernel import Actor
from potok.services import replanning
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer, key_for
from tests.e2e.test_documents_api import setup
from tests.factories import build_world_api, order_body

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def web_key(live: LiveServer, *scopes: Permission) -> httpx.Client:
    secret = key_for(live.potok, *scopes, channel="web", name="web-only")
    return live.client(headers={"Authorization": f"Bearer {secret}"})


def every_page(client: httpx.Client, path: str, **params: Any) -> list[list[int]]:
    """The ids of each page, following the cursor to the end."""
    pages: list[list[int]] = []
    cursor = None
    while True:
        answer = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def place(api: httpx.Client, channel: str) -> int:
    created = api.post("/api/v1/orders", json=order_body([("KET", 1)], channel=channel))
    assert created.status_code == 201, created.text
    order_id: int = created.json()["id"]
    return order_id


def test_alerts_pages_of_a_channel_bound_key_are_full_and_include_the_networks(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world_api(api, {("MSK", "KET"): 20})
    mine = place(api, "web")
    theirs = place(api, "phone")
    with live.potok.uow() as uow:
        own = uow.alerts.add(AlertKind.ORDER_BACKORDERED_AFTER_REROUTING, mine, "web", T0)
        network = uow.alerts.add(AlertKind.LOCATION_SHIPS_WITHOUT_TARIFF, None, "MSK", T0)
        for _ in range(4):  # newer than the key's own: a page of them was all it got
            uow.alerts.add(AlertKind.ORDER_BACKORDERED_AFTER_REROUTING, theirs, "phone", T0)
        uow.commit()

    with web_key(live, Permission.ORDERS_READ) as web:
        pages = every_page(web, "/api/v1/alerts", limit=2)

    assert pages == [[network.id, own.id]]
    assert every_page(api, "/api/v1/alerts", limit=2)[0][0] > network.id  # others see all


def test_warehouse_staff_see_their_locations_alerts_and_the_networks_not_anothers(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world_api(api, {("MSK", "KET"): 20})
    with live.potok.uow() as uow:
        ids = uow.warehouses.ids_for(["MSK", "SPB"])
        network = uow.alerts.add(AlertKind.ORDER_BACKORDERED_AFTER_REROUTING, None, "all", T0)
        ours = uow.alerts.add_once(
            AlertKind.LOCATION_SHIPS_WITHOUT_TARIFF,
            "MSK (tariffs 1)",
            None,
            "MSK",
            T0,
            warehouse_id=ids["MSK"],
        )
        theirs = [
            uow.alerts.add_once(
                AlertKind.LOCATION_SHIPS_WITHOUT_TARIFF,
                f"SPB (tariffs {v})",
                None,
                "SPB",
                T0,
                warehouse_id=ids["SPB"],
            )
            for v in range(3)
        ]
        uow.commit()
    assert ours is not None
    assert all(theirs)
    make_user(live.potok, "msk", Role.WAREHOUSE, warehouses=("MSK",))
    staff = sign_in(live.url, "msk")

    listed = staff.request("GET", "/api/v1/alerts", params={"limit": 2})
    foreign = staff.request("GET", "/api/v1/alerts", params={"limit": 50, "state": "all"})
    with web_key(live, Permission.ORDERS_READ) as web:
        by_key = every_page(web, "/api/v1/alerts", limit=50)

    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["items"]] == [ours.id, network.id]
    assert listed.json()["next_cursor"] is None
    assert "SPB" not in foreign.text
    # a channel's key is not kept to warehouses: locations are the network's to it
    assert by_key == [[*(t.id for t in reversed(theirs) if t), ours.id, network.id]]


def test_documents_pages_of_a_channel_bound_key_are_full(
    live: LiveServer, api: httpx.Client
) -> None:
    setup(api)
    web_order = place(api, "web")
    phone_order = place(api, "phone")
    mine = api.post(f"/api/v1/orders/{web_order}/documents", json={"kind": "invoice"})
    assert mine.status_code == 201, mine.text
    for kind in ("invoice", "torg12", "upd"):  # newer than the key's own
        theirs = api.post(f"/api/v1/orders/{phone_order}/documents", json={"kind": kind})
        assert theirs.status_code == 201, theirs.text

    with web_key(live, Permission.ORDERS_READ, Permission.CATALOGUE_READ) as web:
        pages = every_page(web, "/api/v1/documents", limit=1)

    assert pages == [[mine.json()["id"]]]


def test_replan_runs_pages_of_a_channel_bound_key_are_full(
    live: LiveServer, api: httpx.Client
) -> None:
    build_world_api(api, {("MSK", "KET"): 20})

    def run(channel: str | None) -> int:
        done = replanning.replan(
            live.potok.uow(),
            channel=channel,
            warehouse=None,
            limit=10,
            time_limit_s=1,
            apply=False,
            actor=Actor.system("tests"),
        )
        return done.id

    first = run("web")
    run(None)
    run("phone")
    second = run("web")
    run("phone")
    run(None)

    with web_key(live, Permission.SOURCING_READ) as web:
        pages = every_page(web, "/api/v1/sourcing/replans", limit=1)

    assert pages == [[second], [first]]
