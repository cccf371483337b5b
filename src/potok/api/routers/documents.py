"""Legal entities, the buyer of a B2B order, and the documents of orders and shipments.

Documents belong to orders (a shipment's to its order): a channel-bound key sees its
channel's orders' documents,
warehouse staff those of their warehouses' orders; anything else is not found. Legal
entities span every channel: callers limited to some channels or warehouses read the
sellers (whose requisites every document prints anyway) and nothing else, and change none.
"""

from __future__ import annotations

import hashlib
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import ExpectedVersion, Uow
from potok.api.problems import responses
from potok.api.responses import json_response, plain
from potok.api.routers.shipments import ShipmentIdPath
from potok.api.schemas.documents import (
    BuyerIn,
    DocumentIn,
    DocumentOut,
    DocumentPageOut,
    LegalEntityIn,
    LegalEntityOut,
    LegalEntityPageOut,
    render_document,
    render_legal_entity,
    upd_status_of,
)
from potok.api.schemas.orders import OrderOut, render_order
from potok.api.scope import (
    Reach,
    ensure_shipment,
    ensure_visible,
    limited,
    narrow,
    reach,
    visible,
)
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.access.model import OutOfScope
from potok.domain.documents import (
    ChannelHasSeller,
    CorrectionExists,
    DocumentKind,
    DocumentNotFound,
    DocumentsForCancelledOrder,
    EntityRole,
    FileFormat,
    FormatNotAvailable,
    IssuedDocument,
    LegalEntity,
    LegalEntityExists,
    LegalEntityNotFound,
    RequisitesMissing,
    SellerMissing,
    SellerNotVatPayer,
)
from potok.domain.documents.errors import PaperNotReady
from potok.domain.errors import FieldError, InvalidInput, StaleVersion
from potok.domain.fulfilment import ShipmentNotFound
from potok.domain.orders import OrderNotFound
from potok.domain.orders.errors import IdempotencyKeyReused, OrderClosed
from potok.services import documents as document_service
from potok.services import legal_entities as entity_service
from potok.services import orders as order_service
from potok.services.idempotent import Answer, Idempotency
from potok.services.legal_entities import DefaultSellerExists
from potok.services.read_models import OrderFilter
from potok.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["documents"])

CodePath = Annotated[str, Path(max_length=64, description="The legal entity's code.")]
OrderIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="The order's number.")]
DocumentIdPath = Annotated[int, Path(ge=1, le=2**63 - 1, description="The document's id.")]
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=500)]
IDEMPOTENCY_HEADER = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "Makes retries of this request safe (at most 255 characters).",
            "schema": {"type": "string", "maxLength": 255},
        }
    ]
}


def _idempotency(request: Request, principal: Principal, body: bytes) -> Idempotency | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= 255:
        raise InvalidInput(
            [FieldError("Idempotency-Key", "must be 1-255 characters", "bad-idempotency-key")]
        )
    digest = hashlib.sha256(request.url.path.encode() + b"\n" + body).hexdigest()
    return Idempotency(f"{principal.actor}:{key}", digest)


def _answer(answer: Answer) -> Response:
    return json_response(answer.body, answer.status_code)


# ---------------------------------------------------------------------- legal entities


def _reachable(caller: Principal, entity: LegalEntity) -> LegalEntity:
    """Limited callers reach the sellers only; a buyer is not there for them."""
    if limited(caller) and entity.role is not EntityRole.SELLER:
        raise LegalEntityNotFound(code=entity.code)
    return entity


def _visible_entity(uow: UnitOfWork, caller: Principal, code: str) -> None:
    _reachable(caller, entity_service.get_legal_entity(uow, code))


def _unlimited(caller: Principal) -> None:
    if limited(caller):
        raise OutOfScope(
            who=f"'{caller.name}'",
            why="works for some channels or warehouses only; legal entities serve them all",
        )


