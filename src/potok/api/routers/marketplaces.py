"""Marketplace connections: connect an account, read health and journal, poll now.

A channel's API key sees the connections of its own channel only; others are 404.
"""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from potok import __version__
from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.schemas.common import Code
from potok.api.schemas.marketplaces import (
    BackfillIn,
    BackfillOut,
    CatalogueMatchOut,
    ConnectionIn,
    ConnectionOut,
    ConnectionPatch,
    ItemPage,
    ItemsIn,
    JournalEntryOut,
    MappedOut,
    PollOut,
    StockPushOut,
)
from potok.api.scope import Reach, reach
from potok.api.security import Caller, client_ip, needs, public, security_of
from potok.connectors.marketplaces import MarketplaceNotSupported
from potok.connectors.marketplaces.ozon_push import (
    MISSING,
    PING,
    UNKNOWN,
    NotificationRefused,
    error_answer,
    from_ozon,
    networks,
    ping_answer,
    read_notification,
)
from potok.connectors.marketplaces.yandex_market_push import UNKNOWN as MARKET_UNKNOWN
from potok.connectors.marketplaces.yandex_market_push import WRONG_FORMAT as MARKET_WRONG_FORMAT
from potok.connectors.marketplaces.yandex_market_push import (
    NotificationRefused as MarketNotificationRefused,
)
from potok.connectors.marketplaces.yandex_market_push import answer as market_answer
from potok.connectors.marketplaces.yandex_market_push import error_answer as market_error_answer
from potok.connectors.marketplaces.yandex_market_push import (
    read_notification as read_market_notification,
)
from potok.domain.access import Permission, Principal
from potok.domain.channels import ChannelNotFound
from potok.domain.errors import FieldError, InvalidInput, TransientConflict, Unavailable
from potok.domain.marketplaces import (
    Connection,
    ConnectionChanges,
    ConnectionCodeTaken,
    ConnectionDraft,
    ConnectionNotFound,
    Credentials,
    ItemMapping,
    ItemNotMapped,
    Marketplace,
)
from potok.domain.marketplaces.crm import BackfillNotFound, NotACrm
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import marketplaces as service
from potok.services.marketplaces.notifications import (
    ozon_connection,
    push_secret,
    pushing_connection,
    take_market_notification,
    take_ozon_notification,
)
from potok.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/api/v1/marketplaces", tags=["marketplaces"])

CodePath = Annotated[str, Path(min_length=1, max_length=64, description="The connection.")]


def render(connection: Connection) -> dict[str, object]:
    lag = connection.lag(datetime.now(UTC))
    return {
        "code": connection.code,
        "marketplace": connection.marketplace.value,
        "channel": connection.channel_code,
        "base_url": connection.base_url,
        "warehouses": dict(connection.warehouses),
        "poll_every_s": connection.poll_every_s,
        "active": connection.active,
        "health": connection.health.value,
        "last_poll_at": connection.last_poll_at,
        "last_success_at": connection.last_success_at,
        "lag_s": int(lag.total_seconds()) if lag is not None else None,
        "last_error": connection.last_error,
        "failures": connection.failures,
        "rate_limit_waits": connection.rate_limit_waits,
        "rate_limit_wait_s": round(connection.rate_limit_wait_s, 3),
        "imported": connection.imported,
        "kept_aside": connection.open_journal,
        "created_at": connection.created_at,
    }


def visible(uow: UnitOfWork, caller: Principal, code: str) -> Connection:
    connection = service.get_connection(uow, code)
    if caller.channel is not None and connection.channel_code != caller.channel:
        raise ConnectionNotFound(connection=code)
    return connection


