"""The warehouse's part of a return: receiving it at any warehouse (units set aside until
inspected, the refund owed from then on) and inspecting each unit (sellable again, kept
unavailable, or written off), each in the ledger on the position of the unit's lot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from potok.domain.inventory import MovementType
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.network import WarehouseNotFound
from potok.domain.orders import Order
from potok.domain.returns import Decision, Return
from potok.domain.returns.refunds import shipping_refund
from potok.domain.triggers import StockFiguresMoved, StockFreed
from potok.services.idempotency import Once, atomically_once
from potok.services.reactions import react
from potok.services.returns.common import locked, note_on_order
from potok.services.returns.policy import DEFAULT_POLICY, ReturnPolicy
from potok.services.returns.shipped import back_per_line, shipped_per_line
from potok.services.returns.stockroom import book_in, settle
from potok.services.unit_of_work import UnitOfWork, atomically


def _last_units(uow: UnitOfWork, order: Order, ret: Return, received: Mapping[int, int]) -> bool:
    """Whether this receipt brings the order's last shipped units back."""
    assert order.id is not None
    shipped = shipped_per_line(uow, uow.shipments.for_order(order.id))
    back = back_per_line(r for r in uow.returns.for_order(order.id) if r.number != ret.number)
    for line in ret.lines:
        back[line.order_line_no] = back.get(line.order_line_no, 0) + received.get(
            line.line_no, line.quantity
        )
    return all(back.get(n, 0) >= q for n, q in shipped.items())


def receive_return(
    uow: UnitOfWork,
    number: str,
    warehouse: str,
    actor: Actor,
    *,
    received: Mapping[int, int] | None = None,
    policy: ReturnPolicy = DEFAULT_POLICY,
    clock: Clock = utc_now,
    once: Once[Return] | None = None,
) -> Return:
    """The parcel arrived at ``warehouse`` (any one, not only the one that shipped): what
    arrived per return line (default: everything asked back) enters its on-hand set aside
    as unavailable until inspected, and the refund is owed (the delivery fee too when the
    channel's policy gives it back with the order's last units)."""

    def work(uow: UnitOfWork) -> Return:
        at = clock()
        who = str(actor)
        order, ret = locked(uow, number)
        ids = uow.warehouses.ids_for([warehouse])
        if warehouse not in ids:
            raise WarehouseNotFound(warehouse=warehouse)
        arrived = dict(received or {})
        shipping = shipping_refund(
            policy.shipping_for(order.channel_code),
            order.delivery.price,
            last_units=_last_units(uow, order, ret, arrived),
        )
        ret.receive(ids[warehouse], warehouse, arrived, at, who, shipping=shipping)
        moved = book_in(uow, ret, MovementType.CUSTOMER_RETURN, at, who)
        uow.returns.save(ret)
        note_on_order(
            uow,
            order,
            ret,
            at,
            who,
            "return_received",
            f"return {ret.number} received at {warehouse}",
            warehouse=warehouse,
            refund=str(ret.refund_amount),
        )
        react(uow, StockFiguresMoved(at=at, positions=moved))
        return ret

    return atomically_once(uow, once, work)


def inspect_return(
    uow: UnitOfWork,
    number: str,
    decisions: Sequence[Decision],
    actor: Actor,
    *,
    clock: Clock = utc_now,
) -> Return:
    """Every received unit's fate: restocked units are sellable again (and waiting orders
    get another try), written-off ones leave the books, kept ones stay unavailable."""

    def work(uow: UnitOfWork) -> Return:
        at = clock()
        who = str(actor)
        order, ret = locked(uow, number)
        ret.inspect(list(decisions), at, who)
        freed, moved = settle(uow, ret, at, who)
        uow.returns.save(ret)
        counts = {
            "restocked": sum(line.restocked for line in ret.lines),
            "unavailable": sum(line.kept_unavailable for line in ret.lines),
            "written_off": sum(line.written_off for line in ret.lines),
        }
        note_on_order(
            uow,
            order,
            ret,
            at,
            who,
            "return_inspected",
            ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items() if v),
            **counts,
        )
        react(
            uow,
            StockFreed(at=at, product_ids=freed, actor=who),
            StockFiguresMoved(at=at, positions=moved),
        )
        return ret

    return atomically(uow, work)
