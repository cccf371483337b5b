"""Gateway payments (ЮKassa) out of the API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from potok.api.schemas.common import Flag, Schema
from potok.domain.payments import GatewayPayment, GatewayRefund, GatewayStatus, RefundState
from potok.domain.payments.accounts import PaymentAccount


class PaymentAccountIn(Schema):
    gateway: Literal["yookassa"] = "yookassa"
    shop_id: str = Field(
        min_length=1, max_length=20, examples=["506751"], description="The shop id ЮKassa shows."
    )
    secret_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The shop's secret key; stored sealed, never returned. Required to "
        "connect; left out when changing, the stored one is kept.",
    )
    return_url: str = Field(
        min_length=8,
        max_length=2000,
        examples=["https://shop.example.ru/thanks"],
        description="Where ЮKassa sends the customer back after paying.",
    )
    active: Flag = Field(
        default=True, description="`false`: new orders of the channel get no gateway payment."
    )


class PaymentAccountOut(BaseModel):
    channel: str
    gateway: str
    shop_id: str
    return_url: str
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, account: PaymentAccount) -> PaymentAccountOut:
        return cls(
            channel=account.channel_code,
            gateway=account.gateway,
            shop_id=account.shop_id,
            return_url=account.return_url,
            active=account.active,
            created_at=account.created_at,
            updated_at=account.updated_at,
        )


class GatewayRefundOut(BaseModel):
    return_number: str
    gateway_refund_id: str | None
    status: RefundState
    amount: Decimal
    created_at: datetime
    updated_at: datetime
    last_error: str | None

    @classmethod
    def of(cls, refund: GatewayRefund) -> GatewayRefundOut:
        return cls(
            return_number=refund.return_number,
            gateway_refund_id=refund.gateway_id,
            status=refund.status,
            amount=refund.amount,
            created_at=refund.created_at,
            updated_at=refund.updated_at,
            last_error=refund.last_error,
        )


class GatewayPaymentOut(BaseModel):
    order_id: int
    channel: str
    gateway: str
    gateway_payment_id: str | None
    status: GatewayStatus = Field(
        description="pending: waiting for the customer; waiting_for_capture: authorised, "
        "the money held; succeeded: captured; canceled: not paid, or the hold let go."
    )
    amount: Decimal = Field(description="What the customer was asked for.")
    captured_amount: Decimal
    refunded_amount: Decimal
    currency: str
    confirmation_url: str | None = Field(
        description="Where the shop sends the customer to pay (while pending)."
    )
    created_at: datetime
    authorized_at: datetime | None
    captured_at: datetime | None
    canceled_at: datetime | None
    cancel_reason: str | None
    last_error: str | None = Field(description="What the gateway refused last, if anything.")
    refunds: list[GatewayRefundOut]

    @classmethod
    def of(cls, payment: GatewayPayment) -> GatewayPaymentOut:
        return cls(
            order_id=payment.order_id,
            channel=payment.channel_code,
            gateway=payment.gateway,
            gateway_payment_id=payment.gateway_id,
            status=payment.status,
            amount=payment.amount,
            captured_amount=payment.captured_amount,
            refunded_amount=payment.refunded_amount,
            currency=payment.currency,
            confirmation_url=(
                payment.confirmation_url if payment.status is GatewayStatus.PENDING else None
            ),
            created_at=payment.created_at,
            authorized_at=payment.authorized_at,
            captured_at=payment.captured_at,
            canceled_at=payment.canceled_at,
            cancel_reason=payment.cancel_reason,
            last_error=payment.last_error,
            refunds=[GatewayRefundOut.of(r) for r in payment.refunds],
        )


class GatewayPaymentPageOut(BaseModel):
    items: list[GatewayPaymentOut]
    next_cursor: str | None


class OrderPaymentOut(BaseModel):
    order_id: int
    payment_status: str = Field(description="Potok's payment status of the order.")
    gateway_state: str = Field(
        description="none: the order's channel takes no gateway payments (or it was paid "
        "another way); creating: the payment is being created at the gateway after the "
        "intake - ask again in a moment; created: see `gateway_payment`."
    )
    gateway_payment: GatewayPaymentOut | None


class DifferenceOut(BaseModel):
    code: str = Field(
        description="gateway_succeeded_not_paid, paid_not_captured, captured_differs, "
        "refund_not_at_gateway, gateway_refund_not_paid, refund_amount_differs, "
        "paid_without_receipt, receipt_amount_differs, refund_without_receipt, "
        "refund_receipt_differs, receipt_failed, marketplace_receipt"
    )
    detail: str


class ReconciledOut(BaseModel):
    order_id: int
    channel: str
    payment_status: str
    paid: Decimal = Field(description="What the order owes, once paid (else 0).")
    refunded: Decimal = Field(description="Refunds paid in Potok.")
    currency: str
    gateway_status: str | None
    gateway_captured: Decimal | None
    gateway_refunded: Decimal | None
    receipts_sold: Decimal | None = Field(description="Sale receipts' total (null: not kept).")
    receipts_refunded: Decimal | None
    differences: list[DifferenceOut]


class ReconciliationOut(BaseModel):
    since: date = Field(serialization_alias="from")
    until: date = Field(serialization_alias="to")
    receipts_checked: bool = Field(
        description="Whether fiscal receipts were set against the payments (fiscal receipts on)."
    )
    orders: int
    with_differences: int
    rows: list[ReconciledOut]