@router.post(
    "",
    status_code=201,
    response_model=ConnectionOut,
    summary="Connect a marketplace account to a sales channel",
    description="The token is stored encrypted and never returned. `warehouses` maps the "
    "marketplace's warehouse ids to Potok locations; an order from an unmapped warehouse "
    "waits in the journal.",
    responses=responses(
        InvalidInput,
        ChannelNotFound,
        ConnectionCodeTaken,
        MarketplaceNotSupported,
        IdempotencyKeyReused,
        TransientConflict,
    ),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.NAMED)],
)
def connect(
    body: ConnectionIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    if caller.channel is not None and body.channel != caller.channel:
        raise ChannelNotFound(channel=body.channel)
    kind = Marketplace(body.marketplace)
    clients = security_of(request).potok.marketplaces
    draft = ConnectionDraft(
        code=body.code,
        marketplace=kind,
        channel=body.channel,
        credentials=Credentials(body.token, body.client_id),
        base_url=body.base_url or clients.default_url(kind),
        warehouses=body.warehouses,
        poll_every_s=body.poll_every_s,
    )

    def rendered(connection: Connection) -> tuple[int, object]:
        return 201, render(connection)

    response = answer(
        request,
        "connect-marketplace",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: service.connect_marketplace(uow, draft, caller.actor, once=once),
        rendered,
    )
    response.headers["Location"] = f"{router.prefix}/{body.code}"
    return response


@router.get(
    "",
    response_model=list[ConnectionOut],
    summary="Marketplace connections and their health",
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.LISTED)],
)
def list_connections(uow: Uow, caller: Caller) -> Response:
    found = service.list_connections(uow)
    return json_response([render(c) for c in found if caller.channel in (None, c.channel_code)])


@router.get(
    "/{code}",
    response_model=ConnectionOut,
    summary="One connection: last success, lag, errors, rate-limit waits",
    responses=responses(ConnectionNotFound),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.RECORD, "code", finder=visible)],
)
def get_connection(code: CodePath, uow: Uow, caller: Caller) -> Response:
    return json_response(render(visible(uow, caller, code)))


@router.patch(
    "/{code}",
    response_model=ConnectionOut,
    summary="Change a connection: a new token, the host, the warehouse map, the schedule, "
    "pause or resume",
    responses=responses(ConnectionNotFound, InvalidInput, TransientConflict),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=visible)],
)
def change_connection(code: CodePath, body: ConnectionPatch, uow: Uow, caller: Caller) -> Response:
    current = visible(uow, caller, code)
    if body.client_id is not None and body.token is None:
        raise InvalidInput(
            [FieldError("client_id", "send the token with a new client_id", "token-required")]
        )
    changes = ConnectionChanges(
        credentials=Credentials(body.token, body.client_id) if body.token is not None else None,
        base_url=body.base_url,
        warehouses=body.warehouses,
        poll_every_s=body.poll_every_s,
        active=body.active,
    )
    return json_response(
        render(service.change_connection(uow, current.code, changes, caller.actor))
    )


@router.post(
    "/{code}/polls",
    response_model=PollOut,
    summary="Poll the marketplace now: import new orders, follow open ones",
    description="Answers 200 with what the poll did also when the marketplace failed: "
    "`error` says how (and `refused` whether it refused the token).",
    responses=responses(ConnectionNotFound, TransientConflict),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=visible)],
)
def poll_now(code: CodePath, request: Request, uow: Uow, caller: Caller) -> Response:
    potok = security_of(request).potok
    visible(uow, caller, code)
    outcome = service.poll_marketplace(
        uow, potok.marketplaces, code, batch=potok.settings.marketplaces.import_batch
    )
    return json_response(
        {
            "connection": outcome.connection,
            "seen": outcome.seen,
            "imported": outcome.imported,
            "repeated": outcome.repeated,
            "kept_aside": outcome.kept_aside,
            "followed": outcome.followed,
            "cancelled": outcome.cancelled,
            "packed": outcome.packed,
            "handed_over": outcome.handed_over,
            "cancelled_there": outcome.cancelled_there,
            "push_failed": outcome.push_failed,
            "waiting": outcome.waiting,
            "stickers": outcome.stickers,
            "returns_opened": outcome.returns_opened,
            "returns_followed": outcome.returns_followed,
            "crm_changes": outcome.crm_changes,
            "crm_refused": outcome.crm_refused,
            "error": outcome.error,
            "refused": outcome.refused,
            "requests": outcome.requests,
            "rate_limit_waits": outcome.rate_limit_waits,
            "waited_s": outcome.waited_s,
        }
    )