@router.post(
    "/legal-entities",
    status_code=201,
    response_model=LegalEntityOut,
    summary="Register a seller or a B2B buyer",
    description="ИНН, КПП, ОГРН, БИК and each account's key against its БИК are checked on "
    "entry; every wrong field is named at once. A seller lists the channels whose orders it "
    "sells (`channels`), or is the default for every other channel (`is_default`).",
    responses=responses(
        InvalidInput, LegalEntityExists, ChannelHasSeller, DefaultSellerExists, OutOfScope
    ),
    openapi_extra=IDEMPOTENCY_HEADER,
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.UNLIMITED)],
)
def create_legal_entity(
    body: LegalEntityIn, request: Request, uow: Uow, caller: Caller
) -> Response:
    _unlimited(caller)
    idempotency = _idempotency(request, caller, body.model_dump_json().encode())
    answer = entity_service.create_legal_entity_once(
        uow,
        body.draft(),
        idempotency=idempotency,
        respond=lambda entity: Answer(201, plain(render_legal_entity(entity).model_dump())),
    )
    return _answer(answer)


@router.get(
    "/legal-entities",
    response_model=LegalEntityPageOut,
    summary="Sellers and buyers, in the order they were registered",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.LISTED)],
)
def list_legal_entities(
    uow: Uow,
    caller: Caller,
    role: EntityRole | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> LegalEntityPageOut:
    if limited(caller):
        if role is EntityRole.BUYER:
            return LegalEntityPageOut(items=[], next_cursor=None)
        role = EntityRole.SELLER
    page = entity_service.list_legal_entities(uow, role=role, cursor=cursor, limit=limit)
    return LegalEntityPageOut(
        items=[render_legal_entity(e) for e in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/legal-entities/{code}",
    response_model=LegalEntityOut,
    summary="One legal entity with its requisites",
    responses=responses(LegalEntityNotFound),
    dependencies=[
        needs(Permission.CATALOGUE_READ),
        reach(Reach.RECORD, "code", finder=_visible_entity),
    ],
)
def get_legal_entity(code: CodePath, uow: Uow, caller: Caller) -> LegalEntityOut:
    return render_legal_entity(_reachable(caller, entity_service.get_legal_entity(uow, code)))


@router.put(
    "/legal-entities/{code}",
    response_model=LegalEntityOut,
    summary="Replace a legal entity's requisites",
    description="The code and the role stay. Documents issued before keep the requisites "
    "they were issued with; a correction picks up the new ones.",
    responses=responses(
        InvalidInput, LegalEntityNotFound, LegalEntityExists, ChannelHasSeller, DefaultSellerExists
    ),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.UNLIMITED)],
)
def replace_legal_entity(
    code: CodePath, body: LegalEntityIn, uow: Uow, caller: Caller
) -> LegalEntityOut:
    _reachable(caller, entity_service.get_legal_entity(uow, code))
    _unlimited(caller)
    return render_legal_entity(entity_service.replace_legal_entity(uow, code, body.draft()))


# ---------------------------------------------------------------------- an order's buyer


@router.put(
    "/orders/{order_id}/buyer",
    response_model=OrderOut,
    summary="Sell a B2B order to a registered buyer",
    description="Documents of the order then name this company as the buyer (payer and, "
    "with the order's delivery address, consignee). `null` sells it to its customer again. "
    "Recorded in the order's history; send `If-Match` with the order's version.",
    responses=responses(
        OrderNotFound, LegalEntityNotFound, OrderClosed, StaleVersion, InvalidInput
    ),
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.ORDER)],
)
def set_order_buyer(
    order_id: OrderIdPath,
    body: BuyerIn,
    uow: Uow,
    caller: Caller,
    expected_version: ExpectedVersion,
) -> Response:
    ensure_visible(uow, caller, order_id)
    view = document_service.set_order_buyer(
        uow, order_id, body.legal_entity, caller.actor, expected_version=expected_version
    )
    order = view.order
    return json_response(
        render_order(order, view.history, mask=not caller.sees_personal_data),
        headers={"ETag": f'"{order.version}"'},
    )


