"""``potok thresholds list`` and ``set`` on SQLite and PostgreSQL: every stage with its
default, a change kept in the history the API shows, and plain refusals of a wrong stage or
number of minutes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.domain.fulfilment import ShipmentStatus
from potok.services import overdue_thresholds


def test_the_command_line_lists_and_sets_thresholds(potok: Potok, database_url: str) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        done = runner.invoke(
            app, ["--db", database_url, "thresholds", *args], env={"USER": "ops", "COLUMNS": "200"}
        )
        return done.exit_code, done.output

    code, out = run("list", "--output", "json")
    assert code == 0, out
    assert [(r["stage"], r["minutes"], r["default"], r["changed_by"]) for r in json.loads(out)] == [
        ("pending", 1440, 1440, ""),
        ("picking", 1440, 1440, ""),
        ("packed", 1440, 1440, ""),
        ("handed_over", 2880, 2880, ""),
        ("in_transit", 10080, 10080, ""),
        ("ready_for_pickup", 10080, 10080, ""),
        ("failed_delivery", 2880, 2880, ""),
        ("returning", 20160, 20160, ""),
    ]

    code, out = run("set", "ready_for_pickup", "4320")
    assert code == 0, out
    assert "ready_for_pickup: overdue after 4320 minutes" in out
    history = overdue_thresholds.threshold_history(potok.uow(), ShipmentStatus.READY_FOR_PICKUP)
    assert [(c.version, c.minutes, c.created_by) for c in history] == [(1, 4320, "cli:ops")]

    code, out = run("list")
    assert code == 0, out
    row = next(line for line in out.splitlines() if "ready_for_pickup" in line)
    cells = row.replace("│", " ").split()
    assert cells[:3] == ["ready_for_pickup", "4320", "10080"], row
    assert cells[-1] == "cli:ops", row

    code, out = run("set", "delivered", "60")
    assert code != 0
    assert "stage" in out, out
    assert "pending, picking, packed" in out, out
    code, out = run("set", "picking", "4")
    assert code != 0
    assert "minutes" in out, out
    assert "from 5 to 43200" in out, out
    assert overdue_thresholds.threshold_history(potok.uow(), ShipmentStatus.PICKING) == []
