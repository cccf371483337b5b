"""Daily aggregates of order facts: what one order adds to its day's counters and to its
day's stage-time histograms, and the KPI rows built back from summed days.

A dashboard over a year reads a few hundred summed days instead of a million orders.
Counters (orders, revenue, deliveries on time ...) add up exactly. Medians and 90th
percentiles cannot be added, so each stage time falls into a bin of two significant
figures (whole seconds below 100 s; 4,500 s and 4,590 s share the bin 4,500-4,599 s)
that keeps how many orders and how many milliseconds it holds: a percentile reads the
mean of the bin its rank falls in. A bin of one distinct time gives that time exactly;
at worst the figure is off by less than the bin's width (a tenth at 100-109 s, a
hundredth at 990-999 s).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from potok.domain.analytics.kpis import STAGES, Dimension, KpiRow, OrderFact, StageTime
from potok.domain.analytics.periods import Grain, Period, bucket

COUNTERS: tuple[str, ...] = (
    "orders",
    "cancelled",
    "revenue",
    "delivered",
    "delivered_promised",
    "on_time",
    "backordered",
    "returned",
    "units_ordered",
    "units_shipped",
    "shipped_orders",
    "shipping_cost",
    "shipping_estimate",
    "costed_orders",
)
"""What a day keeps per channel, warehouse, carrier and currency (as ``KpiRow`` names them)."""

MONEY = frozenset({"revenue", "shipping_cost", "shipping_estimate"})

GROUPINGS: tuple[str, ...] = tuple(c + w + k for c in "c-" for w in "w-" for k in "k-")
"""Which of channel (c), warehouse (w) and carrier (k) a histogram row is kept per; a dash
means summed over all values (the row holds ``ALL`` there). Every report asks one."""

ALL = "*"


def grouping(dimension: Dimension, *, channels: bool, warehouses: bool) -> str:
    """The histogram rows a report reads: per the dimension and per what it filters by."""
    return (
        ("c" if channels or dimension is Dimension.CHANNEL else "-")
        + ("w" if warehouses or dimension is Dimension.WAREHOUSE else "-")
        + ("k" if dimension is Dimension.CARRIER else "-")
    )


def counters(fact: OrderFact) -> dict[str, int | Decimal]:
    """What one order adds to its day's counters."""
    shipped = fact.handed_over_at is not None and not fact.cancelled
    on_time = fact.on_time()
    costed = fact.shipping_cost is not None and fact.shipping_estimate is not None
    return {
        "orders": 1,
        "cancelled": int(fact.cancelled),
        "revenue": Decimal("0.00") if fact.cancelled else fact.total,
        "delivered": int(fact.delivered_at is not None),
        "delivered_promised": int(on_time is not None),
        "on_time": int(bool(on_time)),
        "backordered": int(fact.backordered),
        "returned": int(shipped and fact.returned),
        "units_ordered": fact.units_ordered if shipped else 0,
        "units_shipped": fact.units_shipped if shipped else 0,
        "shipped_orders": int(shipped),
        "shipping_cost": (fact.shipping_cost or Decimal("0.00")) if costed else Decimal("0.00"),
        "shipping_estimate": (
            (fact.shipping_estimate or Decimal("0.00")) if costed else Decimal("0.00")
        ),
        "costed_orders": int(costed),
    }


def stage_bin(seconds: float) -> int:
    """The bin of a stage time: whole seconds below 100, then two significant figures
    (bins grow with the time; their numbers keep the times' order)."""
    whole = int(max(seconds, 0.0))
    if whole < 100:
        return whole
    digits = len(str(whole))
    mantissa = whole // int(10 ** (digits - 2))  # 10..99
    return 100 + (digits - 3) * 90 + (mantissa - 10)


def stage_marks(fact: OrderFact) -> dict[str, tuple[int, int]]:
    """Each stage the order passed: its bin and its time in whole milliseconds."""
    return {
        stage: (stage_bin(spent), round(spent * 1000))
        for stage, spent in fact.stage_seconds().items()
    }


def fact_key(fact: OrderFact, kept: str) -> tuple[str, str, str]:
    """The (channel, warehouse, carrier) a fact counts under in a grouping."""
    return (
        fact.channel if kept[0] == "c" else ALL,
        fact.warehouse if kept[1] == "w" else ALL,
        fact.carrier if kept[2] == "k" else ALL,
    )


DAY_KEYS = ("created_on", "channel", "warehouse", "carrier", "currency")
CATEGORY_KEYS = ("created_on", "category", "channel", "warehouse", "currency")
BIN_KEYS = (
    "grouping",
    "span",
    "created_on",
    "currency",
    "channel",
    "warehouse",
    "carrier",
    "stage",
    "bin",
)
SPANS: dict[str, Grain] = {"d": Grain.DAY, "w": Grain.WEEK, "m": Grain.MONTH}
"""The histograms are kept per day, per ISO week and per month (dated their first day), so
that a year by month reads twelve months' bins, not 365 days'."""


