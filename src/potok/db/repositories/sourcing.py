"""Shipping tariffs and routing rules: each import and each change is a new version, and the
old ones stay readable."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from math import inf
from typing import Any

import sqlalchemy as sa

from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.reference_versions import bump_network
from potok.db.tables import (
    channels,
    order_lines,
    orders,
    products,
    purchase_order_lines,
    purchase_orders,
    replan_runs,
    routing_rules,
    shipping_tariffs,
    sourcing_decisions,
    stock,
    stock_prices,
    stock_pricing_runs,
    tariff_versions,
    transfer_lines,
    transfers,
    warehouses,
)
from potok.domain.kernel import ChannelId, ProductId, WarehouseId
from potok.domain.sourcing import SourcingRecord
from potok.domain.sourcing.stock_value import (
    PricingInputs,
    RegionDemand,
    Site,
    StockPricingRun,
)
from potok.domain.sourcing.tariffs import ANY_WAREHOUSE, Tariff
from potok.domain.sourcing.versions import RulesVersion, TariffVersion
from potok.services.ports import (
    ReplanChange,
    ReplanRun,
    ReplanRunPage,
    StoredSourcing,
)


class SourcingRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    # ------------------------------------------------------------------ tariffs

    def tariff_version(self) -> TariffVersion | None:
        """The tariff table in force: the latest import."""
        row = self.connection.execute(
            sa.select(tariff_versions).order_by(tariff_versions.c.version.desc()).limit(1)
        ).first()
        return None if row is None else _tariff_version(row)

    def add_tariffs(
        self,
        tariffs: Sequence[Tariff],
        warehouse_ids: dict[str, WarehouseId],
        *,
        source: str,
        created_by: str,
        at: datetime,
    ) -> TariffVersion:
        """Store a whole tariff table as the next version. Saying the reference data
        changed comes first: it locks one row, so concurrent imports take turns."""
        bump_network(self.connection)
        latest = self.connection.execute(sa.select(sa.func.max(tariff_versions.c.version)))
        version = (latest.scalar() or 0) + 1
        self.connection.execute(
            tariff_versions.insert().values(
                version=version,
                tariffs=len(tariffs),
                source=source[:255],
                created_by=created_by,
                created_at=at,
            )
        )
        if tariffs:
            self.connection.execute(
                shipping_tariffs.insert(),
                [
                    {
                        "version": version,
                        "warehouse_id": (
                            None if t.warehouse == ANY_WAREHOUSE else warehouse_ids[t.warehouse]
                        ),
                        "region": t.region,
                        "min_km": t.min_km,
                        "max_km": None if t.max_km == inf else t.max_km,
                        "fixed": t.fixed,
                        "per_kg": t.per_kg,
                        "per_km": t.per_km,
                        "days": t.days,
                    }
                    for t in tariffs
                ],
            )
        return TariffVersion(version, len(tariffs), source[:255], created_by, at)

    def tariffs(self, version: int) -> list[Tariff]:
        """The tariffs of one version, by warehouse code (``*`` for every warehouse)."""
        rows = self.connection.execute(
            sa.select(shipping_tariffs, warehouses.c.code)
            .select_from(
                shipping_tariffs.outerjoin(
                    warehouses, warehouses.c.id == shipping_tariffs.c.warehouse_id
                )
            )
            .where(shipping_tariffs.c.version == version)
            .order_by(shipping_tariffs.c.id)
        )
        return [
            Tariff(
                row.code or ANY_WAREHOUSE,
                row.fixed,
                row.per_kg.normalize(),
                row.per_km.normalize(),
                row.days,
                row.region,
                row.min_km,
                inf if row.max_km is None else row.max_km,
            )
            for row in rows
        ]

    # ------------------------------------------------------------------ rules

    def rules(
        self, channel_id: ChannelId | None, order_type: str, version: int | None = None
    ) -> RulesVersion | None:
        """The rules of a channel (None: the network default) and order type: the latest
        version, or the one asked for."""
        query = self._rules_query(channel_id, order_type)
        if version is not None:
            query = query.where(routing_rules.c.version == version)
        row = self.connection.execute(
            query.order_by(routing_rules.c.version.desc()).limit(1)
        ).first()
        return None if row is None else _rules_version(row)

    def rule_versions(self, channel_id: ChannelId | None, order_type: str) -> list[RulesVersion]:
        """Every version of the rules of a channel and order type, newest first."""
        rows = self.connection.execute(
            self._rules_query(channel_id, order_type).order_by(routing_rules.c.version.desc())
        )
        return [_rules_version(row) for row in rows]

    def add_rules(
        self,
        channel_id: ChannelId | None,
        order_type: str,
        rules: dict[str, Any],
        *,
        created_by: str,
        at: datetime,
    ) -> RulesVersion:
        """Store rules as the next version for the channel and order type. Saying the
        reference data changed comes first: it locks one row, so two concurrent changes
        (of the network default too, whose NULL channel no unique key covers) take turns
        and never share a version number."""
        bump_network(self.connection)
        latest = self.connection.execute(
            sa.select(sa.func.max(routing_rules.c.version)).where(
                _channel_is(channel_id), routing_rules.c.order_type == order_type
            )
        ).scalar()
        version = (latest or 0) + 1
        self.connection.execute(
            routing_rules.insert().values(
                channel_id=channel_id,
                order_type=order_type,
                version=version,
                rules=rules,
                created_by=created_by,
                created_at=at,
            )
        )
        found = self.rules(channel_id, order_type, version)
        assert found is not None
        return found

    def _rules_query(self, channel_id: ChannelId | None, order_type: str) -> sa.Select[Any]:
        return (
            sa.select(routing_rules, channels.c.code)
            .select_from(
                routing_rules.outerjoin(channels, channels.c.id == routing_rules.c.channel_id)
            )
            .where(_channel_is(channel_id), routing_rules.c.order_type == order_type)
        )

    # ------------------------------------------------------------------ facts for the engine

    def weights_kg(self, product_ids: Collection[ProductId]) -> dict[ProductId, float]:
        """The shipping weight of each product that has one, in kilograms."""
        rows = self.connection.execute(
            sa.select(products.c.id, products.c.weight_g).where(
                products.c.id.in_(sorted(product_ids)), products.c.weight_g > 0
            )
        )
        return {ProductId(row.id): row.weight_g / 1000 for row in rows}

    def current_rules(self) -> list[tuple[ChannelId | None, RulesVersion]]:
        """The latest rules version of every channel (None: the default) and order type."""
        latest = (
            sa.select(
                routing_rules.c.channel_id,
                routing_rules.c.order_type,
                sa.func.max(routing_rules.c.version).label("version"),
            )
            .group_by(routing_rules.c.channel_id, routing_rules.c.order_type)
            .subquery()
        )
        rows = self.connection.execute(
            sa.select(routing_rules, channels.c.code).select_from(
                routing_rules.join(
                    latest,
                    sa.and_(
                        routing_rules.c.version == latest.c.version,
                        routing_rules.c.order_type == latest.c.order_type,
                        sa.or_(
                            routing_rules.c.channel_id == latest.c.channel_id,
                            sa.and_(
                                routing_rules.c.channel_id.is_(None),
                                latest.c.channel_id.is_(None),
                            ),
                        ),
                    ),
                ).outerjoin(channels, channels.c.id == routing_rules.c.channel_id)
            )
        )
        return [
            (None if row.channel_id is None else ChannelId(row.channel_id), _rules_version(row))
            for row in rows
        ]

    def decisions(self, order_id: int) -> list[StoredSourcing]:
        """The sourcing decisions kept for an order, oldest first."""
        rows = self.connection.execute(
            sa.select(sourcing_decisions)
            .where(sourcing_decisions.c.order_id == order_id)
            .order_by(sourcing_decisions.c.id)
        )
        return [
            StoredSourcing(
                row.decided_at,
                row.actor,
                row.outcome,
                row.trigger,
                tuple(row.warehouses.split(",")) if row.warehouses else (),
                row.total_cost,
                SourcingRecord.from_data(row.record),
            )
            for row in rows
        ]

    # ------------------------------------------------------------------ re-plan runs

    def add_replan_run(self, run: ReplanRun) -> ReplanRun:
        """Keep a run of the batch optimiser in the log; returns it with its id."""
        run_id = self.connection.execute(
            replan_runs.insert()
            .values(
                started_at=run.started_at,
                finished_at=run.finished_at,
                actor=run.actor[:255],
                scope=run.scope,
                method=run.method[:40],
                orders_considered=run.orders_considered,
                orders_changed=run.orders_changed,
                orders_skipped=run.orders_skipped,
                backorders_reserved=run.backorders_reserved,
                cost_before=run.cost_before,
                cost_after=run.cost_after,
                applied=run.applied,
                seconds=run.seconds,
                notes=list(run.notes),
                changes=[_change_data(c) for c in run.changes],
            )
            .returning(replan_runs.c.id)
        ).scalar_one()
        return dataclasses.replace(run, id=int(run_id))

    def replan_run(self, run_id: int) -> ReplanRun | None:
        row = self.connection.execute(
            sa.select(replan_runs).where(replan_runs.c.id == run_id)
        ).first()
        return None if row is None else _replan_run(row)

    def replan_runs(
        self,
        *,
        cursor: str | None,
        limit: int,
        channel: str | None = None,
        warehouses: Sequence[str] | None = None,
    ) -> ReplanRunPage:
        """Runs of the batch optimiser, newest first; ``channel`` keeps the runs asked for
        that channel, ``warehouses`` those asked for one of them (in the query, so that a
        page is never short of what the caller may see)."""
        query = sa.select(replan_runs).order_by(replan_runs.c.id.desc()).limit(limit + 1)
        if channel is not None:
            query = query.where(replan_runs.c.scope["channel"].as_string() == channel)
        if warehouses is not None:
            query = query.where(replan_runs.c.scope["warehouse"].as_string().in_(list(warehouses)))
        if cursor:
            (last_id,) = decode_int_cursor(cursor, 1)
            query = query.where(replan_runs.c.id < min(max(last_id, 0), 2**63 - 1))
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return ReplanRunPage(
            [_replan_run(r) for r in rows], encode_cursor(rows[-1].id) if more else None
        )

    def last_replan_at(self, *, held: bool = False) -> datetime | None:
        """When the latest applied run started (dry runs do not count): of the re-plans of
        held orders with ``held``, of the others without."""
        minutes = replan_runs.c.scope["held_minutes"].as_string()
        kind = minutes.is_not(None) if held else minutes.is_(None)
        return self.connection.execute(
            sa.select(sa.func.max(replan_runs.c.started_at)).where(
                replan_runs.c.applied.is_(True), kind
            )
        ).scalar()

    # ------------------------------------------------------------------ stock prices

    def pricing_inputs(self, *, since: datetime, until: date) -> PricingInputs:
        """What the pricing job needs: the active locations, the demand per product and
        region since ``since`` (orders not cancelled, with a delivery point), the free
        stock, and what open purchase orders and shipped transfers bring by ``until``."""
        c = self.connection
        sites = tuple(
            Site(WarehouseId(r.id), r.code, r.latitude, r.longitude)
            for r in c.execute(
                sa.select(
                    warehouses.c.id,
                    warehouses.c.code,
                    warehouses.c.latitude,
                    warehouses.c.longitude,
                ).where(warehouses.c.active.is_(True))
            )
        )
        region = sa.func.coalesce(orders.c.address_region, "")
        rows = c.execute(
            sa.select(
                order_lines.c.product_id,
                region.label("region"),
                sa.func.sum(order_lines.c.quantity).label("units"),
                sa.func.avg(orders.c.destination_latitude).label("latitude"),
                sa.func.avg(orders.c.destination_longitude).label("longitude"),
                products.c.weight_g,
                products.c.sku,
            )
            .select_from(
                order_lines.join(orders, orders.c.id == order_lines.c.order_id).join(
                    products, products.c.id == order_lines.c.product_id
                )
            )
            .where(
                orders.c.created_at >= since,
                orders.c.state != "cancelled",
                orders.c.destination_latitude.is_not(None),
                orders.c.destination_longitude.is_not(None),
            )
            .group_by(order_lines.c.product_id, region, products.c.weight_g, products.c.sku)
        )
        demand = tuple(
            RegionDemand(
                ProductId(r.product_id),
                r.region,
                int(r.units),
                float(r.latitude),
                float(r.longitude),
                r.weight_g / 1000 if r.weight_g else 1.0,
                r.sku,
            )
            for r in rows
        )
        free_units = stock.c.on_hand - stock.c.reserved - stock.c.unavailable
        free = {
            (WarehouseId(r.warehouse_id), ProductId(r.product_id)): int(r.units)
            for r in c.execute(
                sa.select(
                    stock.c.warehouse_id,
                    stock.c.product_id,
                    sa.func.sum(free_units).label("units"),
                )
                .join(warehouses, warehouses.c.id == stock.c.warehouse_id)
                .where(warehouses.c.active.is_(True))
                .group_by(stock.c.warehouse_id, stock.c.product_id)
                .having(sa.func.sum(free_units) > 0)
            )
        }
        incoming: dict[tuple[WarehouseId, ProductId], int] = {}
        bought = c.execute(
            sa.select(
                purchase_orders.c.warehouse_id,
                purchase_order_lines.c.product_id,
                sa.func.sum(
                    purchase_order_lines.c.quantity - purchase_order_lines.c.received_quantity
                ).label("units"),
            )
            .join(purchase_orders, purchase_orders.c.id == purchase_order_lines.c.purchase_order_id)
            .where(purchase_orders.c.status == "open", purchase_orders.c.expected_on <= until)
            .group_by(purchase_orders.c.warehouse_id, purchase_order_lines.c.product_id)
        )
        moving = c.execute(
            sa.select(
                transfers.c.to_warehouse_id.label("warehouse_id"),
                transfer_lines.c.product_id,
                sa.func.sum(
                    sa.func.coalesce(transfer_lines.c.shipped_quantity, transfer_lines.c.quantity)
                ).label("units"),
            )
            .join(transfers, transfers.c.id == transfer_lines.c.transfer_id)
            .where(transfers.c.status == "shipped", transfers.c.expected_on <= until)
            .group_by(transfers.c.to_warehouse_id, transfer_lines.c.product_id)
        )
        for r in (*bought, *moving):
            if r.units and r.units > 0:
                key = (WarehouseId(r.warehouse_id), ProductId(r.product_id))
                incoming[key] = incoming.get(key, 0) + int(r.units)
        return PricingInputs(sites, demand, free, incoming)

    def replace_stock_prices(
        self, prices: Mapping[tuple[WarehouseId, ProductId], Decimal], run: StockPricingRun
    ) -> StockPricingRun:
        """The new prices in place of the old, and the run kept; every process's copy of
        the network is read again (the prices travel with it)."""
        c = self.connection
        c.execute(stock_prices.delete())
        if prices:
            c.execute(
                stock_prices.insert(),
                [{"warehouse_id": w, "product_id": p, "price": v} for (w, p), v in prices.items()],
            )
        values = dataclasses.asdict(run)
        del values["id"]
        run_id = c.execute(
            stock_pricing_runs.insert().values(**values).returning(stock_pricing_runs.c.id)
        ).scalar_one()
        bump_network(c)
        return dataclasses.replace(run, id=int(run_id))

    def stock_prices(self) -> dict[tuple[WarehouseId, ProductId], float]:
        """The latest prices, as the engine reads them."""
        return {
            (WarehouseId(r.warehouse_id), ProductId(r.product_id)): float(r.price)
            for r in self.connection.execute(sa.select(stock_prices))
        }

    def priced_positions(self, limit: int) -> list[tuple[str, str, Decimal]]:
        """The dearest positions first: (warehouse code, SKU, price)."""
        rows = self.connection.execute(
            sa.select(warehouses.c.code, products.c.sku, stock_prices.c.price)
            .join(warehouses, warehouses.c.id == stock_prices.c.warehouse_id)
            .join(products, products.c.id == stock_prices.c.product_id)
            .order_by(stock_prices.c.price.desc(), warehouses.c.code, products.c.sku)
            .limit(limit)
        )
        return [(r.code, r.sku, r.price) for r in rows]

    def last_stock_pricing(self) -> StockPricingRun | None:
        row = self.connection.execute(
            sa.select(stock_pricing_runs).order_by(stock_pricing_runs.c.id.desc()).limit(1)
        ).first()
        if row is None:
            return None
        return StockPricingRun(
            row.id,
            row.computed_at,
            row.history_days,
            row.horizon_days,
            row.products,
            row.priced,
            row.seconds,
            row.actor,
        )


def _change_data(change: ReplanChange) -> dict[str, Any]:
    return {
        "order_id": change.order_id,
        "outcome": change.outcome,
        "from": list(change.from_warehouses),
        "to": list(change.to_warehouses),
        "cost_before": None if change.cost_before is None else str(change.cost_before),
        "cost_after": None if change.cost_after is None else str(change.cost_after),
        "note": change.note,
    }


def _change(data: Mapping[str, Any]) -> ReplanChange:
    before, after = data.get("cost_before"), data.get("cost_after")
    return ReplanChange(
        int(data["order_id"]),
        str(data["outcome"]),
        tuple(data.get("from") or ()),
        tuple(data.get("to") or ()),
        None if before is None else Decimal(before),
        None if after is None else Decimal(after),
        str(data.get("note") or ""),
    )


def _replan_run(row: Any) -> ReplanRun:
    return ReplanRun(
        row.id,
        row.started_at,
        row.finished_at,
        row.actor,
        dict(row.scope),
        row.method,
        row.orders_considered,
        row.orders_changed,
        row.orders_skipped,
        row.backorders_reserved,
        row.cost_before,
        row.cost_after,
        bool(row.applied),
        float(row.seconds),
        tuple(row.notes or ()),
        tuple(_change(c) for c in row.changes or ()),
    )


def _channel_is(channel_id: ChannelId | None) -> sa.ColumnElement[bool]:
    if channel_id is None:
        return routing_rules.c.channel_id.is_(None)
    return routing_rules.c.channel_id == channel_id


def _tariff_version(row: Any) -> TariffVersion:
    return TariffVersion(row.version, row.tariffs, row.source, row.created_by, row.created_at)


def _rules_version(row: Any) -> RulesVersion:
    return RulesVersion(
        row.code,
        row.order_type,
        row.version,
        dict(row.rules),
        row.created_by,
        row.created_at,
    )
