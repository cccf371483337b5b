"""Picking: starting a shipment's (or a wave's) picking, confirming scans, short picks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.fulfilment import Shipment, ShipmentItem, ShipmentStatus, WaveNotFound
from potok.domain.fulfilment.errors import (
    NothingToPick,
    OrderNotReleasable,
    ShipmentNotStarted,
    WaveClosed,
    WrongProduct,
)
from potok.domain.fulfilment.picking import MAX_SCAN_QUANTITY, Scan, Slot, Take, match_scan
from potok.domain.fulfilment.states import WaveStatus
from potok.domain.fulfilment.waves import Wave
from potok.domain.inventory import MovementType
from potok.domain.kernel import Actor, Clock, ProductId, Tracking, utc_now
from potok.domain.orders import AllocationState, Order, OrderState, PaymentStatus
from potok.domain.sourcing import Decision
from potok.domain.triggers import OrdersLeftShort
from potok.services.allocation import allocate, give_back
from potok.services.fulfilment.common import locked, roll_up_order, shipment_of
from potok.services.idempotency import Once, atomically_once
from potok.services.inventory import apply_level
from potok.services.reactions import react
from potok.services.unit_of_work import UnitOfWork, atomically


@dataclass(frozen=True, slots=True)
class ScanInput:
    """What a scanner read: the product's barcode (or its SKU), and as it gives them, the
    bin, lot and serial number; and how many units it confirms."""

    code: str
    quantity: int = 1
    bin: str | None = None
    lot: str | None = None
    serial: str | None = None

    def check(self) -> None:
        errors = []
        if not self.code.strip() or len(self.code) > 64:
            errors.append(FieldError("code", "scan a barcode or type a SKU (1-64 characters)"))
        if isinstance(self.quantity, bool) or not 1 <= self.quantity <= MAX_SCAN_QUANTITY:
            errors.append(
                FieldError("quantity", f"must be from 1 to {MAX_SCAN_QUANTITY}", "out-of-range")
            )
        for name, value in (("bin", self.bin), ("lot", self.lot), ("serial", self.serial)):
            if value is not None and not 1 <= len(value) <= 100:
                errors.append(FieldError(name, "must be 1-100 characters"))
        if errors:
            raise InvalidInput(errors)


@dataclass(frozen=True, slots=True)
class PickOutcome:
    """The units a scan confirmed, each with the slot (order) it goes into."""

    takes: list[Take]
    shipments: list[Shipment]
    wave: Wave | None = None
    left: int = 0  # units still to pick on the shipment, or in the wave


def _why_not(order: Order) -> str | None:
    if order.state is not OrderState.CONFIRMED:
        return f"it is {order.status.value}"
    if order.active_holds:
        return "it is on hold"
    if order.payment_due_at is not None or order.payment_status is PaymentStatus.FAILED:
        return f"it waits for its payment ({order.payment_status.value})"
    return None


def start(uow: UnitOfWork, order: Order, shipment: Shipment, at: datetime, actor: str) -> bool:
    """Start picking a pending shipment (order and shipment locked): its items are frozen
    from the order's free reservations there and the order holds them for it. A shipment
    with nothing left to pick is cancelled instead; an order that may not be picked any more
    (held, cancelled, unpaid) leaves it pending. Returns whether picking started."""
    assert shipment.id is not None
    why = _why_not(order)
    if why is not None:
        raise OrderNotReleasable(order_id=order.id, why=why)
    items = uow.shipments.open_items(order.id or 0, shipment.warehouse_id, shipment.parcel_group)
    if not items:
        shipment.cancel(at, actor, "nothing left to pick here: the order was sourced again")
        uow.shipments.save(shipment)
        return False
    keys = {(i.line_no, i.stock_id) for i in items}
    chosen = [
        r
        for r in order.free_reservations
        if r.warehouse_id == shipment.warehouse_id and (r.line_no, r.stock_id) in keys
    ]
    shipment.start(items, at, actor)
    order.claim(chosen, shipment.id)
    uow.shipments.save(shipment)
    roll_up_order(
        uow,
        order,
        at,
        actor,
        "picking_started",
        f"picking started at {shipment.warehouse_code} (shipment {shipment.number})",
        shipment_id=shipment.id,
    )
    return True


def start_picking(
    uow: UnitOfWork, shipment_id: int, actor: Actor, *, clock: Clock = utc_now
) -> Shipment:
    """Start picking a pending shipment (the first scan does this by itself)."""

    def work(uow: UnitOfWork) -> Shipment:
        order, shipment = locked(uow, shipment_id)
        pending = shipment.status is ShipmentStatus.PENDING
        if pending and not start(uow, order, shipment, clock(), str(actor)):
            raise NothingToPick(order_id=order.id, warehouse=shipment.warehouse_code)
        return shipment

    return atomically(uow, work)


def _product(uow: UnitOfWork, code: str) -> tuple[ProductId, Tracking]:
    product = uow.products.get_by_barcode(code) or uow.products.get_by_sku(code)
    if product is None:
        raise WrongProduct(scanned=code, expected="a barcode or SKU of the catalogue")
    return product.id, product.tracking


def pick(
    uow: UnitOfWork,
    shipment_id: int,
    scan: ScanInput,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[PickOutcome] | None = None,
) -> PickOutcome:
    """Confirm a scan on one shipment's pick list; the first scan starts its picking."""
    scan.check()

    def work(uow: UnitOfWork) -> PickOutcome:
        at = clock()
        who = str(actor)
        peek = shipment_of(uow, shipment_id)
        if peek.status is ShipmentStatus.PENDING:
            order, shipment = locked(uow, shipment_id)
            if shipment.status is ShipmentStatus.PENDING and not start(
                uow, order, shipment, at, who
            ):
                raise NothingToPick(order_id=order.id, warehouse=shipment.warehouse_code)
        else:
            shipment = shipment_of(uow, shipment_id, lock=True)
        _require_picking(shipment, "its picking is over")
        product_id, _ = _product(uow, scan.code)
        slots = [Slot(shipment_id, shipment.order_id, 1, item) for item in shipment.items]
        takes = match_scan(slots, _scan(scan, product_id))
        for take in takes:
            shipment.pick(
                take.item_no, take.quantity, at, who, serial=take.serial, bin_code=scan.bin
            )
        uow.shipments.save(shipment)
        settle_wave(uow, shipment, at)
        return PickOutcome(takes, [shipment], left=sum(i.left for i in shipment.items))

    return atomically_once(uow, once, work)


