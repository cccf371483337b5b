"""The lines of a receipt, from what the customer bought, received or sent back: each
order line at the price paid and its VAT (or «без НДС» for a seller that pays none), one
line per marked unit with its marking code, the delivery as a service, and the agent data
of a channel whose sales the seller makes for someone else.

When the money is taken (54-ФЗ asks for the receipt at that moment) the goods already
handed over are settled in full (``full_payment``) and the rest is an advance for goods to
come (``full_prepayment``), each line with its own method; the advance is offset, shipment
by shipment, when those goods are handed over. So a payment captured at hand-over prints
one ``full_payment`` receipt, a prepayment prints its receipt and then the offsets, and no
goods are settled twice: the receipts say which shipments they settled."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from potok.domain.fiscal.model import ZERO, AgentInfo, Receipt, ReceiptLine, vat_of
from potok.domain.fiscal.states import (
    COUNTED,
    Operation,
    PaymentMethodTag,
    PaymentObject,
    PaymentType,
    ReceiptKind,
    ReceiptState,
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


@dataclass(frozen=True, slots=True)
class HandedOver:
    """The goods of one shipment the carrier (or the customer at the counter) took."""

    shipment_id: int
    goods: tuple[Goods, ...]


def payment_basis(order_id: int) -> str:
    """The basis of the receipt printed when an order's money is taken: one per order."""
    return f"payment:order:{order_id}"


def goods_lines(
    goods: Iterable[Goods],
    method: PaymentMethodTag,
    *,
    vat_payer: bool,
    agent: AgentInfo | None = None,
    shipment_id: int | None = None,
) -> list[ReceiptLine]:
    """A line per order line, and a line of its own for each marked unit; goods settled
    in full name the shipment that took them."""
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
                    shipment_id=shipment_id,
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
                    shipment_id=shipment_id,
                )
            )
    return lines


def payment_lines(
    ordered: Sequence[Goods],
    handed: Sequence[HandedOver],
    delivery: tuple[Decimal, Decimal],
    *,
    vat_payer: bool,
    agent: AgentInfo | None = None,
) -> list[ReceiptLine]:
    """The lines of the receipt printed when the money is taken: the goods of the shipments
    handed over by then settled in full (``full_payment``, with their marking codes), the
    rest of the order paid in advance (``full_prepayment``), the delivery (price, VAT rate)
    settled with the first goods - or paid in advance with the rest."""
    full, advance = PaymentMethodTag.FULL_PAYMENT, PaymentMethodTag.FULL_PREPAYMENT
    lines: list[ReceiptLine] = []
    shipped: dict[int, int] = {}
    for shipment in handed:
        lines += goods_lines(
            shipment.goods, full, vat_payer=vat_payer, agent=agent, shipment_id=shipment.shipment_id
        )
        for item in shipment.goods:
            shipped[item.order_line_no] = shipped.get(item.order_line_no, 0) + item.quantity
    rest = [
        replace(item, quantity=item.quantity - shipped.get(item.order_line_no, 0), marks=())
        for item in ordered
        if item.quantity > shipped.get(item.order_line_no, 0)
    ]
    lines += goods_lines(rest, advance, vat_payer=vat_payer, agent=agent)
    settled_some = any(line.payment_method is full for line in lines)
    price, vat_rate = delivery
    lines += delivery_line(price, vat_rate, full if settled_some else advance, vat_payer=vat_payer)
    return lines


def payment_kind(lines: Sequence[ReceiptLine]) -> ReceiptKind:
    """A receipt of money taken for goods the customer already has is a settlement; one
    that is (partly) an advance is a sale."""
    if lines and all(line.payment_method is PaymentMethodTag.FULL_PAYMENT for line in lines):
        return ReceiptKind.SETTLEMENT
    return ReceiptKind.SALE


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
    return replace(line, price=round_money(price), quantity=quantity)


def brings_money(receipt: Receipt) -> bool:
    """A sale or settlement receipt of money paid (cash or electronically); the offset of
    a prepayment brings none."""
    return (
        receipt.operation is Operation.SELL
        and receipt.kind in (ReceiptKind.SALE, ReceiptKind.SETTLEMENT)
        and receipt.payment_type is not PaymentType.PREPAID
    )


def fiscalised(receipts: Iterable[Receipt]) -> Decimal:
    """What the order's receipts say was paid: the receipts of money taken (at payment,
    at hand-over, on delivery), never the offsets of a prepayment."""
    return sum(
        (r.total for r in receipts if r.state in COUNTED and brings_money(r)),
        ZERO,
    )


def _standing(receipts: Iterable[Receipt]) -> list[Receipt]:
    """Sell receipts printed or to be printed: a failed one is fixed (sent again or
    corrected) and still stands for what it settles."""
    return [
        r
        for r in receipts
        if r.state is not ReceiptState.SKIPPED
        and r.operation is Operation.SELL
        and r.kind in (ReceiptKind.SALE, ReceiptKind.SETTLEMENT)
    ]


def payment_receipt(receipts: Iterable[Receipt], order_id: int) -> Receipt | None:
    """The receipt printed when the order's money was taken (at_payment), if any."""
    basis = payment_basis(order_id)
    for receipt in _standing(receipts):
        if receipt.basis == basis:
            return receipt
    return None


def settled_shipments(receipts: Iterable[Receipt]) -> set[int]:
    """The shipments whose goods some receipt settled in full already."""
    settled: set[int] = set()
    for receipt in _standing(receipts):
        if receipt.kind is ReceiptKind.SETTLEMENT and receipt.shipment_id is not None:
            settled.add(receipt.shipment_id)
        settled.update(
            line.shipment_id
            for line in receipt.lines
            if line.shipment_id is not None and line.payment_method is PaymentMethodTag.FULL_PAYMENT
        )
    return settled


def delivery_settled(receipts: Iterable[Receipt]) -> bool:
    """Whether a receipt settled the delivery in full already (it goes on one receipt)."""
    return any(
        line.payment_object is PaymentObject.SERVICE
        and line.payment_method is PaymentMethodTag.FULL_PAYMENT
        for receipt in _standing(receipts)
        for line in receipt.lines
    )


def refunded(receipts: Iterable[Receipt]) -> Decimal:
    """What the order's refund receipts gave back (queued ones included)."""
    return sum(
        (r.total for r in receipts if r.state in COUNTED and r.kind is ReceiptKind.REFUND),
        ZERO,
    )


def refundable(receipts: Sequence[Receipt]) -> Decimal:
    """What a new refund receipt may give back at most: paid and fiscalised, less refunds."""
    return max(ZERO, fiscalised(receipts) - refunded(receipts))
