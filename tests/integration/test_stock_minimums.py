"""Min/max rules: a level crossing its minimum is announced once per crossing, inline after
stock corrections and by the timed job after reservations; safety stock lowers what channels
may promise."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.db.queries.incoming import incoming_by_position
from potok.db.tables import products, purchase_order_lines, purchase_orders, warehouses
from potok.domain.catalogue import ProductDraft
from potok.domain.errors import InvalidInput
from potok.domain.inventory.commands import (
    CountStock,
    LevelRow,
    ReceiveStock,
    SetLevels,
    WriteOffStock,
)
from potok.domain.inventory.replenishment import SetStockRule, StockRuleNotFound
from potok.services import catalogue, intake, inventory, replenishment
from potok.worker.jobs import run_due_jobs
from tests.factories import MOSCOW, TESTER, build_world, order_command
from tests.racing import RACE_LIMIT, race

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(moment: datetime) -> Any:
    return lambda: moment


def crossings(potok: Potok) -> list[tuple[str, str, int]]:
    """(type, warehouse/sku, projected) of every minimum event, oldest first."""
    with potok.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT type, aggregate_id, payload FROM outbox_events "
                "WHERE type IN ('stock.below_minimum', 'stock.back_above_minimum') ORDER BY id"
            )
        ).all()
    return [(r.type, r.aggregate_id, _payload(r.payload)["projected"]) for r in rows]


def _payload(value: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(value) if isinstance(value, str) else dict(value)
    return loaded


def rule(potok: Potok, warehouse: str, sku: str, low: int, high: int, safety: int = 0) -> None:
    replenishment.set_rule(potok.uow(), SetStockRule(warehouse, sku, low, high, safety), TESTER)


def write_off(potok: Potok, quantity: int) -> None:
    inventory.write_off_stock(potok.uow(), WriteOffStock("MSK", "KET", quantity, "broken"), TESTER)


def receive(potok: Potok, quantity: int) -> None:
    inventory.receive_stock(potok.uow(), ReceiveStock("MSK", "KET", quantity), TESTER)


def purchase_order(
    potok: Potok, warehouse: str, sku: str, quantity: int, received: int = 0
) -> None:
    """An open purchase order, written directly (its documents are another area's)."""
    with potok.engine.begin() as connection:
        warehouse_id = connection.execute(
            sa.select(warehouses.c.id).where(warehouses.c.code == warehouse)
        ).scalar_one()
        product_id = connection.execute(
            sa.select(products.c.id).where(products.c.sku == sku)
        ).scalar_one()
        number = f"PO-{warehouse}-{sku}-{quantity}"
        order_id = connection.execute(
            sa.insert(purchase_orders)
            .values(
                number=number,
                supplier="Чайники и Ко",
                warehouse_id=warehouse_id,
                status="open" if not received else "partially_received",
                created_by="tests",
                created_at=T,
                updated_at=T,
            )
            .returning(purchase_orders.c.id)
        ).scalar_one()
        connection.execute(
            sa.insert(purchase_order_lines).values(
                purchase_order_id=order_id,
                line_no=1,
                product_id=product_id,
                quantity=quantity,
                received_quantity=received,
            )
        )


# ---------------------------------------------------------------------- crossings, inline


def test_a_level_is_announced_once_below_its_minimum_and_again_only_after_recovering(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 10})
    rule(potok, "MSK", "KET", 5, 20)
    assert crossings(potok) == []

    write_off(potok, 6)  # 4 < 5: below
    write_off(potok, 1)  # 3: still below, nothing new
    receive(potok, 1)  # 4: still below
    receive(potok, 1)  # 5: back at the minimum
    receive(potok, 3)  # 8: still above
    write_off(potok, 4)  # 4: below again

    assert crossings(potok) == [
        ("stock.below_minimum", "MSK/KET", 4),
        ("stock.back_above_minimum", "MSK/KET", 5),
        ("stock.below_minimum", "MSK/KET", 4),
    ]
    state = replenishment.get_rule(potok.uow(), "MSK", "KET")
    assert state.below_minimum is True


