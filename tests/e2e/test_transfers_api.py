"""Transfers, purchase orders and incoming stock over HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from potok.domain.access import Role
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.e2e.test_stock_api import (
    get_order,
    levels,
    movements,
    no_drift,
    open_reservations,
    place,
)
from tests.factories import build_world_api
from tests.invariants import assert_stock_invariants
from tests.problems import field_codes, problem

TRANSFERS = "/api/v1/transfers"
PURCHASE_ORDERS = "/api/v1/purchase-orders"


def request(
    api: httpx.Client, source: str, destination: str, lines: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    response = api.post(
        TRANSFERS,
        json={"from_warehouse": source, "to_warehouse": destination, "lines": lines, **extra},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def act(api: httpx.Client, number: str, action: str, body: Any = None) -> httpx.Response:
    return api.post(f"{TRANSFERS}/{number}/{action}", json=body)


def incoming(api: httpx.Client, **params: Any) -> dict[tuple[str, str], dict[str, Any]]:
    response = api.get("/api/v1/stock/incoming", params=params)
    assert response.status_code == 200, response.text
    return {(r["warehouse"], r["sku"]): r for r in response.json()["items"]}


def events(live: LiveServer, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    with live.potok.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT type, payload FROM outbox_events WHERE type LIKE :p ORDER BY id"),
            {"p": prefix + "%"},
        ).all()
    return [
        (r.type, json.loads(r.payload) if isinstance(r.payload, str) else r.payload) for r in rows
    ]


# ---------------------------------------------------------------------- transfers


def test_a_transfer_leaves_the_source_travels_and_arrives_less_what_was_lost(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 10, ("SPB", "KET"): 1, ("MSK", "MUG"): 3})
    transfer = request(
        api,
        "MSK",
        "SPB",
        [{"sku": "KET", "quantity": 6}, {"sku": "MUG", "quantity": 3}],
        expected_on="2026-12-01",
        comment="restock SPB",
    )
    number = transfer["number"]
    assert number.startswith("TR-")
    assert transfer["status"] == "requested"
    assert incoming(api) == {}

    shipped = act(api, number, "ship", {"lines": [{"line_no": 1, "quantity": 5}]})

    assert shipped.status_code == 200, shipped.text
    body = shipped.json()
    assert (body["status"], body["in_transit"]) == ("shipped", 8)
    assert [line["shipped_quantity"] for line in body["lines"]] == [5, 3]
    assert levels(api)[("MSK", "KET")] == (5, 0)
    assert levels(api)[("MSK", "MUG")] == (0, 0)
    on_the_way = incoming(api, warehouse="SPB")
    assert on_the_way[("SPB", "KET")]["quantity"] == 5
    assert on_the_way[("SPB", "KET")]["expected_on"] == "2026-12-01"
    assert on_the_way[("SPB", "KET")]["sources"][0]["number"] == number
    page = api.get("/api/v1/stock/levels", params={"warehouse": "SPB"}).json()
    assert [(r["sku"], r["on_hand"], r["incoming"]) for r in page["items"]] == [("KET", 1, 5)]
    out = movements(api, warehouse="MSK", sku="KET", type="transfer_out")
    assert [(m["quantity"], m["reference"]) for m in out] == [(-5, number)]
    no_drift(api)

    arrived = act(
        api,
        number,
        "receive",
        {"lines": [{"line_no": 1, "quantity": 4, "reason": "one kettle broken in transit"}]},
    )

    assert arrived.status_code == 200, arrived.text
    body = arrived.json()
    assert (body["status"], body["in_transit"]) == ("received", 0)
    assert [
        (d["line_no"], d["discrepancy"], d["discrepancy_reason"]) for d in body["discrepancies"]
    ] == [(1, -1, "one kettle broken in transit")]
    assert levels(api)[("SPB", "KET")] == (5, 0)
    assert levels(api)[("SPB", "MUG")] == (3, 0)
    assert incoming(api) == {}
    got = movements(api, warehouse="SPB", type="transfer_in")
    assert sorted((m["sku"], m["quantity"]) for m in got) == [("KET", 4), ("MUG", 3)]
    assert api.get(f"{TRANSFERS}/{number}").json()["lines"][0]["discrepancy"] == -1
    no_drift(api)
    assert_stock_invariants(live.potok)
    kinds = [t for t, _ in events(live, "transfer.")]
    assert kinds == ["transfer.requested", "transfer.shipped", "transfer.received"]
    received = events(live, "transfer.received")[0][1]
    assert received["discrepancies"][0]["difference"] == -1
    with live.potok.engine.connect() as connection:
        trail = connection.execute(
            sa.text(
                "SELECT action, actor FROM audit_log WHERE entity_type = 'transfer' "
                "AND entity_id = :n ORDER BY id"
            ),
            {"n": number},
        ).all()
    assert [(r.action, r.actor) for r in trail] == [
        ("transfer.requested", "api_key:tests"),
        ("transfer.shipped", "api_key:tests"),
        ("transfer.received", "api_key:tests"),
    ]


def test_a_backordered_order_is_reserved_when_a_transfer_arrives(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK-P", "KET"): 5})  # the pickup point serves no channel
    order = place(api, [("KET", 2)])
    assert order["status"] == "backordered"
    number = request(api, "MSK-P", "SPB", [{"sku": "KET", "quantity": 2}])["number"]
    assert act(api, number, "ship").status_code == 200

    arrived = act(api, number, "receive")

    assert arrived.status_code == 200, arrived.text
    assert arrived.json()["backorders_reserved"] == [order["id"]]
    assert arrived.json()["discrepancies"] == []
    after = get_order(api, order["id"])
    assert after["status"] == "reserved"
    assert open_reservations(after) == [("SPB", "KET", 2)]
    assert_stock_invariants(live.potok)


def test_shipping_takes_only_available_stock_and_names_the_short_lines(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 3, ("MSK", "MUG"): 9})
    order = place(api, [("KET", 2)])
    assert open_reservations(get_order(api, order["id"])) == [("MSK", "KET", 2)]
    number = request(
        api, "MSK", "SPB", [{"sku": "MUG", "quantity": 4}, {"sku": "KET", "quantity": 2}]
    )["number"]

    refused = act(api, number, "ship")

    body = problem(refused, 422, "transfer-short")
    assert body["lines"] == [
        {"line_no": 2, "sku": "KET", "lot": None, "to_ship": 2, "available": 1}
    ]
    assert levels(api)[("MSK", "KET")] == (3, 2)
    assert levels(api)[("MSK", "MUG")] == (9, 0)
    assert api.get(f"{TRANSFERS}/{number}").json()["status"] == "requested"
    assert_stock_invariants(live.potok)


def test_illegal_moves_are_refused(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})
    number = request(api, "MSK", "SPB", [{"sku": "KET", "quantity": 2}])["number"]

    too_early = act(api, number, "receive")
    assert act(api, number, "ship").status_code == 200
    too_late = act(api, number, "cancel", {"reason": "changed our mind"})
    assert act(api, number, "receive").status_code == 200
    twice = act(api, number, "receive")

    for answer in (too_early, too_late, twice):
        problem(answer, 409, "illegal-transition")
    other = request(api, "MSK", "SPB", [{"sku": "KET", "quantity": 1}])["number"]
    cancelled = act(api, other, "cancel", {"reason": "not needed"})
    assert cancelled.json()["status"] == "cancelled"
    problem(act(api, other, "ship"), 409, "illegal-transition")
    assert levels(api)[("MSK", "KET")] == (3, 0)
    listed = api.get(TRANSFERS, params={"status": "cancelled"}).json()
    assert [t["number"] for t in listed["items"]] == [other]


def test_bad_transfers_are_answered_as_problems(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 5})

    same = api.post(
        TRANSFERS,
        json={
            "from_warehouse": "MSK",
            "to_warehouse": "MSK",
            "lines": [{"sku": "KET", "quantity": 1}],
        },
    )
    zero = api.post(
        TRANSFERS,
        json={
            "from_warehouse": "MSK",
            "to_warehouse": "SPB",
            "lines": [{"sku": "KET", "quantity": 0}],
        },
    )
    unknown = api.post(
        TRANSFERS,
        json={
            "from_warehouse": "NOPE",
            "to_warehouse": "SPB",
            "lines": [{"sku": "NOPE", "quantity": 1}, {"sku": "KET", "quantity": 1, "lot": "L1"}],
        },
    )

    assert field_codes(problem(same, 422, "invalid-input")) == {
        "to_warehouse": "same-warehouse",
    }
    assert field_codes(problem(zero, 422, "invalid-input")) == {
        "lines[0].quantity": "greater_than_equal"
    }
    assert field_codes(problem(unknown, 422, "invalid-input")) == {
        "from_warehouse": "unknown-warehouse",
        "lines[0].sku": "unknown-sku",
        "lines[1].lot": "lot-not-allowed",
    }
    problem(api.get(f"{TRANSFERS}/TR-999999"), 404, "transfer-not-found")
    number = request(api, "MSK", "SPB", [{"sku": "KET", "quantity": 2}])["number"]
    too_many = act(api, number, "ship", {"lines": [{"line_no": 1, "quantity": 3}]})
    assert field_codes(problem(too_many, 422, "invalid-input")) == {
        "lines[0].quantity": "more-than-requested"
    }
    assert act(api, number, "ship").status_code == 200
    no_reason = act(api, number, "receive", {"lines": [{"line_no": 1, "quantity": 1}]})
    assert field_codes(problem(no_reason, 422, "invalid-input")) == {
        "lines[0].reason": "reason-required"
    }
    problem(api.get(TRANSFERS, params={"status": "lost"}), 422, "invalid-input")


def test_a_warehouse_user_works_on_its_own_warehouses_transfers_only(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "KET"): 5})
    make_user(live.potok, "kate", Role.WAREHOUSE, warehouses=("MSK",))
    kate = sign_in(live.url, "kate")
    elsewhere = request(api, "SPB", "KZN", [{"sku": "KET", "quantity": 1}])["number"]
    outgoing = request(api, "MSK", "SPB", [{"sku": "KET", "quantity": 1}])["number"]

    problem(kate.request("GET", f"{TRANSFERS}/{elsewhere}"), 404, "transfer-not-found")
    problem(kate.request("POST", f"{TRANSFERS}/{elsewhere}/ship"), 404, "transfer-not-found")
    refused = kate.request(
        "POST",
        TRANSFERS,
        json={
            "from_warehouse": "SPB",
            "to_warehouse": "KZN",
            "lines": [{"sku": "KET", "quantity": 1}],
        },
    )
    problem(refused, 403, "out-of-scope")
    listed = kate.request("GET", TRANSFERS).json()
    assert [t["number"] for t in listed["items"]] == [outgoing]

    shipped = kate.request("POST", f"{TRANSFERS}/{outgoing}/ship")
    not_hers = kate.request("POST", f"{TRANSFERS}/{outgoing}/receive")

    assert shipped.status_code == 200, shipped.text
    problem(not_hers, 403, "out-of-scope")
    assert api.get(f"{TRANSFERS}/{outgoing}").json()["status"] == "shipped"


# ---------------------------------------------------------------------- purchase orders


def test_a_purchase_order_is_received_in_parts_and_counts_as_incoming_until_then(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api)
    order = place(api, [("KET", 3)])
    created = api.post(
        PURCHASE_ORDERS,
        json={
            "supplier": "ООО Чайники",
            "warehouse": "MSK",
            "expected_on": "2026-12-05",
            "lines": [{"sku": "KET", "quantity": 10}, {"sku": "MUG", "quantity": 5}],
        },
    )
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert number.startswith("PO-")
    assert created.json()["outstanding"] == 15
    assert incoming(api)[("MSK", "KET")]["quantity"] == 10

    first = api.post(
        f"{PURCHASE_ORDERS}/{number}/receive", json={"lines": [{"line_no": 1, "quantity": 4}]}
    )

    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["status"], body["outstanding"]) == ("partially_received", 11)
    assert body["backorders_reserved"] == [order["id"]]
    assert levels(api)[("MSK", "KET")] == (4, 3)
    assert incoming(api)[("MSK", "KET")]["quantity"] == 6
    receipt = movements(api, warehouse="MSK", sku="KET")[0]
    assert (receipt["type"], receipt["quantity"], receipt["reference"]) == ("receipt", 4, number)

    over = api.post(
        f"{PURCHASE_ORDERS}/{number}/receive", json={"lines": [{"line_no": 2, "quantity": 6}]}
    )
    assert field_codes(problem(over, 422, "invalid-input")) == {"lines[0].quantity": "over-receipt"}
    allowed = api.post(
        f"{PURCHASE_ORDERS}/{number}/receive",
        json={"lines": [{"line_no": 2, "quantity": 6}], "allow_over_receipt": True},
    )
    assert allowed.status_code == 200, allowed.text
    rest = api.post(
        f"{PURCHASE_ORDERS}/{number}/receive", json={"lines": [{"line_no": 1, "quantity": 6}]}
    )
    assert rest.json()["status"] == "received"
    assert incoming(api) == {}
    problem(
        api.post(
            f"{PURCHASE_ORDERS}/{number}/receive", json={"lines": [{"line_no": 1, "quantity": 1}]}
        ),
        409,
        "illegal-transition",
    )
    problem(api.post(f"{PURCHASE_ORDERS}/{number}/cancel"), 409, "illegal-transition")
    assert levels(api)[("MSK", "MUG")] == (6, 0)
    no_drift(api)
    assert_stock_invariants(live.potok)
    kinds = [t for t, _ in events(live, "purchase_order.")]
    assert kinds == ["purchase_order.created"] + ["purchase_order.received"] * 3


def test_a_cancelled_purchase_order_no_longer_counts_as_incoming(api: httpx.Client) -> None:
    build_world_api(api)
    created = api.post(
        PURCHASE_ORDERS,
        json={
            "number": "ERP-7",
            "supplier": "Acme",
            "warehouse": "SPB",
            "lines": [{"sku": "MUG", "quantity": 2}],
        },
    )
    assert created.json()["number"] == "ERP-7"
    again = api.post(
        PURCHASE_ORDERS,
        json={
            "number": "ERP-7",
            "supplier": "Acme",
            "warehouse": "SPB",
            "lines": [{"sku": "MUG", "quantity": 2}],
        },
    )
    problem(again, 409, "purchase-order-number-taken")
    assert incoming(api)[("SPB", "MUG")]["quantity"] == 2

    cancelled = api.post(f"{PURCHASE_ORDERS}/ERP-7/cancel", json={"reason": "supplier out"})

    assert cancelled.json()["status"] == "cancelled"
    assert incoming(api) == {}
    assert [
        o["number"] for o in api.get(PURCHASE_ORDERS, params={"warehouse": "SPB"}).json()["items"]
    ] == ["ERP-7"]
    problem(api.get(f"{PURCHASE_ORDERS}/NOPE"), 404, "purchase-order-not-found")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_bad_purchase_order_lists_every_field_to_fix(api: httpx.Client) -> None:
    build_world_api(api)

    answer = api.post(
        PURCHASE_ORDERS,
        json={"supplier": " ", "warehouse": "MSK", "lines": [{"sku": "KET", "quantity": 1}]},
    )
    negative = api.post(
        PURCHASE_ORDERS,
        json={"supplier": "ООО", "warehouse": "MSK", "lines": [{"sku": "KET", "quantity": -1}]},
    )

    assert field_codes(problem(answer, 422, "invalid-input")) == {
        "supplier": "required",
    }
    assert field_codes(problem(negative, 422, "invalid-input")) == {
        "lines[0].quantity": "greater_than_equal"
    }


def serial_states(live: LiveServer) -> dict[str, tuple[str, str | None]]:
    """Serial number -> (status, the warehouse its position or journey belongs to)."""
    with live.potok.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT s.serial, s.status, w.code FROM serials s "
                "LEFT JOIN stock p ON p.id = s.stock_id "
                "LEFT JOIN warehouses w ON w.id = COALESCE(p.warehouse_id, s.warehouse_id)"
            )
        ).all()
    return {r.serial: (r.status, r.code) for r in rows}


def test_lots_and_serial_numbers_travel_with_a_transfer(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api)
    api.patch("/api/v1/products/KET", json={"tracking": "lot"}).raise_for_status()
    api.patch("/api/v1/products/MUG", json={"tracking": "serial"}).raise_for_status()
    api.post(
        "/api/v1/stock/receipts",
        json={"warehouse": "MSK", "sku": "KET", "quantity": 5, "lot": {"number": "L1"}},
    ).raise_for_status()
    api.post(
        "/api/v1/stock/receipts",
        json={"warehouse": "MSK", "sku": "MUG", "quantity": 3, "serials": ["S1", "S2", "S3"]},
    ).raise_for_status()
    no_lot = api.post(
        TRANSFERS,
        json={
            "from_warehouse": "MSK",
            "to_warehouse": "SPB",
            "lines": [{"sku": "KET", "quantity": 1}],
        },
    )
    assert field_codes(problem(no_lot, 422, "invalid-input")) == {"lines[0].lot": "lot-required"}
    number = request(
        api,
        "MSK",
        "SPB",
        [{"sku": "KET", "quantity": 3, "lot": "L1"}, {"sku": "MUG", "quantity": 2}],
    )["number"]

    assert act(api, number, "ship").status_code == 200
    assert serial_states(live) == {
        "S1": ("in_transit", "SPB"),
        "S2": ("in_transit", "SPB"),
        "S3": ("in_stock", "MSK"),
    }
    arrived = act(
        api, number, "receive", {"lines": [{"line_no": 2, "quantity": 1, "reason": "one missing"}]}
    )

    assert arrived.status_code == 200, arrived.text
    assert serial_states(live) == {
        "S1": ("in_stock", "SPB"),
        "S2": ("in_transit", "SPB"),
        "S3": ("in_stock", "MSK"),
    }
    rows = api.get("/api/v1/stock/levels", params={"warehouse": "SPB"}).json()["items"]
    assert sorted((r["sku"], r["lot"], r["on_hand"]) for r in rows) == [
        ("KET", "L1", 3),
        ("MUG", None, 1),
    ]
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_a_purchase_order_delivery_names_the_lot_of_products_kept_by_lot(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api)
    api.patch("/api/v1/products/KET", json={"tracking": "lot"}).raise_for_status()
    created = api.post(
        PURCHASE_ORDERS,
        json={"supplier": "Acme", "warehouse": "KZN", "lines": [{"sku": "KET", "quantity": 4}]},
    )
    number = created.json()["number"]
    url = f"{PURCHASE_ORDERS}/{number}/receive"

    without = api.post(url, json={"lines": [{"line_no": 1, "quantity": 4}]})
    delivered = api.post(
        url,
        json={
            "lines": [
                {"line_no": 1, "quantity": 4, "lot": {"number": "L2", "expires_on": "2027-06-01"}}
            ]
        },
    )

    assert field_codes(problem(without, 422, "invalid-input")) == {"lines[0].lot": "lot-required"}
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "received"
    rows = api.get("/api/v1/stock/levels", params={"warehouse": "KZN"}).json()["items"]
    assert [(r["sku"], r["lot"], r["on_hand"], r["expires_on"]) for r in rows] == [
        ("KET", "L2", 4, "2027-06-01")
    ]
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_named_serial_numbers_leave_and_arrive_with_their_own_transfer(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api)
    api.patch("/api/v1/products/MUG", json={"tracking": "serial"}).raise_for_status()
    api.post(
        "/api/v1/stock/receipts",
        json={"warehouse": "MSK", "sku": "MUG", "quantity": 4, "serials": ["A", "B", "C", "D"]},
    ).raise_for_status()
    first = request(api, "MSK", "SPB", [{"sku": "MUG", "quantity": 2}])["number"]
    second = request(api, "MSK", "SPB", [{"sku": "MUG", "quantity": 2}])["number"]
    not_there = act(
        api, first, "ship", {"lines": [{"line_no": 1, "quantity": 2, "serials": ["A", "Z"]}]}
    )
    problem(not_there, 422, "serial-not-in-stock")
    miscounted = act(
        api, first, "ship", {"lines": [{"line_no": 1, "quantity": 2, "serials": ["A"]}]}
    )
    assert field_codes(problem(miscounted, 422, "invalid-input")) == {
        "line_1.serials": "serials-count"
    }
    assert (
        act(
            api, first, "ship", {"lines": [{"line_no": 1, "quantity": 2, "serials": ["C", "D"]}]}
        ).status_code
        == 200
    )
    assert act(api, second, "ship").status_code == 200  # the first free ones: A and B

    wrong = act(
        api, second, "receive", {"lines": [{"line_no": 1, "quantity": 2, "serials": ["A", "X"]}]}
    )
    arrived = act(
        api, second, "receive", {"lines": [{"line_no": 1, "quantity": 2, "serials": ["A", "B"]}]}
    )

    problem(wrong, 422, "serial-not-in-transit")
    assert arrived.status_code == 200, arrived.text
    assert serial_states(live) == {
        "A": ("in_stock", "SPB"),
        "B": ("in_stock", "SPB"),
        "C": ("in_transit", "SPB"),
        "D": ("in_transit", "SPB"),
    }
    shipped_event = next(p for _, p in events(live, "transfer.shipped") if p["number"] == first)
    assert shipped_event["serials"] == {"1": ["C", "D"]}
    no_drift(api)
    assert_stock_invariants(live.potok)
