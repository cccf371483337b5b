"""Stock use cases: receipts, write-offs, counts, bulk levels, availability and reconciliation.

Every change of ``on_hand`` writes a ledger movement and a ``stock.changed`` event in
the same transaction. Stock that drops below what is reserved takes reservations back
from the least urgent, newest orders and re-sources them; stock that grows gives
backordered orders another try.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from potok.domain.catalogue import Product, ProductNotFound
from potok.domain.channels import Channel, ChannelNotFound
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory import Movement, MovementType, StockLevel, StockPositionNotFound
from potok.domain.inventory.commands import (
    CountStock,
    LevelRow,
    ReceiveStock,
    SetLevels,
    WriteOffStock,
)
from potok.domain.inventory.errors import BulkRejected, CountMismatch
from potok.domain.inventory.events import StockChanged, StockSynced
from potok.domain.inventory.lots import (
    LotDatesDiffer,
    LotInput,
    LotNotFound,
    SerialNotInStock,
    SerialTaken,
    check_identity,
    require_identity,
)
from potok.domain.inventory.model import MAX_QUANTITY, require_quantity
from potok.domain.kernel import (
    Actor,
    Clock,
    LotId,
    ProductId,
    StockId,
    Tracking,
    WarehouseId,
    utc_now,
)
from potok.domain.network import WarehouseNotFound
from potok.domain.orders import Order
from potok.domain.triggers import OrdersDisplaced, StockFiguresMoved, StockFreed
from potok.domain.validation import Problems
from potok.services.allocation import make_room
from potok.services.expiry import expire_position
from potok.services.idempotency import Once, atomically_once
from potok.services.ports import LotDates, UploadChange, UploadRows
from potok.services.reactions import react
from potok.services.read_models import (
    ChannelPromise,
    Drift,
    LevelPage,
    MovementPage,
    WarehouseAvailability,
)
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class StockChange:
    """A position after a change, and what the change set in motion."""

    level: StockLevel
    movement: Movement
    movement_id: int
    backorders_reserved: list[int]
    orders_resourced: list[int]


@dataclass(frozen=True, slots=True)
class LevelsApplied:
    rows: int
    changed: int
    created: int
    backorders_reserved: list[int]
    orders_resourced: list[int]


@dataclass(frozen=True, slots=True)
class Availability:
    sku: str
    product_id: int
    warehouses: list[WarehouseAvailability]
    channels: list[ChannelPromise]

    @property
    def on_hand(self) -> int:
        return sum(w.on_hand for w in self.warehouses)

    @property
    def available(self) -> int:
        return sum(w.available for w in self.warehouses if w.active)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    checked: int
    drifts: list[Drift]


def _ids(uow: UnitOfWork, warehouse: str, sku: str) -> tuple[WarehouseId, ProductId]:
    warehouse_ids = uow.warehouses.ids_for([warehouse])
    if warehouse not in warehouse_ids:
        raise WarehouseNotFound(warehouse=warehouse)
    product_ids = uow.products.ids_for([sku])
    if sku not in product_ids:
        raise ProductNotFound(sku=sku)
    return warehouse_ids[warehouse], product_ids[sku]


def _warehouse_and_product(
    uow: UnitOfWork, warehouse: str, sku: str
) -> tuple[WarehouseId, Product]:
    warehouse_ids = uow.warehouses.ids_for([warehouse])
    if warehouse not in warehouse_ids:
        raise WarehouseNotFound(warehouse=warehouse)
    product = uow.products.get_by_sku(sku)
    if product is None:
        raise ProductNotFound(sku=sku)
    return warehouse_ids[warehouse], product


def _receive_lot(uow: UnitOfWork, product: Product, lot: LotInput, at: datetime) -> LotId:
    """The lot's id, created on first sight; the dates a receipt gives must match the known."""
    stored = uow.stock.ensure_lot(
        product.id, LotDates(lot.number, lot.produced_on, lot.expires_on), at
    )
    known = stored.dates
    if (lot.produced_on is not None and lot.produced_on != known.produced_on) or (
        lot.expires_on is not None and lot.expires_on != known.expires_on
    ):
        raise LotDatesDiffer(
            sku=product.sku,
            lot=lot.number,
            known_produced=known.produced_on or "unknown",
            known_expires=known.expires_on or "never",
            produced=lot.produced_on or "unknown",
            expires=lot.expires_on or "never",
        )
    return stored.id


