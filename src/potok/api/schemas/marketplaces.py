"""Marketplace connections in and out of the API; the token goes in and never comes out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from potok.api.schemas.common import (
    JSON_INTEGER,
    AwareDatetime,
    Code,
    Flag,
    NewCode,
    Out,
    Schema,
)

WAREHOUSE_ID_PATTERN = r"^[0-9A-Za-z._-]{1,64}$"
WarehouseId = Annotated[str, StringConstraints(pattern=WAREHOUSE_ID_PATTERN)]
"""A marketplace's warehouse id, as the key of a warehouse map (digits for WB and Ozon)."""


def _warehouse_ids_as_keys(schema: dict[str, Any]) -> None:
    """Say in the document what the map's keys may be (JSON Schema ``propertyNames``)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "object":
            branch["propertyNames"] = {"pattern": WAREHOUSE_ID_PATTERN}


class ConnectionIn(Schema):
    code: NewCode = Field(examples=["wb-main"])
    marketplace: Literal["wildberries", "ozon", "retailcrm", "yandex_market", "avito"]
    channel: Code = Field(description="The sales channel its orders join.")
    token: str = Field(
        min_length=1,
        max_length=4096,
        description="The marketplace's API token; stored encrypted, never returned.",
    )
    client_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Ozon's Client-Id; Yandex Market: the cabinet's businessId; Avito: the "
        "Client ID (the token is its Client Secret); RetailCRM: the shop (site) code when the "
        "key reaches several shops.",
    )
    base_url: str | None = Field(
        default=None,
        min_length=8,
        max_length=500,
        description="The marketplace's API host (a sandbox or simulator); its real one if "
        "omitted. RetailCRM: the account's address, https://<account>.retailcrm.ru.",
    )
    warehouses: dict[WarehouseId, Code] = Field(
        default_factory=dict,
        max_length=200,
        description="The marketplace's warehouse id → the Potok location that fulfils its orders.",
        examples=[{"658434": "MSK"}],
        json_schema_extra=_warehouse_ids_as_keys,
    )
    poll_every_s: Annotated[int, Field(ge=10, le=86_400), JSON_INTEGER] = 60


class ConnectionPatch(Schema):
    token: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="A new API token (after the marketplace refused the old one); never returned.",
    )
    client_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="Ozon's Client-Id, with `token`."
    )
    base_url: str | None = Field(default=None, min_length=8, max_length=500)
    warehouses: dict[WarehouseId, Code] | None = Field(
        default=None,
        max_length=200,
        description="Replaces the whole map.",
        json_schema_extra=_warehouse_ids_as_keys,
    )
    poll_every_s: Annotated[int, Field(ge=10, le=86_400), JSON_INTEGER] | None = None
    active: Flag | None = Field(default=None, description="false pauses the polls.")


class ConnectionOut(Out):
    code: str
    marketplace: str
    channel: str
    base_url: str
    warehouses: dict[str, str]
    poll_every_s: int
    active: bool
    health: str = Field(description="new, ok, failing or refused (the token was refused)")
    last_poll_at: datetime | None
    last_success_at: datetime | None
    lag_s: int | None = Field(description="Seconds since the last successful poll.")
    last_error: str | None
    failures: int
    rate_limit_waits: int
    rate_limit_wait_s: float
    imported: int
    kept_aside: int
    created_at: datetime


class PollOut(Out):
    connection: str
    seen: int
    imported: list[int]
    repeated: int
    kept_aside: list[str]
    followed: int
    cancelled: list[int]
    packed: list[str]
    handed_over: list[str]
    cancelled_there: list[str]
    push_failed: list[str]
    waiting: list[str]
    stickers: list[str]
    returns_opened: list[str] = Field(
        description="Potok returns made of the marketplace's returns (Yandex Market)."
    )
    returns_followed: int = Field(
        description="The marketplace's returns whose change was taken (approved, declined)."
    )
    crm_changes: list[str] = Field(
        description="Changes made in the CRM (RetailCRM) taken into Potok's orders, each "
        "`<order id>:<status|contact|delivery|comment>`."
    )
    crm_refused: list[str] = Field(
        description="Changes made in the CRM that Potok refused, by their journal entry "
        "(`crm/<history record id>`, kind `change-refused`)."
    )
    error: str | None
    refused: bool
    requests: int
    rate_limit_waits: int
    waited_s: float


class JournalEntryOut(Out):
    external_id: str
    kind: str
    detail: str
    first_seen_at: datetime
    last_seen_at: datetime
    times_seen: int
    resolved_at: datetime | None


MarketplaceNumber = Annotated[
    str, StringConstraints(min_length=1, max_length=19, pattern=r"^[0-9]{1,19}$")
]
"""A marketplace's numeric id, as text (WB chrtId and nmId, Ozon sku and product_id)."""


