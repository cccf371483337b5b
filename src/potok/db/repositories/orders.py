"""Orders and everything that hangs off them, written from the aggregate's recorded changes."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from potok.db.arrays import array_parameter
from potok.db.engine import is_sqlite
from potok.db.personal import NO_CONTACT, RecordOpener, contact_values
from potok.db.pg import Section, int_array
from potok.db.tables import (
    channels,
    lots,
    order_history,
    order_holds,
    order_lines,
    orders,
    products,
    reservations,
    serials,
    shipments,
    sourcing_decisions,
    stock,
    transfers,
    warehouses,
)
from potok.domain.errors import TransientConflict
from potok.domain.events import DomainEvent
from potok.domain.fulfilment.states import FulfilmentProgress
from potok.domain.kernel import (
    ChannelId,
    CustomerId,
    OrderId,
    ProductId,
    StockId,
    WarehouseId,
)
from potok.domain.orders import (
    Address,
    AllocationState,
    Contact,
    Delivery,
    DeliveryMethod,
    HistoryEntry,
    Hold,
    HoldState,
    HoldType,
    Order,
    OrderLine,
    OrderState,
    PaymentMethod,
    PaymentStatus,
    Reservation,
    ReservationStatus,
)
from potok.domain.orders.model import Changes, SourcingNote
from potok.domain.returns.states import ReturnProgress
from potok.security.data import DataProtector
from potok.services.ports import LapsedReservation
from potok.services.read_models import CustomerOrder

_BIGINTS = ARRAY(sa.BigInteger())

pickup_points = warehouses.alias("pickup_points")
ship_from_locations = warehouses.alias("ship_from_locations")

_INSERT_LINES = sa.insert(order_lines)
_INSERT_RESERVATIONS = sa.insert(reservations)
_INSERT_HOLDS = sa.insert(order_holds)
_INSERT_HISTORY = sa.insert(order_history)
_UPDATES: dict[tuple[str, ...], sa.Update] = {}


def _update_order(columns: tuple[str, ...]) -> sa.Update:
    """The order's row written afresh if its version still holds, built once per set of
    columns (building and caching a new statement on every save cost more than running
    it)."""
    statement = _UPDATES.get(columns)
    if statement is None:
        statement = (
            sa.update(orders)
            .where(
                orders.c.id == sa.bindparam("o_id"), orders.c.version == sa.bindparam("o_version")
            )
            .values({name: sa.bindparam(f"v_{name}") for name in columns})
        )
        _UPDATES[columns] = statement
    return statement


_UPDATE_RESERVATION = (  # a stored reservation, by its id
    sa.update(reservations)
    .where(reservations.c.id == sa.bindparam("r_id"))
    .values(
        status=sa.bindparam("r_status"),
        ended_at=sa.bindparam("r_ended_at"),
        quantity=sa.bindparam("r_quantity"),
        shipment_id=sa.bindparam("r_shipment_id"),
    )
)
_END_RESERVATION = (  # by what it is, not by id: one written earlier in the transaction has none
    sa.update(reservations)
    .where(
        reservations.c.order_id == sa.bindparam("o_id"),
        reservations.c.line_no == sa.bindparam("o_line"),
        reservations.c.stock_id == sa.bindparam("o_stock"),
        reservations.c.status == "open",
        reservations.c.shipment_id.is_(None),  # a shipment's own are changed by id
    )
    .values(
        status=sa.bindparam("new_status"),
        ended_at=sa.bindparam("o_ended_at"),
        quantity=sa.bindparam("o_quantity"),  # a reservation consumed in part ends smaller
    )
)


_HEADER = (
    sa.select(
        orders,
        channels.c.code.label("channel_code"),
        sa.func.coalesce(pickup_points.c.code, orders.c.carrier_point).label("pickup_point_code"),
        ship_from_locations.c.code.label("ship_from_code"),
    )
    .join(channels, channels.c.id == orders.c.channel_id)
    .outerjoin(pickup_points, pickup_points.c.id == orders.c.pickup_point_id)
    .outerjoin(ship_from_locations, ship_from_locations.c.id == orders.c.ship_from_id)
)
_UNSET = object()  # a column the row as read did not have


class PersonalDataNotRead(RuntimeError):
    """An order read with its personal data unopened was to be saved with its contact or
    address changed (a caller's mistake: it should have read the order whole)."""

    def __init__(self, order_id: int) -> None:
        super().__init__(
            f"order {order_id} was read without its personal data; its contact or address "
            "cannot be saved"
        )
        self.order_id = order_id


_CHUNK = 500  # orders per statement when many are read at once
# one order by id and its history, built once
_ONE = _HEADER.where(orders.c.id == sa.bindparam("order_id"))
_ONE_LOCKED = _ONE.with_for_update(of=orders)
_HISTORY = (
    sa.select(order_history)
    .where(order_history.c.order_id == sa.bindparam("order_id"))
    .order_by(order_history.c.id)
)


@dataclass(frozen=True, slots=True)
class _Reads:
    """What loading orders reads, each statement built once with the ids as one parameter
    (building a statement with an IN of a few hundred literals cost more than running it)."""

    headers: sa.Select[Any]
    headers_locked: sa.Select[Any]
    lines: sa.Select[Any]
    holds: sa.Select[Any]
    serials: sa.Select[Any]
    reservations: sa.Select[Any]


def _reads(among: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[bool]]) -> _Reads:
    """The loading statements with ``among(column)`` choosing the orders asked for."""
    headers = _HEADER.where(among(orders.c.id))
    return _Reads(
        headers=headers,
        headers_locked=headers.order_by(orders.c.id).with_for_update(of=orders),
        lines=sa.select(order_lines)
        .where(among(order_lines.c.order_id))
        .order_by(order_lines.c.order_id, order_lines.c.line_no),
        holds=sa.select(order_holds)
        .where(among(order_holds.c.order_id))
        .order_by(order_holds.c.order_id, order_holds.c.hold_no),
        serials=sa.select(
            serials.c.order_id, serials.c.line_no, serials.c.stock_id, serials.c.serial
        )
        .where(among(serials.c.order_id), serials.c.status == "reserved")
        .order_by(serials.c.id),
        reservations=sa.select(
            reservations, warehouses.c.code, products.c.sku, lots.c.number.label("lot")
        )
        .join(warehouses, warehouses.c.id == reservations.c.warehouse_id)
        .join(products, products.c.id == reservations.c.product_id)
        .join(stock, stock.c.id == reservations.c.stock_id)
        .outerjoin(lots, lots.c.id == stock.c.lot_id)
        .where(among(reservations.c.order_id))
        .order_by(reservations.c.id),
    )


