"""Intake and re-sourcing decide with the engine, by the channel's routing rules and the
shipping tariffs, and keep every decision's full record with the order."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.e2e.test_sourcing_api import COST_HEAVY, STOCK, TARIFFS, put_csv, sourcing_of
from tests.factories import MOSCOW, build_world_api, order_body
from tests.invariants import assert_stock_invariants

DISTANCE_HEAVY = {
    "weights": {"cost": 0, "distance": 10, "day": 0, "priority": 0},
    "split": "never",
    "kinds_by_order_type": {"courier": ["warehouse"]},
}


def place(api: httpx.Client, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    response = api.post("/api/v1/orders", json=order_body(lines, **extra))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def reserved_at(order: dict[str, Any]) -> set[str]:
    return {r["warehouse"] for r in order["reservations"] if r["status"] == "open"}


def test_intake_reserves_where_the_rules_and_tariffs_say_and_keeps_the_record(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, STOCK)
    assert put_csv(api, TARIFFS).status_code == 200
    assert api.put("/api/v1/sourcing/rules/default", json=COST_HEAVY).status_code == 200

    order = place(api, [("KET", 1)])

    # MSK is nearest but ships for 924 ₽; SPB ships for 324 ₽ and cost is all that counts
    assert order["status"] == "reserved"
    assert reserved_at(order) == {"SPB"}
    [kept] = sourcing_of(api, order["id"])["stored"]
    assert (kept["action"], kept["trigger"], kept["warehouses"]) == ("reserved", "intake", ["SPB"])
    assert kept["total_cost_rub"] == "324.00"
    record = kept["record"]
    assert (record["rules_version"], record["tariffs_version"]) == ("default v1", "1")
    by_code = {c["warehouse"]: c for c in record["candidates"]}
    assert by_code["SPB"]["chosen"] is True
    assert (by_code["MSK"]["cost_rub"], by_code["MSK"]["chosen"]) == ("924.00", False)
    assert by_code["MSK-S"]["excluded"] == "a store does not serve courier orders"
    assert kept["explanation"] == record["summary"]
    assert "SPB" in kept["explanation"]
    assert "cheapest" in kept["explanation"]
    reserved = [h for h in order["history"] if h["action"] == "reserved"]
    assert [h["reason"] for h in reserved] == [record["summary"]]
    assert_stock_invariants(live.potok)


def test_before_any_tariff_is_imported_the_built_in_bands_send_the_order_to_the_nearest(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "KET"): 5})

    order = place(api, [("KET", 1)])

    assert reserved_at(order) == {"MSK"}
    [kept] = sourcing_of(api, order["id"])["stored"]
    assert (kept["record"]["rules_version"], kept["record"]["tariffs_version"]) == (
        "built-in",
        "built-in",
    )


def test_changed_rules_and_tariffs_apply_to_the_very_next_order(api: httpx.Client) -> None:
    build_world_api(api, STOCK)
    assert put_csv(api, TARIFFS).status_code == 200
    assert api.put("/api/v1/sourcing/rules/default", json=COST_HEAVY).status_code == 200
    assert reserved_at(place(api, [("KET", 1)])) == {"SPB"}

    assert api.put("/api/v1/sourcing/rules/web", json=DISTANCE_HEAVY).status_code == 200
    second = place(api, [("KET", 1)])
    assert reserved_at(second) == {"MSK"}
    assert sourcing_of(api, second["id"])["stored"][0]["record"]["rules_version"] == "web v1"

    cheap_msk = TARIFFS.replace("MSK,,0,,900,20,0,1", "MSK,,0,,100,20,0,1")
    assert put_csv(api, cheap_msk).status_code == 200
    assert api.put("/api/v1/sourcing/rules/web", json=COST_HEAVY).status_code == 200
    third = place(api, [("KET", 1)])
    assert reserved_at(third) == {"MSK"}  # 124 ₽ now, SPB still 324 ₽
    kept = sourcing_of(api, third["id"])["stored"][0]
    assert (kept["record"]["tariffs_version"], kept["total_cost_rub"]) == ("2", "124.00")


def test_rules_that_forbid_a_split_backorder_an_order_no_single_warehouse_has(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 5, ("SPB", "MUG"): 5})
    never = {"split": "never", "transfers": False}
    assert api.put("/api/v1/sourcing/rules/default", json=never).status_code == 200

    order = place(api, [("KET", 1), ("MUG", 1)])

    assert (order["status"], order["reservations"]) == ("backordered", [])
    [kept] = sourcing_of(api, order["id"])["stored"]
    assert (kept["action"], kept["warehouses"], kept["total_cost_rub"]) == (
        "backordered",
        [],
        None,
    )
    assert "do not allow a split" in kept["explanation"]
    assert any("do not allow a split" in (h["reason"] or "") for h in order["history"])

    split_rules = {"split": "only_when_needed", "transfers": False}
    assert api.put("/api/v1/sourcing/rules/default", json=split_rules).is_success
    split = place(api, [("KET", 1), ("MUG", 1)])
    assert reserved_at(split) == {"MSK", "SPB"}
    assert "Split into 2 shipments" in sourcing_of(api, split["id"])["stored"][0]["explanation"]
    assert_stock_invariants(live.potok)


def test_an_order_moved_by_a_write_off_keeps_both_decisions(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 1, ("SPB", "KET"): 5})
    order = place(api, [("KET", 1)], to=MOSCOW)
    assert reserved_at(order) == {"MSK"}

    response = api.post(
        "/api/v1/stock/write-offs",
        json={"warehouse": "MSK", "sku": "KET", "quantity": 1, "reason": "dropped"},
    )
    assert response.status_code == 201, response.text

    moved = api.get(f"/api/v1/orders/{order['id']}").json()
    assert reserved_at(moved) == {"SPB"}
    first, second = sourcing_of(api, order["id"])["stored"]
    assert (first["trigger"], first["warehouses"]) == ("intake", ["MSK"])
    assert second["warehouses"] == ["SPB"]
    assert second["trigger"] != "intake"
    assert_stock_invariants(live.potok)


def test_the_dry_run_counts_the_orders_own_reservations_even_when_they_take_every_unit(
    api: httpx.Client,
) -> None:
    build_world_api(api, {("MSK", "KET"): 2})
    order = place(api, [("KET", 2)])
    assert reserved_at(order) == {"MSK"}

    dry = sourcing_of(api, order["id"])["dry_run"]

    assert (dry["outcome"], dry["warehouses"]) == ("decision", ["MSK"])
