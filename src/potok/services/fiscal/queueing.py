"""Receipts queued for what happened to an order, whoever made it happen (the gateway,
the API, a CRM, an operator), at the moment 54-ФЗ asks for them:

- the money taken (``at_payment``): one receipt, the goods handed over by then settled in
  full and the rest paid in advance - a payment captured at hand-over is one
  ``full_payment`` settlement, a prepayment a ``full_prepayment`` sale;
- goods handed over after their prepayment: the advance offset (``full_payment``, paid by
  the prepayment); ``at_handover``: one ``full_payment`` settlement per shipment once it is
  both handed over and paid, whichever came first;
- cash or card on delivery: a settlement when the shipment is delivered;
- a refund paid: a refund receipt, never more than was paid and fiscalised given back.

"Handed over by then" is read in commit order, the order every consumer of the events
sees: the shipments whose hand-over event came before the payment's. So however late
the reaction runs, it prints what would have been printed on time. After the commit, from
the dispatcher; each receipt once (its basis is unique) and each shipment's goods settled
once (the receipts name the shipments they settled)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from potok.domain.channels.model import ChannelType
from potok.domain.fiscal import (
    Company,
    FiscalRules,
    Operation,
    PaymentMethodTag,
    PaymentType,
    Receipt,
    ReceiptKind,
    ReceiptLine,
    ReceiptState,
)
from potok.domain.fiscal.compose import (
    Goods,
    HandedOver,
    cut_to,
    delivery_line,
    delivery_settled,
    goods_lines,
    payment_basis,
    payment_kind,
    payment_lines,
    payment_receipt,
    refundable,
    settled_shipments,
)
from potok.domain.fiscal.policy import SKIP_REASONS, SKIPPING, FiscalMode
from potok.domain.fiscal.states import COUNTED
from potok.domain.fulfilment import Shipment
from potok.domain.fulfilment.identifiers import UnitIdentifier
from potok.domain.orders import Order, OrderState, PaymentMethod, PaymentStatus
from potok.domain.orders.states import ON_DELIVERY
from potok.domain.payments import GatewayStatus
from potok.domain.returns.model import Return
from potok.domain.webhooks import StoredEvent
from potok.services.fiscal.desk import FiscalDesk
from potok.services.fiscal.sending import raise_failure_alert
from potok.services.outside import Outside, Settle
from potok.services.unit_of_work import UnitOfWork

EVENTS = (
    "order.created",
    "order.payment_changed",
    "shipment.handed_over",
    "shipment.delivered",
    "return.refund_changed",
)
"""The events whose receipts are queued here."""

MARK = "gs1m"  # a Честный ЗНАК DataMatrix code, as ФФД 1.2 names its kind
PAID = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED})
"""An order whose money was taken (some of it may have been given back since)."""


def queue_fiscal_receipts(outside: Outside, events: Sequence[StoredEvent]) -> Settle | None:
    """The receipts a window of events calls for are queued (or recorded as skipped, with
    why), event after event in commit order, in one transaction with the cursor's move past
    the window: once per event (each sees what the ones before it queued)."""
    desk = outside.fiscal
    if desk is None or not desk.rules.enabled:
        return None
    wanted = [event for event in events if _wants(event)]
    if not wanted:
        return None

    def settle(uow: UnitOfWork) -> None:
        at = outside.clock()
        # the orders are read once for the window (this reaction changes none of them)
        ids = {int(e.payload["order_id"]) for e in wanted if "order_id" in e.payload}
        orders = {o.id or 0: o for o in uow.orders.get_many(sorted(ids))}
        for event in wanted:
            queue_for_event(uow, desk, event, at, orders=orders)

    return settle


def fiscal_events(
    outside: Outside, uow: UnitOfWork, events: Sequence[StoredEvent]
) -> list[StoredEvent]:
    """The events that may call for a receipt, from their payloads (none while receipts
    are off)."""
    desk = outside.fiscal
    if desk is None or not desk.rules.enabled:
        return []
    return [e for e in events if _wants(e)]


def _wants(event: StoredEvent) -> bool:
    p = event.payload
    if event.type == "order.created":
        return p.get("payment_status") == PaymentStatus.PAID.value
    if event.type == "order.payment_changed":
        return p.get("to_status") in (PaymentStatus.PAID.value, PaymentStatus.REFUNDED.value)
    if event.type == "return.refund_changed":
        return p.get("refund_status") == "paid"
    return event.type in ("shipment.handed_over", "shipment.delivered")


def queue_for_event(
    uow: UnitOfWork,
    desk: FiscalDesk,
    event: StoredEvent,
    at: datetime,
    *,
    orders: Mapping[int, Order] | None = None,
) -> list[Receipt]:
    """Inside the caller's transaction: store the receipts the event calls for (``orders``:
    the orders read already)."""
    p = event.payload

    def order_of(order_id: int) -> Order | None:
        found = (orders or {}).get(order_id)
        return found if found is not None else uow.orders.get(order_id)

    if event.type in ("order.created", "order.payment_changed"):
        order = order_of(int(p["order_id"]))
        if order is None:
            return []
        if p.get("to_status", p.get("payment_status")) == PaymentStatus.REFUNDED.value:
            return _store(uow, at, _cancelled_refund(uow, desk.rules, order, at))
        return _store(uow, at, _paid(uow, desk.rules, order, at, event.position))
    if event.type in ("shipment.handed_over", "shipment.delivered"):
        shipment_id = int(p["shipment_id"])
        order = order_of(int(p["order_id"]))
        if order is None:
            return []
        handed = event.type == "shipment.handed_over"
        return _store(uow, at, _goods_reached(uow, desk.rules, order, shipment_id, at, handed))
    if event.type == "return.refund_changed":
        ret = uow.returns.get(str(p["number"]))
        order = order_of(int(p["order_id"]))
        if ret is None or order is None:
            return []
        return _store(uow, at, _refund(uow, desk.rules, order, ret, at))
    return []


def _store(uow: UnitOfWork, at: datetime, receipts: Iterable[Receipt]) -> list[Receipt]:
    stored = []
    for receipt in receipts:
        if uow.fiscal.has_basis(receipt.basis):
            continue  # queued before (an event seen twice, a payment that failed and came)
        uow.fiscal.add(receipt)
        if receipt.state is ReceiptState.FAILED:
            receipt.failed_at_once(at)
        else:
            receipt.announce(at)
        uow.record(*receipt.take_events())
        if receipt.state is ReceiptState.FAILED:
            raise_failure_alert(uow, receipt, at)
        stored.append(receipt)
    return stored


# ---------------------------------------------------------------------- the cases


@dataclass(frozen=True, slots=True)
class _Seller:
    company: Company | None
    vat_payer: bool
    problem: str | None  # why no receipt can be printed for it


def _mode(uow: UnitOfWork, rules: FiscalRules, order: Order) -> FiscalMode:
    channel = uow.channels.get_by_code(order.channel_code)
    marketplace = order.payment_method is PaymentMethod.MARKETPLACE or (
        channel is not None and channel.type is ChannelType.MARKETPLACE
    )
    return rules.mode_of(order.channel_code, marketplace=marketplace)


def seller_of(uow: UnitOfWork, rules: FiscalRules, channel: str) -> _Seller:
    """The legal entity that sells on the channel, with its fiscal settings."""
    entity = uow.legal_entities.seller_for_channel(channel)
    if entity is None:
        return _Seller(None, True, f"no seller (legal entity) serves channel '{channel}'")
    profile = rules.profiles.get(entity.code)
    if profile is None:
        return _Seller(
            None, entity.vat_payer, f"legal entity '{entity.code}' has no fiscal settings"
        )
    if not entity.inn:
        return _Seller(None, entity.vat_payer, f"legal entity '{entity.code}' has no ИНН")
    company = Company(
        legal_entity=entity.code,
        account=profile.account,
        inn=entity.inn,
        taxation=profile.taxation,
        payment_address=profile.payment_address,
        email=profile.email,
    )
    return _Seller(company, entity.vat_payer, None)


def _receipt(
    order: Order,
    seller: _Seller,
    at: datetime,
    *,
    kind: ReceiptKind,
    operation: Operation,
    basis: str,
    payment_type: PaymentType,
    lines: list[ReceiptLine],
    **more: object,
) -> Receipt:
    receipt = Receipt(
        id=None,
        order_id=order.id or 0,
        kind=kind,
        operation=operation,
        basis=basis,
        state=ReceiptState.QUEUED,
        channel=order.channel_code,
        currency=order.currency,
        payment_type=payment_type,
        lines=tuple(lines),
        created_at=at,
        updated_at=at,
        company=seller.company,
        **more,  # type: ignore[arg-type]
    )
    if seller.problem is not None:
        receipt.state = ReceiptState.FAILED
        receipt.reason = seller.problem
    elif not lines:
        receipt.state = ReceiptState.FAILED
        receipt.reason = "the receipt has no lines"
    return receipt


def _skipped(order: Order, mode: FiscalMode, at: datetime, kind: ReceiptKind) -> Receipt:
    """The order's receipts are not Potok's to print: said once, with why."""
    return Receipt(
        id=None,
        order_id=order.id or 0,
        kind=kind,
        operation=Operation.SELL,
        basis=f"skipped:order:{order.id}",
        state=ReceiptState.SKIPPED,
        channel=order.channel_code,
        currency=order.currency,
        payment_type=PaymentType.ELECTRONIC,
        lines=(),
        created_at=at,
        updated_at=at,
        company=None,
        reason=SKIP_REASONS[mode],
    )


def _order_goods(order: Order) -> list[Goods]:
    return [
        Goods(line.line_no, line.sku, line.name, line.quantity, line.unit_price, line.vat_rate)
        for line in order.lines
    ]


def _paid(
    uow: UnitOfWork, rules: FiscalRules, order: Order, at: datetime, position: int
) -> list[Receipt]:
    """The order's money taken (the event at ``position``): ``at_payment``, one receipt of
    it - the goods handed over by then settled in full, the rest an advance; ``at_handover``,
    a settlement of each shipment handed over by then."""
    mode = _mode(uow, rules, order)
    if mode in SKIPPING:
        return [_skipped(order, mode, at, ReceiptKind.SALE)]
    if order.payment_method in ON_DELIVERY:
        return []  # fiscalised when delivered and paid to the carrier
    # the order is loaded with its reservations: none taken by a shipment, none went yet
    started = any(r.shipment_id is not None for r in order.reservations)
    earlier = uow.fiscal.of_order(order.id or 0) if started else []
    handed = _handed_over_by(uow, order, position, settled_shipments(earlier)) if started else []
    if mode is FiscalMode.AT_HANDOVER:
        made: list[Receipt] = []
        for shipment in handed:
            made += _settlement(uow, rules, order, shipment, [*earlier, *made], at)
        return made
    seller = seller_of(uow, rules, order.channel_code)
    lines = payment_lines(
        _order_goods(order),
        [HandedOver(s.id or 0, tuple(_shipment_goods(order, s))) for s in handed],
        (order.delivery.price, order.delivery.vat_rate),
        vat_payer=seller.vat_payer,
        agent=rules.agents.get(order.channel_code),
    )
    taken = _money_taken(uow, order)
    if taken is not None and taken < sum((line.amount for line in lines), Decimal("0.00")):
        lines = cut_to(lines, taken)  # captured less than the order's worth: what was taken
    return [
        _receipt(
            order,
            seller,
            at,
            kind=payment_kind(lines),
            operation=Operation.SELL,
            basis=payment_basis(order.id or 0),
            payment_type=PaymentType.ELECTRONIC,
            lines=lines,
        )
    ]


def _handed_over_by(
    uow: UnitOfWork, order: Order, position: int, settled: set[int]
) -> list[Shipment]:
    """The order's shipments handed over before the event at ``position`` (in commit order)
    whose goods no receipt settled yet."""
    taken = [
        s
        for s in uow.shipments.for_order(order.id or 0)
        if s.handed_over_at is not None and s.id is not None and s.id not in settled
    ]
    later = uow.fiscal.handed_over_after([s.id or 0 for s in taken], position)
    return [s for s in taken if s.id not in later]


def _money_taken(uow: UnitOfWork, order: Order) -> Decimal | None:
    """What the payment gateway captured for the order, when it took the money."""
    payment = uow.payments.for_order(order.id or 0)
    if payment is None or payment.status is not GatewayStatus.SUCCEEDED:
        return None
    return payment.captured_amount


def _goods_reached(
    uow: UnitOfWork,
    rules: FiscalRules,
    order: Order,
    shipment_id: int,
    at: datetime,
    handed_over: bool,
) -> list[Receipt]:
    """Goods handed over (the offset of their prepayment; ``at_handover``, their settlement
    once paid) or delivered (paid on delivery): a full-payment receipt of the shipment's
    units, with the marking code of each marked unit. Goods handed over before their money
    was taken are settled by the receipt of that money instead."""
    mode = _mode(uow, rules, order)
    if mode in SKIPPING:
        return [_skipped(order, mode, at, ReceiptKind.SETTLEMENT)]
    earlier = uow.fiscal.of_order(order.id or 0)
    if shipment_id in settled_shipments(earlier):
        return []  # settled by the receipt of the money taken after it was handed over
    # a payment receipt that failed is still the order's: its fix comes, and the offset too
    prepaid = payment_receipt(earlier, order.id or 0) is not None
    on_delivery = order.payment_method in ON_DELIVERY and not prepaid
    if handed_over:
        if on_delivery:
            return []  # the money comes when it is delivered
        if prepaid:
            payment_type = PaymentType.PREPAID
        elif mode is FiscalMode.AT_HANDOVER and order.payment_status in PAID:
            payment_type = PaymentType.ELECTRONIC
        else:
            return []  # not paid yet: the receipt of the money settles these goods
    else:
        if not on_delivery:
            return []
        payment_type = (
            PaymentType.CASH
            if order.payment_method is PaymentMethod.CASH_ON_DELIVERY
            else PaymentType.ELECTRONIC
        )
    shipment = uow.shipments.get(shipment_id)
    if shipment is None:
        return []
    return _settlement(
        uow, rules, order, shipment, earlier, at, payment_type=payment_type, handed_over=handed_over
    )


def _settlement(
    uow: UnitOfWork,
    rules: FiscalRules,
    order: Order,
    shipment: Shipment,
    earlier: list[Receipt],
    at: datetime,
    *,
    payment_type: PaymentType = PaymentType.ELECTRONIC,
    handed_over: bool = True,
) -> list[Receipt]:
    """A full-payment receipt of one shipment's units (the delivery on the first one)."""
    seller = seller_of(uow, rules, order.channel_code)
    method = PaymentMethodTag.FULL_PAYMENT
    lines = goods_lines(
        _shipment_goods(order, shipment),
        method,
        vat_payer=seller.vat_payer,
        agent=rules.agents.get(order.channel_code),
        shipment_id=shipment.id,
    )
    if not delivery_settled(earlier):
        lines += delivery_line(
            order.delivery.price, order.delivery.vat_rate, method, vat_payer=seller.vat_payer
        )
    basis = f"{'handover' if handed_over else 'delivery'}:shipment:{shipment.id}"
    return [
        _receipt(
            order,
            seller,
            at,
            kind=ReceiptKind.SETTLEMENT,
            operation=Operation.SELL,
            basis=basis,
            payment_type=payment_type,
            lines=lines,
            shipment_id=shipment.id,
        )
    ]


