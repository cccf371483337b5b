"""Changes to warehouses, stores and pickup points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "warehouse"
    code: str

    def aggregate_id(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseCreated(WarehouseEvent):
    warehouse: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseUpdated(WarehouseEvent):
    warehouse: dict[str, Any]
    before: dict[str, Any]
    """The warehouse as it was, so that consumers and the audit trail see what changed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WarehouseDeleted(WarehouseEvent):
    pass
