"""The sandbox's past year, as generated (before anything is written): the same seed gives
the same year; weekends, the season before New Year and promotion weeks show in the orders;
shelves run empty when a supplier is late, and the ledger never goes below nought."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

from potok.sandbox.history import past_year

FIRST, LAST = date(2025, 12, 8), date(2026, 11, 21)
UNTIL = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_the_same_seed_gives_the_same_year_and_another_seed_another() -> None:
    one, two = past_year(FIRST, LAST, until=UNTIL), past_year(FIRST, LAST, until=UNTIL)
    other = past_year(FIRST, LAST, until=UNTIL, seed=8)

    assert [(o.external_id, o.created_at, o.lines) for o in one.orders] == [
        (o.external_id, o.created_at, o.lines) for o in two.orders
    ]
    assert one.moves == two.moves
    assert [o.external_id for o in one.orders] != [o.external_id for o in other.orders]


def test_a_year_of_orders_with_its_weeks_seasons_and_promotions() -> None:
    year = past_year(FIRST, LAST, until=UNTIL)
    per_day = Counter(o.created_at.date() for o in year.orders)

    assert 4_000 < len(year.orders) < 6_000  # about 15 a day
    assert set(per_day) == {FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)}
    by_weekday: dict[int, list[int]] = defaultdict(list)
    for day, count in per_day.items():
        by_weekday[day.weekday()].append(count)
    mean = {d: sum(c) / len(c) for d, c in by_weekday.items()}
    assert mean[5] > mean[6] * 1.2  # Saturday's shoppers, Sunday's quiet
    june = sum(c for d, c in per_day.items() if d.month == 6)
    december = sum(c for d, c in per_day.items() if d.month == 12 and d.year == 2025)
    assert december / 24 > june / 30 * 1.15  # 24 days of December in the year
    assert {o.channel for o in year.orders} == {"web", "ozon", "app", "pos"}
    # a promotion week: its products sell about three times what they sold a week before
    assert sorted(year.promotions) == [  # Black Friday's week ends after the year's last day
        date(2026, 3, 1),
        date(2026, 5, 20),
        date(2026, 9, 1),
        date(2026, 11, 11),
    ]
    during = before = 0
    for start, skus in year.promotions.items():
        for o in year.orders:
            age = (o.created_at.date() - start).days
            units = sum(line.quantity for line in o.lines if line.sku in skus)
            during += units if 0 <= age < 7 else 0
            before += units if -21 <= age < 0 else 0
    assert during > 2 * before / 3


def test_orders_are_worked_in_order_and_some_cancelled_or_returned() -> None:
    year = past_year(FIRST, LAST, until=UNTIL)
    cancelled = [o for o in year.orders if o.cancelled_at is not None]
    shipped = [o for o in year.orders if o.cancelled_at is None]
    returned = [o for o in year.orders if o.returned is not None]

    assert 0.02 < len(cancelled) / len(year.orders) < 0.08
    assert 0.02 < len(returned) / len(shipped) < 0.06
    for o in shipped:
        assert o.picked_at is not None
        assert o.packed_at is not None
        assert o.handed_over_at is not None
        assert o.delivered_at is not None
        assert o.created_at <= o.confirmed_at <= o.picked_at <= o.packed_at
        assert o.packed_at <= o.handed_over_at <= o.delivered_at
        assert o.handed_over_at < UNTIL  # the ledger's moves all come before the count
    for o in cancelled:
        assert o.picked_at is None
        assert o.cancel_reason
    for o in returned:
        assert o.returned is not None
        assert o.delivered_at is not None
        assert o.delivered_at < o.returned.received_at < o.returned.closed_at < UNTIL


def test_the_ledger_never_goes_below_nought_and_late_suppliers_empty_shelves() -> None:
    year = past_year(FIRST, LAST, until=UNTIL)
    balance: dict[tuple[str, str], int] = defaultdict(int)
    empty_days: set[tuple[str, str, date]] = set()
    previous = None
    for move in year.moves:
        assert previous is None or previous <= move.at  # in time order
        previous = move.at
        balance[move.warehouse, move.sku] += move.quantity
        assert balance[move.warehouse, move.sku] >= 0, move
        if balance[move.warehouse, move.sku] == 0:
            empty_days.add((move.warehouse, move.sku, move.at.date()))
    assert all(m.at < UNTIL for m in year.moves)
    assert year.closing() == dict(balance)
    assert year.lost_units > 0  # asked for while the shelf was empty: not sold
    assert len(empty_days) > 50
    shipped = sum(line.quantity for o in year.orders if o.handed_over_at for line in o.lines)
    assert -sum(m.quantity for m in year.moves if m.type == "shipment") == shipped
    kinds = Counter(m.type for m in year.moves)
    assert set(kinds) == {"receipt", "shipment", "customer_return", "release"}
    assert kinds["customer_return"] == kinds["release"] == sum(1 for o in year.orders if o.returned)