def _shipment_goods(order: Order, shipment: Shipment) -> list[Goods]:
    """The shipment's units at the prices paid, each marked one with its code."""
    marks: dict[int, list[tuple[str, str]]] = {}
    for packed in shipment.codes:
        if packed.code.kind is UnitIdentifier.MARKING:
            marks.setdefault(packed.item_no, []).append((MARK, packed.code.value))
    goods = []
    for item in shipment.items:
        if not item.quantity:
            continue
        line = order.line(item.line_no)
        goods.append(
            Goods(
                line.line_no,
                line.sku,
                line.name,
                item.quantity,
                line.unit_price,
                line.vat_rate,
                tuple(marks.get(item.item_no, ())),
            )
        )
    return goods


def _refund(
    uow: UnitOfWork, rules: FiscalRules, order: Order, ret: Return, at: datetime
) -> list[Receipt]:
    """A refund paid: a refund receipt of the units back (and the delivery fee when it is
    given back), brought down to the refund, never above what was paid and fiscalised."""
    mode = _mode(uow, rules, order)
    if mode in SKIPPING:
        return [_skipped(order, mode, at, ReceiptKind.REFUND)]
    earlier = uow.fiscal.of_order(order.id or 0)
    seller = seller_of(uow, rules, order.channel_code)
    method = PaymentMethodTag.FULL_PAYMENT
    goods = []
    for line in ret.lines:
        counted = line.counted
        if counted <= 0:
            continue
        name = order.line(line.order_line_no).name
        marks = tuple((MARK, unit) for unit in line.units if _is_marking(unit))
        goods.append(
            Goods(
                line.order_line_no,
                line.sku,
                name,
                counted,
                line.unit_price,
                line.vat_rate,
                marks,
            )
        )
    agent = rules.agents.get(order.channel_code)
    lines = goods_lines(goods, method, vat_payer=seller.vat_payer, agent=agent)
    lines += delivery_line(
        ret.refund_shipping, order.delivery.vat_rate, method, vat_payer=seller.vat_payer
    )
    lines = cut_to(lines, ret.refund_amount)
    receipt = _receipt(
        order,
        seller,
        at,
        kind=ReceiptKind.REFUND,
        operation=Operation.SELL_REFUND,
        basis=f"refund:return:{ret.number}",
        payment_type=_refund_payment(order),
        lines=lines,
        return_number=ret.number,
    )
    _cap(receipt, refundable(earlier))
    return [receipt]


