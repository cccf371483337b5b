"""``potok transfers`` and ``potok purchase-orders`` through typer's CliRunner."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.domain.kernel import Tracking
from potok.services import catalogue, inventory
from potok.settings import get_settings
from tests.factories import PRODUCTS, build_world
from tests.invariants import assert_stock_invariants

runner = CliRunner()


@pytest.fixture(autouse=True)
def _leave_the_environment_as_found() -> Iterator[None]:
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


def potok_cli(url: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "200", "USER": "mover"})


def test_a_transfer_from_the_command_line_moves_stock_and_records_the_shortfall(
    potok: Potok, database_url: str
) -> None:
    build_world(potok, {("MSK", "KET"): 10})

    created = potok_cli(database_url, "transfers", "create", "MSK", "SPB", "KET=4")
    assert created.exit_code == 0, created.output
    match = re.search(r"TR-\d{6}", created.output)
    assert match is not None
    number = match.group(0)
    shipped = potok_cli(database_url, "transfers", "ship", number)
    assert shipped.exit_code == 0, shipped.output
    early = potok_cli(database_url, "transfers", "cancel", number)
    assert early.exit_code == 5, early.output  # a conflict: shipped transfers are not cancelled
    received = potok_cli(
        database_url, "transfers", "receive", number, "1=3", "--reason", "1=one lost"
    )

    assert received.exit_code == 0, received.output
    assert "-1" in received.output
    assert "one lost" in received.output
    listed = potok_cli(database_url, "transfers", "list", "--status", "received")
    assert number in listed.output
    page = inventory.list_movements(potok.uow(), sku="KET")
    assert sorted((m.warehouse, m.type, m.quantity, m.actor) for m in page.items) == [
        ("MSK", "receipt", 10, "user:tester"),
        ("MSK", "transfer_out", -4, "cli:mover"),
        ("SPB", "transfer_in", 3, "cli:mover"),
    ]
    assert inventory.reconcile(potok.uow()).drifts == []
    assert_stock_invariants(potok)


def test_a_purchase_order_from_the_command_line_is_received_in_parts(
    potok: Potok, database_url: str
) -> None:
    build_world(potok)

    created = potok_cli(
        database_url, "purchase-orders", "create", "Acme", "MSK", "KET=5", "--number", "ERP-1"
    )
    assert created.exit_code == 0, created.output
    first = potok_cli(database_url, "purchase-orders", "receive", "ERP-1", "1=2")
    over = potok_cli(database_url, "purchase-orders", "receive", "ERP-1", "1=4")
    shown = potok_cli(database_url, "purchase-orders", "show", "ERP-1")

    assert first.exit_code == 0, first.output
    assert over.exit_code == 3, over.output
    assert "partially_received" in shown.output
    levels = inventory.list_levels(potok.uow(), warehouse="MSK").items
    assert [(r.sku, r.on_hand) for r in levels] == [("KET", 2)]


def test_lots_and_serial_numbers_from_the_command_line(potok: Potok, database_url: str) -> None:
    build_world(potok)
    drafts = {p.sku: p for p in PRODUCTS}
    for sku, tracking in (("MUG", Tracking.SERIAL), ("KET", Tracking.LOT)):
        catalogue.replace_product(potok.uow(), sku, replace(drafts[sku], tracking=tracking))
    created = potok_cli(
        database_url, "purchase-orders", "create", "Acme", "MSK", "MUG=2", "KET=3", "--number", "P9"
    )
    assert created.exit_code == 0, created.output
    delivered = potok_cli(
        database_url,
        "purchase-orders",
        "receive",
        "P9",
        "1=2",
        "2=3",
        "--serials",
        "1=M1,M2",
        "--lot",
        "2=L5@2027-01-31",
    )
    assert delivered.exit_code == 0, delivered.output
    made = potok_cli(database_url, "transfers", "create", "MSK", "SPB", "MUG=1", "KET@L5=2")
    match = re.search(r"TR-\d{6}", made.output)
    assert match is not None, made.output

    shipped = potok_cli(database_url, "transfers", "ship", match.group(0), "--serials", "1=M2")
    received = potok_cli(database_url, "transfers", "receive", match.group(0), "--serials", "1=M2")

    assert shipped.exit_code == 0, shipped.output
    assert received.exit_code == 0, received.output
    levels = inventory.list_levels(potok.uow(), warehouse="SPB").items
    assert sorted((r.sku, r.lot, r.on_hand) for r in levels) == [("KET", "L5", 2), ("MUG", None, 1)]
    assert inventory.reconcile(potok.uow()).drifts == []
    assert_stock_invariants(potok)
