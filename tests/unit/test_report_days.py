"""Stage-time bins and percentiles read from them, worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from potok.domain.analytics import (
    QUANTILES,
    Dimension,
    Grain,
    Histogram,
    OrderFact,
    Period,
    bin_percentile,
    day_deltas,
    full_spans,
    near_ranks,
    order_kpis,
    percentile,
    stage_bin,
)


def test_a_stage_time_falls_in_a_bin_of_whole_seconds_then_two_significant_figures() -> None:
    assert [stage_bin(s) for s in (0, 7.9, 99.99)] == [0, 7, 99]
    assert stage_bin(100) == stage_bin(109.9) == 100  # 100-109 s
    assert stage_bin(110) == 101
    assert stage_bin(999) == 189  # 990-999 s
    assert stage_bin(1000) == stage_bin(1099) == 190  # 1,000-1,099 s
    assert stage_bin(4500) == stage_bin(4599) == 225
    assert stage_bin(4600) == 226
    assert stage_bin(86_400) == 356  # 86,000-86,999 s
    assert stage_bin(-5) == 0  # a clock that ran backwards counts as no time


def test_a_percentile_of_bins_holding_one_time_each_is_the_exact_percentile() -> None:
    times = [4500.0, 3900.0, 86_400.0, 244_800.0, 1.0]
    bins = [(stage_bin(t), 1, round(t * 1000)) for t in times]
    assert bin_percentile(bins, 0.5) == percentile(times, 0.5) == 4500.0
    assert bin_percentile(bins, 0.9) == pytest.approx(percentile(times, 0.9))
    assert bin_percentile([], 0.5) is None
    assert bin_percentile([(7, 0, 0)], 0.5) is None  # an emptied bin counts nothing


def test_a_bin_of_several_times_answers_with_their_mean() -> None:
    # 4,500 s and 4,590 s share a bin (mean 4,545 s); 9,000 s is alone in its own
    bins = [(stage_bin(4500), 2, 9_090_000), (stage_bin(9000), 1, 9_000_000)]
    assert bin_percentile(bins, 0.5) == 4545.0  # the exact median would be 4,590 s
    assert bin_percentile(bins, 1.0) == 9000.0
    assert bin_percentile(bins, 0.75) == pytest.approx(4545.0 + (9000.0 - 4545.0) * 0.5)


T = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _fact(order_id: int, channel: str, *, cancelled: bool = False) -> OrderFact:
    return OrderFact(
        order_id=order_id,
        channel=channel,
        warehouse="MSK",
        carrier="cdek",
        currency="RUB",
        total=Decimal("100.00"),
        created_at=T,
        units_ordered=2,
        units_shipped=2,
        confirmed_at=T + timedelta(minutes=5),
        cancelled=cancelled,
    )


def test_a_fact_counts_under_each_of_its_categories_with_the_worth_of_their_lines() -> None:
    filed = replace(
        _fact(1, "web"),
        categories=(("home", Decimal("100.00")), ("kettles", Decimal("60.00"))),
    )
    moved = replace(filed, categories=(("home", Decimal("100.00")),), cancelled=True)

    _, _, kinds = day_deltas([filed], [moved])

    day = date(2026, 3, 2)
    assert [(k, v["orders"], v["cancelled"], v["revenue"]) for k, v in kinds] == [
        ((day, "home", "web", "MSK", "RUB"), 0, 1, Decimal("-100.00")),
        ((day, "kettles", "web", "MSK", "RUB"), -1, 0, Decimal("-60.00")),
    ]


def test_replacing_a_fact_moves_its_day_by_the_difference_only() -> None:
    before, after = _fact(1, "web"), _fact(1, "web", cancelled=True)
    days, cells, kinds = day_deltas([before], [after])
    assert days == [
        (
            (date(2026, 3, 2), "web", "MSK", "cdek", "RUB"),
            dict.fromkeys(
                (
                    "orders",
                    "delivered",
                    "delivered_promised",
                    "on_time",
                    "backordered",
                    "returned",
                    "units_ordered",
                    "units_shipped",
                    "shipped_orders",
                    "costed_orders",
                ),
                0,
            )
            | {
                "cancelled": 1,
                "revenue": Decimal("-100.00"),
                "shipping_cost": Decimal("0.00"),
                "shipping_estimate": Decimal("0.00"),
            },
        )
    ]
    assert cells == []  # the stage times did not change
    assert kinds == []  # in no category
    assert day_deltas([before], [before]) == ([], [], [])
    _, added, _ = day_deltas([], [before])
    # the confirmation (300 s) in each of the eight groupings, for its day, week and month
    assert len(added) == 24
    assert {k[0] for k, _ in added} == {"cwk", "cw-", "c-k", "c--", "-wk", "-w-", "--k", "---"}
    assert {(k[1], k[2]) for k, _ in added} == {
        ("d", date(2026, 3, 2)),
        ("w", date(2026, 3, 2)),  # a Monday
        ("m", date(2026, 3, 1)),
    }
    assert all(v == {"orders": 1, "ms": 300_000} for _, v in added)


def test_kpis_from_facts_count_an_order_in_its_channel_and_in_the_totals() -> None:
    facts = [_fact(1, "web"), _fact(2, "mp", cancelled=True), _fact(3, "web")]
    period = Period(date(2026, 3, 1), date(2026, 3, 31))
    by_channel = order_kpis(facts, period, Dimension.CHANNEL)
    assert [(r.key, r.orders, r.cancelled, r.revenue) for r in by_channel] == [
        ("mp", 1, 1, Decimal("0.00")),
        ("web", 2, 0, Decimal("200.00")),
    ]
    (total,) = order_kpis(facts, period, whole=True)
    assert (total.orders, total.revenue, total.stages[0].median_s) == (3, Decimal("200.00"), 300.0)


def test_a_period_is_read_as_its_whole_months_or_weeks_and_the_days_around_them() -> None:
    year = Period(date(2025, 12, 8), date(2026, 12, 7), Grain.MONTH)
    assert full_spans(year, "m") == [
        ("m", date(2026, 1, 1), date(2026, 11, 1)),  # January to November, eleven rows
        ("d", date(2025, 12, 8), date(2025, 12, 31)),
        ("d", date(2026, 12, 1), date(2026, 12, 7)),
    ]
    november = Period(date(2026, 11, 1), date(2026, 11, 30))
    assert full_spans(november, "m") == [("m", date(2026, 11, 1), date(2026, 11, 1))]
    assert full_spans(november, "w") == [
        ("w", date(2026, 11, 2), date(2026, 11, 23)),  # Monday 2 to Sunday 29
        ("d", date(2026, 11, 1), date(2026, 11, 1)),
        ("d", date(2026, 11, 30), date(2026, 11, 30)),
    ]
    two_days = Period(date(2026, 11, 20), date(2026, 11, 21))
    assert full_spans(two_days, "w") == [("d", date(2026, 11, 20), date(2026, 11, 21))]
    assert full_spans(two_days, "d") == [("d", date(2026, 11, 20), date(2026, 11, 21))]


@given(
    st.lists(
        st.tuples(st.integers(0, 400), st.integers(0, 40), st.integers(0, 10**9)),
        min_size=0,
        max_size=60,
    )
)
def test_the_bins_near_the_quantiles_ranks_give_what_every_bin_gives(
    raw: list[tuple[int, int, int]],
) -> None:
    """The database sends only the bins overlapping ``near_ranks``; the median and the 90th
    percentile read from them are those read from the whole histogram."""
    bins = list({b: (b, n, ms * n) for b, n, ms in raw}.values())  # one entry per bin
    whole = Histogram.of(bins)
    near = near_ranks(whole.total)
    kept = [
        (end, n, ms)
        for end, n, ms in whole.cells
        if any(end - 1 >= first and end - n <= last for first, last in near)
    ]
    assert Histogram(whole.total, kept).quantiles(QUANTILES) == whole.quantiles(QUANTILES)
    assert len(kept) <= 8  # a handful of bins, however many there are


def test_the_ranks_near_a_quantile_are_worked_out_in_whole_numbers() -> None:
    # 11 orders: the median reads rank 5, the 90th percentile rank 9 (0.9 x 10)
    assert near_ranks(11) == [(4, 7), (8, 11)]
    # 31 orders: the median reads rank 15, the 90th percentile rank 27 (0.9 x 30)
    assert near_ranks(31) == [(14, 17), (26, 29)]
    assert near_ranks(1) == [(-1, 2), (-1, 2)]
