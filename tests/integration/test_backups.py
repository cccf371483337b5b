"""Backups on SQLite and PostgreSQL: a backup verifies, counts every table, is consistent
while Potok writes, is refused when damaged, and restores the data exactly.

PostgreSQL backups are verified in scratch databases that the code under test creates and
drops; every test checks that none is left behind. Restores replace the test database's
contents, which the ``potok`` fixture empties again for the next test.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from typer.testing import CliRunner, Result

from potok import backup
from potok.backup.archive import MANIFEST_NAME
from potok.backup.postgres import SCRATCH_PREFIX
from potok.bootstrap import Potok, bootstrap
from potok.cli.main import app
from potok.db import migrate
from potok.db.tables import audit_log, metadata, orders, products, stock
from potok.domain.orders.commands import CancelOrder
from potok.services import intake
from potok.services import orders as order_service
from potok.settings import get_settings
from tests.conftest import _ensure_postgres_database, _settings, empty_all_tables
from tests.factories import TESTER, build_world, order_command

# verification's scratch databases (potok_verify_<pid>_*) live on the server beside every
# worker's test database and other processes' scratch databases; each test checks that its own
# process left none behind
runner = CliRunner()
STOCK = {("MSK", "KET"): 40, ("SPB", "KET"): 10, ("MSK", "MUG"): 25, ("KZN", "TOY"): 8}


@pytest.fixture(autouse=True)
def _no_scratch_database_left(backend: str, request: pytest.FixtureRequest) -> Iterator[None]:
    """Verification creates its scratch databases on the test server: all must be gone."""
    if backend != "postgresql":
        yield
        return
    url: str = request.getfixturevalue("postgres_ready")
    before = _scratch_databases(url)
    yield
    assert _scratch_databases(url) - before == set()


def _scratch_databases(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            names = connection.execute(
                sa.text("SELECT datname FROM pg_database WHERE datname LIKE :ours"),
                {"ours": f"{SCRATCH_PREFIX}{os.getpid()}\\_%"},
            ).scalars()
            return set(names)
    finally:
        engine.dispose()


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


@pytest.fixture
def world(potok: Potok) -> Potok:
    """The test world with stock and three orders, one of them cancelled."""
    build_world(potok, STOCK)
    placed = [
        intake.place_order(potok.uow(), order_command([("KET", 2), ("MUG", 1)]), TESTER),
        intake.place_order(potok.uow(), order_command([("TOY", 1)], channel="phone"), TESTER),
        intake.place_order(potok.uow(), order_command([("KET", 1)], external_id="x-1"), TESTER),
    ]
    order_service.cancel_order(
        potok.uow(), CancelOrder(placed[1].order.id, reason="customer changed mind"), TESTER
    )
    return potok


def rows_of(potok: Potok, table: sa.Table) -> list[dict[str, Any]]:
    with potok.engine.connect() as connection:
        result = connection.execute(sa.select(table).order_by(*table.primary_key.columns))
        return [dict(row._mapping) for row in result]


def counts(potok: Potok) -> dict[str, int]:
    names = [t.name for t in metadata.sorted_tables] + ["alembic_version"]
    with potok.engine.connect() as connection:
        return {
            name: int(connection.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one())
            for name in names
        }


def rewrite_manifest(path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the backup whose manifest was edited (and the payload left as it was)."""
    target = path.with_name("edited-" + path.name)
    with tarfile.open(path) as source, tarfile.open(target, "w") as out:
        for member in source.getmembers():
            data = source.extractfile(member)
            assert data is not None
            content = data.read()
            if member.name == MANIFEST_NAME:
                document = json.loads(content)
                change(document)
                content = json.dumps(document).encode()
                member.size = len(content)
            out.addfile(member, io.BytesIO(content))
    return target


