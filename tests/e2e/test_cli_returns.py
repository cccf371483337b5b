"""``potok returns`` through typer's CliRunner: request, approve, receive elsewhere,
inspect, refund, close, list."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.connectors.carriers import TrackingStatus
from potok.settings import get_settings
from tests.factories import build_world
from tests.integration.test_returns import T0, Clock, _handed_over, _stock, _track

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
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "200", "USER": "support"})


def test_a_return_from_the_command_line(potok: Potok, database_url: str) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    clock = Clock(T0)
    order_id, _, number = _handed_over(potok, [("KET", 3)], clock)
    _track(potok, number, TrackingStatus.DELIVERED, T0 + timedelta(days=1), "d1")

    bad = potok_cli(database_url, "returns", "request", str(order_id), "1=5:defective")
    assert bad.exit_code != 0
    assert "return-exceeds-shipped" in bad.output or "shipped and not returned" in bad.output
    asked = potok_cli(
        database_url, "returns", "request", str(order_id), "1=2:defective", "--approve"
    )
    assert asked.exit_code == 0, asked.output
    assert "RT-000001" in asked.output
    received = potok_cli(database_url, "returns", "receive", "RT-000001", "KZN")
    assert received.exit_code == 0, received.output
    assert _stock(potok, "KZN", "KET") == (2, 2)
    inspected = potok_cli(
        database_url, "returns", "inspect", "RT-000001", "1=restock:1", "1=write_off:1"
    )
    assert inspected.exit_code == 0, inspected.output
    assert _stock(potok, "KZN", "KET") == (1, 0)
    failed = potok_cli(database_url, "returns", "refund", "RT-000001", "failed")
    assert failed.exit_code == 0, failed.output
    paid = potok_cli(database_url, "returns", "refund", "RT-000001", "paid")
    assert paid.exit_code == 0, paid.output
    assert potok_cli(database_url, "returns", "close", "RT-000001").exit_code == 0
    listed = potok_cli(database_url, "returns", "list", "--output", "csv")
    assert listed.exit_code == 0, listed.output
    assert "RT-000001" in listed.output
    assert "closed" in listed.output
    asked = potok_cli(database_url, "returns", "request", str(order_id), "1=1:wrong_size")
    assert potok_cli(database_url, "returns", "approve", "RT-000002").exit_code == 0
    swapped = potok_cli(database_url, "returns", "exchange", "RT-000002", "KET=1")
    assert swapped.exit_code == 0, swapped.output
    assert "replacement order" in swapped.output
    reasons = potok_cli(database_url, "returns", "reasons")
    assert "wrong_size" in reasons.output
