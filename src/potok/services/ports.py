"""What use cases need from storage, as protocols; ``potok.db`` implements them."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from potok.domain.access import ApiKey, Permission, Role, User
from potok.domain.alerts import Alert, AlertKind, AlertState
from potok.domain.catalogue import Category, Product, ProductDraft
from potok.domain.channels import Channel, ChannelDraft
from potok.domain.customers import Customer
from potok.domain.fulfilment import Shipment, ShipmentItem, ShipmentStatus, ShipmentStep
from potok.domain.fulfilment.identifiers import UnitIdentifier
from potok.domain.fulfilment.waves import Wave
from potok.domain.inventory import Movement, StockLevel
from potok.domain.inventory.counts import CountLine, StockCount
from potok.domain.inventory.locations import LocationDraft, StorageLocation
from potok.domain.inventory.purchasing import PurchaseOrder
from potok.domain.inventory.transfers import Transfer
from potok.domain.kernel import (
    ChannelId,
    CustomerId,
    LotId,
    OrderId,
    ProductId,
    StockId,
    Tracking,
    WarehouseId,
)
from potok.domain.network import Warehouse, WarehouseDraft
from potok.domain.orders import HistoryEntry, Order
from potok.domain.quick_init import quick_init
from potok.domain.sourcing import Candidate, Position, SourcingRecord, Tariff
from potok.domain.sourcing.stock_value import PricingInputs, StockPricingRun
from potok.domain.sourcing.versions import RulesVersion, TariffVersion
from potok.services.read_models import (
    ChannelPromise,
    CountPage,
    CustomerOrder,
    Drift,
    ExpiringLot,
    IncomingRow,
    LevelPage,
    MovementPage,
    OrderCount,
    OrderFilter,
    OrderLineExport,
    OrderPage,
    PickLine,
    Rewrapped,
    ShortOrderPage,
    WarehouseAvailability,
)


@dataclass(frozen=True, slots=True)
class Holder:
    """An order holding reservations on a position, in the order it would give them up."""

    order_id: OrderId
    quantity: int


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer to an idempotent request."""

    request_hash: str
    status_code: int
    response: Any


if TYPE_CHECKING:
    from potok.domain.sourcing.setup import SourcingSetup


@quick_init
@dataclass(frozen=True, slots=True)
class IntakeContext:
    """Everything intake reads before it decides, fetched in one go."""

    channel: Channel | None
    products: dict[str, Product]
    existing_order_id: OrderId | None
    fresh_order_id: OrderId
    customer_id: CustomerId | None
    pickup_point: Warehouse | None
    candidates: list[Candidate]
    positions: list[Position]
    sourcing: SourcingSetup | None = None  # the tariffs and rules read with the stock
    stored_answer: StoredAnswer | None = None  # the answer kept under the Idempotency-Key


class IntakeReader(Protocol):
    def load(
        self,
        *,
        channel: str,
        skus: Collection[str],
        external_id: str | None,
        customer: tuple[str, str | None, str | None] | None,
        pickup_point: str | None,
        at: datetime,
        idempotency: tuple[str, str] | None = None,
    ) -> IntakeContext: ...


@dataclass(frozen=True, slots=True)
class UserRecord:
    user: User
    password_hash: str
    warehouse_ids: frozenset[WarehouseId]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str
    user_id: int
    csrf_hash: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key: ApiKey
    secret_hash: str
    channel_id: ChannelId | None


ANONYMOUS = "anonymous"
"""The actor of a request no credentials vouch for (signing in, or a failed attempt)."""


@dataclass(frozen=True, slots=True)
class AuditContext:
    """Who acts and from where, for the audit trail of everything a transaction changes."""

    actor: str
    via: str  # api, cli, worker
    ip: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    actor: str
    via: str
    ip: str | None
    request_id: str | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[AuditEntry]
    next_cursor: str | None


class UserStore(Protocol):
    def get_by_username(self, username: str) -> UserRecord | None: ...
    def get(self, user_id: int) -> UserRecord | None: ...
    def list(self) -> Sequence[User]: ...
    def count_active_admins(self) -> int: ...
    def add(
        self,
        *,
        username: str,
        display_name: str,
        role: Role,
        password_hash: str,
        must_change_password: bool,
        warehouse_ids: Sequence[WarehouseId],
        at: datetime,
    ) -> UserRecord: ...
    def update(self, user_id: int, at: datetime, **values: Any) -> None: ...
    def set_warehouses(self, user_id: int, warehouse_ids: Sequence[WarehouseId]) -> None: ...


