"""What intake reads before it decides, in one go.

On PostgreSQL the channel, the products, a fresh order id (or the duplicate's id), the
customer (found, or a fresh id for a new one), the pickup point and the stock candidates
come from one statement: one round trip instead of six, and little work for the driver.
The statement writes nothing (a new customer is written with the order's rows, at the
commit), so when it opens the unit of work it runs outside any transaction: an order is
then two statements in all, this read and the commit's. On SQLite, in process, the same
reads run one after another through the ordinary repositories.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from potok import timing
from potok.db import lite
from potok.db.engine import is_sqlite
from potok.db.network_cache import Network, NetworkCache
from potok.db.personal import customer_values, open_json
from potok.db.pg import (
    Section,
    driver,
    execute_raw,
    int_array,
    numbered,
    outside_transaction,
    text_array,
)
from potok.db.repositories.catalogue import _product
from potok.db.repositories.customers import CustomerRepository
from potok.db.repositories.idempotency import IdempotencyKeys
from potok.db.repositories.orders import OrderRepository
from potok.db.repositories.stock import sellable_from
from potok.db.tables import customers as customer_rows
from potok.db.tables import products as product_rows
from potok.domain.catalogue import Product
from potok.domain.channels import Channel
from potok.domain.errors import TransientConflict
from potok.domain.fulfilment.identifiers import parse_identifiers
from potok.domain.kernel import CustomerId, OrderId, RemovalStrategy, Tracking
from potok.domain.sourcing import Candidate, Position
from potok.services.ports import IntakeContext, StoredAnswer

PG_ID_SEQUENCES = {"orders": "orders_id_seq", "customers": "customers_id_seq"}
"""The identity sequences the snapshot draws from, named in its text: a name is resolved once
when the statement is prepared, where ``pg_get_serial_sequence`` looked it up in the catalogue
on every order (``tests/integration/test_intake_prepared.py`` checks the names)."""

_PG_SNAPSHOT = numbered(
    """
    WITH p AS MATERIALIZED (SELECT * FROM products WHERE sku = ANY(CAST(%(skus)s AS text[]))),
    found AS (
        SELECT id FROM customers
         WHERE %(with_customer)s
           AND (phone_hash = %(phone_hash)s OR email_hash = %(email_hash)s)
         ORDER BY (phone_hash = %(phone_hash)s) DESC NULLS LAST, id
         LIMIT 1
    )
    SELECT
        (SELECT token FROM reference_versions WHERE name = 'network') AS network,
        (SELECT json_agg(p)::text FROM p) AS products,
        (SELECT o.id FROM orders o
          WHERE o.channel_id = %(channel_id)s AND o.external_id = %(external_id)s) AS existing,
        nextval('{orders}') AS fresh,
        (SELECT id FROM found) AS customer_id,
        CASE WHEN %(with_customer)s AND NOT EXISTS (SELECT 1 FROM found)
             THEN nextval('{customers}') END AS new_customer_id,
        (SELECT json_agg(json_build_array(s.id, s.warehouse_id, s.product_id,
                                          s.on_hand - s.reserved - s.unavailable,
                                          s.lot_id, l.number, l.expires_on, s.received_at,
                                          p.removal_strategy, p.tracking))::text
           FROM stock s
           JOIN p ON p.id = s.product_id
           LEFT JOIN lots l ON l.id = s.lot_id
          WHERE s.warehouse_id = ANY(CAST(%(warehouses)s AS bigint[]))
            AND s.on_hand > s.reserved + s.unavailable
            AND (l.expires_on IS NULL OR l.expires_on >= CAST(%(sell_until)s AS date))
        ) AS positions,
        (SELECT json_build_array(k.request_hash, k.status_code, k.response)::text
           FROM idempotency_keys k
          WHERE k.scope = %(idempotency_scope)s AND k.key = %(idempotency_key)s) AS stored
