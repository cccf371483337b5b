"""Documents of an order (or of one shipment of it): its buyer, issuing, correcting,
reading and downloading them.

Issuing takes the next number of the seller's series for the kind and the year, builds
the subject, renders the PDF and stores both in the same transaction: a document either
exists with its number and its file, or not at all, and its number is never skipped.
Asking for an order's document again returns the one issued, byte for byte. The УПД's
XML is made the first time it is asked for (the ЭДО ids may be filled in after issue)
and stored from then on. A shipment's ТОРГ-12 and УПД describe what it packed, with the
marking codes captured at packing; they wait until it is packed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from potok.domain.documents import (
    TITLES,
    CorrectionExists,
    DocumentKind,
    DocumentNotFound,
    DocumentsForCancelledOrder,
    EntityRole,
    FileFormat,
    FormatNotAvailable,
    IssuedDocument,
    LegalEntityNotFound,
    PartyKind,
    Subject,
    UpdStatus,
    check_ready,
    check_xml_ready,
    default_upd_status,
)
from potok.domain.documents.errors import PaperNotReady
from potok.domain.documents.events import DocumentIssued, OrderBuyerSet
from potok.domain.documents.subject import local_date
from potok.domain.errors import FieldError, InvalidInput, StaleVersion
from potok.domain.fulfilment import Shipment, ShipmentNotFound
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.orders import Order, OrderNotFound, OrderState
from potok.renderers import render_pdf, render_xml
from potok.services.document_ports import DocumentPage, NewDocument, StoredFile
from potok.services.document_subjects import (
    PACKED_OR_LATER,
    OrderParties,
    parties_of,
    subject_for_order,
    subject_for_shipment,
)
from potok.services.idempotent import Answer, Idempotency, once
from potok.services.orders import OrderView
from potok.services.read_models import OrderFilter
from potok.services.unit_of_work import UnitOfWork, atomically, reading


@dataclass(frozen=True, slots=True)
class Issued:
    """The outcome of asking for a document: the document, and whether it is new."""

    document: IssuedDocument
    created: bool


def _order(uow: UnitOfWork, order_id: int, *, lock: bool = False) -> Order:
    order = uow.orders.get(order_id, lock=lock)
    if order is None:
        raise OrderNotFound(order_id=order_id)
    return order


# ---------------------------------------------------------------------- the buyer


def set_order_buyer(
    uow: UnitOfWork,
    order_id: int,
    buyer_code: str | None,
    actor: Actor,
    *,
    expected_version: int | None = None,
    clock: Clock = utc_now,
) -> OrderView:
    """Sell a B2B order to a registered buyer (``None``: to its customer again)."""

    def work(uow: UnitOfWork) -> OrderView:
        order = _order(uow, order_id, lock=True)
        if expected_version is not None and expected_version != order.version:
            raise StaleVersion(expected=expected_version, actual=order.version)
        entity_id = None
        if buyer_code is not None:
            buyer = uow.legal_entities.get(buyer_code)
            if buyer is None or buyer.role is not EntityRole.BUYER:
                raise LegalEntityNotFound(code=buyer_code)
            entity_id = buyer.id
        previous = uow.legal_entities.buyer_of(order_id)
        previous_code = previous.code if previous else None
        at = clock()
        order.note_buyer(at, str(actor), buyer_code, previous_code)
        uow.legal_entities.set_buyer(order_id, entity_id)
        uow.orders.save(order)
        uow.record(
            OrderBuyerSet(
                occurred_at=at, order_id=order_id, buyer=buyer_code, previous=previous_code
            )
        )
        return OrderView(order, uow.orders.history(order_id))

    return atomically(uow, work)


# ---------------------------------------------------------------------- issuing


def _store(
    uow: UnitOfWork,
    *,
    kind: DocumentKind,
    seller_id: int,
    time_zone: str,
    order_id: int | None,
    subject: Subject,
    upd_status: UpdStatus | None,
    actor: Actor,
    clock: Clock,
    corrects: IssuedDocument | None = None,
    shipment_id: int | None = None,
) -> IssuedDocument:
    """Number, render and store a document with its PDF, in the caller's transaction."""
    at = clock()
    issued_on = local_date(at, time_zone)
    if corrects is not None and kind is DocumentKind.UPD:
        year, number = corrects.year, corrects.number  # an УПД's correction keeps its number
    else:
        year = issued_on.year
        number = uow.documents.next_number(seller_id, kind, year)
    totals = subject.totals
    new = NewDocument(
        kind=kind,
        seller_id=seller_id,
        year=year,
        number=number,
        correction_no=corrects.correction_no + 1 if corrects else 0,
        corrects_id=corrects.id if corrects else None,
        order_id=order_id,
        upd_status=upd_status,
        issued_on=issued_on,
        issued_at=at,
        issued_by=str(actor),
        time_zone=time_zone,
        currency=subject.currency,
        total=totals.total,
        vat_total=totals.vat,
        file_guid=str(uuid.uuid4()),
        personal=subject.buyer.kind is PartyKind.PERSON,
        subject=subject,
        shipment_id=shipment_id,
    )
    document_id = uow.documents.add(new)
    document = uow.documents.get(document_id)
    assert document is not None
    uow.documents.add_file(
        document_id,
        FileFormat.PDF,
        document.file_stem + ".pdf",
        render_pdf(document.heading, subject),
        at,
    )
    uow.record(
        DocumentIssued(
            occurred_at=at,
            document_id=document_id,
            kind=kind.value,
            number=document.display_number,
            issued_on=issued_on.isoformat(),
            seller=document.seller_code,
            order_id=order_id,
            total=totals.total,
            corrects=corrects.id if corrects else None,
        )
    )
    stored = uow.documents.get(document_id)
    assert stored is not None
    return stored