class SessionStore(Protocol):
    def add(
        self,
        *,
        token_hash: str,
        user_id: int,
        csrf_hash: str,
        at: datetime,
        expires_at: datetime,
        ip: str | None,
        user_agent: str | None,
    ) -> None: ...
    def get(self, token_hash: str) -> SessionRecord | None: ...
    def delete(self, token_hash: str) -> None: ...
    def delete_for_user(self, user_id: int) -> None: ...
    def delete_expired(self, now: datetime) -> int: ...


class ApiKeyStore(Protocol):
    def add(
        self,
        *,
        name: str,
        prefix: str,
        secret_hash: str,
        scopes: Sequence[Permission],
        channel_id: ChannelId | None,
        rate_limit_per_minute: int,
        at: datetime,
        created_by: str,
    ) -> ApiKey: ...
    def get(self, key_id: int) -> KeyRecord | None: ...
    def get_by_prefix(self, prefix: str) -> KeyRecord | None: ...
    def get_by_name(self, name: str) -> KeyRecord | None: ...
    def list(self) -> Sequence[ApiKey]: ...
    def revoke(self, key_id: int, at: datetime, by: str) -> None: ...
    def touch(self, key_id: int, at: datetime) -> None: ...


class AuditStore(Protocol):
    def list(
        self,
        *,
        actor: str | None,
        entity_type: str | None,
        entity_id: str | None,
        action: str | None,
        since: datetime | None,
        until: datetime | None,
        cursor: str | None,
        limit: int,
    ) -> AuditPage: ...


class ProductStore(Protocol):
    def get_by_sku(self, sku: str) -> Product | None: ...
    def get_by_barcode(self, barcode: str) -> Product | None: ...
    def owners_of(self, barcodes: Collection[str]) -> dict[str, str]: ...
    def get_many(self, skus: Collection[str]) -> dict[str, Product]: ...
    def ids_for(self, skus: Collection[str]) -> dict[str, ProductId]: ...
    def list(
        self,
        *,
        after_sku: str | None = None,
        limit: int = 100,
        search: str | None = None,
        active: bool | None = None,
        categories: Collection[str] | None = None,
    ) -> Sequence[Product]: ...
    def add(self, draft: ProductDraft, at: datetime) -> Product: ...
    def add_many(self, drafts: Sequence[ProductDraft], at: datetime) -> Sequence[Product]: ...
    def replace(self, product_id: ProductId, draft: ProductDraft, at: datetime) -> Product: ...
    def replace_many(
        self, changes: Sequence[tuple[ProductId, ProductDraft]], at: datetime
    ) -> None: ...
    def delete(self, product_id: ProductId) -> None: ...
    def usage(self, product_id: ProductId) -> str | None: ...
    def has_stock(self, product_id: ProductId) -> bool: ...
    def tracked(self, skus: Collection[str]) -> dict[str, Tracking]: ...


class CategoryStore(Protocol):
    def lock_tree(self) -> None: ...
    def get_by_code(self, code: str) -> Category | None: ...
    def known(self, codes: Collection[str]) -> set[str]: ...
    def list(self, *, under: Category | None = None) -> Sequence[Category]: ...
    def add(
        self, code: str, name: str, parent: Category | None, path: tuple[str, ...], at: datetime
    ) -> Category: ...
    def replace(
        self,
        current: Category,
        name: str,
        parent: Category | None,
        path: tuple[str, ...],
        at: datetime,
    ) -> Category: ...
    def height(self, category: Category) -> int: ...
    def usage(self, category: Category) -> str | None: ...
    def delete(self, category: Category) -> None: ...
    def paths(self, codes: Collection[str]) -> dict[str, tuple[str, ...]]: ...


class ChannelStore(Protocol):
    def get_by_code(self, code: str) -> Channel | None: ...
    def get(self, channel_id: ChannelId) -> Channel | None: ...
    def list(self) -> Sequence[Channel]: ...
    def ids_for(self, codes: Sequence[str]) -> dict[str, ChannelId]: ...
    def add(self, draft: ChannelDraft, at: datetime) -> Channel: ...
    def replace(self, channel_id: ChannelId, draft: ChannelDraft, at: datetime) -> Channel: ...
    def delete(self, channel_id: ChannelId) -> None: ...
    def usage(self, channel_id: ChannelId) -> str | None: ...


