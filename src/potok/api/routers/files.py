"""CSV and XLSX files: stock levels and products imported (all rows or none) and exported.

``PUT`` takes a file as the request body (``Content-Type: text/csv`` or the XLSX media
type) and applies it whole, or answers 422 ``invalid-import-file`` naming every bad row
and column. A client that asks for CSV or XLSX in ``Accept`` gets that problem list as a
report file in that format instead of JSON. ``GET`` answers with the file itself, written
page by page to a temporary file and streamed from there.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import IO, Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from potok.api.deps import Uow
from potok.api.problems import PROBLEM_JSON, responses
from potok.api.schemas.common import AwareDatetime, Code
from potok.api.schemas.files import ImportSummaryOut, OrderImportOut, OrderOutcomeOut
from potok.api.schemas.order_filters import (
    ChannelQuery,
    CreatedFromQuery,
    CreatedToQuery,
    PaymentMethodQuery,
    PaymentStatusQuery,
    SearchQuery,
    StatusQuery,
    WarehouseQuery,
)
from potok.api.scope import (
    NOTHING,
    Reach,
    ensure_channel,
    ensure_warehouses,
    narrow,
    own_warehouses,
    reach,
)
from potok.api.security import Caller, needs
from potok.domain.access import Permission, Principal
from potok.domain.access.model import NotPermitted, OutOfScope
from potok.domain.errors import InvalidInput
from potok.services import (
    catalogue_files,
    file_exports,
    order_files,
    order_imports,
    rule_files,
    stock_files,
    store_files,
)
from potok.services.file_imports import (
    FileRejected,
    ImportSummary,
    open_table,
    read_rows,
    write_report,
)
from potok.services.read_models import OrderFilter
from potok.spreadsheets import FileFormat
from potok.spreadsheets.formats import MEDIA_TYPES

router = APIRouter(prefix="/api/v1/files", tags=["files"])
T = TypeVar("T")

MEMORY_BYTES = 8 * 1024 * 1024
"""A file larger than this is kept on disk while it is read or written."""
CHUNK = 256 * 1024


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"


def _file_body(limit: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": limit,
            "content": {
                MEDIA_TYPES[FileFormat.CSV]: {
                    "schema": {"type": "string", "maxLength": 1024 * 1024 * 1024}
                },
                MEDIA_TYPES[FileFormat.XLSX]: {
                    "schema": {
                        "type": "string",
                        "format": "binary",
                        "maxLength": 1024 * 1024 * 1024,
                    }
                },
            },
        }
    }


def _import_responses() -> dict[int | str, dict[str, Any]]:
    table = responses(FileRejected, OutOfScope)
    table[422]["content"].update(
        {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES.values()}
    )
    table[422]["description"] += " (as a report file when Accept asks for CSV or XLSX)"
    table[415] = {
        "description": "unsupported-media-type: the body is not sent as CSV or XLSX",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    return table


def _file_response(name: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": f"The {name} file.",
            "content": {MEDIA_TYPES[media]: {"schema": {"type": "string"}} for media in FileFormat},
        }
    }


async def _spooled_body(request: Request) -> IO[bytes]:
    """The request body in a temporary file (in memory while small)."""
    spool = tempfile.SpooledTemporaryFile(max_size=MEMORY_BYTES)  # noqa: SIM115 - closed by caller
    async for chunk in request.stream():
        spool.write(chunk)
    spool.seek(0)
    return spool


def _format_of_body(request: Request) -> FileFormat:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    for fmt, media in MEDIA_TYPES.items():
        if kind == media:
            return fmt
    names = " or ".join(MEDIA_TYPES.values())
    raise HTTPException(
        415,
        detail=f"The body was sent as '{kind or 'no Content-Type'}'; send the file as {names}.",
        headers={"Accept": ", ".join(MEDIA_TYPES.values())},
    )


def _report_format(request: Request) -> FileFormat | None:
    """The file format the caller's Accept header prefers to a problem document, if any."""
    accept = request.headers.get("accept", "")
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ("application/json", PROBLEM_JSON, "application/*", "*/*"):
            return None
        for fmt, name in MEDIA_TYPES.items():
            if media == name:
                return fmt
    return None


