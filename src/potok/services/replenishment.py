"""Min/max rules, the replenishment report, and the events of a level crossing its minimum.

A crossing is announced once: ``stock_rules.below_minimum`` keeps the state last seen, and
only a change of side records ``stock.below_minimum`` or ``stock.back_above_minimum`` in the
outbox, in the transaction that saw it. Receipts, write-offs, counts and bulk levels check
their positions inline (:func:`check_minimums`); reservations do not - order intake stays
as fast as it was - and the timed job :func:`announce_crossings` catches what they moved.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from potok.domain.catalogue import ProductNotFound
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.inventory.errors import BulkRejected
from potok.domain.inventory.events import (
    StockBackAboveMinimum,
    StockBelowMinimum,
    StockRuleDeleted,
    StockRuleSet,
)
from potok.domain.inventory.replenishment import (
    Crossing,
    SetStockRule,
    StockRule,
    StockRuleNotFound,
    check_rule,
    crossing,
    suggested_quantity,
)
from potok.domain.kernel import Actor, Clock, ProductId, WarehouseId, utc_now
from potok.domain.network import WarehouseNotFound
from potok.services.ports import RulePage, RuleState
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A rule below its minimum and what to order: ``max - projected + backordered``."""

    state: RuleState
    projected: int
    suggested_quantity: int


@dataclass(frozen=True, slots=True)
class SuggestionPage:
    items: list[Suggestion]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class RulesImported:
    rows: int
    created: int
    changed: int


@dataclass(frozen=True, slots=True)
class CrossingSeen:
    warehouse: str
    sku: str
    crossing: Crossing
    projected: int


def rule_of(state: RuleState) -> StockRule:
    return StockRule(state.min_level, state.max_level, state.safety_stock)


def projected(state: RuleState) -> int:
    return state.on_hand - state.reserved - state.unavailable + state.incoming


def _values(state: RuleState) -> dict[str, int]:
    return {"min": state.min_level, "max": state.max_level, "safety_stock": state.safety_stock}


# ---------------------------------------------------------------------- rules


def set_rule(
    uow: UnitOfWork, command: SetStockRule, actor: Actor, *, clock: Clock = utc_now
) -> RuleState:
    """Create or change the min/max rule of a SKU at a warehouse; a level already below the
    new minimum is announced at once."""
    errors = check_rule(command.rule)
    if errors:
        raise InvalidInput(errors)

    def work(uow: UnitOfWork) -> RuleState:
        at = clock()
        warehouse_id, product_id = _ids(uow, command.warehouse, command.sku)
        before = uow.stock_rules.get(warehouse_id, product_id, lock=True)
        uow.stock_rules.put(
            [
                (
                    warehouse_id,
                    product_id,
                    command.min_level,
                    command.max_level,
                    command.safety_stock,
                )
            ],
            at,
        )
        after = uow.stock_rules.get(warehouse_id, product_id)
        assert after is not None
        if before is None or _values(before) != _values(after):
            uow.record(
                StockRuleSet(
                    occurred_at=at,
                    warehouse=command.warehouse,
                    sku=command.sku,
                    before=_values(before) if before else None,
                    after=_values(after),
                )
            )
        check_minimums(uow, [(warehouse_id, product_id)], at)
        final = uow.stock_rules.get(warehouse_id, product_id)
        assert final is not None
        return final

    return atomically(uow, work)


def delete_rule(
    uow: UnitOfWork, warehouse: str, sku: str, actor: Actor, *, clock: Clock = utc_now
) -> None:
    """Stop watching a SKU at a warehouse."""

    def work(uow: UnitOfWork) -> None:
        at = clock()
        warehouse_id, product_id = _ids(uow, warehouse, sku)
        before = uow.stock_rules.get(warehouse_id, product_id, lock=True)
        if before is None:
            raise StockRuleNotFound(warehouse=warehouse, sku=sku)
        uow.stock_rules.delete(before.id)
        uow.record(
            StockRuleDeleted(occurred_at=at, warehouse=warehouse, sku=sku, before=_values(before))
        )

    atomically(uow, work)


def get_rule(uow: UnitOfWork, warehouse: str, sku: str) -> RuleState:
    def work(uow: UnitOfWork) -> RuleState:
        warehouse_id, product_id = _ids(uow, warehouse, sku)
        found = uow.stock_rules.get(warehouse_id, product_id)
        if found is None:
            raise StockRuleNotFound(warehouse=warehouse, sku=sku)
        return found

    return reading(uow, work)


def list_rules(
    uow: UnitOfWork,
    *,
    warehouses: Sequence[str] | None = None,
    sku: str | None = None,
    below_minimum: bool = False,
    cursor: str | None = None,
    limit: int = 100,
) -> RulePage:
    """Rules with their figures, in (warehouse, product) order; ``below_minimum`` keeps the
    rules whose projected level is below the minimum now."""
    return reading(
        uow,
        lambda uow: uow.stock_rules.page(
            warehouses=warehouses,
            sku=sku,
            only_below=below_minimum,
            with_backorders=False,
            cursor=cursor,
            limit=limit,
        ),
    )


def check_rule_rows(uow: UnitOfWork, rows: Sequence[SetStockRule]) -> list[FieldError]:
    """Every problem of a batch of rules, each named ``rows[i].field``; reads only."""
    return reading(uow, lambda uow: _check_rows(uow, rows)[0])


