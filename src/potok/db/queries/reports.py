"""The order facts read model: written from the order, its history, shipments, steps,
sourcing decisions and returns; read back for the reports. One batch of orders costs a
handful of statements, whatever the batch's size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from potok.db.queries.report_days import ReportDays
from potok.db.queries.stock_kpis import StockKpis
from potok.db.tables import (
    channels,
    forecast_runs,
    forecast_series,
    order_facts,
    order_history,
    order_lines,
    orders,
    product_categories,
    product_category_links,
    products,
    reservations,
    return_lines,
    returns,
    shipment_items,
    shipment_steps,
    shipments,
    sourcing_decisions,
    stock_movements,
    warehouses,
)
from potok.domain.analytics import BucketSums, Dimension, OrderFact, Period, PickScan
from potok.domain.catalogue.categories import path_of
from potok.services.report_ports import DailyDemand, PositionRow, PositionTotals, StockMove

CHUNK = 500
_f = order_facts


def _latest(values: list[datetime | None]) -> datetime | None:
    """When every shipment had passed a stage: the latest of their times, if all have one."""
    if not values or any(v is None for v in values):
        return None
    return max(v for v in values if v is not None)


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


FACTS_LOCK = 1_900_019  # the lock space of the order facts' refreshes
_LOCK_FACTS = sa.text(
    "SELECT pg_advisory_xact_lock(:space, k) FROM"
    " (SELECT DISTINCT (x % 2147483647)::int AS k FROM unnest(CAST(:ids AS bigint[])) AS x"
    " ORDER BY k) AS keys"
)
_FACT_FIELDS = tuple(OrderFact.__dataclass_fields__)


def _fact(row: Mapping[str, Any] | sa.RowMapping) -> OrderFact:
    """A fact as the domain reads it, from a stored row or one about to be written."""
    values = {name: row[name] for name in _FACT_FIELDS}
    values["categories"] = tuple((code, Decimal(worth)) for code, worth in row["categories"])
    return OrderFact(**values)


class Reports:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.days = ReportDays(connection)
        self.stock_kpis = StockKpis(connection)

    # ------------------------------------------------------------------ writing

    def order_ids_after(self, after: int, limit: int) -> list[int]:
        """Order ids in order, for a rebuild that walks them in batches."""
        return list(
            self.connection.execute(
                sa.select(orders.c.id).where(orders.c.id > after).order_by(orders.c.id).limit(limit)
            ).scalars()
        )

    def refresh(self, order_ids: Sequence[int], at: datetime) -> int:
        """Write the facts of these orders afresh from what is stored now, and move their
        days by the difference; returns how many were written."""
        done = 0
        ids = sorted(set(order_ids))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            old = self._stored(chunk)
            rows = self._facts_of(chunk, at)
            self.connection.execute(_f.delete().where(_f.c.order_id.in_(chunk)))
            if rows:
                self.connection.execute(_f.insert(), rows)
            self.days.apply(old, [_fact(r) for r in rows])
            done += len(rows)
        return done

    def clear(self) -> None:
        """Forget every order's facts and every day (before a rebuild)."""
        self.days.clear()
        self.connection.execute(_f.delete())

    def _stored(self, ids: list[int]) -> list[OrderFact]:
        """The facts stored now for these orders. On PostgreSQL each order's refresh is
        first made exclusive (a transaction lock per order, taken in id order): two
        refreshes of one order take turns, and the second reads what the first wrote,
        so neither takes the same old facts off its day twice. (SQLite runs one writer.)"""
        if not self.days.sqlite:
            self.connection.execute(_LOCK_FACTS, {"space": FACTS_LOCK, "ids": ids})
        query = sa.select(_f).where(_f.c.order_id.in_(ids)).order_by(_f.c.order_id)
        return [_fact(r._mapping) for r in self.connection.execute(query)]

    def _facts_of(self, ids: list[int], at: datetime) -> list[dict[str, Any]]:
        c = self.connection
        heads = c.execute(
            sa.select(
                orders.c.id,
                channels.c.code.label("channel"),
                orders.c.currency,
                orders.c.total,
                orders.c.created_at,
                orders.c.confirmed_at,
                orders.c.promised_at,
                orders.c.state,
                orders.c.cancel_reason,
                orders.c.returned,
            )
            .join(channels, channels.c.id == orders.c.channel_id)
            .where(orders.c.id.in_(ids))
        ).all()
        units = dict(
            c.execute(
                sa.select(order_lines.c.order_id, sa.func.sum(order_lines.c.quantity))
                .where(order_lines.c.order_id.in_(ids))
                .group_by(order_lines.c.order_id)
            ).all()
        )
        kinds = self._categories_of(ids)
        backordered = set(
            c.execute(
                sa.select(order_history.c.order_id)
                .where(order_history.c.order_id.in_(ids), order_history.c.action == "backordered")
                .distinct()
            ).scalars()
        )
        reserved_at = dict(
            c.execute(
                sa.select(reservations.c.order_id, sa.func.min(warehouses.c.code))
                .join(warehouses, warehouses.c.id == reservations.c.warehouse_id)
                .where(reservations.c.order_id.in_(ids))
                .group_by(reservations.c.order_id)
            ).all()
        )
        estimates: dict[int, Decimal | None] = {}
        for row in c.execute(
            sa.select(sourcing_decisions.c.order_id, sourcing_decisions.c.total_cost)
            .where(
                sourcing_decisions.c.order_id.in_(ids), sourcing_decisions.c.outcome == "reserved"
            )
            .order_by(sourcing_decisions.c.id)
        ):
            estimates[row.order_id] = row.total_cost  # the latest decision wins
        reasons: dict[int, str] = {}
        for row in c.execute(
            sa.select(returns.c.order_id, return_lines.c.reason)
            .join(return_lines, return_lines.c.return_id == returns.c.id)
            .where(returns.c.order_id.in_(ids))
            .order_by(returns.c.id, return_lines.c.line_no)
        ):
            reasons.setdefault(row.order_id, row.reason)
        parts = self._shipments_of(ids)
        facts = []
        for h in heads:
            ships = parts.get(h.id, [])
            live = [s for s in ships if s["status"] != "cancelled"]
            costs = [s["cost"] for s in live if s["cost"] is not None]
            facts.append(
                {
                    "order_id": h.id,
                    "channel": h.channel,
                    "warehouse": ships[0]["warehouse"] if ships else reserved_at.get(h.id, ""),
                    "carrier": next((s["carrier"] for s in ships if s["carrier"]), ""),
                    "currency": h.currency,
                    "total": h.total,
                    "created_at": h.created_at,
                    "created_on": h.created_at.date(),
                    "units_ordered": int(units.get(h.id) or 0),
                    "units_shipped": sum(s["units"] for s in live if s["handed_over_at"]),
                    "confirmed_at": h.confirmed_at,
                    "picked_at": _latest([s["picked_at"] for s in live]),
                    "packed_at": _latest([s["packed_at"] for s in live]),
                    "handed_over_at": _latest([s["handed_over_at"] for s in live]),
                    "delivered_at": _latest([s["delivered_at"] for s in live]),
                    "promised_at": h.promised_at,
                    "cancelled": h.state == "cancelled",
                    "cancel_reason": h.cancel_reason,
                    "backordered": h.id in backordered,
                    "returned": h.returned != "none",
                    "return_reason": reasons.get(h.id),
                    "shipping_cost": sum(costs, Decimal("0.00")) if costs else None,
                    "shipping_estimate": estimates.get(h.id),
                    "refreshed_at": at,
                    "categories": kinds.get(h.id, []),
                }
            )
        return facts

    def _categories_of(self, ids: list[int]) -> dict[int, list[list[str]]]:
        """Per order, each category of its products and every one above them, with the
        worth of its lines there: ``[[code, "123.40"], ...]`` in code order (as stored)."""
        worth: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for order_id, path, total in self.connection.execute(
            sa.select(order_lines.c.order_id, product_categories.c.path, order_lines.c.total)
            .join(
                product_category_links,
                product_category_links.c.product_id == order_lines.c.product_id,
            )
            .join(
                product_categories, product_categories.c.code == product_category_links.c.category
            )
            .where(order_lines.c.order_id.in_(ids))
        ):
            for code in path_of(path):
                worth[order_id][code] += total
        return {
            order_id: [[code, str(amount)] for code, amount in sorted(kinds.items())]
            for order_id, kinds in worth.items()
        }

    def _shipments_of(self, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        c = self.connection
        found: dict[int, list[dict[str, Any]]] = defaultdict(list)
        by_id: dict[int, dict[str, Any]] = {}
        for row in c.execute(
            sa.select(
                shipments.c.id,
                shipments.c.order_id,
                shipments.c.status,
                shipments.c.carrier,
                shipments.c.handed_over_at,
                shipments.c.delivered_at,
                warehouses.c.code.label("warehouse"),
            )
            .join(warehouses, warehouses.c.id == shipments.c.warehouse_id)
            .where(shipments.c.order_id.in_(ids))
            .order_by(shipments.c.order_id, shipments.c.seq)
        ):
            part = {
                "status": row.status,
                "warehouse": row.warehouse,
                "carrier": row.carrier or "",
                "handed_over_at": row.handed_over_at,
                "delivered_at": row.delivered_at,
                "picked_at": None,
                "packed_at": None,
                "cost": None,
                "units": 0,
            }
            found[row.order_id].append(part)
            by_id[row.id] = part
        if not by_id:
            return found
        ship_ids = list(by_id)
        for item in c.execute(
            sa.select(shipment_items.c.shipment_id, sa.func.sum(shipment_items.c.quantity))
            .where(shipment_items.c.shipment_id.in_(ship_ids))
            .group_by(shipment_items.c.shipment_id)
        ):
            by_id[item[0]]["units"] = int(item[1] or 0)
        for step in c.execute(
            sa.select(
                shipment_steps.c.shipment_id,
                shipment_steps.c.action,
                shipment_steps.c.to_status,
                shipment_steps.c.occurred_at,
                shipment_steps.c.details,
            )
            .where(
                shipment_steps.c.shipment_id.in_(ship_ids),
                shipment_steps.c.action.in_(("picked", "packed", "booked")),
            )
            .order_by(shipment_steps.c.id)
        ):
            part = by_id[step.shipment_id]
            if step.action == "picked":
                part["picked_at"] = step.occurred_at  # the last scan wins
            elif step.action == "packed":
                part["packed_at"] = step.occurred_at
            else:  # booked: what the carrier asks for it (the latest booking counts)
                part["cost"] = _money((step.details or {}).get("price"))
        return found

    # ------------------------------------------------------------------ reading

    def facts(self, period: Period, channels_: Sequence[str] | None = None) -> list[OrderFact]:
        """The facts of the orders accepted in the period (of these channels, if named)."""
        query = sa.select(_f).where(
            _f.c.created_on >= period.since, _f.c.created_on <= period.until
        )
        if channels_ is not None:
            query = query.where(_f.c.channel.in_(list(channels_)))
        return [_fact(r._mapping) for r in self.connection.execute(query)]

    def sums(
        self,
        period: Period,
        dimension: Dimension,
        *,
        channels: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
        whole: bool = False,
    ) -> list[BucketSums]:
        """The stored days summed per bucket of the period (see ``ReportDays.sums``)."""
        return self.days.sums(
            period, dimension, channels=channels, warehouses=warehouses, whole=whole
        )

    def pick_scans(
        self, period: Period, warehouses_: Sequence[str] | None = None
    ) -> list[PickScan]:
        """Every pick scan of the period, with who made it and at which warehouse."""
        s = shipment_steps
        query = (
            sa.select(s.c.actor, warehouses.c.code, s.c.occurred_at, s.c.details)
            .join(shipments, shipments.c.id == s.c.shipment_id)
            .join(warehouses, warehouses.c.id == shipments.c.warehouse_id)
            .where(
                s.c.action == "picked",
                s.c.occurred_at >= period.start,
                s.c.occurred_at < period.end,
            )
        )
        if warehouses_ is not None:
            query = query.where(warehouses.c.code.in_(list(warehouses_)))
        return [
            PickScan(r.actor, r.code, r.occurred_at, int((r.details or {}).get("quantity", 0)))
            for r in self.connection.execute(query)
        ]

    def demand(
        self,
        period: Period,
        *,
        by_channel: bool = False,
        skus: Sequence[str] | None = None,
        warehouses_: Sequence[str] | None = None,
    ) -> list[DailyDemand]:
        """Units ordered per SKU, warehouse (and channel, if asked) and day of the period
        (orders not cancelled, at the warehouse that took them); of these SKUs and
        warehouses only, when named."""
        channel = _f.c.channel if by_channel else sa.literal("")
        keys = (order_lines.c.sku, _f.c.warehouse, _f.c.created_on)
        query = (
            sa.select(
                *keys,
                sa.func.sum(order_lines.c.quantity).label("units"),
                *([channel.label("channel")] if by_channel else []),
            )
            .join(_f, _f.c.order_id == order_lines.c.order_id)
            .where(
                _f.c.created_on >= period.since,
                _f.c.created_on <= period.until,
                _f.c.cancelled.is_(False),
                _f.c.warehouse != "",
            )
            .group_by(*keys, *([_f.c.channel] if by_channel else []))
        )
        if skus is not None:
            query = query.where(order_lines.c.sku.in_(list(skus)))
        if warehouses_ is not None:
            query = query.where(_f.c.warehouse.in_(list(warehouses_)))
        return [
            DailyDemand(
                r.sku, r.warehouse, r.created_on, int(r.units), r.channel if by_channel else ""
            )
            for r in self.connection.execute(query)
        ]

    # ------------------------------------------------------------------ forecasts

    def add_forecast(self, run: dict[str, Any], series: list[dict[str, Any]]) -> int:
        """Store a forecast run and its series; returns the run's id."""
        run_id = int(
            self.connection.execute(
                forecast_runs.insert().values(**run).returning(forecast_runs.c.id)
            ).scalar_one()
        )
        if series:
            self.connection.execute(
                forecast_series.insert(), [row | {"run_id": run_id} for row in series]
            )
        return run_id

    def forget_forecasts(self, keep: int) -> int:
        """Drop every stored run but the newest ``keep``; returns how many went."""
        newest = sa.select(forecast_runs.c.id).order_by(forecast_runs.c.id.desc()).limit(keep)
        kept = list(self.connection.execute(newest).scalars())
        old = sa.select(forecast_runs.c.id).where(forecast_runs.c.id.not_in(kept))
        ids = list(self.connection.execute(old).scalars())
        if ids:
            self.connection.execute(
                forecast_series.delete().where(forecast_series.c.run_id.in_(ids))
            )
            self.connection.execute(forecast_runs.delete().where(forecast_runs.c.id.in_(ids)))
        return len(ids)

    def last_forecast_at(self) -> datetime | None:
        return self.connection.execute(sa.select(sa.func.max(forecast_runs.c.ran_at))).scalar()

    def latest_forecast(
        self, sku: str | None = None
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The newest stored run and its series (of one SKU, if named)."""
        run = (
            self.connection.execute(
                sa.select(forecast_runs).order_by(forecast_runs.c.id.desc()).limit(1)
            )
            .mappings()
            .first()
        )
        if run is None:
            return None, []
        query = (
            sa.select(forecast_series)
            .where(forecast_series.c.run_id == run["id"])
            .order_by(forecast_series.c.sku, forecast_series.c.warehouse, forecast_series.c.channel)
        )
        if sku is not None:
            query = query.where(forecast_series.c.sku == sku)
        return dict(run), [dict(r) for r in self.connection.execute(query).mappings()]

    def stock_moves(
        self,
        period: Period,
        *,
        skus: Sequence[str] | None = None,
        warehouses_: Sequence[str] | None = None,
    ) -> list[StockMove]:
        """Every change of on-hand stock per warehouse and SKU up to the period's end, the
        ones before it summed into one opening move dated the day before; of these SKUs
        and warehouses only, when named."""
        m = stock_movements
        keys = (warehouses.c.code, products.c.sku)
        joined = m.join(warehouses, warehouses.c.id == m.c.warehouse_id).join(
            products, products.c.id == m.c.product_id
        )
        scope: list[sa.ColumnElement[bool]] = []
        if skus is not None:
            scope.append(products.c.sku.in_(list(skus)))
        if warehouses_ is not None:
            scope.append(warehouses.c.code.in_(list(warehouses_)))
        opening = self.connection.execute(
            sa.select(*keys, sa.func.sum(m.c.quantity))
            .select_from(joined)
            .where(m.c.occurred_at < period.start, *scope)
            .group_by(*keys)
        )
        found = [StockMove(code, sku, None, int(total or 0)) for code, sku, total in opening]
        within = self.connection.execute(
            sa.select(*keys, m.c.occurred_at, m.c.quantity)
            .select_from(joined)
            .where(m.c.occurred_at >= period.start, m.c.occurred_at < period.end, *scope)
        )
        found += [StockMove(code, sku, at, int(q)) for code, sku, at, q in within]
        return found

    def stock_positions(
        self,
        period: Period,
        *,
        warehouses_: Sequence[str] | None = None,
        dead_only: bool = False,
        after: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[PositionRow]:
        """See ``StockKpis.positions``."""
        return self.stock_kpis.positions(
            period, warehouses_=warehouses_, dead_only=dead_only, after=after, limit=limit
        )

    def stock_totals(
        self, period: Period, *, warehouses_: Sequence[str] | None = None, dead_only: bool = False
    ) -> PositionTotals:
        """See ``StockKpis.totals``."""
        return self.stock_kpis.totals(period, warehouses_=warehouses_, dead_only=dead_only)

    def prices(self) -> dict[str, Decimal]:
        query = sa.select(products.c.sku, products.c.price)
        return {row.sku: row.price for row in self.connection.execute(query)}
