"""Fiscal receipts read over HTTP and from the command line: an order's receipts with
their lines, the list with its filters, one receipt; an unknown one is a problem."""

from __future__ import annotations

import json

import httpx

from potok.bootstrap import Potok
from tests.conftest import LiveServer
from tests.e2e.test_cli import potok_cli, table_rows
from tests.integration.test_fiscal_receipts import desk, drain
from tests.integration.test_returns import T0, Clock, _handed_over


def test_an_orders_receipts_are_read_with_their_lines_and_filtered(
    live: LiveServer, api: httpx.Client
) -> None:
    from potok.services import legal_entities
    from tests.documents_support import SELLER
    from tests.factories import build_world

    potok: Potok = live.potok
    build_world(potok, {("MSK", "KET"): 5})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    potok.fiscal = desk()
    try:
        order_id, _, _ = _handed_over(potok, [("KET", 1)], Clock(T0))
        drain(potok)
    finally:
        potok.fiscal = type(potok.fiscal)()

    answer = api.get(f"/api/v1/orders/{order_id}/receipts")
    assert answer.status_code == 200
    sale, offset = answer.json()
    assert (sale["kind"], sale["state"], sale["operation"], sale["total"]) == (
        "sale",
        "queued",
        "sell",
        "2490.00",
    )
    assert sale["lines"] == [
        {
            "name": "Kettle",
            "sku": "KET",
            "order_line_no": 1,
            "price": "2490.00",
            "quantity": 1,
            "amount": "2490.00",
            "vat": "vat22",
            "vat_amount": "449.02",
            "payment_method": "full_prepayment",
            "payment_object": "commodity",
            "mark_code": None,
            "agent_type": None,
            "supplier_inn": None,
        }
    ]
    assert (sale["company_inn"], sale["taxation"], sale["account"]) == (
        "7707083893",
        "osn",
        "atol-main",
    )
    assert sale["external_id"] == f"potok-receipt-{sale['id']}"
    assert sale["fiscal"] is None
    assert offset["payment_type"] == "prepaid"

    listed = api.get("/api/v1/receipts", params={"kind": "settlement"}).json()
    assert [r["id"] for r in listed["items"]] == [offset["id"]]
    assert listed["next_cursor"] is None
    first = api.get("/api/v1/receipts", params={"limit": 1}).json()
    assert [r["id"] for r in first["items"]] == [offset["id"]]
    rest = api.get("/api/v1/receipts", params={"limit": 1, "cursor": first["next_cursor"]})
    assert [r["id"] for r in rest.json()["items"]] == [sale["id"]]
    assert api.get(f"/api/v1/receipts/{sale['id']}").json()["basis"] == (
        f"payment:order:{order_id}"
    )
    missing = api.get("/api/v1/receipts/999999")
    assert (missing.status_code, missing.json()["code"]) == (404, "receipt-not-found")
    assert api.get("/api/v1/orders/999999/receipts").json()["code"] == "order-not-found"


def test_the_cli_lists_and_shows_receipts(potok: Potok, database_url: str) -> None:
    from potok.services import legal_entities
    from tests.documents_support import SELLER
    from tests.factories import build_world

    build_world(potok, {("MSK", "KET"): 5})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    potok.fiscal = desk()
    order_id, _, _ = _handed_over(potok, [("KET", 1)], Clock(T0))
    drain(potok)

    listed = potok_cli(database_url, "receipts", "list", "--order", str(order_id))
    assert listed.exit_code == 0, listed.output
    rows = table_rows(listed.output)
    assert [(r[2], r[3], r[4]) for r in rows] == [
        ("settlement", "queued", "2490.00"),
        ("sale", "queued", "2490.00"),
    ]
    data = json.loads(
        potok_cli(database_url, "receipts", "list", "--kind", "sale", "-o", "json").output
    )
    assert [(r["order_id"], r["kind"], r["account"]) for r in data] == [
        (order_id, "sale", "atol-main")
    ]
    shown = potok_cli(database_url, "receipts", "show", str(data[0]["id"]))
    assert shown.exit_code == 0, shown.output
    assert f"basis: payment:order:{order_id}" in shown.output
    assert "ИНН 7707083893" in shown.output
    assert "full_prepayment" in shown.output
    missing = potok_cli(database_url, "receipts", "show", "999999")
    assert missing.exit_code != 0
    assert "There is no fiscal receipt 999999." in missing.output