def test_counts_and_bulk_levels_check_the_minimum_in_the_same_transaction(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 10, ("SPB", "MUG"): 10})
    rule(potok, "MSK", "KET", 5, 20)
    rule(potok, "SPB", "MUG", 8, 20)

    inventory.count_stock(potok.uow(), CountStock("MSK", "KET", 10, 2), TESTER)
    inventory.set_levels(
        potok.uow(),
        SetLevels([LevelRow("SPB", "MUG", 3), LevelRow("MSK", "KET", 9)], source="erp"),
        TESTER,
    )

    assert crossings(potok) == [
        ("stock.below_minimum", "MSK/KET", 2),
        ("stock.back_above_minimum", "MSK/KET", 9),
        ("stock.below_minimum", "SPB/MUG", 3),
    ]


def test_a_bulk_upload_of_many_positions_finds_the_one_rule_it_crossed(potok: Potok) -> None:
    # over 100 positions: PostgreSQL looks the rules up by two arrays, not by a list of pairs
    build_world(potok, {("MSK", "KET"): 10, ("SPB", "KET"): 10})
    rule(potok, "MSK", "KET", 5, 20)
    rule(potok, "SPB", "KET", 5, 20)
    others = [
        ProductDraft(f"BULK-{n:03d}", f"Item {n}", Decimal("10.00"), Decimal("22"), None, 100)
        for n in range(150)
    ]
    for product in others:
        catalogue.create_product(potok.uow(), product)
    rows = [LevelRow("MSK", p.sku, 3) for p in others] + [LevelRow("MSK", "KET", 4)]

    applied = inventory.set_levels(potok.uow(), SetLevels(rows, source="erp"), TESTER)

    assert (applied.rows, applied.changed, applied.created) == (151, 151, 150)
    assert crossings(potok) == [("stock.below_minimum", "MSK/KET", 4)]


def test_a_new_rule_over_a_level_already_below_it_is_announced_at_once(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3})

    rule(potok, "MSK", "KET", 5, 20)
    rule(potok, "MSK", "KET", 4, 20)  # still below: nothing new
    rule(potok, "MSK", "KET", 2, 20)  # the minimum moved under the level

    assert crossings(potok) == [
        ("stock.below_minimum", "MSK/KET", 3),
        ("stock.back_above_minimum", "MSK/KET", 3),
    ]


# ---------------------------------------------------------------------- the timed job


def test_the_timed_job_announces_a_crossing_made_by_an_order_reservation_once(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 6})
    rule(potok, "MSK", "KET", 5, 10)
    result = intake.place_order(
        potok.uow(), order_command([("KET", 2)], to=MOSCOW), TESTER, clock=at(T)
    )
    assert isinstance(result, intake.Placement)
    assert [r.warehouse_code for r in result.order.reservations] == ["MSK"]
    assert crossings(potok) == []  # intake does not look at the rules

    first = run_due_jobs(potok, clock=at(T + timedelta(seconds=30)))
    second = run_due_jobs(potok, clock=at(T + timedelta(seconds=60)))

    seen = [(c.warehouse, c.sku, c.crossing.value, c.projected) for c in first.minimum_crossings]
    assert seen == [("MSK", "KET", "below_minimum", 4)]
    assert second.minimum_crossings == []
    assert crossings(potok) == [("stock.below_minimum", "MSK/KET", 4)]


def test_stock_on_the_way_lifts_the_projected_level_back_above_the_minimum(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 2})
    rule(potok, "MSK", "KET", 5, 10)

    purchase_order(potok, "MSK", "KET", 10, received=6)  # 4 still expected
    run_due_jobs(potok, clock=at(T))

    assert crossings(potok) == [
        ("stock.below_minimum", "MSK/KET", 2),
        ("stock.back_above_minimum", "MSK/KET", 6),
    ]
    state = replenishment.get_rule(potok.uow(), "MSK", "KET")
    assert (state.on_hand, state.incoming, state.below_minimum) == (2, 4, False)


# ---------------------------------------------------------------------- rules


def test_a_rule_with_max_below_min_or_negative_numbers_is_refused_with_every_field(
    potok: Potok,
) -> None:
    build_world(potok)

    with pytest.raises(InvalidInput) as refused:
        replenishment.set_rule(potok.uow(), SetStockRule("MSK", "KET", 5, 3, -1), TESTER)

    assert {(e.field, e.code) for e in refused.value.errors} == {
        ("max", "max-below-min"),
        ("safety_stock", "negative"),
    }
    assert replenishment.list_rules(potok.uow()).items == []


