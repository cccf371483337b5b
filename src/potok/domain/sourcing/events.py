"""What happened to the sourcing set-up: tariffs imported, routing rules changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcingEvent(DomainEvent):
    """A change to how orders are sourced."""

    aggregate_type: ClassVar[str] = "sourcing"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcingRulesChanged(SourcingEvent):
    """A channel's routing rules (channel ``default``: the network's) have a new version."""

    channel: str
    order_type: str
    version: int
    before: dict[str, Any] | None
    after: dict[str, Any]

    def aggregate_id(self) -> str:
        return f"rules:{self.channel}:{self.order_type}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcingTariffsImported(SourcingEvent):
    """A new shipping tariff table is in force."""

    version: int
    tariffs: int
    source: str

    def aggregate_id(self) -> str:
        return f"tariffs:{self.version}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcingReplanned(SourcingEvent):
    """The batch optimiser re-planned open orders and moved the ones it could make cheaper."""

    run_id: int
    actor: str
    scope: dict[str, Any]
    method: str
    orders_considered: int
    orders_changed: int
    orders_skipped: int
    backorders_reserved: int
    cost_before: str
    cost_after: str
    seconds: float
    changed: list[int]

    def aggregate_id(self) -> str:
        return f"replan:{self.run_id}"