class WarehouseStore(Protocol):
    def get_by_code(self, code: str) -> Warehouse | None: ...
    def list(self, *, active: bool | None = None) -> Sequence[Warehouse]: ...
    def ids_for(self, codes: Sequence[str]) -> dict[str, WarehouseId]: ...
    def add(
        self, draft: WarehouseDraft, channel_ids: Sequence[ChannelId], at: datetime
    ) -> Warehouse: ...
    def replace(
        self,
        warehouse_id: WarehouseId,
        draft: WarehouseDraft,
        channel_ids: Sequence[ChannelId],
        at: datetime,
    ) -> Warehouse: ...
    def delete(self, warehouse_id: WarehouseId) -> None: ...
    def usage(self, warehouse_id: WarehouseId) -> str | None: ...


class CustomerStore(Protocol):
    def find_or_add(
        self, name: str, phone: str | None, email: str | None, at: datetime
    ) -> CustomerId | None: ...
    def get(self, customer_id: int, *, lock: bool = False) -> Customer | None: ...
    def anonymise(self, customer_id: int, at: datetime) -> None: ...


class PersonalDataStore(Protocol):
    """Personal data at rest, sealed afresh under the current key table by table."""

    @property
    def tables(self) -> tuple[str, ...]: ...
    def pending(self) -> int: ...
    def rewrap(self, table: str, after_id: int, limit: int) -> Rewrapped: ...


@dataclass(frozen=True, slots=True)
class LotDates:
    """A lot as a receipt names it."""

    number: str
    produced_on: date | None
    expires_on: date | None


@dataclass(frozen=True, slots=True)
class StoredLot:
    id: LotId
    dates: LotDates


@dataclass(frozen=True, slots=True)
class SerialPick:
    """Serial numbers to set aside for an order line from one position."""

    order_id: OrderId
    line_no: int
    stock_id: StockId
    quantity: int


class StockStore(Protocol):
    def candidates(
        self,
        product_ids: Collection[ProductId],
        channel_id: ChannelId,
        *,
        today: date,
        held: Collection[StockId] = (),
    ) -> tuple[list[Candidate], list[Position]]: ...
    def reserve(
        self, quantities: Mapping[StockId, int], at: datetime, *, at_commit: bool = False
    ) -> bool: ...
    def release(self, quantities: Mapping[StockId, int], at: datetime) -> None: ...
    def holders(self, stock_id: StockId) -> list[Holder]: ...
    def level(
        self,
        warehouse_id: WarehouseId,
        product_id: ProductId,
        *,
        lock: bool = False,
        lot_id: LotId | None = None,
    ) -> StockLevel | None: ...
    def levels_for_keys(
        self, keys: Collection[tuple[WarehouseId, ProductId]], *, lock: bool = False
    ) -> dict[tuple[WarehouseId, ProductId], StockLevel]: ...
    def ensure_position(
        self,
        warehouse_id: WarehouseId,
        product_id: ProductId,
        at: datetime,
        *,
        lot_id: LotId | None = None,
    ) -> StockId: ...
    def ensure_positions(
        self, keys: Iterable[tuple[WarehouseId, ProductId]], at: datetime
    ) -> None: ...
    def set_on_hand(self, levels: Mapping[StockId, int], at: datetime) -> None: ...
    def add_movements(self, movements: Sequence[Movement]) -> list[int]: ...
    def append_movements(self, movements: Sequence[Movement]) -> None:
        """Many ledger entries whose ids nobody needs (bulk uploads), as cheaply as the
        database allows."""
        ...

    # lots, serial numbers, expiry
    def ensure_lot(self, product_id: ProductId, lot: LotDates, at: datetime) -> StoredLot: ...
    def lot_id(self, product_id: ProductId, number: str) -> LotId | None: ...
    def mark_received(self, stock_id: StockId, at: datetime) -> None: ...
    def add_serials(
        self, level: StockLevel, serial_numbers: Sequence[str], at: datetime
    ) -> list[str]: ...
    def write_off_serials(
        self, level: StockLevel, serial_numbers: Sequence[str], at: datetime
    ) -> list[str]: ...
    def serials_at(self, stock_id: StockId) -> dict[str, str]: ...
    def serials_elsewhere(
        self, product_id: ProductId, serial_numbers: Sequence[str]
    ) -> list[str]: ...
    def assign_serials(
        self, picks: Sequence[SerialPick], at: datetime
    ) -> dict[tuple[int, StockId], list[str]]: ...
    def free_serials(
        self, order_id: OrderId, stock_ids: Collection[StockId], at: datetime
    ) -> None: ...
    def free_named_serials(
        self, order_id: OrderId, stock_id: StockId, serial_numbers: Sequence[str], at: datetime
    ) -> None: ...
    def ship_serials(
        self, order_id: OrderId, stock_id: StockId, serial_numbers: Sequence[str], at: datetime
    ) -> int: ...
    def return_serials(
        self, order_id: OrderId, stock_id: StockId, serial_numbers: Sequence[str], at: datetime
    ) -> int: ...
    def expired(self, today: date) -> list[StockLevel]: ...
    def set_unavailable(self, levels: Mapping[StockId, int], at: datetime) -> None: ...

    # bulk uploads set in one statement (PostgreSQL)
    @property
    def uploads_in_bulk(self) -> bool:
        """Whether :meth:`plan_upload` and :meth:`apply_upload` may be used (PostgreSQL)."""
        ...

    def plan_upload(self, rows: UploadRows) -> UploadPlan:
        """Lock the rows' positions (key order) and say which rows cannot be set in bulk."""
        ...

    def apply_upload(self, rows: UploadRows, change: UploadChange) -> UploadApplied:
        """Set the rows' levels, creating missing positions, with a ledger movement and a
        ``stock.changed`` outbox event for each row that changed (unaudited: the upload's
        ``stock.synced`` is its row in the audit trail)."""
        ...


