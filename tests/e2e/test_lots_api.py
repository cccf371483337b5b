"""Lots, expiry, shelf life and serial numbers over HTTP, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from potok.domain.kernel import Actor
from potok.services.expiry import expire_lots
from tests.conftest import LiveServer
from tests.factories import build_world_api, order_body
from tests.invariants import assert_stock_invariants
from tests.problems import field_codes, problem


def today() -> date:
    return datetime.now(UTC).date()


def add_product(api: httpx.Client, sku: str, tracking: str, **extra: Any) -> None:
    body = {"sku": sku, "name": sku, "price": "100.00", "vat_rate": "10", "tracking": tracking}
    response = api.post("/api/v1/products", json={**body, **extra})
    assert response.status_code == 201, response.text


def receive_lot(
    api: httpx.Client, warehouse: str, sku: str, quantity: int, lot: str, days: int
) -> httpx.Response:
    return api.post(
        "/api/v1/stock/receipts",
        json={
            "warehouse": warehouse,
            "sku": sku,
            "quantity": quantity,
            "lot": {
                "number": lot,
                "produced_on": (today() - timedelta(days=30)).isoformat(),
                "expires_on": (today() + timedelta(days=days)).isoformat(),
            },
        },
    )


def place(api: httpx.Client, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    response = api.post("/api/v1/orders", json=order_body(lines, **extra))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def get_order(api: httpx.Client, order_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def held(order: dict[str, Any]) -> list[tuple[str, str | None, int]]:
    """(warehouse, lot, quantity) of the order's open reservations."""
    return sorted(
        (r["warehouse"], r["lot"], r["quantity"])
        for r in order["reservations"]
        if r["status"] == "open"
    )


def lot_levels(api: httpx.Client, sku: str) -> dict[str | None, tuple[int, int, int, int]]:
    """lot -> (on_hand, reserved, unavailable, available) at MSK."""
    page = api.get("/api/v1/stock/levels", params={"sku": sku, "warehouse": "MSK"}).json()
    return {
        r["lot"]: (r["on_hand"], r["reserved"], r["unavailable"], r["available"])
        for r in page["items"]
    }


def promise(api: httpx.Client, channel: str, sku: str) -> int:
    response = api.get(f"/api/v1/channels/{channel}/availability", params={"sku": sku})
    assert response.status_code == 200, response.text
    return int(response.json()["items"][0]["available_to_promise"])


def no_drift(api: httpx.Client) -> None:
    report = api.get("/api/v1/stock/reconciliation").json()
    assert (report["drifting"], report["drifts"]) == (0, [])


# ---------------------------------------------------------------------- lots


def test_lots_are_reserved_first_expired_first_and_an_expired_lot_is_resourced(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api)
    add_product(api, "MLK", "lot")
    assert api.patch("/api/v1/channels/phone", json={"min_shelf_life_days": 30}).is_success
    # received out of expiry order: FEFO must not follow arrival
    for lot, days in (("C", 200), ("A", 10), ("B", 60)):
        assert receive_lot(api, "MSK", "MLK", 5, lot, days).status_code == 201

    first = place(api, [("MLK", 3)])
    assert held(get_order(api, first["id"])) == [("MSK", "A", 3)]
    # the phone channel sells nothing with fewer than 30 days left: lot A is skipped
    by_phone = place(api, [("MLK", 2)], channel="phone")
    assert held(get_order(api, by_phone["id"])) == [("MSK", "B", 2)]
    assert promise(api, "web", "MLK") == 2 + 3 + 5
    assert promise(api, "phone", "MLK") == 3 + 5
    # one lot does not cover the line: it is split, earliest expiry first
    split = place(api, [("MLK", 4)])
    assert held(get_order(api, split["id"])) == [("MSK", "A", 2), ("MSK", "B", 2)]
    assert lot_levels(api, "MLK") == {
        "A": (5, 5, 0, 0),
        "B": (5, 4, 0, 1),
        "C": (5, 0, 0, 5),
    }

    soon = api.get("/api/v1/stock/expiring", params={"within_days": 30}).json()
    assert [(x["lot"], x["days_left"], x["reserved"]) for x in soon] == [("A", 10, 5)]
    later = api.get("/api/v1/stock/expiring", params={"within_days": 90}).json()
    assert [x["lot"] for x in later] == ["A", "B"]

    # eleven days on, lot A has expired: its units become unavailable, its orders move
    eleven_days_on = datetime.now(UTC) + timedelta(days=11)
    run = expire_lots(live.potok.uow(), Actor.system("lot-expiry"), clock=lambda: eleven_days_on)
    assert (run.positions, run.units) == (1, 5)
    assert sorted(run.orders_resourced) == sorted([first["id"], split["id"]])
    for order_id in (first["id"], split["id"]):
        order = get_order(api, order_id)
        assert order["allocation"] == "reserved"
        assert all(lot != "A" for _, lot, _ in held(order))
        reasons = " ".join(str(entry["reason"]) for entry in order["history"])
        assert f"lot A expired on {(today() + timedelta(days=10)).isoformat()}" in reasons
    assert lot_levels(api, "MLK")["A"] == (5, 0, 5, 0)
    expiry = api.get("/api/v1/stock/movements", params={"type": "expiry"}).json()["items"]
    assert [(m["lot"], m["quantity"], m["unavailable_change"]) for m in expiry] == [("A", 0, 5)]
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_a_receipt_must_name_the_lot_of_a_lot_tracked_product_and_only_then(
    api: httpx.Client,
) -> None:
    build_world_api(api)
    add_product(api, "MLK", "lot")

    missing = api.post(
        "/api/v1/stock/receipts", json={"warehouse": "MSK", "sku": "MLK", "quantity": 1}
    )
    assert field_codes(problem(missing, 422, "invalid-input")) == {"lot": "lot-required"}
    stray = api.post(
        "/api/v1/stock/receipts",
        json={"warehouse": "MSK", "sku": "KET", "quantity": 1, "lot": {"number": "X"}},
    )
    assert field_codes(problem(stray, 422, "invalid-input")) == {"lot": "lot-not-allowed"}


