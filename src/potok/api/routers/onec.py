"""1C's exchange with Potok as a site: the one address 1C:Enterprise calls, CommerceML 2.

1C adds ``type`` (``catalog`` or ``sale``) and ``mode`` to the address it is given and reads
the answer's lines: ``success``, ``progress`` or ``failure`` and a reason. It signs in with
HTTP Basic credentials (an API key's name as the user, the key as the password; the key
needs the ``erp:exchange`` scope) on ``checkauth``, and carries the cookie it gets there
through the other steps:

* ``init`` answers ``zip=yes|no`` and ``file_limit=<bytes>`` (the largest part of a file
  1C may send in one request) and forgets what an earlier, broken-off exchange uploaded;
* ``file`` (POST, the file as the body) keeps one part of ``filename``;
* ``import`` applies ``filename`` (``import.xml``: the catalogue; ``offers.xml``: prices
  and stock), or takes it from a zip uploaded in the same exchange;
* ``query`` (sale) answers the orders 1C has not taken yet as a CommerceML document, and
  ``success`` marks them taken; ``file`` (sale) takes 1C's changes of orders.

A file that is refused is answered ``failure`` and a line that names the file, the line
and the element; nothing of it is applied.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from potok.api.problems import responses
from potok.api.scope import Reach, reach
from potok.api.security import needs, resolve_basic, security_of
from potok.bootstrap import Potok
from potok.connectors.onec import documents, reading
from potok.domain.access import Permission, Principal
from potok.domain.access.model import BadCredentials, NotAuthenticated
from potok.domain.erp import ExchangeFileRefused, ExchangeKind, ExchangeNotStarted
from potok.domain.kernel import utc_now
from potok.services import onec_exchange, onec_orders
from potok.services.onec_exchange import COOKIE, ExchangeRules
from potok.services.onec_ports import ExchangeSession

router = APIRouter(prefix="/api/v1/exchange", tags=["1C exchange"])

TEXT = "text/plain; charset=utf-8"


class Mode(StrEnum):
    checkauth = "checkauth"
    init = "init"
    file = "file"
    import_ = "import"
    query = "query"
    success = "success"
    complete = "complete"
    deactivate = "deactivate"


async def exchange_caller(request: Request) -> None:
    """Who calls: HTTP Basic credentials (an API key), or the cookie of an exchange 1C
    opened; else the ordinary ways (a bearer key), checked by the route's requirement."""
    await run_in_threadpool(_exchange_caller, request)


def _exchange_caller(request: Request) -> None:
    principal = resolve_basic(request)
    token = request.cookies.get(COOKIE)
    if not token:
        return
    found = onec_exchange.session_principal(security_of(request).potok.uow(), token)
    if found is None:
        if principal is None:
            raise BadCredentials()
        return
    owner, session = found
    if principal is not None and principal.key_id != owner.key_id:
        return  # another key's cookie: the exchange is not this caller's
    request.state.principal = principal or owner
    request.state.onec_session = session


def _rules(potok: Potok) -> ExchangeRules:
    settings = potok.settings.onec
    return ExchangeRules(
        warehouses=dict(settings.warehouses),
        price_type=settings.price_type,
        default_vat_rate=settings.default_vat_rate,
        default_warehouse=settings.default_warehouse,
        max_file_bytes=settings.max_file_bytes,
    )


def _answer(*lines: str) -> PlainTextResponse:
    return PlainTextResponse("\n".join(lines) + "\n", media_type=TEXT)


DESCRIPTION = (
    "The address to give 1C in its site exchange settings. Answers are plain text lines "
    "(`success`, `progress`, `failure` and a reason), `query` answers a CommerceML document. "
    "1C signs in with HTTP Basic credentials: the API key's name and the key (scope "
    "`erp:exchange`)."
)
EXCHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The step's answer as 1C reads it (or the orders, for `query`).",
        "content": {TEXT: {"schema": {"type": "string"}}, "application/xml": {}},
    },
    **responses(ExchangeNotStarted),
}
DEPENDENCIES = [
    Depends(exchange_caller),
    needs(Permission.ERP_EXCHANGE),
    reach(Reach.UNLIMITED),
]
ExchangeType = Annotated[ExchangeKind, Query(alias="type", description="catalog or sale")]
ExchangeMode = Annotated[Mode, Query(description="the step of the exchange")]
FileName = Annotated[
    str | None,
    Query(
        max_length=255,
        pattern=r"^[^/\\\x00]+$",
        description="the file a `file` or `import` step is about",
    ),
]


@router.get(
    "/1c",
    summary="1C's site exchange (CommerceML 2): checkauth, init, import, query, success",
    description=DESCRIPTION,
    response_class=PlainTextResponse,
    responses=EXCHANGE_RESPONSES,
    dependencies=DEPENDENCIES,
)
async def exchange_get(
    request: Request, kind: ExchangeType, mode: ExchangeMode, filename: FileName = None
) -> Response:
    return await run_in_threadpool(_step, request, kind, mode, filename, b"")