@dataclass(frozen=True, slots=True)
class UploadRows:
    """Levels of a bulk upload as columns (one list each, not an object per row): the
    row's place in the upload, its position's warehouse and product, the on-hand to set,
    and the on-hand the sender believes is there (compare-and-set), if it says."""

    indexes: list[int]
    warehouse_ids: list[WarehouseId]
    product_ids: list[ProductId]
    on_hand: list[int]
    expected: list[int | None]

    def __len__(self) -> int:
        return len(self.indexes)

    def without(self, left_out: set[int]) -> UploadRows:
        """The rows but those at these places."""
        kept = [n for n, index in enumerate(self.indexes) if index not in left_out]
        return UploadRows(
            [self.indexes[n] for n in kept],
            [self.warehouse_ids[n] for n in kept],
            [self.product_ids[n] for n in kept],
            [self.on_hand[n] for n in kept],
            [self.expected[n] for n in kept],
        )


@dataclass(frozen=True, slots=True)
class UploadPlan:
    """What the locked positions say of an upload: rows whose expected on-hand is stale
    (index, on-hand now), and rows that go under what is reserved or unavailable (they
    take reservations back: set one by one)."""

    stale: list[tuple[int, int]]
    tight: list[int]


@dataclass(frozen=True, slots=True)
class UploadChange:
    """The ledger's words for every movement of a bulk upload."""

    at: datetime
    movement: str
    reason: str
    reference: str | None
    actor: str


@dataclass(frozen=True, slots=True)
class UploadApplied:
    created: int  # positions created
    changed: int  # rows whose on-hand moved
    grown: list[ProductId]  # products whose on-hand grew somewhere


@dataclass(frozen=True, slots=True)
class Releasable:
    """An order (one parcel group of it) ready to be picked at a warehouse."""

    order_id: OrderId
    parcel_group: str


@dataclass(frozen=True, slots=True)
class ShipmentPage:
    items: list[Shipment]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class WavePage:
    items: list[Wave]
    next_cursor: str | None


