"""Every creating POST takes an Idempotency-Key: a request retried after its answer was lost
gets the first answer (``Idempotent-Replayed: true``) and creates nothing a second time; the
same key with another body is refused with a 409 problem and changes nothing.

The API's own document says which POSTs create (a 201 or 202 answer): each of them must
declare the header, or a new creating route without it fails here. Receipts, moves,
transfers, orders, returns and the rest have their own tests of the replay; here are users,
API keys, the catalogue, storage locations, holds, picking shortages, re-plans, carrier
bookings and exchanges."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from potok.connectors.carriers import TrackingStatus
from tests.conftest import LiveServer
from tests.e2e.test_access_api import admin_session
from tests.e2e.test_carriers_api import packed_shipment
from tests.e2e.test_stock_api import get_order, movements, place
from tests.factories import build_world, build_world_api
from tests.integration.test_returns import T0, Clock, _handed_over, _track
from tests.invariants import assert_stock_invariants
from tests.problems import problem

CREATED = {"201", "202"}  # what a POST that makes something answers
NOT_KEYED = {  # creating POSTs that take no key, and why none is needed
    "/api/v1/session": "signing in again is a new session; a kept answer would hand its"
    " cookie and CSRF token to whoever sends the key again",
}


@pytest.mark.parametrize("backend", ["sqlite"])  # one document, whatever the database
def test_every_creating_post_takes_an_idempotency_key(api: httpx.Client) -> None:
    document = api.get("/api/v1/openapi.json").json()
    creating = {
        path: operation
        for path, item in document["paths"].items()
        if (operation := item.get("post")) is not None and CREATED & set(operation["responses"])
    }
    assert len(creating) > 30  # the document was read: orders, stock, returns, ...

    without = sorted(
        path
        for path, operation in creating.items()
        if "idempotency-key"
        not in {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
    )

    assert without == sorted(NOT_KEYED)


def twice(
    api: httpx.Client, path: str, body: dict[str, Any], key: str, more: dict[str, str] | None = None
) -> tuple[httpx.Response, httpx.Response]:
    """The request, then the same again as a client does when the first answer was lost."""
    headers = {"Idempotency-Key": key, **(more or {})}
    first = api.post(path, json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = api.post(path, json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    return first, again


def reused(
    api: httpx.Client, path: str, body: dict[str, Any], key: str, more: dict[str, str] | None = None
) -> None:
    refused = api.post(path, json=body, headers={"Idempotency-Key": key, **(more or {})})
    problem(refused, 409, "idempotency-key-reused")


CHANNEL = {
    "code": "volga",
    "name": "Volga shop",
    "type": "web",
    "confirmation": "auto",
    "backorders": "backorder",
    "safety_buffer": 0,
    "payment_deadline_minutes": 60,
}
WAREHOUSE = {
    "code": "VLG",
    "name": "Volgograd DC",
    "type": "warehouse",
    "city": "Волгоград",
    "latitude": 48.708,
    "longitude": 44.513,
}


@pytest.mark.parametrize(
    ("path", "body", "other", "listing", "location"),
    [
        (
            "/api/v1/products",
            {"sku": "TEA", "name": "Green tea", "price": "390.00", "vat_rate": "20"},
            {"sku": "TEA", "name": "Black tea", "price": "390.00", "vat_rate": "20"},
            "/api/v1/products",
            "/api/v1/products/TEA",
        ),
        (
            "/api/v1/channels",
            CHANNEL,
            {**CHANNEL, "name": "Another"},
            "/api/v1/channels",
            "/api/v1/channels/volga",
        ),
        (
            "/api/v1/warehouses",
            WAREHOUSE,
            {**WAREHOUSE, "name": "Another"},
            "/api/v1/warehouses",
            "/api/v1/warehouses/VLG",
        ),
        (
            "/api/v1/warehouses/MSK/locations",
            {"code": "A-01"},
            {"code": "A-02"},
            "/api/v1/warehouses/MSK/locations",
            "/api/v1/warehouses/MSK/locations/A-01",
        ),
    ],
    ids=["product", "channel", "warehouse", "location"],
)
def test_a_repeated_create_makes_one_thing_and_answers_the_same(
    api: httpx.Client,
    path: str,
    body: dict[str, Any],
    other: dict[str, Any],
    listing: str,
    location: str | None,
) -> None:
    build_world_api(api, {("MSK", "KET"): 1})

    def listed() -> list[Any]:
        found = api.get(listing).json()
        return list(found["items"] if isinstance(found, dict) else found)

    before = len(listed())

    first, again = twice(api, path, body, "create-1")
    reused(api, path, other, "create-1")

    assert len(listed()) == before + 1
    if location is not None:
        assert first.headers["location"] == again.headers["location"] == location
    without_key = api.post(path, json=body)
    assert without_key.status_code == 409, without_key.text  # taken: the key made the repeat safe


@pytest.mark.parametrize(
    ("path", "body", "other", "secret"),
    [
        (
            "/api/v1/users",
            {"username": "ivanova", "role": "operator"},
            {"username": "ivanova", "role": "manager"},
            "one_time_password",
        ),
        (
            "/api/v1/api-keys",
            {"name": "shop-site", "scopes": ["orders:read"]},
            {"name": "shop-site", "scopes": ["orders:write"]},
            "secret",
        ),
    ],
    ids=["user", "api-key"],
)
def test_a_repeated_user_or_key_is_made_once_and_its_secret_answered_again(
    live: LiveServer, path: str, body: dict[str, Any], other: dict[str, Any], secret: str
) -> None:
    admin = admin_session(live)
    csrf = {"X-CSRF-Token": admin.csrf}
    before = len(admin.client.get(path).json())

    first, _ = twice(admin.client, path, body, "make-1", csrf)
    reused(admin.client, path, other, "make-1", csrf)

    assert first.json()[secret]  # the lost answer's secret is what the repeat shows
    assert len(admin.client.get(path).json()) == before + 1
    problem(admin.request("POST", path, json=body), 409, first_problem(path))


def first_problem(path: str) -> str:
    return "username-taken" if path.endswith("users") else "api-key-name-taken"


def test_a_repeated_hold_is_placed_once(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    order = place(api, [("KET", 1)], channel="phone")
    path = f"/api/v1/orders/{order['id']}/holds"
    body = {"type": "fraud", "reason": "odd address"}

    first, again = twice(api, path, body, "hold-1")
    reused(api, path, {"type": "manual", "reason": "odd address"}, "hold-1")

    assert first.json()["hold_no"] == 1
    assert again.headers["location"] == f"/api/v1/orders/{order['id']}/holds/1"
    assert first.headers["etag"] == f'"{get_order(api, order["id"])["version"]}"'
    holds = get_order(api, order["id"])["holds"]
    assert [(h["hold_no"], h["state"]) for h in holds] == [(1, "active")]


def test_a_repeated_shortage_writes_stock_down_once(api: httpx.Client, live: LiveServer) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "KET"): 5})
    order = place(api, [("KET", 2)])
    path = f"/api/v1/orders/{order['id']}/shortages"
    body = {"warehouse": "MSK", "sku": "KET", "missing": 2}

    first, _ = twice(api, path, body, "short-1")
    reused(api, path, {**body, "missing": 1}, "short-1")

    assert (first.json()["on_hand"], first.json()["available"]) == (3, 3)
    (movement,) = movements(api, warehouse="MSK", sku="KET", type="write_off")
    assert movement["quantity"] == -2
    assert_stock_invariants(live.potok)


def test_a_repeated_replan_runs_once(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    place(api, [("KET", 1)])
    path = "/api/v1/sourcing/replans"

    first, _ = twice(api, path, {"apply": False}, "replan-1")
    reused(api, path, {"apply": True}, "replan-1")

    runs = api.get(path).json()["items"]
    assert [r["id"] for r in runs] == [first.json()["id"]]


def test_a_repeated_booking_books_once(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    _, shipment_id = packed_shipment(api)
    path = f"/api/v1/shipments/{shipment_id}/booking"

    first, _ = twice(api, path, {"carrier": "sandbox"}, "book-1")
    reused(api, path, {"carrier": "own"}, "book-1")

    assert first.json()["tracking_number"]
    shipment = api.get(f"/api/v1/shipments/{shipment_id}").json()
    assert (shipment["version"], shipment["tracking_number"]) == (
        first.json()["version"],
        first.json()["tracking_number"],
    )  # not booked a second time
    problem(api.post(path, json={"carrier": "sandbox"}), 422, "invalid-input")  # booked already


def test_a_repeated_exchange_places_one_replacement(api: httpx.Client, live: LiveServer) -> None:
    build_world(live.potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 5})
    clock = Clock(T0)
    order_id, _, number = _handed_over(live.potok, [("KET", 1), ("MUG", 1)], clock)
    _track(live.potok, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")
    swap = api.post(
        f"/api/v1/orders/{order_id}/returns",
        json={"lines": [{"line_no": 2, "quantity": 1, "reason": "wrong_item"}], "approve": True},
    ).json()
    path = f"/api/v1/returns/{swap['number']}/exchange"

    first, _ = twice(api, path, {}, "swap-1")
    reused(api, path, {"lines": [{"sku": "KET", "quantity": 1}]}, "swap-1")

    replacement = first.json()["exchange_order_id"]
    orders = api.get("/api/v1/orders", params={"limit": 100}).json()["items"]
    assert [o["id"] for o in orders if o["id"] != order_id] == [replacement]
    assert_stock_invariants(live.potok)
