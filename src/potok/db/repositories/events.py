"""The outbox read back: positions in commit order, consumers' cursors and leases,
webhook subscriptions and their delivery log."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import (
    channels,
    event_consumers,
    orders,
    outbox_events,
    outbox_sequencer,
    webhook_deliveries,
    webhook_replays,
    webhook_subscriptions,
)
from potok.domain.webhooks import (
    INTERNAL_AGGREGATES,
    ConsumerLag,
    Delivery,
    DeliveryOutcome,
    EventBatch,
    OutboxFigures,
    Reader,
    Replay,
    StoredEvent,
    Subscription,
    replay_consumer_name,
)
from potok.security.data import DataProtector

log = logging.getLogger("potok.events")

_SEQUENCER_LOCK = 0x706F746F6B  # "potok": one sequencer at a time on PostgreSQL
SEQUENCER_GRACE = timedelta(seconds=1)  # an id drawn is in its transaction within this
SEQUENCER_SWEEP = timedelta(minutes=1)  # how often the sequencer looks from the start
_EVENTS = outbox_events.c
_SEQUENCER = outbox_sequencer.c
_CONSUMERS = event_consumers.c


def _placing() -> sa.Update:
    """One statement, however many: the next ``limit`` events without a place from id
    ``floor`` on, numbered on from ``top`` in id order."""
    waiting = (
        sa.select(
            _EVENTS.id.label("row_id"),
            sa.func.row_number().over(order_by=_EVENTS.id).label("n"),
        )
        .where(
            _EVENTS.position.is_(None), _EVENTS.id >= sa.bindparam("floor", type_=sa.BigInteger())
        )
        .order_by(_EVENTS.id)
        .limit(sa.bindparam("limit", type_=sa.Integer()))
        .subquery()
    )
    return (
        sa.update(outbox_events)
        .where(_EVENTS.id == waiting.c.row_id)
        .values(position=sa.bindparam("top", type_=sa.BigInteger()) + waiting.c.n)
    )


def _sequencer_state() -> sa.Select[Any]:
    """The sequencer's row (or nulls) with what it decides by: the snapshot's bounds, the
    time, whether a writing transaction older than its mark is still open, and the last
    event's id and position."""
    snapshot = sa.func.pg_current_snapshot()
    activity = sa.table(
        "pg_stat_activity",
        sa.column("pid"),
        sa.column("datname"),
        sa.column("backend_xid"),
        sa.column("xact_start"),
    )
    # a transaction of this database that was writing when the mark was made (other
    # databases of the cluster hold its xmin back, not this outbox)
    held = (
        sa.select(activity.c.pid)
        .where(
            activity.c.datname == sa.func.current_database(),
            activity.c.backend_xid.is_not(None),
            activity.c.xact_start <= _SEQUENCER.marked_at,
            activity.c.pid != sa.func.pg_backend_pid(),
        )
        .exists()
    )
    return (
        sa.select(
            _SEQUENCER.floor_id,
            _SEQUENCER.settled_id,
            _SEQUENCER.mark_id,
            _SEQUENCER.mark_xmax,
            _SEQUENCER.marked_at,
            _SEQUENCER.swept_at,
            sa.cast(sa.cast(sa.func.pg_snapshot_xmin(snapshot), sa.Text), sa.BigInteger).label(
                "xmin"
            ),
            sa.cast(sa.cast(sa.func.pg_snapshot_xmax(snapshot), sa.Text), sa.BigInteger).label(
                "xmax"
            ),
            sa.func.clock_timestamp().label("now"),
            held.label("held"),
            sa.select(sa.func.max(_EVENTS.id)).scalar_subquery().label("top_id"),
            sa.select(sa.func.max(_EVENTS.position)).scalar_subquery().label("top"),
        )
        .select_from(sa.select(sa.literal(1).label("one")).subquery())
        .outerjoin(outbox_sequencer, _SEQUENCER.id == 1)
    )


def _sequencer_saved() -> sa.Insert:
    """The sequencer's row written (made the first time)."""
    saved = postgresql.insert(outbox_sequencer).values(
        id=1, **{name: sa.bindparam(name) for name in _SEQUENCER_COLUMNS}
    )
    return saved.on_conflict_do_update(
        index_elements=[_SEQUENCER.id],
        set_={name: saved.excluded[name] for name in _SEQUENCER_COLUMNS},
    )