def flip_byte_in_payload(path: Path) -> None:
    """Change one byte in the middle of the database copy, as a failing disk would."""
    with tarfile.open(path) as tar:
        payload = next(m for m in tar.getmembers() if m.name != MANIFEST_NAME)
        where = payload.offset_data + payload.size // 2
    data = bytearray(path.read_bytes())
    data[where] ^= 0xFF
    path.write_bytes(bytes(data))


def potok_cli(url: str, *args: str) -> Result:
    return runner.invoke(app, ["--db", url, *args], env={"COLUMNS": "200"})


# ---------------------------------------------------------------------- create and verify


def test_a_backup_verifies_and_its_manifest_counts_every_table(
    world: Potok, backend: str, tmp_path: Path
) -> None:
    made = backup.create_backup(world.engine, tmp_path / "backups")

    assert made.path.parent == tmp_path / "backups"
    assert made.path.name.startswith(f"potok-{backend}-")
    assert made.path.name.endswith(".potok-backup")
    assert made.path.stat().st_mode & 0o077 == 0  # owner only: it holds password hashes
    manifest = made.manifest
    assert manifest.database == backend
    assert manifest.schema_revision == migrate.current_revision(world.engine)
    assert manifest.potok_version
    assert set(manifest.tables) == {t.name for t in metadata.sorted_tables} | {"alembic_version"}
    assert {name: s.rows for name, s in manifest.tables.items()} == counts(world)
    assert manifest.tables["orders"].rows == 3
    assert manifest.tables["products"].rows == 4
    assert manifest.tables["stock"].rows == len(STOCK)
    assert manifest.tables["audit_log"].rows > 0
    assert manifest.tables == backup.database_sums(world.engine)
    assert backup.read_manifest(made.path) == manifest

    verified = backup.verify_backup(made.path, server=world.engine)

    assert verified.ok, [(c.name, c.verdict) for c in verified.differing]
    assert [c.verdict for c in verified.checks] == ["ok"] * len(manifest.tables)


def test_two_backups_in_the_same_second_get_two_files(world: Potok, tmp_path: Path) -> None:
    moment = datetime(2026, 11, 25, 3, 15, tzinfo=UTC)
    out = tmp_path / "backups"
    first = backup.create_backup(world.engine, out, clock=lambda: moment)
    second = backup.create_backup(world.engine, out, clock=lambda: moment)

    assert first.path != second.path
    assert second.path.name.endswith("-2.potok-backup")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [first.path.name, second.path.name]
    )  # no temporary files left beside them


def test_a_backup_taken_while_potok_writes_is_consistent(
    world: Potok, backend: str, tmp_path: Path
) -> None:
    """Orders keep arriving during the backups; each backup's data matches its manifest,
    which would fail if the copy and the checksums saw different moments."""
    with world.engine.begin() as connection:  # plenty of stock for the writer
        connection.execute(sa.update(stock).values(on_hand=stock.c.on_hand + 10_000))
    stop = threading.Event()
    placed: list[int] = []
    failures: list[BaseException] = []

    def keep_ordering() -> None:
        try:
            while not stop.is_set():
                intake.place_order(world.uow(), order_command([("KET", 1)]), TESTER)
                placed.append(1)
        except BaseException as error:  # reported below
            failures.append(error)

    writer = threading.Thread(target=keep_ordering)
    writer.start()
    try:
        made = []
        for _ in range(3):
            made.append(backup.create_backup(world.engine, tmp_path / "backups"))
    finally:
        stop.set()
        writer.join(timeout=60)
    assert not failures, failures
    assert len(placed) > 0
    for item in made:
        verified = backup.verify_backup(item.path, server=world.engine)
        assert verified.ok, [(c.name, c.verdict) for c in verified.differing]
        assert 3 <= item.manifest.tables["orders"].rows <= 3 + len(placed)
    assert counts(world)["orders"] == 3 + len(placed)


# ---------------------------------------------------------------------- damaged backups