class ShipmentStore(Protocol):
    def add(self, shipment: Shipment) -> None: ...
    def next_seq(self, order_id: OrderId) -> int: ...
    def save(self, shipment: Shipment) -> None: ...
    def release_codes(self, shipment_id: int) -> None: ...
    def codes_taken(
        self, codes: Collection[tuple[UnitIdentifier, str]], *, besides: int
    ) -> dict[tuple[UnitIdentifier, str], int]: ...
    def get(self, shipment_id: int, *, lock: bool = False) -> Shipment | None: ...
    def get_many(self, shipment_ids: Collection[int], *, lock: bool = False) -> list[Shipment]: ...
    def for_order(self, order_id: int, *, lock: bool = False) -> list[Shipment]: ...
    def statuses(self, order_id: int) -> dict[int, ShipmentStatus]: ...
    def pending(self, order_id: int, warehouse_id: WarehouseId, group: str) -> Shipment | None: ...
    def steps(self, shipment_id: int) -> list[ShipmentStep]: ...
    def open_items(
        self, order_id: int, warehouse_id: WarehouseId, group: str
    ) -> list[ShipmentItem]: ...
    def releasable(
        self,
        warehouse_id: WarehouseId,
        *,
        order_ids: Collection[int] | None,
        limit: int,
        cutoff: datetime | None = None,
    ) -> list[Releasable]: ...
    def why_not_releasable(self, order_id: int) -> str | None: ...
    def list_page(
        self,
        *,
        warehouses_in: Sequence[str] | None,
        statuses: Sequence[str],
        order_id: int | None,
        channel: str | None,
        wave: str | None,
        cursor: str | None,
        limit: int,
        unchanged_since: datetime | None = None,
    ) -> ShipmentPage: ...
    def open_in_wave(self, wave_id: int, product_id: ProductId) -> list[int]: ...
    def left_in_wave(self, wave_id: int) -> int: ...
    def due_at_pickup_points(self, now: datetime, limit: int) -> list[int]: ...
    def with_carrier(self, carrier: str, limit: int, after_id: int = 0) -> list[int]: ...
    def by_tracking(self, carrier: str, tracking_number: str) -> int | None: ...
    def order_id_of(self, shipment_id: int) -> int | None: ...


class WaveStore(Protocol):
    def add(self, wave: Wave) -> None: ...
    def save(self, wave: Wave) -> None: ...
    def get(self, number: str, *, lock: bool = False) -> Wave | None: ...
    def list_page(
        self,
        *,
        warehouses_in: Sequence[str] | None,
        status: str | None,
        cursor: str | None,
        limit: int,
    ) -> WavePage: ...


class OrderStore(Protocol):
    def ids_by_external(
        self, channel_id: ChannelId, external_ids: Collection[str]
    ) -> dict[str, OrderId]: ...
    def add(self, order: Order) -> None: ...
    def save(self, order: Order) -> None: ...
    def save_many(self, many: Collection[Order]) -> None: ...
    def get(self, order_id: int, *, lock: bool = False) -> Order | None: ...
    def get_many(
        self,
        order_ids: Collection[int],
        *,
        lock: bool = False,
        reservations: bool = True,
        personal: bool = True,
    ) -> list[Order]: ...
    def history(self, order_id: int) -> list[HistoryEntry]: ...
    def list_for_customer(self, customer_id: int) -> list[CustomerOrder]: ...
    def anonymise_for_customer(self, customer_id: int, at: datetime) -> list[OrderId]: ...
    def backordered_for(
        self, product_ids: Collection[ProductId] | None, limit: int
    ) -> list[OrderId]: ...
    def due_for_payment(self, now: datetime, limit: int) -> list[OrderId]: ...
    def open_for_replan(
        self,
        channel_id: ChannelId | None,
        warehouse_id: WarehouseId | None,
        limit: int,
        *,
        placed_since: datetime | None = None,
    ) -> list[OrderId]: ...
    def released_among(self, order_ids: Collection[int]) -> set[OrderId]: ...
    def holds_due(self, now: datetime, limit: int) -> list[tuple[OrderId, int]]: ...
    def holding_at(self, warehouse_id: WarehouseId) -> list[OrderId]: ...
    def reservations_lapsed(self, now: datetime, limit: int) -> list[LapsedReservation]: ...


@dataclass(frozen=True, slots=True)
class LapsedReservation:
    """An order whose reservation at a location outlived the location's reservation hours."""

    order_id: OrderId
    warehouse_id: WarehouseId
    warehouse_code: str
    hours: int


