"""Bulk stock uploads on PostgreSQL: many levels set by two statements, whatever their number.

A file of 100,000 levels was 100,000 of everything in Python: a level read, a movement, an
event, its payload, its audit row and its outbox row, each then turned into JSON for the
server to take apart again. Here the rows travel as a few integer arrays and the server
does the rest in two statements:

1. :data:`_PLAN` locks the positions the rows name, in key order (warehouse, product), and
   answers only the rows that cannot be set in bulk: an expected on-hand that is stale
   (compare-and-set, refused as ``PUT /stock/levels`` refuses it), or a level under what is
   reserved or unavailable (the caller sets those one by one: they take reservations back).
2. :data:`_APPLY` creates the missing positions at their level, sets the others, and for
   every row whose on-hand moved appends the ledger movement and the ``stock.changed``
   event to the outbox - the same rows the unit of work writes for a
   :class:`~potok.domain.inventory.events.StockChanged` the use case records unaudited (the
   payload is built here from the same fields; a test compares the two). The audit trail
   gets one row for the whole upload, from the use case's ``stock.synced``.

Both run inside the unit of work's transaction, so the upload stays all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
import sqlalchemy as sa

from potok.db.pg import driver, int_array, numbered
from potok.domain.errors import TransientConflict
from potok.domain.inventory.events import StockChanged
from potok.domain.kernel import ProductId
from potok.services.ports import UploadApplied, UploadChange, UploadPlan, UploadRows

_PLAN = numbered(
    """
    WITH g AS (
        SELECT * FROM unnest(CAST(%(ws)s AS bigint[]), CAST(%(ps)s AS bigint[]),
                             CAST(%(targets)s AS integer[]), CAST(%(expected)s AS integer[]),
                             CAST(%(idx)s AS integer[])) AS g(w, p, target, expected, i)
    ), s AS MATERIALIZED (
        SELECT s.warehouse_id, s.product_id, s.on_hand, s.reserved, s.unavailable
          FROM stock s JOIN g ON s.warehouse_id = g.w AND s.product_id = g.p
         WHERE s.lot_id IS NULL
         ORDER BY s.warehouse_id, s.product_id
           FOR UPDATE OF s
    )
    SELECT g.i, coalesce(s.on_hand, 0),
           g.expected IS NOT NULL AND g.expected <> coalesce(s.on_hand, 0)
      FROM g LEFT JOIN s ON s.warehouse_id = g.w AND s.product_id = g.p
     WHERE (g.expected IS NOT NULL AND g.expected <> coalesce(s.on_hand, 0))
        OR (g.target <> s.on_hand AND g.target < s.reserved + s.unavailable)
     ORDER BY g.i
    """
)

_APPLY = numbered(
    """
    WITH g AS (
        SELECT * FROM unnest(CAST(%(ws)s AS bigint[]), CAST(%(ps)s AS bigint[]),
                             CAST(%(targets)s AS integer[])) AS g(w, p, target)
    ), old AS MATERIALIZED (
        SELECT s.id, s.warehouse_id AS w, s.product_id AS p, s.on_hand, s.reserved,
               s.unavailable, g.target
          FROM stock s JOIN g ON s.warehouse_id = g.w AND s.product_id = g.p
         WHERE s.lot_id IS NULL
    ), ins AS (
        INSERT INTO stock (warehouse_id, product_id, on_hand, reserved, unavailable, updated_at)
        SELECT g.w, g.p, g.target, 0, 0, %(at)s FROM g
         WHERE NOT EXISTS (SELECT 1 FROM old WHERE old.w = g.w AND old.p = g.p)
         ORDER BY g.w, g.p
        ON CONFLICT (warehouse_id, product_id) WHERE lot_id IS NULL DO NOTHING
        RETURNING id, warehouse_id AS w, product_id AS p, on_hand
    ), upd AS (
        UPDATE stock s SET on_hand = old.target, updated_at = %(at)s
          FROM old
         WHERE s.id = old.id AND old.target <> old.on_hand
        RETURNING s.id, old.w, old.p, old.target AS on_hand, old.target - old.on_hand AS quantity,
                  old.reserved, old.unavailable
    ), changed AS MATERIALIZED (
        SELECT * FROM upd
        UNION ALL
        SELECT id, w, p, on_hand, on_hand, 0, 0 FROM ins WHERE on_hand <> 0
    ), told AS MATERIALIZED (
        SELECT c.*, wh.code || '/' || pr.sku AS aggregate_id,
               jsonb_build_object(
                   'occurred_at', CAST(%(at_text)s AS text),
                   'warehouse', wh.code,
                   'sku', pr.sku,
                   'movement', CAST(%(movement)s AS text),
                   'quantity', c.quantity,
                   'on_hand', c.on_hand,
                   'reserved', c.reserved,
                   'available', c.on_hand - c.reserved - c.unavailable,
                   'reason', CAST(%(reason)s AS text),
                   'reference', CAST(%(reference)s AS text),
                   'unavailable', c.unavailable,
                   'unavailable_change', 0,
                   'lot', CAST(NULL AS text),
                   'expires_on', CAST(NULL AS text)
               ) AS payload
          FROM changed c
          JOIN warehouses wh ON wh.id = c.w
          JOIN products pr ON pr.id = c.p
         ORDER BY c.w, c.p
    ), mv AS (
        INSERT INTO stock_movements (stock_id, warehouse_id, product_id, type, quantity,
                                     on_hand_after, unavailable_change, reason, reference,
                                     actor, occurred_at)
        SELECT id, w, p, %(movement)s, quantity, on_hand, 0, %(reason)s, %(reference)s,
               %(actor)s, %(at)s
          FROM told
    ), ev AS (
        INSERT INTO outbox_events (event_id, type, aggregate_type, aggregate_id, payload,
                                   occurred_at)
        SELECT CAST(gen_random_uuid() AS text), %(event_type)s, %(aggregate_type)s,
               aggregate_id, payload, %(at)s
          FROM told
    )
    SELECT (SELECT count(*) FROM g) - (SELECT count(*) FROM old),
           (SELECT count(*) FROM ins),
           (SELECT count(*) FROM changed),
           (SELECT array_agg(DISTINCT p) FROM changed WHERE quantity > 0)
    """
)


_MORE_MEMORY = "SET LOCAL work_mem = '32MB'"
"""Memory the writing statement's sorts and hashes may take (PostgreSQL's default, 4 MB,
sent 100,000 rows' events to disk)."""