def _visible_warehouses(caller: Principal, warehouse: str | None) -> tuple[str | None, ...]:
    """The warehouses an export reads: the one asked for (if the caller may see it), or
    the caller's own, or every one (None)."""
    if warehouse is not None:  # another's warehouse is not there for warehouse staff
        own = own_warehouses(caller)
        return (warehouse if own is None or warehouse in own else NOTHING,)
    if caller.warehouses is not None:
        return caller.warehouse_codes
    return (None,)


def _summary_out(summary: ImportSummary) -> ImportSummaryOut:
    return ImportSummaryOut(
        kind=summary.kind,
        rows=summary.rows,
        changed=summary.changed,
        created=summary.created,
        unchanged=summary.rows - summary.changed,
    )


async def _run_file(request: Request, work: Callable[[IO[bytes], FileFormat], T]) -> Response | T:
    """Run an import on the request's file; a refused file is answered as a report file
    when the caller's Accept asks for one (else the problem document is raised)."""
    fmt = _format_of_body(request)
    body = await _spooled_body(request)
    try:
        return await run_in_threadpool(work, body, fmt)
    except FileRejected as error:
        report = _report_format(request)
        if report is None:
            raise
        problems = error.problems
        return await _stream(
            lambda out: write_report(out, report, problems),
            report,
            "problems",
            status=422,
        )
    finally:
        body.close()


async def _run_import(
    request: Request, work: Callable[[IO[bytes], FileFormat], ImportSummary]
) -> Response | ImportSummaryOut:
    done = await _run_file(request, work)
    return done if isinstance(done, Response) else _summary_out(done)


async def _stream(
    write: Callable[[IO[bytes]], object], fmt: FileFormat, name: str, *, status: int = 200
) -> StreamingResponse:
    """Write a file to a temporary file in a worker thread, then stream it out."""
    spool = tempfile.SpooledTemporaryFile(max_size=MEMORY_BYTES)  # noqa: SIM115 - closed below
    try:
        await run_in_threadpool(write, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := spool.read(CHUNK):
                yield chunk
        finally:
            spool.close()

    return StreamingResponse(
        chunks(),
        status_code=status,
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt.value}"'},
    )


