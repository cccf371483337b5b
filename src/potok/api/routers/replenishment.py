"""Min/max rules per warehouse and SKU, and the replenishment report built on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from potok.api.deps import Uow
from potok.api.problems import responses
from potok.api.schemas.common import Code
from potok.api.schemas.replenishment import (
    ReplenishmentLineOut,
    ReplenishmentPageOut,
    StockRuleIn,
    StockRuleOut,
    StockRulePageOut,
)
from potok.api.scope import NOTHING, Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.access.model import OutOfScope
from potok.domain.catalogue import ProductNotFound
from potok.domain.errors import InvalidInput
from potok.domain.inventory.replenishment import SetStockRule, StockRuleNotFound
from potok.domain.network import WarehouseNotFound
from potok.services import replenishment
from potok.services.ports import RuleState
from potok.services.replenishment import Suggestion, projected

router = APIRouter(prefix="/api/v1/stock", tags=["stock"])

_RULE_PATH = "/rules/{warehouse}/{sku}"


def _rule_out(state: RuleState) -> StockRuleOut:
    return StockRuleOut(
        warehouse=state.warehouse,
        sku=state.sku,
        min=state.min_level,
        max=state.max_level,
        safety_stock=state.safety_stock,
        below_minimum=state.below_minimum,
        on_hand=state.on_hand,
        reserved=state.reserved,
        unavailable=state.unavailable,
        incoming=state.incoming,
        projected=projected(state),
        updated_at=state.updated_at,
    )


def _line_out(line: Suggestion) -> ReplenishmentLineOut:
    state = line.state
    return ReplenishmentLineOut(
        warehouse=state.warehouse,
        sku=state.sku,
        min=state.min_level,
        max=state.max_level,
        safety_stock=state.safety_stock,
        on_hand=state.on_hand,
        reserved=state.reserved,
        unavailable=state.unavailable,
        incoming=state.incoming,
        projected=line.projected,
        backordered=state.backordered,
        suggested_quantity=line.suggested_quantity,
    )


def _visible(caller: Principal, wanted: list[str]) -> list[str] | None:
    """The warehouses a list may show: those asked for, within the caller's own."""
    if caller.warehouses is None:
        return wanted or None
    allowed = set(caller.warehouse_codes)
    chosen = [w for w in wanted if w in allowed] if wanted else sorted(allowed)
    return chosen or [NOTHING]


@router.put(
    _RULE_PATH,
    response_model=StockRuleOut,
    summary="Set the min/max levels and safety stock of a SKU at a warehouse",
    description="Creates the rule or replaces its numbers. `max` must be at least `min`, and "
    "no number may be negative. A projected level already below the new minimum raises "
    "`stock.below_minimum` at once.",
    responses=responses(WarehouseNotFound, ProductNotFound, InvalidInput, OutOfScope),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.WAREHOUSE, "warehouse")],
)
def put_rule(
    warehouse: Code, sku: Code, body: StockRuleIn, uow: Uow, caller: Caller
) -> StockRuleOut:
    state = replenishment.set_rule(
        uow,
        SetStockRule(warehouse, sku, body.min, body.max, body.safety_stock),
        caller.actor,
    )
    return _rule_out(state)


@router.get(
    _RULE_PATH,
    response_model=StockRuleOut,
    summary="The min/max rule of a SKU at a warehouse, with its figures",
    responses=responses(WarehouseNotFound, ProductNotFound, StockRuleNotFound, OutOfScope),
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.WAREHOUSE, "warehouse")],
)
def get_rule(warehouse: Code, sku: Code, uow: Uow, caller: Caller) -> StockRuleOut:
    return _rule_out(replenishment.get_rule(uow, warehouse, sku))


@router.delete(
    _RULE_PATH,
    status_code=204,
    summary="Remove the min/max rule of a SKU at a warehouse",
    responses=responses(WarehouseNotFound, ProductNotFound, StockRuleNotFound, OutOfScope),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.WAREHOUSE, "warehouse")],
)
def delete_rule(warehouse: Code, sku: Code, uow: Uow, caller: Caller) -> Response:
    replenishment.delete_rule(uow, warehouse, sku, caller.actor)
    return Response(status_code=204)


@router.get(
    "/rules",
    response_model=StockRulePageOut,
    summary="Min/max rules with their figures",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def list_rules(
    uow: Uow,
    caller: Caller,
    warehouse: Annotated[
        list[Code], Query(description="Repeat for several warehouses.", max_length=100)
    ] = [],  # noqa: B006 - FastAPI copies the default
    sku: Code | None = None,
    below_minimum: Annotated[
        bool, Query(description="Only rules whose projected level is below the minimum now.")
    ] = False,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> StockRulePageOut:
    page = replenishment.list_rules(
        uow,
        warehouses=_visible(caller, warehouse),
        sku=sku,
        below_minimum=below_minimum,
        cursor=cursor,
        limit=limit,
    )
    return StockRulePageOut(items=[_rule_out(s) for s in page.items], next_cursor=page.next_cursor)


@router.get(
    "/replenishment",
    response_model=ReplenishmentPageOut,
    summary="What to reorder: rules whose projected level is below their minimum",
    description="For each rule with `projected = on_hand - reserved - unavailable + incoming` "
    "below `min` (summed over the SKU's lots at the warehouse): "
    "`suggested_quantity = max(0, max - projected + backordered)`, where `backordered` is "
    "the SKU's units on backordered orders of the channels the warehouse serves.",
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
def replenishment_report(
    uow: Uow,
    caller: Caller,
    warehouse: Annotated[
        list[Code], Query(description="Repeat for several warehouses.", max_length=100)
    ] = [],  # noqa: B006 - FastAPI copies the default
    sku: Code | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ReplenishmentPageOut:
    page = replenishment.replenishment_report(
        uow, warehouses=_visible(caller, warehouse), sku=sku, cursor=cursor, limit=limit
    )
    return ReplenishmentPageOut(
        items=[_line_out(line) for line in page.items], next_cursor=page.next_cursor
    )