@router.get(
    "/{code}/journal",
    response_model=list[JournalEntryOut],
    summary="Orders the connection kept aside, and why",
    responses=responses(ConnectionNotFound),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.RECORD, "code", finder=visible)],
)
def journal(
    code: CodePath,
    uow: Uow,
    caller: Caller,
    resolved: Annotated[bool, Query(description="Resolved entries too.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    connection = visible(uow, caller, code)
    entries = service.read_journal(uow, connection.code, open_only=not resolved, limit=limit)
    return json_response(
        [
            {
                "external_id": e.external_id,
                "kind": e.kind.value,
                "detail": e.detail,
                "first_seen_at": e.first_seen_at,
                "last_seen_at": e.last_seen_at,
                "times_seen": e.times_seen,
                "resolved_at": e.resolved_at,
            }
            for e in entries
        ]
    )


# ---------------------------------------------------------------------- item map


@router.get(
    "/{code}/items",
    response_model=ItemPage,
    summary="The connection's item map: Potok SKU to the marketplace's item, in SKU order",
    responses=responses(ConnectionNotFound),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.RECORD, "code", finder=visible)],
)
def list_items(
    code: CodePath,
    uow: Uow,
    caller: Caller,
    after: Annotated[str | None, Query(max_length=64, description="The last SKU seen.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    connection = visible(uow, caller, code)
    found = service.list_items(uow, connection.code, after=after, limit=limit + 1)
    page = found[:limit]
    return json_response(
        {
            "items": [
                {
                    "sku": m.sku,
                    "item": m.item,
                    "product": m.product,
                    "article": m.article,
                    "barcode": m.barcode,
                }
                for m in page
            ],
            "next_cursor": page[-1].sku if len(found) > limit else None,
        }
    )


@router.patch(
    "/{code}/items",
    response_model=MappedOut,
    summary="Map SKUs to the marketplace's items (the rows given; others stay as they are)",
    description="A SKU or an item mapped before is mapped anew. Every row is checked first; "
    "nothing is stored unless all are right (`422` lists each row's problem).",
    responses=responses(ConnectionNotFound, InvalidInput, TransientConflict),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=visible)],
)
def map_items(code: CodePath, body: ItemsIn, uow: Uow, caller: Caller) -> Response:
    connection = visible(uow, caller, code)
    rows = [
        ItemMapping(r.sku, r.item, product=r.product, article=r.article, barcode=r.barcode)
        for r in body.items
    ]
    return json_response({"mapped": service.map_items(uow, connection.code, rows, caller.actor)})


@router.delete(
    "/{code}/items/{sku}",
    status_code=204,
    summary="Forget the marketplace item of a SKU",
    responses=responses(ConnectionNotFound, ItemNotMapped),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=visible)],
)
def unmap_item(code: CodePath, sku: Code, uow: Uow, caller: Caller) -> Response:
    connection = visible(uow, caller, code)
    if not service.unmap_items(uow, connection.code, [sku], caller.actor):
        raise ItemNotMapped(
            sku=sku, marketplace=connection.marketplace.value, connection=connection.code
        )
    return Response(status_code=204)


@router.post(
    "/{code}/stock-pushes",
    response_model=StockPushOut,
    summary="Push the stock of every mapped SKU now (a full re-sync)",
    description="Answers 200 with what was sent also when the marketplace failed: `error` "
    "says how; `refused` names the items the marketplace turned down, with its words.",
    responses=responses(ConnectionNotFound, TransientConflict),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=visible)],
)
def push_stock(code: CodePath, request: Request, uow: Uow, caller: Caller) -> Response:
    potok = security_of(request).potok
    connection = visible(uow, caller, code)
    outcome = service.push_stock(
        uow,
        potok.marketplaces,
        connection.code,
        reserve=potok.settings.marketplaces.stock_reserve,
    )
    return json_response(
        {
            "connection": outcome.connection,
            "positions": outcome.positions,
            "accepted": outcome.accepted,
            "refused": outcome.refused,
            "later": outcome.later,
            "unmapped": outcome.unmapped,
            "requests": outcome.requests,
            "rate_limit_waits": outcome.rate_limit_waits,
            "error": outcome.error,
        }
    )