def plan_upload(connection: sa.Connection, rows: UploadRows) -> UploadPlan:
    """Lock the positions of the rows in key order; the rows that cannot go in bulk."""
    stale: list[tuple[int, int]] = []
    tight: list[int] = []
    if not len(rows):
        return UploadPlan(stale, tight)
    values = {
        "ws": int_array(rows.warehouse_ids),
        "ps": int_array(rows.product_ids),
        "targets": int_array(rows.on_hand),
        "expected": _nullable_ints(rows.expected),
        "idx": int_array(rows.indexes),
    }
    for index, on_hand, is_stale in _run(connection, _PLAN, values):
        if is_stale:
            stale.append((index, on_hand))
        else:
            tight.append(index)
    return UploadPlan(stale, tight)


def apply_upload(
    connection: sa.Connection, rows: UploadRows, change: UploadChange
) -> UploadApplied:
    """Set the levels (positions locked by :func:`plan_upload`), with their ledger and
    outbox rows (the use case's ``stock.synced`` is the upload's row in the audit trail).
    A position that another transaction created meanwhile fails the upload as a
    :class:`TransientConflict` (the use case runs again and finds it)."""
    if not len(rows):
        return UploadApplied(0, 0, [])
    values = {
        "ws": int_array(rows.warehouse_ids),
        "ps": int_array(rows.product_ids),
        "targets": int_array(rows.on_hand),
        "at": change.at,
        "at_text": change.at.isoformat(),
        "movement": change.movement,
        "reason": change.reason,
        "reference": change.reference,
        "actor": change.actor,
        "event_type": StockChanged.event_type(),
        "aggregate_type": StockChanged.aggregate_type,
    }
    raw = driver(connection)
    raw.execute(_MORE_MEMORY)  # the statement's sorts and hashes kept off the disk
    missing, created, changed, grown = _run(connection, _APPLY, values)[0]
    raw.execute("SET LOCAL work_mem TO DEFAULT")
    if created != missing:
        raise TransientConflict(detail="a stock position was created meanwhile; retry the upload")
    return UploadApplied(created, changed, [ProductId(p) for p in grown or ()])


def _run(
    connection: sa.Connection, statement: tuple[str, tuple[str, ...]], values: dict[str, Any]
) -> list[tuple[Any, ...]]:
    text, names = statement
    with psycopg.RawCursor(driver(connection)) as cursor:
        return cursor.execute(text, [values[name] for name in names]).fetchall()


def _nullable_ints(values: Iterable[int | None]) -> str:
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"
