"""`potok forecast` on a database: the backtest refuses politely when the history is short,
`show` prints one SKU's days with their interval and `reorder` the suggestion and why, both
from the stored run (and say so when there is none)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from potok.cli.main import app
from tests.conftest import LiveServer
from tests.integration.test_forecasting import _history

runner = CliRunner()


def test_forecast_commands_on_a_short_history(live: LiveServer) -> None:
    _history(live.potok)
    env = {"POTOK_DB__URL": live.potok.settings.db.url}
    backtest = runner.invoke(
        app, ["forecast", "backtest", "--until", "2026-11-14", "--days", "14"], env=env
    )
    assert backtest.exit_code == 0, backtest.output
    assert "too few for a backtest" in backtest.output
    before = runner.invoke(app, ["forecast", "show", "TOY"], env=env)
    assert before.exit_code != 0
    assert "No forecast run is stored" in before.output
    ran = runner.invoke(app, ["forecast", "run", "--until", "2026-11-14", "--days", "14"], env=env)
    assert ran.exit_code == 0, ran.output
    shown = runner.invoke(app, ["forecast", "show", "TOY", "--output", "json"], env=env)
    assert shown.exit_code == 0, shown.output
    days = json.loads(shown.stdout)
    assert (days[0]["day"], days[0]["forecast"], days[0]["low"], days[0]["high"]) == (
        "2026-11-15",
        1.0,
        1.0,
        1.0,
    )
    assert len(days) == 28
    assert "from run 1 of " in shown.stderr
    assert "history up to 2026-11-14" in shown.stderr
    reorder = runner.invoke(app, ["forecast", "reorder", "--output", "json"], env=env)
    assert reorder.exit_code == 0, reorder.output
    rows = {r["sku"]: r for r in json.loads(reorder.stdout)}
    assert (rows["KET"]["suggested_quantity"], rows["TOY"]["suggested_quantity"]) == (16, 13)
    assert rows["KET"]["why"].startswith("seasonal_naive: 14.0 units over 7 d")
    too_far = runner.invoke(app, ["forecast", "reorder", "--lead-days", "30"], env=env)
    assert too_far.exit_code != 0
    assert "need 37 days of forecast" in too_far.output


def test_the_stock_report_on_the_command_line(live: LiveServer) -> None:
    _history(live.potok)
    env = {"POTOK_DB__URL": live.potok.settings.db.url}
    found = runner.invoke(
        app,
        ["reports", "stock", "--until", "2026-11-14", "--days", "14", "--output", "json"],
        env=env,
    )
    assert found.exit_code == 0, found.output
    rows = {r["sku"]: r for r in json.loads(found.stdout)}
    assert (rows["KET"]["turnover"], rows["KET"]["days_of_cover"]) == (0.7, 6.0)
    assert rows["KET"]["value"] == "99600.00"
    table = runner.invoke(
        app, ["reports", "stock", "--until", "2026-11-14", "--days", "14"], env=env
    )
    assert table.exit_code == 0
    assert "TOY" in table.output


def test_forecast_run_stores_the_run_per_channel(live: LiveServer) -> None:
    _history(live.potok)
    env = {"POTOK_DB__URL": live.potok.settings.db.url}
    ran = runner.invoke(
        app,
        [
            "forecast",
            "run",
            "--until",
            "2026-11-14",
            "--days",
            "14",
            "--by-channel",
            "--output",
            "json",
        ],
        env=env,
    )
    assert ran.exit_code == 0, ran.output
    rows = json.loads(ran.stdout)
    assert [(r["sku"], r["channel"], r["method"], r["next_7_days"]) for r in rows] == [
        ("KET", "web", "seasonal_naive", 14.0),
        ("TOY", "web", "seasonal_naive", 7.0),
    ]
    assert "run 1 stored: 2 series, 28 days ahead" in ran.stderr
    with live.potok.uow() as uow:
        head, series = uow.reports.latest_forecast()
    assert head is not None
    assert (head["actor"], head["by_channel"], len(series)) == ("cli", True, 2)
    bad = runner.invoke(app, ["forecast", "run", "--until", "14.11.2026"], env=env)
    assert bad.exit_code == 2
    assert "give a date as YYYY-MM-DD" in bad.output


def test_purchase_orders_and_transfers_from_the_suggestions(live: LiveServer) -> None:
    _history(live.potok)
    env = {"POTOK_DB__URL": live.potok.settings.db.url}
    ran = runner.invoke(app, ["forecast", "run", "--until", "2026-11-14", "--days", "14"], env=env)
    assert ran.exit_code == 0, ran.output
    order = runner.invoke(
        app,
        ["forecast", "order", "-w", "MSK", "--supplier", "ООО Чайники", "--sku", "KET"],
        env=env,
    )
    assert order.exit_code == 0, order.output
    assert "to ООО Чайники for MSK: KET 16" in order.output
    again = runner.invoke(
        app,
        ["forecast", "order", "-w", "MSK", "--supplier", "ООО Чайники", "--sku", "KET"],
        env=env,
    )
    assert again.exit_code != 0
    assert "suggests ordering none of KET at MSK" in again.output
    moved = runner.invoke(app, ["forecast", "transfer", "-w", "MSK", "--from", "SPB"], env=env)
    assert moved.exit_code != 0  # SPB holds nothing
    assert "suggests ordering none of any SKU at MSK" in moved.output
