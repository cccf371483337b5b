"""Bodies of the sourcing endpoints: shipping tariffs, routing rules, explanations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, StrictFloat

from potok.api.schemas.common import (
    JSON_INTEGER,
    Code,
    FineAmountIn,
    Flag,
    Kilometres,
    MoneyIn,
    Out,
    Page,
    Schema,
)
from potok.services.tariff_files import MAX_DAYS

Days = Annotated[int, Field(ge=0, le=MAX_DAYS), JSON_INTEGER]
Limit = Annotated[int, Field(ge=1, le=100_000), JSON_INTEGER]


class TariffIn(Schema):
    warehouse: Code = Field(description="A warehouse code, or `*` for every warehouse.")
    region: str | None = Field(
        default=None, max_length=120, description="A destination region; or a band."
    )
    min_km: Kilometres | None = Field(default=None, description="Where the band starts (km).")
    max_km: Kilometres | None = Field(
        default=None, description="Where the band ends (km, exclusive)."
    )
    fixed_rub: MoneyIn = Field(description='Roubles per shipment, as a string: "350.00".')
    per_kg_rub: FineAmountIn = Decimal(0)
    per_km_rub: FineAmountIn = Decimal(0)
    days: Days = Field(description="Days in transit.")


class TariffOut(Out):
    warehouse: str
    region: str | None
    min_km: float
    max_km: float | None
    fixed_rub: Decimal
    per_kg_rub: Decimal
    per_km_rub: Decimal
    days: int


class TariffVersionOut(Out):
    version: int
    tariffs: int
    source: str
    created_by: str
    created_at: datetime


class TariffTableOut(Out):
    version: TariffVersionOut | None
    tariffs: list[TariffOut]


class RulesOut(Out):
    channel: str = Field(description="The channel the rules belong to; `default`: the network's.")
    order_type: str = Field(description="courier, pickup, marketplace, or `*` for every type.")
    version: int = Field(description="0: the built-in rules, in force until any are set.")
    rules: dict[str, Any]
    created_by: str
    created_at: datetime


class CandidateOut(Out):
    warehouse: str
    city: str
    kind: str
    distance_km: float | None
    excluded: str | None = Field(description="Why the rules left it out, in words.")
    covers: bool = Field(description="Holds every line of the order.")
    cost_rub: Decimal | None
    days: int | None
    score: float | None = Field(description="Lower is better; roubles as the rules count them.")
    score_parts: dict[str, float] = Field(
        description="cost, distance, time, last_units, priority and needed_later (what the "
        "units taken are worth to the orders still to come): what the score adds up.",
    )
    chosen: bool
    coverage: str = Field(
        default="",
        description="Which of the order's lines it holds in full: `all 3 lines`, "
        "`2 of 3 lines` (empty when it was left out before stock was counted).",
    )
    why_not: str | None = Field(
        default=None,
        description="Why it is not in the chosen plan: left out by a rule (as `excluded`), "
        "does not cover the order (which SKUs it lacks), costs more, later than promised, "
        "or what it loses on the rules' scale; a transfer source says what it sends. "
        "Null for the chosen ones.",
    )
    estimate: bool = Field(
        default=False,
        description="The cost is an estimate by the built-in distance bands: the tariff "
        "table has no row for this location.",
    )


class ShipmentOut(Out):
    warehouse: str
    cost_rub: Decimal
    days: int
    weight_kg: float
    units: int
    tariff: str
    estimate: bool = Field(
        default=False,
        description="The cost is an estimate by the built-in distance bands: the tariff "
        "table has no row for this location.",
    )
    carrier: str | None = Field(
        default=None,
        description="The carrier the routing rules chose for this shipment (`carriers` in "
        "the rules); null when the rules price by Potok's tariff table.",
    )
    price_source: str | None = Field(
        default=None,
        description="Where the carrier's price came from: `live` (the carrier's tariff, "
        "answered within its freshness window), `cached` (remembered from an earlier answer: "
        "the carrier did not answer in time now) or `fallback` (Potok's tariff table: no "
        "price of the carrier known).",
    )


class TransferPlanOut(Out):
    from_warehouse: str
    to_warehouse: str
    cost_rub: Decimal
    days: int
    weight_kg: float
    units: int
    tariff: str
    estimate: bool = Field(
        default=False,
        description="The cost is an estimate by the built-in distance bands: the tariff "
        "table has no row for this location.",
    )


class RecordOut(Out):
    rules_version: str
    tariffs_version: str
    decided_on: date
    order_type: str
    express: bool
    promised_on: date | None
    candidates: list[CandidateOut]
    shipments: list[ShipmentOut]
    total_cost_rub: Decimal
    days: int | None
    on_time: bool | None
    summary: str
    transfer_plan: list[TransferPlanOut] = Field(
        default_factory=list,
        description="A consolidation: the transfers that bring the units the shipping "
        "warehouse lacks (their cost is in total_cost_rub, their days in days).",
    )
    alternative: str = Field(
        default="",
        description="The best plan of the other kind (a split, or a consolidation), in words.",
    )


class StoredDecisionOut(Out):
    occurred_at: datetime
    actor: str
    action: str = Field(description="`reserved` or `backordered`.")
    explanation: str
    trigger: str = Field(
        description="What made the order be sourced then: `intake`, `stock arrived`, "
        "a correction, a deactivated warehouse, a re-plan, ..."
    )
    warehouses: list[str]
    total_cost_rub: Decimal | None = Field(description="Shipping cost of the chosen plan.")
    record: RecordOut | None = Field(
        description="Every candidate considered, its score and cost, the rules and tariff "
        "versions; empty for orders sourced before records were kept."
    )


class DryRunOut(Out):
    outcome: str = Field(description="`decision`, or `shortfall` when the network lacks units.")
    warehouses: list[str]
    explanation: str
    record: RecordOut | None


class OrderSourcingOut(Out):
    order_id: int
    stored: list[StoredDecisionOut] = Field(
        description="Every sourcing decision taken for the order, oldest first, each with "
        "the engine's full record."
    )
    dry_run: DryRunOut = Field(
        description="What the sourcing engine would choose now; nothing is reserved."
    )


class ReplanIn(Schema):
    channel: str | None = Field(
        default=None, max_length=64, description="Re-plan this channel's orders only."
    )
    warehouse: str | None = Field(
        default=None,
        max_length=64,
        description="Re-plan only the orders holding stock at this location.",
    )
    apply: Flag = Field(
        default=True, description="false: a dry run that reports what would change."
    )
    time_limit_s: StrictFloat = Field(
        default=30,
        ge=1,
        le=300,
        allow_inf_nan=False,
        description="The solver's time budget, in seconds.",
    )
    limit: Limit = Field(default=10_000, description="At most this many orders, most urgent first.")
    held_minutes: StrictFloat | None = Field(
        default=None,
        ge=1,
        le=24 * 60,
        allow_inf_nan=False,
        description="Re-plan the held orders instead: those placed within this many minutes "
        "and not yet released to a warehouse, planned together with the stock priced for the "
        "orders still to come. One may become dearer when the orders it trades stock with "
        "save more (shipping plus stock value); no promise the current plan keeps is broken; "
        "each trade moves all together or not at all.",
    )


class ReplanChangeOut(Out):
    order_id: int
    outcome: str = Field(
        description="`moved` (to a cheaper plan, or - held orders - in a trade that costs "
        "less in all), `reserved` (a backorder covered) or "
        "`skipped` (the order or its stock changed meanwhile; it keeps its plan)."
    )
    from_warehouses: list[str]
    to_warehouses: list[str]
    cost_before_rub: Decimal | None
    cost_after_rub: Decimal | None
    note: str


class ReplanRunOut(Out):
    id: int
    started_at: datetime
    finished_at: datetime
    actor: str
    scope: dict[str, Any]
    applied: bool = Field(description="false: a dry run; nothing was moved.")
    method: str = Field(
        description="`mip-optimal`, `mip-time-limit` (the best plan found in the budget), "
        "`greedy` (the fallback), or `none` when there was nothing to plan."
    )
    orders_considered: int
    orders_changed: int = Field(description="Orders moved plus backorders reserved.")
    orders_skipped: int
    backorders_reserved: int
    cost_before_rub: Decimal = Field(
        description="Shipping of the reserved orders considered, as planned before the run."
    )
    cost_after_rub: Decimal
    saved_rub: Decimal
    seconds: float
    notes: list[str]
    changes: list[ReplanChangeOut]


class ReplanRunPageOut(Page):
    items: list[ReplanRunOut]
