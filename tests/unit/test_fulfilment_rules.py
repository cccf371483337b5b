"""Fulfilment's pure rules: the shipment machine and the roll-up, unit identifiers (marking
codes, IMEI, UIN), scans matched to items, wave lines merged in walking order."""

from __future__ import annotations

import pytest

from potok.domain.errors import InvalidInput
from potok.domain.fulfilment import FulfilmentProgress, ShipmentItem, roll_up
from potok.domain.fulfilment import ShipmentStatus as S
from potok.domain.fulfilment.errors import AlreadyPicked, WrongBin, WrongLot, WrongSerial
from potok.domain.fulfilment.identifiers import (
    GS,
    UnitIdentifier,
    read_imei,
    read_marking_code,
    read_uin,
)
from potok.domain.fulfilment.picking import Scan, Slot, match_scan, merge
from potok.domain.fulfilment.states import CARRIER_STEPS, SHIPMENT
from potok.domain.kernel import ProductId, StockId

CRYPTO = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2"  # 44 characters


def test_a_marking_code_is_read_with_or_without_its_separators() -> None:
    with_gs = f"0104650000000010215aBc!de{GS}91EE10{GS}92{CRYPTO}"
    code = read_marking_code(with_gs)
    assert (code.gtin, code.key) == ("04650000000010", "046500000000105aBc!de")
    assert code.value == with_gs
    # a scanner that lost the separators: the 13-character serial of clothes and shoes
    lost = f"010465000000001021ABCDEFGHIJKLM91EE1092{CRYPTO}"
    assert read_marking_code(lost).key == "04650000000010ABCDEFGHIJKLM"
    # the short form of dairy and water, the bracketed form, a symbology prefix
    assert read_marking_code(f"0104650000000010211a2B3c{GS}93dGf7").key == "046500000000101a2B3c"
    bracketed = f"(01)04650000000010(21)XYZ(91)EE10(92){CRYPTO}"
    assert read_marking_code(bracketed).key == "04650000000010XYZ"
    assert read_marking_code("]d2" + with_gs).key == code.key


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (f"0104650000000011215aBc{GS}93dGf7", "bad-check-digit"),
        ("4650000000010", "bad-marking-code"),
        ("0104650000000010", "bad-marking-code"),
        ("0104650000000010215aBc", "incomplete-marking-code"),
        (f"0104650000000010215aBc{GS}92short", "bad-marking-code"),
        (f"0104650000000010215a Bc{GS}93dGf7", "bad-marking-code"),
        ("", "required"),
    ],
)
def test_a_malformed_marking_code_is_refused_with_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_marking_code(text)
    assert refused.value.errors[0].code == error


def test_imei_and_uin_are_checked() -> None:
    assert read_imei("490154203237518").key == "490154203237518"  # a valid Luhn digit
    with pytest.raises(InvalidInput) as bad:
        read_imei("490154203237519")
    assert bad.value.errors[0].code == "bad-check-digit"
    with pytest.raises(InvalidInput):
        read_imei("49015420323751")
    assert read_uin("1234567890123456").kind is UnitIdentifier.UIN
    with pytest.raises(InvalidInput):
        read_uin("12345678901234567")


def test_the_shipment_machine_allows_only_its_table() -> None:
    assert SHIPMENT.allows(S.PENDING, S.PICKING)
    assert not SHIPMENT.allows(S.PICKING, S.HANDED_OVER)  # packed first
    assert not SHIPMENT.allows(S.HANDED_OVER, S.CANCELLED)  # gone: returns, not cancels
    assert SHIPMENT.is_final(S.DELIVERED)
    assert SHIPMENT.is_final(S.RETURNED_TO_SENDER)
    # a carrier's event may leave a step implicit: the shortest way through carrier steps
    assert SHIPMENT.path(S.READY_FOR_PICKUP, S.RETURNING, through=CARRIER_STEPS) == [
        S.FAILED_DELIVERY,
        S.RETURNING,
    ]
    assert SHIPMENT.path(S.HANDED_OVER, S.READY_FOR_PICKUP, through=CARRIER_STEPS) == [
        S.IN_TRANSIT,
        S.READY_FOR_PICKUP,
    ]
    assert SHIPMENT.path(S.DELIVERED, S.IN_TRANSIT, through=CARRIER_STEPS) == []