def render_backfill(view: service.BackfillView) -> dict[str, object]:
    state = view.backfill
    return {
        "connection": view.connection,
        "state": state.state,
        "done_percent": state.percent,
        "total": state.total,
        "sent": state.sent,
        "created": state.created,
        "updated": state.updated,
        "refused": state.refused,
        "customers": state.customers,
        "requests": state.requests,
        "after_order_id": state.after_order_id,
        "through_order_id": state.through_order_id,
        "last_error": state.last_error,
        "started_at": state.started_at,
        "updated_at": state.updated_at,
        "finished_at": state.finished_at,
    }


@router.post(
    "/{code}/crm-backfills",
    status_code=202,
    response_model=BackfillOut,
    summary="Tell the CRM every order Potok has of the other channels (a back-fill)",
    description="Starts telling a CRM connection (RetailCRM) the orders of the other channels "
    "up to the newest one now, with their customers, 50 a request; the worker tells them, a "
    "few batches a round, resuming where it stopped. A back-fill that is running is answered "
    "as it stands (`restart` starts it over). Follow it with `GET .../crm-backfill`.",
    responses=responses(
        ConnectionNotFound, NotACrm, InvalidInput, IdempotencyKeyReused, TransientConflict
    ),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=visible)],
)
def start_backfill(
    code: CodePath,
    request: Request,
    uow: Uow,
    caller: Caller,
    body: BackfillIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    visible(uow, caller, code)
    given = body or BackfillIn()
    return answer(
        request,
        "crm-backfill",
        caller,
        idempotency_key,
        given.model_dump_json(),
        lambda once: service.start_backfill(uow, code, restart=given.restart, once=once),
        lambda view: (202, render_backfill(view)),
    )


@router.get(
    "/{code}/crm-backfill",
    response_model=BackfillOut,
    summary="Where the CRM connection's back-fill stands",
    responses=responses(ConnectionNotFound, NotACrm, BackfillNotFound),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.RECORD, "code", finder=visible)],
)
def backfill_progress(code: CodePath, uow: Uow, caller: Caller) -> Response:
    visible(uow, caller, code)
    return json_response(render_backfill(service.get_backfill(uow, code)))


@router.post(
    "/{code}/catalogue-matches",
    response_model=CatalogueMatchOut,
    summary="Fill the item map from the marketplace's catalogue now",
    description="Reads the seller's items on the marketplace (Ozon: `/v3/product/list` and "
    "`/v3/product/info/list`) and maps each to the SKU its article names, else to the "
    "product with one of its barcodes; what a person mapped otherwise is kept and reported "
    "in `conflict_notes`. Answers 200 also when the marketplace failed: `error` says how.",
    responses=responses(ConnectionNotFound, TransientConflict),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=visible)],
)
def match_catalogue(code: CodePath, request: Request, uow: Uow, caller: Caller) -> Response:
    potok = security_of(request).potok
    connection = visible(uow, caller, code)
    outcome = service.map_from_catalogue(uow, potok.marketplaces, connection.code, caller.actor)
    return json_response(
        {
            "connection": outcome.connection,
            "listed": outcome.listed,
            "mapped": outcome.mapped,
            "unchanged": outcome.unchanged,
            "unmatched": outcome.unmatched,
            "conflicts": outcome.conflicts,
            "unmatched_items": outcome.unmatched_items,
            "conflict_notes": outcome.conflict_notes,
            "error": outcome.error,
        }
    )


# ---------------------------------------------------------------------- Ozon's notifications

