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
