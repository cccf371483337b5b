"""The sandbox's past year written in bulk: orders with their lines, history, consumed
reservations, sourcing decisions, shipments (items, steps, parcels), returns and the stock
ledger with its positions - rows as the use cases would have left them, a statement per
table and batch instead of a transaction per action (a year in seconds, not hours).

The ledger is written in time order with each position's running balance, so the stock
positions hold what the ledger sums to; the reports' read model is not written here but
rebuilt from these rows afterwards, as ``potok reports rebuild`` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from potok.db.bulk import insert_rows
from potok.db.personal import contact_values
from potok.db.tables import (
    channels,
    order_history,
    order_lines,
    orders,
    parcels,
    products,
    reservations,
    return_lines,
    returns,
    shipment_items,
    shipment_steps,
    shipments,
    sourcing_decisions,
    stock,
    stock_movements,
    warehouses,
)
from potok.domain.kernel import round_money, vat_included
from potok.domain.orders import Address, Contact
from potok.domain.sourcing.explanation import CandidateNote, ShipmentNote, SourcingRecord
from potok.sandbox.history import PastOrder, PastYear
from potok.security.data import DataProtector

BATCH = 2000
SANDBOX = "sandbox"
CARRIER = "sandbox"
PAID_BY = {"web": "online", "ozon": "marketplace", "app": "online", "pos": "in_store"}
DELIVERY_VAT = Decimal("22")


def _batches(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _insert(connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        insert_rows(connection, table, batch)


def _insert_ids(
    connection: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert and return the new rows' ids, in the rows' order."""
    ids: list[int] = []
    statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
    for batch in _batches(rows):
        ids.extend(connection.execute(statement, list(batch)).scalars())
    return ids


def write_year(engine: sa.Engine, protector: DataProtector, year: PastYear) -> list[int]:
    """Write the year in one transaction; returns the new orders' ids."""
    with engine.begin() as connection:
        return _write(connection, protector, year)


def _write(connection: sa.Connection, protector: DataProtector, year: PastYear) -> list[int]:
    ids = _ids(connection)
    stock_ids = _ledger(connection, ids, year)
    order_ids = _insert_ids(
        connection, orders, [_order_row(o, ids, protector) for o in year.orders]
    )
    lines, history, decisions, held, ship_rows = [], [], [], [], []
    for order_id, order in zip(order_ids, year.orders, strict=True):
        lines += [
            {
                "order_id": order_id,
                "line_no": n,
                "product_id": ids.products[line.sku],
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "vat_rate": line.vat_rate,
                "total": round_money(line.total),
            }
            for n, line in enumerate(order.lines, start=1)
        ]
        history += _history(order_id, order)
        decisions.append(_decision(order_id, order, ids.sites))
        if order.handed_over_at is not None:
            ship_rows.append(_shipment_row(order_id, order, ids))
            held.append((order_id, order))
    _insert(connection, order_lines, lines)
    _insert(connection, order_history, history)
    _insert(connection, sourcing_decisions, decisions)
    shipment_ids = _insert_ids(connection, shipments, ship_rows)
    items, steps, boxes, reserved = [], [], [], []
    for shipment_id, (order_id, order) in zip(shipment_ids, held, strict=True):
        warehouse_id = ids.warehouses[order.warehouse]
        for n, line in enumerate(order.lines, start=1):
            product_id = ids.products[line.sku]
            stock_id = stock_ids[order.warehouse, line.sku]
            items.append(
                {
                    "shipment_id": shipment_id,
                    "item_no": n,
                    "line_no": n,
                    "product_id": product_id,
                    "stock_id": stock_id,
                    "quantity": line.quantity,
                    "picked": line.quantity,
                    "packed": line.quantity,
                    "serials": [],
                    "picked_serials": [],
                }
            )
            reserved.append(
                {
                    "order_id": order_id,
                    "line_no": n,
                    "stock_id": stock_id,
                    "warehouse_id": warehouse_id,
                    "product_id": product_id,
                    "quantity": line.quantity,
                    "status": "consumed",
                    "created_at": order.created_at,
                    "expires_at": None,
                    "ended_at": order.handed_over_at,
                    "shipment_id": shipment_id,
                }
            )
        steps += _steps(shipment_id, order)
        boxes.append(_parcel(shipment_id, order))
    _insert(connection, shipment_items, items)
    _insert(connection, reservations, reserved)
    _insert(connection, shipment_steps, steps)
    _insert(connection, parcels, boxes)
    _returns(connection, ids, order_ids, year.orders)
    return order_ids


