"""Carriers: booking a packed shipment (tracking number, label, expected date), tracking
events by webhook and by polling moving it to delivered - or back to the sender, its units
then back in stock for a check -, and pickup points' storage deadlines.

A carrier is never called inside a transaction: what it needs is read first, its answer is
recorded after, and the shipment is checked again then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from potok.connectors.carriers.interface import (
    Booking,
    BookingRequest,
    Carrier,
    CarrierRefused,
    CarrierUnavailable,
    CashOnDeliveryRefused,
    LabelPrinter,
    Parcel,
    ParcelItem,
    PointCannotTakeParcels,
    Quote,
    QuoteRequest,
    Tracked,
    TrackingEvent,
    TrackingStatus,
)
from potok.connectors.carriers.registry import CarrierRegistry
from potok.domain.alerts import AlertKind
from potok.domain.alerts.events import AlertRaised
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.fulfilment import Shipment, ShipmentStatus
from potok.domain.fulfilment.errors import ShipmentNotBooked, ShipmentNotStarted
from potok.domain.fulfilment.model import Parcel as PackedParcel
from potok.domain.fulfilment.states import CARRIER_STEPS, SHIPMENT, WITH_CARRIER
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.orders import DeliveryMethod, Order
from potok.domain.triggers import ParcelCameBack
from potok.services.fulfilment.common import locked, roll_up_order, shipment_of
from potok.services.fulfilment.handover import hand_over
from potok.services.fulfilment.labels import ask_for_label, wait_after
from potok.services.fulfilment.packing import box_for
from potok.services.idempotency import Once, answered_before, atomically_once
from potok.services.reactions import react
from potok.services.unit_of_work import UnitOfWork, atomically, reading

EVENT_ID = "event_id"


# ---------------------------------------------------------------------- booking


@dataclass(frozen=True, slots=True)
class _ToBook:
    request: BookingRequest
    status: ShipmentStatus
    booked: bool
    carrier: str | None  # the one to book with: the caller's, else the shipment's planned
    planned: str | None
    refusal: CarrierRefused | None = None  # why Potok will not ask the carrier at all


def _booking_request(
    uow: UnitOfWork, shipment: Shipment, order: Order, at: datetime
) -> BookingRequest:
    site = uow.warehouses.get_by_code(shipment.warehouse_code)
    assert site is not None
    delivery = order.delivery
    address = delivery.address
    value = sum(
        (order.line(i.line_no).unit_price * i.quantity for i in shipment.items if i.quantity),
        start=order.subtotal.amount * 0,
    )
    collect = order.pays_on_delivery
    parcels = [_parcel(p, shipment, order, collect=collect) for p in shipment.parcels]
    goods = sum((i.unit_to_collect * i.quantity for p in parcels for i in p.items), value * 0)
    charge = delivery.price if collect and _carries_delivery_charge(uow, shipment) else value * 0
    return BookingRequest(
        reference=shipment.number,
        from_warehouse=shipment.warehouse_code,
        origin=(site.latitude, site.longitude),
        destination=delivery.destination,
        recipient_name=order.contact.name,
        recipient_phone=order.contact.phone,
        address=f"{address.line1} {address.line2}".strip() if address else None,
        city=address.city if address else None,
        pickup_point=delivery.pickup_point_code
        if delivery.method is DeliveryMethod.PICKUP
        else None,
        parcels=parcels,
        declared_value=value,
        cash_on_delivery=goods + charge,
        delivery_to_collect=charge,
        delivery_vat_rate=delivery.vat_rate if charge else None,
        handed_over_at=at,
        postal_code=address.postal_code or None if address else None,
        region=address.region or None if address else None,
    )


def cash_to_collect(uow: UnitOfWork, shipment: Shipment, order: Order) -> Decimal:
    """What the carrier is asked to collect for the shipment when its order is paid on
    delivery: each packed unit at its price, and the order's delivery charge with its first
    live shipment (as :func:`book_shipment` books it)."""
    parcels = [_parcel(p, shipment, order, collect=True) for p in shipment.parcels]
    goods = sum(
        (i.unit_to_collect * i.quantity for p in parcels for i in p.items),
        order.subtotal.amount * 0,
    )
    charge = order.delivery.price if _carries_delivery_charge(uow, shipment) else goods * 0
    return goods + charge


def _parcel(packed: PackedParcel, shipment: Shipment, order: Order, *, collect: bool) -> Parcel:
    """A packed box with the goods in it, each unit's price what the carrier collects for
    it when the order is paid on delivery."""
    items = {i.item_no: i for i in shipment.items}
    units = sum(packed.contents.values())
    each_g = max(packed.weight_g // units, 1) if units else 0
    merged: dict[tuple[str, Decimal, Decimal], int] = {}
    names: dict[str, str] = {}
    for item_no, quantity in sorted(packed.contents.items()):
        item = items.get(item_no)
        if item is None or quantity <= 0:
            continue
        line = order.line(item.line_no)
        key = (line.sku, line.unit_price, line.vat_rate)
        merged[key] = merged.get(key, 0) + quantity
        names[line.sku] = line.name
    return Parcel(
        packed.weight_g,
        packed.length_mm,
        packed.width_mm,
        packed.height_mm,
        tuple(
            ParcelItem(
                sku=sku,
                name=names[sku],
                quantity=quantity,
                unit_value=price,
                unit_to_collect=price if collect else price * 0,
                vat_rate=vat_rate,
                unit_weight_g=each_g,
            )
            for (sku, price, vat_rate), quantity in merged.items()
        ),
    )


def _carries_delivery_charge(uow: UnitOfWork, shipment: Shipment) -> bool:
    """The order's delivery price is collected once, with its first live shipment."""
    live = [
        s.seq
        for s in uow.shipments.for_order(shipment.order_id)
        if s.status is not ShipmentStatus.CANCELLED
    ]
    return shipment.seq == min(live, default=shipment.seq)


