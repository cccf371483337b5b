"""Cash on delivery remitted by carriers: their payment registries, read on a schedule (and
by ``potok carriers remittances``), settle the orders paid on delivery.

Each parcel a registry lists is matched to its shipment by the carrier's tracking number and
kept once (a registry read again adds nothing); the order's history says what was asked,
collected, withheld as the carrier's fee and transferred, under which registry and payment
order. When every live shipment of the order has been remitted in full, the order's payment
becomes ``paid`` with the amount and the registries in that step. A parcel for which the
carrier collected less than Potok asked it to (a short payment) leaves the payment
``pending`` and raises a ``cod_short_paid`` alert for the operators to settle with the
carrier. A carrier is asked outside any transaction; one that cannot be reached is tried
again at the next run.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from potok.connectors.carriers.interface import (
    CarrierError,
    Remittance,
    RemittanceReader,
)
from potok.connectors.carriers.registry import CarrierRegistry
from potok.domain.alerts import AlertKind
from potok.domain.alerts.events import AlertRaised
from potok.domain.fulfilment import ShipmentStatus
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.orders import Order, PaymentStatus
from potok.domain.orders.states import ON_DELIVERY
from potok.services.cod_remittance_ports import RemittedParcel
from potok.services.fulfilment.common import locked
from potok.services.fulfilment.tracking import cash_to_collect
from potok.services.unit_of_work import UnitOfWork, atomically, reading

SETTLED_BY_REMITTANCE = frozenset(
    {PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.FAILED}
)


@dataclass(slots=True)
class RemittanceRun:
    """What one reading of the carriers' registries did."""

    listed: int = 0  # parcels the registries listed
    recorded: list[int] = field(default_factory=list)  # shipments remitted (new)
    repeated: int = 0  # parcels of registries read before
    paid: list[int] = field(default_factory=list)  # orders whose payment is now paid
    short: list[int] = field(default_factory=list)  # orders short paid: alerts raised
    unknown: list[str] = field(default_factory=list)  # tracking numbers Potok does not know
    errors: dict[str, str] = field(default_factory=dict)  # carrier -> why it was not read


def read_remittances(
    uow: UnitOfWork,
    carriers: CarrierRegistry,
    *,
    days: int = 3,
    day: date | None = None,
    clock: Clock = utc_now,
) -> RemittanceRun:
    """Read the registries every carrier that lists them paid on ``day`` (else today and the
    ``days`` - 1 days before it) and settle the orders they pay."""
    today = clock().date()
    dates = [day] if day is not None else [today - timedelta(days=n) for n in range(days)]
    run = RemittanceRun()
    for code in carriers.codes:
        carrier = carriers.get(code)
        if not isinstance(carrier, RemittanceReader):
            continue
        for paid_on in dates:
            try:
                parcels = carrier.remittances(paid_on)  # outside any transaction
            except CarrierError as error:
                run.errors[code] = str(error)
                break
            run.listed += len(parcels)
            for parcel in parcels:
                atomically(
                    uow, functools.partial(_settle, code=code, parcel=parcel, run=run, clock=clock)
                )
    return run