@dataclass(frozen=True, slots=True)
class _Ids:
    channels: dict[str, int]
    warehouses: dict[str, int]
    products: dict[str, int]
    sites: dict[str, tuple[str, str]]  # warehouse code: its city and kind


def _ids(connection: sa.Connection) -> _Ids:
    def of(table: sa.Table, key: str) -> dict[str, int]:
        return {k: int(i) for k, i in connection.execute(sa.select(table.c[key], table.c.id))}

    sites = {
        code: (city, kind)
        for code, city, kind in connection.execute(
            sa.select(warehouses.c.code, warehouses.c.city, warehouses.c.type)
        )
    }
    return _Ids(of(channels, "code"), of(warehouses, "code"), of(products, "sku"), sites)


def _ledger(connection: sa.Connection, ids: _Ids, year: PastYear) -> dict[tuple[str, str], int]:
    """The positions with what the ledger leaves on hand, then the ledger itself in time
    order, each move with its position's balance after it; returns the positions' ids."""
    closing = year.closing()
    first: dict[tuple[str, str], datetime] = {}
    last: dict[tuple[str, str], datetime] = {}
    for move in year.moves:
        key = (move.warehouse, move.sku)
        first.setdefault(key, move.at)
        last[key] = move.at
    keys = sorted(closing)
    stock_ids = _insert_ids(
        connection,
        stock,
        [
            {
                "warehouse_id": ids.warehouses[w],
                "product_id": ids.products[s],
                "lot_id": None,
                "location_id": None,
                "on_hand": closing[w, s],
                "reserved": 0,
                "unavailable": 0,
                "received_at": first[w, s],
                "updated_at": last[w, s],
            }
            for w, s in keys
        ],
    )
    by_key = dict(zip(keys, stock_ids, strict=True))
    balance: dict[tuple[str, str], int] = defaultdict(int)
    rows = []
    for move in year.moves:
        key = (move.warehouse, move.sku)
        balance[key] += move.quantity
        rows.append(
            {
                "stock_id": by_key[key],
                "warehouse_id": ids.warehouses[move.warehouse],
                "product_id": ids.products[move.sku],
                "lot_id": None,
                "type": move.type,
                "quantity": move.quantity,
                "on_hand_after": balance[key],
                "unavailable_change": move.unavailable_change,
                "reason": move.reason,
                "reference": move.reference,
                "actor": SANDBOX,
                "occurred_at": move.at,
            }
        )
    _insert(connection, stock_movements, rows)
    return by_key


def _status(order: PastOrder) -> tuple[str, str, str]:
    """The order's status, its fulfilment and its returned roll-ups."""
    if order.cancelled_at is not None:
        return "cancelled", "none", "none"
    if order.returned is not None:
        whole = len(order.lines) == 1 and order.lines[0].quantity == 1
        return (
            ("returned", "delivered", "all")
            if whole
            else (
                "partially_returned",
                "delivered",
                "partial",
            )
        )
    return "delivered", "delivered", "none"


def _order_row(order: PastOrder, ids: _Ids, protector: DataProtector) -> dict[str, Any]:
    status, fulfilment, returned = _status(order)
    name, phone, email = order.customer
    address = None
    if order.city is not None:
        city, region, lat, lon, street = order.city
        address = Address(
            city=city,
            line1=street,
            region=region,
            postal_code="",
            latitude=lat,
            longitude=lon,
        )
    subtotal = round_money(order.subtotal)
    lines_vat = sum(
        (vat_included(round_money(line.total), line.vat_rate) for line in order.lines),
        Decimal("0.00"),
    )
    vat_total = lines_vat + vat_included(order.delivery_price, DELIVERY_VAT)
    point = ids.warehouses[order.pickup_point] if order.pickup_point else None
    return {
        "channel_id": ids.channels[order.channel],
        "external_id": order.external_id,
        "state": "cancelled" if order.cancelled_at is not None else "confirmed",
        "allocation": "reserved" if order.cancelled_at is None else "unallocated",
        "payment_status": "paid",
        "payment_method": PAID_BY[order.channel],
        "status": status,
        "fulfilment": fulfilment,
        "returned": returned,
        "currency": "RUB",
        "subtotal": subtotal,
        "delivery_price": order.delivery_price,
        "delivery_vat_rate": DELIVERY_VAT,
        "vat_total": vat_total,
        "total": subtotal + order.delivery_price,
        "customer_id": None,
        **contact_values(protector, Contact(name, phone, email), address),
        "delivery_method": "courier" if address is not None else "pickup",
        "address_country": "RU" if address is not None else None,
        "address_region": address.region if address is not None else None,
        "address_city": address.city if address is not None else None,
        "pickup_point_id": point,
        "ship_from_id": None,
        "carrier_point": None,
        "destination_latitude": address.latitude if address is not None else None,
        "destination_longitude": address.longitude if address is not None else None,
        "priority": 0,
        "promised_at": order.promised_at,
        "payment_due_at": None,
        "comment": "",
        "version": 1,
        "created_at": order.created_at,
        "updated_at": _last_change(order),
        "confirmed_at": order.confirmed_at,
        "cancelled_at": order.cancelled_at,
        "cancel_reason": order.cancel_reason,
    }


