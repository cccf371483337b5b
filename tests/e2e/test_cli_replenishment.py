"""``potok stock rules import`` and ``potok stock replenishment`` through typer's CliRunner."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.domain.inventory.replenishment import SetStockRule
from potok.services import intake, replenishment
from potok.settings import get_settings
from tests.factories import MOSCOW, TESTER, build_world, order_command

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
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "200"})


def table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def rules(potok: Potok) -> dict[tuple[str, str], tuple[int, int, int]]:
    page = replenishment.list_rules(potok.uow(), limit=1000)
    return {(r.warehouse, r.sku): (r.min_level, r.max_level, r.safety_stock) for r in page.items}


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rules_import_creates_and_changes_rules(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    replenishment.set_rule(potok.uow(), SetStockRule("MSK", "KET", 1, 2), TESTER)
    file = write_csv(
        tmp_path,
        "\ufeffSKU,warehouse,min,max,safety_stock\r\nKET,MSK,5,20,2\r\nMUG,SPB,0,10,\r\n",
    )

    result = potok_cli(database_url, "stock", "rules", "import", str(file))

    assert result.exit_code == 0, result.output
    assert "1 new, 1 changed" in result.output
    assert rules(potok) == {("MSK", "KET"): (5, 20, 2), ("SPB", "MUG"): (0, 10, 0)}


BAD_FILE = """warehouse,sku,min,max,safety_stock
MSK,KET,5,20,2
MSK,MUG,ten,20,0
NOPE,KET,1,2,0
SPB,NOPE,1,2,0
SPB,TOY,9,3,0
MSK,KET,1,2,0
KZN,BKS,-1,2,0
KZN,TOY,1
SPB,KET,1,5,1
"""
BAD_LINES = {3, 4, 5, 6, 7, 8, 9}


def test_rules_import_with_bad_rows_reports_every_one_and_changes_nothing(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    file = write_csv(tmp_path, BAD_FILE)

    result = potok_cli(database_url, "stock", "rules", "import", str(file))

    assert result.exit_code == 3, result.output
    reported = table_rows(result.stderr)
    assert {int(row[0]) for row in reported} == BAD_LINES
    problems = " ".join(row[1] for row in reported)
    for expected in (
        "'ten'",
        "no warehouse 'NOPE'",
        "SKU 'NOPE'",
        "at least the minimum",
        "repeats",
    ):
        assert expected in problems
    assert "nothing imported" in result.stderr
    assert rules(potok) == {}


def test_rules_import_with_a_bad_header_names_the_columns(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    file = write_csv(tmp_path, "warehouse,sku,minimum\nMSK,KET,1\n")

    result = potok_cli(database_url, "stock", "rules", "import", str(file))

    assert result.exit_code == 3
    assert "warehouse,sku,min,max,safety_stock" in result.stderr


def test_the_replenishment_report_as_a_table_and_as_json(potok: Potok, database_url: str) -> None:
    build_world(potok, {("MSK", "KET"): 6, ("SPB", "MUG"): 9})
    replenishment.set_rule(potok.uow(), SetStockRule("MSK", "KET", 5, 12, 1), TESTER)
    replenishment.set_rule(potok.uow(), SetStockRule("SPB", "MUG", 5, 12), TESTER)
    placed = intake.place_order(potok.uow(), order_command([("KET", 3)], to=MOSCOW), TESTER)
    assert isinstance(placed, intake.Placement)

    table = potok_cli(database_url, "stock", "replenishment")
    as_json = potok_cli(database_url, "stock", "replenishment", "--json", "--warehouse", "MSK")
    nothing = potok_cli(database_url, "stock", "replenishment", "--sku", "MUG")

    assert table.exit_code == 0, table.output
    assert [row[:2] + row[-1:] for row in table_rows(table.stdout)] == [["MSK", "KET", "9"]]
    assert as_json.exit_code == 0, as_json.output
    # 6 on hand - 3 reserved = 3 < 5: order 12 - 3 = 9
    assert json.loads(as_json.stdout) == [
        {
            "warehouse": "MSK",
            "sku": "KET",
            "min": 5,
            "max": 12,
            "safety_stock": 1,
            "on_hand": 6,
            "reserved": 3,
            "unavailable": 0,
            "incoming": 0,
            "projected": 3,
            "backordered": 0,
            "suggested_quantity": 9,
        }
    ]
    assert nothing.exit_code == 0
    assert "nothing to reorder" in nothing.stdout


def test_the_sandbox_has_rules_and_something_to_reorder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sandbox.db'}"
    demo = potok_cli(
        url, "demo", "--no-serve", "--orders", "30", "--seed", "3", "--history-days", "0"
    )
    assert demo.exit_code == 0, demo.output

    result = potok_cli(url, "stock", "replenishment", "--json")

    assert result.exit_code == 0, result.output
    lines = json.loads(result.stdout)
    assert lines
    assert all(line["projected"] < line["min"] for line in lines)
    assert all(
        line["suggested_quantity"] == line["max"] - line["projected"] + line["backordered"]
        for line in lines
    )


def test_rules_set_and_list(potok: Potok, database_url: str) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "MUG"): 9})

    made = potok_cli(
        database_url, "stock", "rules", "set", "MSK", "KET", "--min", "5", "--max", "9"
    )
    other = potok_cli(
        database_url, "stock", "rules", "set", "SPB", "MUG", "--min", "5", "--max", "9"
    )
    wrong = potok_cli(
        database_url, "stock", "rules", "set", "SPB", "MUG", "--min", "5", "--max", "1"
    )
    listed = potok_cli(database_url, "stock", "rules", "list")
    below = potok_cli(database_url, "stock", "rules", "list", "--below")

    assert made.exit_code == 0, made.output
    assert other.exit_code == 0, other.output
    assert wrong.exit_code == 3
    assert "max" in wrong.stderr
    assert table_rows(listed.stdout) == [
        ["MSK", "KET", "5", "9", "0", "3", "yes"],
        ["SPB", "MUG", "5", "9", "0", "9", ""],
    ]
    assert [row[:2] for row in table_rows(below.stdout)] == [["MSK", "KET"]]
