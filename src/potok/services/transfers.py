"""Transfers between warehouses: request, ship (stock leaves the source and is in transit),
receive (stock enters the destination, discrepancies recorded), cancel.

Shipping takes only available stock - never what is reserved for orders or unavailable -
and writes a ``transfer_out`` movement per line; receiving writes ``transfer_in`` movements
for what really arrived and gives backordered orders of those products another try.

A transfer sourcing requested for an order (consolidation, see ``consolidation``) also
takes the units reserved for that order at the source, which stop being reserved as they
leave; on arrival that order is served first; cancelling it sources the order again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory import MovementType, StockLevel
from potok.domain.inventory.lots import SerialNotInStock, check_serials
from potok.domain.inventory.transfers import (
    Receipt,
    RequestTransfer,
    SerialNotInTransit,
    Transfer,
    TransferLine,
    TransferNotFound,
    TransferShort,
    TransferStatus,
    check_request,
)
from potok.domain.kernel import Actor, Clock, LotId, ProductId, StockId, utc_now
from potok.domain.orders import AllocationState, Order
from potok.domain.triggers import StockFreed
from potok.domain.validation import Problems, require_choice
from potok.services import consolidation
from potok.services.allocation import allocate, give_back
from potok.services.idempotency import Once, atomically_once
from potok.services.ports import ProductRef
from potok.services.reactions import react
from potok.services.stock_postings import post_movement
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class TransferPage:
    items: list[Transfer]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class TransferArrival:
    """A received transfer, the lines that differ from the shipment, and the backordered
    orders the arrival let Potok reserve."""

    transfer: Transfer
    discrepancies: list[TransferLine]
    backorders_reserved: list[int]


def _get(uow: UnitOfWork, number: str, *, lock: bool = False) -> Transfer:
    transfer = uow.transfers.get(number, lock=lock)
    if transfer is None:
        raise TransferNotFound(number=number)
    return transfer


def _position_key(line: TransferLine) -> tuple[ProductId, int]:
    return (line.product_id, line.lot_id or 0)


def request_transfer(
    uow: UnitOfWork,
    command: RequestTransfer,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[Transfer] | None = None,
) -> Transfer:
    """Ask for stock to move; nothing moves until the transfer is shipped."""
    check_request(
        from_warehouse=command.from_warehouse,
        to_warehouse=command.to_warehouse,
        lines=[(line.sku, line.quantity, line.lot) for line in command.lines],
        comment=command.comment,
    )

    def work(uow: UnitOfWork) -> Transfer:
        at = clock()
        errors: list[FieldError] = []
        ids = uow.warehouses.ids_for([command.from_warehouse, command.to_warehouse])
        for field, code in (
            ("from_warehouse", command.from_warehouse),
            ("to_warehouse", command.to_warehouse),
        ):
            if code not in ids:
                errors.append(
                    FieldError(field, f"there is no warehouse '{code}'", "unknown-warehouse")
                )
        found = uow.transfers.products({line.sku for line in command.lines})
        lot_ids = uow.transfers.lot_ids(
            {
                (found[line.sku].id, line.lot)
                for line in command.lines
                if line.sku in found and line.lot
            }
        )
        lines: list[TransferLine] = []
        for index, request in enumerate(command.lines):
            product = found.get(request.sku)
            if product is None:
                errors.append(
                    FieldError(
                        f"lines[{index}].sku",
                        f"there is no product with SKU '{request.sku}'",
                        "unknown-sku",
                    )
                )
                continue
            lot_id = _lot_for(product, request.lot, lot_ids, index, errors)
            lines.append(
                TransferLine(
                    line_no=index + 1,
                    product_id=product.id,
                    sku=product.sku,
                    quantity=request.quantity,
                    lot_id=lot_id,
                    lot=request.lot if lot_id is not None else None,
                )
            )
        if errors:
            raise InvalidInput(errors)
        transfer = Transfer(
            number="",
            from_warehouse_id=ids[command.from_warehouse],
            from_warehouse=command.from_warehouse,
            to_warehouse_id=ids[command.to_warehouse],
            to_warehouse=command.to_warehouse,
            status=TransferStatus.REQUESTED,
            lines=lines,
            created_by=str(actor),
            created_at=at,
            updated_at=at,
            expected_on=command.expected_on,
            comment=command.comment,
        )
        uow.transfers.add(transfer)
        transfer.requested(at)
        uow.record(*transfer.events)
        return transfer

    return atomically_once(uow, once, work)


def _lot_for(
    product: ProductRef,
    lot: str | None,
    lot_ids: Mapping[tuple[ProductId, str], LotId],
    index: int,
    errors: list[FieldError],
) -> LotId | None:
    field = f"lines[{index}].lot"
    if product.tracking == "lot":
        if not lot:
            errors.append(
                FieldError(
                    field, f"'{product.sku}' is kept by lot; name the lot to move", "lot-required"
                )
            )
            return None
        lot_id = lot_ids.get((product.id, lot))
        if lot_id is None:
            errors.append(FieldError(field, f"'{product.sku}' has no lot '{lot}'", "unknown-lot"))
        return lot_id
    if lot:
        errors.append(
            FieldError(
                field, f"'{product.sku}' is not kept by lot; leave the lot out", "lot-not-allowed"
            )
        )
    return None


def ship_transfer(
    uow: UnitOfWork,
    number: str,
    actor: Actor,
    *,
    quantities: Mapping[int, int] | None = None,
    serials: Mapping[int, Sequence[str]] | None = None,
    clock: Clock = utc_now,
    once: Once[Transfer] | None = None,
) -> Transfer:
    """The goods leave the source: ``quantities`` per line number (default: as requested,
    fewer allowed), taken from available stock only; they are in transit afterwards.
    Serialised lines may name the ``serials`` that leave (default: the first free ones)."""

    def work(uow: UnitOfWork) -> Transfer:
        at = clock()
        who = str(actor)
        transfer = _get(uow, number, lock=True)
        plan = transfer.plan_shipment(quantities or {})
        tracking = uow.transfers.products({line.sku for line in transfer.lines})
        _check_serials(transfer, serials or {}, plan, tracking)
        moving = sorted(
            (line for line in transfer.lines if plan[line.line_no] > 0), key=_position_key
        )
        needs: dict[tuple[ProductId, int], int] = {}
        for line in moving:
            needs[_position_key(line)] = needs.get(_position_key(line), 0) + plan[line.line_no]
        order = consolidation.linked_order(uow, transfer)
        levels: dict[tuple[ProductId, int], StockLevel | None] = {}
        for line in moving:  # locks in key order: product, then lot
            key = _position_key(line)
            if key not in levels:
                levels[key] = uow.stock.level(
                    transfer.from_warehouse_id, line.product_id, lock=True, lot_id=line.lot_id
                )
        held = consolidation.held_for(order, transfer, levels)  # the order's own units
        short: list[dict[str, Any]] = []
        words: list[str] = []
        for line in moving:
            level = levels[_position_key(line)]
            available = max(0, level.available) if level else 0
            available += held.get(_position_key(line), 0)
            if available >= needs[_position_key(line)]:
                continue
            short.append(
                {
                    "line_no": line.line_no,
                    "sku": line.sku,
                    "lot": line.lot,
                    "to_ship": plan[line.line_no],
                    "available": available,
                }
            )
            what = line.sku if line.lot is None else f"{line.sku} lot {line.lot}"
            words.append(
                f"line {line.line_no} {what}: {plan[line.line_no]} to ship, {available} available"
            )
        if short:
            raise TransferShort(
                warehouse=transfer.from_warehouse, summary="; ".join(words), lines=short
            )
        if order is not None and held:
            consolidation.consume_for_shipment(uow, order, transfer, levels, needs, at, who)
        sent: dict[int, list[str]] = {}
        for line in moving:
            key = _position_key(line)
            level = levels[key]
            assert level is not None
            quantity = plan[line.line_no]
            levels[key] = post_movement(
                uow,
                level,
                -quantity,
                MovementType.TRANSFER_OUT,
                reason=f"transfer to {transfer.to_warehouse}",
                reference=transfer.number,
                at=at,
                actor=who,
            )
            if tracking[line.sku].tracking == "serial":
                moved, missing = uow.transfers.send_serials(
                    level.stock_id,
                    quantity,
                    transfer.to_warehouse_id,
                    at,
                    chosen=(serials or {}).get(line.line_no),
                )
                if missing:
                    raise SerialNotInStock(
                        sku=line.sku,
                        serials=", ".join(missing[:20]),
                        warehouse=transfer.from_warehouse,
                    )
                sent[line.line_no] = moved
        transfer.ship(plan, at, sent)
        uow.transfers.save(transfer)
        uow.record(*transfer.events)
        return transfer

    return atomically_once(uow, once, work)


def receive_transfer(
    uow: UnitOfWork,
    number: str,
    actor: Actor,
    *,
    receipts: Mapping[int, Receipt] | None = None,
    serials: Mapping[int, Sequence[str]] | None = None,
    clock: Clock = utc_now,
    once: Once[TransferArrival] | None = None,
) -> TransferArrival:
    """The goods arrived: what arrived per line (default: as shipped; a difference needs a
    reason) enters the destination's stock, and waiting orders get another try. Serialised
    lines may name the ``serials`` that arrived (default: the first on their way)."""

    def work(uow: UnitOfWork) -> TransferArrival:
        at = clock()
        who = str(actor)
        transfer = _get(uow, number, lock=True)
        plan = transfer.plan_receipt(receipts or {})
        tracking = uow.transfers.products({line.sku for line in transfer.lines})
        _check_serials(transfer, serials or {}, {n: r.quantity for n, r in plan.items()}, tracking)
        arriving = sorted(
            (line for line in transfer.lines if plan[line.line_no].quantity > 0),
            key=_position_key,
        )
        landed: dict[int, list[str]] = {}
        arrived: dict[int, tuple[StockId, int]] = {}
        for line in arriving:
            quantity = plan[line.line_no].quantity
            stock_id = uow.stock.ensure_position(
                transfer.to_warehouse_id, line.product_id, at, lot_id=line.lot_id
            )
            level = uow.stock.level(
                transfer.to_warehouse_id, line.product_id, lock=True, lot_id=line.lot_id
            )
            assert level is not None
            uow.stock.mark_received(stock_id, at)
            arrived[line.line_no] = (stock_id, quantity)
            post_movement(
                uow,
                level,
                quantity,
                MovementType.TRANSFER_IN,
                reason=f"transfer from {transfer.from_warehouse}",
                reference=transfer.number,
                at=at,
                actor=who,
            )
            if tracking[line.sku].tracking == "serial":
                moved, missing = uow.transfers.land_serials(
                    line.product_id,
                    line.lot_id,
                    stock_id,
                    transfer.to_warehouse_id,
                    quantity,
                    at,
                    chosen=(serials or {}).get(line.line_no),
                )
                if missing:
                    raise SerialNotInTransit(
                        sku=line.sku,
                        serials=", ".join(missing[:20]),
                        warehouse=transfer.to_warehouse,
                    )
                landed[line.line_no] = moved
        differing = transfer.receive(plan, at, landed)
        uow.transfers.save(transfer)
        uow.record(*transfer.events)
        order = consolidation.linked_order(uow, transfer)  # takes its units first
        if order is not None and consolidation.reserve_arrivals(
            uow, order, transfer, arrived, at, who
        ):
            _source_again(
                uow, order, at, who, f"transfer {transfer.number} did not bring what it lacks"
            )
        grown = {line.product_id for line in arriving}
        backorders = react(uow, StockFreed(at=at, product_ids=grown, actor=who)).reserved
        return TransferArrival(transfer, differing, backorders)

    return atomically_once(uow, once, work)


def _check_serials(
    transfer: Transfer,
    serials: Mapping[int, Sequence[str]],
    quantities: Mapping[int, int],
    tracking: Mapping[str, ProductRef],
) -> None:
    """Named serials belong to serialised lines, one per unit moving, each once."""
    errors: list[FieldError] = []
    for line_no, numbers in serials.items():
        line = transfer.line(line_no)
        field = f"line_{line_no}.serials"
        if line is None:
            errors.append(FieldError(field, f"the transfer has no line {line_no}", "unknown-line"))
            continue
        if tracking[line.sku].tracking != "serial":
            errors.append(
                FieldError(
                    field,
                    f"'{line.sku}' is not serialised; leave the serials out",
                    "serials-not-allowed",
                )
            )
            continue
        found = Problems(f"line_{line_no}.")
        check_serials(found, numbers, quantities[line_no])
        errors.extend(found.errors)
    if errors:
        raise InvalidInput(errors)


def cancel_transfer(
    uow: UnitOfWork, number: str, actor: Actor, *, reason: str = "", clock: Clock = utc_now
) -> Transfer:
    """Call off a transfer that has not been shipped; nothing has moved, nothing moves."""
    if len(reason) > 500:
        raise InvalidInput([FieldError("reason", "at most 500 characters", "too-long")])

    def work(uow: UnitOfWork) -> Transfer:
        at = clock()
        transfer = _get(uow, number, lock=True)
        transfer.cancel(at, reason)
        uow.transfers.save(transfer)
        uow.record(*transfer.events)
        order = consolidation.linked_order(uow, transfer)
        if order is not None and consolidation.holds_units(order, transfer):
            _call_off(uow, order, transfer, at, str(actor))
        return transfer

    return atomically(uow, work)


def _call_off(uow: UnitOfWork, order: Order, transfer: Transfer, at: datetime, who: str) -> None:
    """A transfer an order was consolidated on will not happen: the order's other requested
    transfers are called off too, and the order is sourced again without it."""
    assert order.id is not None
    why = f"transfer {transfer.number} from {transfer.from_warehouse} was cancelled"
    for other in uow.transfers.list_for_order(order.id, lock=True):
        if other.status is TransferStatus.REQUESTED:
            other.cancel(at, f"order {order.id} is sourced again: {why}")
            uow.transfers.save(other)
            uow.record(*other.events)
    order.note_transfer(at, who, "transfer_cancelled", why, transfer=transfer.number)
    _source_again(uow, order, at, who, why)


def _source_again(uow: UnitOfWork, order: Order, at: datetime, who: str, why: str) -> None:
    """Give back what the order holds and source it afresh (backordered if the network
    lacks the units now)."""
    if order.allocation is AllocationState.RESERVED:
        released = order.release_allocation(at, who, why)
        give_back(uow, order, released, at, why)
        uow.orders.save(order)
    allocate(uow, order, at, who, trigger=why)
    uow.orders.save(order)


# ---------------------------------------------------------------------- reads


def get_transfer(uow: UnitOfWork, number: str) -> Transfer:
    return reading(uow, lambda uow: _get(uow, number))


def list_transfers(
    uow: UnitOfWork,
    *,
    status: str | None = None,
    warehouses: list[str] | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> TransferPage:
    """Newest first; ``warehouses`` keeps those from or to any of them."""
    require_choice("status", status, TransferStatus, "unknown-status")

    def work(uow: UnitOfWork) -> TransferPage:
        items, next_cursor = uow.transfers.list_page(
            status=status, warehouses=warehouses, cursor=cursor, limit=limit
        )
        return TransferPage(items, next_cursor)

    return reading(uow, work)
