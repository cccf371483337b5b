"""After-commit reactions run by the dispatcher: each reaction is a consumer of the outbox
with its own cursor and lease (as a webhook subscription is), handed every event of its
types in commit order. Its outside calls are made with no transaction open; what it
writes commits together with its cursor moving past the event, so two workers never run
it for the same event at once and its writes happen once. A reaction that fails is tried
again, doubling its wait, and its cursor stays put: nothing after it goes first, nothing
is lost, and ``potok events stats`` shows the consumer's failed attempts.

What a round costs does not grow with the reactions: the reactions whose cursors stand at
the same place (all of them, once they have caught up) share one read of the window -
only events of their types, each payload decoded once (or not read at all when none of them
reads payloads: ``EventReaction.payloads``) - in one read-only transaction
that also asks each reaction which of its types may call for work now
(``EventReaction.narrows``: the rules' reaction does not read back the tags and notes its
rules made when no rule waits for one) and which of its events do
(``EventReaction.selects``: from the payloads, or one read for the whole window). Then one
transaction takes the leases of the reactions with work and passes the others' cursors
over the window in one statement. A reaction's own transactions are those that write what
it settled; an event it had nothing to do with moves its cursor with the next write, not
one of its own. A worker whose cursors are all at the end reads three figures a round and
writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from potok.collector import collector_held
from potok.domain.webhooks import EventBatch, StoredEvent, retry_delay
from potok.services.outside import Outside, Settle
from potok.services.reactions import AFTER_COMMIT, EventReaction
from potok.services.unit_of_work import UnitOfWork, atomically, reading
from potok.worker.costs import SHARED

if TYPE_CHECKING:
    from potok.worker.dispatcher import Dispatcher
    from potok.worker.windows import Round

log = logging.getLogger("potok.worker.reactions")

RUN_BY_THE_RUNNER: tuple[EventReaction, ...] = tuple(
    r for r in AFTER_COMMIT if r.handler is not None or r.window_handler is not None
)
"""The reactions this module runs (the others have runners of their own)."""

State = tuple[int, int, datetime | None]  # position, failed attempts, next attempt due


@dataclass(frozen=True, slots=True)
class _Member:
    reaction: EventReaction
    types: frozenset[str]
    attempts: int


def reaction_names() -> list[str]:
    return [r.consumer for r in RUN_BY_THE_RUNNER]


def run_reactions(
    dispatcher: Dispatcher,
    last: int,
    report: Round,
    states: dict[str, State] | None = None,
    *,
    reactions: Sequence[EventReaction] = RUN_BY_THE_RUNNER,
) -> None:
    """Give every after-commit reaction (or these) the events it has not had yet
    (``states``: the cursors as just read, when the caller has them)."""
    costs = dispatcher.costs
    at = dispatcher.clock()
    names = [r.consumer for r in reactions]
    with costs.measure(SHARED):
        if states is None:
            states = reading(dispatcher.uow(), lambda uow: uow.consumers.states(names))
        missing = [n for n in names if n not in states]
        if missing:
            # no cursor: a database made since (its migration starts the cursor of a
            # reaction at the end of the history it did not exist for) - everything is
            # new to it
            def ensure(uow: UnitOfWork) -> dict[str, State]:
                for name in missing:
                    uow.consumers.ensure(name, 0, at)
                return uow.consumers.states(names)

            states = atomically(dispatcher.uow(), ensure)
    groups: dict[int, list[_Member]] = {}
    for reaction in reactions:
        position, attempts, next_at = states[reaction.consumer]
        if position >= last or (next_at is not None and next_at > at):
            continue  # at the end, or waiting for a retry
        member = _Member(reaction, frozenset(reaction.types), attempts)
        groups.setdefault(position, []).append(member)
    if not groups:
        return
    outside = Outside(
        dispatcher.uow,
        dispatcher.potok.carriers,
        dispatcher.clock,
        gateways=dispatcher.potok.gateways,
        fiscal=dispatcher.potok.fiscal,
    )
    for position, members in sorted(groups.items()):
        _run_group(dispatcher, outside, position, members, report)


def _run_group(
    dispatcher: Dispatcher,
    outside: Outside,
    position: int,
    members: list[_Member],
    report: Round,
) -> None:
    """The reactions whose cursors stand at ``position``: one read of the window for all,
    one transaction for their leases and passes, then each with work runs."""
    costs = dispatcher.costs
    batch = dispatcher.potok.settings.events.batch_size
    at = dispatcher.clock()

    def look(uow: UnitOfWork) -> tuple[EventBatch, dict[str, list[StoredEvent]]]:
        wanted = {m.reaction.consumer: _types_now(uow, m) for m in members}
        types = sorted({t for each in wanted.values() for t in each})
        if types:
            payloads = any(m.reaction.payloads for m in members)
            read = uow.event_log.after(position, batch, types=types, payloads=payloads)
        else:  # none of them may act on anything now: the cursors pass over the window
            read = EventBatch([], uow.event_log.last_position())
        chosen: dict[str, list[StoredEvent]] = {}
        for member in members:
            mine = [e for e in read.events if e.type in wanted[member.reaction.consumer]]
            selects = member.reaction.selects
            if mine and selects is not None:
                with costs.measure(member.reaction.consumer):
                    mine = selects(outside, uow, mine)
            chosen[member.reaction.consumer] = mine
        return read, chosen

    with costs.measure(SHARED):
        read, chosen = reading(dispatcher.uow(), look)
    end = max(read.through, position)
    working = [m for m in members if chosen[m.reaction.consumer]]
    idle = [m.reaction.consumer for m in members if not chosen[m.reaction.consumer]]
    if not working and end <= position:
        return  # nothing placed past them yet

    def take(uow: UnitOfWork) -> set[str]:
        if end > position:
            uow.consumers.pass_over(idle, dispatcher.name, end, at)
        return uow.consumers.claim_at(
            [m.reaction.consumer for m in working], dispatcher.name, position, at, dispatcher.lease
        )

    with costs.measure(SHARED):
        taken = atomically(dispatcher.uow(), take)
    report.skipped_busy += len(working) - len(taken)
    for member in working:
        name = member.reaction.consumer
        if name not in taken:
            continue  # another worker holds it, or moved it meanwhile
        events = chosen[name]
        with costs.measure(name, len(events)):
            if member.reaction.window_handler is not None:
                _run_window(dispatcher, outside, member, position, end, events, report)
            else:
                _run_each(dispatcher, outside, member, position, end, events, report)
    report.full = report.full or len(read.events) >= batch


def _types_now(uow: UnitOfWork, member: _Member) -> frozenset[str]:
    """Of the reaction's types, those it may act on now (``EventReaction.narrows``)."""
    narrows = member.reaction.narrows
    if narrows is None:
        return member.types
    return member.types & frozenset(narrows(uow))


