"""The batch re-plan over HTTP, on hand-made cases where the right answer is known: an order
reserved far away moves when a nearer, cheaper warehouse gets stock; one whose cheaper
option would break its promised date stays; a dry run changes nothing; a backorder the
new stock covers is reserved; every run is kept in the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from potok.db.tables import outbox_events
from tests.conftest import LiveServer
from tests.factories import MOSCOW, build_world_api, order_body
from tests.invariants import assert_stock_invariants
from tests.problems import field_codes, problem

HEADER = "warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days"
NEAR_IS_CHEAP = "\n".join(  # to Tver: MSK is near and cheap, SPB and KZN far and dear
    [HEADER, "MSK,,0,,200,20,0,1", "SPB,,0,,600,20,0,3", "KZN,,0,,700,20,0,4"]
)
FAST_IS_DEAR = "\n".join(  # MSK arrives tomorrow but costs three times as much
    [HEADER, "MSK,,0,,900,20,0,1", "SPB,,0,,300,20,0,3", "KZN,,0,,950,20,0,4"]
)
BY_KM = "\n".join([HEADER, "MSK,,0,,100,0,1,1", "SPB,,0,,100,0,1,1"])  # 100 ₽ + 1 ₽/km
COST_HEAVY = {
    "weights": {"cost": 1, "distance": 0, "day": 0, "priority": 0},
    "kinds_by_order_type": {"courier": ["warehouse"]},
}


def setup(api: httpx.Client, stock: dict[tuple[str, str], int], tariffs: str) -> None:
    build_world_api(api, stock)
    response = api.put(
        "/api/v1/sourcing/tariffs",
        content=tariffs.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert api.put("/api/v1/sourcing/rules/default", json=COST_HEAVY).status_code == 200


def place(api: httpx.Client, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    response = api.post("/api/v1/orders", json=order_body(lines, **extra))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def receive(api: httpx.Client, warehouse: str, sku: str, quantity: int) -> None:
    response = api.post(
        "/api/v1/stock/receipts", json={"warehouse": warehouse, "sku": sku, "quantity": quantity}
    )
    assert response.status_code in (200, 201), response.text


def order(api: httpx.Client, order_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def held_at(body: dict[str, Any]) -> set[str]:
    return {r["warehouse"] for r in body["reservations"] if r["status"] == "open"}


def run(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/api/v1/sourcing/replans", json=body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def test_an_order_moves_to_the_nearer_cheaper_warehouse_once_it_has_stock(
    api: httpx.Client, live: LiveServer
) -> None:
    setup(api, {("SPB", "KET"): 2}, NEAR_IS_CHEAP)
    placed = place(api, [("KET", 2)])
    assert held_at(order(api, placed["id"])) == {"SPB"}
    receive(api, "MSK", "KET", 5)

    result = run(api)

    assert (result["applied"], result["orders_considered"], result["orders_changed"]) == (
        True,
        1,
        1,
    )
    assert result["method"] in ("mip-optimal", "greedy")
    [change] = result["changes"]
    assert change["outcome"] == "moved"
    assert (change["from_warehouses"], change["to_warehouses"]) == (["SPB"], ["MSK"])
    assert (change["cost_before_rub"], change["cost_after_rub"]) == ("648.00", "248.00")
    assert (result["cost_before_rub"], result["cost_after_rub"], result["saved_rub"]) == (
        "648.00",
        "248.00",
        "400.00",
    )
    after = order(api, placed["id"])
    assert after["status"] == "reserved"
    assert held_at(after) == {"MSK"}
    assert sum(r["quantity"] for r in after["reservations"] if r["status"] == "open") == 2
    replanned = [e for e in after["history"] if e["action"] == "replanned"]
    assert len(replanned) == 1
    assert replanned[0]["reason"] == (
        "Re-planned by the batch optimiser: from SPB to MSK, shipping 648.00 ₽ → 248.00 ₽, "
        "no promised date"
    )
    assert after["sourcing"]["explanation"] == replanned[0]["reason"]
    stored = api.get(f"/api/v1/orders/{placed['id']}/sourcing").json()["stored"]
    assert [(s["action"], s["trigger"]) for s in stored] == [
        ("reserved", "intake"),
        ("reserved", "batch re-plan"),
    ]
    assert stored[-1]["warehouses"] == ["MSK"]
    assert stored[-1]["total_cost_rub"] == "248.00"
    assert stored[-1]["record"]["shipments"][0]["warehouse"] == "MSK"
    # the run is in the log and announced
    listed = api.get("/api/v1/sourcing/replans").json()
    assert [r["id"] for r in listed["items"]] == [result["id"]]
    again = api.get(f"/api/v1/sourcing/replans/{result['id']}").json()
    assert again["changes"] == result["changes"]
    with live.potok.engine.connect() as connection:
        events = connection.execute(
            sa.select(outbox_events.c.type).where(
                outbox_events.c.type.in_(["sourcing.replanned", "order.replanned"])
            )
        ).all()
    assert sorted(e.type for e in events) == ["order.replanned", "sourcing.replanned"]
    assert_stock_invariants(live.potok)
    # nothing cheaper left: a second run changes nothing
    second = run(api)
    assert (second["orders_considered"], second["orders_changed"], second["changes"]) == (1, 0, [])


def test_an_order_whose_cheaper_option_would_break_its_promise_stays(
    api: httpx.Client, live: LiveServer
) -> None:
    setup(api, {("MSK", "KET"): 2}, FAST_IS_DEAR)
    promised = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    kept = place(api, [("KET", 1)], promised_at=promised)
    free = place(api, [("KET", 1)])
    assert held_at(order(api, kept["id"])) == held_at(order(api, free["id"])) == {"MSK"}
    receive(api, "SPB", "KET", 5)

    result = run(api)

    assert result["orders_considered"] == 2
    assert [(c["order_id"], c["outcome"]) for c in result["changes"]] == [(free["id"], "moved")]
    assert held_at(order(api, kept["id"])) == {"MSK"}  # SPB takes 3 days; promised in 2
    assert held_at(order(api, free["id"])) == {"SPB"}
    assert_stock_invariants(live.potok)


def test_a_dry_run_reports_the_move_and_changes_nothing(
    api: httpx.Client, live: LiveServer
) -> None:
    setup(api, {("SPB", "KET"): 1}, NEAR_IS_CHEAP)
    placed = place(api, [("KET", 1)])
    receive(api, "MSK", "KET", 1)
    before = order(api, placed["id"])

    result = run(api, apply=False)

    assert (result["applied"], result["orders_changed"]) == (False, 1)
    assert [c["to_warehouses"] for c in result["changes"]] == [["MSK"]]
    after = order(api, placed["id"])
    assert (after["version"], held_at(after)) == (before["version"], {"SPB"})
    with live.potok.engine.connect() as connection:
        announced = connection.execute(
            sa.select(sa.func.count()).where(outbox_events.c.type == "sourcing.replanned")
        ).scalar()
    assert announced == 0
    assert api.get("/api/v1/sourcing/replans").json()["items"][0]["applied"] is False
    # the log pages newest first
    later = [run(api, apply=False, limit=1)["id"] for _ in range(2)]
    assert (
        "the limit of 1 orders was reached"
        in api.get(f"/api/v1/sourcing/replans/{later[0]}").json()["notes"][0]
    )
    first = api.get("/api/v1/sourcing/replans", params={"limit": 2}).json()
    assert [r["id"] for r in first["items"]] == later[::-1]
    rest = api.get(
        "/api/v1/sourcing/replans", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert ([r["id"] for r in rest["items"]], rest["next_cursor"]) == ([result["id"]], None)
    problem(api.get("/api/v1/sourcing/replans", params={"cursor": "zz"}), 422, "invalid-input")
    assert_stock_invariants(live.potok)


def test_a_backordered_order_is_reserved_when_the_plan_can_cover_it(
    api: httpx.Client, live: LiveServer
) -> None:
    setup(api, {("MSK", "KET"): 1, ("SPB", "KET"): 1}, NEAR_IS_CHEAP)
    never_split = {**COST_HEAVY, "split": "never", "transfers": False}
    assert api.put("/api/v1/sourcing/rules/default", json=never_split).status_code == 200
    waiting = place(api, [("KET", 2)])
    assert order(api, waiting["id"])["status"] == "backordered"  # no one warehouse has 2
    # splitting is allowed from now on; nothing retries the backorder by itself
    split = {**COST_HEAVY, "split": "only_when_needed", "max_shipments": 2, "transfers": False}
    assert api.put("/api/v1/sourcing/rules/default", json=split).status_code == 200

    result = run(api)

    assert (result["backorders_reserved"], result["orders_changed"]) == (1, 1)
    [change] = result["changes"]
    assert (change["outcome"], sorted(change["to_warehouses"])) == ("reserved", ["MSK", "SPB"])
    assert change["cost_before_rub"] is None
    after = order(api, waiting["id"])
    assert (after["status"], held_at(after)) == ("reserved", {"MSK", "SPB"})
    stored = api.get(f"/api/v1/orders/{waiting['id']}/sourcing").json()["stored"]
    assert [(s["action"], s["trigger"]) for s in stored][-1] == ("reserved", "batch re-plan")
    assert_stock_invariants(live.potok)


def test_held_orders_swap_warehouses_when_the_pair_costs_less(
    api: httpx.Client, live: LiveServer
) -> None:
    setup(api, {("MSK", "KET"): 1, ("SPB", "KET"): 1}, BY_KM)
    tver = place(api, [("KET", 1)])  # takes Moscow's only kettle
    moscow = place(api, [("KET", 1)], to=MOSCOW)  # ships from St Petersburg
    assert run(api)["orders_changed"] == 0  # capped: neither order alone gets cheaper

    result = run(api, held_minutes=30)

    assert (result["scope"]["held_minutes"], result["orders_changed"]) == (30, 2)
    by_order = {c["order_id"]: c for c in result["changes"]}
    assert (by_order[tver["id"]]["cost_before_rub"], by_order[tver["id"]]["cost_after_rub"]) == (
        "279.31",
        "559.59",
    )
    assert held_at(order(api, tver["id"])) == {"SPB"}
    assert held_at(order(api, moscow["id"])) == {"MSK"}
    assert (result["cost_before_rub"], result["cost_after_rub"]) == ("1000.21", "678.16")
    stored = api.get(f"/api/v1/orders/{moscow['id']}/sourcing").json()["stored"]
    assert stored[-1]["trigger"] == "re-plan of held orders"
    assert_stock_invariants(live.potok)


def test_bad_replan_requests_are_problems_naming_the_field(api: httpx.Client) -> None:
    build_world_api(api)
    bad = problem(
        api.post(
            "/api/v1/sourcing/replans",
            json={"time_limit_s": 0, "limit": 100_001, "held_minutes": 0},
        ),
        422,
        "invalid-input",
    )
    assert set(field_codes(bad)) == {"time_limit_s", "limit", "held_minutes"}
    problem(
        api.post("/api/v1/sourcing/replans", json={"channel": "nope"}), 404, "channel-not-found"
    )
    problem(
        api.post("/api/v1/sourcing/replans", json={"warehouse": "NOPE"}),
        404,
        "warehouse-not-found",
    )
    problem(api.get("/api/v1/sourcing/replans/424242"), 404, "replan-run-not-found")
