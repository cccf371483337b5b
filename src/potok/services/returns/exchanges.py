"""Exchanges: a return whose units are replaced by a new order, linked to it, sourced and
reserved like any other order - possibly before the returned units arrive. The replacement
costs the customer nothing up to what comes back: its worth is taken off the refund.

The replacement is placed through intake (its own transaction, deduplicated by its external
id ``exchange-RT-000001`` within the channel), then linked to the return; a crash between
the two is mended by asking again, which finds the same order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.orders import Order, PaymentStatus
from potok.domain.orders.commands import DeliveryRequest, LineRequest, PlaceOrder
from potok.domain.returns import Return
from potok.domain.returns.model import MAX_LINES
from potok.services.fulfilment.common import order_of
from potok.services.idempotency import Once, answered_before, atomically_once
from potok.services.intake import Placement, place_order
from potok.services.returns.common import locked, note_on_order, return_of
from potok.services.unit_of_work import UnitOfWork, reading


@dataclass(frozen=True, slots=True)
class ExchangeLine:
    """What the customer gets instead: a SKU and how many."""

    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Exchange:
    ret: Return
    order: Order  # the replacement
    created: bool  # False: it existed already (asked again)


def _lines(ret: Return, wanted: Sequence[ExchangeLine] | None) -> list[ExchangeLine]:
    if wanted:
        if len(wanted) > MAX_LINES or any(not 1 <= w.quantity <= 1_000_000 for w in wanted):
            raise InvalidInput(
                [FieldError("lines", f"1 to {MAX_LINES} lines of 1 or more units", "invalid")]
            )
        return list(wanted)
    same: dict[str, int] = {}
    for line in ret.lines:
        same[line.sku] = same.get(line.sku, 0) + line.quantity
    return [ExchangeLine(sku, quantity) for sku, quantity in same.items()]


def _command(order: Order, ret: Return, lines: list[ExchangeLine]) -> PlaceOrder:
    paid = {line.sku: line for line in order.lines}
    delivery = order.delivery
    return PlaceOrder(
        channel=order.channel_code,
        lines=[
            LineRequest(
                w.sku,
                w.quantity,
                paid[w.sku].unit_price if w.sku in paid else None,
                paid[w.sku].vat_rate if w.sku in paid else None,
            )
            for w in lines
        ],
        delivery=DeliveryRequest(
            delivery.method,
            address=delivery.address,
            pickup_point=delivery.pickup_point_code,
            price=Decimal("0.00"),
        ),
        currency=order.currency,
        external_id=f"exchange-{ret.number}",
        customer_name=order.contact.name,
        customer_phone=order.contact.phone,
        customer_email=order.contact.email,
        payment_status=PaymentStatus.NOT_REQUIRED,
        comment=f"exchange for return {ret.number} of order {order.id}",
    )


def exchange_return(
    uow: UnitOfWork,
    number: str,
    actor: Actor,
    *,
    lines: Sequence[ExchangeLine] | None = None,
    clock: Clock = utc_now,
    once: Once[Exchange] | None = None,
) -> Exchange:
    """Send a replacement for a return (default: the same SKUs and quantities), once it is
    approved; its worth is taken off the return's refund."""

    def read(uow: UnitOfWork) -> tuple[Return, Order]:
        ret = return_of(uow, number)
        return ret, order_of(uow, ret.order_id, lock=False)

    answered_before(uow, once)
    ret, order = reading(uow, read)
    ret.ensure_exchangeable()  # checked again when linked
    placed = place_order(uow, _command(order, ret, _lines(ret, lines)), actor, clock=clock)
    assert isinstance(placed, Placement)
    replacement = placed.order
    assert replacement.id is not None

    def link(uow: UnitOfWork) -> Exchange:
        at = clock()
        original, ret = locked(uow, number)
        ret.exchange(
            replacement.id or 0,
            replacement.subtotal.amount,
            replacement.lines_vat.amount,
            at,
            str(actor),
        )
        uow.returns.save(ret)
        note_on_order(
            uow,
            original,
            ret,
            at,
            str(actor),
            "return_exchanged",
            f"replacement order {replacement.id} for return {ret.number}",
            exchange_order_id=replacement.id,
        )
        return Exchange(ret, replacement, placed.created)

    return atomically_once(uow, once, link)
