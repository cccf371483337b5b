"""Changes to the catalogue, the network and the channels, as facts for the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "product"
    sku: str

    def aggregate_id(self) -> str:
        return self.sku


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductCreated(ProductEvent):
    product: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductUpdated(ProductEvent):
    product: dict[str, Any]
    before: dict[str, Any]
    """The product as it was, so that consumers and the audit trail see what changed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductDeleted(ProductEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "category"
    code: str

    def aggregate_id(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryCreated(CategoryEvent):
    category: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryUpdated(CategoryEvent):
    category: dict[str, Any]
    before: dict[str, Any]
    """The category as it was (a move changes the paths of those below it too)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryDeleted(CategoryEvent):
    pass
