"""Reading the daily aggregates: whatever the cut - grain, dimension, a channel or
warehouse filter, a period that starts and ends inside weeks and months - the KPIs read
from the stored days are the ones computed straight from the facts.

Forty orders spread over six weeks across a month's end, in two channels, two warehouses
and two carriers, with stage times of seconds to days, are written into the days as the
reaction writes them (``ReportDays.apply``); each report is then compared with
``order_kpis`` over the same facts, filtered by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.db.queries.report_days import ReportDays
from potok.domain.analytics import Dimension, Grain, OrderFact, Period, order_kpis
from potok.services import reports

START = datetime(2026, 9, 24, 8, 0, tzinfo=UTC)  # a Thursday; September ends 6 days later


def _facts() -> list[OrderFact]:
    found = []
    for n in range(40):
        at = START + timedelta(days=n, hours=n % 7)
        confirmed = at + timedelta(seconds=30 + 17 * n)
        picked = confirmed + timedelta(minutes=5 + 11 * (n % 9))
        packed = picked + timedelta(seconds=40 + 900 * (n % 4))
        handed = packed + timedelta(hours=1 + n % 5)
        found.append(
            OrderFact(
                order_id=n + 1,
                channel=("web", "mp")[n % 2],
                warehouse=("MSK", "SPB")[(n // 2) % 2],
                carrier=("cdek", "pochta")[(n // 3) % 2],
                currency="RUB",
                total=Decimal(1000 + 37 * n) + Decimal("0.50"),
                created_at=at,
                units_ordered=1 + n % 3,
                units_shipped=1 + n % 3 - (1 if n % 11 == 0 else 0),
                confirmed_at=confirmed,
                picked_at=picked if n % 13 else None,
                packed_at=packed if n % 13 else None,
                handed_over_at=handed if n % 13 else None,
                delivered_at=handed + timedelta(days=1 + n % 4) if n % 13 and n % 5 else None,
                promised_at=at + timedelta(days=3),
                cancelled=n % 13 == 0,
                backordered=n % 6 == 0,
                returned=n % 8 == 0,
                shipping_cost=Decimal("300.00") + n,
                shipping_estimate=Decimal("320.00"),
            )
        )
    return found


@pytest.fixture
def days(potok: Potok) -> list[OrderFact]:
    facts = _facts()
    with potok.engine.begin() as connection:
        ReportDays(connection).apply([], facts)
    return facts


PERIODS = [
    Period(date(2026, 9, 24), date(2026, 11, 2)),  # every day, from inside a week and month
    Period(date(2026, 9, 28), date(2026, 10, 31)),  # whole weeks, a whole month
    Period(date(2026, 9, 30), date(2026, 10, 13)),  # a month's last day and two weeks
    Period(date(2026, 10, 7), date(2026, 10, 7)),  # one day
]
FILTERS: list[tuple[list[str] | None, list[str] | None]] = [
    (None, None),
    (["mp"], None),
    (None, ["SPB"]),
    (["web"], ["MSK", "SPB"]),
]


@pytest.mark.parametrize("grain", list(Grain))
def test_every_cut_of_the_stored_days_equals_the_kpis_of_the_facts(
    potok: Potok, days: list[OrderFact], grain: Grain
) -> None:
    checked = 0
    for span in PERIODS:
        period = Period(span.since, span.until, grain)
        for dimension in Dimension:
            for channels, warehouses in FILTERS:
                wanted = [
                    f
                    for f in days
                    if (channels is None or f.channel in channels)
                    and (warehouses is None or f.warehouse in warehouses)
                ]
                found = reports.order_report(
                    potok.uow(), period, dimension, channels=channels, warehouses=warehouses
                )
                expected = order_kpis(wanted, period, dimension)
                cut = (period, dimension, channels, warehouses)
                assert [reports.flat(r) for r in found.rows] == [
                    reports.flat(r) for r in expected
                ], cut
                whole = order_kpis(wanted, period, whole=True)
                assert [reports.flat(r) for r in found.totals] == [
                    reports.flat(r) for r in whole
                ], cut
                checked += 1
    assert checked == len(PERIODS) * len(Dimension) * len(FILTERS)


def test_a_hand_worked_cut_by_warehouse_over_a_week(potok: Potok, days: list[OrderFact]) -> None:
    """5-11 October is n = 11..17; SPB holds n // 2 odd: 11, 14 and 15 (mp, web, mp)."""
    week = Period(date(2026, 10, 5), date(2026, 10, 11), Grain.WEEK)
    found = reports.order_report(potok.uow(), week, Dimension.CHANNEL, warehouses=["SPB"])
    assert [(r.period, r.key, r.orders, r.revenue) for r in found.rows] == [
        (date(2026, 10, 5), "mp", 2, Decimal("2963.00")),  # 1,407.50 + 1,555.50
        (date(2026, 10, 5), "web", 1, Decimal("1518.50")),
    ]
    (confirmed,) = [s for s in found.totals[0].stages if s.stage == "confirmed"]
    # 30 s + 17 s x n: 217, 268 and 285 s, each alone in its bin
    assert confirmed.orders == 3
    assert confirmed.median_s == 268.0
    assert confirmed.p90_s == pytest.approx(268.0 + (285.0 - 268.0) * 0.8)