ISSUE_SCOPE = "documents.issue"
CORRECT_SCOPE = "documents.correct"


def issue_document(
    uow: UnitOfWork,
    order_id: int,
    kind: DocumentKind,
    actor: Actor,
    *,
    upd_status: UpdStatus | None = None,
    clock: Clock = utc_now,
) -> Issued:
    """The order's document of this kind: the one issued before, or a new one now."""
    return atomically(uow, _issuing(order_id, kind, actor, upd_status, clock))


def issue_document_once(
    uow: UnitOfWork,
    order_id: int,
    kind: DocumentKind,
    actor: Actor,
    *,
    idempotency: Idempotency | None,
    respond: Callable[[Issued], Answer],
    upd_status: UpdStatus | None = None,
    clock: Clock = utc_now,
) -> Answer:
    """:func:`issue_document` whose answer a repeat with the same key gets again."""
    work = _issuing(order_id, kind, actor, upd_status, clock)
    return atomically(uow, lambda uow: once(uow, ISSUE_SCOPE, idempotency, work, respond))


def _issuing(
    order_id: int, kind: DocumentKind, actor: Actor, upd_status: UpdStatus | None, clock: Clock
) -> Callable[[UnitOfWork], Issued]:
    def work(uow: UnitOfWork) -> Issued:
        existing = uow.documents.current_for_order(order_id, kind)
        if existing is not None:
            return Issued(existing, created=False)
        order = _order(uow, order_id)
        if order.state is OrderState.CANCELLED:
            raise DocumentsForCancelledOrder(order_id=order_id)
        parties = parties_of(uow, order)
        subject = subject_for_order(uow, order, parties)
        status = None
        if kind is DocumentKind.UPD:
            status = upd_status or default_upd_status(subject.seller)
        check_ready(kind, status, subject)
        document = _store(
            uow,
            kind=kind,
            seller_id=parties.seller.id,
            time_zone=parties.seller.time_zone,
            order_id=order_id,
            subject=subject,
            upd_status=status,
            actor=actor,
            clock=clock,
        )
        return Issued(document, created=True)

    return work


SHIPMENT_KINDS = (DocumentKind.TORG12, DocumentKind.UPD)


