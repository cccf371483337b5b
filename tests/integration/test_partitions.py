"""PostgreSQL's monthly partitions of the append-only tables: every write lands in its
month, reads see every month, a row of a month not made yet waits in the default
partition and moves when its month is made, old months are dropped per retention, the
audit trail stays append-only - and ``potok db partitions`` does it by hand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from potok.bootstrap import Potok
from potok.cli.main import app
from potok.db import partitions
from potok.db.tables import audit_log, order_history, sourcing_decisions, stock_movements
from potok.services import intake
from potok.services import orders as order_service
from potok.settings import get_settings
from tests.factories import TESTER, build_world, order_command

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])

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


def where(potok: Potok, table: sa.Table) -> dict[str, int]:
    """How many rows each partition of ``table`` holds."""
    with potok.engine.connect() as look:
        rows = look.execute(
            sa.select(sa.literal_column("tableoid::regclass::text").label("part"), sa.func.count())
            .select_from(table)
            .group_by(sa.literal_column("tableoid"))
        )
        return {r[0]: int(r[1]) for r in rows}


def audit_row(at: datetime, entity: str) -> dict[str, object]:
    return {
        "occurred_at": at,
        "actor": "user:tester",
        "via": "cli",
        "action": "test.written",
        "entity_type": "test",
        "entity_id": entity,
    }


def test_writes_land_in_their_month_and_reads_see_them(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 5})
    placed = intake.place_order(potok.uow(), order_command([("KET", 2)]), TESTER)
    order_id = placed.order.id  # type: ignore[union-attr]
    month = partitions.month_start(datetime.now(UTC).date())

    for table in (order_history, audit_log, stock_movements, sourcing_decisions):
        counts = where(potok, table)
        assert set(counts) == {partitions.partition_name(table.name, month)}, table.name
    view = order_service.get_order(potok.uow(), order_id)
    assert [h.action for h in view.history][:1] == ["created"]
    with potok.engine.connect() as look:
        assert partitions.is_partitioned(look, "order_history")
        assert not partitions.is_partitioned(look, "orders")


def test_a_row_of_a_month_not_made_yet_waits_in_the_default_and_moves_when_it_is(
    potok: Potok,
) -> None:
    far = date(2031, 5, 1)
    with potok.engine.begin() as connection:
        connection.execute(
            sa.insert(audit_log),
            [
                audit_row(datetime(2031, 5, 17, 12, tzinfo=UTC), "far"),
                audit_row(datetime.now(UTC), "now"),
            ],
        )
    assert where(potok, audit_log)["audit_log_default"] == 1

    with potok.engine.begin() as connection:
        assert partitions.create_month(connection, "audit_log", far)
        assert not partitions.create_month(connection, "audit_log", far)  # made once
    counts = where(potok, audit_log)
    assert counts.get("audit_log_default") is None
    assert counts["audit_log_2031_05"] == 1
    with potok.engine.connect() as look:
        assert look.execute(
            sa.select(audit_log.c.entity_id).where(
                audit_log.c.occurred_at >= datetime(2031, 5, 1, tzinfo=UTC)
            )
        ).scalars().all() == ["far"]
    # the audit trail is still append-only, in the moved month too
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), potok.engine.begin() as c:
        c.execute(sa.update(audit_log).where(audit_log.c.entity_id == "far").values(actor="x"))


def test_months_are_made_ahead_and_old_ones_dropped_per_retention(potok: Potok) -> None:
    today = date(2027, 3, 10)
    old = datetime(2026, 10, 3, tzinfo=UTC)
    with potok.engine.begin() as connection:
        partitions.create_month(connection, "audit_log", date(2026, 10, 1))
        partitions.create_month(connection, "order_history", date(2026, 10, 1))
        connection.execute(sa.insert(audit_log), [audit_row(old, "old")])

    made, dropped = partitions.maintain(
        potok.engine, today, ahead=2, keep={"audit_log": 3, "order_history": 0}
    )

    assert {"audit_log_2027_03", "audit_log_2027_04", "audit_log_2027_05"} <= set(made)
    assert {"order_history_2027_05", "stock_movements_2027_05"} <= set(made)
    # three whole months before March are kept (December to February); October goes
    assert "audit_log_2026_10" in dropped
    assert all(name.startswith("audit_log_") for name in dropped)
    kept = {p.name for p in partitions.partitions(potok.engine.connect())}
    assert "audit_log_2026_12" in kept
    assert "audit_log_2026_11" not in kept
    assert "order_history_2026_10" in kept  # 0: every month kept
    with potok.engine.connect() as look:
        assert (
            look.execute(
                sa.select(sa.func.count()).where(audit_log.c.entity_id == "old")
            ).scalar_one()
            == 0
        )
    assert partitions.maintain(potok.engine, today, ahead=2, keep={"audit_log": 3}) == ([], [])


def test_the_command_line_lists_makes_and_drops_months(potok: Potok, database_url: str) -> None:
    listed = potok_cli(database_url, "db", "partitions", "list", "--output", "json")
    assert listed.exit_code == 0, listed.output
    assert "audit_log_default" in listed.output

    made = potok_cli(database_url, "db", "partitions", "create", "--months", "6")
    assert made.exit_code == 0, made.output
    later = partitions.add_months(partitions.month_start(datetime.now(UTC).date()), 6)
    assert partitions.partition_name("stock_movements", later) in made.output

    wrong = potok_cli(database_url, "db", "partitions", "drop", "--table", "orders")
    assert wrong.exit_code == 2
    assert "not partitioned" in wrong.output
    kept = potok_cli(database_url, "db", "partitions", "drop", "--keep-months", "1200")
    assert kept.exit_code == 0, kept.output
    assert "dropped 0 partitions" in kept.output
