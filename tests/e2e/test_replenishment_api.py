"""Min/max rules and the replenishment report over HTTP, with reservations, unavailable units,
stock on the way and backordered orders all taken into account; safety stock and channels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.tables import (
    products,
    purchase_order_lines,
    purchase_orders,
    stock,
    transfer_lines,
    transfers,
    warehouses,
)
from potok.domain.access import Role
from tests.auth import make_user, sign_in
from tests.conftest import LiveServer
from tests.factories import build_world_api, order_body
from tests.problems import field_codes, problem, problem_of_type

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = "/api/v1/stock/rules"
REPORT = "/api/v1/stock/replenishment"


def put_rule(api: httpx.Client, warehouse: str, sku: str, **numbers: int) -> dict[str, Any]:
    response = api.put(f"{RULES}/{warehouse}/{sku}", json=numbers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def place(api: httpx.Client, lines: list[tuple[str, int]]) -> dict[str, Any]:
    response = api.post("/api/v1/orders", json=order_body(lines))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def ids(connection: sa.Connection, warehouse: str, sku: str) -> tuple[int, int]:
    w = connection.execute(sa.select(warehouses.c.id).where(warehouses.c.code == warehouse))
    p = connection.execute(sa.select(products.c.id).where(products.c.sku == sku))
    return w.scalar_one(), p.scalar_one()


def on_the_way(potok: Potok) -> None:
    """To MSK: a purchase order of 10 KET with 3 received (7 to come), a shipped transfer of 2
    from SPB (2 to come); a cancelled purchase order and a requested transfer bring nothing."""
    with potok.engine.begin() as connection:
        msk, ket = ids(connection, "MSK", "KET")
        spb, _ = ids(connection, "SPB", "KET")
        for number, status, quantity, received in (
            ("PO-1", "partially_received", 10, 3),
            ("PO-2", "cancelled", 50, 0),
        ):
            order_id = connection.execute(
                sa.insert(purchase_orders)
                .values(
                    number=number,
                    supplier="Чайники и Ко",
                    warehouse_id=msk,
                    status=status,
                    created_by="tests",
                    created_at=T,
                    updated_at=T,
                )
                .returning(purchase_orders.c.id)
            ).scalar_one()
            connection.execute(
                sa.insert(purchase_order_lines).values(
                    purchase_order_id=order_id,
                    line_no=1,
                    product_id=ket,
                    quantity=quantity,
                    received_quantity=received,
                )
            )
        for number, status, shipped in (("TR-1", "shipped", 2), ("TR-2", "requested", None)):
            transfer_id = connection.execute(
                sa.insert(transfers)
                .values(
                    number=number,
                    from_warehouse_id=spb,
                    to_warehouse_id=msk,
                    status=status,
                    created_by="tests",
                    created_at=T,
                    updated_at=T,
                )
                .returning(transfers.c.id)
            ).scalar_one()
            connection.execute(
                sa.insert(transfer_lines).values(
                    transfer_id=transfer_id,
                    line_no=1,
                    product_id=ket,
                    quantity=5,
                    shipped_quantity=shipped,
                )
            )


def damaged(potok: Potok, warehouse: str, sku: str, quantity: int) -> None:
    with potok.engine.begin() as connection:
        warehouse_id, product_id = ids(connection, warehouse, sku)
        connection.execute(
            sa.update(stock)
            .where(stock.c.warehouse_id == warehouse_id, stock.c.product_id == product_id)
            .values(unavailable=quantity)
        )


# ---------------------------------------------------------------------- the report


def test_the_report_suggests_what_to_order_from_every_part_of_the_projected_level(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 20, ("SPB", "KET"): 4, ("MSK", "MUG"): 3})
    put_rule(api, "MSK", "KET", min=25, max=40, safety_stock=2)
    put_rule(api, "SPB", "KET", min=5, max=10)
    put_rule(api, "MSK", "MUG", min=3, max=6)  # at its minimum: not listed
    reserved = place(api, [("KET", 8)])
    assert [(r["warehouse"], r["quantity"]) for r in reserved["reservations"]] == [("MSK", 8)]
    damaged(live.potok, "MSK", "KET", 1)
    on_the_way(live.potok)
    waiting = place(api, [("KET", 30)])  # more than the network has: backordered
    assert waiting["status"] == "backordered"

    response = api.get(REPORT)

    assert response.status_code == 200, response.text
    lines = {(x["warehouse"], x["sku"]): x for x in response.json()["items"]}
    assert list(lines) == [("MSK", "KET"), ("SPB", "KET")]
    # MSK: 20 on hand - 8 reserved - 1 unavailable + (7 + 2) incoming = 20 < 25;
    # 40 - 20 + 30 backordered = 50
    assert lines[("MSK", "KET")] == {
        "warehouse": "MSK",
        "sku": "KET",
        "min": 25,
        "max": 40,
        "safety_stock": 2,
        "on_hand": 20,
        "reserved": 8,
        "unavailable": 1,
        "incoming": 9,
        "projected": 20,
        "backordered": 30,
        "suggested_quantity": 50,
    }
    # SPB: 4 < 5; 10 - 4 + 30 = 36 (the waiting order could be served from here too)
    spb = lines[("SPB", "KET")]
    assert (spb["projected"], spb["incoming"], spb["backordered"]) == (4, 0, 30)
    assert spb["suggested_quantity"] == 36
    only_spb = api.get(REPORT, params={"warehouse": "SPB"}).json()["items"]
    assert [(x["warehouse"], x["sku"]) for x in only_spb] == [("SPB", "KET")]
    assert api.get(REPORT, params={"sku": "MUG"}).json()["items"] == []


def test_the_report_and_the_rule_list_page_with_a_cursor(api: httpx.Client) -> None:
    build_world_api(api, {("SPB", "KET"): 5})  # at SPB, KET is above its minimum
    for warehouse in ("MSK", "SPB", "KZN"):
        for sku in ("KET", "MUG"):
            put_rule(api, warehouse, sku, min=1, max=2)

    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = api.get(REPORT, params=params).json()
        seen.extend((x["warehouse"], x["sku"]) for x in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 5
    assert ("SPB", "KET") not in seen
    assert all(x["suggested_quantity"] == 2 for x in api.get(REPORT).json()["items"])
    rules = api.get(RULES, params={"warehouse": "KZN", "limit": 1}).json()
    assert [(x["warehouse"], x["sku"]) for x in rules["items"]] == [("KZN", "KET")]
    rest = api.get(RULES, params={"warehouse": "KZN", "cursor": rules["next_cursor"]}).json()
    assert [(x["warehouse"], x["sku"]) for x in rest["items"]] == [("KZN", "MUG")]
    assert rest["next_cursor"] is None
    problem(api.get(RULES, params={"cursor": "nonsense"}), 422, "invalid-input")


# ---------------------------------------------------------------------- rules


def test_a_rule_is_set_read_changed_and_deleted(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 12})

    created = put_rule(api, "MSK", "KET", min=10, max=30, safety_stock=2)
    changed = put_rule(api, "MSK", "KET", min=15, max=30)

    assert (created["min"], created["max"], created["safety_stock"]) == (10, 30, 2)
    assert (created["projected"], created["below_minimum"]) == (12, False)
    assert (changed["min"], changed["safety_stock"], changed["below_minimum"]) == (15, 0, True)
    assert api.get(f"{RULES}/MSK/KET").json() == changed
    assert api.delete(f"{RULES}/MSK/KET").status_code == 204
    problem(api.get(f"{RULES}/MSK/KET"), 404, "stock-rule-not-found")
    problem(api.delete(f"{RULES}/MSK/KET"), 404, "stock-rule-not-found")


def test_a_rule_with_bad_numbers_is_refused_naming_each_field(api: httpx.Client) -> None:
    build_world_api(api)

    crossed = api.put(f"{RULES}/MSK/KET", json={"min": 10, "max": 5, "safety_stock": 1})
    negative = api.put(f"{RULES}/MSK/KET", json={"min": -1, "max": 5, "safety_stock": -1})
    missing = api.put(f"{RULES}/MSK/KET", json={"min": 1})

    assert field_codes(problem(crossed, 422, "invalid-input")) == {
        "max": "max-below-min",
    }
    assert field_codes(problem(negative, 422, "invalid-input")) == {
        "min": "greater_than_equal",
        "safety_stock": "greater_than_equal",
    }
    assert "max" in str(problem(missing, 422, "invalid-input")["errors"])
    assert api.get(RULES).json()["items"] == []


def test_a_rule_for_an_unknown_warehouse_or_sku_is_not_found(api: httpx.Client) -> None:
    build_world_api(api)

    problem_of_type(
        api.put(f"{RULES}/NOPE/KET", json={"min": 1, "max": 2}), 404, "warehouse-not-found"
    )
    problem(api.put(f"{RULES}/MSK/NOPE", json={"min": 1, "max": 2}), 404, "product-not-found")


def test_warehouse_staff_see_and_change_the_rules_of_their_own_warehouses_only(
    api: httpx.Client, live: LiveServer
) -> None:
    build_world_api(api, {("MSK", "KET"): 1, ("SPB", "KET"): 1})
    put_rule(api, "MSK", "KET", min=5, max=10)
    put_rule(api, "SPB", "KET", min=5, max=10)
    make_user(live.potok, "kladovshik", Role.WAREHOUSE, warehouses=("MSK",))
    staff = sign_in(live.url, "kladovshik")

    listed = staff.request("GET", RULES).json()["items"]
    reported = staff.request("GET", REPORT).json()["items"]
    elsewhere = staff.request("GET", REPORT, params={"warehouse": "SPB"}).json()["items"]
    own = staff.request("PUT", f"{RULES}/MSK/KET", json={"min": 2, "max": 4})
    other = staff.request("PUT", f"{RULES}/SPB/KET", json={"min": 2, "max": 4})

    assert [x["warehouse"] for x in listed] == ["MSK"]
    assert [x["warehouse"] for x in reported] == ["MSK"]
    assert elsewhere == []
    assert own.status_code == 200, own.text
    problem(other, 404, "warehouse-not-found")  # another's warehouse is not there for her
    problem(staff.request("DELETE", f"{RULES}/SPB/KET"), 404, "warehouse-not-found")
    assert api.get(f"{RULES}/SPB/KET").json()["min"] == 5


# ---------------------------------------------------------------------- safety stock


def test_safety_stock_lowers_published_availability_never_below_zero(api: httpx.Client) -> None:
    build_world_api(api, {("MSK", "KET"): 10, ("SPB", "KET"): 1})

    before = api.get("/api/v1/channels/web/availability", params={"sku": "KET"}).json()
    put_rule(api, "MSK", "KET", min=0, max=20, safety_stock=4)
    put_rule(api, "SPB", "KET", min=0, max=20, safety_stock=3)
    after = api.get("/api/v1/channels/web/availability", params={"sku": "KET"}).json()
    marketplace = api.get("/api/v1/channels/mp/availability", params={"sku": "KET"}).json()
    product = api.get("/api/v1/products/KET/availability").json()

    assert before["items"][0]["available_to_promise"] == 11
    # (10 - 4) + max(0, 1 - 3) = 6; SPB has nothing left to promise
    assert after["items"][0] == {"sku": "KET", "available_to_promise": 6, "warehouses": ["MSK"]}
    assert marketplace["items"][0]["available_to_promise"] == 4  # its own buffer of 2 too
    assert {w["warehouse"]: w["safety_stock"] for w in product["warehouses"]} == {
        "MSK": 4,
        "SPB": 3,
    }
    # reservations are not held back by safety stock: all 10 at MSK can still be sold
    order = place(api, [("KET", 10)])
    assert order["status"] == "reserved"
