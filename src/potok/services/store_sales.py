"""Sales over a store's counter: tills send their receipts (sales and returns) in batches,
and each new receipt moves the store's stock through the ledger in the same transaction,
so that what the web promises from that store stays true.

A receipt is recorded once per store by the till's own id: a till that was offline sends
its backlog later, and a batch sent twice (after a timeout, say) changes nothing the
second time. A receipt id seen again with other lines is refused, since receipts are
never edited (a return is its own receipt).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.events import plain
from potok.domain.inventory import MovementType, StockLevel
from potok.domain.inventory.model import MAX_QUANTITY
from potok.domain.kernel import Actor, Clock, Tracking, as_utc, utc_now
from potok.domain.network import WarehouseNotFound, WarehouseType
from potok.domain.stores import (
    NotAStore,
    Receipt,
    ReceiptChanged,
    StoreReceiptRecorded,
)
from potok.domain.validation import Problems
from potok.services.idempotency import Once, atomically_once
from potok.services.store_ports import StoreSales
from potok.services.unit_of_work import UnitOfWork, atomically, reading

MAX_RECEIPTS = 1000
MAX_MARKING_CODE = 200


@dataclass(frozen=True, slots=True)
class ReceiptsRecorded:
    """What a batch did: the receipts new to Potok, those it had already, and the store's
    positions of the products they moved, as they are now."""

    recorded: list[str]
    duplicates: list[str]
    levels: list[StockLevel]


def check(receipts: Sequence[Receipt]) -> None:
    """Every receipt well-formed; one answer names every bad field."""
    problems = Problems()
    if not receipts:
        problems.add("receipts", "send at least one receipt", "empty")
    if len(receipts) > MAX_RECEIPTS:
        problems.add("receipts", f"at most {MAX_RECEIPTS} receipts in one batch", "too-many")
    for i, receipt in enumerate(receipts):
        at = f"receipts[{i}]"
        if not receipt.receipt_id.strip():
            problems.add(f"{at}.id", "must not be empty", "required")
        if not receipt.lines:
            problems.add(f"{at}.lines", "a receipt has at least one line", "empty")
        for j, line in enumerate(receipt.lines):
            where = f"{at}.lines[{j}]"
            if not 1 <= line.quantity <= MAX_QUANTITY:
                problems.add(f"{where}.quantity", f"must be 1 to {MAX_QUANTITY}", "out-of-range")
            problems.money(f"{where}.price", line.price)
            if len(line.marking_codes) > line.quantity:
                problems.add(
                    f"{where}.marking_codes",
                    f"{len(line.marking_codes)} codes for {line.quantity} units",
                    "too-many",
                )
            if any(not c or len(c) > MAX_MARKING_CODE for c in line.marking_codes):
                problems.add(
                    f"{where}.marking_codes",
                    f"each code is 1-{MAX_MARKING_CODE} characters",
                    "bad-code",
                )
    if problems:
        raise InvalidInput(problems.errors)


def record_receipts(
    uow: UnitOfWork,
    store: str,
    receipts: Sequence[Receipt],
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[ReceiptsRecorded] | None = None,
) -> ReceiptsRecorded:
    """Record a till's batch of receipts at ``store``: the new ones move its stock (one
    ledger movement per product: ``store_sale`` or ``store_return``), the known ones are
    left alone. On-hand never goes below zero: a sale of units Potok did not count takes
    what there is, and orders that had them reserved are re-sourced."""
    check(receipts)
    return atomically_once(
        uow, once, lambda uow: _record(uow, store, receipts, str(actor), clock())
    )


def record_many(
    uow: UnitOfWork,
    batches: Sequence[tuple[str, Sequence[Receipt]]],
    actor: Actor,
    *,
    clock: Clock = utc_now,
) -> list[ReceiptsRecorded]:
    """Several stores' receipts (a file), in one transaction: every store's, or none."""
    for _, receipts in batches:
        check(receipts)

    def work(uow: UnitOfWork) -> list[ReceiptsRecorded]:
        at = clock()
        return [_record(uow, store, receipts, str(actor), at) for store, receipts in batches]

    return atomically(uow, work)


def _record(
    uow: UnitOfWork, store: str, receipts: Sequence[Receipt], actor: str, at: datetime
) -> ReceiptsRecorded:
    from potok.services.inventory import apply_level

    warehouse = uow.warehouses.get_by_code(store)
    if warehouse is None:
        raise WarehouseNotFound(warehouse=store)
    if warehouse.type is not WarehouseType.STORE:
        raise NotAStore(warehouse=store, kind=warehouse.type.value.replace("_", " "))
    known = uow.store_receipts.recorded(warehouse.id, [r.receipt_id for r in receipts])
    new: dict[str, Receipt] = {}
    duplicates: list[str] = []
    for receipt in receipts:
        content = {"kind": receipt.kind.value, "lines": receipt.line_records()}
        before = known.get(receipt.receipt_id)
        if before is None and receipt.receipt_id in new:
            earlier = new[receipt.receipt_id]
            before = {"kind": earlier.kind.value, "lines": earlier.line_records()}
        if before is not None:
            if before != content:
                raise ReceiptChanged(receipt_id=receipt.receipt_id, store=store)
            duplicates.append(receipt.receipt_id)
            continue
        new[receipt.receipt_id] = receipt
    receipts_new = list(new.values())
    skus = sorted({line.sku for r in receipts_new for line in r.lines})
    products = uow.products.ids_for(skus)
    tracked = uow.products.tracked(skus)
    errors = []
    for i, receipt in enumerate(receipts):
        for j, line in enumerate(receipt.lines):
            field = f"receipts[{i}].lines[{j}].sku"
            if receipt.receipt_id in new and line.sku not in products:
                errors.append(
                    FieldError(field, f"there is no product with SKU '{line.sku}'", "unknown")
                )
            elif tracked.get(line.sku, Tracking.NONE) is not Tracking.NONE:
                errors.append(
                    FieldError(
                        field,
                        f"{line.sku} is kept by lot or serial number; till sales of such "
                        "products are not taken yet",
                        "tracked",
                    )
                )
    if errors:
        raise InvalidInput(errors)
    delta: dict[str, int] = {}
    ids: dict[str, list[str]] = {}
    for receipt in receipts_new:
        for line in receipt.lines:
            delta[line.sku] = delta.get(line.sku, 0) + receipt.sign * line.quantity
            ids.setdefault(line.sku, []).append(receipt.receipt_id)
    levels = []
    for sku in sorted(delta):  # positions locked in a fixed order
        product_id = products[sku]
        uow.stock.ensure_position(warehouse.id, product_id, at)
        level = uow.stock.level(warehouse.id, product_id, lock=True)
        assert level is not None
        change = delta[sku]
        if change:
            target = min(max(level.on_hand + change, 0), MAX_QUANTITY)
            kind = MovementType.STORE_SALE if change < 0 else MovementType.STORE_RETURN
            short = -(level.on_hand + change) if level.on_hand + change < 0 else 0
            reason = f"till receipts at {store}" + (
                f" ({short} sold beyond the books)" if short else ""
            )
            reference = ", ".join(sorted(set(ids[sku])))
            level = apply_level(uow, level, target, kind, reason, reference[:200], at, actor).level
        levels.append(level)
    uow.store_receipts.add(warehouse.id, receipts_new, at)
    for receipt in receipts_new:
        uow.record(
            StoreReceiptRecorded(
                occurred_at=at,
                store=store,
                receipt_id=receipt.receipt_id,
                kind=receipt.kind.value,
                till=receipt.till,
                sold_at=as_utc(receipt.sold_at),
                total=receipt.total,
                lines=plain(list(receipt.lines)),
            )
        )
    return ReceiptsRecorded(list(new), duplicates, levels)


def sales(uow: UnitOfWork, since: datetime, until: datetime) -> list[StoreSales]:
    """Each store's counter sales over a period: its own channel in reports."""
    return reading(uow, lambda uow: uow.store_receipts.sales(as_utc(since), as_utc(until)))