def test_a_backup_with_a_changed_byte_is_refused(world: Potok, tmp_path: Path) -> None:
    made = backup.create_backup(world.engine, tmp_path / "backups")
    flip_byte_in_payload(made.path)

    with pytest.raises(backup.DamagedBackup):
        backup.verify_backup(made.path, server=world.engine)
    with pytest.raises(backup.DamagedBackup):
        backup.restore_backup(made.path, world.engine)
    assert counts(world)["orders"] == 3  # nothing was touched


def test_a_cut_short_or_foreign_file_is_refused(world: Potok, tmp_path: Path) -> None:
    made = backup.create_backup(world.engine, tmp_path / "backups")
    cut = tmp_path / "cut.potok-backup"
    cut.write_bytes(made.path.read_bytes()[: made.path.stat().st_size // 2])
    foreign = tmp_path / "notes.potok-backup"
    foreign.write_text("not a backup\n")

    for path in (cut, foreign):
        with pytest.raises(backup.DamagedBackup):
            backup.verify_backup(path, server=world.engine)


def test_a_manifest_that_does_not_match_the_data_fails_verification(
    world: Potok, tmp_path: Path
) -> None:
    made = backup.create_backup(world.engine, tmp_path / "backups")

    def claim_more_orders(document: dict[str, Any]) -> None:
        document["tables"]["orders"]["rows"] += 1
        document["tables"]["products"]["sha256"] = "0" * 64

    edited = rewrite_manifest(made.path, claim_more_orders)
    verified = backup.verify_backup(edited, server=world.engine)

    assert not verified.ok
    assert {c.name: c.verdict for c in verified.differing} == {
        "orders": "differs",
        "products": "differs",
    }
    assert not next(c for c in verified.checks if c.name == "orders").rows_match


# ---------------------------------------------------------------------- restore


@pytest.mark.parametrize("before_restore", ["emptied", "changed"])
def test_a_restore_reproduces_the_data_exactly(
    world: Potok, tmp_path: Path, before_restore: str
) -> None:
    expected_orders = rows_of(world, orders)
    expected_products = rows_of(world, products)
    expected_audit = rows_of(world, audit_log)
    made = backup.create_backup(world.engine, tmp_path / "backups")

    if before_restore == "emptied":
        empty_all_tables(world)
    else:
        intake.place_order(world.uow(), order_command([("MUG", 2)]), TESTER)
        with world.engine.begin() as connection:
            connection.execute(sa.update(products).values(price=Decimal("1.00")))
    assert backup.database_sums(world.engine) != made.manifest.tables

    restored = backup.restore_backup(made.path, world.engine)

    assert restored.ok, [(c.name, c.verdict) for c in restored.differing]
    assert not restored.needs_upgrade
    assert backup.database_sums(world.engine) == made.manifest.tables
    assert rows_of(world, orders) == expected_orders
    assert rows_of(world, products) == expected_products
    assert rows_of(world, audit_log) == expected_audit
    assert expected_products[0]["price"] == Decimal("2490.00")
    # Potok goes on working on the restored database: ids continue, the trail stays sealed
    more = intake.place_order(world.uow(), order_command([("KET", 1)]), TESTER)
    assert int(more.order.id) > max(int(row["id"]) for row in expected_orders)
    with pytest.raises(sa.exc.DBAPIError), world.engine.begin() as connection:
        connection.execute(sa.delete(audit_log))


def test_a_backup_of_a_newer_schema_is_not_restored(world: Potok, tmp_path: Path) -> None:
    made = backup.create_backup(world.engine, tmp_path / "backups")

    def from_the_future(document: dict[str, Any]) -> None:
        document["schema_revision"] = "ffffffffffff"

    edited = rewrite_manifest(made.path, from_the_future)
    with world.engine.begin() as connection:
        connection.execute(sa.update(products).values(price=Decimal("1.00")))

    with pytest.raises(backup.UnsupportedBackup, match="newer"):
        backup.restore_backup(edited, world.engine)
    assert {row["price"] for row in rows_of(world, products)} == {Decimal("1.00")}


@pytest.fixture
def older_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of this backend for the test alone (dropped afterwards)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'older.db'}"
        return
    base = sa.engine.make_url(request.getfixturevalue("postgres_ready"))
    name = f"{base.database}_backup_older"
    url = base.set(database=name).render_as_string(hide_password=False)
    assert _ensure_postgres_database(url) is None
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    yield url
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_of_an_older_schema_is_restored_and_asks_for_an_upgrade(
    older_database: str, tmp_path: Path
) -> None:
    potok = bootstrap(_settings(older_database))
    try:
        script = ScriptDirectory.from_config(migrate.alembic_config(potok.engine))
        head = script.get_current_head()
        assert head is not None
        previous = script.get_revision(head).down_revision
        assert isinstance(previous, str)
        migrate.upgrade(potok.engine, previous)
        made = backup.create_backup(potok.engine, tmp_path)
        assert made.manifest.schema_revision == previous
        migrate.upgrade(potok.engine)

        restored = backup.restore_backup(made.path, potok.engine)

        assert restored.ok
        assert restored.needs_upgrade
        assert restored.head_revision == head
        assert migrate.current_revision(potok.engine) == previous
        migrate.upgrade(potok.engine)
        assert migrate.current_revision(potok.engine) == head
    finally:
        potok.close()


def test_a_backup_is_restored_only_into_its_own_kind_of_database(
    world: Potok, backend: str, tmp_path: Path
) -> None:
    made = backup.create_backup(world.engine, tmp_path / "backups")
    other = "postgresql" if backend == "sqlite" else "sqlite"

    def of_the_other_kind(document: dict[str, Any]) -> None:
        document["database"] = other

    edited = rewrite_manifest(made.path, of_the_other_kind)
    with pytest.raises(backup.UnsupportedBackup, match=other):
        backup.restore_backup(edited, world.engine)


# ---------------------------------------------------------------------- the command line


def test_the_command_line_creates_verifies_and_restores(
    world: Potok, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "backups"
    created = potok_cli(database_url, "backup", "create", "--output", str(out))
    assert created.exit_code == 0, created.output
    [file] = list(out.iterdir())
    assert "backup written" in created.output

    verified = potok_cli(database_url, "backup", "verify", str(file))
    assert verified.exit_code == 0, verified.output
    assert "backup verified" in verified.output
    assert "orders" in verified.output

    expected = rows_of(world, orders)
    intake.place_order(world.uow(), order_command([("MUG", 1)]), TESTER)

    refused = potok_cli(database_url, "backup", "restore", str(file))
    assert refused.exit_code == 2
    assert "--yes" in refused.output
    assert len(rows_of(world, orders)) == len(expected) + 1  # untouched

    restored = potok_cli(database_url, "backup", "restore", str(file), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "tables match" in restored.output
    assert rows_of(world, orders) == expected


def test_the_command_line_reports_a_damaged_backup(
    world: Potok, database_url: str, tmp_path: Path
) -> None:
    made = backup.create_backup(world.engine, tmp_path / "backups")
    flip_byte_in_payload(made.path)

    result = potok_cli(database_url, "backup", "verify", str(made.path))

    assert result.exit_code == 3, result.output
    assert "damaged" in result.output
    assert "Traceback" not in result.output


def test_the_command_line_fails_verification_when_tables_differ(
    world: Potok, database_url: str, tmp_path: Path
) -> None:
    made = backup.create_backup(world.engine, tmp_path / "backups")

    def claim_more_orders(document: dict[str, Any]) -> None:
        document["tables"]["orders"]["rows"] += 1

    edited = rewrite_manifest(made.path, claim_more_orders)
    result = potok_cli(database_url, "backup", "verify", str(edited))

    assert result.exit_code == 1, result.output
    assert "differs" in result.output
