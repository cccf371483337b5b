"""The sandbox's past written in bulk reads as history everywhere: the orders, their
shipments and returns as the use cases would have left them (every stock and shipment
invariant holds, the ledger reconciles), the reports' read model rebuilt from them, the
forecast's series with the stock-out days censored; and the stock KPIs a page at a time in
the database give what the whole report gives. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.domain.analytics import Grain, Period
from potok.domain.kernel import utc_now
from potok.sandbox.seed import seed
from potok.services import forecasting, inventory, reports, stock_reports
from potok.services import orders as order_service
from tests.invariants import assert_shipment_invariants, assert_stock_invariants


def test_a_past_written_in_bulk_reads_as_history(potok: Potok) -> None:
    report = seed(potok, orders=20, history_days=75)
    past = report.history
    assert past is not None
    today = utc_now().date()
    assert past.first == today - timedelta(days=74)
    assert (today - past.last).days in (15, 16)  # the fortnight's orders follow it
    assert past.orders > 600
    assert 0 < past.cancelled < past.orders
    assert past.returned > 0

    assert_stock_invariants(potok)
    assert_shipment_invariants(potok)
    assert inventory.reconcile(potok.uow()).drifts == []
    with potok.engine.connect() as connection:
        # each move's balance is the running sum of its position's moves, in time order
        balances = connection.execute(
            sa.text("SELECT stock_id, quantity, on_hand_after FROM stock_movements ORDER BY id")
        ).all()
        facts = connection.execute(sa.text("SELECT count(*) FROM order_facts")).scalar_one()
        orders = connection.execute(sa.text("SELECT count(*) FROM orders")).scalar_one()
    running: dict[int, int] = {}
    for stock_id, quantity, after in balances:
        running[stock_id] = running.get(stock_id, 0) + quantity
        assert running[stock_id] == after
    assert facts == orders  # the past's by the rebuild, the fortnight's refreshed by the seed

    period = Period(past.first, past.last, Grain.WEEK)
    found = reports.order_report(potok.uow(), period)
    assert found.totals[0].orders == past.orders
    assert found.totals[0].return_rate is not None
    assert found.totals[0].return_rate > 0
    assert all(stage.median_s for stage in found.totals[0].stages)
    mondays = [day - timedelta(days=day.weekday()) for day in (past.first, past.last)]
    assert len(found.rows) == (mondays[1] - mondays[0]).days // 7 + 1  # a row a week

    demand = forecasting.load_demand(potok.uow(), past.last, days=60)
    assert len(demand.keys) > 100
    assert demand.units.sum() > 1000
    assert demand.censored.any()  # days that began with an empty shelf and sold nothing

    first = min(int(i) for i in _ids(potok))
    view = order_service.get_order(potok.uow(), first)
    assert view.order.contact.name  # sealed in bulk, opened as any order's
    assert [h.action for h in view.history][:2] == ["created", "confirmed"]


def _ids(potok: Potok) -> list[int]:
    with potok.engine.connect() as connection:
        return list(connection.execute(sa.text("SELECT id FROM orders")).scalars())


def test_the_stock_kpis_a_page_at_a_time_equal_the_whole_report(potok: Potok) -> None:
    seed(potok, orders=10, history_days=45)
    today = utc_now().date()
    whole = stock_reports.stock_figures(potok.uow(), today, days=30)
    assert [(f.warehouse, f.sku) for f in whole] == sorted((f.warehouse, f.sku) for f in whole)
    assert any(f.dead for f in whole)
    assert any(not f.dead for f in whole)

    for dead_only in (False, True):
        paged, cursor, pages = [], None, 0
        while True:
            page = stock_reports.stock_report(
                potok.uow(), today, days=30, dead_only=dead_only, cursor=cursor, limit=70
            )
            paged += page.items
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        expected = [f for f in whole if f.dead or not dead_only]
        assert paged == expected
        assert pages == -(-len(expected) // 70)
        assert page.positions == len(expected)
        assert page.value == sum((f.value for f in expected), start=page.value * 0)
        assert page.dead == sum(1 for f in expected if f.dead)
        assert page.dead_value == sum((f.value for f in expected if f.dead), start=page.value * 0)
        assert page.expiring_value == sum(
            (f.expiring_value for f in expected), start=page.value * 0
        )

    one = stock_reports.stock_report(potok.uow(), today, days=30, warehouses=["SPB-1"], limit=5)
    assert {f.warehouse for f in one.items} == {"SPB-1"}
    assert one.positions == sum(1 for f in whole if f.warehouse == "SPB-1")
