"""Bodies of the re-routing endpoints: picking shortages and operator alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from potok.api.schemas.common import JSON_INTEGER, Code, Out, Page, Schema
from potok.services.rerouting import MAX_MISSING

Missing = Annotated[int, Field(ge=1, le=MAX_MISSING), JSON_INTEGER]


class ShortageIn(Schema):
    warehouse: Code = Field(examples=["MSK-1"])
    sku: Code = Field(examples=["KET-001"])
    missing: Missing = Field(description="Units not found on the shelf; positive.", examples=[2])
    lot: str | None = Field(
        default=None,
        max_length=64,
        description="The lot, when the order holds several lots of the product here.",
    )
    note: str | None = Field(default=None, max_length=500, examples=["пустая ячейка A-03-2"])


class HeldOut(Out):
    warehouse: str
    sku: str
    quantity: int
    lot: str | None


class ShortageOut(Out):
    order_id: int
    order_status: str
    warehouse: str
    sku: str
    missing: int
    on_hand: int = Field(description="The position's on-hand after the write-down.")
    reserved: int
    available: int
    movement_id: int = Field(description="The ledger entry of the write-down.")
    reservations: list[HeldOut] = Field(description="What the order holds now, and where.")
    orders_resourced: list[int] = Field(
        description="Other orders that lost their reservations to the smaller stock."
    )
    backordered: list[int] = Field(description="Orders nothing could cover: now backordered.")
    alerts: list[int] = Field(description="Alerts raised for the operators.")


class AlertOut(Out):
    id: int
    raised_at: datetime
    kind: str
    order_id: int | None
    message: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    subject: str | None = Field(
        default=None,
        description="What the alert is about when that is not an order, e.g. the location "
        "shipping without a tariff: `MSK-9 (tariffs 3)`.",
    )


class AlertPageOut(Page):
    items: list[AlertOut]