def _refusal(
    uow: UnitOfWork, carrier: str, shipment: Shipment, order: Order
) -> CarrierRefused | None:
    """Why Potok will not ask the carrier to take the shipment, if it will not: the order's
    channel no longer lets it be paid on delivery, or the carrier's pickup point it goes to
    cannot take the boxes as packed (their weight, or a box no cell of a locker holds)."""
    if order.pays_on_delivery and order.payment_method is not None:
        channel = uow.channels.get(order.channel_id)
        if channel is not None and not channel.takes(order.payment_method):
            return CashOnDeliveryRefused(
                carrier=carrier,
                reason=f"channel '{channel.code}' no longer takes "
                f"{order.payment_method.value}: record the order's payment, or let the "
                "channel take it again, before it ships",
            )
    delivery = order.delivery
    if delivery.method is not DeliveryMethod.PICKUP or delivery.pickup_point_id is not None:
        return None
    point = uow.carrier_points.get(carrier, delivery.pickup_point_code or "")
    if point is None:
        return None
    where = f"{carrier} point {point.code}"
    weight = sum(p.weight_g for p in shipment.parcels)
    if point.weight_max_g is not None and weight > point.weight_max_g:
        return PointCannotTakeParcels(
            carrier=carrier,
            reason=f"{where} takes up to {point.weight_max_g / 1000:g} kg; the packed boxes "
            f"weigh {weight / 1000:g} kg: choose another point or courier delivery",
        )
    for box in shipment.parcels:
        if not point.fits(box.length_mm, box.width_mm, box.height_mm):
            cells = ", ".join("×".join(f"{side / 10:g}" for side in c) for c in point.cell_sizes())
            return PointCannotTakeParcels(
                carrier=carrier,
                reason=f"box {box.parcel_no} "
                f"({box.length_mm / 10:g}×{box.width_mm / 10:g}×{box.height_mm / 10:g} cm) "
                f"fits no cell of {where} ({cells} cm): repack it, or choose another point",
            )
    return None


