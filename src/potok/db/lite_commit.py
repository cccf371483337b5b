"""Intake on SQLite prepared outside the write lock and committed in groups under it.

SQLite takes one writer at a time; in one process that writer held the write lock for
everything an order costs - the snapshot, validation, sourcing, the rows and their JSON,
the rendered answer - while the other threads waited. An order prepared this way
(:meth:`~potok.db.unit_of_work.SqlUnitOfWork.optimistic`) does all of that first, with
writes refused (``PRAGMA query_only``) and no transaction open - intake's snapshot is
one statement, so one consistent view of the database (WAL: no writer disturbs it) -
and takes the lock only to write:

1. under the lock (``BEGIN IMMEDIATE``) the intake snapshot is read again with the same
   parameters (:class:`Recheck`); only when it answers exactly as before - the network's
   token, the products, the duplicate check, the customer, the stock of every candidate
   position, the Idempotency-Key's answer - are the prepared rows written: the work done
   outside the lock is then the work the same order would have done inside it. Otherwise
   nothing of it is written and the use case runs again the ordinary way, under the
   lock from its first read (:class:`StalePreparation`);
2. the stock is still reserved by the guarded UPDATE under the lock (the table's CHECK
   ``reserved + unavailable <= on_hand``), so nothing is oversold whatever happened;
3. orders prepared at the same moment in the process's threads are written by one
   transaction: the thread that finds no write on its way takes the queue, checks each
   order again, and writes the fresh ones' rows with one INSERT per table and one COMMIT
   (a batch). Two orders that read the same SKU never share a batch (the second waits for
   the next, where its check sees the first's reservation). When the batch fails - one
   order's stock taken (the CHECK), a duplicate external id, customer or key - nothing of
   it was written, and each of its orders is written again alone by its own thread,
   exactly as without batching: the one at fault fails as it would have (and is retried
   by ``atomically``), the others commit. Each order's thread answers only after its
   rows have committed.

Ids that the snapshot would draw as ``max(id) + 1`` (orders, customers) come from a
per-process counter (:class:`FreshIds`) so that orders prepared side by side do not
draw the same one; another process's order under the same id fails the commit as a
duplicate, retried like any lost race.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from potok.db import lite
from potok.db.pg import StagedReservation
from potok.domain.errors import TransientConflict

MAX_BATCH = 32
"""Orders written by one transaction at most."""

_WAITING, _WRITTEN, _ALONE, _STALE = 0, 1, 2, 3


class StalePreparation(TransientConflict):
    """What an order was prepared on changed before it could be written (or it tried to
    write outside its commit): nothing was written; run it again under the write lock."""


@dataclass(frozen=True, eq=False)
class Recheck:
    """A read that an order was prepared on, to repeat under the write lock: it must
    answer ``expected`` again (``compare`` picks the columns that count)."""

    statement: str
    parameters: Mapping[str, Any]
    expected: tuple[Any, ...]
    keys: frozenset[str]
    """What the read covers that another order of the same batch may write (SKUs)."""

    def holds(self, cursor: sqlite3.Cursor) -> bool:
        lite.execute(cursor, self.statement, self.parameters)
        return compared(cursor.fetchone()) == self.expected


def compared(row: Sequence[Any]) -> tuple[Any, ...]:
    """The intake snapshot's columns that the order depends on: all but the fresh ids,
    which :class:`FreshIds` hands out (only whether a new customer is needed counts)."""
    return (row[0], row[1], row[2], row[4], row[5] is None, row[6], row[7])


@dataclass(eq=False)
class Prepared:
    """One order's commit, made before the lock: its inserts, its stock, its rechecks."""

    statements: Sequence[lite.Statement]
    reserving: StagedReservation | None
    rechecks: Sequence[Recheck]
    state: int = _WAITING
    keys: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = frozenset().union(*(r.keys for r in self.rechecks))