# ---------------------------------------------------------------------- documents


def _visible_document(uow: UnitOfWork, caller: Principal, document_id: int) -> IssuedDocument:
    document = document_service.get_document(uow, document_id)
    if limited(caller) and (
        document.order_id is None
        or not visible(caller, order_service.get_order(uow, document.order_id).order)
    ):
        raise DocumentNotFound(document_id=document_id)
    return document


@router.post(
    "/orders/{order_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    summary="Issue a document of an order (or get the one issued)",
    description="Numbers the document in its seller's series for the kind and the year, "
    "renders the PDF and stores both: `201`. An order has one document of each kind; asking "
    "again answers the one issued (`200`), the same bytes. A document that would print empty "
    "required places is refused with `requisites-missing`, listing what to fill in.",
    responses=responses(
        OrderNotFound,
        SellerMissing,
        RequisitesMissing,
        SellerNotVatPayer,
        DocumentsForCancelledOrder,
        IdempotencyKeyReused,
        InvalidInput,
    ),
    openapi_extra=IDEMPOTENCY_HEADER,
    dependencies=[needs(Permission.ORDERS_MANAGE), reach(Reach.ORDER)],
)
def issue_document(
    order_id: OrderIdPath, body: DocumentIn, request: Request, uow: Uow, caller: Caller
) -> Response:
    ensure_visible(uow, caller, order_id)
    if body.upd_status is not None and body.kind is not DocumentKind.UPD:
        raise InvalidInput([FieldError("upd_status", "only an УПД has a status", "not-applicable")])
    answer = document_service.issue_document_once(
        uow,
        order_id,
        body.kind,
        caller.actor,
        idempotency=_idempotency(request, caller, body.model_dump_json().encode()),
        upd_status=upd_status_of(body.upd_status),
        respond=lambda issued: Answer(
            201 if issued.created else 200,
            plain(render_document(issued.document).model_dump()),
        ),
    )
    return _answer(answer)


@router.post(
    "/shipments/{shipment_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    summary="Issue a shipment's ТОРГ-12 or УПД (or get the one issued)",
    description="What the shipment packed, at the order's prices, each marked unit with the "
    "marking code captured at packing, its parcels, carrier and tracking number; numbered "
    "in the seller's series like the order's documents. Once packed (`paper-not-ready` "
    "before). An УПД of marked goods whose codes were not all captured is refused with "
    "`requisites-missing`, naming each product and how many codes are missing. A shipment "
    "has one document of each kind; asking again answers the one issued (`200`).",
    responses=responses(
        ShipmentNotFound,
        PaperNotReady,
        SellerMissing,
        RequisitesMissing,
        SellerNotVatPayer,
        IdempotencyKeyReused,
        InvalidInput,
    ),
    openapi_extra=IDEMPOTENCY_HEADER,
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.SHIPMENT)],
)
def issue_shipment_document(
    shipment_id: ShipmentIdPath, body: DocumentIn, request: Request, uow: Uow, caller: Caller
) -> Response:
    ensure_shipment(uow, caller, shipment_id)
    if body.upd_status is not None and body.kind is not DocumentKind.UPD:
        raise InvalidInput([FieldError("upd_status", "only an УПД has a status", "not-applicable")])
    answer = document_service.issue_shipment_document_once(
        uow,
        shipment_id,
        body.kind,
        caller.actor,
        idempotency=_idempotency(request, caller, body.model_dump_json().encode()),
        upd_status=upd_status_of(body.upd_status),
        respond=lambda issued: Answer(
            201 if issued.created else 200,
            plain(render_document(issued.document).model_dump()),
        ),
    )
    return _answer(answer)