def book_shipment(
    uow: UnitOfWork,
    carriers: CarrierRegistry,
    shipment_id: int,
    carrier_code: str | None,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[Shipment] | None = None,
    retry_later: bool = True,
) -> Shipment:
    """Book a packed shipment with a carrier - the one named, else the one sourcing chose for
    it (a named one that differs replaces that choice, in its steps): its tracking number,
    label and tariff are recorded (the expected date follows at hand-over). Booking twice is
    refused; a repeat with the first request's Idempotency-Key gets the first answer, the
    carrier asked once.
    A carrier that prints labels gets its label fetched by the worker; a carrier that is
    down gets the booking retried by the worker (``retry_later``) - the error still goes
    back to the caller."""
    answered_before(uow, once)

    def read(uow: UnitOfWork) -> _ToBook:
        shipment = shipment_of(uow, shipment_id)
        order = uow.orders.get(shipment.order_id)
        assert order is not None
        chosen = carrier_code or shipment.planned_carrier
        return _ToBook(
            _booking_request(uow, shipment, order, clock()),
            shipment.status,
            shipment.tracking_number is not None,
            chosen,
            shipment.planned_carrier,
            _refusal(uow, chosen, shipment, order) if chosen else None,
        )

    planned = reading(uow, read)
    if planned.carrier is None:
        raise InvalidInput(
            [
                FieldError(
                    "carrier",
                    f"name a carrier: sourcing chose none for shipment {shipment_id}",
                    "required",
                )
            ]
        )
    carrier = carriers.get(planned.carrier)
    if planned.status is not ShipmentStatus.PACKED:
        raise ShipmentNotStarted(
            shipment_id=shipment_id,
            status=planned.status.value,
            action="a carrier books a packed shipment",
        )
    if planned.booked:
        raise InvalidInput(
            [FieldError("carrier", f"shipment {shipment_id} is booked already", "booked")]
        )
    if planned.refusal is not None:  # refused before the carrier is asked
        reason = str(planned.refusal.context.get("reason", planned.refusal))
        _note_refusal(uow, shipment_id, carrier.code, reason, clock(), str(actor), by_potok=True)
        raise planned.refusal
    try:
        booking = carrier.book(planned.request)  # outside any transaction
    except CarrierRefused as refused:
        _note_refusal(uow, shipment_id, carrier.code, str(refused), clock(), str(actor))
        raise
    except CarrierUnavailable as down:
        if retry_later:
            _retry_later(uow, shipment_id, carrier.code, str(down), clock(), str(actor))
        raise

    def record(uow: UnitOfWork) -> Shipment:
        shipment = shipment_of(uow, shipment_id, lock=True)
        if shipment.status is not ShipmentStatus.PACKED or shipment.tracking_number:
            raise ShipmentNotStarted(
                shipment_id=shipment_id,
                status=shipment.status.value,
                action="it changed while the carrier booked it",
            )
        at = clock()
        if shipment.planned_carrier not in (None, carrier.code):  # the operator's choice
            shipment.plan_carrier(
                carrier.code, at, str(actor), f"booked with {carrier.code} instead", by="booking"
            )
        _note_booking(shipment, carrier, booking, at, str(actor))
        uow.shipments.save(shipment)
        if isinstance(carrier, LabelPrinter):  # fetched and kept by the worker
            ask_for_label(uow, shipment_id, carrier.code, at)
        return shipment

    try:
        return atomically_once(uow, once, record)
    except Exception:
        kept = reading(uow, lambda uow: shipment_of(uow, shipment_id).tracking_number)
        if kept != booking.tracking_number:  # the carrier found the booking made meanwhile
            _call_off(carrier, booking)
        raise