@router.post(
    "/1c",
    summary="1C's site exchange (CommerceML 2): file uploads (and the other steps)",
    description=DESCRIPTION + " `mode=file` sends one part of `filename` as the body.",
    response_class=PlainTextResponse,
    responses=EXCHANGE_RESPONSES,
    dependencies=DEPENDENCIES,
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/octet-stream": {
                    "schema": {"type": "string", "format": "binary", "maxLength": 1024**3}
                },
                "application/zip": {
                    "schema": {"type": "string", "format": "binary", "maxLength": 1024**3}
                },
                # a part of a file, cut anywhere (even inside a character): bytes, checked
                # as XML only once the file is whole, at mode=import
                "application/xml": {
                    "schema": {"type": "string", "format": "binary", "maxLength": 1024**3}
                },
                "text/xml": {
                    "schema": {"type": "string", "format": "binary", "maxLength": 1024**3}
                },
            },
        }
    },
)
async def exchange_post(
    request: Request, kind: ExchangeType, mode: ExchangeMode, filename: FileName = None
) -> Response:
    body = await request.body() if mode is Mode.file else b""
    return await run_in_threadpool(_step, request, kind, mode, filename, body)


def _step(
    request: Request, kind: ExchangeKind, mode: Mode, filename: str | None, body: bytes
) -> Response:
    potok: Potok = security_of(request).potok
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise NotAuthenticated()
    uow = potok.uow()
    settings = potok.settings.onec
    if mode is Mode.checkauth:
        token = onec_exchange.open_session(uow, principal, kind, hours=settings.session_hours)
        answer = _answer("success", COOKIE, token)
        answer.set_cookie(
            COOKIE,
            token,
            max_age=int(settings.session_hours * 3600),
            httponly=True,
            samesite="strict",
            secure=potok.settings.security.cookie_secure and request.url.scheme == "https",
        )
        return answer
    session: ExchangeSession | None = getattr(request.state, "onec_session", None)
    if session is None:
        return _answer("failure", "Start the exchange with mode=checkauth and send its cookie.")
    if mode is Mode.init:
        onec_exchange.start(uow, session)
        limit = min(settings.file_limit_bytes, potok.settings.api.max_body_bytes)
        return _answer(f"zip={'yes' if settings.zip else 'no'}", f"file_limit={limit}")
    if mode in (Mode.complete, Mode.deactivate):
        return _answer("success")
    try:
        if mode is Mode.file:
            if not filename:
                return _answer("failure", "mode=file needs a filename.")
            if not body:
                return _answer("failure", f"The part of {filename} arrived empty.")
            onec_exchange.receive(uow, session, filename, body)
            if kind is ExchangeKind.SALE:
                return _order_changes(potok, uow, principal, session, filename)
            return _answer("success")
        if kind is ExchangeKind.SALE and mode is Mode.query:
            return _orders(potok, uow, principal, session)
        if kind is ExchangeKind.SALE and mode is Mode.success:
            taken = onec_orders.confirm_sent(uow, session)
            return _answer("success", f"{taken} orders taken")
        if mode is Mode.import_:
            if kind is not ExchangeKind.CATALOG:
                return _answer("failure", "mode=import is a step of type=catalog.")
            if not filename:
                return _answer("failure", "mode=import needs a filename.")
            return _import(potok, uow, principal, session, filename)
    except ExchangeFileRefused as refused:
        return _answer("failure", refused.detail)
    return _answer("failure", f"mode={mode.value} is not a step of type={kind.value}.")


def _orders(potok: Potok, uow: Any, principal: Principal, session: ExchangeSession) -> Response:
    settings = potok.settings.onec
    outgoing = onec_orders.orders_to_send(
        uow, session, limit=settings.orders_per_query, channel=principal.channel
    )
    content = documents.orders_document(
        outgoing.orders,
        at=utc_now(),
        zone=settings.time_zone,
        item_ids=outgoing.item_ids,
        personal=principal.sees_personal_data,
    )
    return Response(content, media_type="application/xml; charset=utf-8")


def _order_changes(
    potok: Potok, uow: Any, principal: Principal, session: ExchangeSession, filename: str
) -> Response:
    rules = _rules(potok)
    content = onec_exchange.uploaded(uow, session, filename, limit=rules.max_file_bytes) or b""
    schema_file = potok.settings.onec.schema_file
    schema = reading.schema_at(schema_file) if schema_file else None
    try:
        root = reading.parse(content, filename, schema=schema)
        applied = onec_orders.apply_changes(
            uow,
            reading.read_order_changes(root, filename),
            principal.actor,
            file=filename,
            channel=principal.channel,
        )
    finally:
        onec_exchange.start(uow, session)  # the next file of this name starts afresh
    return _answer(
        "success",
        f"{filename}: {applied.cancelled} orders cancelled, {applied.paid} paid",
        *applied.refused,
    )


def _import(
    potok: Potok, uow: Any, principal: Principal, session: ExchangeSession, filename: str
) -> Response:
    rules = _rules(potok)
    content = onec_exchange.uploaded(uow, session, filename, limit=rules.max_file_bytes)
    if content is None:
        return _answer("failure", f"No file {filename} was uploaded in this exchange.")
    schema_file = potok.settings.onec.schema_file
    schema = reading.schema_at(schema_file) if schema_file else None
    root = reading.parse(content, filename, schema=schema)
    kind = reading.kind_of(root)
    if kind == "catalogue":
        applied = onec_exchange.import_catalogue(
            uow, reading.read_catalogue(root, filename), file=filename, rules=rules
        )
    elif kind == "offers":
        applied = onec_exchange.import_offers(
            uow, reading.read_offers(root, filename), principal.actor, file=filename, rules=rules
        )
    else:
        return _answer("failure", f"{filename} holds neither a catalogue nor offers.")
    return _answer(
        "success",
        f"{applied.file}: {applied.products_created} products created, "
        f"{applied.products_changed} changed, {applied.levels_changed} stock levels changed",
    )
