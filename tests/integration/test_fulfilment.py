"""Fulfilment through the services: release, pick (one order and a wave), short picks that
re-source the rest, packing with marking codes, hand-over that takes stock off the books,
and cancellation - with stock reconciled after every step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from potok.bootstrap import Potok
from potok.connectors.carriers import TrackingEvent, TrackingStatus
from potok.domain.catalogue import ProductDraft
from potok.domain.errors import InvalidInput
from potok.domain.fulfilment import (
    FulfilmentProgress,
    ParcelDraft,
    ParcelLine,
    ShipmentStatus,
    UnitIdentifier,
)
from potok.domain.fulfilment.errors import (
    AlreadyPicked,
    CodeAlreadyUsed,
    IdentifierMismatch,
    IdentifierNotRequired,
    IdentifiersMissing,
    OrderNotReleasable,
    PackExceedsPicked,
    ShipmentsLeftTheWarehouse,
    WrongBin,
    WrongProduct,
)
from potok.domain.inventory.commands import ReceiveStock
from potok.domain.inventory.locations import LocationDraft
from potok.domain.inventory.lots import LotInput
from potok.domain.kernel import Tracking
from potok.domain.machine import IllegalTransition
from potok.domain.orders import AllocationState, HoldType, OrderStatus
from potok.domain.orders.commands import CancelOrder, PlaceHold
from potok.domain.orders.errors import OrderClosed
from potok.services import catalogue, inventory, locations
from potok.services import orders as order_service
from potok.services.fulfilment import handover, packing, picking, reads, release, tracking
from potok.services.fulfilment.picking import ScanInput, ShortPick
from potok.services.intake import Placement, place_order
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_shipment_invariants, assert_stock_invariants

KETTLE_GTIN = "04601234567893"  # the kettle's EAN-13 as a GTIN-14
SHOE = ProductDraft(
    "SHOE",
    "Кроссовки",
    Decimal("5990.00"),
    Decimal("22"),
    "4650000000010",
    800,
    unit_identifiers=frozenset({UnitIdentifier.MARKING}),
)


def marking(serial: str, gtin: str = "04650000000010") -> str:
    """A Честный ЗНАК code as a scanner gives it, with GS separators."""
    return f"01{gtin}21{serial}\x1d91EE10\x1d92" + "A" * 44


def _bins(potok: Potok) -> None:
    for code, seq in (("A-01", 10), ("A-02", 20), ("B-01", 30)):
        locations.create_location(potok.uow(), "MSK", LocationDraft(code, "A", seq))
    for sku, where in (("KET", "A-02"), ("MUG", "A-01"), ("TOY", "B-01")):
        locations.place_stock(potok.uow(), "MSK", sku, where)


@pytest.fixture
def world(potok: Potok) -> Potok:
    build_world(potok, {("MSK", "KET"): 10, ("MSK", "MUG"): 10, ("MSK", "TOY"): 4})
    _bins(potok)
    return potok


def _order(potok: Potok, lines: list[tuple[str, int]], **extra: object) -> int:
    placed = place_order(potok.uow(), order_command(lines, **extra), TESTER)  # type: ignore[arg-type]
    assert isinstance(placed, Placement)
    assert placed.order.id is not None
    return placed.order.id


def _status(potok: Potok, order_id: int) -> OrderStatus:
    return order_service.get_order(potok.uow(), order_id).order.status


def _clean(potok: Potok) -> None:
    assert inventory.reconcile(potok.uow()).drifts == []
    assert_stock_invariants(potok)
    assert_shipment_invariants(potok)


def _pick_all(potok: Potok, shipment_id: int) -> None:
    _, lines = reads.pick_list(potok.uow(), shipment_id)
    for line in lines:
        picking.pick(
            potok.uow(),
            shipment_id,
            ScanInput(line.sku, line.left, bin=line.location),
            TESTER,
        )


def test_one_order_is_picked_packed_and_handed_over_and_stock_leaves_the_books(
    world: Potok,
) -> None:
    order_id = _order(world, [("KET", 2), ("MUG", 1)])
    assert _status(world, order_id) is OrderStatus.RESERVED
    (shipment,) = release.release_order(world.uow(), order_id, "MSK", TESTER)
    assert shipment.status is ShipmentStatus.PENDING
    assert _status(world, order_id) is OrderStatus.RESERVED  # pending is not fulfilment
    _clean(world)

    # the pick list walks the bins: A-01 (mug) before A-02 (kettle)
    _, lines = reads.pick_list(world.uow(), shipment.id or 0)
    assert [(ln.location, ln.sku, ln.quantity) for ln in lines] == [
        ("A-01", "MUG", 1),
        ("A-02", "KET", 2),
    ]
    # the kettle scanned by its barcode at the right bin starts the picking
    outcome = picking.pick(
        world.uow(), shipment.id or 0, ScanInput("4601234567893", 2, bin="A-02"), TESTER
    )
    assert [t.quantity for t in outcome.takes] == [2]
    assert _status(world, order_id) is OrderStatus.IN_FULFILMENT
    with pytest.raises(WrongBin) as wrong:
        picking.pick(world.uow(), shipment.id or 0, ScanInput("MUG", bin="B-01"), TESTER)
    assert wrong.value.context["expected"] == "A-01"
    with pytest.raises(WrongProduct):
        picking.pick(world.uow(), shipment.id or 0, ScanInput("TOY"), TESTER)
    with pytest.raises(AlreadyPicked):
        picking.pick(world.uow(), shipment.id or 0, ScanInput("KET"), TESTER)
    picking.pick(world.uow(), shipment.id or 0, ScanInput("MUG", bin="a-01"), TESTER)
    _clean(world)

    view = reads.get_shipment(world.uow(), shipment.id or 0)
    items = {i.sku: i.item_no for i in view.shipment.items}
    with pytest.raises(PackExceedsPicked):
        packing.pack_parcel(
            world.uow(),
            shipment.id or 0,
            ParcelDraft(1500, 300, 200, 200, (ParcelLine(items["KET"], 3),)),
            TESTER,
        )
    packing.pack_parcel(
        world.uow(),
        shipment.id or 0,
        ParcelDraft(2500, 400, 300, 300, (ParcelLine(items["KET"], 2),)),
        TESTER,
    )
    with pytest.raises(IllegalTransition):  # a parcel still open: not packed yet
        handover.hand_over(world.uow(), shipment.id or 0, TESTER)
    packed, _ = packing.pack_parcel(
        world.uow(),
        shipment.id or 0,
        ParcelDraft(400, 150, 150, 120, (ParcelLine(items["MUG"], 1),)),
        TESTER,
    )
    assert packed.status is ShipmentStatus.PACKED
    _clean(world)

    left = handover.hand_over(
        world.uow(), shipment.id or 0, TESTER, carrier="sandbox", tracking_number="SBX-1"
    )
    assert left.status is ShipmentStatus.HANDED_OVER
    assert _status(world, order_id) is OrderStatus.SHIPPED
    _clean(world)
    levels = {
        (r.warehouse, r.sku): (r.on_hand, r.reserved)
        for r in inventory.list_levels(world.uow(), warehouse="MSK").items
    }
    assert levels[("MSK", "KET")] == (8, 0)
    assert levels[("MSK", "MUG")] == (9, 0)
    with world.engine.connect() as connection:
        moves = connection.execute(
            sa.text(
                "SELECT p.sku, m.quantity, m.reason FROM stock_movements m "
                "JOIN products p ON p.id = m.product_id WHERE m.type = 'shipment' ORDER BY p.sku"
            )
        ).all()
    assert [tuple(m) for m in moves] == [
        ("KET", -2, f"shipment {left.number}"),
        ("MUG", -1, f"shipment {left.number}"),
    ]
    steps = [s.action for s in reads.get_shipment(world.uow(), shipment.id or 0).steps]
    assert steps[:2] == ["created", "picking_started"]
    assert steps[-1] == "handed_over"
    assert "packed" in steps
    # cancelled no more: it left the warehouse
    with pytest.raises(ShipmentsLeftTheWarehouse):
        order_service.cancel_order(world.uow(), CancelOrder(order_id, "changed mind"), TESTER)


def test_marking_codes_are_checked_and_one_code_never_ships_twice(potok: Potok) -> None:
    build_world(potok)
    catalogue.create_product(potok.uow(), SHOE)
    inventory.receive_stock(potok.uow(), ReceiveStock("MSK", "SHOE", 5), TESTER)
    first = _order(potok, [("SHOE", 2)])
    second = _order(potok, [("SHOE", 1)])
    shipments = []
    for order_id in (first, second):
        (made,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
        _pick_all(potok, made.id or 0)
        shipments.append(made.id or 0)
    one, two = shipments

    def pack(shipment_id: int, quantity: int, *codes: str) -> None:
        packing.pack_parcel(
            potok.uow(),
            shipment_id,
            ParcelDraft(
                900,
                330,
                200,
                120,
                (ParcelLine(1, quantity, tuple((UnitIdentifier.MARKING, c) for c in codes)),),
            ),
            TESTER,
        )

    with pytest.raises(InvalidInput) as malformed:
        pack(one, 1, "0104650000000019" + "21abc\x1d91EE10\x1d92" + "A" * 44)
    assert malformed.value.errors[0].code == "bad-check-digit"
    with pytest.raises(InvalidInput) as short:
        pack(one, 1, "0104650000000010" + "21abc")
    assert short.value.errors[0].code == "incomplete-marking-code"
    with pytest.raises(IdentifierMismatch):
        pack(one, 1, marking("abc", gtin=KETTLE_GTIN))
    with pytest.raises(CodeAlreadyUsed):  # the same unit twice in one parcel
        pack(one, 2, marking("unit-1"), marking("unit-1"))
    pack(one, 1, marking("unit-1"))
    with pytest.raises(CodeAlreadyUsed) as taken:  # packed in another shipment already
        pack(two, 1, marking("unit-1"))
    assert taken.value.context["shipment_id"] == one
    pack(one, 1)  # packed without its code: hand-over refuses
    with pytest.raises(IdentifiersMissing):
        handover.hand_over(potok.uow(), one, TESTER)
    packing.open_parcel(potok.uow(), one, 2, TESTER)
    pack(one, 1, "(01)04650000000010(21)unit-2(91)EE10(92)" + "A" * 44)  # bracketed
    handover.hand_over(potok.uow(), one, TESTER)
    with pytest.raises(CodeAlreadyUsed):  # shipped: still taken for good
        pack(two, 1, marking("unit-2"))
    _clean(potok)


def test_a_short_pick_writes_the_shelf_down_and_the_rest_is_picked_from_another_shelf(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "KET"): 5})
    order_id = _order(potok, [("KET", 3)])
    (shipment,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
    picking.pick(potok.uow(), shipment.id or 0, ScanInput("KET", 1), TESTER)

    outcome = picking.short_pick(
        potok.uow(), shipment.id or 0, ShortPick(2, sku="KET", note="empty shelf"), TESTER
    )

    # MSK had nothing more: the shipment carries one kettle, the other two come from SPB
    assert outcome.resourced
    assert outcome.shipment.units == 1
    order = outcome.order
    held = {(r.warehouse_code, r.quantity, r.shipment_id is None) for r in order.open_reservations}
    assert held == {("MSK", 1, False), ("SPB", 2, True)}
    assert order.status is OrderStatus.IN_FULFILMENT
    levels = {
        (r.warehouse, r.sku): (r.on_hand, r.reserved)
        for r in inventory.list_levels(potok.uow()).items
    }
    assert levels[("MSK", "KET")] == (1, 1)
    assert levels[("SPB", "KET")] == (5, 2)
    _clean(potok)

    # the first shipment leaves: partially shipped until SPB's does too
    packing.pack_parcel(
        potok.uow(), shipment.id or 0, ParcelDraft(1300, 300, 200, 200, (ParcelLine(1, 1),)), TESTER
    )
    handover.hand_over(potok.uow(), shipment.id or 0, TESTER)
    assert _status(potok, order_id) is OrderStatus.PARTIALLY_SHIPPED
    (second,) = release.release_order(potok.uow(), order_id, "SPB", TESTER)
    _pick_all(potok, second.id or 0)
    packing.pack_parcel(
        potok.uow(), second.id or 0, ParcelDraft(2600, 300, 200, 200, (ParcelLine(1, 2),)), TESTER
    )
    handover.hand_over(potok.uow(), second.id or 0, TESTER)
    assert _status(potok, order_id) is OrderStatus.SHIPPED
    _clean(potok)


def test_a_short_pick_with_no_stock_anywhere_backorders_the_rest_and_ships_what_it_has(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 2, ("MSK", "MUG"): 1})
    order_id = _order(potok, [("KET", 2), ("MUG", 1)])
    (shipment,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
    outcome = picking.short_pick(potok.uow(), shipment.id or 0, ShortPick(1, sku="KET"), TESTER)
    assert not outcome.resourced
    assert outcome.alerts
    assert outcome.order.allocation is AllocationState.BACKORDERED
    assert outcome.order.status is OrderStatus.IN_FULFILMENT
    _clean(potok)
    _pick_all(potok, shipment.id or 0)
    packing.pack_parcel(
        potok.uow(),
        shipment.id or 0,
        ParcelDraft(1600, 300, 200, 200, (ParcelLine(1, 1), ParcelLine(2, 1))),
        TESTER,
    )
    handover.hand_over(potok.uow(), shipment.id or 0, TESTER)
    assert _status(potok, order_id) is OrderStatus.PARTIALLY_SHIPPED
    _clean(potok)
    # the missing kettle arrives: the rest is reserved and waits for its own shipment
    inventory.receive_stock(potok.uow(), ReceiveStock("MSK", "KET", 1), TESTER)
    order = order_service.get_order(potok.uow(), order_id).order
    assert order.allocation is AllocationState.RESERVED
    assert order.status is OrderStatus.PARTIALLY_SHIPPED
    _clean(potok)


def test_a_wave_merges_lines_per_bin_and_sorts_units_into_orders(world: Potok) -> None:
    first = _order(world, [("KET", 1), ("MUG", 2)])
    second = _order(world, [("MUG", 1), ("TOY", 1)], priority=5)
    third = _order(world, [("KET", 2)])
    made_view = release.create_wave(world.uow(), "MSK", TESTER, max_orders=10)
    wave, made = made_view.wave, made_view.shipments
    # the urgent order takes slot 1
    assert [s.order_id for s in made] == [second, first, third]
    view = reads.get_wave(world.uow(), wave.number)
    assert [(ln.location, ln.sku, ln.quantity) for ln in view.lines] == [
        ("A-01", "MUG", 3),
        ("A-02", "KET", 3),
        ("B-01", "TOY", 1),
    ]
    mugs = view.lines[0]
    assert [(s.slot, s.order_id, s.quantity) for s in mugs.sort] == [(1, second, 1), (2, first, 2)]

    mug = ScanInput("MUG", 3, bin="A-01")
    outcome = picking.pick_in_wave(world.uow(), wave.number, mug, TESTER)
    assert [(t.slot, t.quantity) for t in outcome.takes] == [(1, 1), (2, 2)]
    for status in (_status(world, first), _status(world, second), _status(world, third)):
        assert status is OrderStatus.IN_FULFILMENT
    picking.pick_in_wave(world.uow(), wave.number, ScanInput("KET", 3), TESTER)
    done = picking.pick_in_wave(world.uow(), wave.number, ScanInput("TOY", 1), TESTER)
    assert done.takes[0].order_id == second
    after = reads.get_wave(world.uow(), wave.number)
    assert after.left == 0
    assert after.wave.status.value == "done"
    _clean(world)


def test_cancelling_an_order_being_picked_puts_its_units_back(world: Potok) -> None:
    order_id = _order(world, [("KET", 1)])
    (shipment,) = release.release_order(world.uow(), order_id, "MSK", TESTER)
    picking.pick(world.uow(), shipment.id or 0, ScanInput("KET"), TESTER)
    order_service.cancel_order(world.uow(), CancelOrder(order_id, "customer called"), TESTER)
    view = reads.get_shipment(world.uow(), shipment.id or 0)
    assert view.shipment.status is ShipmentStatus.CANCELLED
    order = order_service.get_order(world.uow(), order_id).order
    assert order.status is OrderStatus.CANCELLED
    assert order.fulfilment is FulfilmentProgress.NONE
    with pytest.raises(OrderClosed):
        handover.hand_over(world.uow(), shipment.id or 0, TESTER)
    _clean(world)


def test_a_held_order_is_not_released(world: Potok) -> None:
    order_id = _order(world, [("KET", 1)])
    order_service.place_hold(
        world.uow(), PlaceHold(order_id, HoldType.FRAUD, "check the buyer"), TESTER
    )
    with pytest.raises(OrderNotReleasable):
        release.release_order(world.uow(), order_id, "MSK", TESTER)


PHONE = ProductDraft(
    "PHN",
    "Смартфон",
    Decimal("24990.00"),
    Decimal("22"),
    unit_identifiers=frozenset({UnitIdentifier.IMEI}),
)
RING = ProductDraft(
    "RNG",
    "Кольцо золотое",
    Decimal("18500.00"),
    Decimal("22"),
    unit_identifiers=frozenset({UnitIdentifier.UIN}),
)


def test_imei_and_uin_are_captured_per_unit_and_hand_over_waits_for_them(potok: Potok) -> None:
    build_world(potok)
    for draft in (PHONE, RING):
        catalogue.create_product(potok.uow(), draft)
        inventory.receive_stock(potok.uow(), ReceiveStock("MSK", draft.sku, 4), TESTER)
    first = _order(potok, [("PHN", 1), ("RNG", 2)])
    second = _order(potok, [("PHN", 1)])
    shipments = []
    for order_id in (first, second):
        (made,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
        _pick_all(potok, made.id or 0)
        shipments.append(made.id or 0)
    one, two = shipments

    def pack(shipment_id: int, *lines: ParcelLine) -> None:
        packing.pack_parcel(potok.uow(), shipment_id, ParcelDraft(700, 200, 150, 80, lines), TESTER)

    def phone(*imeis: str) -> ParcelLine:
        return ParcelLine(1, 1, tuple((UnitIdentifier.IMEI, i) for i in imeis))

    def rings(quantity: int, *uins: str) -> ParcelLine:
        return ParcelLine(2, quantity, tuple((UnitIdentifier.UIN, u) for u in uins))

    with pytest.raises(InvalidInput) as wrong_digit:  # the Luhn digit of this one is 9
        pack(one, phone("356938035643808"))
    assert wrong_digit.value.errors[0].code == "bad-check-digit"
    assert "should be 9" in wrong_digit.value.errors[0].message
    with pytest.raises(InvalidInput) as short:
        pack(one, phone("35693803564380"))
    assert short.value.errors[0].code == "bad-imei"
    with pytest.raises(InvalidInput) as bad_uin:
        pack(one, rings(1, "12345"))
    assert bad_uin.value.errors[0].code == "bad-uin"
    with pytest.raises(IdentifierNotRequired):  # a ring has a UIN, not an IMEI
        pack(one, ParcelLine(2, 1, ((UnitIdentifier.IMEI, "356938035643809"),)))
    with pytest.raises(CodeAlreadyUsed):  # two rings cannot share one number
        pack(one, rings(2, "6431000000000017", "6431000000000017"))
    assert reads.get_shipment(potok.uow(), one).shipment.parcels == []  # nothing half-packed

    # the phone with its IMEI, one ring of two with its UIN: hand-over names what is missing
    pack(one, phone("356938035643809"), rings(2, "6431000000000017"))
    with pytest.raises(IdentifiersMissing) as missing:
        handover.hand_over(potok.uow(), one, TESTER)
    assert missing.value.context["summary"] == "1 of 2 uin codes of RNG"
    assert reads.get_shipment(potok.uow(), one).shipment.status is ShipmentStatus.PACKED
    packing.open_parcel(potok.uow(), one, 1, TESTER)
    pack(one, phone("356938035643809"), rings(2, "6431000000000017", "6431000000000024"))
    handover.hand_over(potok.uow(), one, TESTER)
    shipped = reads.get_shipment(potok.uow(), one).shipment
    assert sorted((c.code.kind.value, c.code.key) for c in shipped.codes) == [
        ("imei", "356938035643809"),
        ("uin", "6431000000000017"),
        ("uin", "6431000000000024"),
    ]
    # the same phone cannot leave in another order
    with pytest.raises(CodeAlreadyUsed) as taken:
        pack(two, phone("356938035643809"))
    assert taken.value.context["shipment_id"] == one
    pack(two, phone("490154203237518"))
    handover.hand_over(potok.uow(), two, TESTER)
    _clean(potok)


def test_goods_of_another_parcel_group_ship_apart_and_any_of_a_products_barcodes_picks_it(
    world: Potok,
) -> None:
    catalogue.create_product(
        world.uow(),
        ProductDraft(
            "FRIDGE",
            "Холодильник",
            Decimal("45990.00"),
            Decimal("22"),
            "4601234567800",
            60_000,
            barcodes=("04601234567817", "4601234567824"),  # the pallet and the export box
            parcel_group="bulky",
        ),
    )
    inventory.receive_stock(world.uow(), ReceiveStock("MSK", "FRIDGE", 2), TESTER)
    order_id = _order(world, [("KET", 1), ("FRIDGE", 1)])

    made = release.release_order(world.uow(), order_id, "MSK", TESTER)
    full = [reads.get_shipment(world.uow(), s.id or 0).shipment for s in made]
    assert sorted((s.parcel_group, [i.sku for i in s.items]) for s in full) == [
        ("", ["KET"]),
        ("bulky", ["FRIDGE"]),
    ]
    small = next(s.id or 0 for s in made if s.parcel_group == "")
    bulky = next(s.id or 0 for s in made if s.parcel_group == "bulky")
    with pytest.raises(WrongProduct):  # the fridge is not in the kettle's shipment
        picking.pick(world.uow(), small, ScanInput("4601234567824"), TESTER)
    picking.pick(world.uow(), bulky, ScanInput("4601234567824"), TESTER)  # the second barcode
    picking.pick(world.uow(), small, ScanInput("4601234567893", bin="A-02"), TESTER)
    packing.pack_parcel(
        world.uow(), small, ParcelDraft(1300, 300, 200, 200, (ParcelLine(1, 1),)), TESTER
    )
    handover.hand_over(world.uow(), small, TESTER)
    assert _status(world, order_id) is OrderStatus.PARTIALLY_SHIPPED  # the fridge still waits
    packing.pack_parcel(
        world.uow(), bulky, ParcelDraft(62_000, 1800, 700, 700, (ParcelLine(1, 1),)), TESTER
    )
    handover.hand_over(world.uow(), bulky, TESTER)
    assert _status(world, order_id) is OrderStatus.SHIPPED
    _clean(world)


def test_lots_and_serials_leave_the_books_at_hand_over_and_come_back_with_the_parcel(
    potok: Potok,
) -> None:
    build_world(potok)
    catalogue.create_product(
        potok.uow(),
        ProductDraft(
            "MILK", "Молоко 3,2 %", Decimal("94.90"), Decimal("10"), tracking=Tracking.LOT
        ),
    )
    catalogue.create_product(
        potok.uow(),
        ProductDraft("CAM", "Камера", Decimal("9990.00"), Decimal("22"), tracking=Tracking.SERIAL),
    )
    for lot, units, expires in (("L-EARLY", 2, date(2099, 1, 10)), ("L-LATE", 5, date(2099, 3, 1))):
        inventory.receive_stock(
            potok.uow(),
            ReceiveStock("MSK", "MILK", units, lot=LotInput(lot, expires_on=expires)),
            TESTER,
        )
    inventory.receive_stock(
        potok.uow(), ReceiveStock("MSK", "CAM", 3, serials=("C-1", "C-2", "C-3")), TESTER
    )
    order_id = _order(potok, [("MILK", 3), ("CAM", 2)])
    (shipment,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
    sid = shipment.id or 0
    _, lines = reads.pick_list(potok.uow(), sid)
    assert sorted((ln.sku, ln.lot, ln.quantity) for ln in lines if ln.sku == "MILK") == [
        ("MILK", "L-EARLY", 2),  # the lot that expires first goes first
        ("MILK", "L-LATE", 1),
    ]
    for line in lines:
        if line.sku == "MILK":
            picking.pick(potok.uow(), sid, ScanInput("MILK", line.left, lot=line.lot), TESTER)
    for serial in ("C-1", "C-2"):
        picking.pick(potok.uow(), sid, ScanInput("CAM", serial=serial), TESTER)
    view = reads.get_shipment(potok.uow(), sid).shipment
    parcel = tuple(ParcelLine(i.item_no, i.picked) for i in view.items)
    packing.pack_parcel(potok.uow(), sid, ParcelDraft(1500, 300, 200, 200, parcel), TESTER)
    handover.hand_over(potok.uow(), sid, TESTER, carrier="sandbox", tracking_number="SBX-AUDIT-1")

    def ledger(kind: str) -> list[tuple[str, str | None, int]]:
        with potok.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT p.sku, l.number, m.quantity FROM stock_movements m "
                    "JOIN stock s ON s.id = m.stock_id JOIN products p ON p.id = s.product_id "
                    "LEFT JOIN lots l ON l.id = s.lot_id WHERE m.type = :kind"
                ),
                {"kind": kind},
            ).all()
        return sorted((sku, lot, quantity) for sku, lot, quantity in rows)

    def serials() -> list[tuple[str, str]]:
        with potok.engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT serial, status FROM serials")).all()
        return sorted((serial, status) for serial, status in rows)

    # one ledger movement per position (lot) that lost units; the cameras' serials shipped
    assert ledger("shipment") == [
        ("CAM", None, -2),
        ("MILK", "L-EARLY", -2),
        ("MILK", "L-LATE", -1),
    ]
    assert serials() == [("C-1", "shipped"), ("C-2", "shipped"), ("C-3", "in_stock")]
    _clean(potok)

    # nobody home, then back to the sender: the units return to their own lots and serials
    start = datetime(2099, 1, 1, tzinfo=UTC)
    back = [
        TrackingEvent("SBX-AUDIT-1", status, start + timedelta(hours=n), words, f"a{n}")
        for n, (status, words) in enumerate(
            (
                (TrackingStatus.IN_TRANSIT, "Принято"),
                (TrackingStatus.FAILED_DELIVERY, "Получатель отсутствовал"),
                (TrackingStatus.RETURNING, "Возврат отправителю"),
                (TrackingStatus.RETURNED_TO_SENDER, "Возвращено"),
            ),
            start=1,
        )
    ]
    assert tracking.apply_tracking(potok.uow(), "sandbox", back).applied == 4
    assert reads.get_shipment(potok.uow(), sid).shipment.status is (
        ShipmentStatus.RETURNED_TO_SENDER
    )
    assert ledger("return_to_sender") == [
        ("CAM", None, 2),
        ("MILK", "L-EARLY", 2),
        ("MILK", "L-LATE", 1),
    ]
    assert serials() == [("C-1", "in_stock"), ("C-2", "in_stock"), ("C-3", "in_stock")]
    _clean(potok)