def issue_shipment_document(
    uow: UnitOfWork,
    shipment_id: int,
    kind: DocumentKind,
    actor: Actor,
    *,
    upd_status: UpdStatus | None = None,
    clock: Clock = utc_now,
) -> Issued:
    """The shipment's ТОРГ-12 or УПД: the one issued before, or a new one now."""
    return atomically(uow, _issuing_for_shipment(shipment_id, kind, actor, upd_status, clock))


def issue_shipment_document_once(
    uow: UnitOfWork,
    shipment_id: int,
    kind: DocumentKind,
    actor: Actor,
    *,
    idempotency: Idempotency | None,
    respond: Callable[[Issued], Answer],
    upd_status: UpdStatus | None = None,
    clock: Clock = utc_now,
) -> Answer:
    """:func:`issue_shipment_document` whose answer a repeat with the same key gets again."""
    work = _issuing_for_shipment(shipment_id, kind, actor, upd_status, clock)
    return atomically(uow, lambda uow: once(uow, ISSUE_SCOPE, idempotency, work, respond))


def _packed_shipment(uow: UnitOfWork, shipment_id: int, kind: DocumentKind) -> Shipment:
    shipment = uow.shipments.get(shipment_id)
    if shipment is None:
        raise ShipmentNotFound(shipment_id=shipment_id)
    if shipment.status not in PACKED_OR_LATER:
        raise PaperNotReady(
            paper=TITLES[kind],
            shipment=shipment.number,
            status=shipment.status.value,
            step="its goods are counted once packed (POST /api/v1/shipments/{id}/parcels)"
            if shipment.status.value != "cancelled"
            else "nothing leaves with a cancelled shipment",
        )
    return shipment


def _issuing_for_shipment(
    shipment_id: int, kind: DocumentKind, actor: Actor, upd_status: UpdStatus | None, clock: Clock
) -> Callable[[UnitOfWork], Issued]:
    if kind not in SHIPMENT_KINDS:
        raise InvalidInput(
            [
                FieldError(
                    "kind",
                    "a shipment has a torg12 or an upd; the invoice is the order's "
                    "(POST /api/v1/orders/{id}/documents)",
                    "not-applicable",
                )
            ]
        )

    def work(uow: UnitOfWork) -> Issued:
        existing = uow.documents.current_for_shipment(shipment_id, kind)
        if existing is not None:
            return Issued(existing, created=False)
        shipment = _packed_shipment(uow, shipment_id, kind)
        order = _order(uow, shipment.order_id)
        parties = parties_of(uow, order)
        subject = subject_for_shipment(uow, order, shipment, parties)
        status = None
        if kind is DocumentKind.UPD:
            status = upd_status or default_upd_status(subject.seller)
        check_ready(kind, status, subject)
        document = _store(
            uow,
            kind=kind,
            seller_id=parties.seller.id,
            time_zone=parties.seller.time_zone,
            order_id=shipment.order_id,
            subject=subject,
            upd_status=status,
            actor=actor,
            clock=clock,
            shipment_id=shipment_id,
        )
        return Issued(document, created=True)

    return work


def correct_document(
    uow: UnitOfWork, document_id: int, actor: Actor, *, clock: Clock = utc_now
) -> IssuedDocument:
    """Issue a correction: a new document from the order and requisites as they are now,
    naming the one it corrects (which stays as it was)."""
    return atomically(uow, _correcting(document_id, actor, clock))


def correct_document_once(
    uow: UnitOfWork,
    document_id: int,
    actor: Actor,
    *,
    idempotency: Idempotency | None,
    respond: Callable[[IssuedDocument], Answer],
    clock: Clock = utc_now,
) -> Answer:
    """:func:`correct_document` whose answer a repeat with the same key gets again."""
    work = _correcting(document_id, actor, clock)
    return atomically(uow, lambda uow: once(uow, CORRECT_SCOPE, idempotency, work, respond))


