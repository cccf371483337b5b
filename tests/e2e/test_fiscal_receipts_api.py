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
from tests.simulators.atol import AtolSimulator


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
            "shipment_id": None,  # a prepayment names no shipment; a settlement names its own
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


def test_atols_callback_is_checked_against_its_report_and_corrections_are_queued(
    live: LiveServer, api: httpx.Client, anonymous: httpx.Client, atol: AtolSimulator
) -> None:
    from potok.domain.fiscal import FiscalRules
    from potok.services import legal_entities
    from potok.services.fiscal import reading, sending
    from potok.services.fiscal.desk import FiscalDesk
    from tests.documents_support import SELLER
    from tests.factories import build_world
    from tests.integration.test_fiscal_sending import atol_desk

    potok: Potok = live.potok
    build_world(potok, {("MSK", "KET"): 5})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    atol.reads_before_done = 100  # only the callback's prompt makes Potok look again
    potok.fiscal = atol_desk(atol, callback_url=f"{live.url}/api/v1/fiscal/atol/callback")
    clock = Clock(T0)
    try:
        order_id, _, _ = _handed_over(potok, [("KET", 1)], clock)
        drain(potok)
        sending.work_the_queue(potok.uow, potok.fiscal, clock=clock)
        sale, offset = reading.receipts_of_order(potok.uow(), order_id)
        assert (sale.state.value, offset.state.value) == ("wait", "wait")

        forged = anonymous.post(
            "/api/v1/fiscal/atol/callback",
            json={"uuid": sale.provider_uuid, "status": "done", "payload": {"fn_number": "1"}},
        )
        assert forged.status_code == 200
        assert forged.json() == {"receipt_id": sale.id, "state": "wait"}  # АТОЛ says wait
        unknown = anonymous.post("/api/v1/fiscal/atol/callback", json={"uuid": "nope"})
        assert (unknown.status_code, unknown.json()["code"]) == (404, "receipt-not-found")
        broken = anonymous.post(
            "/api/v1/fiscal/atol/callback",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert broken.status_code == 422

        assert atol.process() == 2  # both printed; АТОЛ calls back, Potok reads the reports
        assert atol.counters.callbacks == 2
        assert atol.counters.callback_failures == 0
        shown = api.get(f"/api/v1/orders/{order_id}/receipts").json()
        assert [r["state"] for r in shown] == ["done", "done"]
        assert shown[0]["fiscal"]["fn_number"] == "9999078902004312"

        wrong = shown[0]["id"]
        refused = api.post(f"/api/v1/receipts/{wrong}/correction", json={})
        assert (refused.status_code, refused.json()["code"]) == (409, "receipt-not-correctable")
        body = {
            "type": "instruction",
            "basis_date": "2026-12-01",
            "basis_number": "12-34/5",
            "reverse": True,
        }
        made = api.post(
            f"/api/v1/receipts/{wrong}/correction", json=body, headers={"Idempotency-Key": "c1"}
        )
        assert made.status_code == 201, made.text
        again = api.post(
            f"/api/v1/receipts/{wrong}/correction", json=body, headers={"Idempotency-Key": "c1"}
        )
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == made.json()["id"]
        assert (made.json()["operation"], made.json()["corrects_id"], made.json()["state"]) == (
            "sell_refund_correction",
            wrong,
            "queued",
        )
        no_number = api.post(
            f"/api/v1/receipts/{wrong}/correction", json={"type": "instruction", "reverse": True}
        )
        assert [e["field"] for e in no_number.json()["errors"]] == ["basis_number"]
        sending.work_the_queue(potok.uow, potok.fiscal, clock=clock)
        atol.process()
        assert api.get(f"/api/v1/receipts/{made.json()['id']}").json()["state"] == "done"

        not_failed = api.post(f"/api/v1/receipts/{wrong}/resending")
        assert not_failed.status_code == 409
    finally:
        potok.fiscal = FiscalDesk(rules=FiscalRules(enabled=False))


def test_the_cli_corrects_and_resends_a_failed_receipt(potok: Potok, database_url: str) -> None:
    from potok.cli.main import app
    from potok.domain.fiscal import FiscalRules
    from potok.services import legal_entities
    from potok.services.fiscal import reading
    from potok.services.fiscal.desk import FiscalDesk
    from tests.documents_support import SELLER
    from tests.e2e.test_cli import runner
    from tests.factories import build_world

    build_world(potok, {("MSK", "KET"): 5})
    legal_entities.create_legal_entity(potok.uow(), SELLER)
    potok.fiscal = FiscalDesk(rules=FiscalRules(enabled=True))  # no settings for the seller
    order_id, _, _ = _handed_over(potok, [("KET", 1)], Clock(T0))
    drain(potok)
    sale, offset = reading.receipts_of_order(potok.uow(), order_id)
    assert (sale.state.value, offset.state.value) == ("failed", "failed")

    unfixed = potok_cli(database_url, "receipts", "resend", str(sale.id))
    assert unfixed.exit_code != 0
    assert "legal entity 'potok' has no fiscal settings" in unfixed.output

    settings = {
        "COLUMNS": "200",
        "POTOK_FISCAL__ENABLED": "true",
        "POTOK_FISCAL__ENTITIES": '{"potok": {"account": "atol-main", "taxation": "osn", '
        '"payment_address": "https://shop.example.ru", "email": "shop@example.ru"}}',
        "POTOK_FISCAL__ACCOUNTS": '{"atol-main": {"login": "l", "password": "p", '
        '"group_code": "g", "url": "http://127.0.0.1:9/possystem/v5"}}',
    }
    resent = runner.invoke(
        app, ["--db", database_url, "receipts", "resend", str(sale.id)], env=settings
    )
    assert resent.exit_code == 0, resent.output
    assert f"queued again as potok-receipt-{sale.id}-1" in resent.output
    corrected = runner.invoke(
        app,
        ["--db", database_url, "receipts", "correct", str(offset.id), "--basis-date", "2026-12-01"],
        env=settings,
    )
    assert corrected.exit_code == 0, corrected.output
    assert f"corrects receipt {offset.id}" in corrected.output
    kinds = [
        (r.kind.value, r.state.value) for r in reading.receipts_of_order(potok.uow(), order_id)
    ]
    assert kinds == [("sale", "queued"), ("settlement", "failed"), ("correction", "queued")]
    bad = runner.invoke(
        app,
        ["--db", database_url, "receipts", "correct", str(offset.id), "--basis-date", "1.12"],
        env=settings,
    )
    assert bad.exit_code != 0
    assert "write YYYY-MM-DD" in bad.output