def _retry_later(
    uow: UnitOfWork, shipment_id: int, carrier: str, reason: str, at: datetime, actor: str
) -> None:
    """The carrier could not be reached: the worker books the shipment (and fetches its
    label) later, with backoff; the shipment stays packed and says so."""
    later = at + wait_after(0)

    def work(uow: UnitOfWork) -> None:
        shipment = shipment_of(uow, shipment_id, lock=True)
        if shipment.status is not ShipmentStatus.PACKED or shipment.tracking_number:
            return
        ask_for_label(uow, shipment_id, carrier, later)
        words = f"{reason}; the worker books it again from {later.isoformat()}"
        shipment.note(at, actor, "booking_delayed", words[:500], carrier=carrier)
        uow.shipments.save(shipment)

    atomically(uow, work)


def _note_refusal(
    uow: UnitOfWork,
    shipment_id: int,
    carrier: str,
    reason: str,
    at: datetime,
    actor: str,
    *,
    by_potok: bool = False,
) -> None:
    """The carrier refused the booking (or Potok did, ``by_potok``, before asking it): the
    shipment stays packed with the reason as a step, and the operators get an alert to fix
    the order and hand it over again."""

    def work(uow: UnitOfWork) -> None:
        shipment = shipment_of(uow, shipment_id, lock=True)
        shipment.note(at, actor, "booking_refused", reason[:500], carrier=carrier)
        uow.shipments.save(shipment)
        who = f"not booked with {carrier}" if by_potok else f"{carrier} refused the booking"
        message = (
            f"shipment {shipment.number}: {who} - {reason}; the "
            "shipment stays packed: correct the order and hand it over again"
        )[:2000]
        alert = uow.alerts.add(AlertKind.CARRIER_REFUSED_BOOKING, shipment.order_id, message, at)
        uow.record(
            AlertRaised(
                occurred_at=at,
                alert_id=alert.id,
                kind=alert.kind.value,
                order_id=shipment.order_id,
                message=message,
            )
        )

    atomically(uow, work)


def _note_booking(
    shipment: Shipment, carrier: Carrier, booking: Booking, at: datetime, actor: str
) -> None:
    shipment.carrier = carrier.code
    shipment.carrier_ref = booking.carrier_ref
    shipment.tracking_number = booking.tracking_number
    shipment.label = booking.label
    shipment.tariff = booking.tariff
    shipment.note(
        at,
        actor,
        "booked",
        f"booked with {carrier.code}: {booking.tracking_number}, tariff {booking.tariff}, "
        f"{booking.days} d, {booking.price} ₽",
        carrier=carrier.code,
        tracking_number=booking.tracking_number,
        days=booking.days,
        price=str(booking.price),
    )


def _call_off(carrier: Carrier, booking: Booking) -> None:
    try:
        carrier.cancel(booking)
    except Exception:
        return


def hand_over_to(
    uow: UnitOfWork,
    carriers: CarrierRegistry,
    shipment_id: int,
    actor: Actor,
    *,
    carrier: str | None = None,
    tracking_number: str | None = None,
    clock: Clock = utc_now,
    once: Once[Shipment] | None = None,
) -> Shipment:
    """Hand a packed shipment over. To a carrier Potok knows that has not booked it yet (the
    one named, else the one sourcing chose), it is booked first; another name is recorded as
    given (a courier of one's own, the customer at the counter). The expected delivery date
    is the hand-over day plus the booked tariff's days, or the shipping tariff's days from
    the warehouse."""
    if tracking_number is None and (carrier is None or carrier in carriers):
        current = reading(uow, lambda uow: shipment_of(uow, shipment_id))
        chosen = carrier or current.planned_carrier
        if (
            chosen is not None
            and chosen in carriers
            and current.tracking_number is None
            and current.status is ShipmentStatus.PACKED
        ):
            book_shipment(uow, carriers, shipment_id, chosen, actor, clock=clock)
    return hand_over(
        uow,
        shipment_id,
        actor,
        carrier=carrier,
        tracking_number=tracking_number,
        clock=clock,
        once=once,
    )