# SQLite: the ids as one expanding parameter (a statement per count of ids, cached);
# PostgreSQL: as one array (``= ANY``), so each statement's text is always the same -
# the driver prepares it once and the server keeps its plan, where an IN of N
# parameters was a new statement for both whenever N changed
_EXPANDING = _reads(lambda column: column.in_(sa.bindparam("ids", expanding=True)))
_ARRAY = _reads(lambda column: column == sa.any_(array_parameter("ids")))  # db/arrays.py


class OrderRepository:
    def __init__(
        self,
        connection: sa.Connection,
        events: list[DomainEvent],
        staged: list[Section],
        protector: DataProtector,
    ) -> None:
        self.connection = connection
        self.events = events
        self.staged = staged
        self.protector = protector
        self.sqlite = is_sqlite(connection)
        # each loaded order's contact and address with their columns as stored (sealed):
        # a save that changed neither writes those back instead of sealing them afresh
        self._sealed: dict[int, tuple[Contact, Address | None, dict[str, Any]]] = {}
        # each loaded order's row as read (then as last written): a save writes only the
        # columns whose values differ from it, with the version that guards them all
        self._stored: dict[int, Mapping[str, Any]] = {}
        # the orders loaded with their personal data unopened (``get_many(personal=False)``)
        self._unopened: set[int] = set()

    # ------------------------------------------------------------------ intake

    def ids_by_external(
        self, channel_id: ChannelId, external_ids: Collection[str]
    ) -> dict[str, OrderId]:
        """The orders of a channel that have these external ids, by external id."""
        wanted = sorted(set(external_ids))
        found: dict[str, OrderId] = {}
        for start in range(0, len(wanted), _CHUNK):
            rows = self.connection.execute(
                sa.select(orders.c.external_id, orders.c.id).where(
                    orders.c.channel_id == channel_id,
                    orders.c.external_id.in_(wanted[start : start + _CHUNK]),
                )
            )
            found.update((row.external_id, OrderId(row.id)) for row in rows)
        return found

    def add(self, order: Order) -> None:
        """Write a new order with its lines, reservations, holds and history.

        The rows are staged and written with the commit (PostgreSQL: in the same statement
        as the outbox; SQLite: one statement per table), so a duplicate external id fails
        at commit, as a duplicate the use case is run again for; nothing in the
        transaction reads them back before.
        """
        changes = order.take_changes()
        header = {"id": order.id, "version": order.version, **_header(order, self.protector)}
        self.staged.extend(
            [
                (orders, [header]),
                (order_lines, [_line(order, li) for li in order.lines]),
                (reservations, [_reservation(order, r) for r in changes.new_reservations]),
                (order_holds, [_hold(order, h) for h in changes.new_holds]),
                (order_history, [_history(order, h) for h in changes.history]),
                (sourcing_decisions, [_decision(order, d) for d in changes.decisions]),
            ]
        )
        order.history.extend(changes.history)
        self.events.extend(changes.events)

    # ------------------------------------------------------------------ changes

    def save(self, order: Order) -> None:
        """Write what changed since the order was loaded; the version goes up by one."""
        changes = order.take_changes()
        if not changes:
            return
        row = self._row(order)
        values = self._changed(order, row)
        result = self.connection.execute(
            _update_order(tuple(values)),
            {"o_id": order.id, "o_version": order.version}
            | {f"v_{name}": value for name, value in values.items()},
        )
        if result.rowcount != 1:
            raise TransientConflict(detail=f"order {order.id} changed while it was being updated")
        order.version += 1
        self._stored[int(order.id or 0)] = row
        self._write_changes(order, changes)

    def save_many(self, many: Collection[Order]) -> None:
        """Save each order as :meth:`save` does, in a few statements for all of them: their
        rows in one UPDATE run for each (a version that no longer holds fails the whole
        lot), their history in one insert - on PostgreSQL staged, to travel with the
        commit's own statement (nothing read in the transaction after this may need it)."""
        saving = [(order, changes) for order in many if (changes := order.take_changes())]
        if not saving:
            return
        rows: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        written: list[dict[str, Any]] = []
        for order, _ in saving:
            row = self._row(order)
            written.append(row)
            values = self._changed(order, row)
            rows.setdefault(tuple(values), []).append(
                {"o_id": order.id, "o_version": order.version}
                | {f"v_{name}": value for name, value in values.items()}
            )
        for columns, parameters in rows.items():
            result = self.connection.execute(_update_order(columns), parameters)
            if result.rowcount != len(parameters):
                raise TransientConflict(detail="an order changed while it was being updated")
        history: list[dict[str, Any]] = []
        for (order, changes), row in zip(saving, written, strict=True):
            self._stored[int(order.id or 0)] = row
            order.version += 1
            history.extend(_history(order, h) for h in changes.history)
            order.history.extend(changes.history)
            self._write_changes(order, replace(changes, history=[]))
        if self.sqlite:
            self.connection.execute(_INSERT_HISTORY, history)
        else:
            self.staged.append((order_history, history))

    def _changed(self, order: Order, row: dict[str, Any]) -> dict[str, Any]:
        """Of the order's row as it is now, the columns to write: those whose values differ
        from the row as read (or last written) - the version always -, all of them for an
        order not read here. What is left out holds in the database as read: the version
        in the UPDATE's condition fails it if anyone wrote the row since."""
        stored = self._stored.get(int(order.id)) if order.id is not None else None
        if stored is None:
            return row
        # a row as read is a RowMapping, whose look-ups cost four times a dict's
        kept = stored if isinstance(stored, dict) else dict(stored)
        return {
            name: value
            for name, value in row.items()
            if name == "version" or kept.get(name, _UNSET) != value
        }

    def _row(self, order: Order) -> dict[str, Any]:
        """The order's row as it is now, its version one up."""
        return {
            **_header(order, self.protector, self._kept_personal(order)),
            "fulfilment": order.fulfilment.value,
            "returned": order.returned.value,
            "version": order.version + 1,
        }

    def _write_changes(self, order: Order, changes: Changes) -> None:
        """What hangs off the order's row: lines, reservations, holds, history, decisions."""
        if changes.lines_changed:
            self.connection.execute(
                sa.delete(order_lines).where(order_lines.c.order_id == order.id)
            )
            self.connection.execute(_INSERT_LINES, [_line(order, line) for line in order.lines])
        by_key = [r for r in changes.ended_reservations if r.id is None]
        if by_key:
            self.connection.execute(
                _END_RESERVATION,
                [
                    {
                        "o_id": order.id,
                        "o_line": r.line_no,
                        "o_stock": r.stock_id,
                        "new_status": r.status.value,
                        "o_ended_at": r.ended_at,
                        "o_quantity": r.quantity,
                    }
                    for r in by_key
                ],
            )
        stored = [r for r in changes.ended_reservations if r.id is not None]
        by_id = {id(r): r for r in [*stored, *changes.claimed, *changes.resized]}
        if by_id:
            self.connection.execute(
                _UPDATE_RESERVATION,
                [
                    {
                        "r_id": r.id,
                        "r_status": r.status.value,
                        "r_ended_at": r.ended_at,
                        "r_quantity": r.quantity,
                        "r_shipment_id": r.shipment_id,
                    }
                    for r in by_id.values()
                ],
            )
        if changes.expiry_changed:
            self.connection.execute(
                sa.update(reservations)
                .where(reservations.c.order_id == order.id, reservations.c.status == "open")
                .values(expires_at=order.payment_due_at)
            )
        for hold in changes.ended_holds:
            self.connection.execute(
                sa.update(order_holds)
                .where(order_holds.c.order_id == order.id, order_holds.c.hold_no == hold.hold_no)
                .values(
                    state=hold.state.value,
                    ended_at=hold.ended_at,
                    ended_by=hold.ended_by,
                    end_reason=hold.end_reason,
                )
            )
        self._write_children(order, changes)
        self.events.extend(changes.events)

    def _write_children(self, order: Order, changes: Changes) -> None:
        new_reservations, new_holds, history = (
            changes.new_reservations,
            changes.new_holds,
            changes.history,
        )
        if new_reservations:
            self.connection.execute(
                _INSERT_RESERVATIONS, [_reservation(order, r) for r in new_reservations]
            )
        if new_holds:
            self.connection.execute(_INSERT_HOLDS, [_hold(order, h) for h in new_holds])
        if history:
            self.connection.execute(_INSERT_HISTORY, [_history(order, h) for h in history])
            order.history.extend(history)
        if changes.decisions:
            self.connection.execute(
                sa.insert(sourcing_decisions), [_decision(order, d) for d in changes.decisions]
            )

    # ------------------------------------------------------------------ reading

    def get(self, order_id: int, *, lock: bool = False) -> Order | None:
        """The order with lines, holds and reservations (history is read separately)."""
        query = _ONE_LOCKED if lock else _ONE
        row = self.connection.execute(query, {"order_id": order_id}).first()
        if row is None:
            return None
        return self._load([row])[0]

    def get_many(
        self,
        order_ids: Collection[int],
        *,
        lock: bool = False,
        reservations: bool = True,
        personal: bool = True,
    ) -> list[Order]:
        """Many orders at once, in the order asked for (missing ones left out), each read
        as ``get`` reads it; a few statements per thousand orders instead of per order.
        ``lock`` locks them in id order. ``reservations=False`` leaves their reservations
        (and serials) unread, for a caller whose changes never touch them (a tag, a note,
        a priority): such an order must not be cancelled, confirmed or re-sourced.
        ``personal=False`` leaves the contact and the address's sealed lines unopened (the
        contact reads as empty, the address as its city, region and country), for a
        caller that neither reads nor changes them: saving such an order writes its sealed
        columns back as they were, and refuses (:class:`PersonalDataNotRead`) if its
        contact or address was changed."""
        wanted = list(dict.fromkeys(order_ids))
        found: dict[int, Order] = {}
        reads = self._reads
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            query = reads.headers_locked if lock else reads.headers
            rows = list(self.connection.execute(query, {"ids": self._ids(chunk)}))
            loaded = self._load(rows, reservations=reservations, personal=personal)
            found.update((o.id, o) for o in loaded if o.id is not None)
        return [found[i] for i in wanted if i in found]

    @property
    def _reads(self) -> _Reads:
        return _EXPANDING if self.sqlite else _ARRAY

    def _ids(self, ids: list[int]) -> list[int] | str:
        """The ids as the loading statements take them (see :data:`_ARRAY`)."""
        return ids if self.sqlite else int_array(ids)

    def _load(
        self, rows: list[Any], *, reservations: bool = True, personal: bool = True
    ) -> list[Order]:
        reads = self._reads
        ids = [row.id for row in rows]
        asked = {"ids": self._ids(ids)}
        lines: dict[int, list[OrderLine]] = {i: [] for i in ids}
        for r in self.connection.execute(reads.lines, asked):
            lines[r.order_id].append(
                OrderLine(
                    line_no=r.line_no,
                    product_id=ProductId(r.product_id),
                    sku=r.sku,
                    name=r.name,
                    quantity=r.quantity,
                    unit_price=r.unit_price,
                    vat_rate=r.vat_rate,
                )
            )
        holds: dict[int, list[Hold]] = {i: [] for i in ids}
        for r in self.connection.execute(reads.holds, asked):
            holds[r.order_id].append(
                Hold(
                    hold_no=r.hold_no,
                    type=HoldType(r.type),
                    state=HoldState(r.state),
                    reason=r.reason,
                    placed_at=r.placed_at,
                    placed_by=r.placed_by,
                    expires_at=r.expires_at,
                    ended_at=r.ended_at,
                    ended_by=r.ended_by,
                    end_reason=r.end_reason,
                )
            )
        kept: dict[int, list[Reservation]] = {i: [] for i in ids}
        if reservations:
            self._load_reservations(asked, kept)
        loaded = []
        for row in rows:
            protector = self.protector if personal else None
            order = _order(row, lines[row.id], holds[row.id], kept[row.id], protector)
            order.announced_status = order.status
            stored = {name: getattr(row, name) for name in NO_CONTACT}
            self._sealed[row.id] = (order.contact, order.delivery.address, stored)
            self._stored[row.id] = row._mapping
            if not personal:
                self._unopened.add(row.id)
            loaded.append(order)
        return loaded

    def _load_reservations(
        self, asked: Mapping[str, Any], kept: dict[int, list[Reservation]]
    ) -> None:
        """The orders' reservations, with the serials of their open ones, into ``kept``."""
        reads = self._reads
        held: dict[tuple[int, int, int], list[str]] = {}
        for s in self.connection.execute(reads.serials, asked):
            held.setdefault((s.order_id, s.line_no, s.stock_id), []).append(s.serial)
        for r in self.connection.execute(reads.reservations, asked):
            kept[r.order_id].append(
                Reservation(
                    id=r.id,
                    line_no=r.line_no,
                    stock_id=StockId(r.stock_id),
                    warehouse_id=WarehouseId(r.warehouse_id),
                    warehouse_code=r.code,
                    product_id=ProductId(r.product_id),
                    sku=r.sku,
                    quantity=r.quantity,
                    status=ReservationStatus(r.status),
                    created_at=r.created_at,
                    expires_at=r.expires_at,
                    ended_at=r.ended_at,
                    lot=r.lot,
                    serials=tuple(held.get((r.order_id, r.line_no, r.stock_id), ()))
                    if r.status == "open"
                    else (),
                    shipment_id=r.shipment_id,
                )
            )

    def _kept_personal(self, order: Order) -> dict[str, Any] | None:
        """The order's personal columns as loaded, if its contact and address are the same."""
        kept = self._sealed.get(int(order.id)) if order.id is not None else None
        if kept is None or kept[0] != order.contact or kept[1] != order.delivery.address:
            if order.id is not None and int(order.id) in self._unopened:
                # read with its personal data unopened: sealing what it holds now would
                # write empty lines over the customer's contact and address
                raise PersonalDataNotRead(order_id=int(order.id))
            return None
        return kept[2]

    def history(self, order_id: int) -> list[HistoryEntry]:
        return [
            HistoryEntry(
                occurred_at=r.occurred_at,
                actor=r.actor,
                action=r.action,
                reason=r.reason,
                from_status=r.from_status,
                to_status=r.to_status,
                details=r.details,
            )
            for r in self.connection.execute(_HISTORY, {"order_id": order_id})
        ]

    def list_for_customer(self, customer_id: int) -> list[CustomerOrder]:
        """The customer's orders, oldest first, with the personal data each carries."""
        rows = self.connection.execute(
            sa.select(orders, channels.c.code.label("channel_code"))
            .join(channels, channels.c.id == orders.c.channel_id)
            .where(orders.c.customer_id == customer_id)
            .order_by(orders.c.id)
        )
        return [self._customer_order(r, RecordOpener(self.protector)) for r in rows]

    @staticmethod
    def _customer_order(r: Any, open_: RecordOpener) -> CustomerOrder:
        """One order of a customer's; its data unavailable if sealed under a missing key."""
        name, phone, email = (
            open_(r.customer_name),
            open_(r.customer_phone),
            open_(r.customer_email),
        )
        postal, line1, line2 = (
            open_(r.address_postal_code),
            open_(r.address_line1),
            open_(r.address_line2),
        )
        return CustomerOrder(
            id=r.id,
            external_id=r.external_id,
            channel=r.channel_code,
            status=r.status,
            currency=r.currency,
            total=r.total,
            created_at=r.created_at,
            customer_name=name or "",
            customer_phone=phone,
            customer_email=email,
            delivery_method=r.delivery_method,
            address_country=r.address_country,
            address_region=r.address_region,
            address_city=r.address_city,
            address_postal_code=postal,
            address_line1=line1,
            address_line2=line2,
            comment=r.comment,
            personal_data=open_.personal_data,
            missing_key=open_.missing_key,
        )

    def anonymise_for_customer(self, customer_id: int, at: datetime) -> list[OrderId]:
        """Remove the personal data from every order of the customer; the orders, their
        lines and totals stay. Each order's version goes up, so that a change prepared
        from the data before fails rather than writing it back."""
        ids = [
            OrderId(i)
            for i in self.connection.execute(
                sa.select(orders.c.id)
                .where(orders.c.customer_id == customer_id)
                .order_by(orders.c.id)  # oldest first, as the export; and locked in that order
                .with_for_update()
            ).scalars()
        ]
        if ids:
            self.connection.execute(
                sa.update(orders)
                .where(orders.c.id.in_(ids))
                .values(**NO_CONTACT, version=orders.c.version + 1, updated_at=at)
            )
        return ids

    def backordered_for(
        self, product_ids: Collection[ProductId] | None, limit: int
    ) -> list[OrderId]:
        """Orders waiting for stock of any of these products (of anything, for None): most
        urgent, then oldest, first."""
        if product_ids is not None and not product_ids:
            return []
        waiting = (
            sa.select(orders.c.id, orders.c.priority, orders.c.created_at)
            .where(
                orders.c.allocation == AllocationState.BACKORDERED.value,
                orders.c.state != OrderState.CANCELLED.value,
            )
            .order_by(orders.c.priority.desc(), orders.c.created_at, orders.c.id)
            .limit(limit)
        )
        if product_ids is not None:
            wanted: sa.ColumnElement[bool]
            if is_sqlite(self.connection) or len(product_ids) <= 100:
                wanted = order_lines.c.product_id.in_(sorted(product_ids))
            else:  # a bulk upload's thousands of products as one array, not as many params
                wanted = order_lines.c.product_id == sa.any_(
                    sa.cast(sa.bindparam("product_ids", int_array(sorted(product_ids))), _BIGINTS)
                )
            waiting = waiting.where(
                sa.exists().where(order_lines.c.order_id == orders.c.id, wanted)
            )
        return [OrderId(r.id) for r in self.connection.execute(waiting)]

    def open_for_replan(
        self,
        channel_id: ChannelId | None,
        warehouse_id: WarehouseId | None,
        limit: int,
        *,
        placed_since: datetime | None = None,
    ) -> list[OrderId]:
        """Confirmed orders not on hold that are reserved (every reservation still open,
        nothing picked yet) or backordered, not released to a warehouse and with no transfer
        under way for them, for the batch optimiser: most urgent, then oldest, first.
        ``warehouse_id`` keeps the orders holding stock there; ``placed_since`` those placed
        since then (the held orders)."""
        on_hold = sa.exists().where(
            order_holds.c.order_id == orders.c.id,
            order_holds.c.state == HoldState.ACTIVE.value,
        )
        query = (
            sa.select(orders.c.id)
            .where(
                orders.c.state == OrderState.CONFIRMED.value,
                orders.c.allocation.in_(
                    [AllocationState.RESERVED.value, AllocationState.BACKORDERED.value]
                ),
                orders.c.fulfilment == FulfilmentProgress.NONE.value,
                ~on_hold,
                ~_released(),
            )
            .order_by(orders.c.priority.desc(), orders.c.created_at, orders.c.id)
            .limit(limit)
        )
        if placed_since is not None:
            query = query.where(orders.c.created_at >= placed_since)
        if channel_id is not None:
            query = query.where(orders.c.channel_id == channel_id)
        if warehouse_id is not None:
            query = query.where(
                sa.exists().where(
                    reservations.c.order_id == orders.c.id,
                    reservations.c.status == ReservationStatus.OPEN.value,
                    reservations.c.warehouse_id == warehouse_id,
                )
            )
        return [OrderId(r.id) for r in self.connection.execute(query)]

    def released_among(self, order_ids: Collection[int]) -> set[OrderId]:
        """Those of the orders released to a warehouse (a shipment not cancelled) or waiting
        for a transfer: a re-plan must not move them."""
        if not order_ids:
            return set()
        rows = self.connection.execute(
            sa.select(orders.c.id).where(orders.c.id.in_(sorted(order_ids)), _released())
        )
        return {OrderId(r.id) for r in rows}

    def due_for_payment(self, now: datetime, limit: int) -> list[OrderId]:
        """Unpaid orders whose payment deadline has passed."""
        rows = self.connection.execute(
            sa.select(orders.c.id)
            .where(
                orders.c.payment_due_at.is_not(None),
                orders.c.payment_due_at <= now,
                orders.c.state != OrderState.CANCELLED.value,
            )
            .order_by(orders.c.payment_due_at)
            .limit(limit)
        )
        return [OrderId(r.id) for r in rows]

    def holds_due(self, now: datetime, limit: int) -> list[tuple[OrderId, int]]:
        rows = self.connection.execute(
            sa.select(order_holds.c.order_id, order_holds.c.hold_no)
            .where(
                order_holds.c.state == HoldState.ACTIVE.value,
                order_holds.c.expires_at.is_not(None),
                order_holds.c.expires_at <= now,
            )
            .order_by(order_holds.c.expires_at)
            .limit(limit)
        )
        return [(OrderId(r.order_id), r.hold_no) for r in rows]

    def holding_at(self, warehouse_id: WarehouseId) -> list[OrderId]:
        """Orders with open reservations at a location: most urgent, then oldest, first."""
        rows = self.connection.execute(
            sa.select(orders.c.id)
            .where(
                sa.exists().where(
                    reservations.c.order_id == orders.c.id,
                    reservations.c.warehouse_id == warehouse_id,
                    reservations.c.status == ReservationStatus.OPEN.value,
                    reservations.c.shipment_id.is_(None),
                )
            )
            .order_by(orders.c.priority.desc(), orders.c.created_at, orders.c.id)
        )
        return [OrderId(r.id) for r in rows]

    def reservations_lapsed(self, now: datetime, limit: int) -> list[LapsedReservation]:
        """Open reservations kept longer than their location's reservation hours, oldest
        first, one per order and location."""
        limits = self.connection.execute(
            sa.select(warehouses.c.reservation_hours)
            .where(warehouses.c.reservation_hours.is_not(None))
            .distinct()
        ).scalars()
        found: list[tuple[datetime, LapsedReservation]] = []
        for hours in limits:
            rows = self.connection.execute(
                sa.select(
                    reservations.c.order_id,
                    reservations.c.warehouse_id,
                    warehouses.c.code,
                    sa.func.min(reservations.c.created_at).label("since"),
                )
                .join(warehouses, warehouses.c.id == reservations.c.warehouse_id)
                .where(
                    warehouses.c.reservation_hours == hours,
                    reservations.c.status == ReservationStatus.OPEN.value,
                    reservations.c.shipment_id.is_(None),  # being picked: not lapsing
                    reservations.c.created_at <= now - timedelta(hours=hours),
                )
                .group_by(reservations.c.order_id, reservations.c.warehouse_id, warehouses.c.code)
                .order_by(sa.func.min(reservations.c.created_at))
                .limit(limit)
            )
            found.extend(
                (
                    r.since,
                    LapsedReservation(
                        OrderId(r.order_id), WarehouseId(r.warehouse_id), r.code, hours
                    ),
                )
                for r in rows
            )
        found.sort(key=lambda pair: pair[0])
        return [lapsed for _, lapsed in found[:limit]]