""".replace("{orders}", PG_ID_SEQUENCES["orders"]).replace(
        "{customers}", PG_ID_SEQUENCES["customers"]
    )
)


_SQLITE_SNAPSHOT = """
    WITH p AS MATERIALIZED (
        SELECT * FROM products WHERE sku IN (SELECT value FROM json_each(:skus))
    ),
    found AS (
        SELECT id FROM customers
         WHERE :with_customer
           AND (phone_hash = :phone_hash OR email_hash = :email_hash)
         ORDER BY CASE WHEN phone_hash = :phone_hash THEN 0 ELSE 1 END, id
         LIMIT 1
    )
    SELECT
        (SELECT token FROM reference_versions WHERE name = 'network') AS network,
        (SELECT json_group_array(json_array({product_columns})) FROM p) AS products,
        (SELECT o.id FROM orders o
          WHERE o.channel_id = :channel_id AND o.external_id = :external_id) AS existing,
        (SELECT coalesce(max(id), 0) + 1 FROM orders) AS fresh,
        (SELECT id FROM found) AS customer_id,
        CASE WHEN :with_customer AND NOT EXISTS (SELECT 1 FROM found)
             THEN (SELECT coalesce(max(id), 0) + 1 FROM customers) END AS new_customer_id,
        (SELECT json_group_array(json_array(s.id, s.warehouse_id, s.product_id,
                                            s.on_hand - s.reserved - s.unavailable,
                                            s.lot_id, l.number, l.expires_on, s.received_at,
                                            p.removal_strategy, p.tracking))
           FROM p CROSS JOIN stock s  -- the order's few products first, then their stock
           LEFT JOIN lots l ON l.id = s.lot_id
          WHERE s.product_id = p.id
            AND s.warehouse_id IN (SELECT value FROM json_each(:warehouses))
            AND s.on_hand > s.reserved + s.unavailable
            AND (l.expires_on IS NULL OR l.expires_on >= :sell_until)
        ) AS positions,
        (SELECT json_array(k.request_hash, k.status_code, json(k.response))
           FROM idempotency_keys k
          WHERE k.scope = :idempotency_scope AND k."key" = :idempotency_key) AS stored
""".replace("{product_columns}", ", ".join(f'"{c.name}"' for c in product_rows.c))


class _Row(dict[str, Any]):
    """A product row read back from SQLite's JSON, with attribute access like a result row."""

    def __getattr__(self, name: str) -> Any:
        return self[name]


def _sqlite_products(text: str | None, dialect: Dialect) -> list[_Row]:
    """Products from SQLite's arrays of their columns (as stored), each value read by its
    column's own SQLAlchemy processor, as a select through SQLAlchemy would read it."""
    names, readers = _product_readers(dialect)
    return [
        _Row(
            {
                name: value if read is None else read(value)
                for name, read, value in zip(names, readers, values, strict=True)
            }
        )
        for values in json.loads(text or "[]")
    ]


@functools.cache
def _product_readers(dialect: Dialect) -> tuple[list[str], list[Any]]:
    return [c.name for c in product_rows.c], [
        c.type._cached_result_processor(dialect, None) for c in product_rows.c
    ]


def _candidates(text: str | None, network: Network) -> tuple[list[Candidate], list[Position]]:
    """Candidates (from the network copy) and positions from [stock id, warehouse id,
    product id, available, lot id, lot, expires on, received at, product's removal
    strategy, product's tracking] arrays."""
    made = network.candidates
    candidates: dict[int, Candidate] = {}
    removal_by: dict[int, str] = {}  # each warehouse's own removal strategy
    positions: list[Position] = []
    add = positions.append
    for sid, wid, pid, available, lot_id, lot, expires, received, removal, tracking in json.loads(
        text or "[]"
    ):
        if wid not in candidates:
            candidates[wid], removal_by[wid] = made[wid]
        add(
            Position(
                sid,
                wid,
                pid,
                available,
                lot_id,
                lot,
                date.fromisoformat(expires) if expires else None,
                _utc(datetime.fromisoformat(received)) if received else None,
                removal or removal_by[wid],
                tracking == "serial",
            )
        )
    return list(candidates.values()), positions


