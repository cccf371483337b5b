"""Asking units back and deciding about it: request (checked against what the order
shipped and what is already on its way back), approve, decline, close, the refund's
settlement (never more than was paid, reflected in the order's payment), and the reads."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, Clock, WarehouseId, utc_now
from potok.domain.orders import Order, OrderState, PaymentStatus
from potok.domain.returns import (
    OrderNotReturnable,
    RefundAbovePaid,
    RefundStatus,
    Return,
    ReturnExceedsShipped,
    ReturnLine,
    ReturnSource,
    ReturnStatus,
    UnitNotInOrder,
    UnknownReturnReason,
)
from potok.domain.returns.model import MAX_LINES, MAX_NOTE
from potok.domain.validation import require_choice
from potok.services.fulfilment.common import order_of
from potok.services.idempotency import Once, atomically_once
from potok.services.returns.common import locked, note_on_order, return_of
from potok.services.returns.policy import DEFAULT_POLICY, ReturnPolicy
from potok.services.returns.shipped import Key, Source, claimed, claimed_units, sources
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class ReturnLineRequest:
    """Units of one order line asked back, with the reason, and optionally which units."""

    line_no: int
    quantity: int
    reason: str
    units: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class RequestReturn:
    order_id: int
    lines: Sequence[ReturnLineRequest]
    comment: str = ""
    approve: bool = False  # support agreed already: approved at once


@dataclass(frozen=True, slots=True)
class ReturnPage:
    items: list[Return]
    next_cursor: str | None


@dataclass(slots=True)
class _Claim:
    """What one request line takes of one source."""

    source: Source
    quantity: int
    units: list[str] = field(default_factory=list)


def _check_shape(command: RequestReturn, policy: ReturnPolicy) -> None:
    errors = []
    if not 1 <= len(command.lines) <= MAX_LINES:
        errors.append(FieldError("lines", f"name 1 to {MAX_LINES} lines", "out-of-range"))
    if len(command.comment) > MAX_NOTE:
        errors.append(FieldError("comment", f"at most {MAX_NOTE} characters", "too-long"))
    seen: set[int] = set()
    for index, line in enumerate(command.lines):
        if line.line_no in seen:
            errors.append(
                FieldError(f"lines[{index}].line_no", "each order line once", "duplicate-line")
            )
        seen.add(line.line_no)
        if line.quantity < 1:
            errors.append(FieldError(f"lines[{index}].quantity", "must be at least 1"))
        if len(line.units) > line.quantity:
            errors.append(
                FieldError(
                    f"lines[{index}].units",
                    f"{len(line.units)} units named for {line.quantity} unit(s)",
                    "too-many-units",
                )
            )
        if len(line.note) > MAX_NOTE:
            errors.append(FieldError(f"lines[{index}].note", f"at most {MAX_NOTE} characters"))
    if errors:
        raise InvalidInput(errors)
    for line in command.lines:
        if line.reason not in policy.reasons:
            raise UnknownReturnReason(
                line_no=line.line_no, reason=line.reason, allowed=", ".join(policy.reasons)
            )


def _returnable(order: Order, shipped: dict[Key, Source]) -> None:
    if order.state is OrderState.CANCELLED:
        raise OrderNotReturnable(
            order_id=order.id, status=order.status.value, why="a cancelled order was never sent"
        )
    if not shipped:
        raise OrderNotReturnable(
            order_id=order.id,
            status=order.status.value,
            why="none of its units has been handed over to the customer",
        )


def _claims(
    order: Order,
    request: ReturnLineRequest,
    shipped: dict[Key, Source],
    taken: dict[Key, int],
    taken_units: dict[str, str],
) -> list[_Claim]:
    """Split a request line over the line's lots: named units first where they left, the
    rest over the lots in order of what is still returnable."""
    sku = order.line(request.line_no).sku
    mine = [
        s for (line_no, _), s in sorted(shipped.items(), key=_order) if line_no == request.line_no
    ]
    left = {id(s): s.shipped - taken.get((s.line_no, s.lot_id), 0) for s in mine}
    returnable = sum(max(0, v) for v in left.values())
    if request.quantity > returnable:
        raise ReturnExceedsShipped(
            order_id=order.id,
            line_no=request.line_no,
            sku=sku,
            requested=request.quantity,
            returnable=returnable,
        )
    claims: dict[int, _Claim] = {}
    for unit in request.units:
        holder = next((s for s in mine if unit in s.units), None)
        if holder is None:
            raise UnitNotInOrder(order_id=order.id, line_no=request.line_no, sku=sku, unit=unit)
        if unit in taken_units:
            raise UnitNotInOrder(
                order_id=order.id,
                line_no=request.line_no,
                sku=sku,
                unit=f"{unit} (already on return {taken_units[unit]})",
            )
        claim = claims.setdefault(id(holder), _Claim(holder, 0))
        claim.quantity += 1
        claim.units.append(unit)
        left[id(holder)] -= 1
    rest = request.quantity - len(request.units)
    for source in mine:
        if rest == 0:
            break
        take = min(rest, max(0, left[id(source)]))
        if take:
            claims.setdefault(id(source), _Claim(source, 0)).quantity += take
            left[id(source)] -= take
            rest -= take
    if rest or any(v < 0 for v in left.values()):
        raise ReturnExceedsShipped(
            order_id=order.id,
            line_no=request.line_no,
            sku=sku,
            requested=request.quantity,
            returnable=returnable,
        )
    return list(claims.values())


def _order(item: tuple[Key, Source]) -> tuple[int, int]:
    (line_no, lot_id), _ = item
    return (line_no, lot_id or 0)


def request_return(
    uow: UnitOfWork,
    command: RequestReturn,
    actor: Actor,
    *,
    policy: ReturnPolicy = DEFAULT_POLICY,
    clock: Clock = utc_now,
    once: Once[Return] | None = None,
) -> Return:
    """Ask units of a shipped order back. Each line names an order line, how many units
    (at most those handed over and not already on another return), the reason from the
    shop's list, and optionally which units (serials, marking codes)."""
    _check_shape(command, policy)
    return atomically_once(
        uow, once, lambda uow: request_within(uow, command, actor, clock(), policy=policy)
    )


