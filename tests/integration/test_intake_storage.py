"""How intake's rows are stored on PostgreSQL: their large JSON compressed with LZ4 in
every month's partition, made now or later (db/compression.py), and an event's position
unique among the events that have one, while the events written without one take no
entry in its index."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db import compression, partitions
from potok.db.tables import outbox_events

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])

NOW = datetime(2026, 12, 8, tzinfo=UTC)


def compression_of(connection: sa.Connection, table: str, column: str) -> dict[str, str]:
    """The compression each of ``table``'s partitions (and itself) gives ``column``."""
    rows = connection.execute(
        sa.text(
            "SELECT CAST(a.attrelid AS regclass)::text, a.attcompression FROM pg_attribute a "
            "WHERE a.attname = :column AND (a.attrelid = CAST(:table AS regclass) OR a.attrelid "
            "IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = CAST(:table AS regclass)))"
        ),
        {"table": table, "column": column},
    )
    return {str(name): str(method) for name, method in rows}


def event(n: int, payload: object, position: int | None = None) -> dict[str, object]:
    return {
        "event_id": f"00000000-0000-0000-0000-{n:012d}",
        "type": "test.stored",
        "aggregate_type": "test",
        "aggregate_id": str(n),
        "payload": payload,
        "occurred_at": NOW,
        "position": position,
    }


def test_the_json_of_every_order_is_compressed_with_lz4_in_every_month(potok: Potok) -> None:
    with potok.engine.begin() as connection:
        partitions.create_month(connection, "sourcing_decisions", date(2031, 5, 1))
        for table, column in compression.COLUMNS:
            found = compression_of(connection, table, column)
            assert found, (table, column)
            assert set(found.values()) == {"l"}, (table, column, found)
        assert "sourcing_decisions_2031_05" in compression_of(
            connection, "sourcing_decisions", "record"
        )
        large = {"lines": [{"sku": f"SKU-{n:05d}", "note": "x" * 40} for n in range(80)]}
        connection.execute(sa.insert(outbox_events), [event(1, large)])
        stored = connection.execute(
            sa.text("SELECT pg_column_compression(payload) FROM outbox_events WHERE type = :t"),
            {"t": "test.stored"},
        ).scalar_one()
        assert stored == "lz4"


def test_positions_stay_unique_and_events_without_one_take_no_entry(potok: Potok) -> None:
    with potok.engine.begin() as connection:
        connection.execute(sa.insert(outbox_events), [event(n, {"n": n}) for n in range(10, 20)])
        connection.execute(
            sa.update(outbox_events)
            .where(outbox_events.c.aggregate_id == "10")
            .values(position=10**12)
        )
        index = "ix_outbox_events_position"
        definition = connection.execute(
            sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": index}
        ).scalar_one()
        assert "UNIQUE" in definition
        assert "IS NOT NULL" in definition
    with pytest.raises(sa.exc.IntegrityError, match=index), potok.engine.begin() as connection:
        connection.execute(
            sa.update(outbox_events)
            .where(outbox_events.c.aggregate_id == "11")
            .values(position=10**12)
        )