def _last_change(order: PastOrder) -> datetime:
    moments = [order.created_at, order.confirmed_at, order.cancelled_at, order.delivered_at]
    if order.returned is not None:
        moments.append(order.returned.closed_at)
    return max(m for m in moments if m is not None)


def _history(order_id: int, order: PastOrder) -> list[dict[str, Any]]:
    """The order's history as the use cases write it: created, confirmed, reserved, then
    each change of its status."""
    actor = f"{order.channel}-integration"
    entries: list[tuple[Any, ...]] = [
        (order.created_at, actor, "created", None, None, "new", {}),
        (order.confirmed_at, SANDBOX, "confirmed", None, "new", "confirmed", {}),
        (order.confirmed_at, "system", "reserved", f"from {order.warehouse}", "confirmed",
         "reserved", {})
    ]  # fmt: skip
    if order.cancelled_at is not None:
        entries.append(
            (order.cancelled_at, SANDBOX, "cancelled", order.cancel_reason, "reserved",
             "cancelled", {})
        )  # fmt: skip
    else:
        entries += [
            (order.picked_at, order.picker, "status_changed", None, "reserved",
             "in_fulfilment", {}),
            (order.handed_over_at, "upakovka", "status_changed", None, "in_fulfilment",
             "shipped", {}),
            (order.delivered_at, "system", "status_changed", None, "shipped", "delivered", {}),
        ]  # fmt: skip
        if order.returned is not None:
            entries.append(
                (order.returned.received_at, "sidorova", "status_changed", None, "delivered",
                 _status(order)[0], {})
            )  # fmt: skip
    return [
        {
            "order_id": order_id,
            "occurred_at": at,
            "actor": who,
            "action": action,
            "reason": reason,
            "from_status": before,
            "to_status": after,
            "details": details,
        }
        for at, who, action, reason, before, after, details in entries
    ]