def _known_lot(
    uow: UnitOfWork, warehouse: str, product: Product, number: str | None
) -> LotId | None:
    if number is None:
        return None
    lot_id = uow.stock.lot_id(product.id, number)
    if lot_id is None:
        raise LotNotFound(warehouse=warehouse, sku=product.sku, lot=number)
    return lot_id


def _announce(
    uow: UnitOfWork, level: StockLevel, movement: Movement, *, audited: bool = True
) -> None:
    uow.record(
        StockChanged(
            occurred_at=movement.occurred_at,
            warehouse=level.warehouse_code,
            sku=level.sku,
            movement=movement.type.value,
            quantity=movement.quantity,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            reason=movement.reason,
            reference=movement.reference,
            unavailable=level.unavailable,
            unavailable_change=movement.unavailable_change,
            lot=level.lot,
            expires_on=level.expires_on.isoformat() if level.expires_on else None,
        ),
        audited=audited,
    )


def apply_level(
    uow: UnitOfWork,
    level: StockLevel,
    new_on_hand: int,
    movement_type: MovementType,
    reason: str,
    reference: str | None,
    at: datetime,
    actor: str,
    *,
    audited: bool = True,
) -> StockChange:
    """Write one position's new on-hand with its movement; settle reservations and backorders
    (``audited``: False when a bulk upload's own event speaks for the change in the audit
    trail)."""
    displaced = (
        make_room(uow, level, new_on_hand, at, actor, reason)
        if new_on_hand < level.reserved
        else []
    )
    delta = new_on_hand - level.on_hand
    # what is left after the reservations shrinks the unavailable bucket, in the same entry
    held = uow.positions.get(level.stock_id) if displaced else level
    assert held is not None
    unavailable = min(held.unavailable, new_on_hand - held.reserved)
    if unavailable != held.unavailable:
        uow.positions.set_buckets(
            level.stock_id, on_hand=new_on_hand, unavailable=unavailable, at=at
        )
    else:
        uow.stock.set_on_hand({level.stock_id: new_on_hand}, at)
    after = uow.stock.level(level.warehouse_id, level.product_id, lot_id=level.lot_id)
    assert after is not None
    movement = Movement(
        stock_id=level.stock_id,
        warehouse_id=level.warehouse_id,
        product_id=level.product_id,
        type=movement_type,
        quantity=delta,
        on_hand_after=new_on_hand,
        reason=reason,
        reference=reference,
        actor=actor,
        occurred_at=at,
        lot_id=level.lot_id,
        unavailable_change=unavailable - held.unavailable,
    )
    (movement_id,) = uow.stock.add_movements([movement])
    _announce(uow, after, movement, audited=audited)
    why = f"{reason}: {level.sku} at {level.warehouse_code} fell to {new_on_hand}"
    backorders = react(
        uow,
        OrdersDisplaced(at=at, orders=displaced, actor=actor, why=why),
        StockFreed(at=at, product_ids=[level.product_id] if delta > 0 else [], actor=actor),
        StockFiguresMoved(at=at, positions=[(level.warehouse_id, level.product_id)]),
    ).reserved
    final = uow.stock.level(level.warehouse_id, level.product_id, lot_id=level.lot_id)
    assert final is not None
    return StockChange(final, movement, movement_id, backorders, [o.id for o in displaced if o.id])