def _json_products(text: str | None) -> dict[str, Product]:
    """The order's products from the snapshot's JSON rows (every column of the table), by
    SKU: the same products as :func:`~potok.db.repositories.catalogue._product` makes of
    the table's rows, without a row object in between."""
    if text is None:
        return {}
    data = json.loads(text, parse_float=Decimal)
    found: dict[str, Product] = {}
    for item in data if isinstance(data, list) else [data]:
        created, updated = item["created_at"], item["updated_at"]
        removal = item["removal_strategy"]
        product = Product(
            item["id"],
            item["sku"],
            item["name"],
            item["price"],
            item["vat_rate"],
            item["barcode"],
            item["weight_g"],
            item["active"],
            datetime.fromisoformat(created) if isinstance(created, str) else created,
            datetime.fromisoformat(updated) if isinstance(updated, str) else updated,
            _TRACKING.get(item["tracking"]) or Tracking(item["tracking"]),
            _REMOVAL.get(removal) or RemovalStrategy(removal) if removal else None,
            tuple(item["barcodes"] or ()),
            parse_identifiers(item["unit_identifiers"] or ""),
            item["parcel_group"] or "",
            item.get("category"),
            item["length_mm"],
            item["width_mm"],
            item["height_mm"],
        )
        found[product.sku] = product
    return found


_TRACKING = {t.value: t for t in Tracking}
_REMOVAL = {r.value: r for r in RemovalStrategy}