def _decision(order_id: int, order: PastOrder, sites: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The sourcing decision intake recorded: the one warehouse that held every line."""
    code = order.warehouse
    city, kind = sites[code]
    cost = order.shipping_estimate or Decimal("0.00")
    days = (order.promised_at.date() - order.created_at.date()).days
    units = sum(line.quantity for line in order.lines)
    lines = len(order.lines)
    order_type = (
        "marketplace" if order.channel == "ozon" else "pickup" if order.pickup_point else "courier"
    )
    record = SourcingRecord(
        "sandbox",
        "sandbox",
        order.confirmed_at.date(),
        order_type,
        False,
        order.promised_at.date(),
        (
            CandidateNote(
                code,
                city,
                kind,
                None,
                None,
                True,
                float(cost),
                days,
                float(cost),
                (),
                True,
                False,
                f"{lines} of {lines} lines",
            ),
        ),
        (ShipmentNote(code, cost, days, round(0.4 * units + 0.3, 1), units, "region"),),
        cost,
        days,
        True,
        f"{code} ships the whole order ({city}): every line in stock there",
    )
    return {
        "order_id": order_id,
        "decided_at": order.confirmed_at,
        "actor": "system",
        "outcome": "reserved",
        "trigger": "intake",
        "warehouses": code,
        "total_cost": cost,
        "rules_version": record.rules_version,
        "tariffs_version": record.tariffs_version,
        "record": record.to_data(),
    }


def _shipment_row(order_id: int, order: PastOrder, ids: _Ids) -> dict[str, Any]:
    store = order.channel == "pos"
    return {
        "order_id": order_id,
        "seq": 1,
        "warehouse_id": ids.warehouses[order.warehouse],
        "parcel_group": order.parcel_group,
        "status": "delivered",
        "wave_id": None,
        "carrier": None if store else CARRIER,
        "planned_carrier": None if store else CARRIER,
        "carrier_ref": None,
        "tracking_number": None if store else f"SBX{order_id:09d}",
        "label": None,
        "tariff": None,
        "promised_on": order.promised_at.date(),
        "eta_on": None,
        "storage_until": None,
        "handed_over_at": order.handed_over_at,
        "delivered_at": order.delivered_at,
        "version": 6,
        "created_at": order.confirmed_at,
        "updated_at": order.delivered_at,
    }


def _steps(shipment_id: int, order: PastOrder) -> list[dict[str, Any]]:
    if order.picked_at is None:
        return []  # cancelled before picking: no shipment, no steps
    started = order.picked_at - timedelta(minutes=5)
    units = sum(line.quantity for line in order.lines)
    steps = [
        (order.confirmed_at, "system", "created", None, "pending", {}),
        (started, order.picker, "picking_started", "pending", "picking", {}),
        *(
            (order.picked_at, order.picker, "picked", "picking", "picking",
             {"sku": line.sku, "quantity": line.quantity})
            for line in order.lines
        ),
        (order.packed_at, "upakovka", "parcel_packed", "picking", "picking",
         {"parcel_no": 1, "units": units, "codes": 0}),
        (order.packed_at, "upakovka", "packed", "picking", "packed", {}),
    ]  # fmt: skip
    if order.shipping_cost is not None:
        steps.append(
            (order.handed_over_at, "upakovka", "booked", "packed", "packed",
             {"carrier": CARRIER, "price": str(order.shipping_cost)})
        )  # fmt: skip
    steps += [
        (order.handed_over_at, "upakovka", "handed_over", "packed", "handed_over", {}),
        (order.delivered_at, "system", "delivered", "handed_over", "delivered", {}),
    ]
    return [
        {
            "shipment_id": shipment_id,
            "occurred_at": at,
            "actor": who,
            "action": action,
            "from_status": before,
            "to_status": after,
            "reason": None,
            "details": details,
        }
        for at, who, action, before, after, details in steps
    ]


def _parcel(shipment_id: int, order: PastOrder) -> dict[str, Any]:
    assert order.packed_at is not None
    units = sum(line.quantity for line in order.lines)
    return {
        "shipment_id": shipment_id,
        "parcel_no": 1,
        "weight_g": 300 + 400 * units,
        "length_mm": 400,
        "width_mm": 300,
        "height_mm": 200,
        "contents": {str(n): line.quantity for n, line in enumerate(order.lines, start=1)},
        "packed_at": order.packed_at,
        "packed_by": "upakovka",
    }


def _returns(
    connection: sa.Connection,
    ids: _Ids,
    order_ids: list[int],
    orders_: list[PastOrder],
) -> None:
    """Each returned unit's return: asked for, received, put back on the shelf, refunded,
    closed; numbered as the returns' repository numbers them (RT- and the id)."""
    made = [(i, o) for i, o in zip(order_ids, orders_, strict=True) if o.returned is not None]
    if not made:
        return
    rows = []
    for order_id, order in made:
        back = order.returned
        assert back is not None
        line = order.lines[0]
        rows.append(
            {
                "number": f"RT-H{order_id:09d}",
                "order_id": order_id,
                "source": "customer",
                "status": "closed",
                "currency": "RUB",
                "shipment_id": None,
                "warehouse_id": ids.warehouses[order.warehouse],
                "refund_amount": line.unit_price,
                "refund_shipping": Decimal("0.00"),
                "refund_status": "paid",
                "refund_paid_at": back.closed_at,
                "comment": "",
                "exchange_order_id": None,
                "created_by": "sidorova",
                "received_at": back.received_at,
                "inspected_at": back.closed_at,
                "closed_at": back.closed_at,
                "version": 5,
                "created_at": back.requested_at,
                "updated_at": back.closed_at,
            }
        )
    return_ids = _insert_ids(connection, returns, rows)
    connection.execute(
        returns.update().where(returns.c.id == sa.bindparam("r_id")),
        [{"r_id": r, "number": f"RT-{r:06d}"} for r in return_ids],
    )
    _insert(
        connection,
        return_lines,
        [
            {
                "return_id": return_id,
                "line_no": 1,
                "order_line_no": 1,
                "product_id": ids.products[order.lines[0].sku],
                "lot_id": None,
                "quantity": 1,
                "unit_price": order.lines[0].unit_price,
                "vat_rate": order.lines[0].vat_rate,
                "reason": order.returned.reason if order.returned else "",
                "note": "",
                "units": [],
                "received": 1,
                "restocked": 1,
                "kept_unavailable": 0,
                "written_off": 0,
            }
            for return_id, (_, order) in zip(return_ids, made, strict=True)
        ],
    )
