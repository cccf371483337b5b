"""What happens to marketplace connections (never carrying credentials)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketplaceEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "marketplace_connection"
    connection: str

    def aggregate_id(self) -> str:
        return self.connection


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketplaceConnected(MarketplaceEvent):
    marketplace: str
    channel: str
    base_url: str
    warehouses: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketplaceOrderKeptAside(MarketplaceEvent):
    """An order from the marketplace waits in the journal for an operator."""

    external_id: str
    kind: str
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketplaceConnectionChanged(MarketplaceEvent):
    """Fields changed (a new token is named, never carried)."""

    changed: list[str]
    base_url: str
    warehouses: dict[str, str]
    poll_every_s: int
    active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketplaceItemsMapped(MarketplaceEvent):
    """SKUs were mapped to the marketplace's items, or their mapping removed."""

    mapped: int
    removed: int
    by: str
