"""Shipments and waves in and out of their tables, written from the aggregates' changes."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import (
    channels,
    lots,
    order_holds,
    orders,
    parcels,
    products,
    reservations,
    serials,
    shipment_codes,
    shipment_items,
    shipment_steps,
    shipments,
    stock,
    storage_locations,
    transfers,
    warehouses,
    waves,
)
from potok.domain.errors import TransientConflict
from potok.domain.events import DomainEvent
from potok.domain.fulfilment.identifiers import (
    UnitCode,
    UnitIdentifier,
    gtin14,
    parse_identifiers,
)
from potok.domain.fulfilment.model import (
    PackedCode,
    Parcel,
    Shipment,
    ShipmentItem,
    ShipmentStep,
)
from potok.domain.fulfilment.states import ShipmentStatus, WaveStatus
from potok.domain.fulfilment.waves import Wave
from potok.domain.kernel import OrderId, ProductId, StockId, WarehouseId
from potok.domain.orders import HoldState, OrderState, PaymentStatus
from potok.domain.orders.states import AllocationState
from potok.services.ports import Releasable, ShipmentPage, WavePage

_HEADER = (
    sa.select(shipments, warehouses.c.code.label("warehouse_code"), waves.c.number.label("wave"))
    .join(warehouses, warehouses.c.id == shipments.c.warehouse_id)
    .outerjoin(waves, waves.c.id == shipments.c.wave_id)
)
# what picking and packing show of an item: its product, lot and storage place
_ITEM_DETAILS = (
    products.c.sku,
    products.c.name,
    products.c.unit_identifiers,
    products.c.barcode,
    products.c.barcodes,
    lots.c.number.label("lot"),
    storage_locations.c.code.label("location"),
    storage_locations.c.zone,
    storage_locations.c.pick_sequence,
)
_ITEMS = (
    sa.select(shipment_items, *_ITEM_DETAILS)
    .join(products, products.c.id == shipment_items.c.product_id)
    .join(stock, stock.c.id == shipment_items.c.stock_id)
    .outerjoin(lots, lots.c.id == stock.c.lot_id)
    .outerjoin(storage_locations, storage_locations.c.id == stock.c.location_id)
)
_CHUNK = 500

# What a shipment's use cases run over and over (a scan, a pack, a hand-over: each a
# transaction), built once with their values as parameters: building a statement and its
# cache key afresh cost more than running it on SQLite.
_IDS: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
_HEADERS = _HEADER.where(shipments.c.id.in_(_IDS))
_HEADERS_LOCKED = _HEADERS.order_by(shipments.c.id).with_for_update(of=shipments)
_ITEMS_OF = _ITEMS.where(shipment_items.c.shipment_id.in_(_IDS)).order_by(
    shipment_items.c.shipment_id, shipment_items.c.item_no
)
_PARCELS_OF = (
    sa.select(parcels)
    .where(parcels.c.shipment_id.in_(_IDS))
    .order_by(parcels.c.shipment_id, parcels.c.parcel_no)
)
_CODES_OF = (
    sa.select(shipment_codes)
    .where(shipment_codes.c.shipment_id.in_(_IDS))
    .order_by(shipment_codes.c.id)
)
_INSERT = sa.insert(shipments).returning(shipments.c.id)
_UPDATES: dict[tuple[str, ...], sa.Update] = {}


def _update(columns: tuple[str, ...]) -> sa.Update:
    """The shipment's row written afresh if its version still holds (built once per set of
    columns: the columns of ``_header``)."""
    statement = _UPDATES.get(columns)
    if statement is None:
        statement = _UPDATES[columns] = (
            sa.update(shipments)
            .where(
                shipments.c.id == sa.bindparam("s_id"),
                shipments.c.version == sa.bindparam("s_version"),
            )
            .values({name: sa.bindparam(f"v_{name}") for name in columns})
        )
    return statement


_DELETE_ITEMS = sa.delete(shipment_items).where(
    shipment_items.c.shipment_id == sa.bindparam("s_id"),
    shipment_items.c.item_no.in_(sa.bindparam("numbers", expanding=True)),
)
_DELETE_CODES = sa.delete(shipment_codes).where(
    shipment_codes.c.shipment_id == sa.bindparam("s_id"),
    shipment_codes.c.parcel_no.in_(sa.bindparam("numbers", expanding=True)),
)
_DELETE_PARCELS = sa.delete(parcels).where(
    parcels.c.shipment_id == sa.bindparam("s_id"),
    parcels.c.parcel_no.in_(sa.bindparam("numbers", expanding=True)),
)
_INSERT_ITEMS = sa.insert(shipment_items)
_INSERT_PARCELS = sa.insert(parcels)
_INSERT_CODES = sa.insert(shipment_codes)
_INSERT_STEPS = sa.insert(shipment_steps)
_ORDER_ID: sa.BindParameter[Any] = sa.bindparam("order_id")
_NEXT_SEQ = sa.select(sa.func.max(shipments.c.seq)).where(shipments.c.order_id == _ORDER_ID)
_OF_ORDER = (
    sa.select(shipments.c.id).where(shipments.c.order_id == _ORDER_ID).order_by(shipments.c.id)
)
_STATUSES = sa.select(shipments.c.id, shipments.c.status).where(shipments.c.order_id == _ORDER_ID)
_PENDING = sa.select(shipments.c.id).where(
    shipments.c.order_id == _ORDER_ID,
    shipments.c.warehouse_id == sa.bindparam("warehouse_id"),
    shipments.c.parcel_group == sa.bindparam("parcel_group"),
    shipments.c.status == ShipmentStatus.PENDING.value,
)
_STEPS = (
    sa.select(shipment_steps)
    .where(shipment_steps.c.shipment_id == sa.bindparam("shipment_id"))
    .order_by(shipment_steps.c.id)
)

_OPEN_ITEMS = (  # a pending shipment's items: open reservations no started shipment holds
    sa.select(
        reservations.c.line_no,
        reservations.c.product_id,
        reservations.c.stock_id,
        sa.func.sum(reservations.c.quantity).label("quantity"),
        *_ITEM_DETAILS,
    )
    .join(products, products.c.id == reservations.c.product_id)
    .join(stock, stock.c.id == reservations.c.stock_id)
    .outerjoin(lots, lots.c.id == stock.c.lot_id)
    .outerjoin(storage_locations, storage_locations.c.id == stock.c.location_id)
    .where(
        reservations.c.order_id == _ORDER_ID,
        reservations.c.warehouse_id == sa.bindparam("warehouse_id"),
        reservations.c.status == "open",
        reservations.c.shipment_id.is_(None),
        products.c.parcel_group == sa.bindparam("parcel_group"),
    )
    .group_by(
        reservations.c.line_no,
        reservations.c.product_id,
        reservations.c.stock_id,
        products.c.sku,
        products.c.name,
        products.c.unit_identifiers,
        products.c.barcode,
        products.c.barcodes,
        lots.c.number,
        storage_locations.c.code,
        storage_locations.c.zone,
        storage_locations.c.pick_sequence,
    )
    .order_by(reservations.c.line_no, reservations.c.stock_id)
)
_SERIALS_HELD = (
    sa.select(serials.c.line_no, serials.c.stock_id, serials.c.serial)
    .where(serials.c.order_id == _ORDER_ID, serials.c.status == "reserved")
    .order_by(serials.c.id)
)
_WAVE_ID: sa.BindParameter[Any] = sa.bindparam("wave_id")
_OPEN_IN_WAVE = (
    sa.select(shipments.c.id)
    .join(shipment_items, shipment_items.c.shipment_id == shipments.c.id)
    .where(
        shipments.c.wave_id == _WAVE_ID,
        shipments.c.status == ShipmentStatus.PICKING.value,
        shipment_items.c.product_id == sa.bindparam("product_id"),
        shipment_items.c.picked < shipment_items.c.quantity,
    )
    .distinct()
    .order_by(shipments.c.id)
)
_LEFT_IN_WAVE = (
    sa.select(sa.func.coalesce(sa.func.sum(shipment_items.c.quantity - shipment_items.c.picked), 0))
    .join(shipments, shipments.c.id == shipment_items.c.shipment_id)
    .where(shipments.c.wave_id == _WAVE_ID, shipments.c.status == ShipmentStatus.PICKING.value)
)
_BY_TRACKING = sa.select(shipments.c.id).where(
    shipments.c.carrier == sa.bindparam("carrier"),
    shipments.c.tracking_number == sa.bindparam("tracking_number"),
)


_WAREHOUSE_ID: sa.BindParameter[Any] = sa.bindparam("warehouse_id")
_RELEASABLE: dict[tuple[bool, bool], sa.Select[tuple[int, str]]] = {}


def _releasable(by_order: bool, before_cutoff: bool) -> sa.Select[tuple[int, str]]:
    """What ``ShipmentRepository.releasable`` reads, built once for each of its four shapes
    (given orders or not, a cutoff or not), the warehouse and the limit as parameters."""
    found = _RELEASABLE.get((by_order, before_cutoff))
    if found is not None:
        return found
    free = (
        sa.select(
            reservations.c.order_id,
            products.c.parcel_group,
        )
        .join(products, products.c.id == reservations.c.product_id)
        .where(
            reservations.c.warehouse_id == _WAREHOUSE_ID,
            reservations.c.status == "open",
            reservations.c.shipment_id.is_(None),
        )
        .distinct()
        .subquery()
    )
    pending = sa.exists().where(
        shipments.c.order_id == free.c.order_id,
        shipments.c.warehouse_id == _WAREHOUSE_ID,
        shipments.c.parcel_group == free.c.parcel_group,
        shipments.c.status == ShipmentStatus.PENDING.value,
    )
    on_hold = sa.exists().where(
        order_holds.c.order_id == orders.c.id, order_holds.c.state == HoldState.ACTIVE.value
    )
    travelling = sa.exists().where(
        transfers.c.order_id == orders.c.id, transfers.c.status.in_(["requested", "shipped"])
    )
    query = (
        sa.select(orders.c.id, free.c.parcel_group)
        .join(free, free.c.order_id == orders.c.id)
        .where(
            orders.c.state == OrderState.CONFIRMED.value,
            orders.c.allocation == AllocationState.RESERVED.value,
            # a prepaid order waits for its money; others pay on delivery
            orders.c.payment_due_at.is_(None),
            orders.c.payment_status != PaymentStatus.FAILED.value,
            ~on_hold,
            ~travelling,
            ~pending,
        )
        .order_by(
            orders.c.priority.desc(),
            sa.case((orders.c.promised_at.is_(None), 1), else_=0),
            orders.c.promised_at,
            orders.c.created_at,
            orders.c.id,
            free.c.parcel_group,
        )
        .limit(sa.bindparam("limit", type_=sa.Integer()))
    )
    if by_order:
        query = query.where(orders.c.id.in_(sa.bindparam("order_ids", expanding=True)))
    if before_cutoff:
        query = query.where(orders.c.created_at < sa.bindparam("cutoff"))
    _RELEASABLE[(by_order, before_cutoff)] = query
    return query


class ShipmentRepository:
    def __init__(self, connection: sa.Connection, events: list[DomainEvent]) -> None:
        self.connection = connection
        self.events = events

    # ------------------------------------------------------------------ writing

    def add(self, shipment: Shipment) -> None:
        """Store a new (pending) shipment; it gets its id."""
        shipment.id = self.connection.execute(_INSERT, _header(shipment)).scalar_one()

    def next_seq(self, order_id: OrderId) -> int:
        last = self.connection.execute(_NEXT_SEQ, {"order_id": order_id}).scalar_one_or_none()
        return int(last or 0) + 1

    def save(self, shipment: Shipment) -> None:
        """Write what changed since the shipment was loaded; its version goes up by one."""
        changes = shipment.take_changes()
        if not changes:
            return
        row = _header(shipment) | {"version": shipment.version + 1}
        result = self.connection.execute(
            _update(tuple(row)),
            {"s_id": shipment.id, "s_version": shipment.version}
            | {f"v_{name}": value for name, value in row.items()},
        )
        if result.rowcount != 1:
            raise TransientConflict(detail=f"shipment {shipment.id} changed meanwhile")
        shipment.version += 1
        if changes.items:
            numbers = sorted(changes.items)
            self.connection.execute(_DELETE_ITEMS, {"s_id": shipment.id, "numbers": numbers})
            self.connection.execute(
                _INSERT_ITEMS, [_item(shipment, shipment.item(n)) for n in numbers]
            )
        if changes.removed_parcels:
            removed = {"s_id": shipment.id, "numbers": list(changes.removed_parcels)}
            self.connection.execute(_DELETE_CODES, removed)
            self.connection.execute(_DELETE_PARCELS, removed)
        if changes.parcels:
            self.connection.execute(
                _INSERT_PARCELS, [_parcel(shipment, p) for p in changes.parcels]
            )
        if changes.codes:
            self.connection.execute(_INSERT_CODES, [_code(shipment, c) for c in changes.codes])
        if changes.steps:
            self.connection.execute(_INSERT_STEPS, [_step(shipment, s) for s in changes.steps])
            shipment.steps.extend(changes.steps)
        self.events.extend(changes.events)

    def release_codes(self, shipment_id: int) -> None:
        """The shipment was cancelled or came back: its units' codes may ship again."""
        self.connection.execute(
            sa.update(shipment_codes)
            .where(shipment_codes.c.shipment_id == shipment_id, shipment_codes.c.active)
            .values(active=False)
        )

    def codes_taken(
        self, codes: Collection[tuple[UnitIdentifier, str]], *, besides: int
    ) -> dict[tuple[UnitIdentifier, str], int]:
        """Which of these codes other shipments hold (packed or shipped), and which."""
        if not codes:
            return {}
        rows = self.connection.execute(
            sa.select(
                shipment_codes.c.kind, shipment_codes.c.code_key, shipment_codes.c.shipment_id
            ).where(
                shipment_codes.c.active,
                shipment_codes.c.shipment_id != besides,
                sa.tuple_(shipment_codes.c.kind, shipment_codes.c.code_key).in_(
                    sorted((k.value, key) for k, key in codes)
                ),
            )
        )
        return {(UnitIdentifier(r.kind), r.code_key): r.shipment_id for r in rows}

    # ------------------------------------------------------------------ reading

    def get(self, shipment_id: int, *, lock: bool = False) -> Shipment | None:
        found = self.get_many([shipment_id], lock=lock)
        return found[0] if found else None

    def get_many(self, shipment_ids: Collection[int], *, lock: bool = False) -> list[Shipment]:
        """Shipments with items, parcels and codes (not their steps), in the order asked for;
        ``lock`` locks them in id order."""
        wanted = list(dict.fromkeys(shipment_ids))
        found: dict[int, Shipment] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            query = _HEADERS_LOCKED if lock else _HEADERS
            rows = list(self.connection.execute(query, {"ids": chunk}))
            found.update((s.id, s) for s in self._load(rows) if s.id is not None)
        return [found[i] for i in wanted if i in found]

    def for_order(self, order_id: int, *, lock: bool = False) -> list[Shipment]:
        ids = self.connection.execute(_OF_ORDER, {"order_id": order_id}).scalars()
        return self.get_many(list(ids), lock=lock)

    def statuses(self, order_id: int) -> dict[int, ShipmentStatus]:
        """Every shipment of the order and its status, for the order's progress."""
        rows = self.connection.execute(_STATUSES, {"order_id": order_id})
        return {r.id: ShipmentStatus(r.status) for r in rows}

    def pending(self, order_id: int, warehouse_id: WarehouseId, group: str) -> Shipment | None:
        found = self.connection.execute(
            _PENDING, {"order_id": order_id, "warehouse_id": warehouse_id, "parcel_group": group}
        ).scalar_one_or_none()
        return self.get(found) if found is not None else None

    def steps(self, shipment_id: int) -> list[ShipmentStep]:
        return [
            ShipmentStep(
                r.occurred_at, r.actor, r.action, r.from_status, r.to_status, r.reason, r.details
            )
            for r in self.connection.execute(_STEPS, {"shipment_id": shipment_id})
        ]

    def _load(self, rows: list[Any]) -> list[Shipment]:
        ids = [row.id for row in rows]
        if not ids:
            return []
        items: dict[int, list[ShipmentItem]] = {i: [] for i in ids}
        for r in self.connection.execute(_ITEMS_OF, {"ids": ids}):
            items[r.shipment_id].append(_item_from(r))
        boxes: dict[int, list[Parcel]] = {i: [] for i in ids}
        for r in self.connection.execute(_PARCELS_OF, {"ids": ids}):
            boxes[r.shipment_id].append(
                Parcel(
                    r.parcel_no,
                    r.weight_g,
                    r.length_mm,
                    r.width_mm,
                    r.height_mm,
                    {int(k): int(v) for k, v in r.contents.items()},
                    r.packed_at,
                    r.packed_by,
                )
            )
        codes: dict[int, list[PackedCode]] = {i: [] for i in ids}
        for r in self.connection.execute(_CODES_OF, {"ids": ids}):
            codes[r.shipment_id].append(
                PackedCode(
                    r.parcel_no,
                    r.item_no,
                    UnitCode(UnitIdentifier(r.kind), r.value, r.code_key, r.gtin),
                )
            )
        return [_shipment(row, items[row.id], boxes[row.id], codes[row.id]) for row in rows]

    # ------------------------------------------------------------------ what to pick

    def open_items(
        self, order_id: int, warehouse_id: WarehouseId, group: str
    ) -> list[ShipmentItem]:
        """The order's open reservations at the warehouse that no started shipment holds, of
        products of this parcel group: a pending shipment's items (numbered from 1)."""
        rows = self.connection.execute(
            _OPEN_ITEMS, {"order_id": order_id, "warehouse_id": warehouse_id, "parcel_group": group}
        ).all()
        held: dict[tuple[int, int], list[str]] = {}
        for s in self.connection.execute(_SERIALS_HELD, {"order_id": order_id}):
            held.setdefault((s.line_no, s.stock_id), []).append(s.serial)
        items = []
        for number, r in enumerate(rows, start=1):
            product = _product_facts(r)
            items.append(
                ShipmentItem(
                    item_no=number,
                    line_no=r.line_no,
                    product_id=ProductId(r.product_id),
                    sku=r.sku,
                    stock_id=StockId(r.stock_id),
                    quantity=int(r.quantity),
                    lot=r.lot,
                    serials=tuple(held.get((r.line_no, r.stock_id), ())),
                    name=r.name,
                    identifiers=product[0],
                    gtins=product[1],
                    location=r.location,
                    zone=r.zone or "",
                    pick_sequence=r.pick_sequence,
                )
            )
        return items

    def releasable(
        self,
        warehouse_id: WarehouseId,
        *,
        order_ids: Collection[int] | None,
        limit: int,
        cutoff: datetime | None = None,
    ) -> list[Releasable]:
        """Orders ready to be picked at the warehouse, most urgent first: confirmed, reserved,
        not on hold, paid or not needing it, no transfer still bringing their units, with
        open reservations here that neither a started nor a pending shipment holds; one row
        per parcel group."""
        query = _releasable(order_ids is not None, cutoff is not None)
        parameters: dict[str, Any] = {"warehouse_id": warehouse_id, "limit": limit}
        if order_ids is not None:
            parameters["order_ids"] = sorted(order_ids)
        if cutoff is not None:
            parameters["cutoff"] = cutoff
        rows = self.connection.execute(query, parameters)
        return [Releasable(OrderId(r.id), r.parcel_group) for r in rows]

    def why_not_releasable(self, order_id: int) -> str | None:
        """What keeps an order from the warehouse, in words (None: nothing)."""
        order = self.connection.execute(
            sa.select(
                orders.c.state,
                orders.c.allocation,
                orders.c.payment_status,
                orders.c.payment_due_at,
            ).where(orders.c.id == order_id)
        ).first()
        if order is None:
            return "it does not exist"
        if order.state != OrderState.CONFIRMED.value:
            return f"it is {order.state}, not confirmed"
        if order.allocation != AllocationState.RESERVED.value:
            return f"it is {order.allocation}, not reserved"
        if order.payment_due_at is not None or order.payment_status == PaymentStatus.FAILED:
            return f"it waits for its payment ({order.payment_status})"
        if self.connection.execute(
            sa.select(order_holds.c.hold_no).where(
                order_holds.c.order_id == order_id, order_holds.c.state == HoldState.ACTIVE.value
            )
        ).first():
            return "it is on hold"
        if self.connection.execute(
            sa.select(transfers.c.number).where(
                transfers.c.order_id == order_id, transfers.c.status.in_(["requested", "shipped"])
            )
        ).first():
            return "a transfer still brings its units to the warehouse that ships it"
        return None

    # ------------------------------------------------------------------ lists

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
    ) -> ShipmentPage:
        """Newest first; ``warehouses_in`` and ``channel`` narrow to what a caller may see;
        ``unchanged_since`` keeps those that have not moved since then."""
        query = (
            sa.select(shipments.c.id)
            .join(warehouses, warehouses.c.id == shipments.c.warehouse_id)
            .order_by(shipments.c.id.desc())
            .limit(limit + 1)
        )
        if warehouses_in is not None:
            query = query.where(warehouses.c.code.in_(list(warehouses_in)))
        if statuses:
            query = query.where(shipments.c.status.in_(list(statuses)))
        if order_id is not None:
            query = query.where(shipments.c.order_id == order_id)
        if channel is not None:
            query = query.where(
                shipments.c.order_id.in_(
                    sa.select(orders.c.id)
                    .join(channels, channels.c.id == orders.c.channel_id)
                    .where(channels.c.code == channel)
                )
            )
        if wave is not None:
            query = query.where(
                shipments.c.wave_id.in_(sa.select(waves.c.id).where(waves.c.number == wave))
            )
        if unchanged_since is not None:
            query = query.where(shipments.c.updated_at < unchanged_since)
        if cursor:
            (last,) = decode_int_cursor(cursor, 1)
            query = query.where(shipments.c.id < last)
        ids = list(self.connection.execute(query).scalars())
        more = len(ids) > limit
        ids = ids[:limit]
        return ShipmentPage(self.get_many(ids), encode_cursor(ids[-1]) if more else None)

    def open_in_wave(self, wave_id: int, product_id: ProductId) -> list[int]:
        """Shipments of a wave being picked with units of the product left to pick."""
        return list(
            self.connection.execute(
                _OPEN_IN_WAVE, {"wave_id": wave_id, "product_id": product_id}
            ).scalars()
        )

    def left_in_wave(self, wave_id: int) -> int:
        """Units still to pick in a wave's shipments being picked."""
        return int(self.connection.execute(_LEFT_IN_WAVE, {"wave_id": wave_id}).scalar_one())

    def due_at_pickup_points(self, now: datetime, limit: int) -> list[int]:
        """Shipments waiting at a pickup point past their storage deadline."""
        return list(
            self.connection.execute(
                sa.select(shipments.c.id)
                .where(
                    shipments.c.status == ShipmentStatus.READY_FOR_PICKUP.value,
                    shipments.c.storage_until.is_not(None),
                    shipments.c.storage_until <= now,
                )
                .order_by(shipments.c.storage_until)
                .limit(limit)
            ).scalars()
        )

    def with_carrier(self, carrier: str, limit: int, after_id: int = 0) -> list[int]:
        """Shipments a carrier holds and has not settled, for polling its tracking."""
        return list(
            self.connection.execute(
                sa.select(shipments.c.id)
                .where(
                    shipments.c.carrier == carrier,
                    shipments.c.id > after_id,
                    shipments.c.status.in_(
                        [
                            ShipmentStatus.HANDED_OVER.value,
                            ShipmentStatus.IN_TRANSIT.value,
                            ShipmentStatus.READY_FOR_PICKUP.value,
                            ShipmentStatus.FAILED_DELIVERY.value,
                            ShipmentStatus.RETURNING.value,
                        ]
                    ),
                )
                .order_by(shipments.c.id)
                .limit(limit)
            ).scalars()
        )

    def by_tracking(self, carrier: str, tracking_number: str) -> int | None:
        return self.connection.execute(
            _BY_TRACKING, {"carrier": carrier, "tracking_number": tracking_number}
        ).scalar_one_or_none()

    def order_id_of(self, shipment_id: int) -> int | None:
        """The order a shipment belongs to (one indexed read, nothing else loaded)."""
        return self.connection.execute(_ORDER_OF, {"id": shipment_id}).scalar_one_or_none()


