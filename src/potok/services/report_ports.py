"""What reports need from storage, as a protocol; ``potok.db`` implements it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from potok.domain.analytics import BucketSums, Dimension, OrderFact, Period, PickScan


@dataclass(frozen=True, slots=True)
class DailyDemand:
    sku: str
    warehouse: str
    day: date
    units: int
    channel: str = ""  # when asked per channel


@dataclass(frozen=True, slots=True)
class StockMove:
    """A change of on-hand units; ``at`` None: everything before the period, summed."""

    warehouse: str
    sku: str
    at: datetime | None
    quantity: int


@dataclass(frozen=True, slots=True)
class PositionRow:
    """A stock position as the stock KPIs list it: what lies there now (lots added up)."""

    warehouse: str
    sku: str
    on_hand: int
    available: int


@dataclass(frozen=True, slots=True)
class PositionTotals:
    positions: int
    value: Decimal  # on hand at the products' prices
    dead: int  # on hand and not asked for once in the period
    dead_value: Decimal


class ReportStore(Protocol):
    def order_ids_after(self, after: int, limit: int) -> list[int]: ...
    def refresh(self, order_ids: Sequence[int], at: datetime) -> int:
        """Write the facts of these orders afresh; returns how many were written."""
        ...

    def clear(self) -> None:
        """Forget every order's facts and every day (before a rebuild)."""
        ...

    def facts(self, period: Period, channels_: Sequence[str] | None = None) -> list[OrderFact]: ...
    def sums(
        self,
        period: Period,
        dimension: Dimension,
        *,
        channels: Sequence[str] | None = None,
        warehouses: Sequence[str] | None = None,
        whole: bool = False,
    ) -> list[BucketSums]:
        """The stored days summed per bucket (or the whole period), dimension value and
        currency; only buckets that had orders."""
        ...

    def pick_scans(
        self, period: Period, warehouses_: Sequence[str] | None = None
    ) -> list[PickScan]: ...
    def demand(
        self,
        period: Period,
        *,
        by_channel: bool = False,
        skus: Sequence[str] | None = None,
        warehouses_: Sequence[str] | None = None,
    ) -> list[DailyDemand]: ...
    def add_forecast(self, run: dict[str, Any], series: list[dict[str, Any]]) -> int: ...
    def forget_forecasts(self, keep: int) -> int: ...
    def last_forecast_at(self) -> datetime | None: ...
    def latest_forecast(
        self, sku: str | None = None
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]: ...
    def stock_moves(
        self,
        period: Period,
        *,
        skus: Sequence[str] | None = None,
        warehouses_: Sequence[str] | None = None,
    ) -> list[StockMove]: ...
    def stock_positions(
        self,
        period: Period,
        *,
        warehouses_: Sequence[str] | None = None,
        dead_only: bool = False,
        after: tuple[str, str] | None = None,
        limit: int | None = None,
    ) -> list[PositionRow]:
        """Stock positions (held or asked for in the period) after ``after`` in
        (warehouse, SKU) order; ``dead_only``: on hand and never asked for."""
        ...

    def stock_totals(
        self, period: Period, *, warehouses_: Sequence[str] | None = None, dead_only: bool = False
    ) -> PositionTotals:
        """Count and value of the same positions, and of the dead ones among them."""
        ...

    def prices(self) -> dict[str, Decimal]:
        """Each product's price, by SKU."""
        ...
