"""Telling marketplaces how much they may sell: for each mapped SKU at each marketplace
warehouse mapped to a Potok location, what that location can promise the connection's
channel, never more than the channel's available-to-promise, less a safety reserve.

Two ways in: :func:`push_stock` sends the figures of some SKUs (or all mapped ones, a
full re-sync) now; :func:`push_stock_changes` is an outbox consumer, run by the
dispatcher after commit, that reads the stock events committed since its cursor, gathers
the SKUs they touched and pushes their current figures at most once per interval (the
latest value wins: figures are read when pushing, not taken from the events). The
marketplace is never called inside a transaction.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from potok.connectors.marketplaces import (
    CredentialsRefused,
    MarketplaceClients,
    MarketplaceError,
    MarketplaceNotSupported,
    StockLevel,
)
from potok.domain.kernel import Clock, utc_now
from potok.domain.marketplaces import Connection, ConnectionNotFound, Credentials, ItemMapping
from potok.domain.marketplaces.stock import MAP_CHANGED, STOCK_EVENTS
from potok.domain.webhooks import StoredEvent, retry_delay
from potok.services.marketplaces.refusals import note_stock_refusals
from potok.services.unit_of_work import UnitOfWork, atomically, reading

READ_AT_ONCE = 1000
"""Products whose figures are read in one query."""
SENT_AT_ONCE = 1000
"""Figures handed to the connector at once (WB's batch; ten of Ozon's): between two such
slices a pushing worker renews its hold on the cursor."""
LATER_S = 30.0
"""The least pause before figures the marketplace asked to be sent later go again (Ozon
takes one update of an item at a warehouse per 30 seconds)."""
BACKOFF_S = 5.0
BACKOFF_MAX_S = 600.0


def consumer_name(code: str) -> str:
    """The outbox cursor of one connection's stock push."""
    return f"marketplace-stock/{code}"


@dataclass
class StockPush:
    """What one stock push did."""

    connection: str
    events: int = 0  # stock events read (event-driven pushes)
    positions: int = 0  # (marketplace warehouse, item) figures sent
    accepted: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # "warehouse/SKU" -> reason
    later: dict[str, str] = field(default_factory=dict)  # asked to be sent again later
    unmapped: list[str] = field(default_factory=list)  # SKUs asked for, with no item
    requests: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0
    error: str | None = None
    credentials_refused: bool = False


@dataclass(frozen=True, slots=True)
class _Plan:
    connection: Connection
    credentials: Credentials
    levels: Mapping[str, list[StockLevel]]  # marketplace warehouse -> figures
    unmapped: list[str]


class _TakenOver(Exception):
    """The lease on the connection's stock cursor passed to another worker."""


def push_stock(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    *,
    skus: Collection[str] | None = None,
    reserve: int = 0,
    still_mine: Callable[[], bool] = lambda: True,
    clock: Clock = utc_now,
) -> StockPush:
    """Send the marketplace the figures of these SKUs (every mapped SKU when None: a full
    re-sync) at every mapped warehouse. ``still_mine`` is asked between slices of the
    figures (the outbox consumer renews its lease there); False stops the push. Items the
    marketplace refuses go to the connection's journal and alert the operators once; items
    it asks to be sent later are in ``later``."""
    plan = reading(uow, lambda uow: _plan(uow, code, skus, reserve))
    outcome = StockPush(plan.connection.code, unmapped=plan.unmapped)
    if not any(plan.levels.values()):
        return outcome
    try:
        client = clients.build(plan.connection, plan.credentials)
    except MarketplaceNotSupported as error:
        outcome.error = error.detail
        return outcome
    taken: list[str] = []  # positions the marketplace took
    try:
        for warehouse, levels in plan.levels.items():
            for start in range(0, len(levels), SENT_AT_ONCE):
                if not still_mine():
                    raise _TakenOver
                some = levels[start : start + SENT_AT_ONCE]
                sent = client.push_stock(warehouse, some)
                outcome.positions += len(some)
                outcome.accepted += sent.accepted
                outcome.requests += sent.requests
                for sku, reason in sent.refused.items():
                    outcome.refused[f"{warehouse}/{sku}"] = reason
                for sku, reason in sent.later.items():
                    outcome.later[f"{warehouse}/{sku}"] = reason
                taken += [
                    f"{warehouse}/{level.sku}"
                    for level in some
                    if level.sku not in sent.refused and level.sku not in sent.later
                ]
    except CredentialsRefused as error:
        outcome.error, outcome.credentials_refused = error.detail, True
    except MarketplaceError as error:
        outcome.error = str(error)
    except _TakenOver:
        outcome.error = "another worker took the stock push over (this one was too slow)"
    finally:
        client.close()
    outcome.rate_limit_waits = client.stats.rate_limit_waits
    outcome.waited_s = round(client.stats.waited_s, 3)
    note_stock_refusals(uow, plan.connection, outcome.refused, taken, clock)
    return outcome


