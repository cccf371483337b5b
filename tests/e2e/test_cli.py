"""The ``potok`` command line through typer's CliRunner: schema, sandbox, stock files,
reconciliation, order lists and the timed jobs, on SQLite and PostgreSQL.

Every invocation names its database with ``--db``; the sandbox (``demo``) runs only on
fresh SQLite files, since ``--fresh`` would drop the shared PostgreSQL test schema.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok, bootstrap
from potok.cli.main import app
from potok.db.tables import metadata, products
from potok.domain.kernel import utc_now
from potok.domain.orders import HoldType
from potok.domain.orders.commands import CancelOrder, PlaceHold
from potok.services import intake
from potok.services import orders as order_service
from potok.settings import get_settings
from tests.conftest import _settings
from tests.factories import MOSCOW, TESTER, build_world, order_command
from tests.invariants import assert_shipment_invariants, assert_stock_invariants

runner = CliRunner()


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


def potok_cli(url: str, *args: str) -> Result:
    """Run ``potok --db URL ARGS...`` wide enough that tables are not wrapped."""
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "200"})


def table_rows(text: str) -> list[list[str]]:
    """The body rows of every table in ``text``, as lists of stripped cells."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def open_potok(url: str) -> Potok:
    return bootstrap(_settings(url))


def place(potok: Potok, lines: list[tuple[str, int]], **extra: Any) -> int:
    result = intake.place_order(potok.uow(), order_command(lines, **extra), TESTER)
    assert isinstance(result, intake.Placement)
    assert result.order.id is not None
    return result.order.id


def levels(potok: Potok) -> dict[tuple[str, str], int]:
    with potok.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT w.code, p.sku, s.on_hand FROM stock s "
                "JOIN warehouses w ON w.id = s.warehouse_id "
                "JOIN products p ON p.id = s.product_id"
            )
        ).all()
    return {(code, sku): on_hand for code, sku, on_hand in rows if on_hand}


def import_movements(potok: Potok) -> list[tuple[str, str, int, str | None]]:
    with potok.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT w.code, p.sku, m.quantity, m.reference FROM stock_movements m "
                "JOIN stock s ON s.id = m.stock_id "
                "JOIN warehouses w ON w.id = s.warehouse_id "
                "JOIN products p ON p.id = s.product_id "
                "WHERE m.type = 'import' ORDER BY w.code, p.sku"
            )
        ).all()
    return [(code, sku, quantity, reference) for code, sku, quantity, reference in rows]


def order_statuses(url: str) -> Counter[str]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT status, COUNT(*) FROM orders GROUP BY status"))
        counts = Counter({status: int(count) for status, count in rows})
    engine.dispose()
    return counts


def scalar(url: str, query: str) -> Any:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        value = connection.execute(sa.text(query)).scalar_one()
    engine.dispose()
    return value


# ---------------------------------------------------------------------- db


