"""``potok stock counts`` through typer's CliRunner: create, enter, show, approve, list."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.services import inventory
from potok.settings import get_settings
from tests.factories import build_world
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
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "200", "USER": "stocktaker"})


def test_a_count_from_the_command_line_posts_its_differences(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 5})

    created = potok_cli(database_url, "stock", "counts", "create", "MSK")
    assert created.exit_code == 0, created.output
    assert "CNT-000001" in created.output
    entered = potok_cli(database_url, "stock", "counts", "enter", "CNT-000001", "KET=8")
    assert entered.exit_code == 0, entered.output
    sheet = tmp_path / "counted.csv"
    sheet.write_text("sku,counted\nMUG,6\n", encoding="utf-8")
    from_file = potok_cli(
        database_url, "stock", "counts", "enter", "CNT-000001", "--file", str(sheet)
    )
    assert from_file.exit_code == 0, from_file.output
    blind = potok_cli(database_url, "stock", "counts", "show", "CNT-000001")
    assert "expected" not in blind.output
    assert "2 of 2 lines counted" in blind.output
    approved = potok_cli(database_url, "stock", "counts", "approve", "CNT-000001")

    assert approved.exit_code == 0, approved.output
    assert "-2" in approved.output
    assert "+1" in approved.output
    page = inventory.list_movements(potok.uow(), movement_type="count")
    assert sorted((m.sku, m.quantity, m.reason, m.actor) for m in page.items) == [
        ("KET", -2, "count CNT-000001", "cli:stocktaker"),
        ("MUG", 1, "count CNT-000001", "cli:stocktaker"),
    ]
    listed = potok_cli(database_url, "stock", "counts", "list", "--status", "approved")
    assert "CNT-000001" in listed.output
    assert inventory.reconcile(potok.uow()).drifts == []
    assert_stock_invariants(potok)


def test_an_entry_the_command_line_cannot_read_exits_3(potok: Potok, database_url: str) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    potok_cli(database_url, "stock", "counts", "create", "MSK")

    result = potok_cli(database_url, "stock", "counts", "enter", "CNT-000001", "KET:3")

    assert result.exit_code == 3
    missing = potok_cli(database_url, "stock", "counts", "approve", "CNT-000009")
    assert missing.exit_code == 4


def test_bins_are_imported_from_a_file_all_or_nothing_and_stock_placed_in_them(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    good = tmp_path / "bins.csv"
    good.write_text(
        "warehouse,code,zone,pick_sequence\nMSK,A-01,A,10\nMSK,B-02,B,20\n", encoding="utf-8"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("warehouse,code\nMSK,C-03\nNOPE,A-01\nMSK,bad code\n", encoding="utf-8")

    imported = potok_cli(database_url, "stock", "locations", "import", str(good))
    again = potok_cli(database_url, "stock", "locations", "import", str(good))
    refused = potok_cli(database_url, "stock", "locations", "import", str(bad))
    placed = potok_cli(database_url, "stock", "locations", "place", "MSK", "KET", "B-02")

    assert imported.exit_code == 0, imported.output
    assert "2 created" in imported.output
    assert "2 unchanged" in again.output
    assert refused.exit_code == 3
    assert "line 3" in refused.output
    assert "line 4" in refused.output
    assert placed.exit_code == 0, placed.output
    listed = potok_cli(database_url, "stock", "locations", "list", "MSK")
    assert listed.output.index("A-01") < listed.output.index("B-02")
    assert "C-03" not in listed.output
    (row,) = inventory.list_levels(potok.uow(), warehouse="MSK").items
    assert row.location == "B-02"