def test_a_known_lot_received_with_other_dates_is_a_conflict(api: httpx.Client) -> None:
    build_world_api(api)
    add_product(api, "MLK", "lot")
    assert receive_lot(api, "MSK", "MLK", 5, "A", 10).status_code == 201
    assert receive_lot(api, "SPB", "MLK", 5, "A", 10).status_code == 201  # same dates: fine

    problem(receive_lot(api, "MSK", "MLK", 5, "A", 11), 409, "lot-dates-differ")


def test_a_write_off_of_lot_tracked_stock_names_the_lot(api: httpx.Client) -> None:
    build_world_api(api)
    add_product(api, "MLK", "lot")
    receive_lot(api, "MSK", "MLK", 5, "A", 10)
    receive_lot(api, "MSK", "MLK", 5, "B", 20)

    unnamed = api.post(
        "/api/v1/stock/write-offs",
        json={"warehouse": "MSK", "sku": "MLK", "quantity": 1, "reason": "torn"},
    )
    assert field_codes(problem(unnamed, 422, "invalid-input")) == {"lot": "lot-required"}
    named = api.post(
        "/api/v1/stock/write-offs",
        json={"warehouse": "MSK", "sku": "MLK", "quantity": 2, "reason": "torn", "lot": "B"},
    )
    assert named.status_code == 201, named.text
    assert (named.json()["lot"], named.json()["on_hand"]) == ("B", 3)
    assert lot_levels(api, "MLK")["A"][0] == 5
    no_drift(api)


def test_tracking_cannot_change_while_the_product_has_stock(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 3})

    refused = api.patch("/api/v1/products/KET", json={"tracking": "lot"})
    problem(refused, 409, "tracking-locked")
    assert api.patch("/api/v1/products/MUG", json={"tracking": "lot"}).json()["tracking"] == "lot"


# ---------------------------------------------------------------------- serial numbers