def _cancelled_refund(
    uow: UnitOfWork, rules: FiscalRules, order: Order, at: datetime
) -> list[Receipt]:
    """A prepaid order cancelled and its money given back: the prepayment's receipt is
    refunded whole (nothing was handed over to offset it)."""
    if order.state is not OrderState.CANCELLED:
        return []  # refunds of shipped goods go through returns
    earlier = uow.fiscal.of_order(order.id or 0)
    sale = payment_receipt(earlier, order.id or 0)
    if sale is None or sale.state not in COUNTED or settled_shipments(earlier):
        return []  # nothing paid and fiscalised, or goods went: returns refund those
    seller = seller_of(uow, rules, order.channel_code)
    lines = list(sale.lines)
    receipt = _receipt(
        order,
        seller,
        at,
        kind=ReceiptKind.REFUND,
        operation=Operation.SELL_REFUND,
        basis=f"cancellation:order:{order.id}",
        payment_type=PaymentType.ELECTRONIC,
        lines=lines,
    )
    _cap(receipt, refundable(earlier))
    return [receipt]


def _cap(receipt: Receipt, left: Decimal) -> None:
    """A refund receipt above what was paid and fiscalised (less what was refunded) is
    not sent: operators are told, with both amounts."""
    if receipt.state is ReceiptState.QUEUED and receipt.total > left:
        receipt.state = ReceiptState.FAILED
        receipt.reason = (
            f"the refund of {receipt.total} {receipt.currency} exceeds what was paid and "
            f"fiscalised and not refunded yet ({left} {receipt.currency})"
        )


def _refund_payment(order: Order) -> PaymentType:
    if order.payment_method is PaymentMethod.CASH_ON_DELIVERY:
        return PaymentType.CASH
    return PaymentType.ELECTRONIC


def _is_marking(unit: str) -> bool:
    """A unit named on a return line by its marking code (GTIN 01 + serial 21), not a
    serial number or IMEI."""
    return unit.startswith("01") and len(unit) > 18 and unit[16:18] == "21"
