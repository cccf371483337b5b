"""Purchase orders: stock ordered from suppliers, received in one or more deliveries.

A delivery is a stock receipt at the order's warehouse (a ``receipt`` movement whose
reference is the purchase order's number); what is still outstanding counts as incoming.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory import MovementType
from potok.domain.inventory.lots import LotDatesDiffer, LotInput, SerialTaken, check_identity
from potok.domain.inventory.purchasing import (
    CreatePurchaseOrder,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderNotFound,
    PurchaseOrderNumberTaken,
    PurchaseOrderStatus,
    check_order,
)
from potok.domain.kernel import Actor, Clock, LotId, ProductId, utc_now
from potok.domain.triggers import StockFreed
from potok.domain.validation import Problems, require_choice
from potok.services.idempotency import Once, atomically_once
from potok.services.ports import LotDates
from potok.services.reactions import react
from potok.services.stock_postings import post_movement
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class PurchaseOrderPage:
    items: list[PurchaseOrder]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class PurchaseReceipt:
    """A purchase order after a delivery, and the backordered orders it let Potok reserve."""

    order: PurchaseOrder
    received: dict[int, int]  # line number -> units in this delivery
    backorders_reserved: list[int]


def _get(uow: UnitOfWork, number: str, *, lock: bool = False) -> PurchaseOrder:
    order = uow.purchase_orders.get(number, lock=lock)
    if order is None:
        raise PurchaseOrderNotFound(number=number)
    return order


def create_purchase_order(
    uow: UnitOfWork,
    command: CreatePurchaseOrder,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[PurchaseOrder] | None = None,
) -> PurchaseOrder:
    """Record stock ordered from a supplier; from now on it counts as incoming."""
    check_order(
        number=command.number,
        supplier=command.supplier,
        lines=[(line.sku, line.quantity) for line in command.lines],
    )

    def work(uow: UnitOfWork) -> PurchaseOrder:
        at = clock()
        errors: list[FieldError] = []
        ids = uow.warehouses.ids_for([command.warehouse])
        if command.warehouse not in ids:
            errors.append(
                FieldError(
                    "warehouse", f"there is no warehouse '{command.warehouse}'", "unknown-warehouse"
                )
            )
        found = uow.transfers.products({line.sku for line in command.lines})
        lines: list[PurchaseOrderLine] = []
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
            lines.append(PurchaseOrderLine(index + 1, product.id, product.sku, request.quantity))
        if errors:
            raise InvalidInput(errors)
        if command.number and uow.purchase_orders.number_taken(command.number):
            raise PurchaseOrderNumberTaken(number=command.number)
        order = PurchaseOrder(
            number=command.number or "",
            supplier=command.supplier.strip(),
            warehouse_id=ids[command.warehouse],
            warehouse=command.warehouse,
            status=PurchaseOrderStatus.OPEN,
            lines=lines,
            created_by=str(actor),
            created_at=at,
            updated_at=at,
            expected_on=command.expected_on,
        )
        uow.purchase_orders.add(order)
        order.created(at)
        uow.record(*order.events)
        return order

    return atomically_once(uow, once, work)


def receive_purchase_order(
    uow: UnitOfWork,
    number: str,
    quantities: Mapping[int, int],
    actor: Actor,
    *,
    allow_over_receipt: bool = False,
    lots: Mapping[int, LotInput] | None = None,
    serials: Mapping[int, Sequence[str]] | None = None,
    clock: Clock = utc_now,
    once: Once[PurchaseReceipt] | None = None,
) -> PurchaseReceipt:
    """A delivery arrived: units per line number enter the warehouse's stock (more than is
    outstanding only when allowed), and waiting orders get another try. Lines of products
    kept by lot name the lot (created on first sight), serialised ones every serial."""

    def work(uow: UnitOfWork) -> PurchaseReceipt:
        at = clock()
        who = str(actor)
        order = _get(uow, number, lock=True)
        order.check_receipt(quantities, allow_over=allow_over_receipt)
        tracking = {
            sku: product.tracking
            for sku, product in uow.products.get_many({line.sku for line in order.lines}).items()
        }
        problems = Problems()
        for index, line_no in enumerate(quantities):
            line = order.line(line_no)
            assert line is not None
            found = Problems(f"lines[{index}].")
            check_identity(
                found,
                tracking[line.sku],
                line.sku,
                quantities[line_no],
                (lots or {}).get(line_no),
                (serials or {}).get(line_no),
            )
            problems.extend(found.errors)
        if problems:
            raise InvalidInput(problems.errors)
        for line_no in sorted(quantities, key=lambda n: (order.line(n).product_id, n)):  # type: ignore[union-attr]
            line = order.line(line_no)
            assert line is not None
            lot = (lots or {}).get(line_no)
            lot_id = _lot_id(uow, line.product_id, line.sku, lot, at) if lot else None
            uow.stock.ensure_position(order.warehouse_id, line.product_id, at, lot_id=lot_id)
            level = uow.stock.level(order.warehouse_id, line.product_id, lock=True, lot_id=lot_id)
            assert level is not None
            numbers = list((serials or {}).get(line_no) or [])
            if numbers:
                taken = uow.stock.add_serials(level, numbers, at)
                if taken:
                    raise SerialTaken(sku=line.sku, serials=", ".join(taken[:20]))
            uow.stock.mark_received(level.stock_id, at)
            post_movement(
                uow,
                level,
                quantities[line_no],
                MovementType.RECEIPT,
                reason=f"purchase order from {order.supplier}",
                reference=order.number,
                at=at,
                actor=who,
            )
        order.receive(quantities, at)
        uow.purchase_orders.save(order)
        uow.record(*order.events)
        grown = {order.line(n).product_id for n in quantities}  # type: ignore[union-attr]
        backorders = react(uow, StockFreed(at=at, product_ids=grown, actor=who)).reserved
        return PurchaseReceipt(order, dict(quantities), backorders)

    return atomically_once(uow, once, work)


def _lot_id(uow: UnitOfWork, product_id: ProductId, sku: str, lot: LotInput, at: datetime) -> LotId:
    """The lot's id, created on first sight; dates given must match those known."""
    stored = uow.stock.ensure_lot(
        product_id, LotDates(lot.number, lot.produced_on, lot.expires_on), at
    )
    known = stored.dates
    if (lot.produced_on is not None and lot.produced_on != known.produced_on) or (
        lot.expires_on is not None and lot.expires_on != known.expires_on
    ):
        raise LotDatesDiffer(
            sku=sku,
            lot=lot.number,
            known_produced=known.produced_on or "unknown",
            known_expires=known.expires_on or "never",
            produced=lot.produced_on or "unknown",
            expires=lot.expires_on or "never",
        )
    return stored.id


