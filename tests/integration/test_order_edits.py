"""Order edits through the services: only the difference is released or reserved, where
the order already is when it can be; refused edits change nothing; line and shipment
cancellations once picking has started; an edit racing the start of picking."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from potok.bootstrap import Potok
from potok.domain.errors import InvalidInput, PotokError, StaleVersion, VersionRequired
from potok.domain.fulfilment import ParcelDraft, ParcelLine, ShipmentStatus
from potok.domain.orders import DeliveryMethod, OrderStatus
from potok.domain.orders.commands import DeliveryRequest
from potok.domain.orders.edits import LineInFulfilment, OrderNotEditable
from potok.domain.orders.errors import NetworkCannotCover
from potok.services import inventory
from potok.services import orders as order_service
from potok.services.fulfilment import handover, packing, picking, reads, release
from potok.services.fulfilment.picking import ScanInput
from potok.services.intake import Placement, place_order
from potok.services.order_edits import (
    CancelLines,
    EditOrder,
    LineChange,
    cancel_lines,
    cancel_shipment,
    edit_order,
)
from tests.factories import TESTER, build_world, order_command
from tests.invariants import assert_shipment_invariants, assert_stock_invariants
from tests.racing import RACE_LIMIT, start_line


def _order(potok: Potok, lines: list[tuple[str, int]]) -> int:
    placed = place_order(potok.uow(), order_command(lines), TESTER)
    assert isinstance(placed, Placement)
    assert placed.order.id is not None
    return placed.order.id


def _held(potok: Potok, order_id: int) -> list[tuple[int, str, str, int]]:
    order = order_service.get_order(potok.uow(), order_id).order
    return sorted((r.line_no, r.warehouse_code, r.sku, r.quantity) for r in order.open_reservations)


def _version(potok: Potok, order_id: int) -> int:
    return order_service.get_order(potok.uow(), order_id).order.version


def _clean(potok: Potok) -> None:
    assert inventory.reconcile(potok.uow()).drifts == []
    assert_stock_invariants(potok)
    assert_shipment_invariants(potok)


def _edit(potok: Potok, order_id: int, *lines: LineChange, **extra: object) -> object:
    return edit_order(
        potok.uow(),
        EditOrder(order_id, _version(potok, order_id), lines, **extra),
        TESTER,  # type: ignore[arg-type]
    )


def test_an_edit_moves_only_the_difference(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 3, ("SPB", "KET"): 5, ("MSK", "MUG"): 4, ("MSK", "TOY"): 1})
    order_id = _order(potok, [("KET", 2), ("MUG", 3)])
    kept = {
        r.line_no: r.id
        for r in order_service.get_order(potok.uow(), order_id).order.open_reservations
    }

    _edit(
        potok,
        order_id,
        LineChange(3, line_no=1),
        LineChange(1, line_no=2),
        LineChange(1, sku="TOY"),
    )

    order = order_service.get_order(potok.uow(), order_id).order
    assert [(li.line_no, li.sku, li.quantity) for li in order.lines] == [
        (1, "KET", 3),
        (2, "MUG", 1),
        (3, "TOY", 1),
    ]
    # the third kettle at MSK, where the order already is (SPB has more); the first two and
    # the remaining mug keep their reservations
    assert _held(potok, order_id) == [
        (1, "MSK", "KET", 1),
        (1, "MSK", "KET", 2),
        (2, "MSK", "MUG", 1),
        (3, "MSK", "TOY", 1),
    ]
    still = {r.id for r in order.open_reservations}
    assert {kept[1], kept[2]} <= still
    assert order.status is OrderStatus.RESERVED
    edited = [
        h for h in order_service.get_order(potok.uow(), order_id).history if h.action == "edited"
    ]
    assert edited[0].details["lines_before"][1]["quantity"] == 3
    assert edited[0].details["lines_after"][1]["quantity"] == 1
    _clean(potok)

    # one more kettle than MSK has: it comes from SPB
    _edit(potok, order_id, LineChange(4, line_no=1))
    assert (1, "SPB", "KET", 1) in _held(potok, order_id)
    # more than the network has: refused, nothing changes
    version = _version(potok, order_id)
    with pytest.raises(NetworkCannotCover):
        _edit(potok, order_id, LineChange(40, line_no=1), LineChange(0, line_no=2))
    assert _version(potok, order_id) == version
    assert (2, "MSK", "MUG", 1) in _held(potok, order_id)
    # a stale version, or none
    with pytest.raises(StaleVersion):
        edit_order(
            potok.uow(), EditOrder(order_id, version - 1, (LineChange(1, line_no=1),)), TESTER
        )
    with pytest.raises(VersionRequired):
        edit_order(potok.uow(), EditOrder(order_id, None, (LineChange(1, line_no=1),)), TESTER)
    _clean(potok)


def test_the_delivery_changes_and_the_stock_stays(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 2})
    order_id = _order(potok, [("KET", 1)])
    held = _held(potok, order_id)
    _edit(potok, order_id, delivery=DeliveryRequest(DeliveryMethod.PICKUP, pickup_point="MSK-P"))
    order = order_service.get_order(potok.uow(), order_id).order
    assert (order.delivery.method, order.delivery.pickup_point_code) == (
        DeliveryMethod.PICKUP,
        "MSK-P",
    )
    assert _held(potok, order_id) == held
    with pytest.raises(InvalidInput) as wrong:
        _edit(potok, order_id, delivery=DeliveryRequest(DeliveryMethod.PICKUP, pickup_point="NOPE"))
    assert wrong.value.errors[0].code == "unknown-pickup-point"


def test_once_picking_starts_lines_cannot_change_but_units_no_shipment_holds_can_go(
    potok: Potok,
) -> None:
    build_world(potok, {("MSK", "KET"): 2, ("SPB", "MUG"): 3})
    order_id = _order(potok, [("KET", 2), ("MUG", 2)])  # split: KET at MSK, MUG at SPB
    (pending,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
    # a pending shipment does not stop an edit; what it will pick follows the order
    _edit(potok, order_id, LineChange(1, line_no=1))
    assert [
        i.quantity for i in reads.get_shipment(potok.uow(), pending.id or 0).shipment.items
    ] == [1]
    picking.pick(potok.uow(), pending.id or 0, ScanInput("KET"), TESTER)
    with pytest.raises(OrderNotEditable):
        _edit(potok, order_id, LineChange(2, line_no=2))
    with pytest.raises(LineInFulfilment):
        cancel_lines(potok.uow(), CancelLines(order_id, {1: 1}, "no longer wanted"), TESTER)
    view = cancel_lines(potok.uow(), CancelLines(order_id, {2: 1}, "one mug is enough"), TESTER)
    assert [(li.sku, li.quantity) for li in view.order.lines] == [("KET", 1), ("MUG", 1)]
    assert (2, "SPB", "MUG", 1) in _held(potok, order_id)
    _clean(potok)

    # the MSK shipment leaves; the mug's shipment is cancelled before it does
    packing.pack_parcel(
        potok.uow(), pending.id or 0, ParcelDraft(1300, 300, 200, 200, (ParcelLine(1, 1),)), TESTER
    )
    handover.hand_over(potok.uow(), pending.id or 0, TESTER)
    assert (
        order_service.get_order(potok.uow(), order_id).order.status is OrderStatus.PARTIALLY_SHIPPED
    )
    (spb,) = release.release_order(potok.uow(), order_id, "SPB", TESTER)
    picking.pick(potok.uow(), spb.id or 0, ScanInput("MUG"), TESTER)
    after = cancel_shipment(potok.uow(), spb.id or 0, "the customer called it off", TESTER)
    assert after.order.status is OrderStatus.SHIPPED  # everything left is on its way
    assert [(li.sku, li.quantity) for li in after.order.lines] == [("KET", 1)]
    assert reads.get_shipment(potok.uow(), spb.id or 0).shipment.status is ShipmentStatus.CANCELLED
    _clean(potok)


@RACE_LIMIT
def test_an_edit_racing_the_start_of_picking_never_leaves_them_apart(potok: Potok) -> None:
    build_world(potok, {("MSK", "KET"): 20})
    rounds = 6
    prepared = []
    for _ in range(rounds):
        order_id = _order(potok, [("KET", 2)])
        (shipment,) = release.release_order(potok.uow(), order_id, "MSK", TESTER)
        prepared.append((order_id, shipment.id or 0, _version(potok, order_id)))
    barrier = start_line(2 * rounds)

    def edit(order_id: int, version: int) -> str:
        barrier.wait()
        try:
            edit_order(
                potok.uow(), EditOrder(order_id, version, (LineChange(3, line_no=1),)), TESTER
            )
        except PotokError as error:
            return error.code
        return "ok"

    def start(shipment_id: int) -> str:
        barrier.wait()
        try:
            picking.start_picking(potok.uow(), shipment_id, TESTER)
        except PotokError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(2 * rounds) as pool:
        edits = [pool.submit(edit, o, v) for o, _, v in prepared]
        starts = [pool.submit(start, s) for _, s, _ in prepared]
        outcomes = [(e.result(), s.result()) for e, s in zip(edits, starts, strict=True)]

    for (order_id, shipment_id, _), (edited, started) in zip(prepared, outcomes, strict=True):
        assert started == "ok"
        shipment = reads.get_shipment(potok.uow(), shipment_id).shipment
        order = order_service.get_order(potok.uow(), order_id).order
        if edited == "ok":  # the edit came first: the shipment picks the edited order
            assert [i.quantity for i in shipment.items] == [3]
        else:  # picking came first: the edit was refused, nothing changed
            assert edited in ("order-not-editable", "stale-version")
            assert [i.quantity for i in shipment.items] == [2]
        assert order.lines[0].quantity == shipment.items[0].quantity
    _clean(potok)