def full_spans(period: Period, span: str) -> list[tuple[str, date, date]]:
    """The period as ranges of stored histogram rows: the weeks or months wholly inside it
    (rows of ``span``) and the days at either end outside them, as (span, first, last)."""
    grain = SPANS[span]
    if grain is Grain.DAY:
        return [("d", period.since, period.until)]
    first = bucket(period.since, grain)
    if first < period.since:
        first = _next(first, grain)
    last = bucket(period.until, grain)
    if _next(last, grain) - timedelta(days=1) > period.until:  # until ends a span early
        last = bucket(last - timedelta(days=1), grain)
    if last < first:
        return [("d", period.since, period.until)]
    end = _next(last, grain)  # the first day after the whole spans
    found = [(span, first, last)]
    if period.since < first:
        found.append(("d", period.since, first - timedelta(days=1)))
    if end <= period.until:
        found.append(("d", end, period.until))
    return found


def _next(first: date, grain: Grain) -> date:
    if grain is Grain.WEEK:
        return first + timedelta(days=7)
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


Changes = list[tuple[tuple[Any, ...], dict[str, Any]]]


def category_counters(fact: OrderFact) -> Iterator[tuple[str, dict[str, int | Decimal]]]:
    """What one order adds to the day of each of its categories: the order's counters, its
    revenue being the worth of the category's lines."""
    base = counters(fact)
    for category, worth in fact.categories:
        yield category, base | {"revenue": Decimal("0.00") if fact.cancelled else worth}


def day_deltas(
    removed: Iterable[OrderFact], added: Iterable[OrderFact]
) -> tuple[Changes, Changes, Changes]:
    """How the stored days change when facts are replaced: the counters per ``DAY_KEYS``,
    the histogram cells (orders, ms) per ``BIN_KEYS`` and the counters per category
    (``CATEGORY_KEYS``), in key order, changes only."""
    days: dict[tuple[Any, ...], dict[str, Any]] = {}
    bins: dict[tuple[Any, ...], list[int]] = {}
    kinds: dict[tuple[Any, ...], dict[str, Any]] = {}
    spans = tuple(SPANS.items())
    for sign, facts in ((-1, removed), (1, added)):
        for fact in facts:
            created_on = fact.created_on
            key = (created_on, fact.channel, fact.warehouse, fact.carrier, fact.currency)
            row = days.setdefault(key, dict.fromkeys(COUNTERS, 0))
            for name, value in counters(fact).items():
                row[name] += sign * value
            for category, counted in category_counters(fact):
                filed = (created_on, category, fact.channel, fact.warehouse, fact.currency)
                kind = kinds.setdefault(filed, dict.fromkeys(COUNTERS, 0))
                for name, value in counted.items():
                    kind[name] += sign * value
            marks = [(stage, b, sign * ms) for stage, (b, ms) in stage_marks(fact).items()]
            if not marks:
                continue
            # each stage in each grouping, for its day, week and month (the hot loop of a
            # rebuild: the keys are made once per grouping and span, not per stage)
            firsts = [(span, bucket(created_on, grain)) for span, grain in spans]
            for kept in GROUPINGS:
                cut = (fact.currency, *fact_key(fact, kept))
                for span, first in firsts:
                    where = (kept, span, first, *cut)
                    for stage, b, ms in marks:
                        cell_key = (*where, stage, b)
                        cell = bins.get(cell_key)
                        if cell is None:
                            bins[cell_key] = [sign, ms]
                        else:
                            cell[0] += sign
                            cell[1] += ms
    return (
        [(k, v) for k, v in sorted(days.items()) if any(v.values())],
        [(k, {"orders": n, "ms": ms}) for k, (n, ms) in sorted(bins.items()) if n or ms],
        [(k, v) for k, v in sorted(kinds.items()) if any(v.values())],
    )


Bin = tuple[int, int, int]  # bin, orders, milliseconds
Cell = tuple[int, int, int]  # the rank just past a bin, its orders, its milliseconds

QUANTILES = (0.5, 0.9)
"""The stage-time quantiles a KPI row carries: the median and the 90th percentile."""


@dataclass(frozen=True, slots=True)
class Histogram:
    """The bins of one stage's times that a quantile may read, in bin order, each as the rank
    just past it (how many orders its bin and the bins before it hold), its orders and
    milliseconds; ``total`` orders in all. Every bin, or only those around the ranks the
    quantiles fall on: the database reads them so (:func:`near_ranks`)."""

    total: int
    cells: list[Cell] = field(default_factory=list)

    @classmethod
    def of(cls, bins: Iterable[Bin]) -> Histogram:
        """The histogram of whole bins, in any order (emptied ones left out)."""
        ordered = sorted((b, n, ms) for b, n, ms in bins if n > 0)
        ends = list(accumulate(n for _, n, _ in ordered))
        cells = [(end, n, ms) for end, (_, n, ms) in zip(ends, ordered, strict=True)]
        return cls(ends[-1] if ends else 0, cells)

    def quantiles(self, qs: Sequence[float]) -> list[float | None]:
        """The q-th quantiles by linear interpolation between closest ranks, each rank read
        as the mean time of the bin it falls in; None when no order is counted."""
        if self.total <= 0:
            return [None] * len(qs)
        ends = [end for end, _, _ in self.cells]

        def at(index: int) -> float:
            _, n, ms = self.cells[bisect_right(ends, index)]
            return ms / n / 1000

        found: list[float | None] = []
        for q in qs:
            rank = q * (self.total - 1)
            low = int(rank)
            below = at(low)
            found.append(below + (at(min(low + 1, self.total - 1)) - below) * (rank - low))
        return found


