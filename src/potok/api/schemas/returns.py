"""Bodies of the returns endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from potok.api.schemas.common import (
    JSON_INTEGER,
    Code,
    Count,
    Flag,
    MoneyOut,
    Out,
    Page,
    Quantity,
    Schema,
    Serial,
)
from potok.domain.returns import Return, ReturnLine, ReturnStep

LineNo = Annotated[int, Field(ge=1, le=10_000), JSON_INTEGER]
Reason = Annotated[str, Field(min_length=1, max_length=40)]
Note = Annotated[str, Field(max_length=500)]


class ReturnLineIn(Schema):
    line_no: LineNo = Field(description="The order line the units come from.")
    quantity: Quantity = Field(description="Units asked back.", examples=[1])
    reason: Reason = Field(
        description="One of the shop's return reasons (`GET /api/v1/return-reasons`).",
        examples=["wrong_size"],
    )
    units: list[Serial] = Field(
        default_factory=list,
        max_length=10_000,
        description="Which units, when they are told apart: serial numbers or marking codes "
        "that shipped on this line (at most `quantity`).",
    )
    note: Note = Field(default="", description="What the customer said.")


class ReturnIn(Schema):
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)
    comment: Note = Field(default="")
    approve: Flag = Field(default=False, description="Approve at once (support agreed).")


class DeclineIn(Schema):
    reason: str = Field(min_length=1, max_length=500, examples=["bought more than 14 days ago"])


class NoteIn(Schema):
    note: Note | None = Field(default=None)


class ReceiptLineIn(Schema):
    line_no: LineNo = Field(description="The return's line.")
    quantity: Count = Field(description="Units that arrived on it (at most those asked back).")


class ReceiptIn(Schema):
    number: str = Field(max_length=32, description="The return's number.", examples=["RT-000001"])
    lines: list[ReceiptLineIn] = Field(
        default_factory=list,
        max_length=500,
        description="Lines that arrived other than asked; the rest arrived in full.",
    )


class DecisionIn(Schema):
    line_no: LineNo = Field(description="The return's line.")
    outcome: Literal["restock", "unavailable", "write_off"] = Field(
        description="`restock`: sellable again; `unavailable`: kept aside (damaged, quality "
        "check); `write_off`: out of the books."
    )
    quantity: Quantity = Field(examples=[1])
    note: Note = Field(default="")


class InspectionIn(Schema):
    decisions: list[DecisionIn] = Field(
        min_length=1,
        max_length=1000,
        description="Every received unit exactly once, per line and outcome.",
    )


class RefundIn(Schema):
    status: Literal["paid", "failed", "pending"] = Field(
        description="`paid`, `failed`, or `pending`: a failed refund owed again (the "
        "payment gateway is asked once more)."
    )
    note: Note | None = Field(default=None, examples=["paid back to the card"])


class ExchangeLineIn(Schema):
    sku: Code = Field(examples=["KET-001"])
    quantity: Quantity = Field(examples=[1])


class ExchangeIn(Schema):
    lines: list[ExchangeLineIn] = Field(
        default_factory=list,
        max_length=500,
        description="What the customer gets instead; empty: the same SKUs and quantities.",
    )


class ReturnLineOut(Out):
    line_no: int
    order_line_no: int
    sku: str
    lot: str | None
    quantity: int
    reason: str
    units: list[str]
    note: str
    unit_price: MoneyOut
    vat_rate: MoneyOut
    received: int | None
    restocked: int
    unavailable: int
    written_off: int


class ReturnStepOut(Out):
    occurred_at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str
    reason: str | None


class ReturnOut(Out):
    number: str
    order_id: int
    channel: str
    source: str = Field(description="`customer`, or `unclaimed` for a parcel back undelivered.")
    status: str = Field(description="requested, approved, declined, received, inspected, closed")
    warehouse: str | None = Field(description="Where it was received.")
    currency: str
    refund_amount: MoneyOut = Field(
        description="Owed to the customer: the lines at the prices paid (what arrived, once "
        "received) and the delivery fee when the policy gives it back."
    )
    refund_vat: MoneyOut = Field(
        description="The VAT inside the lines' refund, line by line, less the VAT of a "
        "replacement sent instead."
    )
    refund_shipping: MoneyOut
    refund_status: str = Field(description="none, pending, paid or failed")
    comment: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    received_at: datetime | None
    inspected_at: datetime | None
    closed_at: datetime | None
    exchange_order_id: int | None = Field(description="The replacement order, if any.")
    exchange_value: MoneyOut = Field(description="What it is worth, taken off the refund.")
    exchange_vat: MoneyOut = Field(
        description="The VAT inside that worth, taken off the refund's VAT."
    )
    lines: list[ReturnLineOut]
    steps: list[ReturnStepOut]


class ReturnPageOut(Page):
    items: list[ReturnOut]


class ReturnReasonsOut(Out):
    reasons: list[str]


def _line(line: ReturnLine) -> ReturnLineOut:
    return ReturnLineOut(
        line_no=line.line_no,
        order_line_no=line.order_line_no,
        sku=line.sku,
        lot=line.lot,
        quantity=line.quantity,
        reason=line.reason,
        units=list(line.units),
        note=line.note,
        unit_price=line.unit_price,
        vat_rate=line.vat_rate,
        received=line.received,
        restocked=line.restocked,
        unavailable=line.kept_unavailable,
        written_off=line.written_off,
    )


def _step(step: ReturnStep) -> ReturnStepOut:
    return ReturnStepOut(
        occurred_at=step.occurred_at,
        actor=step.actor,
        action=step.action,
        from_status=step.from_status,
        to_status=step.to_status,
        reason=step.reason,
    )


def render_return(ret: Return) -> ReturnOut:
    return ReturnOut(
        number=ret.number,
        order_id=ret.order_id,
        channel=ret.channel,
        source=ret.source.value,
        status=ret.status.value,
        warehouse=ret.warehouse,
        currency=ret.currency,
        refund_amount=ret.refund_amount,
        refund_vat=ret.refund_vat,
        refund_shipping=ret.refund_shipping,
        refund_status=ret.refund_status.value,
        comment=ret.comment,
        created_by=ret.created_by,
        created_at=ret.created_at,
        updated_at=ret.updated_at,
        received_at=ret.received_at,
        inspected_at=ret.inspected_at,
        closed_at=ret.closed_at,
        exchange_order_id=ret.exchange_order_id,
        exchange_value=ret.exchange_value,
        exchange_vat=ret.exchange_vat,
        lines=[_line(line) for line in ret.lines],
        steps=[_step(step) for step in ret.steps],
    )