def _require_picking(shipment: Shipment, action: str) -> None:
    if shipment.status is not ShipmentStatus.PICKING:
        raise ShipmentNotStarted(
            shipment_id=shipment.id, status=shipment.status.value, action=action
        )


def _scan(scan: ScanInput, product_id: ProductId) -> Scan:
    return Scan(product_id, scan.code, scan.quantity, scan.bin, scan.lot, scan.serial)


def _wave(uow: UnitOfWork, number: str, *, lock: bool = False) -> Wave:
    wave = uow.waves.get(number, lock=lock)
    if wave is None:
        raise WaveNotFound(wave=number)
    return wave


def start_wave(uow: UnitOfWork, number: str, actor: Actor, *, clock: Clock = utc_now) -> Wave:
    """Start picking a wave: each of its pending shipments starts (an order that may no
    longer be picked - held, cancelled, sourced elsewhere - leaves the wave)."""

    def work(uow: UnitOfWork) -> Wave:
        wave = _wave(uow, number)
        if wave.status is WaveStatus.OPEN:
            _start_wave(uow, wave, clock(), str(actor))
        return wave

    return atomically(uow, work)


def _start_wave(uow: UnitOfWork, wave: Wave, at: datetime, actor: str) -> None:
    peeks = uow.shipments.get_many(wave.shipment_ids)
    orders = {o.id: o for o in uow.orders.get_many([s.order_id for s in peeks], lock=True)}
    wave = _wave(uow, wave.number, lock=True)
    if wave.status is not WaveStatus.OPEN:
        return
    for shipment in uow.shipments.get_many(wave.shipment_ids, lock=True):
        order = orders.get(shipment.order_id)
        if order is None or shipment.status is not ShipmentStatus.PENDING:
            continue
        if _why_not(order) is not None:
            shipment.cancel(at, actor, f"left wave {wave.number}: {_why_not(order)}")
            uow.shipments.save(shipment)
            continue
        start(uow, order, shipment, at, actor)
    wave.start(at)
    uow.waves.save(wave)