def receive_stock(
    uow: UnitOfWork,
    command: ReceiveStock,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[StockChange] | None = None,
) -> StockChange:
    """Goods arrived: on-hand goes up, and orders waiting for them are reserved. A lot is
    created when first received; serial numbers are put in stock one by one."""
    require_quantity("quantity", command.quantity)
    serials = list(command.serials) if command.serials is not None else None

    def work(uow: UnitOfWork) -> StockChange:
        at = clock()
        warehouse_id, product = _warehouse_and_product(uow, command.warehouse, command.sku)
        require_identity(product.tracking, product.sku, command.quantity, command.lot, serials)
        lot_id = _receive_lot(uow, product, command.lot, at) if command.lot else None
        uow.stock.ensure_position(warehouse_id, product.id, at, lot_id=lot_id)
        level = uow.stock.level(warehouse_id, product.id, lock=True, lot_id=lot_id)
        assert level is not None
        if level.on_hand + command.quantity > MAX_QUANTITY:
            require_quantity("quantity", MAX_QUANTITY + 1)
        if serials:
            taken = uow.stock.add_serials(level, serials, at)
            if taken:
                raise SerialTaken(sku=product.sku, serials=", ".join(taken[:20]))
        uow.stock.mark_received(level.stock_id, at)
        change = apply_level(
            uow,
            level,
            level.on_hand + command.quantity,
            MovementType.RECEIPT,
            command.reason,
            command.reference,
            at,
            str(actor),
        )
        expires_on = change.level.expires_on
        if expires_on is None or expires_on > at.astimezone(UTC).date():
            return change
        # a lot that has expired already: its units are not sellable from the start
        _, displaced = expire_position(uow, change.level, at, str(actor))
        why = f"lot {change.level.lot} received already expired"
        react(uow, OrdersDisplaced(at=at, orders=displaced, actor=str(actor), why=why))
        final = uow.stock.level(warehouse_id, product.id, lot_id=lot_id)
        assert final is not None
        return replace(change, level=final)

    return atomically_once(uow, once, work)


def write_off_stock(
    uow: UnitOfWork,
    command: WriteOffStock,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[StockChange] | None = None,
) -> StockChange:
    """Damaged, lost or expired goods leave the books; never more than is on hand."""
    require_quantity("quantity", command.quantity)
    problems = Problems()
    problems.text("reason", command.reason, max_length=500)
    if problems:
        raise InvalidInput(problems.errors)

    def work(uow: UnitOfWork) -> StockChange:
        at = clock()
        warehouse_id, product = _warehouse_and_product(uow, command.warehouse, command.sku)
        serials = list(command.serials) if command.serials is not None else None
        lot = LotInput(command.lot) if command.lot is not None else None
        require_identity(product.tracking, product.sku, command.quantity, lot, serials)
        lot_id = _known_lot(uow, command.warehouse, product, command.lot)
        level = uow.stock.level(warehouse_id, product.id, lock=True, lot_id=lot_id)
        if level is None:
            raise StockPositionNotFound(warehouse=command.warehouse, sku=command.sku)
        new_on_hand = level.write_off(command.quantity)
        if serials:
            missing = uow.stock.write_off_serials(level, serials, at)
            if missing:
                raise SerialNotInStock(
                    sku=product.sku, warehouse=command.warehouse, serials=", ".join(missing[:20])
                )
        return apply_level(
            uow,
            level,
            new_on_hand,
            MovementType.WRITE_OFF,
            command.reason,
            command.reference,
            at,
            str(actor),
        )

    return atomically_once(uow, once, work)


def count_stock(
    uow: UnitOfWork,
    command: CountStock,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[StockChange] | None = None,
) -> StockChange:
    """An absolute count, compare-and-set: it applies only if the expected quantity still holds."""
    require_quantity("counted", command.counted, allow_zero=True)
    require_quantity("expected_on_hand", command.expected_on_hand, allow_zero=True)

    def work(uow: UnitOfWork) -> StockChange:
        at = clock()
        warehouse_id, product = _warehouse_and_product(uow, command.warehouse, command.sku)
        if product.tracking is Tracking.SERIAL:
            raise InvalidInput(
                [
                    FieldError(
                        "sku",
                        f"'{product.sku}' is serialised: correct it with receipts and "
                        "write-offs that name the serial numbers",
                        "serialised",
                    )
                ]
            )
        lot = LotInput(command.lot) if command.lot is not None else None
        require_identity(product.tracking, product.sku, 0, lot, None)
        lot_id = _known_lot(uow, command.warehouse, product, command.lot)
        uow.stock.ensure_position(warehouse_id, product.id, at, lot_id=lot_id)
        level = uow.stock.level(warehouse_id, product.id, lock=True, lot_id=lot_id)
        assert level is not None
        if level.on_hand != command.expected_on_hand:
            raise CountMismatch(
                warehouse=command.warehouse,
                sku=command.sku,
                expected=command.expected_on_hand,
                actual=level.on_hand,
            )
        return apply_level(
            uow,
            level,
            command.counted,
            MovementType.COUNT,
            command.reason,
            command.reference,
            at,
            str(actor),
        )

    return atomically_once(uow, once, work)