# ---------------------------------------------------------------------- tracking


@dataclass(slots=True)
class TrackingOutcome:
    """What a batch of tracking events did."""

    applied: int = 0  # events that moved a shipment or told it something new
    repeated: int = 0  # events applied before (a webhook retried, a poll overlapping)
    unknown: int = 0  # events of parcels Potok does not know
    refused: int = 0  # events that do not fit the shipment (delivered after returned)
    shipments: list[int] = field(default_factory=list)


def apply_tracking(
    uow: UnitOfWork,
    carrier_code: str,
    events: Sequence[TrackingEvent],
    *,
    clock: Clock = utc_now,
) -> TrackingOutcome:
    """Apply a carrier's events, one transaction per parcel, in time order; events applied
    before are skipped, so webhooks and polling may both deliver them."""
    outcome = TrackingOutcome()
    actor = str(Actor.system(f"carrier-{carrier_code}"))
    by_parcel: dict[str, list[TrackingEvent]] = {}
    for event in events:
        by_parcel.setdefault(event.tracking_number, []).append(event)
    for tracking_number, parcel_events in by_parcel.items():
        parcel_events.sort(key=lambda e: (e.occurred_at, e.event_id))

        def work(
            uow: UnitOfWork, tn: str = tracking_number, todo: list[TrackingEvent] = parcel_events
        ) -> TrackingOutcome:
            done = TrackingOutcome()
            shipment_id = uow.shipments.by_tracking(carrier_code, tn)
            if shipment_id is None:
                done.unknown = len(todo)
                return done
            order, shipment = locked(uow, shipment_id)
            steps = uow.shipments.steps(shipment_id)
            seen = {str(s.details.get(EVENT_ID)) for s in steps}
            moved = [  # the carrier's own moves (not a deadline Potok enforced)
                _utc(s.occurred_at)
                for s in steps
                if s.to_status in TRACKED_MOVES
                and s.from_status != s.to_status
                and (EVENT_ID in s.details or "implied_by" in s.details)
            ]
            since = max(moved, default=None)
            for event in todo:
                if event.event_id in seen:
                    if _corrects_deadline(shipment, event):  # the carrier's word on a guess
                        _correct_deadline(uow, shipment, event, actor)
                        done.applied += 1
                    else:
                        done.repeated += 1
                    continue
                seen.add(event.event_id)
                if _apply(uow, order, shipment, event, actor, since=since):
                    done.applied += 1
                else:
                    done.refused += 1
            if done.applied:
                done.shipments.append(shipment_id)
            return done

        one = atomically(uow, work)
        outcome.applied += one.applied
        outcome.repeated += one.repeated
        outcome.unknown += one.unknown
        outcome.refused += one.refused
        outcome.shipments.extend(one.shipments)
    return outcome


def _corrects_deadline(shipment: Shipment, event: TrackingEvent) -> bool:
    """An event seen before that now carries the carrier's own storage deadline (a poll
    after a webhook that told none), different from the one the shipment keeps."""
    return (
        shipment.status is ShipmentStatus.READY_FOR_PICKUP
        and event.status is TrackingStatus.READY_FOR_PICKUP
        and event.storage_until is not None
        and not event.storage_estimated
        and (
            shipment.storage_until is None
            or _utc(shipment.storage_until) != _utc(event.storage_until)
        )
    )


def _correct_deadline(
    uow: UnitOfWork, shipment: Shipment, event: TrackingEvent, actor: str
) -> None:
    assert event.storage_until is not None
    before = shipment.storage_until
    shipment.storage_until = event.storage_until
    was = f" (was {_utc(before).isoformat()})" if before is not None else ""
    shipment.note(
        _utc(event.occurred_at),
        actor,
        "storage_deadline_corrected",
        f"to be collected before {_utc(event.storage_until).isoformat()}{was}",
        corrects=event.event_id,
        storage_until=_utc(event.storage_until).isoformat(),
    )
    uow.shipments.save(shipment)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