def _settle(
    uow: UnitOfWork, *, code: str, parcel: Remittance, run: RemittanceRun, clock: Clock
) -> None:
    shipment_id = uow.shipments.by_tracking(code, parcel.tracking_number)
    if shipment_id is None:
        run.unknown.append(parcel.tracking_number)
        return
    order, shipment = locked(uow, shipment_id)  # the order locked first: one reader at a time
    if uow.cod_remittances.known(code, parcel.registry_number, parcel.tracking_number):
        run.repeated += 1
        return
    assert order.id is not None
    at = clock()
    actor = str(Actor.system(f"carrier-{code}"))
    kept = RemittedParcel(
        carrier=code,
        registry_number=parcel.registry_number,
        tracking_number=parcel.tracking_number,
        shipment_id=shipment_id,
        order_id=order.id,
        expected=cash_to_collect(uow, shipment, order)
        if order.payment_method in ON_DELIVERY
        else order.subtotal.amount * 0,  # a prepaid order's carrier collects nothing
        collected=parcel.collected,
        commission=parcel.commission,
        transferred=parcel.transferred,
        paid_on=parcel.paid_on,
        payment_order=parcel.payment_order,
        read_at=at,
    )
    uow.cod_remittances.add(kept)
    run.recorded.append(shipment_id)
    order.note_remittance(
        at,
        actor,
        f"{code} remitted {kept.transferred} for shipment {shipment.number} under registry "
        f"{kept.registry_number} (collected {kept.collected} of {kept.expected}, fee "
        f"{kept.commission})",
        **_facts(kept, shipment.number),
    )
    if kept.short_by > 0:
        _alert_short(uow, order, kept, shipment.number, at)
        run.short.append(order.id)
    elif _settled(uow, order, kept):
        remitted = [r for r in uow.cod_remittances.for_order(order.id) if r.short_by == 0]
        order.record_payment(
            PaymentStatus.PAID,
            at,
            actor,
            f"cash on delivery remitted by {code}: "
            + ", ".join(sorted({f"registry {r.registry_number}" for r in remitted})),
            amount=str(sum((r.collected for r in remitted), Decimal("0.00"))),
            transferred=str(sum((r.transferred for r in remitted), Decimal("0.00"))),
            registries=sorted({r.registry_number for r in remitted}),
        )
        run.paid.append(order.id)
    uow.orders.save(order)


def _settled(uow: UnitOfWork, order: Order, kept: RemittedParcel) -> bool:
    """Whether the order is now paid: paid on delivery, not paid otherwise since, and every
    live shipment of it remitted in full."""
    assert order.id is not None
    if order.payment_method not in ON_DELIVERY:
        return False
    if order.payment_status not in SETTLED_BY_REMITTANCE:
        return False
    full = {r.shipment_id for r in uow.cod_remittances.for_order(order.id) if r.short_by == 0}
    live = {
        shipment_id
        for shipment_id, status in uow.shipments.statuses(order.id).items()
        if status is not ShipmentStatus.CANCELLED
    }
    return kept.shipment_id in full and live <= full


def _facts(kept: RemittedParcel, shipment_number: str) -> dict[str, object]:
    return {
        "carrier": kept.carrier,
        "registry": kept.registry_number,
        "payment_order": kept.payment_order,
        "paid_on": kept.paid_on.isoformat() if kept.paid_on else None,
        "shipment": shipment_number,
        "tracking_number": kept.tracking_number,
        "expected": str(kept.expected),
        "collected": str(kept.collected),
        "commission": str(kept.commission),
        "transferred": str(kept.transferred),
    }


def _alert_short(
    uow: UnitOfWork, order: Order, kept: RemittedParcel, shipment_number: str, at: datetime
) -> None:
    message = (
        f"shipment {shipment_number}: {kept.carrier} collected {kept.collected} of "
        f"{kept.expected} (short by {kept.short_by}) under registry {kept.registry_number}"
        f"{f', payment order {kept.payment_order}' if kept.payment_order else ''}; the "
        "order's payment stays pending: settle the difference with the carrier, then record "
        "the payment"
    )[:2000]
    alert = uow.alerts.add(AlertKind.COD_SHORT_PAID, order.id, message, at)
    uow.record(
        AlertRaised(
            occurred_at=at,
            alert_id=alert.id,
            kind=alert.kind.value,
            order_id=order.id,
            message=message,
        )
    )


def remitted(uow: UnitOfWork, order_id: int) -> Sequence[RemittedParcel]:
    """The carriers' remittances of an order's parcels, oldest first (read-only)."""
    return reading(uow, lambda uow: uow.cod_remittances.for_order(order_id))