MAX_NOTIFICATION_BYTES = 100_000
_OZON_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {
                    "type": "string",
                    "enum": ["ERROR_UNKNOWN", "ERROR_PARAMETER_VALUE_MISSED"],
                },
                "message": {"type": "string"},
                "details": {"type": "string", "nullable": True},
            },
        }
    },
}
_OZON_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": 'Taken (`{"result": true}`), or a ping answered '
        '(`{"version", "name", "time"}`)',
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["result"],
                            "properties": {"result": {"type": "boolean"}},
                        },
                        {
                            "type": "object",
                            "required": ["version", "name", "time"],
                            "properties": {
                                "version": {"type": "string"},
                                "name": {"type": "string"},
                                "time": {"type": "string", "format": "date-time"},
                            },
                        },
                    ]
                }
            }
        },
    },
    **{
        status: {"description": what, "content": {"application/json": {"schema": _OZON_ERROR}}}
        for status, what in (
            (400, "Not a notification (ERROR_PARAMETER_VALUE_MISSED)"),
            (
                404,
                "No Ozon connection has this code, the URL's secret does not match, or "
                "the caller is not in Ozon's networks (the address exists for Ozon alone)",
            ),
            (503, "Ozon could not be asked about the posting; Ozon sends it again"),
        )
    },
}
_NOTIFICATION_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["message_type"],
                    "properties": {
                        "message_type": {"type": "string", "minLength": 1, "maxLength": 64},
                        "posting_number": {"type": "string", "maxLength": 128},
                        "seller_id": {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
                        "time": {"type": "string", "format": "date-time"},
                    },
                }
            }
        },
    }
}


def _ozon_error(status: int, code: str, message: str) -> Response:
    return json_response(error_answer(code, message), status)


@router.post(
    "/{code}/ozon-notifications",
    response_model=None,
    summary="Ozon's push notifications (new posting, cancellation, status change, ping)",
    description="Called by Ozon, not by people, and answered in Ozon's formats: "
    '`{"result": true}` when taken, `{"version", "name", "time"}` to `TYPE_PING`, '
    '`{"error": {"code", "message", "details"}}` otherwise. Ozon signs nothing: a call '
    "is taken only from Ozon's published networks (setting `marketplaces.ozon_push_networks`) "
    "and with the connection's `secret` in the URL (`potok marketplaces push-url CODE`). A "
    "posting's notification makes Potok read the posting back from Ozon and import or follow "
    "it as a poll would (idempotent by `posting_number`); the poll stays the safety net.",
    responses=_OZON_ANSWERS,
    openapi_extra=_NOTIFICATION_BODY,
    dependencies=[public(), reach(Reach.UNLIMITED)],  # Ozon calls without credentials
)
async def ozon_notification(
    code: CodePath,
    request: Request,
    uow: Uow,
    secret: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    potok = security_of(request).potok
    allowed = networks(potok.settings.marketplaces.ozon_push_networks)
    if not from_ozon(client_ip(request), allowed):
        return _ozon_error(404, UNKNOWN, "notifications are taken from Ozon's networks only")
    if secret is None or not hmac.compare_digest(
        secret.encode(), push_secret(potok.protector, code).encode()
    ):
        return _ozon_error(404, UNKNOWN, "the URL's secret does not match the connection")
    try:
        await run_in_threadpool(ozon_connection, uow, code)
    except ConnectionNotFound:
        return _ozon_error(404, UNKNOWN, f"no Ozon connection '{code}'")
    raw = await request.body()
    if len(raw) > MAX_NOTIFICATION_BYTES:
        too_long = f"a notification carries at most {MAX_NOTIFICATION_BYTES} bytes"
        return _ozon_error(400, MISSING, too_long)
    try:
        notification = read_notification(json.loads(raw) if raw else None)
    except ValueError as error:  # not JSON, or NotificationRefused
        code_ = error.code if isinstance(error, NotificationRefused) else MISSING
        return _ozon_error(400, code_, str(error) or "the body is not JSON")
    now = datetime.now(UTC)
    if notification.kind == PING:
        return json_response(ping_answer(__version__, now))
    outcome = await run_in_threadpool(
        take_ozon_notification, uow, potok.marketplaces, code, notification
    )
    if outcome.error is not None:
        return _ozon_error(503, UNKNOWN, f"Ozon could not be asked: {outcome.error}")
    return json_response({"result": True})


# ---------------------------------------------------------------------- Market's notifications

_MARKET_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": [MARKET_WRONG_FORMAT, MARKET_UNKNOWN]},
                "message": {"type": "string"},
            },
        }
    },
}
_MARKET_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Taken (Market's `SendNotificationResponse`: `version`, `name`, `time`)",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["version", "name", "time"],
                    "properties": {
                        "version": {"type": "string", "minLength": 1, "maxLength": 100},
                        "name": {"type": "string", "minLength": 1, "maxLength": 100},
                        "time": {"type": "string", "format": "date-time"},
                    },
                }
            }
        },
    },
    **{
        status: {"description": what, "content": {"application/json": {"schema": _MARKET_ERROR}}}
        for status, what in (
            (400, "Not a notification Market sends (WRONG_EVENT_FORMAT)"),
            (
                404,
                "No Yandex Market connection has this code, the URL's secret does not match, "
                "or the caller is not in Market's networks (the address exists for Market alone)",
            ),
            (500, "Market could not be asked about the order (UNKNOWN); Market sends it again"),
            (503, "Potok cannot take it now (UNKNOWN: its database); Market sends it again"),
        )
    },
}
_MARKET_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["notificationType"],
                    "properties": {
                        "notificationType": {"type": "string", "minLength": 1, "maxLength": 64},
                        "orderId": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                        "campaignId": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                        "time": {"type": "string", "format": "date-time"},
                    },
                }
            }
        },
    }
}
SecretPath = Annotated[
    str,
    Path(min_length=1, max_length=64, description="The connection's URL secret (push-url)."),
]