def _plan(uow: UnitOfWork, code: str, skus: Collection[str] | None, reserve: int) -> _Plan:
    connection = uow.marketplaces.get_by_code(code)
    if connection is None:
        raise ConnectionNotFound(connection=code)
    credentials = uow.marketplaces.credentials(connection.id)
    wanted = None if skus is None else sorted(set(skus))
    mapped = uow.marketplace_items.mapped(connection.id, skus=wanted)
    unmapped = sorted(set(wanted or ()) - {m.sku for m in mapped})
    keyed = [(m, m.stock_key(connection.marketplace)) for m in mapped]
    usable: list[tuple[ItemMapping, str]] = [(m, k) for m, k in keyed if k]
    unmapped += sorted(m.sku for m, k in keyed if not k)
    product_ids = uow.products.ids_for([m.sku for m, _ in usable])
    at: dict[tuple[int, str], int] = {}
    promise: dict[int, int] = {}
    ids = sorted(set(product_ids.values()))
    for start in range(0, len(ids), READ_AT_ONCE):
        some_at, some_total = uow.queries.promisable_by_location(
            ids[start : start + READ_AT_ONCE], connection.channel_code
        )
        at.update(some_at)
        promise.update(some_total)
    left = dict(promise)  # what the channel may still be promised, warehouse by warehouse
    levels: dict[str, list[StockLevel]] = {}
    for theirs in sorted(connection.warehouses):
        ours = connection.warehouses[theirs]
        found = levels.setdefault(theirs, [])
        for mapping, key in usable:
            pid = product_ids.get(mapping.sku)
            if pid is None:
                continue
            quantity = max(0, min(at.get((pid, ours), 0) - reserve, left.get(pid, 0)))
            left[pid] = left.get(pid, 0) - quantity
            found.append(StockLevel(mapping.sku, key, quantity))
    return _Plan(connection, credentials, levels, unmapped)


# ---------------------------------------------------------------------- after commit


@dataclass(frozen=True, slots=True)
class _Claimed:
    position: int
    attempts: int
    events: list[StoredEvent] | None  # None: not due yet
    last: int  # how far the read went (the end of the outbox when not due)
    fresh: bool = False  # the cursor was made now: everything is pushed once


def push_stock_changes(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    worker: str,
    *,
    every_s: float = 30.0,
    reserve: int = 0,
    batch: int = 5000,
    lease: timedelta = timedelta(seconds=60),
    clock: Clock = utc_now,
) -> StockPush | None:
    """Push the figures of the SKUs whose stock events committed since this connection's
    cursor, at most once per ``every_s``; None when there was nothing to do (or another
    worker holds the cursor). A marketplace that cannot be reached leaves the cursor where
    it was and is tried again after a growing pause."""
    name = consumer_name(code)
    at = clock()

    def claim(uow: UnitOfWork) -> _Claimed | None:
        connection = uow.marketplaces.get_by_code(code)
        if connection is None or not connection.active:
            return None
        last = uow.event_log.last_position()
        fresh = uow.consumers.state(name) is None
        uow.consumers.ensure(name, last, at)
        if not uow.consumers.claim(name, worker, at, lease):
            return None
        state = uow.consumers.state(name)
        assert state is not None
        position, attempts, next_at = state
        if next_at is not None and next_at > at:
            return _Claimed(position, attempts, None, last)
        read = uow.event_log.after(position, batch, types=(*STOCK_EVENTS, MAP_CHANGED))
        return _Claimed(position, attempts, read.events, read.through, fresh)

    got = atomically(uow, claim)
    if got is None:
        return None
    try:
        if got.events is None:
            return None
        if not got.events and not got.fresh:
            if got.last > got.position:  # nothing about stock: pass over the rest
                move_cursor(uow, name, worker, got.position, got.last, 0, None, at, lease)
            return None
        through = got.last
        skus, everything = _touched(got.events, code)
        everything = everything or got.fresh
        if not skus and not everything:
            move_cursor(uow, name, worker, got.position, through, 0, None, at, lease)
            return None
        outcome = push_stock(
            uow, clients, code, skus=None if everything else skus, reserve=reserve, clock=clock
        )
        outcome.events = len(got.events)
        if outcome.error is not None:
            tries = got.attempts + 1
            pause = retry_delay(tries, BACKOFF_S, BACKOFF_MAX_S, random.random)
            retry_at = clock() + timedelta(seconds=pause)
            move_cursor(
                uow, name, worker, got.position, got.position, tries, retry_at, clock(), lease
            )
        elif outcome.later:
            # the marketplace will take these figures only later (Ozon: 30 seconds after the
            # last one): the same events are read again then, their latest figures pushed
            retry_at = clock() + timedelta(seconds=max(every_s, LATER_S))
            move_cursor(uow, name, worker, got.position, got.position, 0, retry_at, clock(), lease)
        else:
            due = clock() + timedelta(seconds=every_s) if every_s else None
            move_cursor(uow, name, worker, got.position, through, 0, due, clock(), lease)
        return outcome
    finally:
        atomically(uow, lambda uow: uow.consumers.release(name, worker))


def _touched(events: Sequence[StoredEvent], code: str) -> tuple[set[str], bool]:
    """The SKUs whose figures the events may have moved, and whether any SKU's may have
    (a bulk upload, this connection's item map changed). A change at any location counts:
    it moves the channel's available-to-promise, which bounds what each marketplace
    warehouse is told."""
    skus: set[str] = set()
    for event in events:
        payload = event.payload
        if event.type == "stock.synced":
            return skus, True
        if event.type == MAP_CHANGED:
            if payload.get("connection") == code:
                return skus, True
            continue
        places = payload.get("items") if "items" in payload else [payload]
        for place in places or ():
            sku = place.get("sku") if isinstance(place, Mapping) else None
            if isinstance(sku, str):
                skus.add(sku)
    return skus, False


def move_cursor(
    uow: UnitOfWork,
    name: str,
    worker: str,
    expected: int,
    position: int,
    attempts: int,
    next_at: datetime | None,
    at: datetime,
    lease: timedelta,
) -> None:
    """Move a worker's outbox cursor (held under its lease) in a transaction of its own."""
    atomically(
        uow,
        lambda uow: uow.consumers.move(
            name,
            worker,
            expected=expected,
            position=position,
            attempts=attempts,
            next_attempt_at=next_at,
            at=at,
            lease=lease,
        ),
    )