# the sequencer's statements, built once: it runs every round of every worker, and
# building them cost it more than running them
_SEQUENCER_COLUMNS = ("floor_id", "settled_id", "mark_id", "mark_xmax", "marked_at", "swept_at")
_PLACING = _placing()
_PLACED = _PLACING.returning(_EVENTS.id)
_SEQUENCER_LOCKED = sa.select(sa.func.pg_advisory_xact_lock(_SEQUENCER_LOCK))
_SEQUENCER_STATE = _sequencer_state()
_SEQUENCER_SAVED = _sequencer_saved()


class EventLog:
    """Outbox rows in the order they became visible."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def sequence(self, limit: int) -> int:
        """Give the next positions, in id order, to events committed without one; returns
        how many. One sequencer at a time (an advisory lock; SQLite writes one at a time
        anyway), so positions become visible in increasing order and a reader that has
        seen position P never later finds a smaller one appear."""
        if self.connection.dialect.name == "postgresql":
            return self._sequence_from_floor(limit)
        top = self.last_position()
        placed = self.connection.execute(_PLACING, {"limit": limit, "top": top, "floor": 0})
        return int(placed.rowcount)

    def _sequence_from_floor(self, limit: int) -> int:
        """PostgreSQL: look for events to place from the floor (``outbox_sequencer``), not
        from the start of the partial index, whose entries of events placed since the last
        vacuum would be walked on every call (a million-event backlog placed at 500 a
        second). The floor moves to just past a remembered id once every transaction that
        was writing when it was seen has ended (no event at or below it can still commit:
        the cluster's oldest running transaction is past them, or none of this database
        that began before is still open), and past what was placed when a batch is full;
        once a minute the search starts from the very beginning, for an event whose id
        was drawn just before its transaction began writing (the one case those facts do
        not cover: its insert's first row between drawing the id and writing it)."""
        c = self.connection
        c.execute(_SEQUENCER_LOCKED)
        state = c.execute(_SEQUENCER_STATE).one()
        now: datetime = state.now
        floor, settled = int(state.floor_id or 0), int(state.settled_id or 0)
        sweep = state.swept_at is None or now - state.swept_at >= SEQUENCER_SWEEP
        mark = (state.mark_id, state.mark_xmax, state.marked_at)
        if state.mark_id is None:
            mark = (state.top_id, state.xmax, now)
        elif (state.xmin >= state.mark_xmax or not state.held) and (
            now - state.marked_at >= SEQUENCER_GRACE
        ):
            settled = max(settled, int(state.mark_id))  # nothing up to it can commit now
            mark = (state.top_id, state.xmax, now)
        given = {"limit": limit, "top": int(state.top or 0), "floor": 0 if sweep else floor}
        placed = [int(i) for i in c.execute(_PLACED, given).scalars()]
        full = len(placed) >= limit  # then more may wait just past the last one placed
        moved = min(settled + 1, max(placed) + 1) if full else settled + 1
        if sweep:
            late = sum(1 for i in placed if i < floor)
            if late:
                log.info("the sequencer found %d events committed below its floor", late)
        values = {
            "floor_id": moved,
            "settled_id": settled,
            "mark_id": mark[0],
            "mark_xmax": mark[1],
            "marked_at": mark[2],
            # a full batch in a sweep that did not reach the floor lowered the floor to
            # where it stopped: what is left is found from there
            "swept_at": now if sweep else state.swept_at,
        }
        if placed or any(values[name] != getattr(state, name) for name in _SEQUENCER_COLUMNS):
            # an idle call that moved nothing writes nothing: no WAL, no flush at commit
            c.execute(_SEQUENCER_SAVED, values)
        return len(placed)

    def _floor(self) -> sa.ColumnElement[int]:
        """Below this id every event has its position (0 on SQLite, which needs none)."""
        if self.connection.dialect.name != "postgresql":
            return sa.literal(0)
        return sa.func.coalesce(
            sa.select(_SEQUENCER.floor_id).where(_SEQUENCER.id == 1).scalar_subquery(), 0
        )

    def last_position(self) -> int:
        return int(self.connection.execute(_LAST_POSITION).scalar() or 0)

    def first_position(self) -> int:
        """The position of the oldest event still kept (0: none)."""
        return int(self.connection.execute(sa.select(sa.func.min(_EVENTS.position))).scalar() or 0)

    def position_of(self, event_id: str) -> int | None:
        """The event's place in commit order (None: unknown, or not placed yet)."""
        found = self.connection.execute(
            sa.select(_EVENTS.position).where(_EVENTS.event_id == event_id)
        ).scalar()
        return None if found is None else int(found)

    def positions_between(self, since: datetime, until: datetime | None) -> tuple[int, int] | None:
        """The first and last positions of the events that happened in ``[since, until]``
        (None: none did)."""
        query = sa.select(sa.func.min(_EVENTS.position), sa.func.max(_EVENTS.position)).where(
            _EVENTS.position.is_not(None), _EVENTS.occurred_at >= since
        )
        if until is not None:
            query = query.where(_EVENTS.occurred_at <= until)
        low, high = self.connection.execute(query).one()
        return None if low is None else (int(low), int(high))

    def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` of the oldest events that happened before ``before`` and
        that every consumer has dealt with; returns how many. The newest event is always
        kept: positions continue from the highest stored one, so numbering never restarts
        (and no reader's cursor is ever handed a position twice)."""
        floor = self.last_position() - 1
        slowest = self.connection.execute(sa.select(sa.func.min(_CONSUMERS.position))).scalar()
        if slowest is not None:
            floor = min(floor, int(slowest))
        if floor <= 0:
            return 0
        oldest = (
            sa.select(_EVENTS.id)
            .where(_EVENTS.position <= floor, _EVENTS.occurred_at < before)
            .order_by(_EVENTS.position)
            .limit(limit)
        )
        ids = list(self.connection.execute(oldest).scalars())
        if ids:
            self.connection.execute(sa.delete(outbox_events).where(_EVENTS.id.in_(ids)))
        return len(ids)

    def channels_of(self, order_ids: Sequence[int]) -> dict[int, str]:
        """The channel code of each of these orders (for subscriptions filtered by channel)."""
        if not order_ids:
            return {}
        rows = self.connection.execute(
            sa.select(orders.c.id, channels.c.code)
            .join(channels, channels.c.id == orders.c.channel_id)
            .where(orders.c.id.in_(sorted(set(order_ids))))
        )
        return {int(r.id): r.code for r in rows}

    def waiting(self) -> bool:
        """Whether any committed event still lacks a position (a cheap read), or the
        sequencer is due to look from the very start (PostgreSQL, once a minute)."""
        found = (
            self.connection.execute(
                sa.select(_EVENTS.id)
                .where(_EVENTS.position.is_(None), _EVENTS.id >= self._floor())
                .limit(1)
            ).first()
            is not None
        )
        if found or self.connection.dialect.name != "postgresql":
            return found
        swept = (
            sa.select(_SEQUENCER.id)
            .where(
                _SEQUENCER.id == 1,
                _SEQUENCER.swept_at > sa.func.clock_timestamp() - SEQUENCER_SWEEP,
            )
            .exists()
        )
        return not self.connection.execute(sa.select(swept)).scalar()

    def oldest_unplaced_at(self) -> datetime | None:
        """When the oldest committed event still waiting for its position happened."""
        oldest: datetime | None = self.connection.execute(
            sa.select(sa.func.min(_EVENTS.occurred_at)).where(
                _EVENTS.position.is_(None), _EVENTS.id >= self._floor()
            )
        ).scalar()
        return oldest

    def unsequenced(self) -> int:
        return int(
            self.connection.execute(
                sa.select(sa.func.count()).where(
                    _EVENTS.position.is_(None), _EVENTS.id >= self._floor()
                )
            ).scalar_one()
        )

    def after(
        self,
        position: int,
        limit: int,
        *,
        types: Sequence[str] = (),
        prefixes: Sequence[str] = (),
        payloads: bool = True,
    ) -> EventBatch:
        """Events after ``position``, in commit order, of these exact types or type
        prefixes (``order.``) when any are given; never account administration. The batch
        says how far the read went, so a reader's cursor passes the events it skipped.
        ``payloads=False``: the events come with empty payloads, for a reader that needs
        only what happened to which aggregate, when (the payload is neither sent nor
        decoded)."""
        top = self.last_position()  # read first: every position up to it is visible below
        if top <= position:
            return EventBatch([], position)
        query = (
            sa.select(*(_WITH_PAYLOADS if payloads else _WITHOUT_PAYLOADS))
            .where(
                _EVENTS.position > position,
                _EVENTS.position <= top,
                _EVENTS.aggregate_type.not_in(sorted(INTERNAL_AGGREGATES)),
            )
            .order_by(_EVENTS.position)
            .limit(limit)
        )
        wanted: list[sa.ColumnElement[bool]] = [_EVENTS.type.in_(list(types))] if types else []
        wanted += [_EVENTS.type.startswith(p, autoescape=True) for p in prefixes]
        if wanted:
            query = query.where(sa.or_(*wanted))
        make = _event if payloads else _bare_event
        events = [make(row) for row in self.connection.execute(query)]
        return EventBatch(events, events[-1].position if len(events) >= limit else top)

    def figures(self) -> OutboxFigures:
        """What operations watch: orders placed and waiting for stock, events not yet
        placed in order, how far each consumer lags, and deliveries by outcome."""
        c = self.connection
        placed = c.execute(sa.select(sa.func.count()).select_from(orders)).scalar_one()
        waiting = c.execute(
            sa.select(sa.func.count()).where(
                orders.c.allocation == "backordered", orders.c.state != "cancelled"
            )
        ).scalar_one()
        unplaced, oldest = c.execute(
            sa.select(sa.func.count(), sa.func.min(_EVENTS.occurred_at)).where(
                _EVENTS.position.is_(None), _EVENTS.id >= self._floor()
            )
        ).one()
        last = self.last_position()
        next_event = (
            sa.select(_EVENTS.occurred_at)
            .where(_EVENTS.position == _CONSUMERS.position + 1)
            .scalar_subquery()
        )
        lags = [
            ConsumerLag(r.name, last - int(r.position), r.oldest)
            for r in c.execute(
                sa.select(_CONSUMERS.name, _CONSUMERS.position, next_event.label("oldest")).where(
                    _CONSUMERS.name.not_like("replay:%")
                )  # replays look back on purpose
            )
        ]
        outcomes = {
            r.outcome: int(r.n)
            for r in c.execute(
                sa.select(webhook_deliveries.c.outcome, sa.func.count().label("n")).group_by(
                    webhook_deliveries.c.outcome
                )
            )
        }
        return OutboxFigures(int(placed), int(waiting), int(unplaced), oldest, lags, outcomes)


_WITH_PAYLOADS = tuple(outbox_events.c)
_WITHOUT_PAYLOADS = tuple(c for c in outbox_events.c if c.name != "payload")


def _event(row: Any) -> StoredEvent:
    return StoredEvent(
        position=int(row.position),
        event_id=row.event_id,
        type=row.type,
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        occurred_at=row.occurred_at,
        payload=row.payload,
    )


def _bare_event(row: Any) -> StoredEvent:
    """An event read without its payload (``EventLog.after(payloads=False)``)."""
    return StoredEvent(
        position=int(row.position),
        event_id=row.event_id,
        type=row.type,
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        occurred_at=row.occurred_at,
        payload={},
    )


def _free() -> sa.ColumnElement[bool]:
    """The consumer's lease is nobody's, the ``worker``'s own, or over at ``at``."""
    return sa.or_(
        _CONSUMERS.leased_by.is_(None),
        _CONSUMERS.leased_by == sa.bindparam("worker"),
        _CONSUMERS.lease_expires_at < sa.bindparam("at"),
    )


# a worker's every round reads and moves cursors: their statements are built once
_LAST_POSITION = sa.select(sa.func.max(_EVENTS.position))
_STATE = sa.select(_CONSUMERS.position, _CONSUMERS.attempts, _CONSUMERS.next_attempt_at).where(
    _CONSUMERS.name == sa.bindparam("name")
)
_NAMES: sa.BindParameter[Any] = sa.bindparam("names", expanding=True)
_STATES = sa.select(
    _CONSUMERS.name, _CONSUMERS.position, _CONSUMERS.attempts, _CONSUMERS.next_attempt_at
).where(_CONSUMERS.name.in_(_NAMES))
_CLAIM_AT = (
    sa.update(event_consumers)
    .where(_CONSUMERS.name.in_(_NAMES), _CONSUMERS.position == sa.bindparam("at_position"), _free())
    .values(
        leased_by=sa.bindparam("worker"),
        lease_expires_at=sa.bindparam("until"),
        updated_at=sa.bindparam("at"),
    )
    .returning(_CONSUMERS.name)
)
_PASS_OVER = (
    sa.update(event_consumers)
    .where(_CONSUMERS.name.in_(_NAMES), _CONSUMERS.position < sa.bindparam("to_position"), _free())
    .values(
        position=sa.bindparam("to_position"),
        attempts=0,  # an event that failed before is behind it: nothing waits
        next_attempt_at=None,
        leased_by=None,
        lease_expires_at=None,
        updated_at=sa.bindparam("at"),
    )
)
_MOVE = (
    sa.update(event_consumers)
    .where(
        _CONSUMERS.name == sa.bindparam("consumer"),
        _CONSUMERS.leased_by == sa.bindparam("worker"),
        _CONSUMERS.position == sa.bindparam("expected"),
    )
    .values(
        position=sa.bindparam("to_position"),
        attempts=sa.bindparam("to_attempts"),
        next_attempt_at=sa.bindparam("next_at"),
        leased_by=sa.bindparam("holder"),
        lease_expires_at=sa.bindparam("until"),
        updated_at=sa.bindparam("at"),
    )
)


class Consumers:
    """Each consumer's cursor, and the lease that lets one worker at a time move it."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def ensure(self, name: str, position: int, at: datetime) -> None:
        """Start the consumer at ``position`` unless it exists."""
        values = {"name": name, "position": position, "attempts": 0, "updated_at": at}
        if self.connection.dialect.name == "postgresql":
            statement: Any = postgresql.insert(event_consumers).values(values)
        else:
            statement = sqlite.insert(event_consumers).values(values)
        self.connection.execute(statement.on_conflict_do_nothing(index_elements=["name"]))

    def claim(self, name: str, worker: str, at: datetime, lease: timedelta) -> bool:
        """Take (or renew) the lease unless another worker holds an unexpired one."""
        result = self.connection.execute(
            sa.update(event_consumers)
            .where(
                _CONSUMERS.name == name,
                sa.or_(
                    _CONSUMERS.leased_by.is_(None),
                    _CONSUMERS.leased_by == worker,
                    _CONSUMERS.lease_expires_at < at,
                ),
            )
            .values(leased_by=worker, lease_expires_at=at + lease, updated_at=at)
        )
        return result.rowcount == 1

    def state(self, name: str) -> tuple[int, int, datetime | None] | None:
        """Position, failed attempts at the next event, and when to try it again."""
        row = self.connection.execute(_STATE, {"name": name}).first()
        return None if row is None else (int(row.position), int(row.attempts), row.next_attempt_at)

    def states(self, names: Sequence[str]) -> dict[str, tuple[int, int, datetime | None]]:
        """:meth:`state` of several consumers in one statement (those that exist)."""
        if not names:
            return {}
        rows = self.connection.execute(_STATES, {"names": sorted(set(names))})
        return {r.name: (int(r.position), int(r.attempts), r.next_attempt_at) for r in rows}

    def claim_at(
        self, names: Sequence[str], worker: str, position: int, at: datetime, lease: timedelta
    ) -> set[str]:
        """Take the lease of each of these consumers that is still at ``position`` and that
        no other worker holds, in one statement; the names taken."""
        if not names:
            return set()
        taken = self.connection.execute(
            _CLAIM_AT,
            {
                "names": sorted(set(names)),
                "at_position": position,
                "worker": worker,
                "at": at,
                "until": at + lease,
            },
        )
        return set(taken.scalars())

    def pass_over(self, names: Sequence[str], worker: str, position: int, at: datetime) -> None:
        """Move these consumers' cursors forward to ``position`` (never back) past events
        none of them takes, in one statement, without a lease of their own: a consumer
        another worker holds is left to it."""
        if not names:
            return
        self.connection.execute(
            _PASS_OVER,
            {"names": sorted(set(names)), "to_position": position, "worker": worker, "at": at},
        )

    def move(
        self,
        name: str,
        worker: str,
        *,
        expected: int,
        position: int,
        attempts: int,
        next_attempt_at: datetime | None,
        at: datetime,
        lease: timedelta,
        release: bool = False,
    ) -> bool:
        """Move the cursor (or count a failed attempt) while holding the lease, and let the
        lease go when ``release``; False when the lease was lost to another worker, which
        then owns the cursor."""
        result = self.connection.execute(
            _MOVE,
            {
                "consumer": name,
                "worker": worker,
                "expected": expected,
                "to_position": position,
                "to_attempts": attempts,
                "next_at": next_attempt_at,
                "holder": None if release else worker,
                "until": None if release else at + lease,
                "at": at,
            },
        )
        return result.rowcount == 1

    def release(self, name: str, worker: str) -> None:
        self.connection.execute(
            sa.update(event_consumers)
            .where(_CONSUMERS.name == name, _CONSUMERS.leased_by == worker)
            .values(leased_by=None, lease_expires_at=None)
        )

    def drop(self, name: str) -> None:
        self.connection.execute(sa.delete(event_consumers).where(_CONSUMERS.name == name))

    def readers(self, name: str | None = None) -> list[Reader]:
        """Every reader (or the one called ``name``) with how far behind it is, slowest
        first; the slowest holds retention back unless it is at the end."""
        last = EventLog(self.connection).last_position()
        next_event = (
            sa.select(_EVENTS.occurred_at)
            .where(_EVENTS.position == _CONSUMERS.position + 1)
            .scalar_subquery()
        )
        query = sa.select(event_consumers, next_event.label("oldest")).order_by(
            _CONSUMERS.position, _CONSUMERS.name
        )
        slowest = self.connection.execute(sa.select(sa.func.min(_CONSUMERS.position))).scalar()
        if name is not None:
            query = query.where(_CONSUMERS.name == name)
        return [
            Reader(
                name=r.name,
                position=int(r.position),
                behind=max(last - int(r.position), 0),
                oldest_waiting_at=r.oldest,
                moved_at=r.updated_at,
                leased_by=r.leased_by,
                lease_expires_at=r.lease_expires_at,
                attempts=int(r.attempts),
                next_attempt_at=r.next_attempt_at,
                holds_retention=int(r.position) == slowest and int(r.position) < last - 1,
            )
            for r in self.connection.execute(query)
        ]

    def positions(self) -> dict[str, int]:
        rows = self.connection.execute(sa.select(_CONSUMERS.name, _CONSUMERS.position))
        return {r.name: int(r.position) for r in rows}


_SUBS = webhook_subscriptions.c
_DELIVERIES = webhook_deliveries.c
_REPLAYS = webhook_replays.c


class WebhookRepository:
    """Subscriptions (their secrets sealed with the data keys) and the delivery log."""

    def __init__(self, connection: sa.Connection, protector: DataProtector) -> None:
        self.connection = connection
        self.protector = protector

    def add(
        self,
        url: str,
        event_types: Sequence[str],
        secret: str,
        description: str | None,
        at: datetime,
        by: str,
        *,
        channels: Sequence[str] = (),
        warehouses: Sequence[str] = (),
    ) -> int:
        return int(
            self.connection.execute(
                sa.insert(webhook_subscriptions)
                .values(
                    url=url,
                    event_types=list(event_types),
                    secret=self.protector.encrypt(secret),
                    description=description,
                    created_at=at,
                    created_by=by,
                    channels=list(channels) or None,
                    warehouses=list(warehouses) or None,
                )
                .returning(_SUBS.id)
            ).scalar_one()
        )

    def change_filters(
        self,
        subscription_id: int,
        *,
        event_types: Sequence[str] | None = None,
        channels: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
    ) -> None:
        """New event types or filters (None: unchanged; an empty list drops a filter)."""
        values: dict[str, Any] = {}
        if event_types is not None:
            values["event_types"] = list(event_types)
        if channels is not None:
            values["channels"] = list(channels) or None
        if warehouses is not None:
            values["warehouses"] = list(warehouses) or None
        if values:
            self.connection.execute(
                sa.update(webhook_subscriptions).where(_SUBS.id == subscription_id).values(**values)
            )

    def _query(self) -> sa.Select[Any]:
        replaying = (
            sa.exists()
            .where(_REPLAYS.subscription_id == _SUBS.id, _REPLAYS.finished_at.is_(None))
            .label("replaying")
        )
        return sa.select(
            webhook_subscriptions,
            _CONSUMERS.position.label("consumer_position"),
            _CONSUMERS.attempts,
            _CONSUMERS.next_attempt_at,
            replaying,
        ).select_from(
            webhook_subscriptions.outerjoin(
                event_consumers,
                _CONSUMERS.name == sa.literal("webhook:") + sa.cast(_SUBS.id, sa.String),
            )
        )

    def get(self, subscription_id: int) -> Subscription | None:
        row = self.connection.execute(self._query().where(_SUBS.id == subscription_id)).first()
        return None if row is None else _subscription(row)

    def all(self) -> list[Subscription]:
        return [_subscription(r) for r in self.connection.execute(self._query().order_by(_SUBS.id))]

    def secrets(self, subscription_id: int, at: datetime) -> list[str]:
        """The secrets that sign deliveries at ``at``: the current one, and after a rotation
        the old one until its grace period ends."""
        row = self.connection.execute(
            sa.select(_SUBS.secret, _SUBS.previous_secret, _SUBS.previous_secret_until).where(
                _SUBS.id == subscription_id
            )
        ).first()
        if row is None:
            return []
        sealed = [row.secret]
        if row.previous_secret and row.previous_secret_until and row.previous_secret_until > at:
            sealed.append(row.previous_secret)
        return [opened for opened in (self.protector.decrypt(s) for s in sealed) if opened]

    def rotate(self, subscription_id: int, secret: str, old_until: datetime) -> None:
        """A new signing secret; the current one keeps signing until ``old_until``."""
        self.connection.execute(
            sa.update(webhook_subscriptions)
            .where(_SUBS.id == subscription_id)
            .values(
                previous_secret=_SUBS.secret,
                previous_secret_until=old_until,
                secret=self.protector.encrypt(secret),
            )
        )

    def pause(
        self,
        subscription_id: int,
        at: datetime | None,
        by: str | None,
        *,
        reason: str | None = None,
    ) -> bool:
        """Pause the subscription (``at``, who, and why when automatic), or resume it
        (None), which also forgets its run of failures."""
        values: dict[str, Any] = {"paused_at": at, "paused_by": by, "paused_reason": reason}
        if at is None:
            values.update(failures=0, failing_since=None)
        result = self.connection.execute(
            sa.update(webhook_subscriptions).where(_SUBS.id == subscription_id).values(**values)
        )
        return result.rowcount == 1

    def note_attempts(
        self, subscription_id: int, *, failed: int, went_through: bool, at: datetime
    ) -> tuple[int, datetime | None]:
        """Count failed attempts in a row: a delivery that went through starts the count
        again (from the failures that came with it). Returns the count and since when."""
        values: dict[str, Any]
        if failed == 0:
            values = {"failures": 0, "failing_since": None}
        elif went_through:
            values = {"failures": failed, "failing_since": at}
        else:
            values = {
                "failures": _SUBS.failures + failed,
                "failing_since": sa.func.coalesce(_SUBS.failing_since, at),
            }
        row = self.connection.execute(
            sa.update(webhook_subscriptions)
            .where(_SUBS.id == subscription_id)
            .values(**values)
            .returning(_SUBS.failures, _SUBS.failing_since)
        ).first()
        return (0, None) if row is None else (int(row.failures), row.failing_since)

    def prune_log(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` of the oldest delivery attempts made before ``before``;
        never those of events past a subscription's cursor (the dispatcher reads them to
        know what it delivered there and how often it failed). Returns how many."""
        cursor = (
            sa.select(_CONSUMERS.position)
            .where(
                _CONSUMERS.name
                == sa.literal("webhook:") + sa.cast(_DELIVERIES.subscription_id, sa.String)
            )
            .scalar_subquery()
        )
        oldest = (
            sa.select(_DELIVERIES.id)
            .where(
                _DELIVERIES.attempted_at < before,
                sa.or_(_DELIVERIES.replay_id.is_not(None), _DELIVERIES.position <= cursor),
            )
            .order_by(_DELIVERIES.id)
            .limit(limit)
        )
        ids = list(self.connection.execute(oldest).scalars())
        if ids:
            self.connection.execute(sa.delete(webhook_deliveries).where(_DELIVERIES.id.in_(ids)))
        return len(ids)

    # ------------------------------------------------------------------ replays

    def add_replay(
        self, subscription_id: int, after: int, until: int, at: datetime, by: str
    ) -> Replay:
        replay_id = self.connection.execute(
            sa.insert(webhook_replays)
            .values(
                subscription_id=subscription_id,
                after_position=after,
                until_position=until,
                requested_at=at,
                requested_by=by,
            )
            .returning(_REPLAYS.id)
        ).scalar_one()
        return Replay(int(replay_id), subscription_id, after, until, at, by, None, after)

    def replays(self, subscription_id: int, *, unfinished: bool = False) -> list[Replay]:
        """The subscription's replays, oldest first, with how far each has got."""
        query = (
            sa.select(webhook_replays, _CONSUMERS.position.label("consumer_position"))
            .select_from(
                webhook_replays.outerjoin(
                    event_consumers,
                    _CONSUMERS.name == sa.literal("replay:") + sa.cast(_REPLAYS.id, sa.String),
                )
            )
            .where(_REPLAYS.subscription_id == subscription_id)
            .order_by(_REPLAYS.id)
        )
        if unfinished:
            query = query.where(_REPLAYS.finished_at.is_(None))
        return [_replay(r) for r in self.connection.execute(query)]

    def finish_replay(self, replay_id: int, at: datetime) -> None:
        """The replay is done: its cursor goes."""
        self.connection.execute(
            sa.update(webhook_replays).where(_REPLAYS.id == replay_id).values(finished_at=at)
        )
        self.connection.execute(
            sa.delete(event_consumers).where(_CONSUMERS.name == replay_consumer_name(replay_id))
        )

    def delete(self, subscription_id: int) -> bool:
        for replay in self.replays(subscription_id, unfinished=True):
            self.finish_replay(replay.id, replay.requested_at)
        self.connection.execute(
            sa.delete(webhook_deliveries).where(_DELIVERIES.subscription_id == subscription_id)
        )
        result = self.connection.execute(
            sa.delete(webhook_subscriptions).where(_SUBS.id == subscription_id)
        )
        return result.rowcount == 1

    def log_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Several delivery attempts in one statement (the columns of :meth:`log`)."""
        if rows:
            self.connection.execute(sa.insert(webhook_deliveries), list(rows))

    def settled_after(
        self, subscription_id: int, after: int
    ) -> tuple[set[str], dict[str, tuple[int, datetime]]]:
        """Of the events placed after ``after`` (the cursor): those already delivered or
        dead-lettered (rounds deliver past an event that failed), and for those that
        failed, how often and when last."""
        rows = self.connection.execute(
            sa.select(
                _DELIVERIES.event_id,
                _DELIVERIES.outcome,
                sa.func.count().label("n"),
                sa.func.max(_DELIVERIES.attempted_at).label("last_at"),
            )
            .where(
                _DELIVERIES.subscription_id == subscription_id,
                _DELIVERIES.position > after,
                _DELIVERIES.replay_id.is_(None),  # a replay's attempts are its own
            )
            .group_by(_DELIVERIES.event_id, _DELIVERIES.outcome)
        )
        done: set[str] = set()
        failures: dict[str, tuple[int, datetime]] = {}
        for row in rows:
            if row.outcome == DeliveryOutcome.FAILED.value:
                failures[row.event_id] = (int(row.n), row.last_at)
            else:
                done.add(row.event_id)
        return done, failures

    def log(self, subscription_id: int, event: StoredEvent, attempt: int, **outcome: Any) -> None:
        """One delivery attempt: ``outcome``, ``status_code``, ``latency_ms``, ``error``,
        ``attempted_at``."""
        self.connection.execute(
            sa.insert(webhook_deliveries).values(
                subscription_id=subscription_id,
                event_id=event.event_id,
                event_type=event.type,
                position=event.position,
                attempt=attempt,
                **outcome,
            )
        )

    def deliveries(
        self,
        subscription_id: int,
        *,
        outcome: DeliveryOutcome | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Delivery], str | None]:
        """Newest first."""
        query = (
            sa.select(webhook_deliveries)
            .where(_DELIVERIES.subscription_id == subscription_id)
            .order_by(_DELIVERIES.id.desc())
            .limit(limit + 1)
        )
        if outcome is not None:
            query = query.where(_DELIVERIES.outcome == outcome.value)
        if cursor:
            (last_id,) = decode_int_cursor(cursor, 1)
            query = query.where(_DELIVERIES.id < min(max(last_id, 0), 2**63 - 1))
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return [_delivery(r) for r in rows], encode_cursor(rows[-1].id) if more else None


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=int(row.id),
        url=row.url,
        event_types=tuple(row.event_types),
        description=row.description,
        created_at=row.created_at,
        created_by=row.created_by,
        position=None if row.consumer_position is None else int(row.consumer_position),
        attempts=int(row.attempts or 0),
        next_attempt_at=row.next_attempt_at,
        paused_at=row.paused_at,
        paused_by=row.paused_by,
        paused_reason=row.paused_reason,
        failures=int(row.failures or 0),
        failing_since=row.failing_since,
        replaying=bool(row.replaying),
        channels=tuple(row.channels or ()),
        warehouses=tuple(row.warehouses or ()),
        old_secret_until=row.previous_secret_until if row.previous_secret else None,
    )


def _replay(row: Any) -> Replay:
    return Replay(
        id=int(row.id),
        subscription_id=int(row.subscription_id),
        after_position=int(row.after_position),
        until_position=int(row.until_position),
        requested_at=row.requested_at,
        requested_by=row.requested_by,
        finished_at=row.finished_at,
        position=None if row.consumer_position is None else int(row.consumer_position),
    )


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=int(row.id),
        subscription_id=int(row.subscription_id),
        event_id=row.event_id,
        event_type=row.event_type,
        position=int(row.position),
        attempt=int(row.attempt),
        outcome=DeliveryOutcome(row.outcome),
        status_code=row.status_code,
        latency_ms=row.latency_ms,
        error=row.error,
        attempted_at=row.attempted_at,
        replay_id=None if row.replay_id is None else int(row.replay_id),
    )
