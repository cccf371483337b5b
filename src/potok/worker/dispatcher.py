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
from collections.abc import Callable
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
    StoredEvent,
    Subscription,
    cloud_event,
    retry_delay,
    signature_headers,
    wants,
)
from potok.services.ports import AuditContext
from potok.services.unit_of_work import UnitOfWork, atomically, reading
from potok.services.webhook_targets import address_problem

if TYPE_CHECKING:
    from potok.worker.nats_sink import NatsSink

log = logging.getLogger("potok.worker.dispatcher")

STREAM_CONSUMER = "nats"

MAX_ERROR = 500
BODY_KEPT = 200  # characters of a failing receiver's answer kept in the log


@dataclass
class Round:
    """What one pass of the dispatcher did."""

    sequenced: int = 0
    published: int = 0  # to the NATS stream
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    skipped_busy: int = 0  # subscriptions another worker was serving
    stock_pushed: int = 0  # figures sent to marketplaces

    @property
    def busy(self) -> bool:
        return bool(
            self.sequenced
            or self.published
            or self.delivered
            or self.failed
            or self.dead
            or self.stock_pushed
        )


@dataclass
class Attempt:
    outcome: DeliveryOutcome
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None


@dataclass
class Dispatcher:
    """One worker's dispatcher; several may run at once, in as many processes."""

    potok: Potok
    client: httpx.Client
    name: str = field(default_factory=lambda: f"worker-{uuid.uuid4().hex[:12]}")
    clock: Clock = utc_now
    rand: Callable[[], float] = random.random
    _sink: NatsSink | None = None

    def uow(self) -> UnitOfWork:
        return self.potok.uow(AuditContext(actor=str(Actor.system("dispatcher")), via="worker"))

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.potok.settings.events.lease_s)

    def run_round(self) -> Round:
        """Place newly committed events, then serve every subscription that is due."""
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
            report.sequenced = atomically(
                self.uow(), lambda uow: uow.event_log.sequence(settings.batch_size * 10)
            )
            last = reading(self.uow(), lambda uow: uow.event_log.last_position())
        for subscription in subscriptions:
            if subscription.paused_at is not None:
                continue  # paused: its events wait behind its cursor until it is resumed
            if subscription.position is None or subscription.position < last:
                self._serve(subscription, report)
        if settings.nats_url:
            self._stream_out(report)
        self._push_stock(report)
        return report

    # ------------------------------------------------------------------ marketplace stock

    def _push_stock(self, report: Round) -> None:
        """Each active marketplace connection's stock push reads the stock events since
        its cursor and sends the figures they moved (``services/marketplaces/stock.py``)."""
        from potok.services.marketplaces import push_stock_changes

        settings = self.potok.settings.marketplaces
        connections = reading(self.uow(), lambda uow: uow.marketplaces.list())
        for connection in connections:
            if not connection.active:
                continue
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
                continue
            if pushed is None:
                continue
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

    def close(self) -> None:
        """Let go of the NATS connection (it is made again on the next round)."""
        if self._sink is not None:
            self._sink.close()
            self._sink = None

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
        position, attempts, batch = claimed
        try:
            if not batch:
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
            if self._move(name, position, batch[-1].position, 0, None):
                report.published += len(batch)
        finally:
            atomically(self.uow(), lambda uow: uow.consumers.release(name, self.name))

    def _claim(
        self, name: str, limit: int, subscription_id: int | None = None
    ) -> tuple[int, int, list[StoredEvent]] | None:
        """Take the consumer's lease (made at the current end of the outbox if new) and read
        its next events; None when another worker holds it (or the subscription is gone),
        no events while backing off."""
        at = self.clock()

        def claim(uow: UnitOfWork) -> tuple[int, int, list[StoredEvent]] | None:
            if subscription_id is not None and uow.webhooks.get(subscription_id) is None:
                return None  # unsubscribed since the round began
            uow.consumers.ensure(name, uow.event_log.last_position(), at)
            if not uow.consumers.claim(name, self.name, at, self.lease):
                return None
            state = uow.consumers.state(name)
            assert state is not None
            position, attempts, next_at = state
            if next_at is not None and next_at > at:
                return (position, attempts, [])
            return position, attempts, uow.event_log.after(position, limit)

        return atomically(self.uow(), claim)

    # ------------------------------------------------------------------ one subscription

    def _serve(self, subscription: Subscription, report: Round) -> None:
        name = subscription.consumer
        at = self.clock()
        if subscription.next_attempt_at is not None and subscription.next_attempt_at > at:
            return  # backing off; no need to take the lease

        claimed = self._claim(name, self.potok.settings.events.batch_size, subscription.id)
        if claimed is None:
            report.skipped_busy += 1
            return
        position, attempts, events = claimed
        try:
            passed = position  # events this subscription does not take are passed over
            for event in events:
                if not wants(subscription.event_types, event.type):
                    passed = event.position
                    continue
                attempt = self._deliver(subscription, event)
                moved = self._settle(subscription, event, position, attempts, attempt)
                if moved is None:
                    return  # lease lost: the other worker carries on from the cursor
                position, attempts = moved
                passed = position
                if attempt.outcome is DeliveryOutcome.DELIVERED:
                    report.delivered += 1
                elif attempt.outcome is DeliveryOutcome.DEAD:
                    report.dead += 1
                else:
                    report.failed += 1
                    return  # in order: nothing after this event goes before it
            if passed > position:
                self._move(name, position, passed, 0, None)
        finally:
            atomically(self.uow(), lambda uow: uow.consumers.release(name, self.name))

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

    def _settle(
        self,
        subscription: Subscription,
        event: StoredEvent,
        position: int,
        attempts: int,
        attempt: Attempt,
    ) -> tuple[int, int] | None:
        """Log the attempt and move the cursor (or count the failure), in one transaction;
        the new position and attempts, or None when the lease was lost."""
        settings = self.potok.settings.events
        at = self.clock()
        tries = attempts + 1
        next_at: datetime | None = None
        if attempt.outcome is DeliveryOutcome.FAILED and tries >= settings.max_attempts:
            attempt.outcome = DeliveryOutcome.DEAD
        if attempt.outcome is DeliveryOutcome.FAILED:
            delay = retry_delay(tries, settings.backoff_s, settings.backoff_max_s, self.rand)
            next_at = at + timedelta(seconds=delay)
            new_position, new_attempts = position, tries
        else:
            new_position, new_attempts = event.position, 0

        def work(uow: UnitOfWork) -> bool:
            if not uow.consumers.move(
                subscription.consumer,
                self.name,
                expected=position,
                position=new_position,
                attempts=new_attempts,
                next_attempt_at=next_at,
                at=at,
                lease=self.lease,
            ):
                return False
            uow.webhooks.log(
                subscription.id,
                event,
                tries,
                outcome=attempt.outcome.value,
                status_code=attempt.status_code,
                latency_ms=attempt.latency_ms,
                error=attempt.error,
                attempted_at=at,
            )
            return True

        if not atomically(self.uow(), work):
            return None
        if attempt.outcome is DeliveryOutcome.DEAD:
            log.warning(
                "event %s to subscription %d: dead letter after %d attempts (%s)",
                event.event_id,
                subscription.id,
                tries,
                attempt.error,
            )
        return new_position, new_attempts

    # ------------------------------------------------------------------ the HTTP call

    def _deliver(self, subscription: Subscription, event: StoredEvent) -> Attempt:
        settings = self.potok.settings.events
        refused = address_problem(subscription.url, allow_private=settings.allow_private_addresses)
        if refused is not None:
            return Attempt(DeliveryOutcome.FAILED, error=f"not called: {refused}"[:MAX_ERROR])
        secrets = reading(self.uow(), lambda uow: uow.webhooks.secrets(subscription.id))
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
            with self.client.stream(
                "POST",
                subscription.url,
                content=body,
                headers=headers,
                timeout=settings.timeout_s,
                follow_redirects=False,
            ) as response:
                status = response.status_code
                latency = int((time.perf_counter() - started) * 1000)
                if 200 <= status < 300:
                    return Attempt(DeliveryOutcome.DELIVERED, status, latency)
                answer = _first_bytes(response, BODY_KEPT)
                error = f"the receiver answered {status}" + (f": {answer}" if answer else "")
                return Attempt(DeliveryOutcome.FAILED, status, latency, error[:MAX_ERROR])
        except httpx.HTTPError as problem:
            latency = int((time.perf_counter() - started) * 1000)
            error = f"{type(problem).__name__}: {problem}"[:MAX_ERROR]
            return Attempt(DeliveryOutcome.FAILED, None, latency, error)

    # ------------------------------------------------------------------ running

    def run_forever(self, stop: threading.Event) -> None:
        """Rounds until ``stop`` is set; an idle round waits ``events.poll_s``."""
        poll = self.potok.settings.events.poll_s
        while not stop.is_set():
            try:
                report = self.run_round()
            except PotokError as error:
                log.warning("dispatcher round failed: %s", error.detail)
                report = Round()
            except Exception:
                log.exception("dispatcher round failed")
                report = Round()
            if not report.busy:
                stop.wait(poll)


def _first_bytes(response: httpx.Response, limit: int) -> str:
    """At most ``limit`` characters of the answer: a receiver cannot make us read more."""
    taken = b""
    for chunk in response.iter_bytes():
        taken += chunk
        if len(taken) >= limit:
            break
    return " ".join(taken[:limit].decode("utf-8", "replace").split())


def new_client() -> httpx.Client:
    """The HTTP client deliveries use: no redirects followed, no proxies from the
    environment, a small pool."""
    return httpx.Client(
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
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