def request_within(
    uow: UnitOfWork,
    command: RequestReturn,
    actor: Actor,
    at: datetime,
    *,
    policy: ReturnPolicy = DEFAULT_POLICY,
    source: ReturnSource = ReturnSource.CUSTOMER,
) -> Return:
    """:func:`request_return` in the caller's transaction (a marketplace's return is
    requested together with its link to the marketplace's)."""
    _check_shape(command, policy)
    who = str(actor)
    order = order_of(uow, command.order_id)
    assert order.id is not None
    shipped = sources(uow, uow.shipments.for_order(order.id))
    _returnable(order, shipped)
    existing = uow.returns.for_order(order.id)
    taken = claimed(existing)
    taken_units = claimed_units(existing)
    lines: list[ReturnLine] = []
    for request in command.lines:
        try:
            ordered = order.line(request.line_no)
        except KeyError:
            raise InvalidInput(
                [
                    FieldError(
                        "line_no",
                        f"order {order.id} has no line {request.line_no}",
                        "unknown-line",
                    )
                ]
            ) from None
        for claim in _claims(order, request, shipped, taken, taken_units):
            lines.append(
                ReturnLine(
                    line_no=len(lines) + 1,
                    order_line_no=request.line_no,
                    product_id=ordered.product_id,
                    sku=ordered.sku,
                    quantity=claim.quantity,
                    unit_price=ordered.unit_price,
                    vat_rate=ordered.vat_rate,
                    reason=request.reason,
                    lot_id=claim.source.lot_id,
                    lot=claim.source.lot,
                    units=tuple(claim.units),
                    note=request.note,
                )
            )
    ret = Return(
        id=None,
        number="",
        order_id=order.id,
        channel=order.channel_code,
        currency=order.currency,
        source=source,
        status=ReturnStatus.REQUESTED,
        lines=lines,
        created_at=at,
        updated_at=at,
        created_by=who,
        comment=command.comment,
    )
    uow.returns.add(ret)
    ret.requested(at, who, command.comment or None)
    if command.approve:
        ret.approve(at, who)
    uow.returns.save(ret)
    note_on_order(
        uow, order, ret, at, who, "return_requested", command.comment or None, units=ret.units
    )
    return ret


def approve_return(
    uow: UnitOfWork, number: str, actor: Actor, *, note: str | None = None, clock: Clock = utc_now
) -> Return:
    """The customer may send the units."""

    def work(uow: UnitOfWork) -> Return:
        at = clock()
        order, ret = locked(uow, number)
        ret.approve(at, str(actor), note)
        uow.returns.save(ret)
        note_on_order(uow, order, ret, at, str(actor), "return_approved", note)
        return ret

    return atomically(uow, work)


def decline_return(
    uow: UnitOfWork, number: str, actor: Actor, *, reason: str, clock: Clock = utc_now
) -> Return:
    """Nothing will be taken back; the units may be asked back again another time."""
    if not reason.strip() or len(reason) > MAX_NOTE:
        raise InvalidInput(
            [FieldError("reason", f"say why, in at most {MAX_NOTE} characters", "required")]
        )

    def work(uow: UnitOfWork) -> Return:
        at = clock()
        order, ret = locked(uow, number)
        ret.decline(at, str(actor), reason)
        uow.returns.save(ret)
        note_on_order(uow, order, ret, at, str(actor), "return_declined", reason)
        return ret

    return atomically(uow, work)