TRACKED_MOVES = frozenset(s.value for s in CARRIER_STEPS)


def _apply(
    uow: UnitOfWork,
    order: Order,
    shipment: Shipment,
    event: TrackingEvent,
    actor: str,
    *,
    since: datetime | None = None,
) -> bool:
    """One event on a locked shipment: it moves on (through a step the carrier left
    implicit, e.g. failed before returning), or learns a new expected date; False when the
    event cannot apply (the shipment has not left, or is settled, or the event is older
    than the shipment's last move - it arrived out of order)."""
    assert shipment.id is not None
    target = ShipmentStatus(event.status.value)
    if shipment.status not in WITH_CARRIER:
        return False
    facts = {EVENT_ID: event.event_id, "description": event.description}
    if event.location:
        facts["location"] = event.location
    at = event.occurred_at.astimezone(UTC)
    if target is shipment.status:
        if event.eta_on is not None:
            shipment.eta_on = event.eta_on
        if event.storage_until is not None and (
            not event.storage_estimated or shipment.storage_until is None
        ):  # a guess never replaces the carrier's own deadline
            shipment.storage_until = event.storage_until
        shipment.note(at, actor, "tracking", event.description, **facts)
        uow.shipments.save(shipment)
        return True
    if since is not None and at < since:
        return False
    moves = SHIPMENT.path(shipment.status, target, through=CARRIER_STEPS)
    if not moves:
        return False
    for step in moves:
        last = step is target
        shipment.track(
            step,
            at,
            actor,
            event=event.description if last else f"{event.description} (implied)",
            eta_on=event.eta_on if last else None,
            storage_until=event.storage_until if last else None,
            details=facts if last else {"implied_by": event.event_id},
        )
    if target is ShipmentStatus.RETURNED_TO_SENDER:
        back_in_stock(uow, order, shipment, at, actor)
    uow.shipments.save(shipment)
    roll_up_order(
        uow,
        order,
        at,
        actor,
        f"shipment_{target.value}",
        f"shipment {shipment.number}: {event.description}",
        shipment_id=shipment.id,
        tracking_number=shipment.tracking_number,
    )
    if target is ShipmentStatus.RETURNED_TO_SENDER:
        react(uow, ParcelCameBack(at=at, order=order, shipment=shipment, actor=actor))
    return True


def back_in_stock(
    uow: UnitOfWork, order: Order, shipment: Shipment, at: datetime, actor: str
) -> None:
    """The parcels came back: their serials are in stock and their codes may ship again;
    the units themselves come back through a return (the reaction to ``ParcelCameBack``),
    set aside as unavailable until someone checks them."""
    assert order.id is not None
    assert shipment.id is not None
    for item in shipment.items:
        if item.picked_serials:
            uow.stock.return_serials(order.id, item.stock_id, item.picked_serials, at)
    uow.shipments.release_codes(shipment.id)


def poll_carriers(
    uow: UnitOfWork,
    carriers: CarrierRegistry,
    *,
    clock: Clock = utc_now,
    limit: int = 500,
) -> TrackingOutcome:
    """Ask every carrier for the events of the shipments it holds, and apply them."""
    total = TrackingOutcome()
    for code in carriers.codes:
        carrier = carriers.get(code)
        after = 0
        while True:

            def read(
                uow: UnitOfWork, code: str = code, after: int = after
            ) -> list[tuple[int, Tracked]]:
                return _held_by(uow, code, limit, after)

            batch = reading(uow, read)
            if not batch:
                break
            after = batch[-1][0]
            events = carrier.track([t for _, t in batch], clock())  # outside any transaction
            one = apply_tracking(uow, code, events, clock=clock)
            total.applied += one.applied
            total.repeated += one.repeated
            total.unknown += one.unknown
            total.refused += one.refused
            total.shipments.extend(one.shipments)
            if len(batch) < limit:
                break
    return total