EVENT_BATCH = 5000
"""A bulk upload announces its changes and writes their events this many at a time."""


def set_levels(
    uow: UnitOfWork, command: SetLevels, actor: Actor, *, clock: Clock = utc_now
) -> LevelsApplied:
    """Set many on-hand levels in one transaction: every row valid, or nothing changes."""

    def work(uow: UnitOfWork) -> LevelsApplied:
        at = clock()
        who = str(actor)
        tracked = uow.products.tracked({r.sku for r in command.rows})
        if tracked or any(r.lot is not None or r.serials is not None for r in command.rows):
            return _set_levels_by_row(uow, command, tracked, at, who)
        warehouse_ids = uow.warehouses.ids_for(sorted({r.warehouse for r in command.rows}))
        product_ids = uow.products.ids_for({r.sku for r in command.rows})
        errors = _check_rows(command, warehouse_ids, product_ids)
        if errors:
            raise _rejected(command, errors)
        keys = [(warehouse_ids[r.warehouse], product_ids[r.sku]) for r in command.rows]
        if uow.stock.uploads_in_bulk:
            done = _set_in_bulk(uow, command, keys, at, who)
        else:
            done = _set_read_first(uow, command, keys, at, who)
        uow.record(_synced(command, at, done.changed, done.created))
        why = f"{command.source} stock levels set"
        backorders = react(
            uow,
            OrdersDisplaced(at=at, orders=done.displaced, actor=who, why=why),
            StockFreed(at=at, product_ids=done.grown, actor=who),
            StockFiguresMoved(at=at, positions=keys),
        ).reserved
        return LevelsApplied(
            rows=len(command.rows),
            changed=done.changed,
            created=done.created,
            backorders_reserved=backorders,
            orders_resourced=[o.id for o in done.displaced if o.id],
        )

    return atomically(uow, work)


@dataclass(slots=True)
class _LevelsSet:
    """What setting a bulk upload's levels did, for its reactions and its answer."""

    changed: int
    created: int
    grown: set[ProductId]
    displaced: list[Order]


def _rejected(command: SetLevels, errors: list[FieldError]) -> BulkRejected:
    return BulkRejected(
        errors, rows=len(command.rows), bad_rows=len({e.field.split("]")[0] for e in errors})
    )


def _stale(index: int, current: int, expected: int | None) -> FieldError:
    return FieldError(
        f"rows[{index}].expected_on_hand",
        f"Potok has {current} on hand, not {expected}; re-read and send again",
        "count-mismatch",
    )


def _set_in_bulk(
    uow: UnitOfWork,
    command: SetLevels,
    keys: list[tuple[WarehouseId, ProductId]],
    at: datetime,
    who: str,
) -> _LevelsSet:
    """PostgreSQL: the positions locked and checked by one statement, the levels set with
    their ledger, events and audit by another; only rows that go under what is reserved
    or unavailable are set one by one (they take reservations back)."""
    rows = command.rows
    upload = UploadRows(
        indexes=list(range(len(rows))),
        warehouse_ids=[w for w, _ in keys],
        product_ids=[p for _, p in keys],
        on_hand=[r.on_hand for r in rows],
        expected=[r.expected_on_hand for r in rows],
    )
    plan = uow.stock.plan_upload(upload)
    if plan.stale:
        raise _rejected(
            command, [_stale(i, current, rows[i].expected_on_hand) for i, current in plan.stale]
        )
    done = _LevelsSet(0, 0, set(), [])
    if plan.tight:
        tight_keys = [keys[i] for i in plan.tight]
        levels = uow.stock.levels_for_keys(tight_keys, lock=True)
        done = _set_by_row(uow, command, [(rows[i], keys[i]) for i in plan.tight], levels, at, who)
        upload = upload.without(set(plan.tight))
    applied = uow.stock.apply_upload(
        upload,
        UploadChange(
            at=at,
            movement=command.movement.value,
            reason=f"{command.source} level",
            reference=command.reference,
            actor=who,
        ),
    )
    done.changed += applied.changed
    done.created += applied.created
    done.grown.update(applied.grown)
    return done


