"""Alembic owns the schema: an empty database upgrades to head, matches the tables in code
exactly, and downgrades back to nothing - on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from potok.bootstrap import bootstrap
from potok.db import migrate
from potok.db.tables import metadata
from tests.conftest import _ensure_postgres_database, _settings


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    base = sa.engine.make_url(request.getfixturevalue("postgres_ready"))
    url = base.set(database=f"{base.database}_migrations").render_as_string(hide_password=False)
    problem = _ensure_postgres_database(url)
    assert problem is None, problem
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def test_an_empty_database_upgrades_to_exactly_the_schema_in_code(empty_database: str) -> None:
    potok = bootstrap(_settings(empty_database))
    try:
        assert migrate.current_revision(potok.engine) is None
        migrate.upgrade(potok.engine)
        assert migrate.current_revision(potok.engine) == migrate.head_revision(potok.engine)
        assert migrate.schema_drift(potok.engine) == []
        tables = set(sa.inspect(potok.engine).get_table_names())
        assert {t.name for t in metadata.sorted_tables} <= tables
    finally:
        potok.close()


def test_downgrading_to_base_removes_every_table_and_upgrading_again_works(
    empty_database: str,
) -> None:
    potok = bootstrap(_settings(empty_database))
    try:
        migrate.upgrade(potok.engine)
        migrate.downgrade(potok.engine, "base")
        left = set(sa.inspect(potok.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        migrate.upgrade(potok.engine)
        assert migrate.schema_drift(potok.engine) == []
    finally:
        potok.close()


def test_the_stock_invariants_are_check_constraints_in_the_database(empty_database: str) -> None:
    potok = bootstrap(_settings(empty_database))
    try:
        migrate.upgrade(potok.engine)
        checks = {c["name"] for c in sa.inspect(potok.engine).get_check_constraints("stock")}
        assert {
            "ck_stock_on_hand_not_negative",
            "ck_stock_reserved_not_negative",
            "ck_stock_reserved_within_on_hand",
        } <= checks
    finally:
        potok.close()


def test_the_database_itself_refuses_reserving_more_than_is_on_hand(empty_database: str) -> None:
    """The second line of defence: even a statement that skips the code's guards fails."""
    potok = bootstrap(_settings(empty_database))
    try:
        migrate.upgrade(potok.engine)
        now = "2026-01-01 00:00:00"
        with potok.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO warehouses (code, name, type, city, address, latitude, "
                    "longitude, priority, active, created_at, updated_at) VALUES "
                    f"('W', 'W', 'warehouse', 'C', '', 55, 37, 0, true, '{now}', '{now}')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO products (sku, name, price, vat_rate, weight_g, active, "
                    f"created_at, updated_at) VALUES ('S', 'S', 100, 22, 0, true, '{now}', '{now}')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO stock (warehouse_id, product_id, on_hand, reserved, updated_at) "
                    f"VALUES (1, 1, 3, 0, '{now}')"
                )
            )
        with pytest.raises(sa.exc.IntegrityError), potok.engine.begin() as connection:
            connection.execute(sa.text("UPDATE stock SET reserved = on_hand + 1"))
        with pytest.raises(sa.exc.IntegrityError), potok.engine.begin() as connection:
            connection.execute(sa.text("UPDATE stock SET on_hand = -1, reserved = 0"))
    finally:
        potok.close()


def test_alerts_raised_before_locations_were_recorded_get_theirs_from_their_subject(
    empty_database: str,
) -> None:
    from datetime import UTC, datetime

    from potok.services import catalogue
    from tests.factories import CHANNELS, WAREHOUSES

    potok = bootstrap(_settings(empty_database))
    try:
        migrate.upgrade(potok.engine, "5e1f0c0de801")
        with potok.engine.begin() as connection:  # today's code reads columns added since
            for channel in CHANNELS:
                connection.execute(
                    sa.text(
                        "INSERT INTO channels (code, name, type, currency, confirmation, "
                        "backorders, created_at, updated_at) VALUES (:code, :name, :type, "
                        "'RUB', 'auto', 'backorder', :at, :at)"
                    ),
                    {
                        "code": channel.code,
                        "name": channel.name,
                        "type": channel.type.value,
                        "at": datetime(2026, 12, 1, tzinfo=UTC),
                    },
                )
        catalogue.create_warehouse(potok.uow(), WAREHOUSES[0])  # MSK
        with potok.engine.begin() as connection:
            for subject in ("MSK (tariffs 3)", "GONE-1 (tariffs 3)"):
                connection.execute(
                    sa.text(
                        "INSERT INTO operator_alerts (raised_at, kind, message, subject) "
                        "VALUES (:at, 'location_ships_without_tariff', 'm', :subject)"
                    ),
                    {"at": datetime(2026, 12, 1, tzinfo=UTC), "subject": subject},
                )

        migrate.upgrade(potok.engine)

        with potok.engine.connect() as connection:
            found = connection.execute(
                sa.text(
                    "SELECT a.subject, w.code FROM operator_alerts a "
                    "LEFT JOIN warehouses w ON w.id = a.warehouse_id ORDER BY a.id"
                )
            ).all()
        assert [tuple(r) for r in found] == [
            ("MSK (tariffs 3)", "MSK"),
            ("GONE-1 (tariffs 3)", None),
        ]
    finally:
        potok.close()