_ORDER_OF = sa.select(shipments.c.order_id).where(shipments.c.id == sa.bindparam("id"))
_WAVE = (
    sa.select(waves, warehouses.c.code.label("warehouse_code"))
    .join(warehouses, warehouses.c.id == waves.c.warehouse_id)
    .where(waves.c.number == sa.bindparam("number"))
)
_WAVE_LOCKED = _WAVE.with_for_update(of=waves)
_WAVE_MEMBERS = (
    sa.select(shipments.c.id).where(shipments.c.wave_id == _WAVE_ID).order_by(shipments.c.id)
)


class WaveRepository:
    def __init__(self, connection: sa.Connection, events: list[DomainEvent]) -> None:
        self.connection = connection
        self.events = events

    def add(self, wave: Wave) -> None:
        """Store a new wave; it gets its id and its number (W-000001)."""
        wave_id = self.connection.execute(
            sa.insert(waves)
            .values(**_wave_header(wave), number="~" + uuid.uuid4().hex[:30])
            .returning(waves.c.id)
        ).scalar_one()
        wave.id = wave_id
        wave.number = f"W-{wave_id:06d}"
        self.connection.execute(
            sa.update(waves).where(waves.c.id == wave_id).values(number=wave.number)
        )
        self.events.extend(wave.events)
        wave.events.clear()

    def save(self, wave: Wave) -> None:
        self.connection.execute(
            sa.update(waves).where(waves.c.id == wave.id).values(**_wave_header(wave))
        )
        self.events.extend(wave.events)
        wave.events.clear()

    def get(self, number: str, *, lock: bool = False) -> Wave | None:
        query = _WAVE_LOCKED if lock else _WAVE
        row = self.connection.execute(query, {"number": number}).first()
        if row is None:
            return None
        members = list(self.connection.execute(_WAVE_MEMBERS, {"wave_id": row.id}).scalars())
        return _wave(row, members)

    def list_page(
        self,
        *,
        warehouses_in: Sequence[str] | None,
        status: str | None,
        cursor: str | None,
        limit: int,
    ) -> WavePage:
        query = (
            sa.select(waves, warehouses.c.code.label("warehouse_code"))
            .join(warehouses, warehouses.c.id == waves.c.warehouse_id)
            .order_by(waves.c.id.desc())
            .limit(limit + 1)
        )
        if warehouses_in is not None:
            query = query.where(warehouses.c.code.in_(list(warehouses_in)))
        if status is not None:
            query = query.where(waves.c.status == status)
        if cursor:
            (last,) = decode_int_cursor(cursor, 1)
            query = query.where(waves.c.id < last)
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        members: dict[int, list[int]] = {r.id: [] for r in rows}
        if rows:
            for r in self.connection.execute(
                sa.select(shipments.c.id, shipments.c.wave_id)
                .where(shipments.c.wave_id.in_(list(members)))
                .order_by(shipments.c.id)
            ):
                members[r.wave_id].append(r.id)
        return WavePage(
            [_wave(r, members[r.id]) for r in rows], encode_cursor(rows[-1].id) if more else None
        )