def _set_read_first(
    uow: UnitOfWork,
    command: SetLevels,
    keys: list[tuple[WarehouseId, ProductId]],
    at: datetime,
    who: str,
) -> _LevelsSet:
    """SQLite: the positions read, checked (compare-and-set), created when missing, then
    set row by row in batches."""
    before = uow.stock.levels_for_keys(keys, lock=True)
    errors = []
    for index, row in enumerate(command.rows):
        level = before.get(keys[index])
        current = level.on_hand if level else 0
        if row.expected_on_hand is not None and row.expected_on_hand != current:
            errors.append(_stale(index, current, row.expected_on_hand))
    if errors:
        raise _rejected(command, errors)
    missing = [k for k in keys if k not in before]
    uow.stock.ensure_positions(missing, at)
    levels = before | uow.stock.levels_for_keys(missing, lock=True) if missing else before
    done = _set_by_row(uow, command, list(zip(command.rows, keys, strict=True)), levels, at, who)
    done.created = len(missing)
    return done


def _set_by_row(
    uow: UnitOfWork,
    command: SetLevels,
    rows: list[tuple[LevelRow, tuple[WarehouseId, ProductId]]],
    levels: dict[tuple[WarehouseId, ProductId], StockLevel],
    at: datetime,
    who: str,
) -> _LevelsSet:
    """Set the rows' levels on their (locked) positions: a movement and an event each, a
    level under what is reserved taking reservations back first."""
    displaced: list[Order] = []
    buckets_moved = False
    targets: dict[StockId, int] = {}
    movements: list[Movement] = []
    for row, key in rows:
        level = levels[key]
        if row.on_hand == level.on_hand:
            continue
        unavailable_change = 0
        if row.on_hand < level.reserved + level.unavailable:
            # read again: an order released for an earlier row may have held stock here
            fresh = uow.positions.get(level.stock_id, lock=True)
            assert fresh is not None
            if row.on_hand < fresh.reserved:
                displaced.extend(
                    make_room(uow, fresh, row.on_hand, at, who, f"{command.source} level")
                )
                fresh = uow.positions.get(level.stock_id)
                assert fresh is not None
            # what the reservations leave shrinks the unavailable bucket, before on-hand
            unavailable = min(fresh.unavailable, row.on_hand - fresh.reserved)
            if unavailable != fresh.unavailable:
                uow.positions.set_buckets(
                    level.stock_id, on_hand=fresh.on_hand, unavailable=unavailable, at=at
                )
                unavailable_change = unavailable - fresh.unavailable
            buckets_moved = True
        targets[level.stock_id] = row.on_hand
        movements.append(
            Movement(
                stock_id=level.stock_id,
                warehouse_id=level.warehouse_id,
                product_id=level.product_id,
                type=command.movement,
                quantity=row.on_hand - level.on_hand,
                on_hand_after=row.on_hand,
                reason=f"{command.source} level",
                reference=command.reference,
                actor=who,
                occurred_at=at,
                unavailable_change=unavailable_change,
            )
        )
    for start in range(0, len(movements), EVENT_BATCH):  # bounded memory per batch
        batch = movements[start : start + EVENT_BATCH]
        uow.stock.set_on_hand({m.stock_id: targets[m.stock_id] for m in batch}, at)
        uow.stock.append_movements(batch)
        changed_keys = [(m.warehouse_id, m.product_id) for m in batch]
        if buckets_moved:  # reservations or the unavailable bucket moved too: read them
            after = uow.stock.levels_for_keys(changed_keys)
        else:  # only on-hand changed, to the targets (a big upload reads nothing twice)
            after = {
                key: replace(levels[key], on_hand=targets[levels[key].stock_id])
                for key in changed_keys
            }
        for movement in batch:  # audited by the upload's own event, not one by one
            key = (movement.warehouse_id, movement.product_id)
            _announce(uow, after[key], movement, audited=False)
        if len(movements) > EVENT_BATCH:
            uow.flush_events()  # 100,000 rows' events are not all held until the commit
    grown = {m.product_id for m in movements if m.quantity > 0}
    return _LevelsSet(len(movements), 0, grown, displaced)