def close_return(
    uow: UnitOfWork, number: str, actor: Actor, *, note: str | None = None, clock: Clock = utc_now
) -> Return:
    """Nothing is left to do about an inspected return."""

    def work(uow: UnitOfWork) -> Return:
        at = clock()
        order, ret = locked(uow, number)
        ret.close(at, str(actor), note)
        uow.returns.save(ret)
        note_on_order(uow, order, ret, at, str(actor), "return_closed", note)
        return ret

    return atomically(uow, work)


PAID = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED})


def settle_refund(
    uow: UnitOfWork,
    number: str,
    status: RefundStatus,
    actor: Actor,
    *,
    note: str | None = None,
    clock: Clock = utc_now,
) -> Return:
    """The channel or an operator says the refund was paid (never more than the order's
    payment has left: the order's payment becomes partially refunded or refunded) or that
    it failed (it may be paid later); a failed one may be owed again (``pending``: the
    payment gateway is asked once more)."""
    if status not in (RefundStatus.PAID, RefundStatus.FAILED, RefundStatus.PENDING):
        raise InvalidInput([FieldError("status", "paid, failed or pending", "unknown-status")])

    def work(uow: UnitOfWork) -> Return:
        order, ret = locked(uow, number)
        settle_loaded_refund(uow, order, ret, status, clock(), str(actor), note)
        return ret

    return atomically(uow, work)


def settle_loaded_refund(
    uow: UnitOfWork,
    order: Order,
    ret: Return,
    status: RefundStatus,
    at: datetime,
    who: str,
    note: str | None,
) -> None:
    """Settle the refund of a return loaded (and locked, its order first) in this unit of
    work: the refund paid (the order's payment partially refunded or refunded) or failed."""
    if status is RefundStatus.PAID and ret.refund_status is not RefundStatus.NONE:
        left = _left_to_refund(uow, order, ret)
        if ret.refund_amount > left:
            raise RefundAbovePaid(
                order_id=order.id,
                amount=ret.refund_amount,
                left=left,
                currency=order.currency,
            )
    ret.settle_refund(status, at, who, note)
    uow.returns.save(ret)
    if status is RefundStatus.PAID:
        left = _left_to_refund(uow, order, ret)
        order.record_payment(
            PaymentStatus.REFUNDED if left == 0 else PaymentStatus.PARTIALLY_REFUNDED,
            at,
            who,
            f"refund of return {ret.number}: {ret.refund_amount} {order.currency}",
        )
    note_on_order(
        uow, order, ret, at, who, f"refund_{status.value}", note, amount=str(ret.refund_amount)
    )


def _left_to_refund(uow: UnitOfWork, order: Order, ret: Return) -> Decimal:
    """What the order's payment has left to give back, this return's paid refund counted."""
    assert order.id is not None
    paid = order.total.amount if order.payment_status in PAID else Decimal("0.00")
    refunded = sum(
        (
            r.refund_amount
            for r in uow.returns.for_order(order.id)
            if r.refund_status is RefundStatus.PAID and r.number != ret.number
        ),
        Decimal("0.00"),
    )
    if ret.refund_status is RefundStatus.PAID:
        refunded += ret.refund_amount
    return max(Decimal("0.00"), paid - refunded)


# ---------------------------------------------------------------------- reads


def get_return(uow: UnitOfWork, number: str) -> Return:
    return reading(uow, lambda uow: return_of(uow, number))


def returns_of_order(uow: UnitOfWork, order_id: int) -> list[Return]:
    def work(uow: UnitOfWork) -> list[Return]:
        order_of(uow, order_id, lock=False)
        return uow.returns.for_order(order_id)

    return reading(uow, work)


def list_returns(
    uow: UnitOfWork,
    *,
    status: str | None = None,
    order_id: int | None = None,
    channels: Collection[str] | None = None,
    warehouses: Collection[WarehouseId] | None = None,
    received_at: str | None = None,
    reason: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> ReturnPage:
    """Newest first; ``channels`` and ``warehouses`` narrow to what a limited caller sees,
    ``received_at`` (a warehouse's code) and ``reason`` to what the reader asks for."""
    require_choice("status", status, ReturnStatus, "unknown-status")

    def work(uow: UnitOfWork) -> ReturnPage:
        items, next_cursor = uow.returns.list_page(
            status=status,
            order_id=order_id,
            channels_in=channels,
            warehouses_in=warehouses,
            received_at=received_at,
            reason=reason,
            cursor=cursor,
            limit=limit,
        )
        return ReturnPage(items, next_cursor)

    return reading(uow, work)
