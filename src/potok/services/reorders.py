"""Purchase orders and transfers made from reorder suggestions in one step: the buyer picks
positions of one warehouse, Potok orders the suggested quantities through the same use
cases as a hand-made document (so it counts as incoming, is audited and announced alike).

Done twice, the second finds nothing left to order: an open purchase order counts in the
position already, and a transfer still only requested is taken off what to move. With an
Idempotency-Key a repeat answers with the first document."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from potok.domain.analytics import NothingToReorder
from potok.domain.errors import FieldError, InvalidInput, PotokError
from potok.domain.inventory.purchasing import (
    CreatePurchaseOrder,
    PurchaseLineRequest,
    PurchaseOrder,
)
from potok.domain.inventory.transfers import (
    RequestTransfer,
    Transfer,
    TransferLineRequest,
    TransferStatus,
)
from potok.domain.kernel import Actor, Clock, utc_now
from potok.services import inventory, purchasing, stored_forecasts, transfers
from potok.services.forecasting import ReorderSuggestion, stock_positions
from potok.services.idempotency import Once, answered_before
from potok.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Reorder:
    """Which suggestions to act on, and how they were worked out."""

    warehouse: str
    skus: Sequence[str] = ()  # none: every position of the warehouse to order
    lead_days: int = 7
    review_days: int = 7
    service_level: float = 0.95
    expected_on: date | None = None


def _chosen(uow: UnitOfWork, reorder: Reorder) -> list[ReorderSuggestion]:
    """The warehouse's suggestions to order, of the SKUs named (an unknown or covered SKU
    is said so by name)."""
    _, found = stored_forecasts.reorder_from_latest(
        uow,
        lead_days=reorder.lead_days,
        review_days=reorder.review_days,
        service_level=reorder.service_level,
        warehouses=[reorder.warehouse],
    )
    to_order = {s.sku: s for s in found if s.suggested_quantity > 0}
    if not reorder.skus:
        return [to_order[sku] for sku in sorted(to_order)]
    seen: set[str] = set()
    errors = []
    for index, sku in enumerate(reorder.skus):
        if sku in seen:
            errors.append(FieldError(f"skus[{index}]", f"'{sku}' is named twice", "duplicate"))
        seen.add(sku)
    if errors:
        raise InvalidInput(errors)
    return [to_order[sku] for sku in reorder.skus if sku in to_order]


def _nothing(reorder: Reorder) -> NothingToReorder:
    named = ", ".join(reorder.skus) if reorder.skus else "any SKU"
    return NothingToReorder(skus=named, warehouse=reorder.warehouse)


def order_suggested(
    uow: UnitOfWork,
    reorder: Reorder,
    supplier: str,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[PurchaseOrder] | None = None,
) -> PurchaseOrder:
    """A purchase order to ``supplier`` for the suggested quantities of the chosen positions."""
    answered_before(uow, once)
    chosen = _chosen(uow, reorder)
    if not chosen:
        raise _nothing(reorder)
    command = CreatePurchaseOrder(
        supplier=supplier,
        warehouse=reorder.warehouse,
        lines=[PurchaseLineRequest(s.sku, s.suggested_quantity) for s in chosen],
        expected_on=reorder.expected_on,
    )
    return purchasing.create_purchase_order(
        uow,
        command,
        actor,
        clock=clock,
        once=once,
    )


def _plan(uow: UnitOfWork, reorder: Reorder, from_warehouse: str) -> RequestTransfer:
    if from_warehouse == reorder.warehouse:
        raise InvalidInput(
            [FieldError("from_warehouse", "is the warehouse being restocked", "same-warehouse")]
        )
    chosen = _chosen(uow, reorder)
    asked = _requested(uow, reorder.warehouse, inbound=True)
    promised = _requested(uow, from_warehouse, inbound=False)  # not reserved until shipped
    available: dict[str, int] = defaultdict(int)
    cursor: str | None = None
    while True:
        page = inventory.list_levels(uow, cursor=cursor, limit=1000, within=[from_warehouse])
        for row in page.items:
            if row.warehouse == from_warehouse:
                available[row.sku] += row.available
        cursor = page.next_cursor
        if cursor is None:
            break
    floors, positions = _source_floors(uow, reorder, from_warehouse)
    lines, short, kept = [], {}, {}
    for s in chosen:
        wanted = s.suggested_quantity - asked.get(s.sku, 0)
        if wanted <= 0:
            continue
        on_shelf = available.get(s.sku, 0) - promised.get(s.sku, 0)
        floor = floors.get(s.sku, 0)
        spare = positions.get(s.sku, 0) - promised.get(s.sku, 0) - floor
        moved = max(0, min(wanted, on_shelf, spare))
        if moved < wanted:
            short[s.sku] = wanted - moved
            if floor and spare < on_shelf:
                kept[s.sku] = floor
        if moved > 0:
            lines.append(TransferLineRequest(s.sku, moved))
    if not lines:
        raise _nothing(reorder)
    comment = "from reorder suggestions"
    if short:
        lacked = ", ".join(f"{sku} {units}" for sku, units in sorted(short.items()))
        comment += f"; {from_warehouse} lacked: {lacked}"
    if kept:
        floor_text = ", ".join(f"{sku} {units}" for sku, units in sorted(kept.items()))
        comment += f"; {from_warehouse} keeps its reorder point: {floor_text}"
    return RequestTransfer(
        from_warehouse=from_warehouse,
        to_warehouse=reorder.warehouse,
        lines=lines,
        expected_on=reorder.expected_on,
        comment=comment[:500],
    )


def transfer_suggested(
    uow: UnitOfWork,
    reorder: Reorder,
    from_warehouse: str,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[Transfer] | None = None,
) -> Transfer:
    """A transfer from ``from_warehouse`` of the suggested quantities, less what transfers
    still only requested to the warehouse already ask for, and at most what the source has
    available (its comment says what the source lacked, per SKU)."""
    answered_before(uow, once)
    command = _plan(uow, reorder, from_warehouse)
    return transfers.request_transfer(uow, command, actor, clock=clock, once=once)


def _source_floors(
    uow: UnitOfWork, reorder: Reorder, source: str
) -> tuple[dict[str, int], dict[str, int]]:
    """The source's own reorder point per SKU - the higher of its forecast's and its min/max
    rule's minimum - which a transfer never takes it below, and its stock positions."""
    positions, rules = stock_positions(uow)
    floors = {sku: low for (where, sku), (low, _) in rules.items() if where == source}
    try:
        _, theirs = stored_forecasts.reorder_from_latest(
            uow,
            lead_days=reorder.lead_days,
            review_days=reorder.review_days,
            service_level=reorder.service_level,
            warehouses=[source],
        )
    except PotokError:  # no forecast of the source: its rules alone
        theirs = []
    for suggestion in theirs:
        if suggestion.warehouse == source:
            floors[suggestion.sku] = max(floors.get(suggestion.sku, 0), suggestion.reorder_point)
    mine = {sku: units for (where, sku), units in positions.items() if where == source}
    return floors, mine


def _requested(uow: UnitOfWork, warehouse: str, *, inbound: bool) -> dict[str, int]:
    """Units per SKU that transfers requested (not shipped yet) will bring to the warehouse
    (``inbound``) or take from it."""
    found: dict[str, int] = defaultdict(int)
    cursor: str | None = None
    while True:
        page = transfers.list_transfers(
            uow,
            status=TransferStatus.REQUESTED.value,
            warehouses=[warehouse],
            cursor=cursor,
            limit=500,
        )
        for t in page.items:
            if (t.to_warehouse if inbound else t.from_warehouse) == warehouse:
                for line in t.lines:
                    found[line.sku] += line.quantity
        cursor = page.next_cursor
        if cursor is None:
            return dict(found)