def _check_rows(
    command: SetLevels,
    warehouse_ids: dict[str, WarehouseId],
    product_ids: dict[str, ProductId],
) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: dict[tuple[str, str, str | None], int] = {}
    if not command.rows:
        errors.append(FieldError("rows", "send at least one row", "required"))
    for index, row in enumerate(command.rows):
        where = f"rows[{index}]."
        if row.warehouse not in warehouse_ids:
            errors.append(
                FieldError(
                    where + "warehouse",
                    f"there is no warehouse '{row.warehouse}'",
                    "unknown-warehouse",
                )
            )
        if row.sku not in product_ids:
            errors.append(
                FieldError(
                    where + "sku", f"there is no product with SKU '{row.sku}'", "unknown-sku"
                )
            )
        if not 0 <= row.on_hand <= MAX_QUANTITY:
            errors.append(
                FieldError(
                    where + "on_hand",
                    f"must be a whole number from 0 to {MAX_QUANTITY}",
                    "out-of-range",
                )
            )
        key = (row.warehouse, row.sku, row.lot.number if row.lot else None)
        if key in seen:
            errors.append(
                FieldError(
                    where + "sku",
                    f"repeats row {seen[key]} ({row.warehouse}, {row.sku})",
                    "duplicate",
                )
            )
        else:
            seen[key] = index
    return errors


def _set_levels_by_row(
    uow: UnitOfWork, command: SetLevels, tracked: dict[str, Tracking], at: datetime, who: str
) -> LevelsApplied:
    """Bulk levels that name lots or serial numbers: checked as a whole, then applied row by
    row (a lot is created on first sight; serials listed are the units on hand)."""
    warehouse_ids = uow.warehouses.ids_for(sorted({r.warehouse for r in command.rows}))
    product_ids = uow.products.ids_for({r.sku for r in command.rows})
    errors = _check_rows(command, warehouse_ids, product_ids)
    planned: list[tuple[int, LevelRow, StockLevel]] = []
    for index, row in enumerate(command.rows):
        if row.warehouse not in warehouse_ids or row.sku not in product_ids:
            continue
        problems = Problems(f"rows[{index}].")
        tracking = tracked.get(row.sku, Tracking.NONE)
        serials = list(row.serials) if row.serials is not None else None
        check_identity(problems, tracking, row.sku, row.on_hand, row.lot, serials)
        errors.extend(problems.errors)
        if problems:
            continue
        warehouse_id, product_id = warehouse_ids[row.warehouse], product_ids[row.sku]
        lot_id = None
        if row.lot is not None:
            product = uow.products.get_by_sku(row.sku)
            assert product is not None
            try:
                lot_id = _receive_lot(uow, product, row.lot, at)
            except LotDatesDiffer as error:
                errors.append(FieldError(f"rows[{index}].lot", error.detail, error.code))
                continue
        uow.stock.ensure_position(warehouse_id, product_id, at, lot_id=lot_id)
        level = uow.stock.level(warehouse_id, product_id, lock=True, lot_id=lot_id)
        assert level is not None
        if row.expected_on_hand is not None and row.expected_on_hand != level.on_hand:
            errors.append(
                FieldError(
                    f"rows[{index}].expected_on_hand",
                    f"Potok has {level.on_hand} on hand, not {row.expected_on_hand}; re-read "
                    "and send again",
                    "count-mismatch",
                )
            )
        if serials is not None:
            errors.extend(_serial_problems(uow, index, level, serials))
        planned.append((index, row, level))
    if errors:
        raise BulkRejected(
            errors, rows=len(command.rows), bad_rows=len({e.field.split("]")[0] for e in errors})
        )
    changed, backorders, resourced = 0, [], []
    for _, row, level in planned:
        if row.serials is not None:
            _sync_serials(uow, level, list(row.serials), at)
        if row.on_hand == level.on_hand:
            continue
        fresh = uow.stock.level(
            level.warehouse_id, level.product_id, lock=True, lot_id=level.lot_id
        )
        assert fresh is not None
        change = apply_level(
            uow,
            fresh,
            row.on_hand,
            command.movement,
            f"{command.source} level",
            command.reference,
            at,
            who,
            audited=False,  # the upload's own event audits it
        )
        if row.on_hand > level.on_hand:
            uow.stock.mark_received(level.stock_id, at)
        changed += 1
        backorders.extend(change.backorders_reserved)
        resourced.extend(change.orders_resourced)
    uow.record(_synced(command, at, changed, 0))
    return LevelsApplied(len(command.rows), changed, 0, backorders, resourced)


