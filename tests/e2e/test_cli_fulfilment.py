"""``potok shipments`` and ``potok picking`` through typer's CliRunner: a wave made, scanned,
shown as JSON; a shipment packed and handed over; bad input a plain message and exit code."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.services import intake
from potok.services import orders as order_service
from potok.settings import get_settings
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_shipment_invariants, assert_stock_invariants

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
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "200", "USER": "picker"})


def place(potok: Potok, lines: list[tuple[str, int]]) -> int:
    result = intake.place_order(potok.uow(), order_command(lines), TESTER)
    assert isinstance(result, intake.Placement)
    assert result.order.id is not None
    return result.order.id


def test_a_wave_from_the_command_line_is_scanned_packed_and_handed_over(
    potok: Potok, database_url: str
) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("MSK", "MUG"): 5})
    first = place(potok, [("KET", 1), ("MUG", 2)])
    second = place(potok, [("MUG", 1)])

    made = potok_cli(database_url, "picking", "wave", "-w", "MSK", "-o", "json")
    assert made.exit_code == 0, made.output
    lines = json.loads(made.output)
    assert [(ln["sku"], ln["quantity"]) for ln in lines] == [("KET", 1), ("MUG", 3)]

    waves = potok_cli(database_url, "picking", "waves", "-o", "csv")
    assert waves.output.splitlines()[0] == "wave,warehouse,status,shipments,by,created,finished"
    number = waves.output.splitlines()[1].split(",")[0]
    wrong = potok_cli(database_url, "picking", "scan", number, "TOY")
    assert wrong.exit_code == 3
    assert "not on the pick list" in wrong.output
    assert potok_cli(database_url, "picking", "scan", number, "KET").exit_code == 0
    scanned = potok_cli(database_url, "picking", "scan", number, "MUG", "-n", "3")
    assert scanned.exit_code == 0, scanned.output
    assert "slot 1 (order" in scanned.output
    assert "0 left in the wave" in scanned.output

    listed = potok_cli(database_url, "shipments", "list", "--order", str(first), "-o", "json")
    (shipment,) = json.loads(listed.output)
    assert shipment["status"] == "picking"
    packed = potok_cli(
        database_url,
        "shipments",
        "pack",
        str(shipment["id"]),
        "1=1",
        "2=2",
        "--weight-g",
        "1900",
        "--dims",
        "400x300x200",
    )
    assert packed.exit_code == 0, packed.output
    assert "packed" in packed.output
    handed = potok_cli(
        database_url, "shipments", "handover", str(shipment["id"]), "--carrier", "sandbox"
    )
    assert handed.exit_code == 0, handed.output
    assert order_service.get_order(potok.uow(), first).order.status.value == "shipped"
    assert order_service.get_order(potok.uow(), second).order.status.value == "in_fulfilment"
    shown = potok_cli(database_url, "shipments", "show", str(shipment["id"]))
    assert "handed_over" in shown.output
    assert_stock_invariants(potok)
    assert_shipment_invariants(potok)


def test_releasing_a_held_order_is_refused_with_a_plain_message(
    potok: Potok, database_url: str
) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    order_id = place(potok, [("KET", 1)])
    result = potok_cli(database_url, "shipments", "release", str(order_id), "-w", "SPB")
    assert result.exit_code == 5  # a conflict: nothing of it waits at SPB
    assert "holds nothing at SPB" in result.output
    result = potok_cli(database_url, "shipments", "release", str(order_id), "-w", "MSK")
    assert result.exit_code == 0, result.output
    assert "pending at MSK" in result.output
