"""Marketplace connections: connect an account, read health and journal, poll now.

A channel's API key sees the connections of its own channel only; others are 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.responses import json_response
from potok.api.schemas.common import Code
from potok.api.schemas.marketplaces import (
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
from potok.api.security import Caller, needs, security_of
from potok.connectors.marketplaces import MarketplaceNotSupported
from potok.domain.access import Permission, Principal
from potok.domain.channels import ChannelNotFound
from potok.domain.errors import FieldError, InvalidInput, TransientConflict
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
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import marketplaces as service
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


def _visible(uow: UnitOfWork, caller: Principal, code: str) -> Connection:
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
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.RECORD, "code", finder=_visible)],
)
def get_connection(code: CodePath, uow: Uow, caller: Caller) -> Response:
    return json_response(render(_visible(uow, caller, code)))


@router.patch(
    "/{code}",
    response_model=ConnectionOut,
    summary="Change a connection: a new token, the host, the warehouse map, the schedule, "
    "pause or resume",
    responses=responses(ConnectionNotFound, InvalidInput, TransientConflict),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=_visible)],
)
def change_connection(code: CodePath, body: ConnectionPatch, uow: Uow, caller: Caller) -> Response:
    current = _visible(uow, caller, code)
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
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=_visible)],
)
def poll_now(code: CodePath, request: Request, uow: Uow, caller: Caller) -> Response:
    potok = security_of(request).potok
    _visible(uow, caller, code)
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
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.RECORD, "code", finder=_visible)],
)
def journal(
    code: CodePath,
    uow: Uow,
    caller: Caller,
    resolved: Annotated[bool, Query(description="Resolved entries too.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    connection = _visible(uow, caller, code)
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
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.RECORD, "code", finder=_visible)],
)
def list_items(
    code: CodePath,
    uow: Uow,
    caller: Caller,
    after: Annotated[str | None, Query(max_length=64, description="The last SKU seen.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    connection = _visible(uow, caller, code)
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
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=_visible)],
)
def map_items(code: CodePath, body: ItemsIn, uow: Uow, caller: Caller) -> Response:
    connection = _visible(uow, caller, code)
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
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=_visible)],
)
def unmap_item(code: CodePath, sku: Code, uow: Uow, caller: Caller) -> Response:
    connection = _visible(uow, caller, code)
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
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=_visible)],
)
def push_stock(code: CodePath, request: Request, uow: Uow, caller: Caller) -> Response:
    potok = security_of(request).potok
    connection = _visible(uow, caller, code)
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


@router.post(
    "/{code}/catalogue-matches",
    response_model=CatalogueMatchOut,
    summary="Fill the item map from the marketplace's catalogue now",
    description="Reads the seller's items on the marketplace (Ozon: `/v3/product/list` and "
    "`/v3/product/info/list`) and maps each to the SKU its article names, else to the "
    "product with one of its barcodes; what a person mapped otherwise is kept and reported "
    "in `conflict_notes`. Answers 200 also when the marketplace failed: `error` says how.",
    responses=responses(ConnectionNotFound, TransientConflict),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.RECORD, "code", finder=_visible)],
)
def match_catalogue(code: CodePath, request: Request, uow: Uow, caller: Caller) -> Response:
    potok = security_of(request).potok
    connection = _visible(uow, caller, code)
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
