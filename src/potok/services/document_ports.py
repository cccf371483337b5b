"""What the documents use cases need from storage, as protocols; ``potok.db`` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from potok.domain.documents import (
    DocumentKind,
    EntityRole,
    FileFormat,
    IssuedDocument,
    LegalEntity,
    LegalEntityDraft,
    Subject,
    UpdStatus,
)

if TYPE_CHECKING:
    from potok.services.read_models import OrderFilter


@dataclass(frozen=True, slots=True)
class LegalEntityPage:
    items: Sequence[LegalEntity]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A document about to be stored; the store gives it its id."""

    kind: DocumentKind
    seller_id: int
    year: int
    number: int
    correction_no: int
    corrects_id: int | None
    order_id: int | None
    upd_status: UpdStatus | None
    issued_on: date
    issued_at: datetime
    issued_by: str
    time_zone: str
    currency: str
    total: Decimal
    vat_total: Decimal
    file_guid: str
    personal: bool
    subject: Subject
    shipment_id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One rendering of a document: its file name, bytes and their SHA-256."""

    document_id: int
    format: FileFormat
    name: str
    content: bytes
    sha256: str


@dataclass(frozen=True, slots=True)
class DocumentPage:
    items: Sequence[IssuedDocument]
    next_cursor: str | None


class LegalEntityStore(Protocol):
    def get(self, code: str) -> LegalEntity | None: ...
    def get_by_id(self, entity_id: int) -> LegalEntity | None: ...
    def find_by_tax_ids(
        self, role: EntityRole, inn: str, kpp: str | None
    ) -> LegalEntity | None: ...
    def add(self, draft: LegalEntityDraft, at: datetime) -> LegalEntity: ...
    def replace(self, entity_id: int, draft: LegalEntityDraft, at: datetime) -> LegalEntity: ...
    def list(
        self, *, role: EntityRole | None, cursor: str | None, limit: int
    ) -> LegalEntityPage: ...
    def channel_ids(self, codes: Sequence[str]) -> dict[str, int]: ...
    def sellers_of_channels(self, codes: Sequence[str]) -> dict[str, str]: ...
    def default_seller(self) -> LegalEntity | None: ...
    def seller_for_channel(self, channel_code: str) -> LegalEntity | None: ...
    def buyer_of(self, order_id: int) -> LegalEntity | None: ...
    def set_buyer(self, order_id: int, entity_id: int | None) -> None: ...


class DocumentStore(Protocol):
    def next_number(self, seller_id: int, kind: DocumentKind, year: int) -> int: ...
    def add(self, document: NewDocument) -> int: ...
    def add_file(
        self, document_id: int, fmt: FileFormat, name: str, content: bytes, at: datetime
    ) -> StoredFile: ...
    def get(self, document_id: int) -> IssuedDocument | None: ...
    def current_for_order(self, order_id: int, kind: DocumentKind) -> IssuedDocument | None: ...
    def current_for_shipment(
        self, shipment_id: int, kind: DocumentKind
    ) -> IssuedDocument | None: ...
    def file(self, document_id: int, fmt: FileFormat) -> StoredFile | None: ...
    def list(
        self,
        *,
        order_id: int | None,
        kind: DocumentKind | None,
        seller: str | None,
        cursor: str | None,
        limit: int,
        shipment_id: int | None = None,
        within: OrderFilter | None = None,
    ) -> DocumentPage: ...
