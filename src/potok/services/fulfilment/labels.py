"""Carriers' labels fetched in the background, and bookings retried while a carrier is down.

A booking with a carrier that prints its own labels (СДЭК) asks for the label; a booking
the carrier could not take because it was down or slow asks for the booking and the label.
The worker takes each due request (:func:`retry_labels`): books the shipment if it is not
booked yet - carriers find a booking made before under the same reference, so a retry
never makes a second carrier order - then fetches the label and keeps it, so printing
never waits for the carrier. A carrier still down is asked again later, each wait twice the
last (``BACKOFF``, up to ``LONGEST_WAIT``); a carrier that refuses ends the request with its
reason (the booking's refusal raises an operator alert); a booking still failing after
``alert_after`` attempts of the worker raises an alert once (and, through the reactions
registry, a task in the connector-errors queue), while the retries go on. Every outcome is a
step of the shipment, so the operator sees where its label stands.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from potok.connectors.carriers.interface import (
    CarrierRefused,
    CarrierUnavailable,
    LabelPrinter,
    Tracked,
)
from potok.connectors.carriers.registry import CarrierRegistry
from potok.domain.alerts import AlertKind
from potok.domain.alerts.events import AlertRaised
from potok.domain.errors import InvalidInput
from potok.domain.fulfilment import ShipmentStatus
from potok.domain.fulfilment.errors import ShipmentNotStarted
from potok.domain.kernel import Actor, Clock, utc_now
from potok.services.carrier_label_ports import LabelJob
from potok.services.fulfilment.common import shipment_of
from potok.services.unit_of_work import UnitOfWork, atomically, reading

BACKOFF = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=30)
LEASE = timedelta(minutes=10)  # a taken request that never reports back is due again then
WORKER = Actor.system("carrier-labels")
ALERT_AFTER = 5  # failed attempts of the worker to book before the operators hear of it


def wait_after(attempts: int) -> timedelta:
    """How long to wait when the worker's ``attempts`` attempts have failed: 30 s (none yet:
    the hand-over's own), 1 min, 2 min, 4 min, … up to ``LONGEST_WAIT``."""
    wait: timedelta = BACKOFF * 2 ** min(max(attempts, 0), 16)
    return min(wait, LONGEST_WAIT)


@dataclass(slots=True)
class LabelRun:
    """What one run of the worker did."""

    taken: int = 0
    ready: list[int] = field(default_factory=list)  # shipments booked and labelled
    waiting: list[int] = field(default_factory=list)  # the carrier is still down: later
    failed: list[int] = field(default_factory=list)  # refused: an operator acts
    alerted: list[int] = field(default_factory=list)  # bookings failing too long: alerts


def ask_for_label(uow: UnitOfWork, shipment_id: int, carrier: str, at: datetime) -> None:
    """Inside the caller's transaction: the worker is to book (if need be) and fetch the
    label of the shipment from ``at``."""
    uow.carrier_labels.want(shipment_id, carrier, at)


def retry_labels(
    uow: UnitOfWork,
    carriers: CarrierRegistry,
    *,
    clock: Clock = utc_now,
    limit: int = 50,
    alert_after: int = ALERT_AFTER,
) -> LabelRun:
    """Take every due label request (each by one worker only), book and fetch outside any
    transaction, and record the outcome; the ``alert_after``-th failed attempt to book
    raises an operator alert (0: never)."""
    run = LabelRun()
    now = clock()
    for job in reading(uow, lambda uow: uow.carrier_labels.due(now, limit)):
        if not atomically(uow, functools.partial(_claim, job=job, now=now)):
            continue  # another worker has it
        run.taken += 1
        _attempt(uow, carriers, job, run, clock, alert_after)
    return run


def _claim(uow: UnitOfWork, *, job: LabelJob, now: datetime) -> bool:
    return uow.carrier_labels.claim(job, now + LEASE, now)