def test_db_upgrade_creates_the_schema_in_a_new_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "potok.db"
    path.parent.mkdir()
    url = sqlite_url(path)

    upgraded = potok_cli(url, "db", "upgrade")

    assert upgraded.exit_code == 0, upgraded.output
    assert path.exists()
    engine = sa.create_engine(url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert set(metadata.tables) <= tables
    assert potok_cli(url, "db", "current").exit_code == 0
    check = potok_cli(url, "db", "check")
    assert check.exit_code == 0, check.output
    assert "drift" not in check.stderr


def test_db_current_fails_on_a_database_that_was_never_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()  # a file with no tables, as an interrupted setup leaves it

    result = potok_cli(sqlite_url(path), "db", "current")

    assert result.exit_code == 1
    assert "empty" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ("db", "current"),
        ("db", "check"),
        ("stock", "reconcile"),
        ("orders", "list"),
        ("users", "reset-password", "admin"),
        ("keys", "list", "--output", "json"),
        ("backup", "create"),
    ],
    ids=" ".join,
)
def test_a_command_on_a_missing_sqlite_file_exits_6_and_creates_nothing(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    path = tmp_path / "potok.db"

    result = potok_cli(sqlite_url(path), *command)

    assert result.exit_code == 6, result.output
    assert "no database" in result.stderr
    assert "potok db upgrade" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_db_current_and_check_pass_on_a_migrated_database(database_url: str) -> None:
    current = potok_cli(database_url, "db", "current")
    check = potok_cli(database_url, "db", "check")

    assert current.exit_code == 0, current.output
    assert check.exit_code == 0, check.output


def test_db_check_reports_a_column_added_by_hand(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "potok.db")
    assert potok_cli(url, "db", "upgrade").exit_code == 0
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE products ADD COLUMN colour VARCHAR(20)"))
    engine.dispose()

    result = potok_cli(url, "db", "check")

    assert result.exit_code == 1
    assert "colour" in result.stderr


def test_a_command_on_a_database_without_the_schema_asks_for_db_upgrade(tmp_path: Path) -> None:
    result = potok_cli(sqlite_url(tmp_path / "never-upgraded.db"), "stock", "reconcile")

    assert result.exit_code != 0
    assert "db upgrade" in result.stderr


@pytest.mark.parametrize("where", ["missing-directory", "closed-port"])
def test_db_upgrade_of_an_unreachable_database_exits_6_without_a_traceback(
    tmp_path: Path, where: str
) -> None:
    url = {
        "missing-directory": sqlite_url(tmp_path / "missing" / "potok.db"),
        "closed-port": "postgresql://postgres@127.0.0.1:1/potok",
    }[where]

    result = potok_cli(url, "db", "upgrade")

    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 6
    assert "cannot be reached" in result.stderr


# ---------------------------------------------------------------------- demo (SQLite only)


def test_demo_builds_a_sandbox_that_reconciles(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "sandbox.db")

    result = potok_cli(
        url, "demo", "--no-serve", "--orders", "40", "--seed", "3", "--history-days", "0"
    )

    assert result.exit_code == 0, result.output
    orders_table, _, shipments_table = result.stdout.partition("shipment status")
    shipments_table, _, returns_table = shipments_table.partition("return made")
    printed = Counter({row[0]: int(row[1]) for row in table_rows(orders_table)})
    statuses = order_statuses(url)
    assert printed == statuses
    assert len(statuses) >= 2, statuses
    assert 0 < statuses.total() <= 41  # at most 40 placed, and one exchange's replacement
    assert scalar(url, "SELECT COUNT(*) FROM channels") == 4
    shipped = Counter({row[0]: int(row[1]) for row in table_rows(shipments_table)})
    with sa.create_engine(url).connect() as connection:
        stored = Counter(
            dict(
                connection.execute(
                    sa.text("SELECT status, COUNT(*) FROM shipments GROUP BY status")
                ).all()
            )
        )
    assert shipped == stored
    assert shipped["delivered"] > 0, shipped  # the warehouses worked and the carrier delivered
    returned = Counter({row[0]: int(row[1]) for row in table_rows(returns_table)})
    assert returned["requested"] == returned["closed"] == returned["exchanged"] == 1, returned
    # the customers' messages, written beside the database as they would read them
    log = tmp_path / "sandbox-messages.log"
    heads = re.findall(r"^=== .+ · (email|sms) · to (\S+) · (ru|en)/(\w+)$", log.read_text(), re.M)
    assert f"{len(heads)} customer messages sent to {log}" in " ".join(result.stdout.split())
    topics = Counter(topic for medium, _, _, topic in heads if medium == "email")
    assert topics["order_accepted"] > 0, topics
    assert topics["return_received"] > 0, topics
    assert Counter(medium for medium, _, _, _ in heads)["sms"] > 0
    assert all(re.fullmatch(r"\w\*\*\*@\S+|\+\d{4}\*+\d\d", to) for _, to, _, _ in heads)
    reconcile = potok_cli(url, "stock", "reconcile")
    assert reconcile.exit_code == 0, reconcile.output
    assert "no drift" in reconcile.stdout
    potok = open_potok(url)
    try:
        assert_stock_invariants(potok)
        assert_shipment_invariants(potok)
    finally:
        potok.close()


def test_the_default_demo_shows_orders_in_every_stage_of_fulfilment(tmp_path: Path) -> None:
    """What `potok demo` builds as it is (300 orders, seed 7): orders in fulfilment,
    partially shipped, shipped, delivered; shipments at a pickup point and failed to be
    delivered; every identifier a product may need captured at packing."""
    url = sqlite_url(tmp_path / "sandbox.db")

    result = potok_cli(url, "demo", "--no-serve")

    assert result.exit_code == 0, result.output
    orders_table, _, shipments_table = result.stdout.partition("shipment status")
    shipments_table = shipments_table.partition("return made")[0]
    orders = {row[0] for row in table_rows(orders_table)}
    shipments = {row[0] for row in table_rows(shipments_table)}
    assert {"in_fulfilment", "partially_shipped", "shipped", "delivered"} <= orders, orders
    assert {
        "picking",
        "packed",
        "in_transit",
        "ready_for_pickup",
        "delivered",
        "failed_delivery",
        "returning",
        "returned_to_sender",
    } <= shipments, shipments
    kinds = scalar(url, "SELECT COUNT(DISTINCT kind) FROM shipment_codes")
    assert kinds == 3  # marking codes, IMEI and UIN
    reconcile = potok_cli(url, "stock", "reconcile")
    assert "no drift" in reconcile.stdout
    # and the year before the fortnight: its orders, stock moves and the reports' facts
    past = re.search(
        r"history from (\S+) to (\S+): (\d+) orders \((\d+) cancelled, (\d+) returned\), "
        r"(\d+) stock movements",
        " ".join(result.stdout.split()),
    )
    assert past is not None, result.stdout
    first, last = date.fromisoformat(past[1]), date.fromisoformat(past[2])
    assert (last - first).days >= 345
    assert int(past[3]) > 4000
    assert int(past[4]) > 0
    assert int(past[5]) > 0
    assert scalar(url, "SELECT COUNT(*) FROM orders") > int(past[3])
    facts = scalar(url, "SELECT COUNT(*) FROM order_facts")
    assert facts == scalar(url, "SELECT COUNT(*) FROM orders")  # the fortnight's by reactions
    potok = open_potok(url)
    try:
        assert_stock_invariants(potok)
        assert_shipment_invariants(potok)
    finally:
        potok.close()


def test_the_demo_serves_afterwards_with_every_option_of_serve_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo` serves after the sandbox is built: the demo calls `potok serve`'s function
    itself, so an option it leaves out would arrive as typer's OptionInfo, not its default
    (a new --wait-for-database once broke the README's first command so)."""
    import inspect

    from potok.cli import demo, serve

    given: dict[str, Any] = {}
    monkeypatch.setattr(demo, "serve_api", lambda **options: given.update(options))
    url = sqlite_url(tmp_path / "potok-demo.db")

    result = potok_cli(url, "demo", "--orders", "0", "--history-days", "0", "--port", "8123")

    assert result.exit_code == 0, result.output
    assert set(given) == set(inspect.signature(serve.serve).parameters)
    assert given["port"] == 8123
    assert given["wait_for_database"] == 60.0


def test_a_second_demo_names_its_database_in_the_hint_and_the_hint_works_as_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqlite_url(tmp_path / "potok-demo.db")
    assert (
        potok_cli(url, "demo", "--no-serve", "--orders", "5", "--history-days", "0").exit_code == 0
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # where an operator might be when they paste it

    again = potok_cli(url, "demo", "--no-serve")
    hint = " ".join(again.stdout.split())
    printed = f"potok --db {url} users reset-password admin"

    assert again.exit_code == 0, again.output
    assert printed in hint
    assert f"potok --db {url} keys create" in hint
    reset = runner.invoke(app, printed.split()[1:])
    assert reset.exit_code == 0, reset.output
    assert "one-time password" in reset.stdout
    assert list(elsewhere.iterdir()) == []  # no potok.db (nor anything else) left here


def test_demo_keeps_an_existing_sandbox_and_fresh_rebuilds_it(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "sandbox.db")
    assert (
        potok_cli(
            url, "demo", "--no-serve", "--orders", "40", "--seed", "3", "--history-days", "0"
        ).exit_code
        == 0
    )
    first = order_statuses(url)

    again = potok_cli(
        url, "demo", "--no-serve", "--orders", "5", "--seed", "9", "--history-days", "0"
    )

    assert again.exit_code == 0, again.output
    assert "already has data" in again.stdout
    assert order_statuses(url) == first

    fresh = potok_cli(
        url, "demo", "--fresh", "--no-serve", "--orders", "5", "--seed", "9", "--history-days", "0"
    )

    assert fresh.exit_code == 0, fresh.output
    rebuilt = order_statuses(url)
    printed = fresh.stdout.partition("shipment status")[0]
    assert rebuilt == Counter({row[0]: int(row[1]) for row in table_rows(printed)})
    assert 0 < rebuilt.total() <= 5
    assert scalar(url, "SELECT MAX(id) FROM orders") <= 5  # a new file: numbering restarted
    assert scalar(url, "SELECT COUNT(*) FROM channels") == 4


def test_the_same_seed_builds_the_same_sandbox(tmp_path: Path) -> None:
    urls = [sqlite_url(tmp_path / f"sandbox-{n}.db") for n in (1, 2)]
    for url in urls:
        assert (
            potok_cli(
                url, "demo", "--no-serve", "--orders", "20", "--seed", "11", "--history-days", "0"
            ).exit_code
            == 0
        )

    def orders(url: str) -> list[tuple[Any, ...]]:
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            rows = connection.execute(
                # names are sealed with a fresh nonce each time: their keyed hashes compare
                sa.text("SELECT external_id, status, customer_name_hash FROM orders ORDER BY id")
            ).all()
        engine.dispose()
        return [tuple(row) for row in rows]

    assert orders(urls[0]) == orders(urls[1])
    assert orders(urls[0])


# ---------------------------------------------------------------------- stock import


def write_csv(tmp_path: Path, text: str, name: str = "levels.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BAD_FILE = """warehouse,sku,on_hand
MSK,KET,10
NOWHERE,KET,5
MSK,NOPE,5
SPB,MUG,many
MSK,KET,11
SPB,TOY
SPB,BKS,8
"""
BAD_LINES = {3, 4, 5, 6, 7}


def test_stock_import_sets_levels_and_writes_import_movements(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "MUG"): 5})
    file = write_csv(tmp_path, "warehouse,sku,on_hand\nMSK,KET,10\nSPB,MUG,5\nKZN,TOY,7\n")

    result = potok_cli(database_url, "stock", "import", str(file))

    assert result.exit_code == 0, result.output
    assert levels(potok) == {("MSK", "KET"): 10, ("SPB", "MUG"): 5, ("KZN", "TOY"): 7}
    assert import_movements(potok) == [
        ("KZN", "TOY", 7, "levels.csv"),
        ("MSK", "KET", 7, "levels.csv"),
    ]
    assert_stock_invariants(potok)


def test_stock_import_reads_columns_in_any_order_with_a_bom(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    file = write_csv(tmp_path, "\ufeffSKU, Warehouse ,On_Hand\r\nKET,MSK,4\r\n\r\nMUG,SPB,2\r\n")

    result = potok_cli(database_url, "stock", "import", str(file))

    assert result.exit_code == 0, result.output
    assert levels(potok) == {("MSK", "KET"): 4, ("SPB", "MUG"): 2}


def test_stock_import_with_bad_rows_names_each_line_and_imports_nothing(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    file = write_csv(tmp_path, BAD_FILE)

    result = potok_cli(database_url, "stock", "import", str(file))

    assert result.exit_code == 3, result.output
    assert {int(row[0]) for row in table_rows(result.stderr)} == BAD_LINES
    assert levels(potok) == {("MSK", "KET"): 3}
    assert import_movements(potok) == []


def test_stock_import_skip_bad_imports_the_good_rows_and_still_exits_3(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    file = write_csv(tmp_path, BAD_FILE)

    result = potok_cli(database_url, "stock", "import", "--skip-bad", str(file))

    assert result.exit_code == 3, result.output
    assert {int(row[0]) for row in table_rows(result.stderr)} == BAD_LINES
    assert levels(potok) == {("MSK", "KET"): 10, ("SPB", "BKS"): 8}
    assert [(w, s, q) for w, s, q, _ in import_movements(potok)] == [
        ("MSK", "KET", 7),
        ("SPB", "BKS", 8),
    ]
    assert_stock_invariants(potok)


@pytest.mark.parametrize(
    "text",
    ["warehouse,product,qty\nMSK,KET,1\n", "sku,on_hand\nKET,1\n", ""],
    ids=["wrong-names", "missing-warehouse", "empty-file"],
)
def test_stock_import_with_a_bad_header_names_the_needed_columns(
    potok: Potok, database_url: str, tmp_path: Path, text: str
) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    file = write_csv(tmp_path, text)

    result = potok_cli(database_url, "stock", "import", str(file))

    assert result.exit_code == 3, result.output
    assert "warehouse,sku,on_hand" in result.stderr
    assert "Traceback" not in result.output
    assert levels(potok) == {("MSK", "KET"): 3}


def test_stock_import_refuses_a_row_whose_expected_on_hand_is_stale(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "MUG"): 1})
    file = write_csv(tmp_path, "warehouse,sku,on_hand,expected_on_hand\nSPB,MUG,6,1\nMSK,KET,9,2\n")

    result = potok_cli(database_url, "stock", "import", str(file))

    assert result.exit_code == 3, result.output
    assert {int(row[0]) for row in table_rows(result.stderr)} == {3}
    assert levels(potok) == {("MSK", "KET"): 3, ("SPB", "MUG"): 1}
    assert import_movements(potok) == []


def test_a_bad_row_after_a_cell_spanning_two_lines_is_named_by_its_line_in_the_file(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok, {("MSK", "KET"): 3})
    file = write_csv(
        tmp_path,
        'warehouse,sku,on_hand,comment\nMSK,KET,4,"counted twice\nby the night shift"\n'
        "MSK,MUG,lots,\n",
    )

    result = potok_cli(database_url, "stock", "import", str(file))

    assert result.exit_code == 3, result.output
    assert {int(row[0]) for row in table_rows(result.stderr)} == {4}


@pytest.mark.slow
def test_stock_import_of_a_file_bigger_than_one_chunk_imports_every_row(
    potok: Potok, database_url: str, tmp_path: Path
) -> None:
    build_world(potok)
    count = 4000
    now = utc_now()
    with potok.engine.begin() as connection:
        connection.execute(
            sa.insert(products),
            [
                {
                    "sku": f"BULK-{n:05d}",
                    "name": f"Bulk item {n}",
                    "price": Decimal("100.00"),
                    "vat_rate": Decimal("22"),
                    "weight_g": 100,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )
    rows = [
        (warehouse, f"BULK-{n:05d}", 1 + (n + i) % 97)
        for i, warehouse in enumerate(("MSK", "SPB", "KZN"))
        for n in range(count)
    ]
    assert len(rows) == 12_000
    body = "".join(f"{w},{s},{q}\n" for w, s, q in rows)
    file = write_csv(tmp_path, "warehouse,sku,on_hand\n" + body)

    result = potok_cli(database_url, "stock", "import", str(file))

    assert result.exit_code == 0, result.output
    assert levels(potok) == {(w, s): q for w, s, q in rows}
    assert len(import_movements(potok)) == 12_000
    assert_stock_invariants(potok)


def test_stock_levels_shows_positions(potok: Potok, database_url: str) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("SPB", "KET"): 2, ("SPB", "MUG"): 4})
    place(potok, [("KET", 2)], to=MOSCOW)

    result = potok_cli(database_url, "stock", "levels", "--sku", "KET")

    assert result.exit_code == 0, result.output
    assert sorted(table_rows(result.stdout)) == [  # no lot, no expiry, nothing unavailable
        ["MSK", "KET", "", "", "5", "2", "0", "3"],
        ["SPB", "KET", "", "", "2", "0", "0", "2"],
    ]


# ---------------------------------------------------------------------- stock reconcile


def test_stock_reconcile_finds_no_drift_in_a_consistent_database(
    potok: Potok, database_url: str
) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("SPB", "MUG"): 3})
    place(potok, [("KET", 2), ("MUG", 1)])

    result = potok_cli(database_url, "stock", "reconcile")

    assert result.exit_code == 0, result.output
    assert "no drift" in result.stdout


@pytest.mark.parametrize(
    ("update", "drift_column", "drift"),
    [("on_hand = on_hand + 5", 4, "+5"), ("reserved = reserved - 1", 7, "-1")],
    ids=["on_hand", "reserved"],
)
def test_stock_reconcile_lists_a_position_changed_behind_potoks_back(
    potok: Potok, database_url: str, update: str, drift_column: int, drift: str
) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("SPB", "MUG"): 3})
    place(potok, [("KET", 2)], to=MOSCOW)
    with potok.engine.begin() as connection:
        connection.execute(
            sa.text(
                f"UPDATE stock SET {update} "
                "WHERE product_id = (SELECT id FROM products WHERE sku = 'KET')"
            )
        )

    result = potok_cli(database_url, "stock", "reconcile")

    assert result.exit_code == 1, result.output
    rows = table_rows(result.stdout)
    assert len(rows) == 1, rows
    assert rows[0][:2] == ["MSK", "KET"]
    assert rows[0][drift_column] == drift


# ---------------------------------------------------------------------- orders


def test_orders_list_finds_orders_by_phone_and_by_status(potok: Potok, database_url: str) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("SPB", "MUG"): 5})
    anna = place(potok, [("KET", 1)], customer_name="Анна", customer_phone="+7 916 123-45-67")
    boris = place(potok, [("MUG", 1)], customer_name="Борис", customer_phone="+7 903 555-00-11")
    vera = place(potok, [("TOY", 2)], customer_name="Вера", customer_phone="+7 926 000-11-22")

    everyone = potok_cli(database_url, "orders", "list")
    by_phone = potok_cli(database_url, "orders", "list", "--search", "8 (916) 123 45 67")
    waiting = potok_cli(database_url, "orders", "list", "--status", "backordered")

    for result in (everyone, by_phone, waiting):
        assert result.exit_code == 0, result.output
    assert [int(r[0]) for r in table_rows(everyone.stdout)] == [vera, boris, anna]
    assert [(int(r[0]), r[5]) for r in table_rows(by_phone.stdout)] == [(anna, "Анна")]
    assert [(int(r[0]), r[3]) for r in table_rows(waiting.stdout)] == [(vera, "backordered")]


def test_orders_show_prints_lines_reservations_and_history(potok: Potok, database_url: str) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("MSK", "MUG"): 5})
    order_id = place(potok, [("KET", 1), ("MUG", 2)], to=MOSCOW)
    order_service.cancel_order(
        potok.uow(), CancelOrder(order_id, "the customer changed their mind"), TESTER
    )

    result = potok_cli(database_url, "orders", "show", str(order_id))

    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert ["1", "KET", "Kettle", "1", "2490.00", "0"] in rows
    assert ["2", "MUG", "Mug", "2", "390.00", "0"] in rows
    assert ["1", "MSK", "KET", "1", "released"] in rows
    history = [r for r in rows if len(r) == 5 and "→" in r[3]]
    assert [r[2] for r in history] == ["created", "confirmed", "reserved", "cancelled"]
    assert history[-1][4] == "the customer changed their mind"


def test_orders_show_of_an_unknown_order_exits_4_with_a_plain_error(
    potok: Potok, database_url: str
) -> None:
    build_world(potok)

    result = potok_cli(database_url, "orders", "show", "999")

    assert result.exit_code == 4
    assert "999" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_orders_expire_cancels_overdue_unpaid_orders_and_ends_timed_holds(
    potok: Potok, database_url: str
) -> None:
    build_world(potok, {("MSK", "KET"): 1})
    hour_ago = utc_now() - timedelta(hours=1)
    unpaid = intake.place_order(
        potok.uow(), order_command([("KET", 1)], channel="app"), TESTER, clock=lambda: hour_ago
    )
    assert isinstance(unpaid, intake.Placement)
    waiting = place(potok, [("KET", 1)])
    held = place(potok, [("MUG", 1)])
    order_service.place_hold(
        potok.uow(),
        PlaceHold(held, HoldType.ADDRESS, "call to check", expires_at=hour_ago),
        TESTER,
        clock=lambda: hour_ago - timedelta(minutes=5),
    )

    result = potok_cli(database_url, "orders", "expire")

    assert result.exit_code == 0, result.output
    assert "expired 1 unpaid orders and 1 holds" in result.stdout
    assert unpaid.order.id is not None
    assert order_service.get_order(potok.uow(), unpaid.order.id).order.status == "cancelled"
    assert order_service.get_order(potok.uow(), waiting).order.status == "reserved"
    held_order = order_service.get_order(potok.uow(), held).order
    assert [h.state.value for h in held_order.holds] == ["expired"]
    assert_stock_invariants(potok)


# ---------------------------------------------------------------------- settings


@pytest.mark.parametrize("url", ["mysql://x", "oracle://scott@db/orcl", "potok.db"])
def test_an_unsupported_database_url_exits_2_and_says_what_to_use(url: str) -> None:
    result = potok_cli(url, "stock", "reconcile")

    assert result.exit_code == 2
    assert "sqlite:///" in result.stderr
    assert "postgresql://" in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
