"""Stock counts (stocktaking): make a sheet, enter what was counted, approve to post the
differences, or cancel.

A sheet snapshots the on-hand of every position of a warehouse (or of one zone of it, or
of some SKUs) as ``expected``. Approval posts, per counted position, one ``count`` ledger
movement with the reason ``count CNT-000001``. When the position moved since the snapshot
(a receipt, a shipment), the count's *difference* (counted - expected) is posted as a
delta on top of the current on-hand rather than overwriting it: the counters saw the
stock as it stood at the snapshot, and what happened since is already in the ledger.
A count that lowers stock below what is reserved takes reservations back from the least
urgent orders and re-sources them, as every correction does.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory import Movement, MovementType
from potok.domain.inventory.counts import CountEntry, CountStatus, StockCount
from potok.domain.inventory.errors import (
    NothingToCount,
    StockCountNotFound,
    StockCountOverlaps,
)
from potok.domain.inventory.events import (
    StockCountApproved,
    StockCountCancelled,
    StockCountCounted,
    StockCountCreated,
    StockCountSubmitted,
)
from potok.domain.kernel import Actor, Clock, ProductId, Tracking, utc_now
from potok.domain.network import WarehouseNotFound
from potok.domain.orders import Order
from potok.domain.triggers import OrdersDisplaced, StockFiguresMoved, StockFreed
from potok.domain.validation import Problems
from potok.services.idempotency import Once, atomically_once
from potok.services.reactions import react
from potok.services.read_models import CountPage
from potok.services.stock_buckets import announce, settle_on_hand
from potok.services.unit_of_work import UnitOfWork, atomically, reading

MAX_SKUS = 1000


@dataclass(frozen=True, slots=True)
class CreateCount:
    """A sheet for a warehouse, or one zone of it, optionally limited to some SKUs."""

    warehouse: str
    zone: str | None = None
    skus: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Posting:
    """What approving did to one counted position."""

    sku: str
    lot: str | None
    location: str | None
    expected: int
    counted: int
    difference: int
    on_hand_before: int
    on_hand_after: int
    moved_since_snapshot: bool
    movement_id: int | None


@dataclass(frozen=True, slots=True)
class Approval:
    count: StockCount
    postings: list[Posting]
    orders_resourced: list[int]
    backorders_reserved: list[int]


def _get(uow: UnitOfWork, number: str, within: Collection[str] | None, *, lock: bool) -> StockCount:
    count = uow.stock_counts.get(number, lock=lock)
    if count is None or (within is not None and count.warehouse_code not in within):
        raise StockCountNotFound(number=number)  # out of reach is not found: nothing leaks
    return count


def create_count(
    uow: UnitOfWork,
    command: CreateCount,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[StockCount] | None = None,
) -> StockCount:
    """Make a count sheet with the on-hand of each position as it stands now."""
    problems = Problems()
    if command.zone is not None:
        problems.text("zone", command.zone, max_length=64)
    if len(command.skus) > MAX_SKUS:
        problems.add("skus", f"at most {MAX_SKUS} SKUs per sheet", "too-many")
    if problems:
        raise InvalidInput(problems.errors)

    def work(uow: UnitOfWork) -> StockCount:
        at = clock()
        warehouse_ids = uow.warehouses.ids_for([command.warehouse])
        if command.warehouse not in warehouse_ids:
            raise WarehouseNotFound(warehouse=command.warehouse)
        product_ids: list[ProductId] | None = None
        if command.skus:
            found = uow.products.get_many(command.skus)
            wrong = [
                FieldError(f"skus[{i}]", f"there is no product with SKU '{s}'", "unknown-sku")
                if s not in found
                else FieldError(
                    f"skus[{i}]",
                    f"'{s}' is serialised: count it by serial number (receipts and write-offs)",
                    "serialised",
                )
                for i, s in enumerate(command.skus)
                if s not in found or found[s].tracking is Tracking.SERIAL
            ]
            if wrong:
                raise InvalidInput(wrong)
            product_ids = [p.id for p in found.values()]
        lines = uow.stock_counts.snapshot(
            warehouse_ids[command.warehouse], command.zone, product_ids
        )
        if not lines:
            where = [f"in zone '{command.zone}'"] if command.zone is not None else []
            if command.skus:
                where.append("of the SKUs asked for")
            raise NothingToCount(warehouse=command.warehouse, where=" ".join(where) or "at all")
        # lock the positions (in key order) before checking for other open counts, so that
        # two sheets made at once cannot both take a position; expected is read under the lock
        locked = uow.positions.lock_in_order([line.stock_id for line in lines])
        for line in lines:
            line.expected = locked[line.stock_id].on_hand
        busy = uow.stock_counts.busy([line.stock_id for line in lines])
        if busy:
            raise StockCountOverlaps(numbers=", ".join(busy))
        count = StockCount(
            number=uow.stock_counts.next_number(),
            warehouse_id=warehouse_ids[command.warehouse],
            warehouse_code=command.warehouse,
            zone=command.zone,
            status=CountStatus.OPEN,
            created_by=str(actor),
            created_at=at,
            updated_at=at,
            lines=lines,
        )
        uow.stock_counts.add(count)
        uow.record(
            StockCountCreated(
                occurred_at=at,
                number=count.number,
                warehouse=count.warehouse_code,
                zone=count.zone,
                lines=[
                    {"sku": x.sku, "lot": x.lot, "location": x.location, "expected": x.expected}
                    for x in lines
                ],
            )
        )
        return uow.stock_counts.get(count.number) or count

    return atomically_once(uow, once, work)


def get_count(uow: UnitOfWork, number: str, *, within: Collection[str] | None = None) -> StockCount:
    return reading(uow, lambda uow: _get(uow, number, within, lock=False))


def list_counts(
    uow: UnitOfWork,
    *,
    warehouses: Collection[str] | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> CountPage:
    return reading(
        uow,
        lambda uow: uow.stock_counts.list(
            warehouses_in=sorted(warehouses) if warehouses is not None else None,
            status=status,
            cursor=cursor,
            limit=limit,
        ),
    )


def enter_counts(
    uow: UnitOfWork,
    number: str,
    entries: list[CountEntry],
    actor: Actor,
    *,
    within: Collection[str] | None = None,
    clock: Clock = utc_now,
) -> StockCount:
    """Record what counters found; a line entered again takes the newer quantity."""

    def work(uow: UnitOfWork) -> StockCount:
        at = clock()
        count = _get(uow, number, within, lock=True)
        changed = count.enter(entries, str(actor), at)
        uow.stock_counts.save(count, changed)
        uow.record(
            StockCountCounted(
                occurred_at=at,
                number=count.number,
                warehouse=count.warehouse_code,
                entries=[{"sku": x.sku, "lot": x.lot, "counted": x.counted} for x in changed],
            )
        )
        return count

    return atomically(uow, work)


def submit_count(
    uow: UnitOfWork,
    number: str,
    *,
    within: Collection[str] | None = None,
    clock: Clock = utc_now,
) -> StockCount:
    """The counters are done: the sheet waits for approval."""

    def work(uow: UnitOfWork) -> StockCount:
        at = clock()
        count = _get(uow, number, within, lock=True)
        count.submit(at)
        uow.stock_counts.save(count)
        uow.record(
            StockCountSubmitted(
                occurred_at=at,
                number=count.number,
                warehouse=count.warehouse_code,
                counted=len(count.lines) - len(count.uncounted),
                uncounted=len(count.uncounted),
            )
        )
        return count

    return atomically(uow, work)


def cancel_count(
    uow: UnitOfWork,
    number: str,
    *,
    within: Collection[str] | None = None,
    clock: Clock = utc_now,
) -> StockCount:
    """Drop the sheet; nothing is posted."""

    def work(uow: UnitOfWork) -> StockCount:
        at = clock()
        count = _get(uow, number, within, lock=True)
        count.cancel(at)
        uow.stock_counts.save(count)
        uow.record(
            StockCountCancelled(occurred_at=at, number=count.number, warehouse=count.warehouse_code)
        )
        return count

    return atomically(uow, work)


def approve_count(
    uow: UnitOfWork,
    number: str,
    actor: Actor,
    *,
    within: Collection[str] | None = None,
    clock: Clock = utc_now,
) -> Approval:
    """Post each counted line's difference as a ``count`` movement; uncounted lines stay as
    they are. An open count is submitted and approved in one go."""

    def work(uow: UnitOfWork) -> Approval:
        at = clock()
        who = str(actor)
        count = _get(uow, number, within, lock=True)
        counted = count.approve(who, at)
        reason = f"count {count.number}"
        uow.positions.lock_in_order([line.stock_id for line in counted])
        postings: list[Posting] = []
        displaced: list[Order] = []
        grown = set()
        for line in counted:
            assert line.counted is not None
            level = uow.positions.get(line.stock_id)  # read afresh: earlier lines may free it
            assert level is not None
            difference = line.counted - line.expected
            new_on_hand = max(0, level.on_hand + difference)
            movement_id = None
            if new_on_hand != level.on_hand:
                out, unavailable_change = settle_on_hand(uow, level, new_on_hand, at, who, reason)
                displaced.extend(out)
                movement = Movement(
                    stock_id=level.stock_id,
                    warehouse_id=level.warehouse_id,
                    product_id=level.product_id,
                    type=MovementType.COUNT,
                    quantity=new_on_hand - level.on_hand,
                    on_hand_after=new_on_hand,
                    reason=reason,
                    reference=count.number,
                    actor=who,
                    occurred_at=at,
                    lot_id=level.lot_id,
                    unavailable_change=unavailable_change,
                )
                (movement_id,) = uow.stock.add_movements([movement])
                after = uow.positions.get(level.stock_id)
                assert after is not None
                announce(uow, after, movement)
                if new_on_hand > level.on_hand:
                    grown.add(level.product_id)
            postings.append(
                Posting(
                    sku=line.sku,
                    lot=line.lot,
                    location=line.location,
                    expected=line.expected,
                    counted=line.counted,
                    difference=difference,
                    on_hand_before=level.on_hand,
                    on_hand_after=new_on_hand,
                    moved_since_snapshot=level.on_hand != line.expected,
                    movement_id=movement_id,
                )
            )
        uow.stock_counts.save(count)
        uow.record(
            StockCountApproved(
                occurred_at=at,
                number=count.number,
                warehouse=count.warehouse_code,
                approved_by=who,
                differences=[
                    {
                        "sku": p.sku,
                        "lot": p.lot,
                        "location": p.location,
                        "expected": p.expected,
                        "counted": p.counted,
                        "difference": p.difference,
                        "on_hand_before": p.on_hand_before,
                        "on_hand_after": p.on_hand_after,
                    }
                    for p in postings
                    if p.difference != 0 or p.on_hand_before != p.on_hand_after
                ],
                uncounted=len(count.uncounted),
            )
        )
        why = f"stock count {count.number} at {count.warehouse_code} approved"
        backorders = react(
            uow,
            OrdersDisplaced(at=at, orders=displaced, actor=who, why=why),
            StockFreed(at=at, product_ids=grown, actor=who),
            StockFiguresMoved(
                at=at, positions=[(count.warehouse_id, line.product_id) for line in counted]
            ),
        ).reserved
        return Approval(count, postings, [o.id for o in displaced if o.id], backorders)

    return atomically(uow, work)