def _attempt(
    uow: UnitOfWork,
    carriers: CarrierRegistry,
    job: LabelJob,
    run: LabelRun,
    clock: Clock,
    alert_after: int = ALERT_AFTER,
) -> None:
    from potok.services.fulfilment.tracking import book_shipment

    shipment_id = job.shipment_id
    shipment = reading(uow, lambda uow: shipment_of(uow, shipment_id))
    if job.carrier not in carriers:
        _fail(uow, job, f"{job.carrier} is not connected to this Potok", run, clock)
        return
    carrier = carriers.get(job.carrier)
    try:
        if shipment.tracking_number is None:
            if shipment.status is not ShipmentStatus.PACKED:
                reason = f"the shipment is {shipment.status.value}, no longer packed to book"
                _fail(uow, job, reason, run, clock)
                return
            try:
                shipment = book_shipment(
                    uow, carriers, shipment_id, job.carrier, WORKER, clock=clock, retry_later=False
                )
            except (ShipmentNotStarted, InvalidInput) as changed:  # meanwhile: booked, or not
                shipment = reading(uow, lambda uow: shipment_of(uow, shipment_id))
                if shipment.tracking_number is None or shipment.carrier != job.carrier:
                    _fail(uow, job, str(changed), run, clock)
                    return
        elif shipment.carrier != job.carrier:
            _fail(uow, job, f"the shipment is booked with {shipment.carrier}", run, clock)
            return
        pdf = None
        if isinstance(carrier, LabelPrinter):
            assert shipment.tracking_number is not None
            pdf = carrier.label_pdf(Tracked(shipment.tracking_number, shipment.carrier_ref))
    except CarrierUnavailable as down:
        later, error = clock() + wait_after(job.attempts + 1), str(down)
        # this attempt is the claim's: its number is the same for every worker that saw the
        # job, and only one claimed it, so the alert is raised once
        failing = shipment.tracking_number is None and job.attempts + 1 == alert_after

        def wait(uow: UnitOfWork) -> None:
            uow.carrier_labels.retry_at(shipment_id, later, error, clock())
            if failing:
                _alert_failing(uow, job, error, later, clock())

        atomically(uow, wait)
        run.waiting.append(shipment_id)
        if failing:
            run.alerted.append(shipment_id)
        return
    except CarrierRefused as refused:
        _fail(uow, job, str(refused), run, clock)
        return

    def keep(uow: UnitOfWork) -> None:
        at = clock()
        uow.carrier_labels.done(shipment_id, pdf, at)
        found = shipment_of(uow, shipment_id, lock=True)
        words = (
            f"{job.carrier}'s label kept ({len(pdf)} bytes)"
            if pdf is not None
            else f"booked with {job.carrier}, which prints no labels of its own"
        )
        found.note(at, str(WORKER), "carrier_label_ready", words, carrier=job.carrier)
        uow.shipments.save(found)

    atomically(uow, keep)
    run.ready.append(shipment_id)


def _alert_failing(
    uow: UnitOfWork, job: LabelJob, error: str, later: datetime, at: datetime
) -> None:
    """The operators hear that a shipment's booking keeps failing (the worker goes on)."""
    found = shipment_of(uow, job.shipment_id, lock=True)
    attempts = job.attempts + 1
    message = (
        f"shipment {found.number}: {job.carrier} could not book it in {attempts} attempts "
        f"of the worker ({error}); the worker tries again from {later.isoformat()} - hand "
        "the parcel to another carrier, or wait for this one"
    )[:2000]
    found.note(
        at, str(WORKER), "booking_failing", message[:500], carrier=job.carrier, attempts=attempts
    )
    uow.shipments.save(found)
    alert = uow.alerts.add(AlertKind.CARRIER_BOOKING_FAILING, found.order_id, message, at)
    uow.record(
        AlertRaised(
            occurred_at=at,
            alert_id=alert.id,
            kind=alert.kind.value,
            order_id=found.order_id,
            message=message,
        )
    )


def _fail(uow: UnitOfWork, job: LabelJob, reason: str, run: LabelRun, clock: Clock) -> None:
    def work(uow: UnitOfWork) -> None:
        at = clock()
        uow.carrier_labels.fail(job.shipment_id, reason, at)
        found = shipment_of(uow, job.shipment_id, lock=True)
        found.note(at, str(WORKER), "carrier_label_failed", reason[:500], carrier=job.carrier)
        uow.shipments.save(found)

    atomically(uow, work)
    run.failed.append(job.shipment_id)


def stored_label(uow: UnitOfWork, shipment_id: int) -> tuple[LabelJob | None, bytes | None]:
    """Where the shipment's label stands, and its PDF when the worker has kept it."""

    def work(uow: UnitOfWork) -> tuple[LabelJob | None, bytes | None]:
        job = uow.carrier_labels.get(shipment_id)
        return job, uow.carrier_labels.pdf(shipment_id) if job is not None else None

    return reading(uow, work)


def carrier_label(
    uow: UnitOfWork, carriers: CarrierRegistry, shipment_id: int, *, clock: Clock = utc_now
) -> tuple[str, str, bytes]:
    """A booked shipment's label as its carrier prints it: the one the worker kept, else
    asked of the carrier now (and kept). While the carrier is down the error says where the
    worker's retries stand. Answers the carrier, the tracking number and the PDF."""
    from potok.domain.fulfilment.errors import CarrierPrintsNoLabels
    from potok.services.fulfilment.tracking import booking_of

    code, booked = booking_of(uow, shipment_id)
    job, kept = stored_label(uow, shipment_id)
    if kept is not None:
        return code, booked.tracking_number, kept
    carrier = carriers.get(code)
    if not isinstance(carrier, LabelPrinter):
        raise CarrierPrintsNoLabels(carrier=code)
    try:
        pdf = carrier.label_pdf(booked)
    except CarrierUnavailable as down:
        if job is None:
            atomically(uow, lambda uow: ask_for_label(uow, shipment_id, code, clock()))
        raise CarrierUnavailable(carrier=code, reason=f"{down.detail}; {_where(job)}") from None

    def keep(uow: UnitOfWork) -> None:
        ask_for_label(uow, shipment_id, code, clock())
        uow.carrier_labels.done(shipment_id, pdf, clock())

    atomically(uow, keep)
    return code, booked.tracking_number, pdf


def _where(job: LabelJob | None) -> str:
    if job is None or job.next_attempt_at is None:
        return "the worker fetches the label as soon as the carrier answers"
    tried = f"{job.attempts} attempt(s) so far" if job.attempts else "not tried yet"
    return f"the worker fetches the label again at {job.next_attempt_at.isoformat()} ({tried})"