def pick_in_wave(
    uow: UnitOfWork,
    number: str,
    scan: ScanInput,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[PickOutcome] | None = None,
) -> PickOutcome:
    """Confirm a scan in a wave: the units go to the wave's orders in slot order, and the
    answer says which slot gets how many. The first scan starts the wave."""
    scan.check()

    def work(uow: UnitOfWork) -> PickOutcome:
        at = clock()
        who = str(actor)
        wave = _wave(uow, number)
        if wave.status is WaveStatus.OPEN:
            _start_wave(uow, wave, at, who)
            wave = _wave(uow, number)
        if wave.status in (WaveStatus.CANCELLED, WaveStatus.DONE):
            raise WaveClosed(wave=number, status=wave.status.value)
        product_id, _ = _product(uow, scan.code)
        assert wave.id is not None
        wanted = uow.shipments.open_in_wave(wave.id, product_id)
        if wanted:  # only the shipments the scan may fill are read, and locked
            shown = uow.shipments.get_many(wanted, lock=True)
        else:  # nothing to fill: the whole wave, to say what was expected instead
            shown = uow.shipments.get_many(wave.shipment_ids)
        slots = [
            Slot(s.id, s.order_id, wave.slot_of(s.id), item)
            for s in shown
            if s.id is not None and s.status is ShipmentStatus.PICKING
            for item in s.items
        ]
        takes = match_scan(slots, _scan(scan, product_id))
        by_id = {s.id: s for s in shown}
        for take in takes:
            by_id[take.shipment_id].pick(
                take.item_no, take.quantity, at, who, serial=take.serial, bin_code=scan.bin
            )
        touched = [by_id[i] for i in dict.fromkeys(t.shipment_id for t in takes)]
        for shipment in touched:
            uow.shipments.save(shipment)
        left = uow.shipments.left_in_wave(wave.id)
        if left == 0:
            _finish(uow, wave, at)
        return PickOutcome(takes, touched, wave, left)

    return atomically_once(uow, once, work)


def settle_wave(uow: UnitOfWork, shipment: Shipment, at: datetime) -> None:
    """A shipment of a wave moved outside the wave's own scans: the wave may be done."""
    if shipment.wave is None or shipment.wave_id is None:
        return
    if uow.shipments.left_in_wave(shipment.wave_id) == 0:
        _finish(uow, _wave(uow, shipment.wave), at)


def _finish(uow: UnitOfWork, wave: Wave, at: datetime) -> None:
    """Nothing is left to pick: the wave is done."""
    locked_wave = _wave(uow, wave.number, lock=True)
    if locked_wave.status is WaveStatus.PICKING:
        locked_wave.finish(at)
        uow.waves.save(locked_wave)


# ---------------------------------------------------------------------- short picks


@dataclass(frozen=True, slots=True)
class ShortPick:
    """Units a picker did not find: of one item (or of the SKU, and lot, on the list)."""

    missing: int
    item_no: int | None = None
    sku: str | None = None
    lot: str | None = None
    note: str | None = None

    def check(self) -> None:
        errors = []
        if isinstance(self.missing, bool) or not 1 <= self.missing <= MAX_SCAN_QUANTITY:
            errors.append(
                FieldError("missing", f"must be from 1 to {MAX_SCAN_QUANTITY}", "out-of-range")
            )
        if self.item_no is None and self.sku is None:
            errors.append(FieldError("sku", "name the item (item_no) or its SKU", "required"))
        if self.note is not None and len(self.note) > 500:
            errors.append(FieldError("note", "must be at most 500 characters", "too-long"))
        if errors:
            raise InvalidInput(errors)


@dataclass(frozen=True, slots=True)
class ShortOutcome:
    shipment: Shipment
    order: Order
    movement_id: int
    resourced: bool  # the rest of the order is reserved again (else backordered)
    added_here: list[ShipmentItem]  # units of the rest found at this warehouse, added
    displaced: list[int]  # other orders that lost their reservations to the smaller stock
    alerts: list[int]


def _short_item(shipment: Shipment, short: ShortPick) -> ShipmentItem:
    if short.item_no is not None:
        return shipment.item(short.item_no)
    fits = [
        i
        for i in shipment.items
        if i.sku == short.sku and (short.lot is None or i.lot == short.lot) and i.left > 0
    ]
    if not fits:
        raise InvalidInput(
            [FieldError("sku", f"nothing of '{short.sku}' is left to pick here", "not-on-list")]
        )
    if len(fits) > 1:
        raise InvalidInput(
            [FieldError("item_no", "several items fit: name the item (or the lot)", "ambiguous")]
        )
    return fits[0]