class AlertStore(Protocol):
    def add(self, kind: AlertKind, order_id: int | None, message: str, at: datetime) -> Alert: ...
    def add_once(
        self,
        kind: AlertKind,
        subject: str,
        order_id: int | None,
        message: str,
        at: datetime,
        *,
        warehouse_id: int | None = None,
    ) -> Alert | None: ...
    def get(self, alert_id: int, *, lock: bool = False) -> Alert | None: ...
    def acknowledge(self, alert_id: int, at: datetime, by: str) -> None: ...
    def list_page(
        self,
        *,
        state: AlertState,
        order_id: int | None,
        cursor: str | None,
        limit: int,
        within: OrderFilter | None = None,
    ) -> tuple[list[Alert], str | None]: ...


class IdempotencyStore(Protocol):
    def get(self, scope: str, key: str) -> StoredAnswer | None: ...
    def add(
        self,
        scope: str,
        key: str,
        request_hash: str,
        status_code: int,
        response: Any,
        at: datetime,
    ) -> None: ...
    def stage(
        self,
        scope: str,
        key: str,
        request_hash: str,
        status_code: int,
        response: Any,
        at: datetime,
    ) -> None: ...
    def forget_older_than(self, moment: datetime) -> int: ...


class QueryStore(Protocol):
    def list_orders(
        self, flt: OrderFilter, *, sort: str, cursor: str | None, limit: int
    ) -> OrderPage: ...
    def count_orders(self, flt: OrderFilter) -> list[OrderCount]: ...
    def list_short_orders(
        self,
        flt: OrderFilter,
        *,
        sku: str | None,
        warehouse: str | None,
        cursor: str | None,
        limit: int,
    ) -> ShortOrderPage:
        """Backordered orders, longest waiting first, with what they lack and what comes."""
        ...

    def order_lines_after(
        self, flt: OrderFilter, *, after_id: int, orders_per_page: int, customer: bool
    ) -> tuple[list[OrderLineExport], int | None]: ...
    def list_levels(
        self,
        *,
        warehouse: str | None,
        sku: str | None,
        only_available: bool,
        cursor: str | None,
        limit: int,
        within: Sequence[str] | None = None,
    ) -> LevelPage: ...
    def availability(self, product_id: int) -> list[WarehouseAvailability]: ...
    def promises(
        self, product_ids: Sequence[int], channel_codes: Sequence[str] | None = None
    ) -> dict[int, list[ChannelPromise]]: ...
    def promisable_by_location(
        self, product_ids: Sequence[int], channel_code: str
    ) -> tuple[dict[tuple[int, str], int], dict[int, int]]:
        """Per (product, location serving the channel) and per product in all: what the
        channel may be told is available."""
        ...

    def list_movements(
        self,
        *,
        warehouse: str | None,
        sku: str | None,
        movement_type: str | None,
        since: datetime | None,
        cursor: str | None,
        limit: int,
        within: Sequence[str] | None = None,
    ) -> MovementPage: ...
    def drifts(self) -> tuple[int, list[Drift]]: ...
    def expiring(
        self,
        today: date,
        within_days: int,
        warehouse: str | None = None,
        within: Sequence[str] | None = None,
    ) -> list[ExpiringLot]: ...
    def list_incoming(
        self, *, warehouses: Sequence[str] | None, sku: str | None
    ) -> list[IncomingRow]: ...


@dataclass(frozen=True, slots=True)
class ProductRef:
    """A product as stock documents need it: its id, SKU and how its units are told apart."""

    id: ProductId
    sku: str
    tracking: str  # none, lot, serial


class TransferStore(Protocol):
    def products(self, skus: Collection[str]) -> dict[str, ProductRef]: ...
    def lot_ids(
        self, wanted: Collection[tuple[ProductId, str]]
    ) -> dict[tuple[ProductId, str], LotId]: ...
    def add(self, transfer: Transfer) -> None: ...
    def save(self, transfer: Transfer) -> None: ...
    def get(self, number: str, *, lock: bool = False) -> Transfer | None: ...
    def list_for_order(self, order_id: int, *, lock: bool = False) -> list[Transfer]: ...
    def list_page(
        self,
        *,
        status: str | None,
        warehouses: Sequence[str] | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Transfer], str | None]: ...
    def send_serials(
        self,
        stock_id: StockId,
        quantity: int,
        to_warehouse_id: WarehouseId,
        at: datetime,
        *,
        chosen: Sequence[str] | None = None,
    ) -> tuple[list[str], list[str]]: ...
    def land_serials(
        self,
        product_id: ProductId,
        lot_id: LotId | None,
        stock_id: StockId,
        to_warehouse_id: WarehouseId,
        quantity: int,
        at: datetime,
        *,
        chosen: Sequence[str] | None = None,
    ) -> tuple[list[str], list[str]]: ...


