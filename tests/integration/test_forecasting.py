"""Demand series read from the orders and the stock ledger: days that began out of stock
and sold nothing are censored, not zeros; a short history gets the baseline with a note;
reorder points and order-up-to levels follow from the forecast, worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from potok.bootstrap import Potok
from potok.domain.inventory.commands import ReceiveStock
from potok.services import forecasting, inventory, reports, stock_reports
from potok.services.intake import Placement, place_order
from tests.factories import TESTER, build_world, order_command

NOV_1 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _history(potok: Potok) -> None:
    """KET: 40 on hand from October, two sold a day for 14 days. TOY: none until the
    morning of day 5, when 10 arrive; one sold a day from then on."""
    build_world(potok)
    clock = Clock(NOV_1 - timedelta(days=1))
    inventory.receive_stock(potok.uow(), ReceiveStock("MSK", "KET", 40), TESTER, clock=clock)
    for day in range(14):
        if day == 5:
            clock.moment = NOV_1 + timedelta(days=5, hours=-3)
            inventory.receive_stock(
                potok.uow(), ReceiveStock("MSK", "TOY", 10), TESTER, clock=clock
            )
        clock.moment = NOV_1 + timedelta(days=day)
        lines = [("KET", 2)] + ([("TOY", 1)] if day >= 5 else [])
        placed = place_order(potok.uow(), order_command(lines), TESTER, clock=clock)
        assert isinstance(placed, Placement)
    reports.rebuild_order_facts(potok.uow())


def test_stock_out_days_are_censored_and_the_forecast_gives_reorder_points(
    potok: Potok,
) -> None:
    _history(potok)
    demand = forecasting.load_demand(potok.uow(), date(2026, 11, 14), days=14)
    assert demand.keys == [("KET", "MSK"), ("TOY", "MSK")]
    assert demand.units[0].tolist() == [2.0] * 14
    assert demand.units[1].tolist() == [0.0] * 5 + [1.0] * 9
    assert demand.censored[0].tolist() == [False] * 14
    assert demand.censored[1].tolist() == [True] * 5 + [False] * 9

    run = forecasting.forecast_demand(demand)
    assert run.notes == [
        "14 days of history: too few for a backtest (98 needed); every series gets the "
        "seasonal naive"
    ]
    ket, toy = run.series
    assert (ket.method, ket.forecast[:3], ket.sigma, ket.note) == (
        "seasonal_naive",
        [2.0] * 3,
        0,
        "",
    )
    assert toy.forecast[:3] == [1.0] * 3  # the stock-out days did not drag it to 0
    assert toy.note == "9 days of known demand: the baseline, not a fitted method"

    positions, rules = forecasting.stock_positions(potok.uow())
    assert positions == {("MSK", "KET"): 12, ("MSK", "TOY"): 1}  # available: 40-28, 10-9
    found = {s.sku: s for s in forecasting.reorder_suggestions(run, positions, rules, lead_days=7)}
    # KET: 2 a day x 7 days of lead time, no spread: reorder point 14, up to 14 + 14 = 28
    assert (found["KET"].reorder_point, found["KET"].order_up_to) == (14, 28)
    assert found["KET"].suggested_quantity == 16  # 28 - 12
    assert (found["TOY"].reorder_point, found["TOY"].order_up_to) == (7, 14)
    assert found["TOY"].suggested_quantity == 13  # 14 - 1
    assert "order up to 28" in found["KET"].why


def test_stock_kpis_turnover_cover_dead_stock_and_value(potok: Potok) -> None:
    _history(potok)
    clock = Clock(NOV_1 + timedelta(days=3))
    inventory.receive_stock(potok.uow(), ReceiveStock("MSK", "MUG", 5), TESTER, clock=clock)
    found = {
        f.sku: f for f in stock_reports.stock_figures(potok.uow(), date(2026, 11, 14), days=14)
    }
    ket, toy, mug = found["KET"], found["TOY"], found["MUG"]
    # KET: 40 on hand all along, 28 ordered (12 left available): turned 28/40 = 0.7 times,
    # 2 a day cover the 12 for 6 days; 40 x 2490.00 on hand
    assert (ket.on_hand, ket.available, ket.sold, ket.average_on_hand) == (40, 12, 28, 40.0)
    assert (ket.turnover, ket.days_of_cover, ket.dead) == (0.7, 6.0, False)
    assert ket.value == Decimal("99600.00")
    # TOY: nothing for six mornings, then 10 for eight: 80/14 = 5.71 on average; 9 sold
    assert (toy.sold, toy.average_on_hand, toy.turnover) == (9, 5.71, 1.58)
    assert toy.days_of_cover == 1.6  # 1 available at 9/14 a day
    # MUG: 5 arrived on day 3 and nobody asked: dead stock, no cover figure
    assert (mug.on_hand, mug.sold, mug.dead, mug.days_of_cover) == (5, 0, True, None)
    assert mug.value == Decimal("1950.00")
    assert (mug.expiring_units, mug.expiring_value) == (0, Decimal("0.00"))


def test_a_run_per_channel_is_stored_and_the_schedule_runs_it_once_a_day(potok: Potok) -> None:
    _history(potok)  # KET two a day on the web channel
    clock = Clock(NOV_1 + timedelta(days=2, hours=1))
    placed = place_order(
        potok.uow(), order_command([("KET", 3)], channel="phone"), TESTER, clock=clock
    )
    assert isinstance(placed, Placement)
    reports.rebuild_order_facts(potok.uow())
    stored = forecasting.run_forecast(
        potok.uow(),
        date(2026, 11, 14),
        days=14,
        horizon=7,
        by_channel=True,
        clock=Clock(datetime(2026, 11, 14, 0, 0, tzinfo=UTC)),
    )
    assert [(s.sku, s.warehouse, s.channel) for s in stored.run.series] == [
        ("KET", "MSK", "phone"),
        ("KET", "MSK", "web"),
        ("TOY", "MSK", "web"),
    ]
    with potok.uow() as uow:
        head, series = uow.reports.latest_forecast("KET")
    assert head is not None
    assert (head["id"], head["by_channel"], head["series"], head["horizon"]) == (
        stored.id,
        True,
        3,
        7,
    )
    # the phone's one order was on day 3: its last week had none; the web's two a day
    assert [(r["channel"], r["method"], r["forecast"]) for r in series] == [
        ("phone", "seasonal_naive", [0.0] * 7),
        ("web", "seasonal_naive", [2.0] * 7),
    ]
    together = forecasting.run_forecast(
        potok.uow(), date(2026, 11, 14), days=14, horizon=7, clock=Clock(NOV_1)
    )
    ket = together.run.series[0]
    assert (ket.channel, ket.forecast) == ("", [2.0] * 7)  # day 3's 5 units are two weeks back

    morning = datetime(2026, 11, 15, 6, 0, tzinfo=UTC)  # newest run: Nov 14, 00:00
    first = forecasting.forecast_when_due(potok.uow(), 24, clock=Clock(morning))
    assert first is not None
    assert (first.until, len(first.run.series)) == (date(2026, 11, 14), 2)
    later = Clock(morning + timedelta(hours=23))
    assert forecasting.forecast_when_due(potok.uow(), 24, clock=later) is None
    next_day = Clock(morning + timedelta(hours=24))
    again = forecasting.forecast_when_due(potok.uow(), 24, clock=next_day)
    assert again is not None
    assert again.id > first.id
    never = Clock(morning + timedelta(days=9))
    assert forecasting.forecast_when_due(potok.uow(), 0, clock=never) is None  # switched off


def test_only_the_newest_runs_are_kept(potok: Potok) -> None:
    _history(potok)
    ids = [
        forecasting.run_forecast(potok.uow(), date(2026, 11, 14), days=14, horizon=1).id
        for _ in range(forecasting.FORECASTS_KEPT + 2)
    ]
    with potok.uow() as uow:
        head, series = uow.reports.latest_forecast()
        assert uow.reports.forget_forecasts(forecasting.FORECASTS_KEPT) == 0
        assert uow.reports.forget_forecasts(1) == forecasting.FORECASTS_KEPT - 1  # not kept
    assert head is not None
    assert head["id"] == ids[-1]
    assert len(series) == 2