@pytest.mark.parametrize(
    ("statuses", "outstanding", "progress"),
    [
        ([], False, FulfilmentProgress.NONE),
        ([S.PENDING, S.CANCELLED], True, FulfilmentProgress.NONE),
        ([S.PICKING, S.PENDING], True, FulfilmentProgress.IN_FULFILMENT),
        ([S.HANDED_OVER, S.PICKING], False, FulfilmentProgress.PARTIALLY_SHIPPED),
        ([S.HANDED_OVER], True, FulfilmentProgress.PARTIALLY_SHIPPED),
        ([S.IN_TRANSIT, S.DELIVERED], False, FulfilmentProgress.SHIPPED),
        ([S.DELIVERED, S.DELIVERED, S.CANCELLED], False, FulfilmentProgress.DELIVERED),
        ([S.DELIVERED, S.RETURNED_TO_SENDER], False, FulfilmentProgress.DELIVERED),
        ([S.RETURNED_TO_SENDER], False, FulfilmentProgress.RETURNED_TO_SENDER),
    ],
)
def test_the_order_rolls_up_from_its_shipments(
    statuses: list[S], outstanding: bool, progress: FulfilmentProgress
) -> None:
    assert roll_up(statuses, outstanding=outstanding) is progress


def _item(no: int, sku: str, quantity: int, **extra: object) -> ShipmentItem:
    return ShipmentItem(no, no, ProductId(ord(sku[0])), sku, StockId(no), quantity, **extra)  # type: ignore[arg-type]


def test_a_scan_fills_items_in_walking_order_then_slot_order() -> None:
    slots = [
        Slot(10, 100, 2, _item(1, "MUG", 2, location="A-01", pick_sequence=1)),
        Slot(11, 101, 1, _item(1, "MUG", 1, location="A-01", pick_sequence=1)),
        Slot(11, 101, 1, _item(2, "MUG", 5, location="B-07", pick_sequence=9)),
    ]
    takes = match_scan(slots, Scan(ProductId(ord("M")), "MUG", 4))
    assert [(t.shipment_id, t.slot, t.quantity) for t in takes] == [
        (11, 1, 1),
        (10, 2, 2),
        (11, 1, 1),
    ]
    with pytest.raises(WrongBin) as wrong:
        match_scan(slots, Scan(ProductId(ord("M")), "MUG", 1, bin="C-01"))
    assert wrong.value.context["expected"] == "A-01, B-07"
    with pytest.raises(AlreadyPicked):
        match_scan(slots, Scan(ProductId(ord("M")), "MUG", 9))
    lines = merge(slots)
    assert [(ln.location, ln.quantity, [s.slot for s in ln.sort]) for ln in lines] == [
        ("A-01", 3, [1, 2]),
        ("B-07", 5, [1]),
    ]


def test_lots_and_serials_must_be_the_ones_set_aside() -> None:
    lotted = [Slot(1, 1, 1, _item(1, "TEA", 2, lot="L-7", location="A"))]
    with pytest.raises(WrongLot):
        match_scan(lotted, Scan(ProductId(ord("T")), "TEA", 1, lot="L-8"))
    serial = [Slot(1, 1, 1, _item(1, "PHN", 2, serials=("S1", "S2"), picked_serials=["S1"]))]
    with pytest.raises(WrongSerial):
        match_scan(serial, Scan(ProductId(ord("P")), "PHN", 1, serial="S1"))
    (take,) = match_scan(serial, Scan(ProductId(ord("P")), "PHN", 1, serial="S2"))
    assert take.serial == "S2"