@router.put(
    "/stock-levels",
    response_model=ImportSummaryOut,
    summary="Import stock levels from a CSV or XLSX file, all rows or none",
    description="Columns (first row, English or Russian, any order): `warehouse`, `sku`, "
    "`on_hand`, and optionally `expected_on_hand` (compare-and-set), `lot`, `produced_on`, "
    "`expires_on`, `serials`. Applied through the same bulk path as `PUT /stock/levels`, "
    "in one transaction; each change is an `import` movement in the ledger. The same file "
    "twice changes nothing the second time.",
    responses=_import_responses(),
    openapi_extra=_file_body("A CSV (UTF-8 or Windows-1251) or XLSX file."),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
async def import_stock_levels(
    request: Request, uow: Uow, caller: Caller
) -> Response | ImportSummaryOut:
    def work(body: IO[bytes], fmt: FileFormat) -> ImportSummary:
        rows = stock_files.read_levels(open_table(body, fmt, stock_files.COLUMNS))
        ensure_warehouses(caller, {row.warehouse for _, row in rows.good})
        summary, _ = stock_files.apply_levels(
            uow, rows, caller.actor, reference=f"api upload ({fmt.value})", origin="file"
        )
        return summary

    return await _run_import(request, work)


@router.put(
    "/store-receipts",
    response_model=ImportSummaryOut,
    summary="Import stores' till receipts from a CSV or XLSX file, all rows or none",
    description="For stores whose till is not connected: one row per receipt line. Columns "
    "(first row, English or Russian, any order): `store`, `receipt`, `sku`, `quantity`, "
    "`price`, and optionally `kind` (sale or return), `sold_at`, `till`, `marking_codes` "
    "(separated by `;`). Rows of one receipt are grouped by store and receipt number; "
    "receipts Potok has already are left alone, so the same file twice changes nothing. "
    "Each new receipt moves its store's stock as `POST /stores/{warehouse}/receipts` does.",
    responses=_import_responses(),
    openapi_extra=_file_body("A CSV (UTF-8 or Windows-1251) or XLSX file."),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
async def import_store_receipts(
    request: Request, uow: Uow, caller: Caller
) -> Response | ImportSummaryOut:
    def work(body: IO[bytes], fmt: FileFormat) -> ImportSummary:
        rows = read_rows(
            open_table(body, fmt, store_files.COLUMNS),
            store_files.COLUMNS,
            store_files.receipt_row,
            id,
        )
        ensure_warehouses(caller, {row.store for _, row in rows.good})
        return store_files.apply_receipts(uow, rows, caller.actor)

    return await _run_import(request, work)


@router.get(
    "/stock-levels",
    summary="Export stock positions (per warehouse and lot, with buckets) to CSV or XLSX",
    response_class=StreamingResponse,
    responses={**_file_response("stock levels"), **responses(OutOfScope)},
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
async def export_stock_levels(
    uow: Uow,
    caller: Caller,
    format: Format = Format.csv,
    warehouse: Code | None = None,
    sku: Code | None = None,
) -> StreamingResponse:
    fmt = FileFormat(format.value)
    warehouses = _visible_warehouses(caller, warehouse)
    return await _stream(
        lambda out: file_exports.export_stock(uow, out, fmt, warehouses=warehouses, sku=sku),
        fmt,
        "stock-levels",
    )


@router.put(
    "/stock-rules",
    response_model=ImportSummaryOut,
    summary="Import min/max rules from a CSV or XLSX file, all rows or none",
    description="Columns (first row, English or Russian, any order): `warehouse`, `sku`, "
    "`min`, `max`, and optionally `safety_stock`. Rules not in the file are kept.",
    responses=_import_responses(),
    openapi_extra=_file_body("A CSV (UTF-8 or Windows-1251) or XLSX file."),
    dependencies=[needs(Permission.STOCK_WRITE), reach(Reach.NAMED)],
)
async def import_stock_rules(
    request: Request, uow: Uow, caller: Caller
) -> Response | ImportSummaryOut:
    def work(body: IO[bytes], fmt: FileFormat) -> ImportSummary:
        rows = rule_files.read_rules(open_table(body, fmt, rule_files.COLUMNS))
        ensure_warehouses(caller, {rule.warehouse for _, rule in rows.good})
        summary, _ = rule_files.apply_rules(uow, rows, caller.actor)
        return summary

    return await _run_import(request, work)


@router.get(
    "/stock-rules",
    summary="Export min/max rules (with their positions' figures) to CSV or XLSX",
    response_class=StreamingResponse,
    responses={**_file_response("stock rules"), **responses(OutOfScope)},
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
async def export_stock_rules(
    uow: Uow,
    caller: Caller,
    format: Format = Format.csv,
    warehouse: Code | None = None,
    sku: Code | None = None,
) -> StreamingResponse:
    fmt = FileFormat(format.value)
    visible = _visible_warehouses(caller, warehouse)
    warehouses = None if visible == (None,) else [w for w in visible if w is not None]
    return await _stream(
        lambda out: file_exports.export_rules(uow, out, fmt, warehouses=warehouses, sku=sku),
        fmt,
        "stock-rules",
    )


@router.get(
    "/movements",
    summary="Export the stock ledger (movements, newest first) to CSV or XLSX",
    response_class=StreamingResponse,
    responses={**_file_response("movements"), **responses(OutOfScope)},
    dependencies=[needs(Permission.STOCK_READ), reach(Reach.LISTED)],
)
async def export_movements(
    uow: Uow,
    caller: Caller,
    format: Format = Format.csv,
    warehouse: Code | None = None,
    sku: Code | None = None,
    type: Annotated[
        str | None,
        Query(
            max_length=32,
            description="A movement type, e.g. receipt, write_off, count, import, shipment.",
        ),
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="With a time zone.")] = None,
) -> StreamingResponse:
    fmt = FileFormat(format.value)
    warehouses = _visible_warehouses(caller, warehouse)
    return await _stream(
        lambda out: file_exports.export_movements(
            uow, out, fmt, warehouses=warehouses, sku=sku, movement_type=type, since=since
        ),
        fmt,
        "movements",
    )


@router.get(
    "/orders",
    summary="Export orders with their lines to CSV or XLSX (the order list's filters)",
    description="One row per order line, with its order's number, channel, status, payment "
    "status, creation time (UTC), delivery and totals, orders in the order they came. "
    "`customer=true` adds the customer's name, phone and e-mail, and needs "
    "`personal_data:read`.",
    response_class=StreamingResponse,
    responses={**_file_response("orders"), **responses(InvalidInput, NotPermitted)},
    dependencies=[needs(Permission.ORDERS_READ), reach(Reach.LISTED)],
)
async def export_orders(
    uow: Uow,
    caller: Caller,
    format: Format = Format.csv,
    status: StatusQuery = None,
    channel: ChannelQuery = None,
    warehouse: WarehouseQuery = None,
    payment_status: PaymentStatusQuery = None,
    payment_method: PaymentMethodQuery = None,
    created_from: CreatedFromQuery = None,
    created_to: CreatedToQuery = None,
    q: SearchQuery = None,
    customer: Annotated[
        bool, Query(description="Add the customer's name, phone and e-mail.")
    ] = False,
) -> StreamingResponse:
    if customer and not caller.sees_personal_data:
        raise NotPermitted(who=caller.name, permission=Permission.PERSONAL_DATA.value)
    fmt = FileFormat(format.value)
    flt = narrow(
        caller,
        OrderFilter(
            statuses=[s.value for s in status or []],
            channels=channel or [],
            warehouses=warehouse or [],
            payment_statuses=[s.value for s in payment_status or []],
            payment_methods=[m.value for m in payment_method or []],
            created_from=created_from,
            created_to=created_to,
            text=q,
        ),
    )
    return await _stream(
        lambda out: file_exports.export_orders(uow, out, fmt, flt, customer=customer),
        fmt,
        "orders",
    )


SHOWN_OUTCOMES = 1000


@router.put(
    "/orders",
    response_model=OrderImportOut,
    summary="Import orders from a CSV or XLSX file: new ones through intake, once; edits",
    description="One row per order line. Columns (first row, English or Russian, any "
    "order): `channel`, `sku`, `quantity` (required), `external_id` (required for a new "
    "order), `order_id` and `version` (an order Potok has, as an export writes them), "
    "`line_no`, `unit_price`, `vat_rate`, and a new order's own cells on its first row: "
    "`currency`, `delivery_method`, `pickup_point`, `city`, `region`, `postal_code`, "
    "`address`, `address_line2`, `latitude`, `longitude`, `delivery_price`, "
    "`delivery_vat_rate`, `customer_name`, `customer_phone`, `customer_email`, "
    "`payment_status`, `priority`, `promised_at`, `comment`. The whole file is checked "
    "first (422 `invalid-import-file` naming every bad row and column, nothing changed); "
    "then each new order is taken as `POST /orders` takes it, and each order Potok has "
    "(same channel and external id, or `order_id`) whose quantities or lines the file "
    "changes is edited as `PATCH /orders/{order_id}` edits it, one transaction per order. "
    "Nothing is taken twice: the same file twice changes nothing the second time. "
    "`dry_run=true` checks and says what would change. With `Accept: text/csv` or the XLSX "
    "media type the answer is the report file "
    "(`row,channel,external_id,outcome,order_id,status,problem`).",
    responses={**_import_responses(), **_file_response("import report")},
    openapi_extra=_file_body("A CSV (UTF-8 or Windows-1251) or XLSX file."),
    dependencies=[needs(Permission.ORDERS_WRITE), reach(Reach.NAMED)],
)
async def import_orders(
    request: Request,
    uow: Uow,
    caller: Caller,
    dry_run: Annotated[
        bool, Query(description="Check the file and say what would be taken; take nothing.")
    ] = False,
) -> Response | OrderImportOut:
    def work(body: IO[bytes], fmt: FileFormat) -> order_imports.OrderImport:
        rows = order_files.read_orders(open_table(body, fmt, order_files.COLUMNS))
        for channel in sorted({row.channel for _, row in rows.good}):
            ensure_channel(caller, channel)
        plan = order_imports.plan_orders(uow, rows)
        return order_imports.take_orders(uow, plan, caller.actor, dry_run=dry_run)

    done = await _run_file(request, work)
    if isinstance(done, Response):
        return done
    report = _report_format(request)
    if report is not None:
        return await _stream(
            lambda out: order_imports.write_outcomes(out, report, done), report, "orders-report"
        )
    return OrderImportOut(
        kind=order_imports.KIND,
        dry_run=done.dry_run,
        rows=done.rows,
        orders=len(done.outcomes),
        taken=done.count(order_imports.Outcome.TAKEN),
        existing=done.count(order_imports.Outcome.EXISTING),
        changed=done.count(order_imports.Outcome.CHANGED),
        refused=done.count(order_imports.Outcome.REFUSED),
        would_take=done.count(order_imports.Outcome.WOULD_TAKE),
        would_change=done.count(order_imports.Outcome.WOULD_CHANGE),
        outcomes=[
            OrderOutcomeOut(
                row=o.row,
                channel=o.channel,
                external_id=o.external_id,
                outcome=o.outcome.value,
                order_id=o.order_id,
                status=o.status,
                problem=o.problem,
            )
            for o in done.outcomes[:SHOWN_OUTCOMES]
        ],
    )


@router.put(
    "/products",
    response_model=ImportSummaryOut,
    summary="Import products (with barcodes and tracking) from a CSV or XLSX file",
    description="Creates or replaces products by SKU, all rows or none. Columns (first row, "
    "English or Russian, any order): `sku` (required), `name`, `price`, `vat_rate`, "
    "`barcode`, `barcodes` (separated by `;`), `weight_g`, `active`, `tracking`, "
    "`removal_strategy`, `unit_identifiers`, `parcel_group`. A column the file leaves out "
    "keeps each product's value; new products need `name`, `price` and `vat_rate`.",
    responses=_import_responses(),
    openapi_extra=_file_body("A CSV (UTF-8 or Windows-1251) or XLSX file."),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.NETWORK)],
)
async def import_products(request: Request, uow: Uow) -> Response | ImportSummaryOut:
    def work(body: IO[bytes], fmt: FileFormat) -> ImportSummary:
        rows = catalogue_files.read_products(open_table(body, fmt, catalogue_files.COLUMNS))
        summary, _ = catalogue_files.apply_products(uow, rows)
        return summary

    return await _run_import(request, work)


@router.get(
    "/products",
    summary="Export the catalogue to CSV or XLSX, in the columns the import reads",
    response_class=StreamingResponse,
    responses=_file_response("products"),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.NETWORK)],
)
async def export_products(
    uow: Uow,
    format: Format = Format.csv,
    active: Annotated[bool | None, Query(description="Only active (or inactive) ones.")] = None,
) -> StreamingResponse:
    fmt = FileFormat(format.value)
    return await _stream(
        lambda out: file_exports.export_products(uow, out, fmt, active=active),
        fmt,
        "products",
    )