def _correcting(
    document_id: int, actor: Actor, clock: Clock
) -> Callable[[UnitOfWork], IssuedDocument]:
    def work(uow: UnitOfWork) -> IssuedDocument:
        original = uow.documents.get(document_id)
        if original is None:
            raise DocumentNotFound(document_id=document_id)
        if original.corrected_by is not None:
            raise CorrectionExists(document_id=document_id, correction_id=original.corrected_by)
        if original.order_id is None:
            raise DocumentNotFound(document_id=document_id)
        order = _order(uow, original.order_id)
        parties = parties_of(uow, order)
        if parties.seller.id != original.seller_id:  # the series stays the original seller's
            seller = uow.legal_entities.get_by_id(original.seller_id)
            assert seller is not None
            parties = OrderParties(seller, parties.buyer)
        if original.shipment_id is not None:
            shipment = _packed_shipment(uow, original.shipment_id, original.kind)
            subject = subject_for_shipment(uow, order, shipment, parties)
        else:
            subject = subject_for_order(uow, order, parties)
        check_ready(original.kind, original.upd_status, subject)
        return _store(
            uow,
            kind=original.kind,
            seller_id=original.seller_id,
            time_zone=original.time_zone,
            order_id=original.order_id,
            subject=subject,
            upd_status=original.upd_status,
            actor=actor,
            clock=clock,
            corrects=original,
            shipment_id=original.shipment_id,
        )

    return work


# ---------------------------------------------------------------------- reading


def get_document(uow: UnitOfWork, document_id: int) -> IssuedDocument:
    def work(uow: UnitOfWork) -> IssuedDocument:
        document = uow.documents.get(document_id)
        if document is None:
            raise DocumentNotFound(document_id=document_id)
        return document

    return reading(uow, work)


def list_documents(
    uow: UnitOfWork,
    *,
    order_id: int | None = None,
    kind: DocumentKind | None = None,
    seller: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    shipment_id: int | None = None,
    within: OrderFilter | None = None,
) -> DocumentPage:
    """Documents newest first; ``within`` (a limited caller's channel and warehouses) keeps
    those of its orders."""
    return reading(
        uow,
        lambda uow: uow.documents.list(
            order_id=order_id,
            kind=kind,
            seller=seller,
            cursor=cursor,
            limit=limit,
            shipment_id=shipment_id,
            within=within,
        ),
    )


def document_file(
    uow: UnitOfWork, document_id: int, fmt: FileFormat, *, clock: Clock = utc_now
) -> StoredFile:
    """A document's PDF, or its УПД XML (made and stored on first request)."""
    stored = reading(uow, lambda uow: _file_or_document(uow, document_id, fmt))
    if isinstance(stored, StoredFile):
        return stored
    document = stored
    if fmt is not FileFormat.XML or document.kind is not DocumentKind.UPD:
        raise FormatNotAvailable(
            document_id=document_id,
            kind=document.kind.value,
            format=fmt.value,
            hint="download it as pdf",
        )
    subject = _with_current_edo_ids(uow, document)
    check_xml_ready(subject)

    def work(uow: UnitOfWork) -> StoredFile:
        existing = uow.documents.file(document_id, fmt)
        if existing is not None:  # made by a request that came first
            return existing
        name, content = render_xml(document.heading, subject)
        return uow.documents.add_file(document_id, fmt, name, content, clock())

    return atomically(uow, work)


def _file_or_document(
    uow: UnitOfWork, document_id: int, fmt: FileFormat
) -> StoredFile | IssuedDocument:
    found = uow.documents.file(document_id, fmt)
    if found is not None:
        return found
    document = uow.documents.get(document_id)
    if document is None:
        raise DocumentNotFound(document_id=document_id)
    return document


def _with_current_edo_ids(uow: UnitOfWork, document: IssuedDocument) -> Subject:
    """The subject with the parties' ЭДО ids as they are now: the ids only address the
    file (its name); they are not part of what the document says."""
    subject = document.subject

    def refreshed(party_code: str | None, current: str | None) -> str | None:
        if party_code is None:
            return current
        entity = reading(uow, lambda uow: uow.legal_entities.get(party_code))
        return entity.edo_id if entity is not None and entity.edo_id else current

    seller = replace(subject.seller, edo_id=refreshed(subject.seller.code, subject.seller.edo_id))
    buyer = replace(subject.buyer, edo_id=refreshed(subject.buyer.code, subject.buyer.edo_id))
    return replace(subject, seller=seller, buyer=buyer)
