"""Bodies of the fiscal receipts endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from potok.api.schemas.common import Day, Flag, MoneyOut, Out, Page, Schema
from potok.domain.fiscal import Receipt, ReceiptLine


class ReceiptLineOut(Out):
    name: str
    sku: str | None
    order_line_no: int | None = Field(description="The order line; null for the delivery.")
    price: MoneyOut
    quantity: int
    amount: MoneyOut
    vat: str = Field(description="vat22, vat10, vat0, none («без НДС»), vat20 (before 2026)")
    vat_amount: MoneyOut
    payment_method: str = Field(description="full_prepayment, full_payment, …")
    payment_object: str = Field(description="commodity, marked_commodity or service")
    mark_code: str | None = Field(description="The marking code of the unit, if marked.")
    agent_type: str | None = Field(description="The agent's type, for an agent's sale.")
    supplier_inn: str | None
    shipment_id: int | None = Field(
        description="Goods settled in full: the shipment that took them."
    )


class FiscalAttributesOut(Out):
    fn_number: str = Field(description="The fiscal drive's number (ФН).")
    fiscal_document_number: int = Field(description="ФД")
    fiscal_document_attribute: int = Field(description="ФПД, the fiscal sign.")
    fiscal_receipt_number: int
    shift_number: int
    registered_at: datetime
    register_number: str = Field(description="The register's registration number (РН ККТ).")
    ofd_receipt_url: str | None


class ReceiptOut(Out):
    id: int
    order_id: int
    kind: str = Field(description="sale, settlement, refund or correction")
    operation: str = Field(description="sell, sell_refund, sell_correction, …")
    state: str = Field(description="queued, sent, wait, done, failed or skipped")
    basis: str = Field(description="What it is printed for, once: `payment:order:12`, …")
    channel: str
    currency: str
    payment_type: str = Field(description="cash, electronic, or prepaid (an offset)")
    total: MoneyOut
    vat_total: MoneyOut
    legal_entity: str | None
    account: str | None = Field(description="The provider account that prints it.")
    company_inn: str | None
    taxation: str | None
    payment_address: str | None
    reason: str | None = Field(description="Why skipped, or the provider's reason it failed.")
    error_code: int | None
    external_id: str | None = Field(description="The id the provider knows it by.")
    provider_uuid: str | None
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    fiscal: FiscalAttributesOut | None = Field(description="Once registered (done).")
    corrects_id: int | None = Field(description="A correction: the receipt it corrects.")
    correction_type: str | None
    shipment_id: int | None
    return_number: str | None
    lines: list[ReceiptLineOut]
    created_at: datetime
    updated_at: datetime


class CorrectionIn(Schema):
    type: Literal["self", "instruction"] = Field(
        default="self",
        description="`self`: the seller found the error; `instruction`: a tax office's order.",
    )
    basis_date: Day | None = Field(
        default=None, description="The date of the finding or the order; today when left out."
    )
    basis_number: str | None = Field(
        default=None, min_length=1, max_length=32, description="The order's number."
    )
    reverse: Flag = Field(
        default=False,
        description="Undo a receipt registered wrong (a correction of the opposite direction "
        "with the lines it printed).",
    )


class ReceiptPageOut(Page):
    items: list[ReceiptOut]


def _line(line: ReceiptLine) -> ReceiptLineOut:
    return ReceiptLineOut(
        name=line.name,
        sku=line.sku,
        order_line_no=line.order_line_no,
        price=line.price,
        quantity=line.quantity,
        amount=line.amount,
        vat=line.vat.value,
        vat_amount=line.vat_amount,
        payment_method=line.payment_method.value,
        payment_object=line.payment_object.value,
        mark_code=line.mark_code,
        shipment_id=line.shipment_id,
        agent_type=line.agent.type if line.agent else None,
        supplier_inn=line.agent.supplier_inn if line.agent else None,
    )


def render_receipt(r: Receipt) -> ReceiptOut:
    a, c = r.attributes, r.company
    return ReceiptOut(
        id=r.id or 0,
        order_id=r.order_id,
        kind=r.kind.value,
        operation=r.operation.value,
        state=r.state.value,
        basis=r.basis,
        channel=r.channel,
        currency=r.currency,
        payment_type=r.payment_type.value,
        total=r.total,
        vat_total=r.vat_total,
        legal_entity=c.legal_entity if c else None,
        account=c.account if c else None,
        company_inn=c.inn if c else None,
        taxation=c.taxation.value if c else None,
        payment_address=c.payment_address if c else None,
        reason=r.reason,
        error_code=r.error_code,
        external_id=r.external_id if r.id is not None and c is not None else None,
        provider_uuid=r.provider_uuid,
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        sent_at=r.sent_at,
        fiscal=None
        if a is None
        else FiscalAttributesOut(
            fn_number=a.fn_number,
            fiscal_document_number=a.fiscal_document_number,
            fiscal_document_attribute=a.fiscal_document_attribute,
            fiscal_receipt_number=a.fiscal_receipt_number,
            shift_number=a.shift_number,
            registered_at=a.registered_at,
            register_number=a.register_number,
            ofd_receipt_url=a.ofd_receipt_url,
        ),
        corrects_id=r.corrects_id,
        correction_type=r.correction_type,
        shipment_id=r.shipment_id,
        return_number=r.return_number,
        lines=[_line(line) for line in r.lines],
        created_at=r.created_at,
        updated_at=r.updated_at,
    )
