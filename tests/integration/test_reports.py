"""Order KPIs from a small world built through the services with a clock: three orders on
a Friday (one cancelled, two picked, packed, handed over and delivered, one of them late)
and a backordered one on Saturday. The expected figures are worked out by hand below.
The read model is written by the after-commit reaction (the dispatcher) and by a rebuild,
and both give the same facts."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.connectors.carriers.interface import TrackingEvent, TrackingStatus
from potok.db import migrate
from potok.db.queries.reports import Reports
from potok.domain.analytics import Dimension, Grain, Period, PeriodTooLong, order_kpis
from potok.domain.catalogue import CategoryDraft
from potok.domain.fulfilment import ParcelDraft, ParcelLine
from potok.domain.kernel import Actor, ActorKind
from potok.domain.orders.commands import CancelOrder
from potok.services import catalogue, categories, reports
from potok.services import orders as order_service
from potok.services.fulfilment import handover, packing, picking, release, tracking
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from potok.worker.dispatcher import Dispatcher, new_client
from tests.factories import TESTER, build_world, order_command
from tests.integration.test_after_commit_reactions import drain

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday
FRIDAY, SATURDAY = date(2026, 11, 20), date(2026, 11, 21)
ANNA = Actor(ActorKind.USER, "anna")
H, M = timedelta(hours=1), timedelta(minutes=1)


class Clock:
    def __init__(self) -> None:
        self.moment = T0

    def __call__(self) -> datetime:
        return self.moment


def _place(potok: Potok, clock: Clock, at: datetime, lines: list[tuple[str, int]]) -> int:
    clock.moment = at
    placed = place_order(
        potok.uow(), order_command(lines, promised_at=T0 + 2 * 24 * H), TESTER, clock=clock
    )
    assert isinstance(placed, Placement)
    return placed.order.id or 0


def _ship(potok: Potok, clock: Clock, order_id: int, steps: dict[str, object]) -> None:
    """Release, pick (one scan per (time, units)), pack, hand over and deliver at given times."""
    clock.moment = steps["release"]  # type: ignore[assignment]
    (shipment,) = release.release_order(potok.uow(), order_id, "MSK", TESTER, clock=clock)
    sid = shipment.id or 0
    for at, units in steps["picks"]:  # type: ignore[attr-defined]
        clock.moment = at
        picking.pick(potok.uow(), sid, ScanInput("KET", units), ANNA, clock=clock)
    clock.moment = steps["pack"]  # type: ignore[assignment]
    picked = sum(u for _, u in steps["picks"])  # type: ignore[attr-defined]
    draft = ParcelDraft(1300 * picked, 300, 200, 200, (ParcelLine(1, picked),))
    packing.pack_parcel(potok.uow(), sid, draft, TESTER, clock=clock)
    clock.moment = steps["hand_over"]  # type: ignore[assignment]
    number = f"C-{order_id}"
    handover.hand_over(
        potok.uow(), sid, TESTER, carrier="courier", tracking_number=number, clock=clock
    )
    delivered = steps["delivered"]
    assert isinstance(delivered, datetime)
    event = TrackingEvent(number, TrackingStatus.DELIVERED, delivered, "Вручено", f"e-{number}")
    tracking.apply_tracking(potok.uow(), "courier", [event], clock=clock)


@pytest.fixture
def world(potok: Potok) -> dict[str, int]:
    build_world(potok, {("MSK", "KET"): 10})
    clock = Clock()
    a = _place(potok, clock, T0, [("KET", 2)])  # 4980.00
    b = _place(potok, clock, T0 + 30 * M, [("KET", 1)])  # 2490.00, cancelled
    c = _place(potok, clock, T0 + H, [("KET", 1)])  # 2490.00, delivered late
    clock.moment = T0 + H
    order_service.cancel_order(potok.uow(), CancelOrder(b, "changed mind"), TESTER, clock=clock)
    _ship(
        potok,
        clock,
        a,
        {
            "release": T0 + H,
            "picks": [(T0 + H + 10 * M, 1), (T0 + H + 15 * M, 1)],
            "pack": T0 + 2 * H,
            "hand_over": T0 + 3 * H,
            "delivered": T0 + 27 * H,  # on time (promised T0 + 48 h)
        },
    )
    _ship(
        potok,
        clock,
        c,
        {
            "release": T0 + 2 * H,
            "picks": [(T0 + 2 * H + 5 * M, 1)],
            "pack": T0 + 2 * H + 30 * M,
            "hand_over": T0 + 4 * H,
            "delivered": T0 + 72 * H,  # late
        },
    )
    d = _place(potok, clock, T0 + 24 * H, [("TOY", 1)])  # none in stock: backordered
    return {"a": a, "b": b, "c": c, "d": d}


def _facts(potok: Potok) -> list[tuple[object, ...]]:
    with potok.engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                sa.text(
                    "SELECT order_id, channel, warehouse, carrier, total, units_ordered, "
                    "units_shipped, cancelled, backordered, picked_at, delivered_at "
                    "FROM order_facts ORDER BY order_id"
                )
            )
        ]


def test_the_reaction_keeps_the_facts_current_and_a_rebuild_writes_the_same(
    potok: Potok, world: dict[str, int]
) -> None:
    assert _facts(potok) == []  # the reaction waits for the dispatcher
    with new_client() as client:
        drain(Dispatcher(potok, client, name="tests"))
    by_reaction = _facts(potok)
    assert [(f[0], f[2], f[3], f[5], f[6], bool(f[7]), bool(f[8])) for f in by_reaction] == [
        (world["a"], "MSK", "courier", 2, 2, False, False),
        (world["b"], "MSK", "", 1, 0, True, False),
        (world["c"], "MSK", "courier", 1, 1, False, False),
        (world["d"], "", "", 1, 0, False, True),
    ]
    with potok.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM order_facts"))
    assert reports.rebuild_order_facts(potok.uow(), batch=3) == 4
    assert _facts(potok) == by_reaction


def test_order_kpis_by_day_and_week_are_the_hand_worked_figures(
    potok: Potok, world: dict[str, int]
) -> None:
    reports.rebuild_order_facts(potok.uow())
    day = reports.order_report(potok.uow(), Period(FRIDAY, SATURDAY, Grain.DAY))
    friday, saturday = day.rows
    assert (friday.period, friday.orders, friday.cancelled) == (FRIDAY, 3, 1)
    assert friday.revenue == Decimal("7470.00")  # 4980 + 2490; the cancelled one not
    assert friday.average_order == Decimal("3735.00")
    assert friday.cancellation_rate == Decimal("0.3333")
    assert (friday.delivered, friday.on_time, friday.on_time_rate) == (2, 1, Decimal("0.5000"))
    assert friday.fill_rate == Decimal("1.0000")  # 3 units ordered, 3 handed over
    assert friday.backorder_rate == Decimal("0.0000")
    assert friday.return_rate == Decimal("0.0000")
    stages = {s.stage: (s.orders, s.median_s, s.p90_s) for s in friday.stages}
    # picked: A 75 min after its confirmation (4500 s), C 65 min (3900 s)
    assert stages["picked"] == (2, 4200.0, pytest.approx(4440.0))
    assert stages["packed"] == (2, 2100.0, pytest.approx(2580.0))  # 2700 s and 1500 s
    assert stages["handed_over"] == (2, 4500.0, pytest.approx(5220.0))  # 3600 s and 5400 s
    # delivered: A 24 h after hand-over (86400 s), C 68 h (244800 s)
    assert stages["delivered"] == (2, 165600.0, pytest.approx(228960.0))
    assert stages["confirmed"] == (3, 0.0, 0.0)  # the web channel confirms at once
    assert (saturday.orders, saturday.backordered, saturday.backorder_rate) == (
        1,
        1,
        Decimal("1.0000"),
    )
    assert saturday.stages[1].median_s is None  # nothing picked: no time, not an error

    week = reports.order_report(potok.uow(), Period(FRIDAY, SATURDAY, Grain.WEEK))
    (row,) = week.rows
    assert (row.period, row.orders, row.backorder_rate) == (date(2026, 11, 16), 4, Decimal("0.25"))

    by_warehouse = reports.order_report(
        potok.uow(), Period(FRIDAY, SATURDAY), Dimension.WAREHOUSE
    ).rows
    assert [(r.period, r.key, r.orders) for r in by_warehouse] == [
        (FRIDAY, "MSK", 3),
        (SATURDAY, "", 1),
    ]
    assert (
        reports.order_report(potok.uow(), Period(FRIDAY, SATURDAY), channels=["mp"]).rows[0].orders
        == 0
    )  # a channel with no orders: empty series, not an error


def test_reasons_and_picks_per_hour(potok: Potok, world: dict[str, int]) -> None:
    reports.rebuild_order_facts(potok.uow())
    reasons = reports.reasons_report(potok.uow(), Period(FRIDAY, SATURDAY))
    assert [(r.kind, r.reason, r.orders) for r in reasons] == [("cancelled", "changed mind", 1)]
    (anna,) = reports.employee_report(potok.uow(), Period(FRIDAY, FRIDAY))
    # scans at 10:10, 10:15 and 11:05: the 5-minute gap is work, the 50-minute one a break
    assert (anna.actor, anna.warehouse, anna.scans, anna.units, anna.active_s) == (
        "user:anna",
        "MSK",
        3,
        3,
        300.0,
    )
    assert anna.units_per_hour == Decimal("36.0")


def test_a_period_over_ten_years_is_refused_with_the_reason() -> None:
    with pytest.raises(PeriodTooLong) as caught:
        Period(date(2010, 1, 1), date(2026, 1, 1), Grain.MONTH)
    assert caught.value.code == "report-period-too-long"
    Period(date(2020, 1, 1), date(2026, 1, 1), Grain.MONTH)  # six years by month: fine
    with pytest.raises(PeriodTooLong):
        Period(date(2020, 1, 1), date(2026, 1, 1), Grain.DAY)  # 2,000+ daily buckets


def _agree(potok: Potok, period: Period, **cut: object) -> list[dict[str, object]]:
    """The report from the stored days, after checking it equals the one from the facts."""
    dimension = cut.get("dimension", Dimension.NONE)
    assert isinstance(dimension, Dimension)
    from_days = reports.order_report(potok.uow(), period, dimension)
    with potok.uow() as uow:
        facts = uow.reports.facts(period)
    expected = [reports.flat(r) for r in order_kpis(facts, period, dimension)]
    assert [reports.flat(r) for r in from_days.rows] == expected
    totals = [reports.flat(r) for r in order_kpis(facts, period, whole=True)]
    assert [reports.flat(r) for r in from_days.totals] == totals
    return expected


def test_the_days_follow_the_facts_through_the_reaction_a_late_change_and_a_rebuild(
    potok: Potok, world: dict[str, int]
) -> None:
    with new_client() as client:
        drain(Dispatcher(potok, client, name="tests"))
    cuts = [
        (Period(FRIDAY, SATURDAY, grain), dimension) for grain in Grain for dimension in Dimension
    ]
    for period, dimension in cuts:
        _agree(potok, period, dimension=dimension)
    (before,) = _agree(potok, Period(FRIDAY, FRIDAY, Grain.MONTH))
    assert (before["orders"], before["cancelled"], before["revenue"]) == (3, 1, Decimal("7470.00"))
    order_service.cancel_order(
        potok.uow(), CancelOrder(world["d"], "no stock"), TESTER, clock=lambda: T0 + 30 * H
    )
    with new_client() as client:
        drain(Dispatcher(potok, client, name="tests"))
    saturday = _agree(potok, Period(SATURDAY, SATURDAY))
    assert (saturday[0]["orders"], saturday[0]["cancelled"]) == (1, 1)
    reports.rebuild_order_facts(potok.uow(), batch=2)
    for period, dimension in cuts:
        _agree(potok, period, dimension=dimension)
    by_channel = reports.order_report(
        potok.uow(), Period(FRIDAY, SATURDAY), Dimension.WAREHOUSE, warehouses=["MSK"]
    )
    assert [(r.period, r.key, r.orders, r.stages[2].median_s) for r in by_channel.rows] == [
        (FRIDAY, "MSK", 3, 2100.0)
    ]
    assert by_channel.totals[0].orders == 3  # Saturday's order has no warehouse yet


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_refreshes_of_one_order_at_once_take_its_old_facts_off_once(
    potok: Potok, world: dict[str, int]
) -> None:
    """A refresh locks the facts it replaces: the second waits, then reads the first's.
    Without the lock (tried on purpose) the second takes the stale facts off again and
    the day counts the cancellation twice."""
    reports.rebuild_order_facts(potok.uow())
    order_service.cancel_order(
        potok.uow(), CancelOrder(world["d"], "no stock"), TESTER, clock=lambda: T0 + 30 * H
    )  # the facts still say "not cancelled" until a refresh
    second_read, first_committed = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    class Second(Reports):
        def _facts_of(self, ids: list[int], at: datetime) -> list[dict[str, object]]:
            second_read.set()
            first_committed.wait(30)
            return super()._facts_of(ids, at)

    def second() -> None:
        try:
            with potok.engine.begin() as connection:
                Second(connection).refresh([world["d"]], T0 + 31 * H)
        except BaseException as error:
            failures.append(error)

    with potok.engine.begin() as connection:
        Reports(connection).refresh([world["d"]], T0 + 31 * H)
        racer = threading.Thread(target=second)
        racer.start()
        second_read.wait(3)  # with the lock it never comes: the second waits for us
    first_committed.set()
    racer.join(60)
    assert failures == []
    (saturday,) = _agree(potok, Period(SATURDAY, SATURDAY))
    assert (saturday["orders"], saturday["cancelled"], saturday["revenue"]) == (
        1,
        1,
        Decimal("0.00"),
    )


def test_the_upgrade_fills_the_days_from_the_facts_already_stored(
    potok: Potok, world: dict[str, int]
) -> None:
    reports.rebuild_order_facts(potok.uow())
    november = Period(date(2026, 11, 1), date(2026, 11, 30), Grain.MONTH)
    before = _agree(potok, november, dimension=Dimension.CHANNEL)
    migrate.downgrade(potok.engine, "b0e7d7e00001")  # the revision before the days
    migrate.upgrade(potok.engine)
    for grain in Grain:
        for dimension in Dimension:
            _agree(potok, Period(november.since, november.until, grain), dimension=dimension)
    assert _agree(potok, november, dimension=Dimension.CHANNEL) == before
    assert [(r["key"], r["orders"]) for r in before] == [("web", 4)]


def test_orders_by_category_count_each_order_under_its_categories_and_those_above(
    potok: Potok, world: dict[str, int]
) -> None:
    for code, parent in (("home", None), ("kitchen", "home"), ("kettles", "kitchen")):
        categories.create_category(potok.uow(), CategoryDraft(code, code.title(), parent))
    categories.create_category(potok.uow(), CategoryDraft("toys", "Toys"))
    catalogue.assign_category(potok.uow(), "kettles", ["KET"])
    catalogue.assign_category(potok.uow(), "toys", ["TOY"])
    reports.rebuild_order_facts(potok.uow())

    found = reports.order_report(potok.uow(), Period(FRIDAY, SATURDAY), Dimension.CATEGORY)

    rows = [(r.period, r.key, r.orders, r.cancelled, r.revenue, r.backordered) for r in found.rows]
    toy = catalogue.get_product(potok.uow(), "TOY").price
    assert rows == [
        (FRIDAY, "home", 3, 1, Decimal("7470.00"), 0),
        (FRIDAY, "kettles", 3, 1, Decimal("7470.00"), 0),
        (FRIDAY, "kitchen", 3, 1, Decimal("7470.00"), 0),
        (SATURDAY, "toys", 1, 0, toy, 1),
    ]
    assert all(s.median_s is None for r in found.rows for s in r.stages)  # not cut by category
    for grain in Grain:
        _agree(potok, Period(FRIDAY, SATURDAY, grain), dimension=Dimension.CATEGORY)
    catalogue.assign_category(potok.uow(), "toys", ["KET"])  # filed elsewhere: a rebuild
    reports.rebuild_order_facts(potok.uow())  # files its history again
    week = reports.order_report(
        potok.uow(), Period(FRIDAY, SATURDAY, Grain.WEEK), Dimension.CATEGORY
    ).rows
    assert [(r.key, r.orders, r.revenue) for r in week] == [("toys", 4, Decimal("7470.00") + toy)]