def short_pick(
    uow: UnitOfWork,
    shipment_id: int,
    short: ShortPick,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[ShortOutcome] | None = None,
) -> ShortOutcome:
    """Units were not on the shelf: the shipment carries fewer, the position is written
    down ("picking shortage"), and the rest of the order - whatever no started shipment
    holds - is sourced again without that shelf: units found at this warehouse join the
    shipment at once, others wait for a shipment of their own; nothing anywhere
    backorders the rest, with an alert."""
    short.check()

    def work(uow: UnitOfWork) -> ShortOutcome:
        at = clock()
        who = str(actor)
        order, shipment = locked(uow, shipment_id)
        assert order.id is not None
        assert shipment.id is not None
        pending = shipment.status is ShipmentStatus.PENDING
        if pending and not start(uow, order, shipment, at, who):  # the first shelf was empty
            raise NothingToPick(order_id=order.id, warehouse=shipment.warehouse_code)
        _require_picking(shipment, "only a shipment being picked can be short")
        item = _short_item(shipment, short)
        if item.serials:
            raise InvalidInput(
                [
                    FieldError(
                        "sku",
                        f"'{item.sku}' is serialised: write the missing units off by serial "
                        "number (POST /api/v1/stock/write-offs) and pick the others",
                        "serialised",
                    )
                ]
            )
        why = (
            f"picking shortage: {short.missing} of {item.sku} not found at "
            f"{shipment.warehouse_code}"
        )
        shipment.short(item.item_no, short.missing, at, who, short.note)
        released = order.shorten(shipment.id, item.line_no, item.stock_id, short.missing, at)
        give_back(uow, order, [released], at, why)
        uow.shipments.save(shipment)
        uow.orders.save(order)  # written now: the write-down below may displace others
        level = uow.positions.get(item.stock_id, lock=True)
        assert level is not None
        change = apply_level(
            uow,
            level,
            max(level.on_hand - short.missing, 0),
            MovementType.WRITE_OFF,
            "picking shortage",
            f"shipment {shipment.number}",
            at,
            who,
        )
        freed = order.release_allocation(at, who, why)
        give_back(uow, order, freed, at, why)
        outcome = allocate(uow, order, at, who, avoid_positions={item.stock_id}, trigger=why)
        added = _join_here(uow, order, shipment, at, who, why)
        uow.orders.save(order)
        alerts = []
        if not isinstance(outcome, Decision):
            alerts = react(uow, OrdersLeftShort(at=at, orders=[order], why=why)).alert_ids
        roll_up_order(uow, order, at, who, "short_picked", why, shipment_id=shipment.id)
        settle_wave(uow, shipment, at)
        return ShortOutcome(
            shipment,
            order,
            change.movement_id,
            isinstance(outcome, Decision),
            added,
            change.orders_resourced,
            alerts,
        )

    return atomically_once(uow, once, work)


def _join_here(
    uow: UnitOfWork, order: Order, shipment: Shipment, at: datetime, actor: str, why: str
) -> list[ShipmentItem]:
    """Units of the re-sourced rest reserved at the shipment's warehouse (in its parcel
    group) join it, so the picker takes them from another shelf now."""
    assert shipment.id is not None
    if order.allocation is not AllocationState.RESERVED:
        return []
    here = [
        r
        for r in order.changes.new_reservations
        if r.warehouse_id == shipment.warehouse_id and r.shipment_id is None
    ]
    if not here:
        return []
    groups = {p.id: p.parcel_group for p in uow.products.get_many({r.sku for r in here}).values()}
    here = [r for r in here if groups.get(r.product_id, "") == shipment.parcel_group]
    if not here:
        return []
    order.claim(here, shipment.id)
    number = shipment.next_item_no
    items = []
    for offset, r in enumerate(here):
        items.append(
            ShipmentItem(
                item_no=number + offset,
                line_no=r.line_no,
                product_id=r.product_id,
                sku=r.sku,
                stock_id=r.stock_id,
                quantity=r.quantity,
                lot=r.lot,
                serials=r.serials,
            )
        )
    shipment.add_items(items, at, actor, why)
    uow.shipments.save(shipment)
    return items
