"""What intake reads before it decides, in one go.

On PostgreSQL the channel, the products, a fresh order id (or the duplicate's id), the
customer (found or added), the pickup point and the stock candidates come from one
statement: one round trip instead of six, and little work for the driver. On SQLite, in
process, the same reads run one after another through the ordinary repositories.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from potok.db.engine import is_sqlite
from potok.db.network_cache import Network, NetworkCache
from potok.db.personal import customer_values, open_json
from potok.db.pg import driver, pipeline_beginning
from potok.db.repositories.catalogue import ProductRepository, _product
from potok.db.repositories.channels import ChannelRepository
from potok.db.repositories.customers import CustomerRepository
from potok.db.repositories.idempotency import IdempotencyKeys
from potok.db.repositories.network import WarehouseRepository
from potok.db.repositories.orders import OrderRepository
from potok.db.repositories.stock import StockRepository, sellable_from
from potok.domain.errors import TransientConflict
from potok.domain.kernel import CustomerId, LotId, OrderId, ProductId, StockId, WarehouseId
from potok.domain.sourcing import Candidate, Position
from potok.services.ports import IntakeContext, StoredAnswer

_PG_SNAPSHOT = """
    WITH p AS MATERIALIZED (SELECT * FROM products WHERE sku = ANY(CAST(%(skus)s AS text[]))),
    found AS (
        SELECT id FROM customers
         WHERE %(with_customer)s
           AND (phone_hash = %(phone_hash)s OR email_hash = %(email_hash)s)
         ORDER BY (phone_hash = %(phone_hash)s) DESC NULLS LAST, id
         LIMIT 1
    ), added AS (
        INSERT INTO customers (name, phone, email, phone_hash, email_hash, created_at, updated_at)
        SELECT %(name)s, %(phone)s, %(email)s, %(phone_hash)s, %(email_hash)s, %(at)s, %(at)s
         WHERE %(with_customer)s AND NOT EXISTS (SELECT 1 FROM found)
        ON CONFLICT DO NOTHING
        RETURNING id
    )
    SELECT
        (SELECT token FROM reference_versions WHERE name = 'network') AS network,
        (SELECT json_agg(p)::text FROM p) AS products,
        (SELECT o.id FROM orders o
          WHERE o.channel_id = %(channel_id)s AND o.external_id = %(external_id)s) AS existing,
        nextval(pg_get_serial_sequence('orders', 'id')) AS fresh,
        (SELECT id FROM found UNION ALL SELECT id FROM added LIMIT 1) AS customer_id,
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
"""


class _Row(dict[str, Any]):
    """A JSON object read back from PostgreSQL, with attribute access like a result row."""

    def __getattr__(self, name: str) -> Any:
        return self[name]


def _rows(text: str | None) -> list[_Row]:
    if text is None:
        return []
    data = json.loads(text, parse_float=Decimal)
    return [_row(item) for item in (data if isinstance(data, list) else [data])]


def _row(item: dict[str, Any]) -> _Row:
    for key, value in item.items():
        if key.endswith("_at") and isinstance(value, str):
            item[key] = datetime.fromisoformat(value)
        elif key in ("latitude", "longitude") and isinstance(value, Decimal):
            item[key] = float(value)
    return _Row(item)


def _candidates(text: str | None, network: Network) -> tuple[list[Candidate], list[Position]]:
    """Candidates (from the network copy) and positions from [stock id, warehouse id,
    product id, available, lot id, lot, expires on, received at, product's removal
    strategy, product's tracking] arrays."""
    candidates: dict[int, Candidate] = {}
    positions: list[Position] = []
    for sid, wid, pid, available, lot_id, lot, expires, received, removal, tracking in json.loads(
        text or "[]"
    ):
        w = network.warehouses[WarehouseId(wid)]
        if wid not in candidates:
            candidates[wid] = Candidate(
                w.id,
                w.code,
                w.city,
                w.priority,
                w.latitude,
                w.longitude,
                w.type.value,
                w.region,
            )
        positions.append(
            Position(
                StockId(sid),
                WarehouseId(wid),
                ProductId(pid),
                available,
                LotId(lot_id) if lot_id is not None else None,
                lot,
                date.fromisoformat(expires) if expires else None,
                datetime.fromisoformat(received) if received else None,
                removal or w.removal_strategy.value,
                tracking == "serial",
            )
        )
    return list(candidates.values()), positions


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
    ) -> None:
        self.connection = connection
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
            if idempotency is not None:
                stored = self.idempotency.get(*idempotency)
                if stored is not None:  # a replay needs nothing else
                    return _replay(stored)
            return self._load_one_by_one(channel, skus, external_id, customer, pickup_point, at)
        return self._load_pipelined(
            channel, skus, external_id, customer, pickup_point, at, idempotency
        )

    def _load_one_by_one(
        self,
        channel_code: str,
        skus: Collection[str],
        external_id: str | None,
        customer: tuple[str, str | None, str | None] | None,
        pickup_code: str | None,
        at: datetime,
    ) -> IntakeContext:
        channel = ChannelRepository(self.connection).get_by_code(channel_code)
        products = ProductRepository(self.connection).get_many(skus)
        existing, fresh = None, OrderId(0)
        if channel is not None:
            found, is_fresh = self.orders.claim(channel.id, external_id)
            existing, fresh = (None, found) if is_fresh else (found, OrderId(0))
        customer_id = None
        if customer is not None:
            customer_id = self.customers.find_or_add(*customer, at)
        pickup = (
            WarehouseRepository(self.connection).get_by_code(pickup_code) if pickup_code else None
        )
        candidates: list[Candidate] = []
        positions: list[Position] = []
        if channel is not None and products:
            candidates, positions = StockRepository(self.connection).candidates(
                {p.id for p in products.values()}, channel.id, today=at.astimezone(UTC).date()
            )
        setup = self.network.fresh(self.connection).sourcing
        return IntakeContext(
            channel, products, existing, fresh, customer_id, pickup, candidates, positions, setup
        )

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
        name, phone, email = customer if customer is not None else ("", None, None)
        sealed = customer_values(self.customers.protector, name, phone, email)
        network = self.network.current(self.connection)
        for _ in range(3):
            channel = network.channels.get(channel_code)
            raw = driver(self.connection)
            # BEGIN, the statement and the Sync travel together; the row is read once the
            # pipeline has ended (fetching inside it would cost a round trip of its own)
            with pipeline_beginning(raw):
                cursor = raw.execute(
                    _PG_SNAPSHOT,
                    {
                        "skus": sorted(set(skus)),
                        "channel_id": channel.id if channel else None,
                        "external_id": external_id,
                        "warehouses": network.serving.get(channel.id, []) if channel else [],
                        "with_customer": customer is not None,
                        "sell_until": sellable_from(
                            at.astimezone(UTC).date(),
                            channel.min_shelf_life_days if channel else 0,
                        ),
                        **sealed,
                        "at": at,
                        "idempotency_scope": idempotency[0] if idempotency else None,
                        "idempotency_key": idempotency[1] if idempotency else None,
                    },
                )
            row: Any = cursor.fetchone()
            if row[0] == network.token:
                break
            network = self.network.reload(self.connection)  # changed meanwhile: read again
        else:
            raise TransientConflict(detail="the network kept changing while an order was taken")
        if row[6] is not None:
            request_hash, status_code, response = json.loads(row[6])
            protector = self.customers.protector
            return _replay(StoredAnswer(request_hash, status_code, open_json(protector, response)))
        if customer is not None and row[4] is None:
            raise TransientConflict(detail="the same new customer arrived twice at once")
        candidates, positions = _candidates(row[5], network)
        return IntakeContext(
            channel=channel,
            products={p.sku: _product(p) for p in _rows(row[1])},
            existing_order_id=OrderId(row[2]) if row[2] is not None else None,
            fresh_order_id=OrderId(row[3]),
            customer_id=CustomerId(row[4]) if row[4] is not None else None,
            pickup_point=network.by_code.get(pickup_code) if pickup_code else None,
            candidates=candidates,
            positions=positions,
            sourcing=network.sourcing,
        )
