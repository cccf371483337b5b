"""Read-side SQL: lists, searches and reports, reached through services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

import sqlalchemy as sa

from potok.db.queries import incoming as incoming_queries
from potok.db.queries import order_exports
from potok.db.queries import orders as order_queries
from potok.db.queries import shortages as shortage_queries
from potok.db.queries import stock as stock_queries
from potok.security.data import DataProtector
from potok.services.read_models import (
    ChannelPromise,
    Drift,
    ExpiringLot,
    IncomingRow,
    LevelPage,
    MovementPage,
    OrderCount,
    OrderFilter,
    OrderLineExport,
    OrderPage,
    ShortOrderPage,
    WarehouseAvailability,
)


class Queries:
    """The read side of one transaction."""

    def __init__(self, connection: sa.Connection, protector: DataProtector) -> None:
        self.connection = connection
        self.protector = protector

    def list_orders(
        self, flt: OrderFilter, *, sort: str, cursor: str | None, limit: int
    ) -> OrderPage:
        return order_queries.list_orders(
            self.connection, flt, self.protector, sort=sort, cursor=cursor, limit=limit
        )

    def count_orders(self, flt: OrderFilter) -> list[OrderCount]:
        return order_queries.count_orders(self.connection, flt, self.protector)

    def list_short_orders(
        self,
        flt: OrderFilter,
        *,
        sku: str | None,
        warehouse: str | None,
        cursor: str | None,
        limit: int,
    ) -> ShortOrderPage:
        return shortage_queries.list_short_orders(
            self.connection, flt, sku=sku, warehouse=warehouse, cursor=cursor, limit=limit
        )

    def order_lines_after(
        self, flt: OrderFilter, *, after_id: int, orders_per_page: int, customer: bool
    ) -> tuple[list[OrderLineExport], int | None]:
        return order_exports.order_lines_after(
            self.connection,
            flt,
            self.protector,
            after_id=after_id,
            orders_per_page=orders_per_page,
            customer=customer,
        )

    def list_levels(
        self,
        *,
        warehouse: str | None,
        sku: str | None,
        only_available: bool,
        cursor: str | None,
        limit: int,
        within: Sequence[str] | None = None,
    ) -> LevelPage:
        page = stock_queries.list_levels(
            self.connection,
            warehouse=warehouse,
            sku=sku,
            only_available=only_available,
            cursor=cursor,
            limit=limit,
            within=within,
        )
        incoming = incoming_queries.incoming_by_codes(
            self.connection, {(r.warehouse, r.sku) for r in page.items}
        )
        if not incoming:
            return page
        return LevelPage(
            [
                replace(r, incoming=incoming[(r.warehouse, r.sku)].quantity)
                if (r.warehouse, r.sku) in incoming
                else r
                for r in page.items
            ],
            page.next_cursor,
        )

    def list_incoming(
        self, *, warehouses: Sequence[str] | None, sku: str | None
    ) -> list[IncomingRow]:
        return incoming_queries.list_incoming(self.connection, warehouses=warehouses, sku=sku)

    def availability(self, product_id: int) -> list[WarehouseAvailability]:
        return stock_queries.availability(self.connection, product_id)

    def promises(
        self, product_ids: Sequence[int], channel_codes: Sequence[str] | None = None
    ) -> dict[int, list[ChannelPromise]]:
        return stock_queries.promises(self.connection, product_ids, channel_codes)

    def promisable_by_location(
        self, product_ids: Sequence[int], channel_code: str
    ) -> tuple[dict[tuple[int, str], int], dict[int, int]]:
        return stock_queries.promisable_by_location(self.connection, product_ids, channel_code)

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
    ) -> MovementPage:
        return stock_queries.list_movements(
            self.connection,
            warehouse=warehouse,
            sku=sku,
            movement_type=movement_type,
            since=since,
            cursor=cursor,
            limit=limit,
            within=within,
        )

    def drifts(self) -> tuple[int, list[Drift]]:
        return stock_queries.drifts(self.connection)

    def expiring(
        self,
        today: date,
        within_days: int,
        warehouse: str | None = None,
        within: Sequence[str] | None = None,
    ) -> list[ExpiringLot]:
        return stock_queries.expiring(self.connection, today, within_days, warehouse, within)