OfferId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]{1,64}$")
]
"""The id a marketplace's orders name an item by: digits for WB and Ozon (checked by the
service), the seller's own offerId on Yandex Market."""


class ItemIn(Schema):
    sku: Code = Field(description="The Potok SKU.", examples=["KET"])
    item: OfferId = Field(
        description="The id the marketplace's orders name: WB `chrtId`, Ozon `sku` (digits), "
        "Yandex Market the seller's `offerId`.",
        examples=["12345678"],
    )
    product: MarketplaceNumber | None = Field(
        default=None,
        description="The product card: WB `nmId`, Ozon `product_id` (Ozon's stock needs it).",
    )
    article: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The seller's article there: WB `vendorCode`, Ozon `offer_id`.",
    )
    barcode: str | None = Field(default=None, min_length=1, max_length=64)


class ItemsIn(Schema):
    items: list[ItemIn] = Field(min_length=1, max_length=10_000)


class ItemOut(Out):
    sku: str
    item: str
    product: str | None
    article: str | None
    barcode: str | None


class ItemPage(Out):
    items: list[ItemOut]
    next_cursor: str | None = Field(description="Pass as `after` for the next page.")


class MappedOut(Out):
    mapped: int


class StockPushOut(Out):
    connection: str
    positions: int = Field(description="Figures sent: (marketplace warehouse, item) pairs.")
    accepted: int
    refused: dict[str, str] = Field(description="`warehouse/SKU` → the marketplace's reason.")
    later: dict[str, str] = Field(
        description="`warehouse/SKU` the marketplace asked to be sent again later (Ozon: "
        "less than 30 seconds since its last update); not a refusal."
    )
    unmapped: list[str] = Field(description="SKUs asked for that have no marketplace item.")
    requests: int
    rate_limit_waits: int
    error: str | None


class CatalogueMatchOut(Out):
    connection: str
    listed: int = Field(description="Items the marketplace's catalogue lists (not archived).")
    mapped: int = Field(description="Mappings stored now: new ones, or refreshed ids.")
    unchanged: int
    unmatched: int = Field(description="Listed items whose article and barcodes name no SKU.")
    conflicts: int = Field(description="Left as a person mapped them, or ambiguous.")
    unmatched_items: list[str] = Field(description="The first 100: `item (article)`.")
    conflict_notes: list[str] = Field(description="The first 100, in words.")
    error: str | None


MarketNumber = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,18}$", max_length=19)]
"""A Yandex Market number (an order, a campaign): digits, as Market writes them."""