class LiteGroupCommit:
    """The queue of one process's prepared intake commits on one SQLite database."""

    def __init__(self, lock: threading.Lock, max_batch: int = MAX_BATCH) -> None:
        self._lock = lock  # the engine's write lock: every writer of the process queues on it
        self._max_batch = max_batch
        self._changed = threading.Condition()
        self._queue: list[Prepared] = []
        self._sending = False
        self.batches = 0
        """Transactions that wrote more than one order (for tests and the benchmark)."""

    def commit(self, raw: sqlite3.Connection, dialect: Dialect, mine: Prepared) -> None:
        """Write ``mine`` under the write lock, alone or with other threads' orders;
        raises what writing it alone raises, or :class:`StalePreparation`."""
        with self._changed:
            self._queue.append(mine)
            while mine.state == _WAITING and self._sending:
                self._changed.wait()
            batch: list[Prepared] = []
            if mine.state == _WAITING:  # nothing on its way: this thread writes the queue
                self._sending = True
                batch = self._take(mine)
        try:
            if batch:
                try:
                    self._write(raw, dialect, batch)
                except (sa.exc.DBAPIError, TransientConflict):
                    if len(batch) == 1:
                        raise
                    # refused as a whole: nothing written, each order goes alone
                else:
                    self.batches += len(batch) > 1
        finally:
            if batch:
                with self._changed:
                    for other in batch:
                        if other.state == _WAITING:
                            other.state = _ALONE
                    self._sending = False
                    self._changed.notify_all()
        if mine.state == _ALONE:
            mine.state = _WAITING
            self._write(raw, dialect, [mine])
        if mine.state == _STALE:
            raise StalePreparation(
                detail="stock or settings changed while the order was prepared; retry"
            )

    @contextmanager
    def held(self) -> Iterator[None]:
        """While held, commits queue as they do behind a write on its way, and none is
        written; on leaving, the queue goes out (tests make a batch of known members so)."""
        with self._changed:
            while self._sending:
                self._changed.wait()
            self._sending = True
        try:
            yield
        finally:
            with self._changed:
                self._sending = False
                self._changed.notify_all()

    def waiting(self) -> int:
        """Commits queued now."""
        with self._changed:
            return len(self._queue)

    def _take(self, mine: Prepared) -> list[Prepared]:
        """``mine`` and the queued orders that read none of the SKUs an earlier one does."""
        batch, keys = [mine], set(mine.keys)
        for other in self._queue:
            if len(batch) == self._max_batch:
                break
            if other is not mine and not keys & other.keys:
                batch.append(other)
                keys |= other.keys
        for member in batch:
            self._queue.remove(member)
        return batch

    def _write(self, raw: sqlite3.Connection, dialect: Dialect, batch: list[Prepared]) -> None:
        """One transaction: every order checked again, the fresh ones' rows and stock."""
        with self._lock:
            cursor = raw.cursor()
            try:
                lite.execute(cursor, "BEGIN IMMEDIATE", ())
                try:
                    fresh = []
                    for prepared in batch:
                        if all(r.holds(cursor) for r in prepared.rechecks):
                            fresh.append(prepared)
                        else:
                            prepared.state = _STALE
                    if fresh:
                        lite.write_prepared(
                            cursor,
                            dialect,
                            lite.merged([p.statements for p in fresh]),
                            _reserving([p.reserving for p in fresh]),
                        )
                    lite.execute(cursor, "COMMIT", ())
                except BaseException:
                    if raw.in_transaction:
                        raw.rollback()
                    for prepared in batch:
                        prepared.state = _WAITING
                    raise
                for prepared in fresh:
                    prepared.state = _WRITTEN
            finally:
                cursor.close()


def _reserving(parts: Sequence[StagedReservation | None]) -> StagedReservation | None:
    together: StagedReservation | None = None
    for part in parts:
        if part is not None and part.quantities:
            if together is None:
                together = StagedReservation()
            assert part.at is not None
            at: datetime = max(together.at or part.at, part.at)
            together.add(part.quantities, at)
    return together


class FreshIds:
    """Ids for rows that intake adds (orders, customers): the snapshot's ``max(id) + 1``,
    or past every id this process has handed out and not yet seen written or given back,
    so that orders prepared side by side never draw the same one. An id given back while
    it is the last one drawn is drawn again next (no gap when a request fails alone)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._next: dict[str, int] = {}

    def take(self, table: str, fresh: int) -> int:
        with self._guard:
            taken = max(fresh, self._next.get(table, 0))
            self._next[table] = taken + 1
            return taken

    def give_back(self, table: str, taken: int) -> None:
        with self._guard:
            if self._next.get(table) == taken + 1:
                self._next[table] = taken


@dataclass(eq=False)
class LiteIntake:
    """One process's group commit and id counter for one SQLite database."""

    group: LiteGroupCommit
    ids: FreshIds


_intakes: weakref.WeakKeyDictionary[sa.Engine, LiteIntake] = weakref.WeakKeyDictionary()
_intakes_guard = threading.Lock()


def lite_intake(engine: sa.Engine, lock: threading.Lock) -> LiteIntake:
    """The engine's group commit and ids (one per process and database)."""
    with _intakes_guard:
        intake = _intakes.get(engine)
        if intake is None:
            intake = _intakes[engine] = LiteIntake(LiteGroupCommit(lock), FreshIds())
        return intake