def near_ranks(total: int) -> list[tuple[int, int]]:
    """The ranks (first, last) around those each of ``QUANTILES`` reads in a histogram of
    ``total`` orders, in whole numbers: a bin overlapping one of them is all a quantile
    needs. One rank wider each way than the arithmetic asks, so that a float rounding
    either way still finds its bin; ``0.9 x (total - 1)`` floored is ``9 x (total - 1) // 10``
    (the database computes these the same way)."""
    return [(low - 1, low + 2) for low in ((total - 1) // 2, 9 * (total - 1) // 10)]


def bin_percentile(bins: Sequence[Bin], q: float) -> float | None:
    """The q-th quantile by linear interpolation between closest ranks, each rank read as
    the mean time of the bin it falls in; None when no order is counted."""
    return Histogram.of(bins).quantiles((q,))[0]


@dataclass
class BucketSums:
    """One bucket of one dimension value in one currency: summed counters and stage times."""

    period: date
    key: str
    currency: str
    counts: dict[str, int | Decimal] = field(default_factory=dict)
    stages: dict[str, Histogram] = field(default_factory=dict)


def kpi_rows(
    sums: Iterable[BucketSums],
    period: Period,
    dimension: Dimension = Dimension.NONE,
    *,
    whole: bool = False,
) -> list[KpiRow]:
    """KPI rows from summed buckets. Without a dimension every bucket of the period has a
    row, empty ones included (one per currency seen, RUB when none); ``whole``: the period
    is one bucket dated its first day."""
    rows: dict[tuple[date, str, str], KpiRow] = {}
    for found in sums:
        key = (found.period, found.key, found.currency)
        row = KpiRow(*key)
        for name in COUNTERS:
            value = found.counts.get(name)
            if value is not None:
                setattr(row, name, Decimal(value) if name in MONEY else int(value))
        row.stages = _stage_times(found.stages)
        rows[key] = row
    if dimension is Dimension.NONE:
        for currency in sorted({k[2] for k in rows}) or ["RUB"]:
            for first in [period.since] if whole else period.buckets():
                rows.setdefault(
                    (first, "", currency),
                    KpiRow(first, "", currency, stages=_stage_times({})),
                )
    return [rows[k] for k in sorted(rows)]


def _stage_times(stages: Mapping[str, Histogram]) -> list[StageTime]:
    found = []
    for stage in STAGES:
        histogram = stages.get(stage) or Histogram(0)
        median, p90 = histogram.quantiles(QUANTILES)
        found.append(StageTime(stage, histogram.total, median, p90))
    return found


def sum_facts(
    facts: Iterable[OrderFact],
    period: Period,
    dimension: Dimension = Dimension.NONE,
    *,
    whole: bool = False,
) -> list[BucketSums]:
    """The buckets' sums computed in memory from facts, exactly as the stored days add up."""
    found: dict[tuple[date, str, str], BucketSums] = {}
    bins: dict[tuple[date, str, str], dict[tuple[str, int], list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    for fact in facts:
        if not period.since <= fact.created_on <= period.until:
            continue
        first = period.since if whole else bucket(fact.created_on, period.grain)
        if dimension is Dimension.CATEGORY:  # counters only: stage times are per order
            for category, counted in category_counters(fact):
                filed = (first, category, fact.currency)
                under = found.setdefault(filed, BucketSums(*filed))
                for name, value in counted.items():
                    under.counts[name] = under.counts.get(name, 0) + value
            continue
        key = (first, fact.key(dimension), fact.currency)
        sums = found.get(key)
        if sums is None:
            sums = found[key] = BucketSums(*key)
        for name, value in counters(fact).items():
            sums.counts[name] = sums.counts.get(name, 0) + value
        for stage, (b, ms) in stage_marks(fact).items():
            kept = bins[key][stage, b]
            kept[0] += 1
            kept[1] += ms
    for key, sums in found.items():
        per_stage: dict[str, list[Bin]] = defaultdict(list)
        for (stage, b), (n, ms) in bins[key].items():
            per_stage[stage].append((b, n, ms))
        sums.stages = {stage: Histogram.of(kept) for stage, kept in per_stage.items()}
    return list(found.values())


def order_kpis(
    facts: Iterable[OrderFact],
    period: Period,
    dimension: Dimension = Dimension.NONE,
    *,
    whole: bool = False,
) -> list[KpiRow]:
    """The KPIs per bucket and dimension value straight from facts (the same figures the
    stored days give)."""
    sums = sum_facts(facts, period, dimension, whole=whole)
    return kpi_rows(sums, period, dimension, whole=whole)