def _line(order: Order, line: OrderLine) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "line_no": line.line_no,
        "product_id": line.product_id,
        "sku": line.sku,
        "name": line.name,
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "vat_rate": line.vat_rate,
        "total": line.total,
    }


def _reservation(order: Order, r: Reservation) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "line_no": r.line_no,
        "stock_id": r.stock_id,
        "warehouse_id": r.warehouse_id,
        "product_id": r.product_id,
        "quantity": r.quantity,
        "status": r.status.value,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "ended_at": r.ended_at,
        "shipment_id": r.shipment_id,
    }


def _hold(order: Order, h: Hold) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "hold_no": h.hold_no,
        "type": h.type.value,
        "state": h.state.value,
        "reason": h.reason,
        "placed_at": h.placed_at,
        "placed_by": h.placed_by,
        "expires_at": h.expires_at,
        "ended_at": h.ended_at,
        "ended_by": h.ended_by,
        "end_reason": h.end_reason,
    }


def _decision(order: Order, note: SourcingNote) -> dict[str, Any]:
    record = note.record
    return {
        "order_id": order.id,
        "decided_at": note.decided_at,
        "actor": note.actor[:255],
        "outcome": note.outcome,
        "trigger": note.trigger[:255],
        "warehouses": ",".join(note.warehouses)[:500],
        "total_cost": record.total_cost if note.outcome == "reserved" else None,
        "rules_version": record.rules_version[:120],
        "tariffs_version": record.tariffs_version[:40],
        "record": record.to_data(),
    }


