"""Order KPIs over a period, cut by day, week or month and by channel, warehouse or carrier,
and per-employee picking figures - from one fact per order and one scan per pick.

An order counts in the bucket of the day it was accepted (its cohort): its revenue, its
later cancellation or return, and the times its stages took are all its cohort's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from potok.domain.analytics.periods import Period

STAGES = ("confirmed", "picked", "packed", "handed_over", "delivered")
"""The stages an order passes after it is accepted; each stage's time runs from the one
before it (``confirmed`` from acceptance)."""

IDLE_S = 15 * 60  # a gap between two scans longer than this is a break, not work


class Dimension(StrEnum):
    """What a KPI series is cut by, besides time."""

    NONE = "none"
    CHANNEL = "channel"
    WAREHOUSE = "warehouse"
    CARRIER = "carrier"
    CATEGORY = "category"  # an order counts under each category of its products (and above)


@dataclass(frozen=True, slots=True)
class OrderFact:
    """What the reports know of one order (one row of the order facts read model)."""

    order_id: int
    channel: str
    warehouse: str  # where its first shipment (or reservation) is; "" when none yet
    carrier: str  # its first shipment's carrier; "" when none
    currency: str
    total: Decimal
    created_at: datetime
    units_ordered: int
    units_shipped: int  # handed over to carriers
    confirmed_at: datetime | None = None
    picked_at: datetime | None = None  # the last unit of its last shipment picked
    packed_at: datetime | None = None
    handed_over_at: datetime | None = None
    delivered_at: datetime | None = None
    promised_at: datetime | None = None
    cancelled: bool = False
    cancel_reason: str | None = None
    backordered: bool = False  # waited for stock at some point
    returned: bool = False
    return_reason: str | None = None
    shipping_cost: Decimal | None = None  # what carriers booked it for
    shipping_estimate: Decimal | None = None  # what the sourcing engine expected
    categories: tuple[tuple[str, Decimal], ...] = ()
    """Each category of its products and every category above them, with the worth of its
    lines there (an order counts once under each)."""

    @property
    def created_on(self) -> date:
        return self.created_at.date()

    def stage_seconds(self) -> dict[str, float]:
        """Seconds each reached stage took from the one before it."""
        times = (
            self.created_at,
            self.confirmed_at,
            self.picked_at,
            self.packed_at,
            self.handed_over_at,
            self.delivered_at,
        )
        found: dict[str, float] = {}
        for stage, before, after in zip(STAGES, times, times[1:], strict=False):
            if before is not None and after is not None:
                found[stage] = max((after - before).total_seconds(), 0.0)
        return found

    def on_time(self) -> bool | None:
        """Delivered by the promised time; None when not delivered or nothing was promised."""
        if self.delivered_at is None or self.promised_at is None:
            return None
        return self.delivered_at <= self.promised_at

    def key(self, dimension: Dimension) -> str:
        if dimension is Dimension.CHANNEL:
            return self.channel
        if dimension is Dimension.WAREHOUSE:
            return self.warehouse
        if dimension is Dimension.CARRIER:
            return self.carrier
        return ""


@dataclass(frozen=True, slots=True)
class StageTime:
    stage: str
    orders: int  # orders that passed it
    median_s: float | None
    p90_s: float | None


def _rate(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


@dataclass
class KpiRow:
    """The KPIs of one bucket of one dimension value in one currency."""

    period: date
    key: str
    currency: str
    orders: int = 0
    cancelled: int = 0
    revenue: Decimal = Decimal("0.00")  # totals of the orders not cancelled
    delivered: int = 0
    delivered_promised: int = 0  # delivered orders that had a promised time
    on_time: int = 0
    backordered: int = 0
    returned: int = 0
    units_ordered: int = 0  # of shipped orders, for the fill rate
    units_shipped: int = 0
    shipped_orders: int = 0  # handed over in full
    shipping_cost: Decimal = Decimal("0.00")  # of orders with both a cost and an estimate
    shipping_estimate: Decimal = Decimal("0.00")
    costed_orders: int = 0
    stages: list[StageTime] = field(default_factory=list)

    @property
    def kept(self) -> int:
        return self.orders - self.cancelled

    @property
    def average_order(self) -> Decimal | None:
        if self.kept == 0:
            return None
        return (self.revenue / self.kept).quantize(Decimal("0.01"))

    @property
    def cancellation_rate(self) -> Decimal | None:
        return _rate(self.cancelled, self.orders)

    @property
    def on_time_rate(self) -> Decimal | None:
        return _rate(self.on_time, self.delivered_promised)

    @property
    def backorder_rate(self) -> Decimal | None:
        return _rate(self.backordered, self.orders)

    @property
    def fill_rate(self) -> Decimal | None:
        return _rate(self.units_shipped, self.units_ordered)

    @property
    def return_rate(self) -> Decimal | None:
        return _rate(self.returned, self.shipped_orders)

    @property
    def shipping_cost_per_order(self) -> Decimal | None:
        if self.costed_orders == 0:
            return None
        return (self.shipping_cost / self.costed_orders).quantize(Decimal("0.01"))

    @property
    def shipping_estimate_per_order(self) -> Decimal | None:
        if self.costed_orders == 0:
            return None
        return (self.shipping_estimate / self.costed_orders).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class ReasonCount:
    kind: str  # cancelled, returned
    reason: str
    orders: int


def reason_counts(facts: Iterable[OrderFact], period: Period) -> list[ReasonCount]:
    """Why orders of the period were cancelled or returned, most frequent first."""
    counts: Counter[tuple[str, str]] = Counter()
    for fact in facts:
        if not period.since <= fact.created_on <= period.until:
            continue
        if fact.cancelled:
            counts["cancelled", fact.cancel_reason or ""] += 1
        if fact.returned:
            counts["returned", fact.return_reason or ""] += 1
    ordered = sorted(counts.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))
    return [ReasonCount(kind, reason, n) for (kind, reason), n in ordered]


@dataclass(frozen=True, slots=True)
class PickScan:
    """One pick scan: who took how many units where and when."""

    actor: str
    warehouse: str
    occurred_at: datetime
    units: int


@dataclass(frozen=True, slots=True)
class EmployeeFigures:
    """What one person picked in the period, and how fast while working."""

    actor: str
    warehouse: str
    scans: int
    units: int
    active_s: float  # the gaps between consecutive scans up to IDLE_S each

    @property
    def units_per_hour(self) -> Decimal | None:
        if self.active_s <= 0:
            return None
        return (Decimal(self.units) * 3600 / Decimal(str(self.active_s))).quantize(Decimal("0.1"))


def employee_figures(scans: Sequence[PickScan], idle_s: float = IDLE_S) -> list[EmployeeFigures]:
    """Units and active time per person and warehouse. Active time adds up the gaps between a
    person's consecutive scans, each at most ``idle_s`` (a longer one is a break and counts
    nothing); picks per hour are units over that time."""
    by_person: dict[tuple[str, str], list[PickScan]] = defaultdict(list)
    for scan in scans:
        by_person[scan.actor, scan.warehouse].append(scan)
    figures = []
    for (actor, warehouse), own in sorted(by_person.items()):
        own.sort(key=lambda s: s.occurred_at)
        active = 0.0
        for before, after in pairwise(own):
            gap = (after.occurred_at - before.occurred_at).total_seconds()
            if gap <= idle_s:
                active += gap
        figures.append(
            EmployeeFigures(actor, warehouse, len(own), sum(s.units for s in own), active)
        )
    return figures