def _held_by(uow: UnitOfWork, code: str, limit: int, after: int) -> list[tuple[int, Tracked]]:
    ids = uow.shipments.with_carrier(code, limit, after)
    return [
        (s.id or 0, Tracked(s.tracking_number, s.carrier_ref))
        for s in uow.shipments.get_many(ids)
        if s.tracking_number is not None
    ]


def expire_pickups(uow: UnitOfWork, *, clock: Clock = utc_now, limit: int = 200) -> list[int]:
    """Parcels not collected by their pickup point's deadline go back: the shipment fails
    (the carrier's own events then bring it back to the sender)."""
    due = reading(uow, lambda uow: uow.shipments.due_at_pickup_points(clock(), limit))
    actor = str(Actor.system("pickup-deadline"))
    failed: list[int] = []
    for shipment_id in due:

        def work(uow: UnitOfWork, shipment_id: int = shipment_id) -> bool:
            at = clock()
            order, shipment = locked(uow, shipment_id)
            if (
                shipment.status is not ShipmentStatus.READY_FOR_PICKUP
                or shipment.storage_until is None
                or shipment.storage_until > at
            ):
                return False
            shipment.track(
                ShipmentStatus.FAILED_DELIVERY,
                at,
                actor,
                event="not collected before the storage deadline",
            )
            uow.shipments.save(shipment)
            roll_up_order(
                uow,
                order,
                at,
                actor,
                "shipment_failed_delivery",
                f"shipment {shipment.number} was not collected by "
                f"{shipment.storage_until.isoformat()}",
                shipment_id=shipment_id,
            )
            return True

        if atomically(uow, work):
            failed.append(shipment_id)
    return failed


def quotes(
    uow: UnitOfWork, carriers: CarrierRegistry, shipment_id: int
) -> list[tuple[str, list[Quote]]]:
    """What each carrier would charge for the shipment (by its boxes as packed - weights and
    sizes -, or its products' weight while unpacked); carriers that cannot be reached are
    left out."""

    def read(uow: UnitOfWork) -> QuoteRequest:
        shipment = shipment_of(uow, shipment_id)
        order = uow.orders.get(shipment.order_id)
        assert order is not None
        request = _booking_request(uow, shipment, order, clock_never())
        weight = shipment.weight_g or sum(
            int(uow.sourcing.weights_kg({i.product_id}).get(i.product_id, 0) * 1000) * i.quantity
            for i in shipment.items
        )
        parcels = tuple(request.parcels)  # packed: the boxes' own weights and sizes
        if not parcels:  # not yet: one box of the products' own sizes, when all are known
            box = box_for(uow, [(i.sku, i.quantity) for i in shipment.items])
            parcels = (Parcel(max(weight, 1), *box),) if box is not None else ()
        return QuoteRequest(
            request.origin,
            request.destination,
            max(weight, 1),
            city=request.city,
            pickup_point=request.pickup_point,
            postal_code=request.postal_code,
            parcels=parcels,
        )

    request = reading(uow, read)
    found = []
    for code in carriers.codes:
        try:
            found.append((code, carriers.get(code).quote(request)))
        except CarrierUnavailable:
            continue
    return found


def booking_of(uow: UnitOfWork, shipment_id: int) -> tuple[str, Tracked]:
    """The carrier that booked the shipment and what it needs to find the booking."""

    def read(uow: UnitOfWork) -> tuple[str, Tracked]:
        shipment = shipment_of(uow, shipment_id)
        if not shipment.carrier or not shipment.tracking_number:
            raise ShipmentNotBooked(
                shipment_id=shipment_id, carrier=shipment.carrier or "a carrier"
            )
        return shipment.carrier, Tracked(shipment.tracking_number, shipment.carrier_ref)

    return reading(uow, read)


def clock_never() -> datetime:
    """A moment for requests that do not book (quotes)."""
    return datetime(1970, 1, 1, tzinfo=UTC)
