"""Routing rules as data: which warehouses may ship an order, how the rest are ranked, and
when an order may be split or consolidated.

Every criterion is weighed in roubles, so a score is "what this option costs us, all things
counted": shipping cost counts one to one, each kilometre, each day in transit, each day
late against the promised date, each unit taken from the last units a store keeps for its
walk-in customers, each transfer order and each point of warehouse priority (a bonus) add
their weight.

Consolidation: when no single warehouse has every line (or a split scores best), the engine
also weighs bringing the missing units to one warehouse (the hub) by transfer and shipping
one parcel from there. ``transfers`` turns this off. It is independent of the split policy:
a consolidated order still leaves in one shipment, so under ``never`` it is the only way to
serve an order no single warehouse holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from potok.domain.errors import Rejected
from potok.domain.sourcing.carriers import CarrierChoice


class SplitPolicy(StrEnum):
    """When an order may leave from more than one warehouse."""

    NEVER = "never"
    ONLY_WHEN_NEEDED = "only_when_needed"  # only when no single warehouse has every line
    WHEN_CHEAPER = "when_cheaper"  # whenever several shipments score better than one


class OrderType(StrEnum):
    """How the customer receives the order; the rules filter warehouse kinds by it."""

    COURIER = "courier"
    PICKUP = "pickup"
    MARKETPLACE = "marketplace"


class InvalidRules(Rejected):
    code = "invalid-routing-rules"
    title = "The routing rules are not valid"


@dataclass(frozen=True, slots=True)
class Weights:
    """What each criterion is worth, in roubles per unit of it."""

    cost: float = 1.0  # per rouble of shipping cost
    distance: float = 0.0  # per kilometre
    day: float = 5.0  # per day in transit
    express_day: float = 2_000.0  # per day in transit, for express orders (fastest wins)
    late_day: float = 1_000.0  # per day past the promised date
    last_unit: float = 150.0  # per unit taken from the stock a store keeps for local demand
    priority: float = 20.0  # bonus per point of warehouse priority
    transfer: float = 50.0  # per transfer order: handling at both ends, paperwork


def _default_kinds() -> dict[str, frozenset[str]]:
    return {
        OrderType.COURIER: frozenset({"warehouse", "store", "dark_store"}),
        OrderType.PICKUP: frozenset({"warehouse", "store", "dark_store"}),
        OrderType.MARKETPLACE: frozenset({"warehouse"}),
    }


@dataclass(frozen=True, slots=True)
class RoutingRules:
    """One version of the routing rules for a channel and order type."""

    version: str = "default-1"
    kinds_by_order_type: Mapping[str, frozenset[str]] = field(default_factory=_default_kinds)
    max_distance_km: float | None = None
    excluded_regions: frozenset[str] = frozenset()
    weights: Weights = field(default_factory=Weights)
    split: SplitPolicy = SplitPolicy.ONLY_WHEN_NEEDED
    max_shipments: int = 3
    keep_last_units: int = 2  # units of each product a store keeps for its own customers
    keep_last_units_kinds: frozenset[str] = frozenset({"store"})
    default_unit_weight_kg: float = 1.0
    transfers: bool = True  # may bring missing units to one warehouse instead of splitting
    transfer_handling_days: int = 1  # days a hub needs to book arrivals in and repack
    carriers: CarrierChoice | None = None  # price parcels by carriers' tariffs (None: the table)

    def __post_init__(self) -> None:
        if self.max_shipments < 1:
            raise InvalidRules("max_shipments must be at least 1")
        if self.max_distance_km is not None and self.max_distance_km <= 0:
            raise InvalidRules("max_distance_km must be positive")
        if self.keep_last_units < 0:
            raise InvalidRules("keep_last_units must not be negative")
        if self.default_unit_weight_kg < 0:
            raise InvalidRules("default_unit_weight_kg must not be negative")
        if not 0 <= self.transfer_handling_days <= 366:
            raise InvalidRules("transfer_handling_days must be from 0 to 366")

    def allows_kind(self, order_type: str, kind: str) -> bool:
        """Whether a warehouse of this kind may ship an order of this type."""
        kinds = self.kinds_by_order_type.get(order_type)
        return kinds is None or kind in kinds

    def shipments_allowed(self) -> int:
        """The most shipments one order may be split into."""
        return 1 if self.split is SplitPolicy.NEVER else self.max_shipments