@router.get(
    "/documents",
    response_model=DocumentPageOut,
    summary="Issued documents, newest first",
    responses=responses(InvalidInput),
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)],
)
def list_documents(
    uow: Uow,
    caller: Caller,
    order_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    shipment_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    kind: DocumentKind | None = None,
    seller: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DocumentPageOut:
    page = document_service.list_documents(
        uow,
        order_id=order_id,
        shipment_id=shipment_id,
        kind=kind,
        seller=seller,
        cursor=cursor,
        limit=limit,
        within=narrow(caller, OrderFilter()) if limited(caller) else None,
    )
    return DocumentPageOut(
        items=[render_document(d) for d in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/documents/{document_id}",
    response_model=DocumentOut,
    summary="One issued document",
    responses=responses(DocumentNotFound),
    dependencies=[
        needs(Permission.ORDERS_READ),
        reach(Reach.RECORD, "document_id", finder=_visible_document),
    ],
)
def get_document(document_id: DocumentIdPath, uow: Uow, caller: Caller) -> DocumentOut:
    return render_document(_visible_document(uow, caller, document_id))


def _download(uow: Uow, caller: Principal, document_id: int, fmt: FileFormat) -> Response:
    _visible_document(uow, caller, document_id)
    stored = document_service.document_file(uow, document_id, fmt)
    media = "application/pdf" if fmt is FileFormat.PDF else "application/xml; charset=windows-1251"
    return Response(
        stored.content,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(stored.name)}",
            "ETag": f'"{stored.sha256}"',
        },
    )


@router.get(
    "/documents/{document_id}/pdf",
    summary="The document as PDF, byte for byte as issued",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The PDF."},
        **responses(DocumentNotFound),
    },
    dependencies=[
        needs(Permission.ORDERS_READ),
        reach(Reach.RECORD, "document_id", finder=_visible_document),
    ],
)
def download_pdf(document_id: DocumentIdPath, uow: Uow, caller: Caller) -> Response:
    return _download(uow, caller, document_id, FileFormat.PDF)


@router.get(
    "/documents/{document_id}/xml",
    summary="The УПД as its ЭДО exchange file (XML 5.03, windows-1251)",
    description="Made on the first request and kept from then on. Needs both parties' ЭДО "
    "ids and the seller's signing head; otherwise `requisites-missing` lists what to fill in.",
    response_class=Response,
    responses={
        200: {"content": {"application/xml": {}}, "description": "The XML file."},
        **responses(DocumentNotFound, FormatNotAvailable, RequisitesMissing),
    },
    dependencies=[
        needs(Permission.ORDERS_READ),
        reach(Reach.RECORD, "document_id", finder=_visible_document),
    ],
)
def download_xml(document_id: DocumentIdPath, uow: Uow, caller: Caller) -> Response:
    return _download(uow, caller, document_id, FileFormat.XML)


@router.post(
    "/documents/{document_id}/corrections",
    status_code=201,
    response_model=DocumentOut,
    summary="Correct a document: issue a new one that names it",
    description="Made from the order and the requisites as they are now. An УПД keeps its "
    "number and date and says «Исправление № n от …»; other kinds take the next number and "
    "say which document they replace. The corrected document stays as it was.",
    responses=responses(
        DocumentNotFound,
        CorrectionExists,
        SellerMissing,
        RequisitesMissing,
        IdempotencyKeyReused,
        InvalidInput,
    ),
    openapi_extra=IDEMPOTENCY_HEADER,
    dependencies=[
        needs(Permission.ORDERS_MANAGE),
        reach(Reach.RECORD, "document_id", finder=_visible_document),
    ],
)
def correct_document(
    document_id: DocumentIdPath, request: Request, uow: Uow, caller: Caller
) -> Response:
    _visible_document(uow, caller, document_id)
    answer = document_service.correct_document_once(
        uow,
        document_id,
        caller.actor,
        idempotency=_idempotency(request, caller, b""),
        respond=lambda document: Answer(201, plain(render_document(document).model_dump())),
    )
    return _answer(answer)