# ---------------------------------------------------------------------- rows


def _header(s: Shipment) -> dict[str, Any]:
    return {
        "order_id": s.order_id,
        "seq": s.seq,
        "warehouse_id": s.warehouse_id,
        "parcel_group": s.parcel_group,
        "status": s.status.value,
        "wave_id": s.wave_id,
        "carrier": s.carrier,
        "planned_carrier": s.planned_carrier,
        "carrier_ref": s.carrier_ref,
        "tracking_number": s.tracking_number,
        "label": s.label,
        "tariff": s.tariff,
        "promised_on": s.promised_on,
        "eta_on": s.eta_on,
        "storage_until": s.storage_until,
        "handed_over_at": s.handed_over_at,
        "delivered_at": s.delivered_at,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _item(s: Shipment, i: ShipmentItem) -> dict[str, Any]:
    return {
        "shipment_id": s.id,
        "item_no": i.item_no,
        "line_no": i.line_no,
        "product_id": i.product_id,
        "stock_id": i.stock_id,
        "quantity": i.quantity,
        "picked": i.picked,
        "packed": i.packed,
        "serials": list(i.serials),
        "picked_serials": list(i.picked_serials),
    }


def _parcel(s: Shipment, p: Parcel) -> dict[str, Any]:
    return {
        "shipment_id": s.id,
        "parcel_no": p.parcel_no,
        "weight_g": p.weight_g,
        "length_mm": p.length_mm,
        "width_mm": p.width_mm,
        "height_mm": p.height_mm,
        "contents": {str(k): v for k, v in sorted(p.contents.items())},
        "packed_at": p.packed_at,
        "packed_by": p.packed_by[:255],
    }


def _code(s: Shipment, c: PackedCode) -> dict[str, Any]:
    return {
        "shipment_id": s.id,
        "parcel_no": c.parcel_no,
        "item_no": c.item_no,
        "kind": c.code.kind.value,
        "code_key": c.code.key,
        "value": c.code.value,
        "gtin": c.code.gtin,
        "active": True,
    }


def _step(s: Shipment, step: ShipmentStep) -> dict[str, Any]:
    return {
        "shipment_id": s.id,
        "occurred_at": step.occurred_at,
        "actor": step.actor[:255],
        "action": step.action,
        "from_status": step.from_status,
        "to_status": step.to_status,
        "reason": step.reason[:1000] if step.reason else None,
        "details": step.details,
    }


def _product_facts(row: Any) -> tuple[frozenset[UnitIdentifier], frozenset[str]]:
    barcodes = [row.barcode, *(row.barcodes or ())] if row.barcode else list(row.barcodes or ())
    return (
        parse_identifiers(row.unit_identifiers or ""),
        frozenset(g for g in map(gtin14, barcodes) if g is not None),
    )


def _item_from(r: Any) -> ShipmentItem:
    identifiers, gtins = _product_facts(r)
    return ShipmentItem(
        item_no=r.item_no,
        line_no=r.line_no,
        product_id=ProductId(r.product_id),
        sku=r.sku,
        stock_id=StockId(r.stock_id),
        quantity=r.quantity,
        lot=r.lot,
        picked=r.picked,
        packed=r.packed,
        serials=tuple(r.serials or ()),
        picked_serials=list(r.picked_serials or ()),
        name=r.name,
        identifiers=identifiers,
        gtins=gtins,
        location=r.location,
        zone=r.zone or "",
        pick_sequence=r.pick_sequence,
    )


def _shipment(
    row: Any, items: list[ShipmentItem], boxes: list[Parcel], codes: list[PackedCode]
) -> Shipment:
    return Shipment(
        id=row.id,
        order_id=OrderId(row.order_id),
        seq=row.seq,
        warehouse_id=WarehouseId(row.warehouse_id),
        warehouse_code=row.warehouse_code,
        status=ShipmentStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        parcel_group=row.parcel_group,
        wave_id=row.wave_id,
        wave=row.wave,
        items=items,
        parcels=boxes,
        codes=codes,
        carrier=row.carrier,
        planned_carrier=row.planned_carrier,
        carrier_ref=row.carrier_ref,
        tracking_number=row.tracking_number,
        label=row.label,
        tariff=row.tariff,
        promised_on=row.promised_on,
        eta_on=row.eta_on,
        storage_until=row.storage_until,
        delivered_at=row.delivered_at,
        handed_over_at=row.handed_over_at,
        version=row.version,
    )


def _wave_header(w: Wave) -> dict[str, Any]:
    return {
        "warehouse_id": w.warehouse_id,
        "status": w.status.value,
        "created_by": w.created_by[:255],
        "created_at": w.created_at,
        "updated_at": w.updated_at,
        "started_at": w.started_at,
        "finished_at": w.finished_at,
    }


def _wave(row: Any, members: list[int]) -> Wave:
    return Wave(
        id=row.id,
        number=row.number,
        warehouse_id=WarehouseId(row.warehouse_id),
        warehouse_code=row.warehouse_code,
        status=WaveStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
        started_at=row.started_at,
        finished_at=row.finished_at,
        shipment_ids=members,
    )