def _utc(moment: datetime) -> datetime:
    """SQLite keeps UTC times without their zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _replay(stored: StoredAnswer) -> IntakeContext:
    """What intake needs to answer a request sent again: only the first answer."""
    return IntakeContext(None, {}, None, OrderId(0), None, None, [], [], stored_answer=stored)


class IntakeReads:
    def __init__(
        self,
        connection: sa.Connection,
        orders: OrderRepository,
        customers: CustomerRepository,
        network: NetworkCache,
        idempotency: IdempotencyKeys,
        staged: list[Section],
    ) -> None:
        self.connection = connection
        self.staged = staged  # rows written with the commit (PostgreSQL)
        self.orders = orders
        self.customers = customers
        self.network = network
        self.idempotency = idempotency

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
    ) -> IntakeContext:
        """``customer`` is (name, phone, email): found by the phone's or the e-mail's keyed
        hash, else added with its data sealed. ``idempotency`` is (scope, key): the answer
        kept under it, if any, comes back as ``stored_answer`` (read in the same round trip
        on PostgreSQL)."""
        if is_sqlite(self.connection):
            return self._load_sqlite(
                channel, skus, external_id, customer, pickup_point, at, idempotency
            )
        return self._load_pipelined(
            channel, skus, external_id, customer, pickup_point, at, idempotency
        )

    def _load_sqlite(
        self,
        channel_code: str,
        skus: Collection[str],
        external_id: str | None,
        customer: tuple[str, str | None, str | None] | None,
        pickup_code: str | None,
        at: datetime,
        idempotency: tuple[str, str] | None,
    ) -> IntakeContext:
        """SQLite: the same reads in one statement (JSON1), on the sqlite3 connection
        inside the unit of work's write transaction (nothing can change under it)."""
        phone, email = (customer[1], customer[2]) if customer is not None else (None, None)
        protector = self.customers.protector
        network = self.network.current(self.connection)
        cursor = lite.raw(self.connection).cursor()
        try:
            for _ in range(2):
                channel = network.channels.get(channel_code)
                cursor.execute(
                    _SQLITE_SNAPSHOT,
                    {
                        "skus": json.dumps(sorted(set(skus))),
                        "channel_id": channel.id if channel else None,
                        "external_id": external_id,
                        "warehouses": json.dumps(
                            network.serving.get(channel.id, []) if channel else []
                        ),
                        "with_customer": customer is not None,
                        "sell_until": sellable_from(
                            at.astimezone(UTC).date(),
                            channel.min_shelf_life_days if channel else 0,
                        ).isoformat(),
                        "phone_hash": protector.index(phone),
                        "email_hash": protector.index(email),
                        "idempotency_scope": idempotency[0] if idempotency else None,
                        "idempotency_key": idempotency[1] if idempotency else None,
                    },
                )
                row = cursor.fetchone()
                if row[0] == network.token:
                    break
                network = self.network.reload(self.connection)  # changed: read again
            else:  # cannot happen: the write transaction holds the database
                raise TransientConflict(detail="the network changed while an order was taken")
        finally:
            cursor.close()
        return self._context(row, channel, network, customer, pickup_code, at, sqlite=True)

    def _load_pipelined(
        self,
        channel_code: str,
        skus: Collection[str],
        external_id: str | None,
        customer: tuple[str, str | None, str | None] | None,
        pickup_code: str | None,
        at: datetime,
        idempotency: tuple[str, str] | None,
    ) -> IntakeContext:
        phone, email = (customer[1], customer[2]) if customer is not None else (None, None)
        protector = self.customers.protector
        network = self.network.current(self.connection)
        raw = driver(self.connection)
        for _ in range(3):
            channel = network.channels.get(channel_code)
            # nothing read or written in this transaction yet: the read runs on its own
            # (no BEGIN, no COMMIT; it writes nothing) and the commit's one statement is
            # then the whole transaction (see Outbox.write_and_commit)
            with outside_transaction(raw):
                timing.mark("snapshot_sent")
                row: Any = execute_raw(
                    raw,
                    _PG_SNAPSHOT,
                    {
                        "skus": text_array(sorted(set(skus))),
                        "channel_id": channel.id if channel else None,
                        "external_id": external_id,
                        "warehouses": int_array(network.serving.get(channel.id, []))
                        if channel
                        else "{}",
                        "with_customer": customer is not None,
                        "sell_until": sellable_from(
                            at.astimezone(UTC).date(),
                            channel.min_shelf_life_days if channel else 0,
                        ),
                        "phone_hash": protector.index(phone),
                        "email_hash": protector.index(email),
                        "idempotency_scope": idempotency[0] if idempotency else None,
                        "idempotency_key": idempotency[1] if idempotency else None,
                    },
                )
                timing.mark("snapshot")
            if row[0] == network.token:
                break
            network = self.network.reload(self.connection)  # changed meanwhile: read again
        else:
            raise TransientConflict(detail="the network kept changing while an order was taken")
        return self._context(row, channel, network, customer, pickup_code, at)

    def _context(
        self,
        row: Any,
        channel: Channel | None,
        network: Network,
        customer: tuple[str, str | None, str | None] | None,
        pickup_code: str | None,
        at: datetime,
        *,
        sqlite: bool = False,
    ) -> IntakeContext:
        """The snapshot's row as intake's context; a new customer's row staged."""
        protector = self.customers.protector
        if row[7] is not None:
            request_hash, status_code, response = json.loads(row[7])
            return _replay(StoredAnswer(request_hash, status_code, open_json(protector, response)))
        customer_id = row[4]
        if customer is not None and row[5] is not None:
            # a new customer, written with the order's rows at the commit under the id
            # drawn now (the same new customer sent twice at once: one commit fails on
            # the unique hashes as a duplicate and is retried, then finds the other's)
            customer_id = row[5]
            self.staged.append(
                (
                    customer_rows,
                    [
                        {
                            "id": customer_id,
                            **customer_values(protector, *customer),
                            "created_at": at,
                            "updated_at": at,
                        }
                    ],
                )
            )
        candidates, positions = _candidates(row[6], network)
        if sqlite:
            products = {
                p.sku: _product(p) for p in _sqlite_products(row[1], self.connection.dialect)
            }
        else:
            products = _json_products(row[1])
        return IntakeContext(
            channel=channel,
            products=products,
            existing_order_id=OrderId(row[2]) if row[2] is not None else None,
            fresh_order_id=OrderId(row[3]),
            customer_id=CustomerId(customer_id) if customer_id is not None else None,
            pickup_point=network.by_code.get(pickup_code) if pickup_code else None,
            candidates=candidates,
            positions=positions,
            sourcing=network.sourcing,
        )
