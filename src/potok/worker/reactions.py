"""After-commit reactions run by the dispatcher: each reaction is a consumer of the outbox
with its own cursor and lease (as a webhook subscription is), handed every event of its
types in commit order. Its outside calls are made with no transaction open; what it
writes commits together with its cursor moving past the event, so two workers never run
it for the same event at once and its writes happen once. A reaction that fails is tried
again, doubling its wait, and its cursor stays put: nothing after it goes first, nothing
is lost, and ``potok events stats`` shows the consumer's failed attempts."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from potok.domain.webhooks import StoredEvent, retry_delay
from potok.services.outside import Outside, Settle
from potok.services.reactions import AFTER_COMMIT, EventReaction
from potok.services.unit_of_work import UnitOfWork, atomically, reading

if TYPE_CHECKING:
    from potok.worker.dispatcher import Dispatcher
    from potok.worker.windows import Round

log = logging.getLogger("potok.worker.reactions")

PASS_S = 1.0  # how often a reaction's cursor is moved past events it does not take


def run_reactions(dispatcher: Dispatcher, last: int, report: Round) -> None:
    """Give every after-commit reaction the events it has not had yet."""
    outside = Outside(
        dispatcher.uow, dispatcher.potok.carriers, dispatcher.clock, dispatcher.potok.fiscal
    )
    for reaction in AFTER_COMMIT:
        if reaction.handler is not None or reaction.window_handler is not None:
            # the others have runners of their own
            _run(dispatcher, outside, reaction, frozenset(reaction.types), last, report)


def _run(
    dispatcher: Dispatcher,
    outside: Outside,
    reaction: EventReaction,
    types: frozenset[str],
    last: int,
    report: Round,
) -> None:
    name = reaction.consumer
    at = dispatcher.clock()
    batch = dispatcher.potok.settings.events.batch_size

    def look(uow: UnitOfWork) -> tuple[int, int, datetime | None, list[StoredEvent]] | None:
        state = uow.consumers.state(name)
        if state is None:
            return None
        position, attempts, next_at = state
        if position >= last or (next_at is not None and next_at > at):
            return position, attempts, next_at, []
        return position, attempts, next_at, uow.event_log.after(position, batch)

    seen = reading(dispatcher.uow(), look)
    if seen is None:
        # no cursor: a database made since (its migration starts the cursor of a reaction
        # at the end of the history it did not exist for) - everything is new to it
        atomically(dispatcher.uow(), lambda uow: uow.consumers.ensure(name, 0, at))
        seen = reading(dispatcher.uow(), look)
        assert seen is not None
    position, attempts, _, events = seen
    idle = not any(e.type in types for e in events) and len(events) < batch
    if idle and time.monotonic() - dispatcher.reactions_moved.get(name, -PASS_S) < PASS_S:
        return  # nothing for it: its cursor is moved past such events once a second

    def claim(uow: UnitOfWork) -> bool:
        if not uow.consumers.claim(name, dispatcher.name, at, dispatcher.lease):
            return False
        state = uow.consumers.state(name)
        return state is not None and state[0] == position  # nobody moved it meanwhile

    if not atomically(dispatcher.uow(), claim):
        report.skipped_busy += 1
        return
    if reaction.window_handler is not None:
        _run_window(dispatcher, outside, reaction, types, position, attempts, events, report)
        return
    passed = position  # events of other types are passed over
    for event in events:
        if event.type not in types:
            passed = event.position
            continue
        try:
            assert reaction.handler is not None
            settle = reaction.handler(outside, event)
        except Exception as error:
            _failed(dispatcher, reaction, event, position, passed, attempts + 1, error)
            report.reactions_failed += 1
            return
        if not _settle(dispatcher, name, position, event.position, settle):
            return  # the lease was lost: the other worker carries on from the cursor
        position = passed = event.position
        report.reactions_run += 1
    _move(dispatcher, name, position, passed, attempts=0, wait=None)
    dispatcher.reactions_moved[name] = time.monotonic()
    report.full = report.full or len(events) >= batch


def _run_window(
    dispatcher: Dispatcher,
    outside: Outside,
    reaction: EventReaction,
    types: frozenset[str],
    position: int,
    attempts: int,
    events: list[StoredEvent],
    report: Round,
) -> None:
    """Hand the reaction the window's events of its types at once; its cursor moves past
    the whole window with what it settled, or stays where it was when it fails."""
    assert reaction.window_handler is not None
    name = reaction.consumer
    taken = [e for e in events if e.type in types]
    end = events[-1].position if events else position
    if taken:
        try:
            settle = reaction.window_handler(outside, taken)
        except Exception as error:
            _failed(dispatcher, reaction, taken[0], position, position, attempts + 1, error)
            report.reactions_failed += 1
            return
        if not _settle(dispatcher, name, position, end, settle):
            return  # the lease was lost: the other worker carries on from the cursor
        report.reactions_run += len(taken)
        position = end
    _move(dispatcher, name, position, end, attempts=0, wait=None)
    dispatcher.reactions_moved[name] = time.monotonic()
    report.full = report.full or len(events) >= dispatcher.potok.settings.events.batch_size


def _settle(
    dispatcher: Dispatcher, name: str, expected: int, position: int, settle: Settle | None
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
