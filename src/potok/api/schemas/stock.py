"""Bodies of the stock endpoints."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from potok.api.schemas.common import (
    MAX_BULK_ROWS,
    Code,
    Count,
    Day,
    Out,
    Page,
    Quantity,
    Schema,
    Serial,
)


class LotIn(Schema):
    number: str = Field(min_length=1, max_length=64, examples=["L-2026-11-A"])
    produced_on: Day | None = None
    expires_on: Day | None = Field(
        default=None, description="Units of the lot cannot be sold from this day on."
    )


class ReceiptIn(Schema):
    warehouse: Code = Field(examples=["MSK-1"])
    sku: Code = Field(examples=["KET-001"])
    quantity: Quantity = Field(description="Units received; positive.", examples=[24])
    reason: str = Field(default="receipt", max_length=500)
    reference: str | None = Field(default=None, max_length=255, examples=["PO-2026-0042"])
    lot: LotIn | None = Field(
        default=None,
        description="Required for products kept by lot, refused for others. A new lot number "
        "creates the lot; a known one must come with the same dates.",
    )
    serials: list[Serial] | None = Field(
        default=None,
        max_length=10_000,
        description="Serialised products: one serial number per unit received.",
    )


class WriteOffIn(Schema):
    warehouse: Code
    sku: Code
    quantity: Quantity = Field(description="Units written off; positive.")
    reason: str = Field(min_length=1, max_length=500, examples=["damaged in handling"])
    reference: str | None = Field(default=None, max_length=255)
    lot: str | None = Field(
        default=None, max_length=64, description="The lot number, for products kept by lot."
    )
    serials: list[Serial] | None = Field(
        default=None,
        max_length=10_000,
        description="Serialised products: the serial numbers of the units written off.",
    )


class CountIn(Schema):
    warehouse: Code
    sku: Code
    expected_on_hand: Count = Field(
        description="The on-hand quantity you believe you are replacing; a mismatch is a 409."
    )
    counted: Count = Field(description="What is physically there.")
    reason: str = Field(default="count", max_length=500)
    reference: str | None = Field(default=None, max_length=255)
    lot: str | None = Field(
        default=None, max_length=64, description="The lot number, for products kept by lot."
    )


class LevelIn(Schema):
    warehouse: Code = Field(examples=["MSK-1"])
    sku: Code = Field(examples=["KET-001"])
    on_hand: Count = Field(examples=[120])
    expected_on_hand: Count | None = Field(
        default=None, description="Optional compare-and-set for this row."
    )
    lot: LotIn | None = Field(
        default=None, description="Products kept by lot: the row is the level of this lot."
    )
    serials: list[Serial] | None = Field(
        default=None,
        max_length=10_000,
        description="Serialised products: the serial numbers of the units on hand.",
    )


class LevelsIn(Schema):
    rows: list[LevelIn] = Field(
        max_length=MAX_BULK_ROWS,
        description="At most `api.max_bulk_rows` rows (50,000 by default and at most).",
    )
    source: str = Field(default="erp", max_length=64, description="Who sends the levels.")
    reference: str | None = Field(default=None, max_length=255)


class LevelsAppliedOut(Out):
    rows: int
    changed: int
    created: int
    backorders_reserved: list[int]
    orders_resourced: list[int]


class LevelOut(Out):
    warehouse: str
    sku: str
    on_hand: int
    reserved: int
    available: int
    updated_at: datetime
    unavailable: int = Field(default=0, description="On hand but not sellable (expired, damaged).")
    lot: str | None = Field(default=None, description="The lot, for products kept by lot.")
    expires_on: date | None = None
    incoming: int = Field(
        default=0, description="On its way here: shipped transfers and open purchase orders."
    )
    location: str | None = Field(default=None, description="The bin the position lies in.")


class LevelPageOut(Page):
    items: list[LevelOut]


class MovementOut(Out):
    id: int
    warehouse: str
    sku: str
    type: str
    quantity: int
    on_hand_after: int
    reason: str
    reference: str | None
    actor: str
    occurred_at: datetime
    lot: str | None = None
    unavailable_change: int = 0


class MovementPageOut(Page):
    items: list[MovementOut]


class StockChangeOut(Out):
    warehouse: str
    sku: str
    on_hand: int
    reserved: int
    available: int
    unavailable: int = 0
    lot: str | None = None
    movement: MovementOut | None
    backorders_reserved: list[int]
    orders_resourced: list[int]


class WarehouseAvailabilityOut(Out):
    warehouse: str
    name: str
    type: str
    city: str
    active: bool
    on_hand: int
    reserved: int
    available: int
    safety_stock: int = Field(
        default=0, description="Held back from the availability published to channels."
    )
    unavailable: int = Field(default=0, description="On hand but not sellable (expired, damaged).")


class ChannelPromiseOut(Out):
    channel: str
    available_to_promise: int
    safety_buffer: int
    warehouses: list[str]


class AvailabilityOut(Out):
    sku: str
    on_hand: int
    available: int
    warehouses: list[WarehouseAvailabilityOut]
    channels: list[ChannelPromiseOut]


class PromiseOut(Out):
    sku: str
    available_to_promise: int
    warehouses: list[str]


class ChannelAvailabilityOut(Out):
    channel: str
    safety_buffer: int
    items: list[PromiseOut]


class DriftOut(Out):
    warehouse: str
    sku: str
    on_hand: int
    ledger_on_hand: int
    reserved: int
    open_reservations: int
    unavailable: int = 0
    ledger_unavailable: int = Field(
        default=0, description="The ledger's sum of changes to the unavailable bucket."
    )
    serials: int | None = Field(
        default=None,
        description="Serialised products: units in stock or reserved by serial number.",
    )


class ExpiringLotOut(Out):
    warehouse: str
    sku: str
    lot: str
    expires_on: date
    days_left: int = Field(description="Negative once the lot has expired.")
    on_hand: int
    reserved: int
    unavailable: int


class ReconciliationOut(Out):
    checked: int
    drifting: int
    drifts: list[DriftOut]
