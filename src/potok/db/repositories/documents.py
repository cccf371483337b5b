"""Issued documents, their files and the numbering series.

The next number of a series comes from one statement that inserts the series' counter
or adds one to it (``INSERT … ON CONFLICT DO UPDATE … RETURNING``). On PostgreSQL the
row stays locked until the issuing transaction ends, so concurrent issuers take turns,
and a transaction that rolls back gives its number back: no gaps, no duplicates. SQLite
serialises writers anyway. A document of a private buyer keeps its subject and files
sealed with the personal-data key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from potok.db.personal import open_json, seal_json
from potok.db.queries.orders import order_ids_within
from potok.db.queries.pagination import decode_int_cursor, encode_cursor
from potok.db.tables import document_counters, document_files, documents, legal_entities
from potok.domain.documents import (
    Corrected,
    DocumentKind,
    FileFormat,
    IssuedDocument,
    Subject,
    UpdStatus,
)
from potok.security.data import DataProtector
from potok.services.document_ports import DocumentPage, NewDocument, StoredFile
from potok.services.read_models import OrderFilter

_CORRECTED = documents.alias("corrected")
_CORRECTION = documents.alias("correction")


class DocumentRepository:
    def __init__(self, connection: sa.Connection, protector: DataProtector) -> None:
        self.connection = connection
        self.protector = protector

    # ------------------------------------------------------------------ numbering

    def next_number(self, seller_id: int, kind: DocumentKind, year: int) -> int:
        """The series' next number, held for this transaction (given back if it rolls back)."""
        insert = (
            postgresql.insert if self.connection.dialect.name == "postgresql" else sqlite.insert
        )
        statement = (
            insert(document_counters)
            .values(legal_entity_id=seller_id, kind=kind.value, year=year, last_number=1)
            .on_conflict_do_update(
                index_elements=["legal_entity_id", "kind", "year"],
                set_={"last_number": document_counters.c.last_number + 1},
            )
            .returning(document_counters.c.last_number)
        )
        number: int = self.connection.execute(statement).scalar_one()
        return number

    # ------------------------------------------------------------------ documents

    def add(self, document: NewDocument) -> int:
        subject: Any = document.subject.to_data()
        if document.personal:
            subject = {"sealed": seal_json(self.protector, subject)}
        document_id: int = self.connection.execute(
            sa.insert(documents)
            .values(
                kind=document.kind.value,
                seller_id=document.seller_id,
                year=document.year,
                number=document.number,
                correction_no=document.correction_no,
                corrects_id=document.corrects_id,
                order_id=document.order_id,
                shipment_id=document.shipment_id,
                upd_status=document.upd_status.value if document.upd_status else None,
                issued_on=document.issued_on,
                issued_at=document.issued_at,
                issued_by=document.issued_by[:255],
                time_zone=document.time_zone,
                currency=document.currency,
                total=document.total,
                vat_total=document.vat_total,
                file_guid=document.file_guid,
                personal=document.personal,
                subject=subject,
            )
            .returning(documents.c.id)
        ).scalar_one()
        return document_id

    def _select(self) -> sa.Select[Any]:
        return (
            sa.select(
                documents,
                legal_entities.c.code.label("seller_code"),
                _CORRECTED.c.number.label("corrected_number"),
                _CORRECTED.c.issued_on.label("corrected_on"),
                _CORRECTION.c.id.label("corrected_by"),
            )
            .join(legal_entities, legal_entities.c.id == documents.c.seller_id)
            .outerjoin(_CORRECTED, _CORRECTED.c.id == documents.c.corrects_id)
            .outerjoin(_CORRECTION, _CORRECTION.c.corrects_id == documents.c.id)
        )

    def _formats(self, ids: Sequence[int]) -> dict[int, list[FileFormat]]:
        if not ids:
            return {}
        rows = self.connection.execute(
            sa.select(document_files.c.document_id, document_files.c.format)
            .where(document_files.c.document_id.in_(list(ids)))
            .order_by(document_files.c.format)
        )
        found: dict[int, list[FileFormat]] = {}
        for row in rows:
            found.setdefault(row.document_id, []).append(FileFormat(row.format))
        return found

    def _document(self, row: sa.Row[Any], formats: Sequence[FileFormat]) -> IssuedDocument:
        data = row.subject
        if row.personal:
            data = open_json(self.protector, data["sealed"])
        return IssuedDocument(
            id=row.id,
            kind=DocumentKind(row.kind),
            seller_id=row.seller_id,
            seller_code=row.seller_code,
            year=row.year,
            number=row.number,
            correction_no=row.correction_no,
            corrects_id=row.corrects_id,
            order_id=row.order_id,
            shipment_id=row.shipment_id,
            upd_status=UpdStatus(row.upd_status) if row.upd_status else None,
            issued_on=row.issued_on,
            issued_at=row.issued_at,
            issued_by=row.issued_by,
            time_zone=row.time_zone,
            currency=row.currency,
            total=row.total,
            vat_total=row.vat_total,
            file_guid=row.file_guid,
            subject=Subject.from_data(data),
            formats=tuple(formats),
            corrected_by=row.corrected_by,
            corrects=Corrected(str(row.corrected_number), row.corrected_on)
            if row.corrects_id is not None
            else None,
        )

    def get(self, document_id: int) -> IssuedDocument | None:
        row = self.connection.execute(self._select().where(documents.c.id == document_id)).first()
        if row is None:
            return None
        return self._document(row, self._formats([row.id]).get(row.id, []))

    def current_for_order(self, order_id: int, kind: DocumentKind) -> IssuedDocument | None:
        """The order's own document of this kind as it stands: the last of its corrections."""
        return self._current(
            documents.c.order_id == order_id, documents.c.shipment_id.is_(None), kind=kind
        )

    def current_for_shipment(self, shipment_id: int, kind: DocumentKind) -> IssuedDocument | None:
        """The shipment's document of this kind as it stands: the last of its corrections."""
        return self._current(documents.c.shipment_id == shipment_id, kind=kind)

    def _current(
        self, *conditions: sa.ColumnElement[bool], kind: DocumentKind
    ) -> IssuedDocument | None:
        row = self.connection.execute(
            self._select()
            .where(*conditions, documents.c.kind == kind.value, _CORRECTION.c.id.is_(None))
            .order_by(documents.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return self._document(row, self._formats([row.id]).get(row.id, []))

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
    ) -> DocumentPage:
        """Newest first; ``within`` keeps the documents of the orders of its channels and
        warehouses (in the query, so that a page is never short of what it may show)."""
        query = self._select().order_by(documents.c.id.desc()).limit(limit + 1)
        if within is not None:
            query = query.where(documents.c.order_id.in_(order_ids_within(within)))
        if order_id is not None:
            query = query.where(documents.c.order_id == order_id)
        if shipment_id is not None:
            query = query.where(documents.c.shipment_id == shipment_id)
        if kind is not None:
            query = query.where(documents.c.kind == kind.value)
        if seller is not None:
            query = query.where(legal_entities.c.code == seller)
        if cursor:
            (before,) = decode_int_cursor(cursor, 1)
            query = query.where(documents.c.id < before)
        rows = list(self.connection.execute(query))
        more = len(rows) > limit
        rows = rows[:limit]
        formats = self._formats([row.id for row in rows])
        items = [self._document(row, formats.get(row.id, [])) for row in rows]
        return DocumentPage(items, encode_cursor(rows[-1].id) if more and rows else None)

    # ------------------------------------------------------------------ files

    def add_file(
        self, document_id: int, fmt: FileFormat, name: str, content: bytes, at: datetime
    ) -> StoredFile:
        personal = self.connection.execute(
            sa.select(documents.c.personal).where(documents.c.id == document_id)
        ).scalar_one()
        digest = hashlib.sha256(content).hexdigest()
        stored = content
        if personal:
            sealed = self.protector.encrypt(base64.b64encode(content).decode()) or ""
            stored = sealed.encode()
        self.connection.execute(
            sa.insert(document_files).values(
                document_id=document_id,
                format=fmt.value,
                name=name[:255],
                content=stored,
                sha256=digest,
                created_at=at,
            )
        )
        return StoredFile(document_id, fmt, name, content, digest)

    def file(self, document_id: int, fmt: FileFormat) -> StoredFile | None:
        row = self.connection.execute(
            sa.select(document_files, documents.c.personal)
            .join(documents, documents.c.id == document_files.c.document_id)
            .where(
                document_files.c.document_id == document_id, document_files.c.format == fmt.value
            )
        ).first()
        if row is None:
            return None
        content = bytes(row.content)
        if row.personal:
            content = base64.b64decode(self.protector.decrypt(content.decode()) or "")
        return StoredFile(document_id, fmt, row.name, content, row.sha256)
