"""``potok sourcing``: tariffs imported all or nothing, routing rules set and shown with
their history, and ``explain`` on the sandbox."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from potok.bootstrap import Potok
from potok.settings import get_settings
from tests.e2e.test_cli import potok_cli, sqlite_url, table_rows
from tests.factories import build_world

HEADER = "warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days"


@pytest.fixture(autouse=True)
def _leave_the_environment_as_found() -> Iterator[None]:
    before = os.environ.get("POTOK_DB__URL")
    yield
    if before is None:
        os.environ.pop("POTOK_DB__URL", None)
    else:
        os.environ["POTOK_DB__URL"] = before
    get_settings.cache_clear()


def test_tariffs_import_all_or_nothing_and_list(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nMSK,,0,,900,20,0,1\nMARS,,0,,1,0,0,1\nSPB,,0,,x,0,0,1\n")
    refused = potok_cli(database_url, "sourcing", "tariffs", "import", str(bad))
    assert refused.exit_code == 3, refused.output
    assert "line 3, column warehouse" in refused.output
    assert "line 4, column fixed_rub" in refused.output
    assert "no tariffs yet" in potok_cli(database_url, "sourcing", "tariffs", "list").stdout

    good = tmp_path / "tariffs.csv"
    good.write_text(f"{HEADER}\nMSK,,0,,900,20,0,1\nSPB,,0,300,300,20,0.5,3\n")
    result = potok_cli(database_url, "sourcing", "tariffs", "import", str(good))
    assert result.exit_code == 0, result.output
    assert "imported 2 tariffs as version 1" in result.stdout
    listed = potok_cli(database_url, "sourcing", "tariffs", "list")
    assert [row[:2] for row in table_rows(listed.stdout)] == [
        ["MSK", "0 km and beyond"],
        ["SPB", "0-300 km"],
    ]


def test_rules_set_and_show_with_their_history(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    file = tmp_path / "rules.json"
    file.write_text(json.dumps({"split": "never", "max_distance_km": 800}))
    for _ in range(2):
        result = potok_cli(database_url, "sourcing", "rules", "set", "web", str(file))
        assert result.exit_code == 0, result.output
    shown = potok_cli(database_url, "sourcing", "rules", "show", "web")
    assert shown.exit_code == 0, shown.output
    assert "web version 2" in shown.stdout
    assert '"split": "never"' in shown.stdout
    history = potok_cli(database_url, "sourcing", "rules", "show", "web", "--history")
    assert [row[0] for row in table_rows(history.stdout)] == ["2", "1"]
    assert "built-in" in potok_cli(database_url, "sourcing", "rules", "show").stdout
    file.write_text(json.dumps({"split": "sometimes"}))
    refused = potok_cli(database_url, "sourcing", "rules", "set", "web", str(file))
    assert refused.exit_code == 3, refused.output


def test_explain_shows_the_stored_decision_and_a_dry_run_on_the_sandbox(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "sandbox.db")
    built = potok_cli(url, "demo", "--no-serve", "--orders", "15", "--seed", "3")
    assert built.exit_code == 0, built.output
    listed = potok_cli(url, "sourcing", "tariffs", "list")
    assert len(table_rows(listed.stdout)) == 48
    result = potok_cli(url, "sourcing", "explain", "1")
    assert result.exit_code == 0, result.output
    assert "reserved (intake) by api_key:" in result.stdout
    assert "rules built-in, tariffs version 1" in result.stdout
    assert "Now (decision)" in result.stdout
    assert "✓" in result.stdout
    missing = potok_cli(url, "sourcing", "explain", "99999")
    assert missing.exit_code == 4, missing.output
