"""``potok orders shortage`` and ``potok alerts list / ack`` through typer's CliRunner."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.domain.alerts import AlertState
from potok.services import alerts as alert_service
from potok.services import intake
from potok.services import orders as order_service
from potok.settings import get_settings
from tests.factories import TESTER, build_world, order_command
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
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "200", "USER": "picker"})


def place(potok: Potok, lines: list[tuple[str, int]]) -> int:
    result = intake.place_order(potok.uow(), order_command(lines), TESTER)
    assert isinstance(result, intake.Placement)
    assert result.order.id is not None
    return result.order.id


def test_a_shortage_from_the_command_line_moves_the_order_and_alerts_when_short(
    potok: Potok, database_url: str
) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("SPB", "KET"): 2})
    moved = place(potok, [("KET", 2)])
    short = place(potok, [("KET", 3)])

    result = potok_cli(
        database_url, "orders", "shortage", str(moved), "-w", "MSK", "--sku", "KET", "-n", "2"
    )

    assert result.exit_code == 0, result.output
    assert "2 written off, 3 on hand" in result.output
    assert "2 KET at SPB" in result.output
    after = order_service.get_order(potok.uow(), moved).order
    assert [(r.warehouse_code, r.quantity) for r in after.open_reservations] == [("SPB", 2)]

    again = potok_cli(
        database_url, "orders", "shortage", str(short), "-w", "MSK", "--sku", "KET", "-n", "1"
    )

    assert again.exit_code == 0, again.output
    assert f"backordered: {short}" in again.output
    listed = potok_cli(database_url, "alerts", "list")
    assert listed.exit_code == 0, listed.output
    assert "order_backordered_after_rerouting" in listed.output
    assert "picking shortage: 1 of KET not found at MSK" in listed.output
    (alert,) = alert_service.list_alerts(potok.uow()).items

    acknowledged = potok_cli(database_url, "alerts", "ack", str(alert.id))

    assert acknowledged.exit_code == 0, acknowledged.output
    assert f"alert {alert.id} acknowledged by cli:picker" in acknowledged.output
    assert alert_service.list_alerts(potok.uow()).items == []
    assert len(alert_service.list_alerts(potok.uow(), state=AlertState.ALL).items) == 1
    assert potok_cli(database_url, "alerts", "ack", str(alert.id)).exit_code != 0
    assert "no open alerts" in potok_cli(database_url, "alerts", "list").output
    assert_stock_invariants(potok)


def test_a_shortage_the_order_does_not_hold_exits_with_the_field_named(
    potok: Potok, database_url: str
) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    order = place(potok, [("KET", 2)])

    result = potok_cli(
        database_url, "orders", "shortage", str(order), "-w", "SPB", "--sku", "KET", "-n", "1"
    )

    assert result.exit_code == 3, result.output
    assert "warehouse" in result.output
