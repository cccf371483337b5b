"""The lines of a receipt, from what the customer bought, received or sent back: each
order line at the price paid and its VAT (or «без НДС» for a seller that pays none), one
line per marked unit with its marking code, the delivery as a service, and the agent data
of a channel whose sales the seller makes for someone else."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from potok.domain.fiscal.model import ZERO, AgentInfo, Receipt, ReceiptLine, vat_of
from potok.domain.fiscal.states import (
    COUNTED,
    PaymentMethodTag,
    PaymentObject,
    ReceiptKind,
)
from potok.domain.kernel import round_money

DELIVERY_NAME = "Доставка"
MAX_NAME = 128


@dataclass(frozen=True, slots=True)
class Goods:
    """Units of one order line, at the price paid, with the marking codes of those marked."""

    order_line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    vat_rate: Decimal
    marks: tuple[tuple[str, str], ...] = ()  # (kind, code) of each marked unit


def goods_lines(
    goods: Iterable[Goods],
    method: PaymentMethodTag,
    *,
    vat_payer: bool,
    agent: AgentInfo | None = None,
) -> list[ReceiptLine]:
    """A line per order line, and a line of its own for each marked unit."""
    lines: list[ReceiptLine] = []
    for item in goods:
        vat = vat_of(item.vat_rate if vat_payer else None)
        name = (item.name or item.sku)[:MAX_NAME]
        marks = item.marks[: item.quantity]
        for kind, code in marks:
            lines.append(
                ReceiptLine(
                    name=name,
                    price=item.unit_price,
                    quantity=1,
                    vat=vat,
                    payment_method=method,
                    payment_object=PaymentObject.MARKED_COMMODITY,
                    sku=item.sku,
                    order_line_no=item.order_line_no,
                    mark_kind=kind,
                    mark_code=code,
                    agent=agent,
                )
            )
        rest = item.quantity - len(marks)
        if rest > 0:
            lines.append(
                ReceiptLine(
                    name=name,
                    price=item.unit_price,
                    quantity=rest,
                    vat=vat,
                    payment_method=method,
                    payment_object=PaymentObject.COMMODITY,
                    sku=item.sku,
                    order_line_no=item.order_line_no,
                    agent=agent,
                )
            )
    return lines


def delivery_line(
    price: Decimal, vat_rate: Decimal, method: PaymentMethodTag, *, vat_payer: bool
) -> list[ReceiptLine]:
    """The delivery fee as a service line; nothing when delivery was free."""
    if price <= ZERO:
        return []
    return [
        ReceiptLine(
            name=DELIVERY_NAME,
            price=round_money(price),
            quantity=1,
            vat=vat_of(vat_rate if vat_payer else None),
            payment_method=method,
            payment_object=PaymentObject.SERVICE,
        )
    ]


def cut_to(lines: Sequence[ReceiptLine], amount: Decimal) -> list[ReceiptLine]:
    """The lines brought down to ``amount`` (a refund less a replacement's worth, or capped
    at what is left to refund): whole lines first, then one line at a lower price."""
    kept: list[ReceiptLine] = []
    left = round_money(amount)
    for line in lines:
        if left <= ZERO:
            break
        if line.amount <= left:
            kept.append(line)
            left -= line.amount
            continue
        # a part of this line: whole units at their price, then one unit at the rest
        units = int(left // line.price) if line.price > ZERO else 0
        if units:
            kept.append(_with(line, line.price, units))
            left -= line.amount if units == line.quantity else round_money(line.price * units)
        if left > ZERO:
            kept.append(_with(line, left, 1))
            left = ZERO
    return kept


def _with(line: ReceiptLine, price: Decimal, quantity: int) -> ReceiptLine:
    from dataclasses import replace

    return replace(line, price=round_money(price), quantity=quantity)


def fiscalised(receipts: Iterable[Receipt]) -> Decimal:
    """What the order's receipts say was paid: the sale (prepayment) receipts, or where
    there are none the settlements (paid on delivery, or fiscalised at hand-over); the
    offsets of a prepayment bring no new money."""
    counted = [r for r in receipts if r.state in COUNTED]
    sales = [r for r in counted if r.kind is ReceiptKind.SALE]
    taken = sales or [r for r in counted if r.kind is ReceiptKind.SETTLEMENT]
    return sum((r.total for r in taken), ZERO)


def refunded(receipts: Iterable[Receipt]) -> Decimal:
    """What the order's refund receipts gave back (queued ones included)."""
    return sum(
        (r.total for r in receipts if r.state in COUNTED and r.kind is ReceiptKind.REFUND),
        ZERO,
    )


def refundable(receipts: Sequence[Receipt]) -> Decimal:
    """What a new refund receipt may give back at most: paid and fiscalised, less refunds."""
    return max(ZERO, fiscalised(receipts) - refunded(receipts))