class FirstMileShipmentOut(Out):
    id: int = Field(description="Market's shipment id.")
    campaign: str = Field(description="The FBS campaign it belongs to.")
    status: str = Field(
        description="Market's status: OUTBOUND_CREATED, OUTBOUND_READY_FOR_CONFIRMATION, "
        "OUTBOUND_CONFIRMED, OUTBOUND_SIGNED, FINISHED, ACCEPTED, ACCEPTED_WITH_DISCREPANCIES, "
        "ERROR."
    )
    status_description: str
    plan_from: datetime = Field(description="When the parcels are to be handed over, from.")
    plan_to: datetime
    kind: str = Field(
        description="IMPORT: the seller brings the parcels; WITHDRAW: Market collects them "
        "(then a transport waybill is printed too)."
    )
    orders: list[str] = Field(description="Market's order numbers in the shipment.")
    draft_count: int
    planned_count: int
    fact_count: int
    signed: bool = Field(description="Whether the acceptance act is signed electronically.")
    warehouse: str
    warehouse_to: str = Field(description="The sorting centre or point that takes them.")
    delivery_service: str
    external_id: str = Field(description="The seller's own id of the shipment, if given.")
    actions: list[str] | None = Field(
        description="What Market allows now (CONFIRM, DOWNLOAD_ACT, "
        "DOWNLOAD_TRANSPORTATION_WAYBILL, ...); null in listings, where Market does not say."
    )


class FirstMileConfirmIn(Schema):
    external_id: str = Field(
        default="",
        max_length=64,
        description="The seller's own id for the shipment, printed on the act.",
    )
    signatory: str = Field(
        default="",
        max_length=64,
        pattern=r"^[0-9A-Za-z._-]*$",
        description="The Yandex ID login that signs the act electronically (without @yandex.ru).",
    )


class FirstMileTransferIn(Schema):
    orders: list[MarketNumber] = Field(
        min_length=1,
        max_length=500,
        description="Market's order numbers to move to the next shipment.",
    )


class FirstMileTransferOut(Out):
    orders: list[str] = Field(description="Market's order numbers moved.")
    potok_orders: list[int] = Field(
        description="The Potok orders they were imported as; each has a note in its history."
    )


class CourierIntervalOut(Out):
    start: datetime
    end: datetime
    title: str = Field(description="As Avito shows it, e.g. `10:00-14:00`.")
    kind: str = Field(description="Avito's interval type.")


class CourierIntervalsOut(Out):
    address: str = Field(description="Where the courier comes, as Avito holds it.")
    name: str
    phone: str
    intervals: list[CourierIntervalOut]


class CourierIntervalIn(Schema):
    start: AwareDatetime = Field(description="An offered interval's start (or now, for asap).")
    end: AwareDatetime
    interval: Literal["fixed", "asap"] = Field(
        default="fixed", description="`fixed`: an interval Avito offered; `asap`: soonest."
    )
    address: str = Field(min_length=1, max_length=500)
    address_details: str = Field(default="", max_length=500)
    name: str = Field(min_length=1, max_length=200, description="Who hands the parcel over.")
    phone: str = Field(pattern=r"^\+?[0-9]{10,15}$", max_length=16)


class PickupDetailsIn(Schema):
    booking_days: Annotated[int, Field(ge=1, le=30), JSON_INTEGER] = Field(
        description="How many days the order is kept."
    )
    address: str = Field(default="", max_length=500, description="Where it is collected.")
    details: str = Field(default="", max_length=1000, description="A word for the customer.")


class BackfillIn(Schema):
    restart: Flag = Field(
        default=False,
        description="Start from the first order again, even when a back-fill is running "
        "(harmless: the CRM keeps one order per external id).",
    )


class BackfillOut(Out):
    connection: str
    state: Literal["running", "done"]
    done_percent: int = Field(description="How much is told, in whole per cent.")
    total: int = Field(description="Orders of the other channels it tells.")
    sent: int = Field(description="Orders told so far.")
    created: int = Field(description="Orders the CRM created.")
    updated: int = Field(description="Orders the CRM had already, brought up to date.")
    refused: int = Field(description="Orders the CRM refused: see the connection's journal.")
    customers: int = Field(description="Customers the CRM created.")
    requests: int
    after_order_id: int = Field(description="Told so far: the orders up to this id.")
    through_order_id: int = Field(description="The last order it tells (the newest at start).")
    last_error: str | None = Field(
        description="Why the last batch could not be told (the CRM down): it is told again."
    )
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