def test_a_deleted_rule_is_gone_and_deleting_it_again_is_not_found(potok: Potok) -> None:
    build_world(potok)
    rule(potok, "MSK", "KET", 1, 2)

    replenishment.delete_rule(potok.uow(), "MSK", "KET", TESTER)

    with pytest.raises(StockRuleNotFound):
        replenishment.delete_rule(potok.uow(), "MSK", "KET", TESTER)
    assert replenishment.list_rules(potok.uow()).items == []


# ---------------------------------------------------------------------- safety stock


def test_safety_stock_lowers_what_channels_may_promise_but_not_what_orders_may_reserve(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 5, ("SPB", "KET"): 2})
    rule(potok, "MSK", "KET", 0, 10, safety=3)
    rule(potok, "SPB", "KET", 0, 10, safety=4)  # more than there is: counts as zero, not less

    found = inventory.availability(potok.uow(), "KET")
    promised = {c.channel: c.available_to_promise for c in found.channels}

    # web: (5 - 3) + max(0, 2 - 4) = 2; mp also keeps its own safety buffer of 2
    assert promised["web"] == 2
    assert promised["mp"] == 0
    assert {c.channel: c.warehouses for c in found.channels}["web"] == ["MSK"]
    assert {w.warehouse: w.safety_stock for w in found.warehouses} == {"MSK": 3, "SPB": 4}

    result = intake.place_order(
        potok.uow(), order_command([("KET", 5)], to=MOSCOW), TESTER, clock=at(T)
    )
    assert isinstance(result, intake.Placement)
    assert result.order.status == "reserved"


@RACE_LIMIT
def test_jobs_racing_over_the_same_crossing_announce_it_once(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 6, ("SPB", "MUG"): 6})
    rule(potok, "MSK", "KET", 5, 10)
    rule(potok, "SPB", "MUG", 5, 10)
    for sku in ("KET", "MUG"):
        result = intake.place_order(potok.uow(), order_command([(sku, 2)], to=MOSCOW), TESTER)
        assert isinstance(result, intake.Placement)

    def job() -> int:
        return len(replenishment.announce_crossings(potok.uow(), clock=at(T)))

    seen = race([job] * 6)

    assert sum(seen) == 2
    assert sorted(crossings(potok)) == [
        ("stock.below_minimum", "MSK/KET", 4),
        ("stock.below_minimum", "SPB/MUG", 4),
    ]


def test_the_rule_list_can_show_only_the_rules_below_their_minimum(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 6, ("SPB", "MUG"): 2})
    rule(potok, "MSK", "KET", 5, 10)
    rule(potok, "SPB", "MUG", 5, 10)

    below = replenishment.list_rules(potok.uow(), below_minimum=True).items
    everything = replenishment.list_rules(potok.uow()).items

    assert [(s.warehouse, s.sku) for s in below] == [("SPB", "MUG")]
    assert [(s.warehouse, s.sku, s.below_minimum) for s in everything] == [
        ("MSK", "KET", False),
        ("SPB", "MUG", True),
    ]


def test_incoming_over_more_positions_than_one_chunk_counts_each_document_once(
    potok: Potok,
) -> None:
    build_world(potok)
    purchase_order(potok, "SPB", "KET", 7)
    with potok.engine.connect() as connection:
        msk, spb = (
            connection.execute(
                sa.select(warehouses.c.id).where(warehouses.c.code == code)
            ).scalar_one()
            for code in ("MSK", "SPB")
        )
        ket = connection.execute(
            sa.select(products.c.id).where(products.c.sku == "KET")
        ).scalar_one()
        assert msk < spb
        # the first chunk of 2000 holds MSK/KET, SPB/(an id before KET's) and 1998 more keys
        # of MSK, so it asks about SPB and KET both; SPB/KET itself falls in the second chunk
        fillers = [(msk, 10_000 + n) for n in range(1998)]
        keys = [(msk, ket), *fillers, (spb, ket - 1), (spb, ket)]

        found = incoming_by_position(connection, keys)

    assert {k: v.quantity for k, v in found.items()} == {(spb, ket): 7}