def _history(order: Order, h: HistoryEntry) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "occurred_at": h.occurred_at,
        "actor": h.actor,
        "action": h.action,
        "reason": h.reason,
        "from_status": h.from_status,
        "to_status": h.to_status,
        "details": h.details,
    }


def _header(
    order: Order, protector: DataProtector, personal: dict[str, Any] | None = None
) -> dict[str, Any]:
    delivery = order.delivery
    address = delivery.address
    subtotal, vat_total, total = order.amounts()
    return {  # enums by `_value_`: `value` is slow on Python 3.11
        "channel_id": order.channel_id,
        "external_id": order.external_id,
        "state": order.state._value_,
        "allocation": order.allocation._value_,
        "payment_status": order.payment_status._value_,
        "payment_method": order.payment_method._value_ if order.payment_method else None,
        "status": order.status._value_,
        "currency": order.currency,
        "subtotal": subtotal,
        "delivery_price": delivery.price,
        "delivery_vat_rate": delivery.vat_rate,
        "vat_total": vat_total,
        "total": total,
        "customer_id": order.customer_id,
        # sealed, with their hashes (as stored, when the caller has them and they still hold)
        **(personal if personal is not None else contact_values(protector, order.contact, address)),
        "delivery_method": delivery.method._value_,
        "address_country": address.country if address else None,
        "address_region": address.region if address else None,
        "address_city": address.city if address else None,
        "pickup_point_id": delivery.pickup_point_id,
        "ship_from_id": order.ship_from,
        "carrier_point": delivery.pickup_point_code if delivery.pickup_point_id is None else None,
        "destination_latitude": delivery.latitude,
        "destination_longitude": delivery.longitude,
        "priority": order.priority,
        "promised_at": order.promised_at,
        "payment_due_at": order.payment_due_at,
        "comment": order.comment,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "confirmed_at": order.confirmed_at,
        "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason,
    }