class PurchaseOrderStore(Protocol):
    def number_taken(self, number: str) -> bool: ...
    def add(self, order: PurchaseOrder) -> None: ...
    def save(self, order: PurchaseOrder) -> None: ...
    def get(self, number: str, *, lock: bool = False) -> PurchaseOrder | None: ...
    def list_page(
        self,
        *,
        status: str | None,
        warehouses: Sequence[str] | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[PurchaseOrder], str | None]: ...


@dataclass(frozen=True, slots=True)
class RuleState:
    """A min/max rule with the figures of its SKU at its warehouse (summed over lots)."""

    id: int
    warehouse_id: WarehouseId
    warehouse: str
    product_id: ProductId
    sku: str
    min_level: int
    max_level: int
    safety_stock: int
    below_minimum: bool  # the last state seen, so that a crossing raises its event once
    updated_at: datetime
    on_hand: int
    reserved: int
    unavailable: int
    incoming: int
    backordered: int = 0  # units on backordered orders of channels the warehouse serves


@dataclass(frozen=True, slots=True)
class RulePage:
    items: list[RuleState]
    next_cursor: str | None


class StockRuleStore(Protocol):
    def get(
        self, warehouse_id: WarehouseId, product_id: ProductId, *, lock: bool = False
    ) -> RuleState | None: ...
    def put(
        self,
        rows: Sequence[tuple[WarehouseId, ProductId, int, int, int]],
        at: datetime,
    ) -> None: ...
    def delete(self, rule_id: int) -> None: ...
    def lock(self, rule_ids: Collection[int]) -> None: ...
    def states(
        self,
        *,
        rule_ids: Collection[int] | None = None,
        keys: Collection[tuple[WarehouseId, ProductId]] | None = None,
    ) -> list[RuleState]: ...
    def unsettled(self, limit: int) -> list[int]: ...
    def mark(self, below: Mapping[int, bool], at: datetime) -> None: ...
    def page(
        self,
        *,
        warehouses: Sequence[str] | None,
        sku: str | None,
        only_below: bool,
        with_backorders: bool,
        cursor: str | None,
        limit: int,
    ) -> RulePage: ...


class PositionStore(Protocol):
    """Stock positions one by one: by id or lot, their unavailable bucket, their bin."""

    def lot_id(self, product_id: ProductId, number: str) -> LotId | None: ...
    def get(self, stock_id: StockId, *, lock: bool = False) -> StockLevel | None: ...
    def find(
        self,
        warehouse_id: WarehouseId,
        product_id: ProductId,
        lot_id: LotId | None,
        *,
        lock: bool = False,
    ) -> StockLevel | None: ...
    def lock_in_order(self, stock_ids: list[StockId]) -> dict[StockId, StockLevel]: ...
    def set_buckets(
        self, stock_id: StockId, *, on_hand: int, unavailable: int, at: datetime
    ) -> None: ...
    def place(self, stock_id: StockId, location_id: int | None, at: datetime) -> None: ...
    def location_of(self, stock_id: StockId) -> str | None: ...


class LocationStore(Protocol):
    def list_for(
        self, warehouse_id: WarehouseId, *, zone: str | None = None, active: bool | None = None
    ) -> list[StorageLocation]: ...
    def get_by_code(self, warehouse_id: WarehouseId, code: str) -> StorageLocation | None: ...
    def add(self, warehouse_id: WarehouseId, draft: LocationDraft, at: datetime) -> int: ...
    def update(self, location_id: int, draft: LocationDraft, at: datetime) -> None: ...
    def delete(self, location_id: int) -> None: ...
    def usage(self, location_id: int) -> str | None: ...
    def pick_list(self, order_id: int, warehouse_ids: Collection[int] | None) -> list[PickLine]: ...