def test_serials_are_received_assigned_to_orders_and_released_on_cancel(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api)
    add_product(api, "PHN", "serial")

    wrong = api.post(
        "/api/v1/stock/receipts",
        json={"warehouse": "MSK", "sku": "PHN", "quantity": 3, "serials": ["S1", "S1"]},
    )
    assert field_codes(problem(wrong, 422, "invalid-input")) == {
        "serials": "serials-count",
        "serials[1]": "duplicate",
    }
    received = api.post(
        "/api/v1/stock/receipts",
        json={"warehouse": "MSK", "sku": "PHN", "quantity": 3, "serials": ["S1", "S2", "S3"]},
    )
    assert received.status_code == 201, received.text
    again = api.post(
        "/api/v1/stock/receipts",
        json={"warehouse": "SPB", "sku": "PHN", "quantity": 1, "serials": ["S2"]},
    )
    problem(again, 409, "serial-taken")

    order = place(api, [("PHN", 2)])
    (reservation,) = [
        r for r in get_order(api, order["id"])["reservations"] if r["status"] == "open"
    ]
    assert sorted(reservation["serials"]) == ["S1", "S2"]
    assert_stock_invariants(live.potok)
    taken = api.post(
        "/api/v1/stock/write-offs",
        json={
            "warehouse": "MSK",
            "sku": "PHN",
            "quantity": 1,
            "reason": "dropped",
            "serials": ["S1"],
        },
    )
    problem(taken, 422, "serial-not-in-stock")

    cancelled = api.post(
        f"/api/v1/orders/{order['id']}/cancellation", json={"reason": "changed their mind"}
    )
    assert cancelled.status_code == 200, cancelled.text
    everything = place(api, [("PHN", 3)])
    (reservation,) = [
        r for r in get_order(api, everything["id"])["reservations"] if r["status"] == "open"
    ]
    assert sorted(reservation["serials"]) == ["S1", "S2", "S3"]
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_a_serialised_write_off_names_units_in_stock(api: httpx.Client, live: LiveServer) -> None:
    build_world_api(api)
    add_product(api, "PHN", "serial")
    api.post(
        "/api/v1/stock/receipts",
        json={"warehouse": "MSK", "sku": "PHN", "quantity": 2, "serials": ["S1", "S2"]},
    ).raise_for_status()

    gone = api.post(
        "/api/v1/stock/write-offs",
        json={
            "warehouse": "MSK",
            "sku": "PHN",
            "quantity": 1,
            "reason": "dropped",
            "serials": ["S2"],
        },
    )

    assert gone.status_code == 201, gone.text
    assert gone.json()["on_hand"] == 1
    order = place(api, [("PHN", 1)])
    assert get_order(api, order["id"])["reservations"][0]["serials"] == ["S1"]
    no_drift(api)
    assert_stock_invariants(live.potok)


def test_a_fifo_warehouse_reserves_the_lot_received_first(api: httpx.Client) -> None:
    build_world_api(api)
    add_product(api, "MLK", "lot")
    fifo = api.patch("/api/v1/warehouses/MSK", json={"removal_strategy": "fifo"})
    assert fifo.json()["removal_strategy"] == "fifo"
    receive_lot(api, "MSK", "MLK", 5, "LATE-EXPIRY", 90)  # received first
    receive_lot(api, "MSK", "MLK", 5, "EARLY-EXPIRY", 20)

    order = place(api, [("MLK", 6)])

    assert held(get_order(api, order["id"])) == [
        ("MSK", "EARLY-EXPIRY", 1),
        ("MSK", "LATE-EXPIRY", 5),
    ]
    # the product's own strategy wins over the warehouse's
    assert api.patch("/api/v1/products/MLK", json={"removal_strategy": "fefo"}).is_success
    again = place(api, [("MLK", 2)])
    assert held(get_order(api, again["id"])) == [("MSK", "EARLY-EXPIRY", 2)]


def test_catalogue_fields_of_inventory_depth_are_validated(api: httpx.Client) -> None:
    build_world_api(api)

    bad_strategy = api.patch("/api/v1/products/KET", json={"removal_strategy": "lifo"})
    assert "removal_strategy" in field_codes(problem(bad_strategy, 422, "invalid-input"))
    bad_tracking = api.patch("/api/v1/products/KET", json={"tracking": "batch"})
    assert "tracking" in field_codes(problem(bad_tracking, 422, "invalid-input"))
    bad_days = api.patch("/api/v1/channels/web", json={"min_shelf_life_days": -1})
    assert "min_shelf_life_days" in field_codes(problem(bad_days, 422, "invalid-input"))
    channel = api.get("/api/v1/channels/web").json()
    assert channel["min_shelf_life_days"] == 0
    product = api.get("/api/v1/products/KET").json()
    assert (product["tracking"], product["removal_strategy"]) == ("none", None)


def test_a_lot_received_after_its_expiry_is_unavailable_from_the_start(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api)
    add_product(api, "MLK", "lot")

    late = receive_lot(api, "MSK", "MLK", 4, "OLD", 0)  # expires today: expired

    assert late.status_code == 201, late.text
    assert (late.json()["on_hand"], late.json()["unavailable"], late.json()["available"]) == (
        4,
        4,
        0,
    )
    assert place(api, [("MLK", 1)])["allocation"] == "backordered"
    no_drift(api)
    assert_stock_invariants(live.potok)
