"""Replays: a subscription's past events delivered again, on an operator's request.

Each replay is a consumer of its own (``replay:<id>``) that walks its range of the outbox
once, in commit order, one event after another, beside the subscription's usual
deliveries; its attempts go to the subscription's delivery log marked with the replay.
A failed event is tried again after the usual backoff (nothing after it goes first) and
becomes a dead letter after ``events.max_attempts``; at the end of its range the replay is
finished and its cursor goes. A paused subscription's replays wait with it.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from potok.domain.webhooks import DeliveryOutcome, Replay, StoredEvent, Subscription, retry_at
from potok.services.unit_of_work import UnitOfWork, atomically, reading
from potok.services.webhook_targets import address_problem
from potok.worker.windows import Attempt, Round, channels_in_play

if TYPE_CHECKING:
    from potok.worker.dispatcher import Dispatcher

log = logging.getLogger("potok.worker.dispatcher")

MAX_ERROR = 500


def serve_replays(dispatcher: Dispatcher, subscription: Subscription, report: Round) -> None:
    """Move each unfinished replay of the subscription on by a batch."""
    replays = reading(
        dispatcher.uow(), lambda uow: uow.webhooks.replays(subscription.id, unfinished=True)
    )
    for replay in replays:
        _serve(dispatcher, subscription, replay, report)


def _serve(
    dispatcher: Dispatcher, subscription: Subscription, replay: Replay, report: Round
) -> None:
    settings = dispatcher.potok.settings.events
    name = replay.consumer
    at = dispatcher.clock()

    def claim(
        uow: UnitOfWork,
    ) -> tuple[int, int, list[StoredEvent], int, list[str], dict[int, str]] | None:
        uow.consumers.ensure(name, replay.after_position, at)
        if not uow.consumers.claim(name, dispatcher.name, at, dispatcher.lease):
            return None
        state = uow.consumers.state(name)
        assert state is not None
        position, attempts, next_at = state
        if next_at is not None and next_at > at:
            return position, attempts, [], position, [], {}
        read = uow.event_log.after(position, settings.batch_size)
        batch = [e for e in read.events if e.position <= replay.until_position]
        through = min(read.through, replay.until_position)
        secrets = uow.webhooks.secrets(subscription.id, at)
        channel_of = channels_in_play(uow, subscription, batch)
        return position, attempts, batch, through, secrets, channel_of

    claimed = atomically(dispatcher.uow(), claim)
    if claimed is None:
        report.skipped_busy += 1
        return
    position, attempts, batch, through, secrets, channel_of = claimed
    if not batch and position < replay.until_position and attempts:
        _release(dispatcher, name)  # waiting for a retry
        return
    refused = address_problem(subscription.url, allow_private=settings.allow_private_addresses)
    rows: list[dict[str, Any]] = []
    retry: datetime | None = None
    deadline = time.monotonic() + dispatcher.lease.total_seconds() / 2
    for event in batch:
        if not subscription.takes(event, channel_of):
            position, attempts = event.position, 0
            continue
        if time.monotonic() > deadline:
            break
        if refused is not None:
            attempt = Attempt(DeliveryOutcome.FAILED, error=f"not called: {refused}"[:MAX_ERROR])
        else:
            attempt = dispatcher.deliver(subscription, secrets, event)
        tries = attempts + 1
        if attempt.outcome is DeliveryOutcome.FAILED and tries >= settings.max_attempts:
            attempt.outcome = DeliveryOutcome.DEAD
        now = dispatcher.clock()
        rows.append(_row(subscription, replay, event, tries, attempt, now))
        if attempt.outcome is DeliveryOutcome.FAILED:
            report.failed += 1
            attempts = tries
            retry = retry_at(event.event_id, tries, now, settings.backoff_s, settings.backoff_max_s)
            break
        if attempt.outcome is DeliveryOutcome.DELIVERED:
            report.delivered += 1
        else:
            report.dead += 1
        position, attempts = event.position, 0
    else:  # all dealt with: past what the read skipped too (administration events)
        position = max(position, through)
    finished = position >= replay.until_position or (
        not batch and retry is None and position == claimed[0]
    )
    end = dispatcher.clock()

    def settle(uow: UnitOfWork) -> None:
        if not uow.consumers.move(
            name,
            dispatcher.name,
            expected=claimed[0],
            position=position,
            attempts=attempts,
            next_attempt_at=retry,
            at=end,
            lease=dispatcher.lease,
            release=True,
        ):
            return  # the lease was lost: whoever holds it carries on
        uow.webhooks.log_many(rows)
        if finished:
            uow.webhooks.finish_replay(replay.id, end)

    atomically(dispatcher.uow(), settle)
    if finished:
        log.info("replay %d to subscription %d finished", replay.id, subscription.id)


def _release(dispatcher: Dispatcher, name: str) -> None:
    atomically(dispatcher.uow(), lambda uow: uow.consumers.release(name, dispatcher.name))


def _row(
    subscription: Subscription,
    replay: Replay,
    event: StoredEvent,
    attempt_no: int,
    attempt: Attempt,
    at: datetime,
) -> dict[str, Any]:
    return {
        "subscription_id": subscription.id,
        "event_id": event.event_id,
        "event_type": event.type,
        "position": event.position,
        "attempt": attempt_no,
        "outcome": attempt.outcome.value,
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
        "attempted_at": at,
        "replay_id": replay.id,
    }
