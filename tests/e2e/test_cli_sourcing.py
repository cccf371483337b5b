"""``potok sourcing``: tariffs imported all or nothing, routing rules set and shown with
their history, and ``explain`` on the sandbox."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from potok.bootstrap import Potok
from potok.domain.inventory.commands import ReceiveStock
from potok.services import inventory, sourcing
from potok.settings import get_settings
from tests.e2e.test_cli import place, potok_cli, sqlite_url, table_rows
from tests.factories import TESTER, build_world
from tests.invariants import assert_stock_invariants

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
    built = potok_cli(
        url, "demo", "--no-serve", "--orders", "15", "--seed", "3", "--history-days", "0"
    )
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


def test_replan_moves_an_order_to_the_cheaper_warehouse_and_lists_the_run(
    potok: Potok, database_url: str
) -> None:
    build_world(potok, {("SPB", "KET"): 1})
    tariffs = f"{HEADER}\nMSK,,0,,200,20,0,1\nSPB,,0,,600,20,0,3\n"
    sourcing.import_tariffs(potok.uow(), tariffs, TESTER)
    sourcing.set_rules(
        potok.uow(), "default", {"kinds_by_order_type": {"courier": ["warehouse"]}}, TESTER
    )
    placed = place(potok, [("KET", 1)])
    inventory.receive_stock(potok.uow(), ReceiveStock("MSK", "KET", 3), TESTER)

    dry = potok_cli(database_url, "sourcing", "replan", "--dry-run", "--time-limit", "5")
    assert dry.exit_code == 0, dry.output
    assert table_rows(dry.stdout)[0][:6] == [str(placed), "moved", "SPB", "MSK", "624.00", "224.00"]
    assert "1 would change" in dry.stdout
    assert held_at(potok, placed) == {"SPB"}

    result = potok_cli(database_url, "sourcing", "replan")
    assert result.exit_code == 0, result.output
    assert "1 changed" in result.stdout
    assert "624.00 ₽ → 224.00 ₽" in result.stdout
    assert held_at(potok, placed) == {"MSK"}
    assert_stock_invariants(potok)

    listed = potok_cli(database_url, "sourcing", "replans")
    assert listed.exit_code == 0, listed.output
    assert [(row[3], row[6]) for row in table_rows(listed.stdout)] == [
        ("yes", "1"),
        ("dry run", "1"),
    ]
    bad = potok_cli(database_url, "sourcing", "replan", "--time-limit", "0")
    assert bad.exit_code == 2  # refused by the command line, before the database is opened
    assert "--time-limit" in bad.output
    held = potok_cli(database_url, "sourcing", "replan", "--held", "30", "--dry-run")
    assert held.exit_code == 0, held.output
    assert "1 orders considered, 0 would change" in held.stdout  # placed just now, held
    assert "held orders: 0 trade(s) proposed" in held.stdout
    too_long = potok_cli(database_url, "sourcing", "replan", "--held", "2000")
    assert too_long.exit_code == 2
    assert "--held" in too_long.output


def held_at(potok: Potok, order_id: int) -> set[str]:
    found = potok.uow()
    with found.read():
        order = found.orders.get(order_id)
    assert order is not None
    return {r.warehouse_code for r in order.open_reservations}


def test_explain_gives_every_candidate_not_chosen_its_reason_and_shows_coverage(
    potok: Potok, database_url: str
) -> None:
    # SPB is the cheapest but has no mug; KZN has both and costs more; stores may not ship
    build_world(
        potok,
        {
            ("MSK", "KET"): 5,
            ("MSK", "MUG"): 5,
            ("SPB", "KET"): 5,
            ("KZN", "KET"): 5,
            ("MSK-S", "KET"): 5,
        },
    )
    inventory.receive_stock(potok.uow(), ReceiveStock("KZN", "MUG", 5), TESTER)
    tariffs = (
        f"{HEADER}\nMSK,,0,,900,0,0,1\nSPB,,0,,300,0,0,3\nKZN,,0,,950,0,0,4\nMSK-S,,0,,100,0,0,1\n"
    )
    sourcing.import_tariffs(potok.uow(), tariffs, TESTER)
    cost_only = {
        "weights": {"cost": 1, "distance": 0, "day": 0, "priority": 0},
        "split": "never",
        "kinds_by_order_type": {"courier": ["warehouse"]},
    }
    sourcing.set_rules(potok.uow(), "default", cost_only, TESTER)
    placed = place(potok, [("KET", 1), ("MUG", 1)])

    result = potok_cli(database_url, "sourcing", "explain", str(placed))

    assert result.exit_code == 0, result.output
    rows = {row[1].split(" ")[0]: row for row in table_rows(result.stdout)}
    assert {code: (row[0], row[3], row[-1]) for code, row in rows.items()} == {
        "MSK": ("✓", "all 2 lines", ""),
        "KZN": ("", "all 2 lines", "costs more: 950.00 ₽ against 900.00 ₽"),
        "SPB": ("", "1 of 2 lines", "does not cover the order: lacks MUG (has 0 of 1)"),
        "MSK-S": ("", "", "a store does not serve courier orders"),
    }
    assert "chosen because it is the cheapest to ship of the warehouses that have every line" in (
        " ".join(result.stdout.split())
    )


def test_price_stock_prices_the_hubs_last_unit_and_lists_it(
    potok: Potok, database_url: str
) -> None:
    from tests.integration.test_stock_pricing import HEADER as TARIFF_HEADER
    from tests.integration.test_stock_pricing import KOMI, TARIFFS
    from tests.integration.test_stock_pricing import place as place_to

    build_world(potok, {("MSK", "KET"): 13, ("SPB", "KET"): 10, ("KZN", "KET"): 10})
    sourcing.import_tariffs(potok.uow(), "\n".join([TARIFF_HEADER, *TARIFFS]), TESTER)
    sourcing.set_rules(
        potok.uow(), "default", {"kinds_by_order_type": {"courier": ["warehouse"]}}, TESTER
    )
    from datetime import UTC, datetime

    from tests.factories import TVER

    now = datetime.now(UTC)
    for i in range(12):
        region, to = ("Тверская область", TVER) if i % 2 else ("Республика Коми", KOMI)
        place_to(potok, region, to, now)

    result = potok_cli(database_url, "sourcing", "price-stock", "--horizon-days", "7")
    assert result.exit_code == 0, result.output
    assert "Stock priced: 1 position(s) of 1 product(s)" in result.stdout
    assert table_rows(result.stdout) == [["MSK", "KET", "186.67"]]

    bad = potok_cli(database_url, "sourcing", "price-stock", "--horizon-days", "0")
    assert bad.exit_code == 2
    assert "--horizon-days" in bad.output