def _market_error(status: int, kind: str, message: str) -> Response:
    return json_response(market_error_answer(kind, message), status)


@router.post(
    "/{code}/yandex-market/{token}/notification",
    response_model=None,
    summary="Yandex Market's API notifications (new order, cancelled, status changed, "
    "cancellation requested, returns, ping)",
    description="Called by Yandex Market, not by people, and answered in Market's formats "
    "(its notification API document): `{version, name, time}` when taken, "
    '`{"error": {"type", "message"}}` otherwise. Market signs nothing: a call is taken only '
    "from Market's published networks (setting `marketplaces.yandex_market_push_networks`) "
    "and with the connection's secret in the URL (`potok marketplaces push-url CODE`). An "
    "order's notification makes Potok read the order back from Market and import or follow "
    "it as a poll would (idempotent by `orderId`); the poll stays the safety net.",
    responses=_MARKET_ANSWERS,
    openapi_extra=_MARKET_BODY,
    dependencies=[public(), reach(Reach.UNLIMITED)],  # Market calls without credentials
)
async def market_notification(
    code: CodePath, token: SecretPath, request: Request, uow: Uow
) -> Response:
    potok = security_of(request).potok
    allowed = networks(potok.settings.marketplaces.yandex_market_push_networks)
    if not from_ozon(client_ip(request), allowed):
        return _market_error(404, MARKET_UNKNOWN, "notifications are taken from Market's networks")
    expected = push_secret(potok.protector, code, Marketplace.YANDEX_MARKET)
    if not hmac.compare_digest(token.encode(), expected.encode()):
        return _market_error(404, MARKET_UNKNOWN, "the URL's secret does not match the connection")
    try:
        await run_in_threadpool(pushing_connection, uow, code, Marketplace.YANDEX_MARKET)
    except ConnectionNotFound:
        return _market_error(404, MARKET_UNKNOWN, f"no Yandex Market connection '{code}'")
    now = datetime.now(UTC)
    raw = await request.body()
    if len(raw) > MAX_NOTIFICATION_BYTES:
        too_long = f"a notification carries at most {MAX_NOTIFICATION_BYTES} bytes"
        return _market_error(400, MARKET_WRONG_FORMAT, too_long)
    try:
        notification = read_market_notification(json.loads(raw) if raw else None)
    except ValueError as error:  # not JSON, or NotificationRefused
        kind = error.kind if isinstance(error, MarketNotificationRefused) else MARKET_WRONG_FORMAT
        return _market_error(400, kind, str(error) or "the body is not JSON")
    if notification.about_order:
        try:
            outcome = await run_in_threadpool(
                take_market_notification, uow, potok.marketplaces, code, notification
            )
        except (Unavailable, TransientConflict) as busy:
            return _market_error(503, MARKET_UNKNOWN, f"Potok cannot take it now: {busy}")
        if outcome.error is not None:
            return _market_error(500, MARKET_UNKNOWN, f"Market could not be asked: {outcome.error}")
    return json_response(market_answer(__version__, now))
