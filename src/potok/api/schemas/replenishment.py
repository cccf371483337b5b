"""Bodies of the min/max rule and replenishment endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from potok.api.schemas.common import Count, Out, Page, Schema


class StockRuleIn(Schema):
    min: Count = Field(
        description="Reorder when the projected level falls below this.", examples=[10]
    )
    max: Count = Field(description="Order up to this level; at least `min`.", examples=[60])
    safety_stock: Count = Field(
        default=0,
        description="Units held back from the availability published to channels.",
        examples=[2],
    )


class StockRuleOut(Out):
    warehouse: str
    sku: str
    min: int
    max: int
    safety_stock: int
    below_minimum: bool = Field(
        description="The state last announced (stock.below_minimum / stock.back_above_minimum)."
    )
    on_hand: int
    reserved: int
    unavailable: int
    incoming: int
    projected: int = Field(description="on_hand - reserved - unavailable + incoming")
    updated_at: datetime


class StockRulePageOut(Page):
    items: list[StockRuleOut]


class ReplenishmentLineOut(Out):
    warehouse: str
    sku: str
    min: int
    max: int
    safety_stock: int
    on_hand: int
    reserved: int
    unavailable: int
    incoming: int
    projected: int = Field(description="on_hand - reserved - unavailable + incoming")
    backordered: int = Field(
        description="Units of the SKU on backordered orders of channels this warehouse serves."
    )
    suggested_quantity: int = Field(description="max(0, max - projected + backordered)")


class ReplenishmentPageOut(Page):
    items: list[ReplenishmentLineOut]