def cancel_purchase_order(
    uow: UnitOfWork, number: str, actor: Actor, *, reason: str = "", clock: Clock = utc_now
) -> PurchaseOrder:
    """Nothing more will come; the outstanding quantities stop counting as incoming."""
    if len(reason) > 500:
        raise InvalidInput([FieldError("reason", "at most 500 characters", "too-long")])

    def work(uow: UnitOfWork) -> PurchaseOrder:
        order = _get(uow, number, lock=True)
        order.cancel(clock(), reason)
        uow.purchase_orders.save(order)
        uow.record(*order.events)
        return order

    return atomically(uow, work)


def get_purchase_order(uow: UnitOfWork, number: str) -> PurchaseOrder:
    return reading(uow, lambda uow: _get(uow, number))


def list_purchase_orders(
    uow: UnitOfWork,
    *,
    status: str | None = None,
    warehouses: list[str] | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> PurchaseOrderPage:
    require_choice("status", status, PurchaseOrderStatus, "unknown-status")

    def work(uow: UnitOfWork) -> PurchaseOrderPage:
        items, next_cursor = uow.purchase_orders.list_page(
            status=status, warehouses=warehouses, cursor=cursor, limit=limit
        )
        return PurchaseOrderPage(items, next_cursor)

    return reading(uow, work)
