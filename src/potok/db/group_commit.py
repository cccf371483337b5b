"""Group commit on PostgreSQL: the commits of orders taken at the same moment in one API
process sent as one statement, one transaction.

Intake's commit is a single statement that is the whole transaction (``db/pg.py``,
:func:`~potok.db.pg.insert_document`): the order's rows, its stock reserved under the
table's CHECK, the key's answer, the audit trail and the outbox. While one such statement
is on its way, the orders that finish meanwhile in the process's other threads queue; the
thread whose statement comes back first takes the queue and sends the queued orders'
rows and reservations merged into one statement (a batch), on its own connection. Each
order's thread waits for its batch and answers only after the batch has committed.

A batch is atomic as any transaction: it commits whole or not at all. When the server
refuses it - one order's stock taken meanwhile (the CHECK), a duplicate key or external
id - nothing of it was written, and every order of it is then sent again alone, by its
own thread on its own connection, exactly as without batching: the order at fault fails
as it would have (and is retried by ``atomically`` where that applies), the others
commit. When the connection is lost on the way, whether the batch committed is unknown:
every order of it fails as one order alone fails then (the database is unavailable, 503),
and clients retry under their Idempotency-Keys. Idempotency, the stock guard and every
constraint are the database's, unchanged; a batch only saves what a statement and a
commit cost once (the executor's start over a dozen tables and their indexes, the commit
record and its WAL flush, a round trip).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
import sqlalchemy as sa

from potok import timing
from potok.db.pg import Section, StagedReservation, insert_document, outside_transaction

Send = Callable[[psycopg.Connection[Any], Sequence[Section], StagedReservation | None], None]

MAX_BATCH = 32
"""Orders sent in one statement at most (a process has a few dozen threads at most)."""

_WAITING, _WRITTEN, _ALONE, _LOST = 0, 1, 2, 3


@dataclass(eq=False)
class _Commit:
    sections: Sequence[Section]
    reserving: StagedReservation | None
    state: int = _WAITING
    error: BaseException | None = field(default=None, repr=False)


class GroupCommit:
    """The queue of one process's intake commits (one per engine: :func:`group_commit`)."""

    def __init__(self, send: Send = insert_document, max_batch: int = MAX_BATCH) -> None:
        self._send = send
        self._max_batch = max_batch
        self._changed = threading.Condition()
        self._queue: list[_Commit] = []
        self._sending = False
        self.batches = 0
        """Statements that carried more than one order (for tests and the benchmark)."""

    def commit(
        self,
        raw: psycopg.Connection[Any],
        sections: Sequence[Section],
        reserving: StagedReservation | None,
    ) -> None:
        """Write ``sections`` and reserve ``reserving`` as one transaction, alone or in a
        batch with other threads' commits; raises what the statement alone would raise."""
        mine = _Commit(sections, reserving)
        timing.mark("commit_queued")
        with self._changed:
            self._queue.append(mine)
            while mine.state == _WAITING and self._sending:
                self._changed.wait()
            if mine.state == _WAITING:  # nothing on its way: this thread sends the queue
                self._sending = True
                self._queue.remove(mine)
                batch = [mine, *self._queue[: self._max_batch - 1]]
                del self._queue[: self._max_batch - 1]
        timing.mark("commit_turn", mine.state)
        if mine.state == _WRITTEN:
            return
        if mine.state == _ALONE:
            self._alone(raw, mine)
            return
        if mine.state == _LOST:
            raise _lost(mine.error)
        try:
            if len(batch) == 1:
                self._alone(raw, mine)
            else:
                self._batch(raw, batch)
        finally:
            timing.mark("commit_sent", len(batch))
            with self._changed:
                for other in batch:
                    if other.state == _WAITING:  # the batch failed (or this thread's own did)
                        other.state = _ALONE
                self._sending = False
                self._changed.notify_all()
        if mine.state == _ALONE:
            timing.mark("commit_refused")
            self._alone(raw, mine)
        elif mine.state == _LOST:
            raise _lost(mine.error)

    @contextmanager
    def held(self) -> Iterator[None]:
        """While held, commits queue as they do behind a statement on its way, and none is
        sent; on leaving, the queue goes out (tests make a batch of known members so)."""
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

    def _alone(self, raw: psycopg.Connection[Any], mine: _Commit) -> None:
        mine.state = _WRITTEN
        with outside_transaction(raw):
            self._send(raw, mine.sections, mine.reserving)
        timing.mark("alone_sent")

    def _batch(self, raw: psycopg.Connection[Any], batch: list[_Commit]) -> None:
        sections, reserving = merged(batch)
        try:
            with outside_transaction(raw):
                self._send(raw, sections, reserving)
        except psycopg.Error as error:
            if raw.broken or raw.closed or error.sqlstate is None:
                # the connection went while the batch was on its way: it may have
                # committed, its answer lost. Sent again, an order without an external
                # id would be stored twice; each fails instead, as one order alone
                # fails then (503), and its client retries under its Idempotency-Key
                for commit in batch:
                    commit.state, commit.error = _LOST, error
            return  # the server refused it: nothing was written, each goes alone
        for commit in batch:
            commit.state = _WRITTEN
        self.batches += 1


def _lost(error: BaseException | None) -> psycopg.OperationalError:
    """A batch's lost connection, as each of its orders' own failure."""
    lost = psycopg.OperationalError(f"the connection was lost while committing: {error}")
    lost.__cause__ = error
    return lost


def merged(batch: Sequence[_Commit]) -> tuple[list[Section], StagedReservation | None]:
    """The batch's rows, table by table (each order's rows together and in its order),
    and the stock all of them reserve."""
    tables: dict[tuple[sa.Table, tuple[str, ...]], list[Any]] = {}
    for commit in batch:
        for table, rows in commit.sections:
            if rows:
                tables.setdefault((table, tuple(rows[0])), []).extend(rows)
    reserving: StagedReservation | None = None
    for commit in batch:
        if commit.reserving is not None and commit.reserving.quantities:
            if reserving is None:
                reserving = StagedReservation()
            assert commit.reserving.at is not None
            at: datetime = max(reserving.at or commit.reserving.at, commit.reserving.at)
            reserving.add(commit.reserving.quantities, at)
    return [(table, rows) for (table, _), rows in tables.items()], reserving


_groups: weakref.WeakKeyDictionary[sa.Engine, GroupCommit] = weakref.WeakKeyDictionary()
_groups_guard = threading.Lock()


def group_commit(engine: sa.Engine) -> GroupCommit:
    """The engine's group commit (one per process and database)."""
    with _groups_guard:
        group = _groups.get(engine)
        if group is None:
            group = _groups[engine] = GroupCommit()
        return group
