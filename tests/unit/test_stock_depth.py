"""Domain rules of the unavailable bucket and of count sheets, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from potok.domain.errors import InvalidInput
from potok.domain.inventory import MovementType, StockLevel
from potok.domain.inventory.buckets import Bucket, plan_move
from potok.domain.inventory.counts import (
    CountEntry,
    CountLine,
    CountStatus,
    StockCount,
    count_number,
)
from potok.domain.inventory.errors import (
    SetAsideExceedsStock,
    StockCountClosed,
    UnavailableExceeded,
)
from potok.domain.kernel import ProductId, StockId, WarehouseId
from potok.domain.machine import IllegalTransition

AT = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)


def level(on_hand: int, reserved: int, unavailable: int) -> StockLevel:
    return StockLevel(
        StockId(1), WarehouseId(1), "MSK", ProductId(1), "KET", on_hand, reserved, unavailable
    )


def sheet() -> StockCount:
    return StockCount(
        number=count_number(1),
        warehouse_id=WarehouseId(1),
        warehouse_code="MSK",
        zone=None,
        status=CountStatus.OPEN,
        created_by="user:anna",
        created_at=AT,
        updated_at=AT,
        lines=[
            CountLine(StockId(1), ProductId(1), "KET", expected=10, id=1),
            CountLine(StockId(2), ProductId(2), "MUG", expected=5, id=2),
        ],
    )


def test_setting_aside_may_take_reserved_units_but_not_unavailable_ones() -> None:
    move = plan_move(level(10, 6, 2), 8, Bucket.UNAVAILABLE)

    assert (move.type, move.on_hand_change, move.unavailable_change) == (
        MovementType.SET_ASIDE,
        0,
        8,
    )
    assert move.sellable_floor(level(10, 6, 2)) == 0  # the 6 reserved units must go
    with pytest.raises(SetAsideExceedsStock):
        plan_move(level(10, 6, 2), 9, Bucket.UNAVAILABLE)


def test_release_and_write_off_come_from_the_unavailable_bucket_only() -> None:
    released = plan_move(level(10, 0, 3), 3, Bucket.AVAILABLE)
    written = plan_move(level(10, 0, 3), 2, Bucket.WRITTEN_OFF)

    assert (released.type, released.on_hand_change, released.unavailable_change) == (
        MovementType.RELEASE,
        0,
        -3,
    )
    assert (written.type, written.on_hand_change, written.unavailable_change) == (
        MovementType.WRITE_OFF,
        -2,
        -2,
    )
    with pytest.raises(UnavailableExceeded):
        plan_move(level(10, 0, 3), 4, Bucket.WRITTEN_OFF)


def test_entries_replace_earlier_ones_and_must_name_lines_of_the_sheet() -> None:
    count = sheet()
    count.enter([CountEntry("KET", 8)], "user:pavel", AT)
    count.enter([CountEntry("KET", 7), CountEntry("MUG", 5)], "user:pavel", AT)

    assert [(x.sku, x.counted, x.difference) for x in count.lines] == [
        ("KET", 7, -3),
        ("MUG", 5, 0),
    ]
    with pytest.raises(InvalidInput) as refused:
        count.enter([CountEntry("TOY", 1), CountEntry("KET", 1), CountEntry("KET", 2)], "x", AT)
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("entries[0].sku", "not-on-sheet"),
        ("entries[2].sku", "duplicate"),
    ]


def test_an_approved_count_takes_no_entries_and_cannot_be_approved_again() -> None:
    count = sheet()
    count.enter([CountEntry("KET", 9)], "user:pavel", AT)

    counted = count.approve("user:boss", AT)

    assert [line.sku for line in counted] == ["KET"]
    assert [line.sku for line in count.uncounted] == ["MUG"]
    with pytest.raises(StockCountClosed):
        count.enter([CountEntry("MUG", 1)], "user:pavel", AT)
    with pytest.raises(IllegalTransition):
        count.approve("user:boss", AT)
    with pytest.raises(IllegalTransition):
        count.cancel(AT)


def test_a_submitted_count_can_be_reopened_or_cancelled() -> None:
    count = sheet()
    count.submit(AT)
    count.reopen(AT)
    count.submit(AT)
    count.cancel(AT)

    assert count.status is CountStatus.CANCELLED
    assert count_number(42) == "CNT-000042"
