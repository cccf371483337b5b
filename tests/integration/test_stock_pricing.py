"""Stock priced for the orders still to come, through the services on both databases: the
pricing job reads the order history, the free stock, what arrives in time and the tariffs;
the engine reads the prices with the network and leaves a hub's last units to the region
only that hub serves cheaply - and takes them again once a delivery is on its way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from potok.bootstrap import Potok
from potok.domain.errors import InvalidInput
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.inventory.purchasing import CreatePurchaseOrder, PurchaseLineRequest
from potok.services import intake, inventory, purchasing, sourcing, stock_pricing
from potok.services import orders as order_service
from potok.services.unit_of_work import atomically
from tests.factories import TESTER, TVER, build_world, order_command

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KOMI = (61.6688, 50.8364)  # Сыктывкар: only the Moscow hub ships there cheaply
HEADER = "warehouse,region,min_km,max_km,fixed_rub,per_kg_rub,per_km_rub,days"
TARIFFS = [
    "MSK,Тверская область,,,100,0,0,2",
    "SPB,Тверская область,,,130,0,0,2",
    "KZN,Тверская область,,,400,0,0,3",
    "MSK,Республика Коми,,,120,0,0,3",
    "SPB,Республика Коми,,,400,0,0,4",
    "KZN,Республика Коми,,,400,0,0,4",
]


def place(potok: Potok, region: str, to: tuple[float, float], at: datetime) -> int:
    command = order_command([("KET", 1)], region=region, to=to)
    placed = intake.place_order(potok.uow(), command, TESTER, clock=lambda: at)
    assert isinstance(placed, intake.Placement)
    assert placed.order.id is not None
    return placed.order.id


def held_at(potok: Potok, order_id: int) -> dict[str, int]:
    order = order_service.get_order(potok.uow(), order_id).order
    return {r.warehouse_code: r.quantity for r in order.open_reservations}


@pytest.fixture
def shop(potok: Potok) -> Potok:
    """Twelve kettles sold over the last ten days, half to Tver, half to Komi, all from the
    Moscow hub (the cheapest to both); one kettle left there, ten at St Petersburg and Kazan."""
    build_world(potok, {("MSK", "KET"): 13, ("SPB", "KET"): 10, ("KZN", "KET"): 10})
    sourcing.import_tariffs(potok.uow(), "\n".join([HEADER, *TARIFFS]), TESTER)
    sourcing.set_rules(
        potok.uow(), "default", {"kinds_by_order_type": {"courier": ["warehouse"]}}, TESTER
    )
    for i in range(12):
        at = T - timedelta(days=10) + timedelta(hours=i)
        region, to = ("Тверская область", TVER) if i % 2 else ("Республика Коми", KOMI)
        assert held_at(potok, place(potok, region, to, at)) == {"MSK": 1}
    return potok


def test_the_hubs_last_unit_is_left_to_the_region_only_it_serves_cheaply(shop: Potok) -> None:
    before = place(shop, "Тверская область", TVER, T)
    assert held_at(shop, before) == {"MSK": 1}  # unpriced: the cheapest ships
    inventory.receive_stock(shop.uow(), ReceiveStock("MSK", "KET", 1), TESTER)

    run = stock_pricing.price_stock(shop.uow(), history_days=28, horizon_days=7, clock=lambda: T)
    assert (run.history_days, run.horizon_days, run.products, run.priced) == (28, 7, 1, 1)
    # the next 7 days want 6/28*7 = 1.5 kettles in Komi, the hub holds 1: a unit less there
    # sends a Komi kettle from Kazan or St Petersburg, 400 - 120 = 280 ₽ a parcel dearer; a
    # unit carries its share of a parcel's fixed fee, a parcel holding 1.5 units: 186.67 ₽
    assert stock_pricing.priced_positions(shop.uow()) == [("MSK", "KET", Decimal("186.67"))]

    after = place(shop, "Тверская область", TVER, T)
    assert held_at(shop, after) == {"SPB": 1}  # 130 ₽ against 100 + 186.67 ₽ needed later
    explained = sourcing.explain_order(shop.uow(), after, today=T.date())
    text = explained.stored[-1].explanation
    assert "the orders still to come need its units less" in text
    assert "against 186.67 ₽ at MSK" in text

    komi = place(shop, "Республика Коми", KOMI, T)
    assert held_at(shop, komi) == {"MSK": 1}  # the hub's unit went where it saves most


def test_a_delivery_arriving_in_time_makes_the_hubs_units_cheap_again(shop: Potok) -> None:
    def buy(expected_on: date) -> None:
        command = CreatePurchaseOrder(
            "Чайники ООО", "MSK", [PurchaseLineRequest("KET", 5)], expected_on=expected_on
        )
        purchasing.create_purchase_order(shop.uow(), command, TESTER, clock=lambda: T)

    buy(date(2026, 3, 20))  # after the horizon: the hub runs short before it comes
    run = stock_pricing.price_stock(shop.uow(), history_days=28, horizon_days=7, clock=lambda: T)
    assert run.priced == 1

    buy(date(2026, 3, 4))  # within the horizon: enough for Komi and Tver alike
    run = stock_pricing.price_stock(shop.uow(), history_days=28, horizon_days=7, clock=lambda: T)
    assert run.priced == 0
    assert stock_pricing.priced_positions(shop.uow()) == []
    assert held_at(shop, place(shop, "Тверская область", TVER, T)) == {"MSK": 1}


def test_bad_windows_are_refused_by_name(potok: Potok) -> None:
    with pytest.raises(InvalidInput) as refused:
        stock_pricing.price_stock(potok.uow(), history_days=0, horizon_days=91)
    assert {e.field for e in refused.value.errors} == {"history_days", "horizon_days"}


def test_the_worker_prices_stock_on_its_schedule_only(shop: Potok) -> None:
    from potok.worker.jobs import run_due_jobs

    assert run_due_jobs(shop, clock=lambda: T).stock_prices is None  # off by default
    assert stock_pricing.priced_positions(shop.uow()) == []

    shop.settings.sourcing.price_stock_every_hours = 6
    first = run_due_jobs(shop, clock=lambda: T).stock_prices
    assert first is not None
    assert (first.actor, first.priced, first.horizon_days) == ("schedule", 1, 7)
    assert stock_pricing.priced_positions(shop.uow()) == [("MSK", "KET", Decimal("186.67"))]
    assert run_due_jobs(shop, clock=lambda: T + timedelta(hours=5)).stock_prices is None
    later = run_due_jobs(shop, clock=lambda: T + timedelta(hours=6, minutes=1)).stock_prices
    assert later is not None
    assert (first.id or 0) < (later.id or 0)


def store_forecast(potok: Potok, until: date, per_day: float, days: int = 14) -> None:
    """A stored forecast run (as ``potok forecast run`` leaves it): kettles per day at MSK."""
    run = {
        "ran_at": T,
        "until_on": until,
        "days": 28,
        "horizon": days,
        "by_channel": False,
        "series": 1,
        "mase": None,
        "mase_seasonal_naive": None,
        "wape": None,
        "bias": None,
        "notes": [],
        "actor": "tester",
    }
    series = [
        {
            "sku": "KET",
            "warehouse": "MSK",
            "channel": "",
            "method": "ses",
            "forecast": [per_day] * days,
            "sigma": 0.1,
            "mase": None,
            "mase_seasonal_naive": None,
            "wape": None,
            "bias": None,
            "note": "",
        }
    ]
    atomically(potok.uow(), lambda uow: uow.reports.add_forecast(run, series))


def test_a_stored_forecast_run_sets_the_demand_the_history_spreads_over_the_regions(
    shop: Potok,
) -> None:
    # the history says 1.5 kettles to Komi this week (its last unit at the hub: 186.67 ₽);
    # the stored forecast says 0.1 a day: 0.7 in the week, 0.35 to Komi and 0.35 to Tver -
    # the hub's one unit is enough for both, and is worth nothing more than its shipping
    store_forecast(shop, until=date(2026, 3, 1), per_day=0.1)
    run = stock_pricing.price_stock(shop.uow(), history_days=28, horizon_days=7, clock=lambda: T)
    assert run.priced == 0
    assert stock_pricing.priced_positions(shop.uow()) == []

    # a run that ended too long ago to cover the week (its 14 days end on 15 February) is
    # not trusted: the history prices the kettle again
    store_forecast(shop, until=date(2026, 2, 1), per_day=0.1)
    stock_pricing.price_stock(shop.uow(), history_days=28, horizon_days=7, clock=lambda: T)
    assert stock_pricing.priced_positions(shop.uow()) == [("MSK", "KET", Decimal("186.67"))]


def test_the_forecast_counts_the_days_of_the_horizon_from_today() -> None:
    head = {"until_on": date(2026, 3, 1)}
    series = [
        {"sku": "A", "forecast": [1.0, 2.0, 3.0, 4.0]},
        {"sku": "A", "forecast": [0.5, 0.5, 0.5, 0.5]},  # another warehouse
        {"sku": "B", "forecast": [1.0, 1.0]},  # too short for the horizon
    ]
    assert stock_pricing.forecast_units(head, series, date(2026, 3, 2), 3) == {"A": 7.5}
    assert stock_pricing.forecast_units(head, series, date(2026, 3, 3), 3) == {"A": 10.5}
    assert stock_pricing.forecast_units(None, [], date(2026, 3, 3), 3) == {}
