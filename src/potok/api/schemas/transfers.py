"""Bodies of the transfer, purchase order and incoming-stock endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from potok.api.schemas.common import (
    JSON_INTEGER,
    Code,
    Count,
    Day,
    Flag,
    Out,
    Page,
    Quantity,
    Schema,
    Serial,
)
from potok.api.schemas.stock import LotIn
from potok.domain.inventory.purchasing import PurchaseOrder
from potok.domain.inventory.transfers import Transfer, TransferLine

# ---------------------------------------------------------------------- transfers


LineNo = Annotated[int, Field(ge=1, le=10_000), JSON_INTEGER]


class TransferLineIn(Schema):
    sku: Code = Field(examples=["KET-001"])
    quantity: Quantity = Field(description="Units requested; positive.", examples=[10])
    lot: str | None = Field(
        default=None, max_length=64, description="The lot to move, for products kept by lot."
    )


class TransferIn(Schema):
    from_warehouse: str = Field(max_length=64, examples=["MSK-1"])
    to_warehouse: str = Field(max_length=64, examples=["SPB-1"])
    lines: list[TransferLineIn] = Field(max_length=500)
    expected_on: Day | None = Field(default=None, description="When it should arrive.")
    comment: str = Field(default="", max_length=500)


class ShipLineIn(Schema):
    line_no: LineNo = Field()
    quantity: Count = Field(description="Units shipped on this line; at most the requested.")
    serials: list[Serial] | None = Field(
        default=None,
        max_length=10_000,
        description="Serialised products: the units that leave (default: the first free ones).",
    )


class ShipIn(Schema):
    lines: list[ShipLineIn] = Field(
        default_factory=list,
        max_length=500,
        description="Lines shipping other than the requested quantity; the rest ship in full.",
    )


class ReceiveLineIn(Schema):
    line_no: LineNo = Field()
    quantity: Count = Field(description="Units that arrived on this line.")
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why the quantity differs from what was shipped (required then).",
        examples=["2 units broken in transit"],
    )
    serials: list[Serial] | None = Field(
        default=None,
        max_length=10_000,
        description="Serialised products: the units that arrived (default: the first on "
        "their way here).",
    )


class ReceiveIn(Schema):
    lines: list[ReceiveLineIn] = Field(
        default_factory=list,
        max_length=500,
        description="Lines that arrived other than shipped; the rest arrived as shipped.",
    )


class CancelIn(Schema):
    reason: str = Field(default="", max_length=500)


class TransferLineOut(Out):
    line_no: int
    sku: str
    lot: str | None
    quantity: int
    shipped_quantity: int | None
    received_quantity: int | None
    in_transit: int
    discrepancy: int = Field(description="Received minus shipped; negative when units are short.")
    discrepancy_reason: str | None


class TransferOut(Out):
    number: str
    from_warehouse: str
    to_warehouse: str
    status: str
    expected_on: date | None
    comment: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    shipped_at: datetime | None
    received_at: datetime | None
    in_transit: int = Field(description="Units shipped and not yet received.")
    order_id: int | None = Field(
        default=None,
        description="The customer order whose units the transfer brings to the warehouse "
        "that ships it (sourcing consolidated the order there); null for stock moves.",
    )
    lines: list[TransferLineOut]


class TransferArrivalOut(TransferOut):
    discrepancies: list[TransferLineOut] = Field(
        description="Lines where what arrived differs from what was shipped."
    )
    backorders_reserved: list[int] = Field(
        description="Backordered orders the arrival let Potok reserve."
    )


class TransferPageOut(Page):
    items: list[TransferOut]


def _line_out(line: TransferLine) -> TransferLineOut:
    return TransferLineOut(
        line_no=line.line_no,
        sku=line.sku,
        lot=line.lot,
        quantity=line.quantity,
        shipped_quantity=line.shipped_quantity,
        received_quantity=line.received_quantity,
        in_transit=line.in_transit,
        discrepancy=line.discrepancy,
        discrepancy_reason=line.discrepancy_reason,
    )


def render_transfer(transfer: Transfer) -> TransferOut:
    return TransferOut(
        number=transfer.number,
        from_warehouse=transfer.from_warehouse,
        to_warehouse=transfer.to_warehouse,
        status=transfer.status.value,
        expected_on=transfer.expected_on,
        comment=transfer.comment,
        created_by=transfer.created_by,
        created_at=transfer.created_at,
        updated_at=transfer.updated_at,
        shipped_at=transfer.shipped_at,
        received_at=transfer.received_at,
        in_transit=sum(line.in_transit for line in transfer.lines),
        order_id=transfer.order_id,
        lines=[_line_out(line) for line in transfer.lines],
    )


def render_arrival(
    transfer: Transfer, discrepancies: list[TransferLine], backorders: list[int]
) -> TransferArrivalOut:
    return TransferArrivalOut(
        **render_transfer(transfer).model_dump(),
        discrepancies=[_line_out(line) for line in discrepancies],
        backorders_reserved=backorders,
    )


# ---------------------------------------------------------------------- purchase orders


class PurchaseLineIn(Schema):
    sku: Code = Field(examples=["KET-001"])
    quantity: Quantity = Field(description="Units ordered; positive.", examples=[100])


class PurchaseOrderIn(Schema):
    number: str | None = Field(
        default=None,
        max_length=64,
        description="Your own purchase order number; Potok numbers it (PO-000001) if absent.",
    )
    supplier: str = Field(max_length=255, examples=["ООО Чайники"])
    warehouse: str = Field(max_length=64, examples=["MSK-1"])
    lines: list[PurchaseLineIn] = Field(max_length=500)
    expected_on: Day | None = None


class PurchaseReceiptLineIn(Schema):
    line_no: LineNo = Field()
    quantity: Quantity = Field(description="Units in this delivery; positive.")
    lot: LotIn | None = Field(
        default=None, description="Required for products kept by lot, refused for others."
    )
    serials: list[Serial] | None = Field(
        default=None,
        max_length=10_000,
        description="Serialised products: one serial number per unit received.",
    )


class PurchaseReceiptIn(Schema):
    lines: list[PurchaseReceiptLineIn] = Field(max_length=500)
    allow_over_receipt: Flag = Field(
        default=False, description="Accept more than is outstanding on a line."
    )


class PurchaseOrderLineOut(Out):
    line_no: int
    sku: str
    quantity: int
    received_quantity: int
    outstanding: int


class PurchaseOrderOut(Out):
    number: str
    supplier: str
    warehouse: str
    status: str
    expected_on: date | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    outstanding: int = Field(description="Units ordered and not yet received.")
    lines: list[PurchaseOrderLineOut]


class PurchaseReceiptOut(PurchaseOrderOut):
    received: dict[str, int] = Field(description="Units of this delivery per line number.")
    backorders_reserved: list[int]


class PurchaseOrderPageOut(Page):
    items: list[PurchaseOrderOut]


def render_purchase_order(order: PurchaseOrder) -> PurchaseOrderOut:
    open_order = order.status.value in ("open", "partially_received")
    return PurchaseOrderOut(
        number=order.number,
        supplier=order.supplier,
        warehouse=order.warehouse,
        status=order.status.value,
        expected_on=order.expected_on,
        created_by=order.created_by,
        created_at=order.created_at,
        updated_at=order.updated_at,
        outstanding=sum(line.outstanding for line in order.lines) if open_order else 0,
        lines=[
            PurchaseOrderLineOut(
                line_no=line.line_no,
                sku=line.sku,
                quantity=line.quantity,
                received_quantity=line.received_quantity,
                outstanding=line.outstanding if open_order else 0,
            )
            for line in order.lines
        ],
    )


# ---------------------------------------------------------------------- incoming


class IncomingSourceOut(Out):
    kind: str = Field(description="transfer or purchase_order")
    number: str
    quantity: int
    expected_on: date | None
    origin: str = Field(description="The source warehouse, or the supplier.")


class IncomingOut(Out):
    warehouse: str
    sku: str
    quantity: int
    expected_on: date | None = Field(description="The earliest expected date of its sources.")
    sources: list[IncomingSourceOut]


class IncomingListOut(Out):
    items: list[IncomingOut]
