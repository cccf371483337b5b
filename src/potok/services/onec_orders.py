"""1C's side of orders in the site exchange: the orders 1C has not taken yet (``query``),
taken only when 1C says ``success``, and what 1C later says of them (cancelled, paid).

An order goes to 1C again whenever its version moved past the one 1C confirmed, so a
``success`` that never comes only means the same orders go out in the next exchange.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from potok.domain.erp import ExchangeFileRefused, OrderChange
from potok.domain.errors import PotokError
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.orders import OrderState, PaymentStatus
from potok.domain.orders.commands import CancelOrder, RecordPayment
from potok.domain.orders.model import Order
from potok.services import orders as order_service
from potok.services.onec_ports import ExchangeSession
from potok.services.unit_of_work import UnitOfWork, atomically, reading

PAID = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})


@dataclass(frozen=True, slots=True)
class Outgoing:
    """The orders one ``query`` sends, and 1C's Ид of the SKUs that came from 1C."""

    orders: list[Order]
    item_ids: dict[str, str]


def orders_to_send(
    uow: UnitOfWork, session: ExchangeSession, *, limit: int, channel: str | None
) -> Outgoing:
    """The orders 1C has not taken in their current version (oldest first), noted as sent
    in this session; they count as taken only after :func:`confirm_sent`."""

    def work(uow: UnitOfWork) -> Outgoing:
        ids = uow.onec.to_send(limit, channel)
        found = sorted(uow.orders.get_many(ids), key=lambda o: int(o.id or 0))
        uow.onec.mark_sent({int(o.id or 0): o.version for o in found}, session.id)
        skus = sorted({line.sku for o in found for line in o.lines})
        return Outgoing(found, uow.onec.item_ids_of(skus))

    return atomically(uow, work)


def confirm_sent(uow: UnitOfWork, session: ExchangeSession, *, clock: Clock = utc_now) -> int:
    """1C's ``success``: the orders this session sent are taken, in the versions sent."""
    return atomically(uow, lambda uow: uow.onec.confirm_sent(session.id, clock()))


@dataclass
class ChangesApplied:
    cancelled: int = 0
    paid: int = 0
    refused: list[str] = field(default_factory=list)  # one line per change Potok refused


def apply_changes(
    uow: UnitOfWork,
    changes: Sequence[OrderChange],
    actor: Actor,
    *,
    file: str,
    channel: str | None,
    clock: Clock = utc_now,
) -> ChangesApplied:
    """Cancel or mark paid the orders 1C says so of. Every document must name an order of
    Potok (else the file is refused whole); a change an order cannot take (cancelling an
    order already handed over) is reported and the others still apply."""
    orders: dict[int, Order] = {}
    up_to_date: set[int] = set()  # orders 1C had taken in their current version

    def read(uow: UnitOfWork) -> None:
        for change in changes:
            order_id = int(change.order_ref) if change.order_ref.isdigit() else 0
            order = uow.orders.get(order_id) if 0 < order_id < 2**63 else None
            if order is None or (channel is not None and order.channel_code != channel):
                raise ExchangeFileRefused(
                    file=file,
                    line=change.line,
                    element="Ид",
                    why=f"{change.order_ref} is not an order Potok sent",
                )
            orders[order_id] = order
            exported = uow.onec.exported(order_id)
            if exported is not None and exported.exported_version == order.version:
                up_to_date.add(order_id)

    reading(uow, read)
    applied = ChangesApplied()
    for change in changes:
        order_id = int(change.order_ref)
        order = orders[order_id]
        before = order.version
        try:
            if change.cancelled and order.state is not OrderState.CANCELLED:
                view = order_service.cancel_order(
                    uow, CancelOrder(order_id, "cancelled in 1C"), actor, clock=clock
                )
                order = view.order
                applied.cancelled += 1
            if change.paid and order.payment_status not in PAID:
                view = order_service.record_payment(
                    uow,
                    RecordPayment(order_id, PaymentStatus.PAID, "paid in 1C"),
                    actor,
                    clock=clock,
                )
                order = view.order
                applied.paid += 1
        except PotokError as error:
            applied.refused.append(f"order {order_id}: {error.detail}")
            continue
        if order.version != before and order_id in up_to_date:
            # 1C made this change itself: it need not take the order back
            atomically(uow, _known(order_id, order.version, clock))
    return applied


def _known(order_id: int, version: int, clock: Clock) -> Callable[[UnitOfWork], None]:
    def work(uow: UnitOfWork) -> None:
        uow.onec.mark_known(order_id, version, clock())

    return work