class StockCountStore(Protocol):
    def next_number(self) -> str: ...
    def snapshot(
        self,
        warehouse_id: WarehouseId,
        zone: str | None,
        product_ids: Collection[ProductId] | None,
    ) -> list[CountLine]: ...
    def busy(self, stock_ids: Collection[StockId]) -> list[str]: ...
    def add(self, count: StockCount) -> None: ...
    def get(self, number: str, *, lock: bool = False) -> StockCount | None: ...
    def save(self, count: StockCount, lines: Sequence[CountLine] = ()) -> None: ...
    def list(
        self,
        *,
        warehouses_in: Sequence[str] | None,
        status: str | None,
        cursor: str | None,
        limit: int,
    ) -> CountPage: ...


@dataclass(frozen=True, slots=True)
class StoredSourcing:
    """One sourcing decision kept for an order, with the engine's full record."""

    decided_at: datetime
    actor: str
    outcome: str  # reserved or backordered
    trigger: str
    warehouses: tuple[str, ...]
    total_cost: Decimal | None
    record: SourcingRecord


@dataclass(frozen=True, slots=True)
class ReplanChange:
    """What a batch re-plan did (or, in a dry run, would do) with one order."""

    order_id: int
    outcome: str  # moved, reserved (a backorder covered) or skipped
    from_warehouses: tuple[str, ...]
    to_warehouses: tuple[str, ...]
    cost_before: Decimal | None
    cost_after: Decimal | None
    note: str = ""  # why it was skipped, or the sentence kept in the order's history


@dataclass(frozen=True, slots=True)
class ReplanRun:
    """One run of the batch optimiser, as the run log keeps it."""

    id: int | None
    started_at: datetime
    finished_at: datetime
    actor: str
    scope: dict[str, Any]
    method: str
    orders_considered: int
    orders_changed: int
    orders_skipped: int
    backorders_reserved: int
    cost_before: Decimal  # shipping of the reserved orders considered, as planned before
    cost_after: Decimal  # the same orders after the run (in a dry run: had it applied)
    applied: bool
    seconds: float
    notes: tuple[str, ...]
    changes: tuple[ReplanChange, ...]


@dataclass(frozen=True, slots=True)
class ReplanRunPage:
    items: list[ReplanRun]
    next_cursor: str | None


class SourcingStore(Protocol):
    def tariff_version(self) -> TariffVersion | None: ...
    def add_tariffs(
        self,
        tariffs: Sequence[Tariff],
        warehouse_ids: dict[str, WarehouseId],
        *,
        source: str,
        created_by: str,
        at: datetime,
    ) -> TariffVersion: ...
    def tariffs(self, version: int) -> list[Tariff]: ...
    def rules(
        self, channel_id: ChannelId | None, order_type: str, version: int | None = None
    ) -> RulesVersion | None: ...
    def rule_versions(
        self, channel_id: ChannelId | None, order_type: str
    ) -> list[RulesVersion]: ...
    def add_rules(
        self,
        channel_id: ChannelId | None,
        order_type: str,
        rules: dict[str, Any],
        *,
        created_by: str,
        at: datetime,
    ) -> RulesVersion: ...
    def weights_kg(self, product_ids: Collection[ProductId]) -> dict[ProductId, float]: ...
    def current_rules(self) -> list[tuple[ChannelId | None, RulesVersion]]: ...
    def decisions(self, order_id: int) -> list[StoredSourcing]: ...
    def add_replan_run(self, run: ReplanRun) -> ReplanRun: ...
    def replan_run(self, run_id: int) -> ReplanRun | None: ...
    def replan_runs(
        self,
        *,
        cursor: str | None,
        limit: int,
        channel: str | None = None,
        warehouses: Sequence[str] | None = None,
    ) -> ReplanRunPage: ...
    def last_replan_at(self, *, held: bool = False) -> datetime | None: ...
    def pricing_inputs(self, *, since: datetime, until: date) -> PricingInputs: ...
    def replace_stock_prices(
        self, prices: Mapping[tuple[WarehouseId, ProductId], Decimal], run: StockPricingRun
    ) -> StockPricingRun: ...
    def stock_prices(self) -> dict[tuple[WarehouseId, ProductId], float]: ...
    def priced_positions(self, limit: int) -> list[tuple[str, str, Decimal]]: ...
    def last_stock_pricing(self) -> StockPricingRun | None: ...
