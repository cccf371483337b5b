"""The payment flow as an after-commit reaction: what the gateway is asked when an order
of a connected channel is placed, handed over, cancelled or has a refund owed - always after
the change committed, never inside its transaction (``services/reactions.py``).

- ``order.created`` → a two-stage payment for the order's total; its confirmation URL is
  kept for the shop (``GET /api/v1/orders/{id}/payment``);
- ``shipment.handed_over`` → the authorised payment is captured for what the order owes
  now (less than authorised when lines were cancelled before shipping: a partial capture);
- ``order.cancelled`` → an authorised payment is cancelled (the hold let go);
- ``return.refund_changed`` to ``pending`` → a refund of the return's amount through the
  gateway; once it succeeded the return's refund is paid in Potok.

Each call's idempotence key is derived from the event it answers, so the dispatcher's
retries (the gateway down, a timeout) repeat the same call. A gateway that cannot be
reached raises: the reaction's cursor stays put and it is tried again, doubling its wait
(``potok events stats`` shows the failures). A refusal is kept on the payment, announced
(``payment.action_failed``) and left for an operator."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from potok.connectors.payments import GatewayRefused, PaymentGateway, PaymentSeen, RefundSeen
from potok.domain.channels import ChannelType
from potok.domain.errors import PotokError
from potok.domain.orders import OrderState, PaymentMethod, PaymentStatus
from potok.domain.payments import GatewayPayment, GatewayStatus, RefundState
from potok.domain.payments.accounts import AccountKey, PaymentAccount
from potok.domain.returns import RefundStatus
from potok.domain.webhooks import StoredEvent
from potok.services.outside import Outside, Settle
from potok.services.payments.applying import apply_payment_seen, apply_refund_seen
from potok.services.unit_of_work import UnitOfWork, reading

EVENT_TYPES = (
    "order.cancelled",
    "order.created",
    "return.refund_changed",
    "shipment.handed_over",
)
GATEWAY_METHODS = frozenset({None, PaymentMethod.ONLINE})
"""Orders paid this way go through the gateway (the channel not saying counts as online)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What a call needs, read before it with no transaction left open."""

    account: PaymentAccount
    key: AccountKey
    amount: Decimal
    currency: str
    payment: GatewayPayment | None = None


def drive_gateway_payments(outside: Outside, event: StoredEvent) -> Settle | None:
    """The gateway is asked what the event calls for (see the module's description)."""
    payload = event.payload
    if event.type == "order.created":
        return _create(outside, event, int(payload["order_id"]))
    if event.type == "shipment.handed_over":
        return _capture(outside, event, int(payload["order_id"]))
    if event.type == "order.cancelled":
        return _cancel(outside, event, int(payload["order_id"]))
    if event.type == "return.refund_changed" and payload.get("refund_status") == "pending":
        return _refund(outside, event, int(payload["order_id"]), str(payload["number"]))
    return None


def gateway_events(
    outside: Outside, uow: UnitOfWork, events: Sequence[StoredEvent]
) -> list[StoredEvent]:
    """Of a window's events, those the gateway may have to hear of, found in one read or
    two before the reaction's lease is taken: orders placed on a channel whose gateway
    account is active, and the later steps of orders with a payment at a gateway. The
    rest would be read one by one to learn that nothing is to be done."""
    placed = [e for e in events if e.type == "order.created"]
    later = [e for e in events if e.type != "order.created"]
    active = uow.payments.active_channel_codes() if placed else set()
    paid = uow.payments.orders_with_payment(
        [int(e.payload["order_id"]) for e in later if e.payload.get("order_id") is not None]
    )

    def wanted(event: StoredEvent) -> bool:
        if event.type == "order.created":
            channel = event.payload.get("channel")
            return channel is None or channel in active
        order_id = event.payload.get("order_id")
        return order_id is None or int(order_id) in paid

    return [e for e in events if wanted(e)]


def idempotence_key(action: str, event: StoredEvent) -> str:
    """The same call for the same event, however often the reaction is retried."""
    return f"potok-{action}-{event.event_id}"[:64]


def gateway_of(outside: Outside, plan: Plan) -> PaymentGateway:
    return outside.gateways.get(plan.account.gateway, plan.key)


# ---------------------------------------------------------------------- the steps


def _create(outside: Outside, event: StoredEvent, order_id: int) -> Settle | None:
    said = event.payload
    method = said.get("payment_method")
    if said.get("payment_status", PaymentStatus.PENDING.value) != PaymentStatus.PENDING.value:
        return None  # taken paid (or not to be paid): nothing to ask the gateway
    if method is not None and PaymentMethod(method) not in GATEWAY_METHODS:
        return None  # paid another way: cash or card on delivery, an invoice, the marketplace

    def look(uow: UnitOfWork) -> Plan | None:
        order = uow.orders.get(order_id)
        if order is None or order.payment_method not in GATEWAY_METHODS:
            return None
        if order.payment_status is not PaymentStatus.PENDING or order.total.amount <= 0:
            return None
        if order.state is OrderState.CANCELLED:
            return None
        channel = uow.channels.get(order.channel_id)
        account = uow.payments.account(order.channel_id)
        if channel is None or channel.type is ChannelType.MARKETPLACE:
            return None  # marketplace orders are paid to the marketplace, never here
        if account is None or not account.active or uow.payments.for_order(order_id):
            return None
        key = uow.payments.key(order.channel_id)
        return Plan(account, key, order.total.amount, order.currency)

    plan = reading(outside.uow(), look)
    if plan is None:
        return None
    try:
        seen = gateway_of(outside, plan).create_payment(
            plan.amount,
            plan.currency,
            key=idempotence_key("payment", event),
            description=f"Order {order_id}",
            return_url=plan.account.return_url,
            metadata={"potok_order_id": str(order_id)},
        )
    except GatewayRefused as error:
        refused = error.reason

        def note_refusal(uow: UnitOfWork) -> None:
            if uow.payments.for_order(order_id) is not None:
                return
            payment = GatewayPayment.refused(
                order_id=order_id,
                channel_code=plan.account.channel_code,
                gateway=plan.account.gateway,
                amount=plan.amount,
                currency=plan.currency,
                reason=refused,
                at=outside.clock(),
            )
            uow.payments.add(payment)

        return note_refusal
    at = outside.clock()

    def settle(uow: UnitOfWork) -> None:
        if uow.payments.for_order(order_id) is not None:
            return  # a retry after the row was written: the same payment
        payment = GatewayPayment.created(
            order_id=order_id,
            channel_code=plan.account.channel_code,
            gateway=plan.account.gateway,
            gateway_id=seen.id,
            amount=seen.amount,
            currency=seen.currency,
            confirmation_url=seen.confirmation_url,
            at=at,
        )
        uow.payments.add(payment)
        if seen.status != GatewayStatus.PENDING.value:
            apply_payment_seen(uow, order_id, seen, at)

    return settle


def _plan_for_payment(
    outside: Outside, order_id: int, wanted: Callable[[UnitOfWork, GatewayPayment], Decimal | None]
) -> Plan | None:
    def look(uow: UnitOfWork) -> Plan | None:
        payment = uow.payments.for_order(order_id)
        order = uow.orders.get(order_id)
        if payment is None or order is None or payment.gateway_id is None:
            return None
        account = uow.payments.account(order.channel_id)
        if account is None:
            return None
        amount = wanted(uow, payment)
        if amount is None:
            return None
        return Plan(account, uow.payments.key(order.channel_id), amount, payment.currency, payment)

    return reading(outside.uow(), look)


def _capture(outside: Outside, event: StoredEvent, order_id: int) -> Settle | None:
    problem: list[PotokError] = []

    def owed(uow: UnitOfWork, payment: GatewayPayment) -> Decimal | None:
        if payment.status is not GatewayStatus.WAITING_FOR_CAPTURE:
            return None  # not authorised (yet), or captured at an earlier hand-over
        order = uow.orders.get(order_id)
        assert order is not None
        try:
            return payment.capture_amount(order.total.amount)
        except PotokError as error:
            problem.append(error)
            return payment.amount

    plan = _plan_for_payment(outside, order_id, owed)
    if plan is None:
        return None
    if problem:
        return _note_failure(outside, order_id, "capture", problem[0].detail)
    assert plan.payment is not None
    assert plan.payment.gateway_id is not None
    return capture_at_gateway(outside, plan, order_id, idempotence_key("capture", event))


def capture_at_gateway(outside: Outside, plan: Plan, order_id: int, key: str) -> Settle:
    """Capture ``plan.amount`` of the order's authorised payment; what the gateway answers
    is applied once."""
    assert plan.payment is not None
    assert plan.payment.gateway_id is not None
    try:
        seen = gateway_of(outside, plan).capture(
            plan.payment.gateway_id, plan.amount, plan.currency, key=key
        )
    except GatewayRefused as error:
        return _note_failure(outside, order_id, "capture", error.reason)
    at = outside.clock()
    return lambda uow: _apply(uow, order_id, seen, at)


def _cancel(outside: Outside, event: StoredEvent, order_id: int) -> Settle | None:
    def held(uow: UnitOfWork, payment: GatewayPayment) -> Decimal | None:
        return payment.amount if payment.status is GatewayStatus.WAITING_FOR_CAPTURE else None

    plan = _plan_for_payment(outside, order_id, held)
    if plan is None:
        return None  # nothing held (a pending payment is let go by the poller if paid later)
    return cancel_at_gateway(outside, plan, order_id, idempotence_key("cancel", event))


def cancel_at_gateway(outside: Outside, plan: Plan, order_id: int, key: str) -> Settle:
    """Let the authorised payment's hold go; what the gateway answers is applied once."""
    assert plan.payment is not None
    assert plan.payment.gateway_id is not None
    try:
        seen = gateway_of(outside, plan).cancel(plan.payment.gateway_id, key=key)
    except GatewayRefused as error:
        return _note_failure(outside, order_id, "cancel", error.reason)
    at = outside.clock()
    return lambda uow: _apply(uow, order_id, seen, at)


def _refund(outside: Outside, event: StoredEvent, order_id: int, number: str) -> Settle | None:
    def owed(uow: UnitOfWork, payment: GatewayPayment) -> Decimal | None:
        if payment.status is not GatewayStatus.SUCCEEDED:
            return None  # no money taken through the gateway: refunded another way
        asked = payment.refund_for(number)
        if asked is not None and asked.status is not RefundState.CANCELED:
            return None  # asked already
        ret = uow.returns.get(number)
        if ret is None or ret.refund_status is not RefundStatus.PENDING:
            return None  # settled meanwhile
        return ret.refund_amount if ret.refund_amount > 0 else None

    plan = _plan_for_payment(outside, order_id, owed)
    if plan is None:
        return None
    assert plan.payment is not None
    assert plan.payment.gateway_id is not None
    at = outside.clock()
    if plan.amount > plan.payment.refundable:
        words = (
            f"the refund of {plan.amount} {plan.currency} is more than the "
            f"{plan.payment.refundable} {plan.currency} left of the captured payment"
        )
        return lambda uow: _apply_refund(uow, order_id, number, None, at, refused=words)
    try:
        seen = gateway_of(outside, plan).create_refund(
            plan.payment.gateway_id,
            plan.amount,
            plan.currency,
            key=idempotence_key("refund", event),
            description=f"Return {number} of order {order_id}",
        )
    except GatewayRefused as error:
        reason = error.reason
        return lambda uow: _apply_refund(uow, order_id, number, None, at, refused=reason)
    return lambda uow: _apply_refund(uow, order_id, number, seen, at)


# ---------------------------------------------------------------------- settling


def _apply(uow: UnitOfWork, order_id: int, seen: PaymentSeen, at: datetime) -> None:
    apply_payment_seen(uow, order_id, seen, at)


def _apply_refund(
    uow: UnitOfWork,
    order_id: int,
    number: str,
    seen: RefundSeen | None,
    at: datetime,
    *,
    refused: str | None = None,
) -> None:
    apply_refund_seen(uow, order_id, number, seen, at, refused=refused)


def _note_failure(outside: Outside, order_id: int, action: str, reason: str) -> Settle:
    at = outside.clock()

    def settle(uow: UnitOfWork) -> None:
        uow.orders.get(order_id, lock=True)
        payment = uow.payments.for_order(order_id, lock=True)
        if payment is not None:
            payment.failed(action, reason, at)
            uow.payments.save(payment)

    return settle