def import_rules(
    uow: UnitOfWork, rows: Sequence[SetStockRule], actor: Actor, *, clock: Clock = utc_now
) -> RulesImported:
    """Create or change many rules in one transaction: every row valid, or nothing changes."""

    def work(uow: UnitOfWork) -> RulesImported:
        at = clock()
        errors, keys = _check_rows(uow, rows)
        if errors:
            raise BulkRejected(
                errors,
                rows=len(rows),
                bad_rows=len({e.field.split("]")[0] for e in errors}),
            )
        before = {(s.warehouse_id, s.product_id): s for s in uow.stock_rules.states(keys=keys)}
        uow.stock_rules.put(
            [
                (w, p, row.min_level, row.max_level, row.safety_stock)
                for (w, p), row in zip(keys, rows, strict=True)
            ],
            at,
        )
        created = changed = 0
        for (w, p), row in zip(keys, rows, strict=True):
            old = before.get((w, p))
            new = {"min": row.min_level, "max": row.max_level, "safety_stock": row.safety_stock}
            if old is not None and _values(old) == new:
                continue
            created += old is None
            changed += old is not None
            uow.record(
                StockRuleSet(
                    occurred_at=at,
                    warehouse=row.warehouse,
                    sku=row.sku,
                    before=_values(old) if old else None,
                    after=new,
                )
            )
        check_minimums(uow, keys, at)
        return RulesImported(len(rows), created, changed)

    return atomically(uow, work)


def _check_rows(
    uow: UnitOfWork, rows: Sequence[SetStockRule]
) -> tuple[list[FieldError], list[tuple[WarehouseId, ProductId]]]:
    warehouse_ids = uow.warehouses.ids_for(sorted({r.warehouse for r in rows}))
    product_ids = uow.products.ids_for({r.sku for r in rows})
    errors: list[FieldError] = []
    if not rows:
        errors.append(FieldError("rows", "send at least one row", "required"))
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
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
        errors.extend(check_rule(row.rule, where))
        key = (row.warehouse, row.sku)
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
    keys = [(warehouse_ids[r.warehouse], product_ids[r.sku]) for r in rows] if not errors else []
    return errors, keys


# ---------------------------------------------------------------------- the report


def suggestion_for(state: RuleState) -> Suggestion:
    """What to order for a rule: ``max - projected + backordered``."""
    level = projected(state)
    return Suggestion(state, level, suggested_quantity(rule_of(state), level, state.backordered))


def replenishment_report(
    uow: UnitOfWork,
    *,
    warehouses: Sequence[str] | None = None,
    sku: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> SuggestionPage:
    """The rules whose projected level is below their minimum, with what to order."""

    def work(uow: UnitOfWork) -> SuggestionPage:
        page = uow.stock_rules.page(
            warehouses=warehouses,
            sku=sku,
            only_below=True,
            with_backorders=True,
            cursor=cursor,
            limit=limit,
        )
        return SuggestionPage([suggestion_for(state) for state in page.items], page.next_cursor)

    return reading(uow, work)


# ---------------------------------------------------------------------- crossings


def check_minimums(
    uow: UnitOfWork, keys: Collection[tuple[WarehouseId, ProductId]], at: datetime
) -> list[CrossingSeen]:
    """Announce the crossings of these positions' rules, inside the caller's transaction.

    Cheap when nothing crossed: one read of the rules' figures; only rules that changed side
    are locked, read again and marked.
    """
    if not keys:
        return []
    moved = [
        s.id
        for s in uow.stock_rules.states(keys=keys)  # one statement for a whole upload's keys
        if crossing(rule_of(s), projected(s), was_below=s.below_minimum) is not None
    ]
    return _announce(uow, moved, at)


def announce_crossings(
    uow: UnitOfWork, *, clock: Clock = utc_now, limit: int = 200
) -> list[CrossingSeen]:
    """The timed job: announce every crossing not seen yet (those made by reservations,
    releases, shipments and incoming documents), at most ``limit`` per run."""

    def work(uow: UnitOfWork) -> list[CrossingSeen]:
        return _announce(uow, uow.stock_rules.unsettled(limit), clock())

    return atomically(uow, work)


def _announce(uow: UnitOfWork, rule_ids: list[int], at: datetime) -> list[CrossingSeen]:
    if not rule_ids:
        return []
    uow.stock_rules.lock(rule_ids)
    seen: list[CrossingSeen] = []
    marks: dict[int, bool] = {}
    for state in uow.stock_rules.states(rule_ids=rule_ids):
        level = projected(state)
        found = crossing(rule_of(state), level, was_below=state.below_minimum)
        if found is None:
            continue  # another transaction announced it first
        event = StockBelowMinimum if found is Crossing.BELOW else StockBackAboveMinimum
        uow.record(
            event(
                occurred_at=at,
                warehouse=state.warehouse,
                sku=state.sku,
                min_level=state.min_level,
                max_level=state.max_level,
                safety_stock=state.safety_stock,
                on_hand=state.on_hand,
                reserved=state.reserved,
                unavailable=state.unavailable,
                incoming=state.incoming,
                projected=level,
            )
        )
        marks[state.id] = found is Crossing.BELOW
        seen.append(CrossingSeen(state.warehouse, state.sku, found, level))
    uow.stock_rules.mark(marks, at)
    return seen


# ---------------------------------------------------------------------- helpers


def _ids(uow: UnitOfWork, warehouse: str, sku: str) -> tuple[WarehouseId, ProductId]:
    warehouse_ids = uow.warehouses.ids_for([warehouse])
    if warehouse not in warehouse_ids:
        raise WarehouseNotFound(warehouse=warehouse)
    product_ids = uow.products.ids_for([sku])
    if sku not in product_ids:
        raise ProductNotFound(sku=sku)
    return warehouse_ids[warehouse], product_ids[sku]
