"""Bodies of the products, channels and warehouses endpoints."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from potok.api.schemas.common import (
    JSON_INTEGER,
    MAX_LIST,
    Code,
    Count,
    Currency,
    Flag,
    Latitude,
    Longitude,
    MoneyIn,
    MoneyOut,
    NewCode,
    Out,
    Page,
    Patch,
    RateIn,
    Schema,
)
from potok.domain.catalogue import CategoryDraft, ProductDraft
from potok.domain.channels import (
    PAYMENT_DEADLINE_MAX_MINUTES,
    BackorderPolicy,
    ChannelDraft,
    ChannelType,
    ConfirmationPolicy,
)
from potok.domain.fulfilment import UnitIdentifier
from potok.domain.kernel import RemovalStrategy, Tracking
from potok.domain.network import WarehouseDraft, WarehouseType
from potok.domain.network.model import MAX_RESERVATION_HOURS
from potok.domain.orders import PaymentMethod

WeightG = Annotated[int, Field(ge=0, le=10_000_000), JSON_INTEGER]
MinShelfLifeDays = Annotated[int, Field(ge=0, le=3650), JSON_INTEGER]
Priority = Annotated[int, Field(ge=-1000, le=1000), JSON_INTEGER]
PaymentDeadlineMinutes = Annotated[int, Field(ge=1, le=PAYMENT_DEADLINE_MAX_MINUTES), JSON_INTEGER]
ReservationHours = Annotated[int, Field(ge=1, le=MAX_RESERVATION_HOURS), JSON_INTEGER]
Barcode = Annotated[str, Field(min_length=1, max_length=64)]


class ProductIn(Schema):
    sku: NewCode = Field(examples=["KET-001"])
    name: str = Field(min_length=1, max_length=255, examples=["Чайник электрический 1,7 л"])
    price: MoneyIn
    vat_rate: RateIn = Field(description="VAT percentage included in the price: 22, 10, 0 …")
    barcode: str | None = Field(default=None, max_length=64, examples=["4601234567893"])
    weight_g: WeightG = 0
    active: Flag = True
    tracking: Tracking = Field(
        default=Tracking.NONE,
        description="`none`, `lot` (receipts name the lot and its dates) or `serial` "
        "(receipts list every unit's serial number). Cannot change while there is stock.",
    )
    removal_strategy: RemovalStrategy | None = Field(
        default=None,
        description="`fefo` (earliest expiry first) or `fifo` (earliest receipt first); "
        "null follows the warehouse's.",
    )
    barcodes: list[Barcode] = Field(
        default_factory=list,
        max_length=20,
        description="More barcodes of the product besides `barcode` (other packs, "
        "suppliers' GTINs); pickers may scan any of them.",
    )
    unit_identifiers: list[UnitIdentifier] = Field(
        default_factory=list,
        max_length=3,
        description="What must be recorded for every unit at packing: `marking` "
        "(Честный ЗНАК DataMatrix code), `imei`, `uin` (jewellery). Hand-over is refused "
        "while one is missing.",
    )
    parcel_group: str = Field(
        default="",
        max_length=32,
        description="Goods of another group (e.g. `bulky`, `chilled`) ship in their own "
        "shipment from the same warehouse.",
    )
    category: Code | None = Field(
        default=None,
        examples=["kettles"],
        description="The code of the product's category (see `/api/v1/categories`); null: "
        "in none. Rules' `items.categories` and the reports by category read it.",
    )

    def draft(self) -> ProductDraft:
        return ProductDraft(
            self.sku,
            self.name,
            self.price,
            self.vat_rate,
            self.barcode,
            self.weight_g,
            self.active,
            self.tracking,
            self.removal_strategy,
            tuple(self.barcodes),
            frozenset(self.unit_identifiers),
            self.parcel_group,
            self.category,
        )


class ProductPatch(Patch):
    nullable = frozenset({"barcode", "removal_strategy", "category"})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    price: MoneyIn | None = None
    vat_rate: RateIn | None = None
    barcode: str | None = Field(default=None, max_length=64)
    weight_g: WeightG | None = None
    active: Flag | None = None
    tracking: Tracking | None = None
    removal_strategy: RemovalStrategy | None = None
    barcodes: list[Barcode] | None = Field(default=None, max_length=20)
    unit_identifiers: list[UnitIdentifier] | None = Field(default=None, max_length=3)
    parcel_group: str | None = Field(default=None, max_length=32)
    category: Code | None = None


class ProductOut(Out):
    sku: str
    name: str
    price: MoneyOut
    vat_rate: Decimal
    barcode: str | None
    weight_g: int
    active: bool
    tracking: str
    removal_strategy: str | None
    barcodes: list[str]
    unit_identifiers: list[str]
    parcel_group: str
    category: str | None
    created_at: datetime
    updated_at: datetime

    @field_validator("unit_identifiers", mode="before")
    @classmethod
    def _sorted(cls, value: object) -> object:
        if isinstance(value, set | frozenset):
            return sorted(str(v) for v in value)
        return value


class ProductPageOut(Page):
    items: list[ProductOut]


class CategoryIn(Schema):
    code: NewCode = Field(examples=["kettles"], description="Never changes once given.")
    name: str = Field(min_length=1, max_length=255, examples=["Чайники"])
    parent: Code | None = Field(
        default=None,
        examples=["appliances"],
        description="The code of the category above it; null: a top-level category. "
        "Changing it moves the category with everything below it.",
    )

    def draft(self) -> CategoryDraft:
        return CategoryDraft(self.code, self.name, self.parent)


class CategoryPatch(Patch):
    nullable = frozenset({"parent"})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    parent: Code | None = None


class CategoryOut(Out):
    code: str
    name: str
    parent: str | None
    path: list[str] = Field(description="The codes from the top-level category down to it.")
    created_at: datetime
    updated_at: datetime


class ChannelIn(Schema):
    code: NewCode = Field(examples=["ozon"])
    name: str = Field(min_length=1, max_length=255, examples=["Ozon FBS"])
    type: ChannelType
    currency: Currency = "RUB"
    confirmation: ConfirmationPolicy = Field(
        default=ConfirmationPolicy.AUTO,
        description="`auto` on arrival, `when_paid` once paid, `manual` by an operator",
    )
    backorders: BackorderPolicy = Field(
        default=BackorderPolicy.BACKORDER,
        description="`backorder` accepts orders the network cannot cover yet; "
        "`reject` refuses them",
    )
    safety_buffer: Count = Field(
        default=0, description="Units held back from what the channel is told it may sell."
    )
    payment_deadline_minutes: PaymentDeadlineMinutes | None = Field(
        default=None,
        description="Unpaid orders are cancelled and their stock released after this "
        "(1 minute to 30 days).",
    )
    active: Flag = True
    min_shelf_life_days: MinShelfLifeDays = Field(
        default=0,
        description="Lots with fewer days of shelf life left are not sold through the channel.",
    )
    payment_methods: list[PaymentMethod] = Field(
        default_factory=lambda: list(PaymentMethod),
        min_length=1,
        max_length=len(PaymentMethod),
        description="How its orders may be paid (every method when left out); an order "
        "naming another is refused. Leave out `cash_on_delivery` and `card_on_delivery` "
        "for a channel whose orders must be paid before they ship.",
    )

    def draft(self) -> ChannelDraft:
        return ChannelDraft(
            self.code,
            self.name,
            self.type,
            self.currency,
            self.confirmation,
            self.backorders,
            self.safety_buffer,
            self.payment_deadline_minutes,
            self.active,
            self.min_shelf_life_days,
            payment_methods=tuple(dict.fromkeys(self.payment_methods)),
        )


class ChannelPatch(Patch):
    nullable = frozenset({"payment_deadline_minutes"})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    type: ChannelType | None = None
    currency: Currency | None = None
    confirmation: ConfirmationPolicy | None = None
    backorders: BackorderPolicy | None = None
    safety_buffer: Count | None = None
    payment_deadline_minutes: PaymentDeadlineMinutes | None = None
    active: Flag | None = None
    min_shelf_life_days: MinShelfLifeDays | None = None
    payment_methods: list[PaymentMethod] | None = Field(
        default=None, min_length=1, max_length=len(PaymentMethod)
    )


class ChannelOut(Out):
    code: str
    name: str
    type: str
    currency: str
    confirmation: str
    backorders: str
    safety_buffer: int
    payment_deadline_minutes: int | None
    active: bool
    min_shelf_life_days: int
    payment_methods: list[PaymentMethod]
    created_at: datetime
    updated_at: datetime


class WarehouseIn(Schema):
    code: NewCode = Field(examples=["MSK-1"])
    name: str = Field(min_length=1, max_length=255, examples=["Склад Москва — Котляково"])
    type: WarehouseType
    city: str = Field(min_length=1, max_length=120, examples=["Москва"])
    region: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        examples=["Московская область"],
        description="The region the location stands in, as named in shipping tariffs.",
    )
    address: str = Field(default="", max_length=500)
    latitude: Latitude = Field(examples=[55.6408])
    longitude: Longitude = Field(examples=[37.6556])
    priority: Priority = Field(default=0, description="Higher wins a tie in distance.")
    active: Flag = True
    channels: list[Code] = Field(
        default_factory=list,
        max_length=MAX_LIST,
        json_schema_extra={"uniqueItems": True},
        description="Codes of the channels served, each once.",
    )
    removal_strategy: RemovalStrategy = Field(
        default=RemovalStrategy.FEFO,
        description="Which lots leave first for products without a strategy of their own.",
    )
    reservation_hours: ReservationHours | None = Field(
        default=None,
        description="Hours a reservation here may wait to be picked; past them the order is "
        "sourced again elsewhere. Null: no limit.",
    )

    def draft(self) -> WarehouseDraft:
        return WarehouseDraft(
            self.code,
            self.name,
            self.type,
            self.city,
            self.latitude,
            self.longitude,
            self.address,
            self.priority,
            self.active,
            tuple(self.channels),
            self.removal_strategy,
            self.region,
            self.reservation_hours,
        )


class WarehousePatch(Patch):
    nullable = frozenset({"region", "reservation_hours"})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    type: WarehouseType | None = None
    city: str | None = Field(default=None, min_length=1, max_length=120)
    region: str | None = Field(default=None, min_length=1, max_length=120)
    address: str | None = Field(default=None, max_length=500)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    priority: Priority | None = None
    active: Flag | None = None
    channels: list[Code] | None = Field(
        default=None, max_length=MAX_LIST, json_schema_extra={"uniqueItems": True}
    )
    removal_strategy: RemovalStrategy | None = None
    reservation_hours: ReservationHours | None = None


class WarehouseOut(Out):
    code: str
    name: str
    type: str
    city: str
    region: str | None
    address: str
    latitude: float
    longitude: float
    priority: int
    active: bool
    channels: list[str]
    removal_strategy: str
    reservation_hours: int | None
    created_at: datetime
    updated_at: datetime
