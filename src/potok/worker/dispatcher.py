"""The outbox dispatcher: puts committed events in commit order and delivers them to
webhook subscriptions, signed, at least once, in order, with retries and dead letters.

Each subscription is a consumer with its own cursor. A worker takes a subscription's
lease before delivering and moves the cursor only while it still holds it, so two
workers never deliver a subscription's events at the same time; a worker that dies
mid-delivery leaves the cursor where it was, and whoever takes the lease after it
expires delivers that event again (receivers deduplicate by ``webhook-id``, the event
id). No network call is made while a transaction is open.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import orjson

from potok.bootstrap import Potok
from potok.domain.errors import PotokError
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.webhooks import (
    DeliveryOutcome,
    EventBatch,
    StoredEvent,
    Subscription,
    cloud_event,
    retry_delay,
    signature_headers,
)
from potok.services.ports import AuditContext
from potok.services.unit_of_work import UnitOfWork, atomically, reading
from potok.worker.costs import SHARED, ReactionCosts, watch
from potok.worker.reactions import State, reaction_names, run_reactions
from potok.worker.replays import serve_replays
from potok.worker.sender import Sender, SendError
from potok.worker.windows import Attempt, Round, serve_window

if TYPE_CHECKING:
    from potok.domain.marketplaces import Connection
    from potok.worker.nats_sink import NatsSink
    from potok.worker.notifier import Notifier, Tried

log = logging.getLogger("potok.worker.dispatcher")

STREAM_CONSUMER = "nats"

MAX_ERROR = 500
BODY_KEPT = 200  # characters of a failing receiver's answer kept in the log
PUSH_LANES = 8
BACKFILL_BATCHES = 20  # a CRM back-fill's batches (50 orders each) told per round, at most
"""Marketplace connections one worker pushes to side by side."""
ANSWER_READ = 16_384  # bytes of an answer read, at most: one read to its end keeps its
# connection open for the next delivery, a longer one is cut off with its connection


@dataclass
class Dispatcher:
    """One worker's dispatcher; several may run at once, in as many processes."""

    potok: Potok
    client: httpx.Client
    name: str = field(default_factory=lambda: f"worker-{uuid.uuid4().hex[:12]}")
    clock: Clock = utc_now
    rand: Callable[[], float] = random.random
    notifier: Notifier | None = None
    _sink: NatsSink | None = None
    _pool: ThreadPoolExecutor | None = None
    # webhook deliveries' own HTTP client (``client`` serves customer messages and the rest)
    sender: Sender = field(default_factory=Sender)
    # subscriptions whose every undelivered event waits for a retry: the last position
    # seen then, and when the first retry is due
    _resting: dict[int, tuple[int, datetime]] = field(default_factory=dict)
    # what each after-commit reaction has cost this worker (``potok worker`` prints it)
    costs: ReactionCosts = field(default_factory=ReactionCosts)
    # each marketplace connection's push in flight (stock, then orders to a CRM): one lane
    # per connection, so a slow marketplace holds back its own pushes only
    _pushing: dict[str, Future[None]] = field(default_factory=dict)
    _pushers: ThreadPoolExecutor | None = None
    _counting: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        watch(self.potok.engine)
        settings = self.potok.settings.notifications
        if self.notifier is None and settings.enabled:
            from potok.worker.notifier import Notifier

            self.notifier = Notifier.from_settings(settings, self.client)

    def uow(self) -> UnitOfWork:
        return self.potok.uow(AuditContext(actor=str(Actor.system("dispatcher")), via="worker"))

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.potok.settings.events.lease_s)

    def run_round(self) -> Round:
        """One round of everything: place newly committed events, serve every subscription
        that is due and the stream, then the after-commit reactions, customer messages and
        marketplace stock (``run_forever`` runs the two halves side by side)."""
        report = self.delivery_round()
        return self.reaction_round(report)

    def delivery_round(self) -> Round:
        """Place newly committed events, then serve every subscription that is due and
        the NATS stream."""
        settings = self.potok.settings.events
        report = Round()
        subscriptions, last, waiting = reading(
            self.uow(),
            lambda uow: (
                uow.webhooks.all(),
                uow.event_log.last_position(),
                uow.event_log.waiting(),
            ),
        )
        if waiting:  # a write transaction only when there is something to place
            most = settings.batch_size * 10
            report.sequenced, last = atomically(
                self.uow(),
                lambda uow: (uow.event_log.sequence(most), uow.event_log.last_position()),
            )
            report.full = report.full or report.sequenced == most
        now = self.clock()
        for subscription in subscriptions:
            if subscription.paused_at is not None:
                continue  # paused: its events wait behind its cursor until it is resumed
            if subscription.replaying:
                serve_replays(self, subscription, report)
            resting = self._resting.pop(subscription.id, None)
            if resting is not None and resting[0] == last and now < resting[1]:
                self._resting[subscription.id] = resting  # nothing new, no retry due yet
                continue
            if subscription.position is None or subscription.position < last:
                until = serve_window(self, subscription, report)
                if until is not None:
                    self._resting[subscription.id] = (last, until)
        if settings.nats_url:
            self._stream_out(report)
        return report

    def reaction_round(self, report: Round | None = None, *, wait_for_pushes: bool = True) -> Round:
        """Give the after-commit reactions, customer messages and marketplace pushes the
        events placed so far. Apart from deliveries: a reaction's database work never holds
        a webhook back. Each marketplace connection pushes in a lane of its own; the round
        waits for them unless ``wait_for_pushes`` is False (``run_forever``: the next
        round's reactions need not wait for a slow marketplace, whose lane is skipped until
        its push is done)."""
        report = Round() if report is None else report
        from potok.worker.notifier import CONSUMER as NOTIFYING

        names = [*reaction_names(), NOTIFYING]

        def look(uow: UnitOfWork) -> tuple[int, dict[str, State], Sequence[Connection]]:
            return (
                uow.event_log.last_position(),
                uow.consumers.states(names),
                uow.marketplaces.list(),
            )

        with self.costs.measure(SHARED):
            last, states, connections = reading(self.uow(), look)
        run_reactions(self, last, report, states)
        if self.notifier is not None and _due(states.get(NOTIFYING), last, self.clock()):
            self._notify(self.notifier, report, states.get(NOTIFYING))
        self._push_marketplaces(report, connections, wait_for_pushes=wait_for_pushes)
        return report

    # ------------------------------------------------------------------ marketplace pushes

    @property
    def pushers(self) -> ThreadPoolExecutor:
        """The threads that push to the marketplaces, a connection at a time each."""
        if self._pushers is None:
            self._pushers = ThreadPoolExecutor(
                max_workers=PUSH_LANES, thread_name_prefix="potok-marketplace"
            )
        return self._pushers

    def _push_marketplaces(
        self, report: Round, connections: Sequence[Connection], *, wait_for_pushes: bool
    ) -> None:
        """Start a push on each active connection whose lane is free: its stock, then (a
        CRM) the orders of other channels. A lane still busy with an earlier round's push
        is left alone: what moved since is read by its next push, from its cursor."""
        for connection in connections:
            if not connection.active:
                continue
            running = self._pushing.get(connection.code)
            if running is not None and not running.done():
                continue
            self._pushing[connection.code] = self.pushers.submit(
                self._push_connection, connection, report
            )
        if wait_for_pushes:
            wait(list(self._pushing.values()))

    def _push_connection(self, connection: Connection, report: Round) -> None:
        from potok.connectors.marketplaces import MIRRORS_ORDERS

        try:
            self._push_stock(connection, report)
            if connection.marketplace in MIRRORS_ORDERS:
                self._push_crm_orders(connection, report)
                self._run_crm_backfill(connection)
        except Exception:  # a lane must not die silently: the next round tries again
            log.exception("push to %s failed", connection.code)

    def _push_stock(self, connection: Connection, report: Round) -> None:
        """The connection's stock push reads the stock events since its cursor and sends
        the figures they moved (``services/marketplaces/stock.py``)."""
        from potok.services.marketplaces import push_stock_changes

        settings = self.potok.settings.marketplaces
        try:
            pushed = push_stock_changes(
                self.uow(),
                self.potok.marketplaces,
                connection.code,
                self.name,
                every_s=settings.stock_push_every_s,
                reserve=settings.stock_reserve,
                batch=settings.stock_events_batch,
                lease=self.lease,
                clock=self.clock,
            )
        except PotokError as error:
            log.warning("stock push to %s failed: %s", connection.code, error.detail)
            return
        if pushed is None:
            return
        with self._counting:
            report.stock_pushed += pushed.positions
        if pushed.error:
            log.warning("stock push to %s: %s", connection.code, pushed.error)
        elif pushed.refused:
            log.warning(
                "stock push to %s: %d items refused, e.g. %s",
                connection.code,
                len(pushed.refused),
                next(iter(pushed.refused.items())),
            )

    def _push_crm_orders(self, connection: Connection, report: Round) -> None:
        """A CRM connection is told the orders of other channels the events changed
        (``services/marketplaces/crm_orders.py``)."""
        from potok.services.marketplaces import push_order_changes

        settings = self.potok.settings.marketplaces
        try:
            pushed = push_order_changes(
                self.uow(),
                self.potok.marketplaces,
                connection.code,
                self.name,
                every_s=settings.crm_push_every_s,
                lease=self.lease,
                clock=self.clock,
            )
        except PotokError as error:
            log.warning("order push to %s failed: %s", connection.code, error.detail)
            return
        if pushed is None:
            return
        with self._counting:
            report.crm_orders_pushed += len(pushed.created) + len(pushed.updated)
        if pushed.error:
            log.warning("order push to %s: %s", connection.code, pushed.error)
        elif pushed.refused:
            log.warning(
                "order push to %s: %d orders refused, e.g. %s",
                connection.code,
                len(pushed.refused),
                next(iter(pushed.refused.items())),
            )

    def _run_crm_backfill(self, connection: Connection) -> None:
        """A CRM connection's back-fill started from the API goes on, a few batches a round
        (``services/marketplaces/crm_backfill.py``); nothing when none is running."""
        from potok.services.marketplaces import run_backfill

        try:
            state = run_backfill(
                self.uow(),
                self.potok.marketplaces,
                connection.code,
                self.name,
                batches=BACKFILL_BATCHES,
                clock=self.clock,
            )
        except PotokError as error:
            log.warning("back-fill of %s failed: %s", connection.code, error.detail)
            return
        if state is not None and state.last_error:
            log.warning("back-fill of %s: %s", connection.code, state.last_error)

    def close(self) -> None:
        """Let go of the NATS connection (it is made again on the next round)."""
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def shut(self) -> None:
        """Let go of everything: the stream's connection, the delivery threads and their
        connections."""
        self.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._pushers is not None:
            self._pushers.shutdown(wait=True)
            self._pushers = None
        self.sender.close()

    # ------------------------------------------------------------------ the NATS stream

    def _stream_out(self, report: Round) -> None:
        """Publish the next batch to JetStream and move the stream's cursor; on failure
        count the attempt and wait (the stream never skips: no dead letters here)."""
        settings = self.potok.settings.events
        name = STREAM_CONSUMER
        claimed = self._claim(name, settings.batch_size)
        if claimed is None:
            report.skipped_busy += 1
            return
        position, attempts, read = claimed
        batch = read.events
        try:
            if not batch:
                if read.through > position:  # nothing for the stream: pass over the rest
                    self._move(name, position, read.through, 0, None)
                return
            try:
                if self._sink is None:
                    from potok.worker.nats_sink import NatsSink  # only where NATS is used

                    assert settings.nats_url is not None
                    self._sink = NatsSink(
                        settings.nats_url,
                        stream=settings.nats_stream,
                        prefix=settings.nats_subject_prefix,
                        source=settings.source,
                        timeout_s=settings.timeout_s,
                    )
                self._sink.publish(batch)
            except Exception as error:
                tries = attempts + 1
                delay = retry_delay(tries, settings.backoff_s, settings.backoff_max_s, self.rand)
                log.warning("publishing to NATS failed (attempt %d): %s", tries, error)
                self.close()
                self._move(name, position, position, tries, self.clock() + timedelta(seconds=delay))
                report.failed += 1
                return
            if self._move(name, position, read.through, 0, None):
                report.published += len(batch)
        finally:
            atomically(self.uow(), lambda uow: uow.consumers.release(name, self.name))

    def _claim(
        self,
        name: str,
        limit: int,
        subscription_id: int | None = None,
        types: tuple[str, ...] = (),
    ) -> tuple[int, int, EventBatch] | None:
        """Take the consumer's lease (made at the current end of the outbox if new) and read
        its next events; None when another worker holds it (or the subscription is gone),
        no events while backing off."""
        at = self.clock()

        def claim(uow: UnitOfWork) -> tuple[int, int, EventBatch] | None:
            if subscription_id is not None and uow.webhooks.get(subscription_id) is None:
                return None  # unsubscribed since the round began
            uow.consumers.ensure(name, uow.event_log.last_position(), at)
            if not uow.consumers.claim(name, self.name, at, self.lease):
                return None
            state = uow.consumers.state(name)
            assert state is not None
            position, attempts, next_at = state
            if next_at is not None and next_at > at:
                return (position, attempts, EventBatch([], position))
            return position, attempts, uow.event_log.after(position, limit, types=types)

        return atomically(self.uow(), claim)

    # ------------------------------------------------------------------ customer messages

    def _notify(self, notifier: Notifier, report: Round, state: State | None = None) -> None:
        """Send the messages of the next events customers hear about, in order; a failed
        one is tried again after a backoff (nothing after it goes first), until its last
        attempt."""
        from potok.domain.notifications import Outcome
        from potok.services.notifications import attempt_record
        from potok.worker.notifier import CONSUMER, TYPES

        batch = self.potok.settings.events.batch_size
        if state is not None:  # a look first: past events customers do not hear about
            # in one statement, without taking the lease
            position = state[0]
            read = reading(
                self.uow(), lambda uow: uow.event_log.after(position, batch, types=TYPES)
            )
            if not read.events:
                at = self.clock()
                atomically(
                    self.uow(),
                    lambda uow: uow.consumers.pass_over([CONSUMER], self.name, read.through, at),
                )
                return
        claimed = self._claim(CONSUMER, batch, types=TYPES)
        if claimed is None:
            report.skipped_busy += 1
            return
        position, attempts, read = claimed
        try:
            handled = notifier.handle_window(self.uow(), read.events)
            for event, results in zip(read.events, handled, strict=False):
                tries = attempts + 1
                outcomes: list[tuple[Tried, Outcome | None]] = []
                for tried in results:
                    outcome = tried.outcome
                    if outcome is Outcome.FAILED and tries >= notifier.max_attempts:
                        outcome = Outcome.DEAD
                    if outcome is Outcome.SKIPPED and tries > 1:
                        outcome = None  # said in the first round already
                    outcomes.append((tried, outcome))
                failed = [t for t, o in outcomes if o is Outcome.FAILED]
                at = self.clock()
                next_at = None
                new_position, new_attempts = event.position, 0
                if failed:
                    delay = retry_delay(
                        tries, notifier.backoff_s, notifier.backoff_max_s, self.rand
                    )
                    next_at = at + timedelta(seconds=delay)
                    new_position, new_attempts = position, tries

                def work(
                    uow: UnitOfWork,
                    expected: int = position,
                    moved: tuple[int, int] = (new_position, new_attempts),
                    next_at: datetime | None = next_at,
                    outcomes: list[tuple[Tried, Outcome | None]] = outcomes,
                    tries: int = tries,
                    at: datetime = at,
                ) -> bool:
                    if not uow.consumers.move(
                        CONSUMER,
                        self.name,
                        expected=expected,
                        position=moved[0],
                        attempts=moved[1],
                        next_attempt_at=next_at,
                        at=at,
                        lease=self.lease,
                    ):
                        return False
                    for tried, outcome in outcomes:
                        if outcome is not None:
                            uow.notifications.log(
                                attempt_record(tried.draft, outcome, tries, at, tried.error)
                            )
                    return True

                if not atomically(self.uow(), work):
                    return  # lease lost
                report.notified += sum(1 for _, o in outcomes if o is Outcome.SENT)
                if failed:
                    report.notify_failed += 1
                    log.warning(
                        "customer message for %s failed: %s", event.event_id, failed[0].error
                    )
                    return
                position, attempts = new_position, new_attempts
            if read.through > position:  # past events customers do not hear about
                self._move(CONSUMER, position, read.through, 0, None)
        finally:
            atomically(self.uow(), lambda uow: uow.consumers.release(CONSUMER, self.name))

    # ------------------------------------------------------------------ one subscription

    def _serve(self, subscription: Subscription, report: Round) -> None:
        serve_window(self, subscription, report)

    def lanes(self) -> ThreadPoolExecutor:
        """The threads that deliver one window's aggregates side by side."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.potok.settings.events.concurrency,
                thread_name_prefix="potok-delivery",
            )
        return self._pool

    def _move(
        self, name: str, expected: int, position: int, attempts: int, next_at: datetime | None
    ) -> bool:
        at = self.clock()
        return atomically(
            self.uow(),
            lambda uow: uow.consumers.move(
                name,
                self.name,
                expected=expected,
                position=position,
                attempts=attempts,
                next_attempt_at=next_at,
                at=at,
                lease=self.lease,
            ),
        )

    # ------------------------------------------------------------------ the HTTP call

    def deliver(
        self, subscription: Subscription, secrets: list[str], event: StoredEvent
    ) -> Attempt:
        settings = self.potok.settings.events
        if not secrets:  # unsubscribed a moment ago: never send unsigned
            return Attempt(DeliveryOutcome.FAILED, error="the subscription is gone")
        body = orjson.dumps(cloud_event(event, settings.source))
        headers = {
            "content-type": "application/cloudevents+json",
            "user-agent": "Potok-Webhooks/1",
            **signature_headers(secrets, event.event_id, int(time.time()), body),
        }
        started = time.perf_counter()
        try:
            answer = self.sender.post(
                subscription.url,
                body,
                headers,
                timeout=settings.timeout_s,
                read=ANSWER_READ,
            )
        except SendError as problem:
            latency = int((time.perf_counter() - started) * 1000)
            return Attempt(DeliveryOutcome.FAILED, None, latency, str(problem)[:MAX_ERROR])
        latency = int((time.perf_counter() - started) * 1000)
        status = answer.status
        if 200 <= status < 300:
            return Attempt(DeliveryOutcome.DELIVERED, status, latency)
        kept = " ".join(answer.start[:BODY_KEPT].decode("utf-8", "replace").split())
        error = f"the receiver answered {status}" + (f": {kept}" if kept else "")
        return Attempt(DeliveryOutcome.FAILED, status, latency, error[:MAX_ERROR])

    # ------------------------------------------------------------------ running

    def run_forever(self, stop: threading.Event) -> None:
        """Rounds until ``stop`` is set, in two threads: deliveries (placing events, the
        webhooks, the stream) and reactions (after-commit reactions, customer messages,
        marketplace stock), so that neither waits for the other's work. An idle round
        waits ``events.poll_s``; a round that did not fill a window waits
        ``events.linger_s``, so that the next one carries a batch rather than an event or
        two (fewer transactions beside the intake's)."""
        reactions = threading.Thread(
            target=self._rounds,
            args=(stop, lambda: self.reaction_round(wait_for_pushes=False)),
            name="potok-reactions",
            daemon=True,
        )
        reactions.start()
        try:
            self._rounds(stop, self.delivery_round)
        finally:
            stop.set()  # the reactions' thread ends with the deliveries' (Ctrl+C too)
            reactions.join()
            self.shut()

    def _rounds(self, stop: threading.Event, round_: Callable[[], Round]) -> None:
        poll = self.potok.settings.events.poll_s
        linger = self.potok.settings.events.linger_s
        while not stop.is_set():
            try:
                report = round_()
            except PotokError as error:
                log.warning("dispatcher round failed: %s", error.detail)
                report = Round()
            except Exception:
                log.exception("dispatcher round failed")
                report = Round()
            if not report.busy:
                stop.wait(poll)
            elif not report.full and linger:
                stop.wait(linger)


def _due(state: State | None, last: int, now: datetime) -> bool:
    """Whether a consumer has events to look at: none yet (it is made at the end), or
    some past its cursor and no retry to wait for."""
    if state is None:
        return True
    position, _, next_at = state
    return position < last and (next_at is None or next_at <= now)


def new_client() -> httpx.Client:
    """The HTTP client deliveries use: no redirects followed, no proxies from the
    environment, a small pool."""
    return httpx.Client(
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=40, max_keepalive_connections=20),
    )


def start_in_background(potok: Potok) -> tuple[threading.Thread, threading.Event]:
    """The dispatcher in a thread of this process (``potok serve``)."""
    stop = threading.Event()
    dispatcher = Dispatcher(potok, new_client())
    thread = threading.Thread(
        target=dispatcher.run_forever, args=(stop,), name="potok-dispatcher", daemon=True
    )
    thread.start()
    return thread, stop
