"""Bodies of the unavailable-bucket moves, storage locations, pick lists and stock counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from potok.api.schemas.common import (
    JSON_INTEGER,
    Code,
    Count,
    Flag,
    NewBinCode,
    Out,
    Page,
    Patch,
    Quantity,
    Schema,
)
from potok.api.schemas.stock import MovementOut
from potok.domain.inventory.buckets import AsideReason, Bucket
from potok.domain.inventory.locations import MAX_SEQUENCE, LocationDraft

# ---------------------------------------------------------------------- moves


PickSequence = Annotated[int, Field(ge=0, le=MAX_SEQUENCE), JSON_INTEGER]


class MoveIn(Schema):
    warehouse: Code = Field(examples=["MSK"])
    sku: Code = Field(examples=["KET"])
    lot: str | None = Field(default=None, max_length=64, description="For products kept by lot.")
    quantity: Quantity = Field(description="Units to move; positive.", examples=[2])
    to: Bucket = Field(
        description="`unavailable`: put aside from sellable (or reserved) stock; `available`: "
        "release back from the unavailable bucket; `written_off`: write off from the "
        "unavailable bucket.",
    )
    reason: AsideReason = Field(description="damaged, quality_check or other.")
    note: str = Field(default="", max_length=400, examples=["box crushed on the forklift"])
    reference: str | None = Field(default=None, max_length=255)


class BucketMovementOut(MovementOut):
    unavailable_change: int


class BucketChangeOut(Out):
    warehouse: str
    sku: str
    lot: str | None
    on_hand: int
    reserved: int
    unavailable: int
    available: int
    movement: BucketMovementOut
    backorders_reserved: list[int]
    orders_resourced: list[int]


# ---------------------------------------------------------------------- locations


class LocationIn(Schema):
    code: NewBinCode = Field(examples=["A-01-03-2"], description="The bin address.")
    zone: str = Field(default="", max_length=64, examples=["A"])
    pick_sequence: PickSequence = Field(
        default=0, description="Pickers walk bins in ascending order (0 to 1,000,000,000)."
    )
    active: Flag = True

    def draft(self) -> LocationDraft:
        return LocationDraft(self.code, self.zone, self.pick_sequence, self.active)


class LocationPatch(Patch):
    code: NewBinCode | None = None
    zone: str | None = Field(default=None, max_length=64)
    pick_sequence: PickSequence | None = None
    active: Flag | None = None


class LocationOut(Out):
    warehouse: str = Field(validation_alias="warehouse_code")
    code: str
    zone: str
    pick_sequence: int
    active: bool
    created_at: datetime
    updated_at: datetime


class PlacementIn(Schema):
    warehouse: Code = Field(examples=["MSK"])
    sku: Code = Field(examples=["KET"])
    lot: str | None = Field(default=None, max_length=64)
    location: str | None = Field(
        max_length=64, examples=["A-01-03-2"], description="The bin; null takes it out of any."
    )


class PlacementOut(Out):
    warehouse: str
    sku: str
    lot: str | None
    location: str | None
    on_hand: int
    reserved: int
    unavailable: int
    available: int


class PickLineOut(Out):
    warehouse: str
    location: str | None
    zone: str | None
    sku: str
    name: str
    lot: str | None
    expires_on: date | None
    line_no: int
    quantity: int


class PickListOut(Out):
    order_id: int
    items: list[PickLineOut]


# ---------------------------------------------------------------------- counts


class CountCreateIn(Schema):
    zone: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Count one zone only; null: the whole warehouse.",
    )
    skus: list[Code] = Field(
        default_factory=list, max_length=1000, description="Count these SKUs only."
    )


class CountEntryIn(Schema):
    sku: Code
    lot: str | None = Field(default=None, max_length=64)
    counted: Count = Field(description="Units found; entering a line again replaces it.")


class CountEntriesIn(Schema):
    entries: list[CountEntryIn] = Field(max_length=5000)


class CountLineOut(Out):
    sku: str
    lot: str | None
    location: str | None
    expected: int | None = Field(description="On hand when the sheet was made; null when blind.")
    counted: int | None
    difference: int | None = Field(description="counted - expected; null when blind or uncounted.")
    counted_by: str | None
    counted_at: datetime | None


class CountOut(Out):
    number: str
    warehouse: str
    zone: str | None
    status: str
    blind: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    counted: int
    uncounted: int
    lines: list[CountLineOut]


class CountSummaryOut(Out):
    number: str
    warehouse: str
    zone: str | None
    status: str
    lines: int
    counted: int
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None


class CountPageOut(Page):
    items: list[CountSummaryOut]


class PostingOut(Out):
    sku: str
    lot: str | None
    location: str | None
    expected: int
    counted: int
    difference: int
    on_hand_before: int
    on_hand_after: int
    moved_since_snapshot: bool
    movement_id: int | None


class ApprovalOut(Out):
    count: CountOut
    postings: list[PostingOut]
    orders_resourced: list[int]
    backorders_reserved: list[int]
