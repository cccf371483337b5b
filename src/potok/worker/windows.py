"""One subscription's window of events, delivered: the lease and the next events taken in
one transaction; deliveries made with several requests in flight, the events of one
aggregate (one order) one after another; progress checkpointed while they run - every
attempt logged, the cursor moved past what is settled - and the lease let go at the end.

A worker killed mid-window repeats at most ``events.max_unconfirmed`` deliveries: no
delivery starts while that many wait for a checkpoint. Whoever takes the lease next reads
the log and skips what was already delivered past an event that failed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from potok.domain.webhooks import (
    DeliveryOutcome,
    StoredEvent,
    Subscription,
    event_order,
    retry_at,
    should_pause,
)
from potok.services.unit_of_work import UnitOfWork, atomically
from potok.services.webhook_targets import address_problem

if TYPE_CHECKING:
    from potok.worker.dispatcher import Dispatcher

log = logging.getLogger("potok.worker.dispatcher")

FAILED = DeliveryOutcome.FAILED
MAX_ERROR = 500
LOOKAHEAD = 10  # windows delivered past an event that waits for its retry, at most


@dataclass
class Round:
    """What one pass of the dispatcher did."""

    sequenced: int = 0
    published: int = 0  # to the NATS stream
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    skipped_busy: int = 0  # subscriptions (or reactions) another worker was serving
    stock_pushed: int = 0  # figures sent to marketplaces
    crm_orders_pushed: int = 0  # orders told to CRMs
    notified: int = 0  # customer messages sent
    notify_failed: int = 0  # customer messages that failed this time
    reactions_run: int = 0  # after-commit reactions to an event
    reactions_failed: int = 0
    full: bool = False  # some window was full: more is waiting, no pause before the next

    @property
    def busy(self) -> bool:
        return bool(
            self.sequenced
            or self.published
            or self.delivered
            or self.failed
            or self.dead
            or self.stock_pushed
            or self.crm_orders_pushed
            or self.notified
            or self.reactions_run
        )


@dataclass
class Attempt:
    outcome: DeliveryOutcome
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None


@dataclass
class Window:
    """A subscription's claimed events and what is known of them before delivering."""

    name: str  # the consumer
    position: int
    attempts: int
    events: list[StoredEvent]
    through: int  # where the cursor goes once every event is settled (past others' events)
    secrets: list[str]
    done: set[str] = field(default_factory=set)  # delivered or dead earlier, past a failure
    failed: dict[str, tuple[int, datetime]] = field(default_factory=dict)  # how often, last
    channel_of: dict[int, str] = field(default_factory=dict)  # for a filter by channel

    def tries(self, event_id: str) -> int:
        """Which attempt the next one at this event is."""
        return self.failed.get(event_id, (0, None))[0] + 1


def serve_window(
    dispatcher: Dispatcher, subscription: Subscription, report: Round
) -> datetime | None:
    """Claim, deliver and settle the next window of one subscription. When nothing in it
    could be tried yet, the moment its first retry is due (until then, unless new events
    come, there is no need to claim it again)."""
    window = _claim(dispatcher, subscription)
    if window is None:
        report.skipped_busy += 1
        return None
    run = _WindowRun(dispatcher, subscription, window, report)
    run.run()
    return run.waiting_until if not run.results else None


def channels_in_play(
    uow: UnitOfWork, subscription: Subscription, events: list[StoredEvent]
) -> dict[int, str]:
    """The channel of each order these events are about, when the subscription filters by
    channel (no statement otherwise)."""
    if not subscription.channels:
        return {}
    orders = [o for o in (event_order(e) for e in events) if o is not None]
    return uow.event_log.channels_of(orders)


def _claim(dispatcher: Dispatcher, subscription: Subscription) -> Window | None:
    """The lease, the next events, the signing secrets and what earlier rounds settled past
    the cursor; None when another worker holds the lease (or the subscription is gone).

    Events already delivered past one that failed do not count towards the window, so the
    rest keep flowing while it waits for its retry; at most ``LOOKAHEAD`` windows past it."""
    name = subscription.consumer
    batch = dispatcher.potok.settings.events.batch_size
    at = dispatcher.clock()

    def claim(uow: UnitOfWork) -> Window | None:
        if subscription.position is None:  # no cursor yet (one is made when subscribing)
            if uow.webhooks.get(subscription.id) is None:
                return None  # unsubscribed since the round began
            uow.consumers.ensure(name, uow.event_log.last_position(), at)
        if not uow.consumers.claim(name, dispatcher.name, at, dispatcher.lease):
            return None  # another worker holds it, or it was unsubscribed (cursor dropped)
        state = uow.consumers.state(name)
        assert state is not None
        position, attempts, _ = state
        done, failed = uow.webhooks.settled_after(subscription.id, position)
        limit = min(batch + len(done), batch * LOOKAHEAD)
        read = uow.event_log.after(position, limit)
        secrets = uow.webhooks.secrets(subscription.id, at)
        channel_of = channels_in_play(uow, subscription, read.events)
        return Window(
            name, position, attempts, read.events, read.through, secrets, done, failed, channel_of
        )

    return atomically(dispatcher.uow(), claim)