def _order(
    row: Any,
    lines: list[OrderLine],
    holds: list[Hold],
    order_reservations: list[Reservation],
    protector: DataProtector | None,
) -> Order:
    """The order from its rows; with no ``protector`` its sealed values are left unopened
    (read as empty: ``get_many(personal=False)``)."""
    open_ = protector.decrypt if protector is not None else _unopened
    address = None
    if row.address_city is not None:
        address = Address(
            city=row.address_city,
            line1=open_(row.address_line1) or "",
            line2=open_(row.address_line2) or "",
            region=row.address_region or "",
            postal_code=open_(row.address_postal_code) or "",
            country=row.address_country or "",
            latitude=row.destination_latitude,
            longitude=row.destination_longitude,
        )
    return Order(
        id=OrderId(row.id),
        channel_id=ChannelId(row.channel_id),
        channel_code=row.channel_code,
        external_id=row.external_id,
        currency=row.currency,
        contact=Contact(
            open_(row.customer_name) or "",
            open_(row.customer_phone),
            open_(row.customer_email),
        ),
        delivery=Delivery(
            method=DeliveryMethod(row.delivery_method),
            address=address,
            pickup_point_id=WarehouseId(row.pickup_point_id) if row.pickup_point_id else None,
            pickup_point_code=row.pickup_point_code,
            price=row.delivery_price,
            vat_rate=row.delivery_vat_rate,
            latitude=row.destination_latitude,
            longitude=row.destination_longitude,
        ),
        lines=lines,
        state=OrderState(row.state),
        allocation=AllocationState(row.allocation),
        payment_status=PaymentStatus(row.payment_status),
        payment_method=PaymentMethod(row.payment_method) if row.payment_method else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        customer_id=CustomerId(row.customer_id) if row.customer_id else None,
        priority=row.priority,
        promised_at=row.promised_at,
        payment_due_at=row.payment_due_at,
        comment=row.comment,
        confirmed_at=row.confirmed_at,
        cancelled_at=row.cancelled_at,
        cancel_reason=row.cancel_reason,
        version=row.version,
        holds=holds,
        reservations=order_reservations,
        fulfilment=FulfilmentProgress(row.fulfilment),
        ship_from=WarehouseId(row.ship_from_id) if row.ship_from_id else None,
        ship_from_code=row.ship_from_code,
        returned=ReturnProgress(row.returned),
    )


def _unopened(_sealed: str | None) -> None:
    return None


def _released() -> sa.ColumnElement[bool]:
    """The order has a shipment (released to a warehouse, whatever came of it since, unless
    cancelled) or a transfer requested or under way for it."""
    shipped = sa.exists().where(
        shipments.c.order_id == orders.c.id, shipments.c.status != "cancelled"
    )
    travelling = sa.exists().where(
        transfers.c.order_id == orders.c.id, transfers.c.status.in_(["requested", "shipped"])
    )
    return sa.or_(shipped, travelling)