def _synced(command: SetLevels, at: datetime, changed: int, created: int) -> StockSynced:
    """The upload's one event, and its one row in the audit trail: who, when, which file,
    how many rows, and where its ledger entries are (type and reference, at ``at``)."""
    return StockSynced(
        occurred_at=at,
        source=command.source,
        rows=len(command.rows),
        changed=changed,
        created=created,
        movement=command.movement.value,
        reference=command.reference,
        file_sha256=command.file_sha256,
    )


def _serial_problems(
    uow: UnitOfWork, index: int, level: StockLevel, serials: list[str]
) -> list[FieldError]:
    """Units on hand not listed must be unreserved (they are written off); units listed and
    not here must not be in stock elsewhere."""
    here = uow.stock.serials_at(level.stock_id)
    errors = [
        FieldError(
            f"rows[{index}].serials",
            f"'{serial}' is reserved for an order; it cannot leave the books here",
            "serial-reserved",
        )
        for serial, status in sorted(here.items())
        if status == "reserved" and serial not in serials
    ]
    new = [s for s in serials if s not in here]
    taken = uow.stock.serials_elsewhere(level.product_id, new)
    if taken:
        errors.append(
            FieldError(
                f"rows[{index}].serials",
                f"already in stock elsewhere: {', '.join(taken[:20])}",
                "serial-taken",
            )
        )
    return errors


def _sync_serials(uow: UnitOfWork, level: StockLevel, serials: list[str], at: datetime) -> None:
    here = uow.stock.serials_at(level.stock_id)
    gone = [s for s, status in here.items() if status == "in_stock" and s not in serials]
    if gone:
        uow.stock.write_off_serials(level, gone, at)
    uow.stock.add_serials(level, [s for s in serials if s not in here], at)


# ---------------------------------------------------------------------- reads


def availability(uow: UnitOfWork, sku: str) -> Availability:
    """Where a SKU is, and how much each channel may promise."""

    def work(uow: UnitOfWork) -> Availability:
        ids = uow.products.ids_for([sku])
        if sku not in ids:
            raise ProductNotFound(sku=sku)
        product_id = ids[sku]
        return Availability(
            sku,
            product_id,
            uow.queries.availability(product_id),
            uow.queries.promises([product_id]).get(product_id, []),
        )

    return reading(uow, work)


def promises_for(
    uow: UnitOfWork, channel: str, skus: list[str]
) -> tuple[Channel, dict[str, ChannelPromise]]:
    """A channel and its available-to-promise for several SKUs (unknown SKUs are left out)."""

    def work(uow: UnitOfWork) -> tuple[Channel, dict[str, ChannelPromise]]:
        found_channel = uow.channels.get_by_code(channel)
        if found_channel is None:
            raise ChannelNotFound(channel=channel)
        ids = uow.products.ids_for(skus)
        found = uow.queries.promises(list(ids.values()), [channel])
        result: dict[str, ChannelPromise] = {}
        for sku, pid in ids.items():
            entries = found.get(pid, [])
            if entries:
                result[sku] = entries[0]
        return found_channel, result

    return reading(uow, work)


def list_levels(
    uow: UnitOfWork,
    *,
    warehouse: str | None = None,
    sku: str | None = None,
    only_available: bool = False,
    cursor: str | None = None,
    limit: int = 100,
    within: Sequence[str] | None = None,
) -> LevelPage:
    """Stock positions (of the warehouses ``within``, when given)."""
    return reading(
        uow,
        lambda uow: uow.queries.list_levels(
            warehouse=warehouse,
            sku=sku,
            only_available=only_available,
            cursor=cursor,
            limit=limit,
            within=within,
        ),
    )


def list_movements(
    uow: UnitOfWork,
    *,
    warehouse: str | None = None,
    sku: str | None = None,
    movement_type: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
    within: Sequence[str] | None = None,
) -> MovementPage:
    """The stock ledger, newest first (of the warehouses ``within``, when given)."""
    return reading(
        uow,
        lambda uow: uow.queries.list_movements(
            warehouse=warehouse,
            sku=sku,
            movement_type=movement_type,
            since=since,
            cursor=cursor,
            limit=limit,
            within=within,
        ),
    )


def reconcile(uow: UnitOfWork) -> Reconciliation:
    """Recompute on-hand from the ledger and reserved from open reservations; report drift."""

    def work(uow: UnitOfWork) -> Reconciliation:
        checked, found = uow.queries.drifts()
        return Reconciliation(checked, found)

    return reading(uow, work)