def _run_each(
    dispatcher: Dispatcher,
    outside: Outside,
    member: _Member,
    position: int,
    end: int,
    events: Sequence[StoredEvent],
    report: Round,
) -> None:
    """Hand the reaction its events one at a time; what one settles commits with the
    cursor moving past it. Events it had nothing to write for move the cursor with the
    next write (or the last), and at least every third of the lease, which renews it."""
    reaction = member.reaction
    assert reaction.handler is not None
    name = reaction.consumer
    passed = position  # how far it got; the cursor stands at ``position``
    renew_s = dispatcher.lease.total_seconds() / 3
    written = time.monotonic()
    for event in events:
        try:
            settle = reaction.handler(outside, event)
        except Exception as error:
            # the events before it are done (positions are consecutive): the cursor waits
            # just before this one
            tries = member.attempts + 1 if passed == position else 1
            before = max(passed, event.position - 1)
            _failed(dispatcher, reaction, event, position, before, tries, error)
            report.reactions_failed += 1
            return
        passed = event.position
        report.reactions_run += 1
        if settle is None and time.monotonic() - written < renew_s:
            continue  # nothing to write: the cursor moves with the next write
        if not _settle(dispatcher, name, position, passed, settle):
            return  # the lease was lost: the other worker carries on from the cursor
        position, written = passed, time.monotonic()
    _move(dispatcher, name, position, end, attempts=0, wait=None)


def _run_window(
    dispatcher: Dispatcher,
    outside: Outside,
    member: _Member,
    position: int,
    end: int,
    taken: Sequence[StoredEvent],
    report: Round,
) -> None:
    """Hand the reaction the window's events of its types at once, with Python's cycle
    collector held off meanwhile; its cursor moves past the whole window with what it
    settled (and its lease goes), or stays where it was when it fails."""
    reaction = member.reaction
    assert reaction.window_handler is not None
    try:
        with collector_held():  # the window's objects go with it (``potok/collector.py``)
            settle = reaction.window_handler(outside, taken)
    except Exception as error:
        before = max(position, taken[0].position - 1)
        _failed(dispatcher, reaction, taken[0], position, before, member.attempts + 1, error)
        report.reactions_failed += 1
        return
    if _settle(dispatcher, reaction.consumer, position, end, settle, release=True):
        report.reactions_run += len(taken)


def _settle(
    dispatcher: Dispatcher,
    name: str,
    expected: int,
    position: int,
    settle: Settle | None,
    *,
    release: bool = False,
) -> bool:
    """Move the reaction's cursor past the event and write what it settled, together."""
    at = dispatcher.clock()

    def work(uow: UnitOfWork) -> bool:
        if not uow.consumers.move(
            name,
            dispatcher.name,
            expected=expected,
            position=position,
            attempts=0,
            next_attempt_at=None,
            at=at,
            lease=dispatcher.lease,
            release=release,
        ):
            return False
        if settle is not None:
            settle(uow)
        return True

    return atomically(dispatcher.uow(), work)


def _failed(
    dispatcher: Dispatcher,
    reaction: EventReaction,
    event: StoredEvent,
    position: int,
    passed: int,
    tries: int,
    error: Exception,
) -> None:
    settings = dispatcher.potok.settings.events
    delay = retry_delay(tries, settings.backoff_s, settings.backoff_max_s, dispatcher.rand)
    log.warning(
        "reaction %s to event %s (%s) failed, attempt %d; again in %.0f s: %s",
        reaction.name,
        event.event_id,
        event.type,
        tries,
        delay,
        error,
    )
    _move(dispatcher, reaction.consumer, position, passed, attempts=tries, wait=delay)


def _move(
    dispatcher: Dispatcher,
    name: str,
    expected: int,
    position: int,
    *,
    attempts: int,
    wait: float | None,
) -> None:
    """Move the cursor (and count a failure) and let the lease go."""
    at = dispatcher.clock()
    atomically(
        dispatcher.uow(),
        lambda uow: uow.consumers.move(
            name,
            dispatcher.name,
            expected=expected,
            position=position,
            attempts=attempts,
            next_attempt_at=None if wait is None else at + timedelta(seconds=wait),
            at=at,
            lease=dispatcher.lease,
            release=True,
        ),
    )