class _WindowRun:
    """The deliveries of one window and their checkpoints."""

    def __init__(
        self, dispatcher: Dispatcher, subscription: Subscription, window: Window, report: Round
    ) -> None:
        self.dispatcher = dispatcher
        self.settings = dispatcher.potok.settings.events
        self.subscription = subscription
        self.window = window
        self.report = report
        self.position = window.position  # as far as the last checkpoint moved the cursor
        self.results: dict[str, Attempt] = {}
        self.by_id = {e.event_id: e for e in window.events}
        self.unlogged: list[str] = []  # attempts made since the last checkpoint
        self.ended = 0  # lanes that have ended
        self.changed = threading.Condition()
        self.permits = threading.Semaphore(self.settings.max_unconfirmed)
        self.stopped = threading.Event()
        self.deadline = time.monotonic() + dispatcher.lease.total_seconds() / 2
        self.waiting_until: datetime | None = None  # the earliest retry not yet due
        self.failing = subscription.failures > 0  # its run of failures is being counted

    def run(self) -> None:
        todo = [
            e
            for e in self.window.events
            if e.event_id not in self.window.done
            and self.subscription.takes(e, self.window.channel_of)
        ]
        if not todo:
            self._checkpoint(final=True)
            return
        refused = address_problem(
            self.subscription.url, allow_private=self.settings.allow_private_addresses
        )
        if refused is not None:  # checked before every window: names move
            self._record(todo[0], Attempt(FAILED, error=f"not called: {refused}"[:MAX_ERROR]))
            self._checkpoint(final=True)
            return
        lanes: dict[tuple[str, str], list[StoredEvent]] = {}
        for event in todo:
            lanes.setdefault((event.aggregate_type, event.aggregate_id), []).append(event)
        now = self.dispatcher.clock()
        ready = []
        for lane in lanes.values():
            due = self._due(lane[0])
            if due is not None and due > now:  # its first event waits for its retry
                self.waiting_until = min(self.waiting_until or due, due)
            else:
                ready.append(lane)
        if len(todo) >= self.settings.batch_size:
            self.report.full = True
        pool = self.dispatcher.lanes()
        running = [pool.submit(self._lane, lane) for lane in ready]
        every = self.settings.checkpoint_s
        most = self.settings.max_unconfirmed
        last = time.monotonic()
        try:
            while True:
                # woken when a lane ends or enough attempts wait for their checkpoint (not
                # at every attempt: a window of a hundred would wake it a hundred times)
                with self.changed:
                    if self.ended < len(running) and len(self.unlogged) < most:
                        self.changed.wait(max(0.0, last + every - time.monotonic()))
                    finished = self.ended >= len(running)
                if finished:
                    for future in running:
                        future.result()  # a lane that raised raises here
                    self._checkpoint(final=True)
                    return
                if self.unlogged and (
                    len(self.unlogged) >= most or time.monotonic() >= last + every
                ):
                    if not self._checkpoint(final=False):
                        return  # the lease was lost: another worker carries on
                    last = time.monotonic()
        finally:
            self.stopped.set()
            self.permits.release(len(running) + most)
            for future in running:
                future.exception()  # wait for every lane before leaving

    def _due(self, event: StoredEvent) -> datetime | None:
        """When an event that failed may be tried again (None: it never failed)."""
        if event.event_id not in self.window.failed:
            return None
        tries, last_at = self.window.failed[event.event_id]
        s = self.settings
        return retry_at(event.event_id, tries, last_at, s.backoff_s, s.backoff_max_s)

    def _lane(self, lane: list[StoredEvent]) -> None:
        """One aggregate's events in order, stopping at the first that fails."""
        try:
            for event in lane:
                if self.stopped.is_set() or time.monotonic() > self.deadline:
                    return
                self.permits.acquire()
                if self.stopped.is_set():
                    return
                attempt = self.dispatcher.deliver(self.subscription, self.window.secrets, event)
                if self._record(event, attempt).outcome is FAILED:
                    return  # in order: nothing of this aggregate goes before it
        finally:
            with self.changed:
                self.ended += 1
                self.changed.notify_all()

    def _record(self, event: StoredEvent, attempt: Attempt) -> Attempt:
        if attempt.outcome is FAILED and self.window.tries(event.event_id) >= (
            self.settings.max_attempts
        ):
            attempt.outcome = DeliveryOutcome.DEAD  # the last attempt: a dead letter
        with self.changed:
            self.results[event.event_id] = attempt
            self.unlogged.append(event.event_id)
            if len(self.unlogged) == self.settings.max_unconfirmed:
                self.changed.notify_all()  # time for a checkpoint
        return attempt

    def _checkpoint(self, *, final: bool) -> bool:
        """Log the attempts made since the last checkpoint and move the cursor past what
        is settled, in one transaction; at the end let the lease go, and after a failure
        make the subscription wait, doubling. False when the lease was lost."""
        window, at = self.window, self.dispatcher.clock()
        with self.changed:
            taken, self.unlogged = self.unlogged, []
            results = dict(self.results)
        position = self.position
        for event in window.events:
            if event.position <= position:
                continue
            attempt = results.get(event.event_id)
            settled = (
                not self.subscription.takes(event, window.channel_of)
                or event.event_id in window.done
                or (attempt is not None and attempt.outcome is not FAILED)
            )
            if not settled:
                break
            position = event.position
        else:  # all settled: past what the read skipped too (administration events)
            position = max(position, window.through)
        attempts, next_at = self._waiting(position, results, at) if final else (0, None)
        rows = [self._row(i, results[i], at) for i in taken]

        def work(uow: UnitOfWork) -> bool:
            if not uow.consumers.move(
                window.name,
                self.dispatcher.name,
                expected=self.position,
                position=position,
                attempts=attempts,
                next_attempt_at=next_at,
                at=at,
                lease=self.dispatcher.lease,
                release=final,
            ):
                return False
            uow.webhooks.log_many(rows)
            self._count_failures(uow, taken, results, at)
            return True

        if not atomically(self.dispatcher.uow(), work):
            return False
        self.position = position
        if taken:
            self.permits.release(len(taken))
        self._count(taken, results)
        return True

    def _count_failures(
        self, uow: UnitOfWork, taken: list[str], results: dict[str, Attempt], at: datetime
    ) -> None:
        """Keep the subscription's run of failed attempts, and pause it (with an operator
        alert) once its receiver has failed for long enough. No statement while all is well."""
        outcomes = [results[i].outcome for i in taken]
        if not outcomes:
            return  # no attempt since the last checkpoint: the run neither grows nor ends
        failed = sum(1 for o in outcomes if o is not DeliveryOutcome.DELIVERED)
        if not failed and not self.failing:
            return
        went_through = DeliveryOutcome.DELIVERED in outcomes
        failures, since = uow.webhooks.note_attempts(
            self.subscription.id, failed=failed, went_through=went_through, at=at
        )
        self.failing = failures > 0
        s = self.settings
        if since is not None and should_pause(
            failures,
            since,
            at,
            after_failures=s.pause_after_failures,
            after=timedelta(seconds=s.pause_after_s),
        ):
            from potok.services.events import pause_failing

            if pause_failing(uow, self.subscription.id, failures, since, at):
                log.warning(
                    "subscription %d paused after %d failed attempts in a row",
                    self.subscription.id,
                    failures,
                )

    def _waiting(
        self, position: int, results: dict[str, Attempt], at: datetime
    ) -> tuple[int, datetime | None]:
        """Failed attempts at the event the cursor now waits at, and when it is due again
        (shown to operators; other events do not wait for it)."""
        window = self.window
        following = next((e for e in window.events if e.position > position), None)
        if following is None:
            return 0, None
        attempt = results.get(following.event_id)
        if attempt is not None and attempt.outcome is FAILED:
            tries = window.tries(following.event_id)
            s = self.settings
            return tries, retry_at(following.event_id, tries, at, s.backoff_s, s.backoff_max_s)
        if attempt is None and following.event_id in window.failed:
            tries, _ = window.failed[following.event_id]
            return tries, self._due(following)
        return 0, None

    def _row(self, event_id: str, attempt: Attempt, at: datetime) -> dict[str, Any]:
        event = self.by_id[event_id]
        return {
            "subscription_id": self.subscription.id,
            "event_id": event_id,
            "event_type": event.type,
            "position": event.position,
            "attempt": self.window.tries(event_id),
            "outcome": attempt.outcome.value,
            "status_code": attempt.status_code,
            "latency_ms": attempt.latency_ms,
            "error": attempt.error,
            "attempted_at": at,
        }

    def _count(self, taken: list[str], results: dict[str, Attempt]) -> None:
        for event_id in taken:
            attempt = results[event_id]
            if attempt.outcome is DeliveryOutcome.DELIVERED:
                self.report.delivered += 1
            elif attempt.outcome is DeliveryOutcome.DEAD:
                self.report.dead += 1
                log.warning(
                    "event %s to subscription %d: dead letter after %d attempts (%s)",
                    event_id,
                    self.subscription.id,
                    self.window.tries(event_id),
                    attempt.error,
                )
            else:
                self.report.failed += 1
