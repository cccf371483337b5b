"""What happens to legal entities and documents, as outbox events."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class LegalEntityEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "legal_entity"
    code: str

    @classmethod
    def event_type(cls) -> str:
        """``LegalEntityCreated`` becomes ``legal_entity.created``."""
        name = cls.__name__.removeprefix("LegalEntity")
        return "legal_entity." + name.lower()

    def aggregate_id(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True, kw_only=True)
class LegalEntityCreated(LegalEntityEvent):
    role: str
    after: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class LegalEntityChanged(LegalEntityEvent):
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentIssued(DomainEvent):
    """A numbered document was issued and stored; it never changes after this."""

    aggregate_type: ClassVar[str] = "document"
    document_id: int
    kind: str
    number: str
    issued_on: str
    seller: str
    order_id: int | None
    total: Decimal
    corrects: int | None = None

    def aggregate_id(self) -> str:
        return str(self.document_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderBuyerSet(DomainEvent):
    """The company a B2B order is sold to was set (or taken off: ``buyer`` is None)."""

    aggregate_type: ClassVar[str] = "order"
    order_id: int
    buyer: str | None
    previous: str | None

    def aggregate_id(self) -> str:
        return str(self.order_id)
