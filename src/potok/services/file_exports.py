"""Exports to CSV and XLSX, read page by page and written row by row.

Each export's columns are those its import reads (plus read-only ones such as
``reserved``), so an operator can edit an export in Excel and import it back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import IO

from potok.services import catalogue, inventory
from potok.services.file_imports import Progress, counted
from potok.services.orders import check_filter
from potok.services.read_models import OrderFilter
from potok.services.unit_of_work import UnitOfWork
from potok.spreadsheets import FileFormat, write_table
from potok.spreadsheets.writing import Value

PAGE = 1000

STOCK_HEADER = (
    "warehouse",
    "sku",
    "lot",
    "expires_on",
    "location",
    "on_hand",
    "reserved",
    "unavailable",
    "available",
    "incoming",
)
PRODUCT_HEADER = (
    "sku",
    "name",
    "price",
    "vat_rate",
    "barcode",
    "barcodes",
    "weight_g",
    "active",
    "tracking",
    "removal_strategy",
    "unit_identifiers",
    "parcel_group",
    "category",
)


ORDER_HEADER = (
    "order_id",
    "external_id",
    "channel",
    "status",
    "payment_status",
    "created_at",
    "currency",
    "delivery_method",
    "city",
    "delivery_price",
    "order_total",
    "line_no",
    "sku",
    "name",
    "quantity",
    "unit_price",
    "vat_rate",
    "line_total",
    "version",
)
CUSTOMER_HEADER = ("customer_name", "customer_phone", "customer_email")
ORDERS_PER_PAGE = 500


def order_rows(
    uow: UnitOfWork, flt: OrderFilter, *, customer: bool = False
) -> Iterator[tuple[Value, ...]]:
    """One row per order line, orders in the order they came (by number), one read per
    page; the customer's name, phone and e-mail only when ``customer`` is asked for."""
    after = 0
    while True:
        with uow.read():
            lines, last = uow.queries.order_lines_after(
                flt, after_id=after, orders_per_page=ORDERS_PER_PAGE, customer=customer
            )
        for line in lines:
            row: tuple[Value, ...] = (
                line.order_id,
                line.external_id,
                line.channel,
                line.status,
                line.payment_status,
                line.created_at,
                line.currency,
                line.delivery_method,
                line.city,
                line.delivery_price,
                line.order_total,
                line.line_no,
                line.sku,
                line.name,
                line.quantity,
                line.unit_price,
                line.vat_rate,
                line.line_total,
                line.version,
            )
            if customer:
                row = (*row, line.customer_name, line.customer_phone, line.customer_email)
            yield row
        if last is None:
            return
        after = last


def export_orders(
    uow: UnitOfWork,
    out: IO[bytes],
    fmt: FileFormat,
    flt: OrderFilter,
    *,
    customer: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write orders with their lines to a file (filters as the order list's); return how
    many rows (lines)."""
    check_filter(flt)
    header = ORDER_HEADER + (CUSTOMER_HEADER if customer else ())
    rows = counted(order_rows(uow, flt, customer=customer), progress)
    return write_table(out, fmt, header, rows, title="Orders")


MOVEMENT_HEADER = (
    "id",
    "occurred_at",
    "warehouse",
    "sku",
    "lot",
    "type",
    "quantity",
    "on_hand_after",
    "unavailable_change",
    "reason",
    "reference",
    "actor",
)


def movement_rows(
    uow: UnitOfWork,
    *,
    warehouses: Sequence[str | None] = (None,),
    sku: str | None = None,
    movement_type: str | None = None,
    since: datetime | None = None,
) -> Iterator[tuple[Value, ...]]:
    """The stock ledger, newest first (per warehouse when several are named), a page a read."""
    for warehouse in warehouses:
        cursor: str | None = None
        while True:
            page = inventory.list_movements(
                uow,
                warehouse=warehouse,
                sku=sku,
                movement_type=movement_type,
                since=since,
                cursor=cursor,
                limit=PAGE,
            )
            for row in page.items:
                yield (
                    row.id,
                    row.occurred_at,
                    row.warehouse,
                    row.sku,
                    row.lot,
                    row.type,
                    row.quantity,
                    row.on_hand_after,
                    row.unavailable_change,
                    row.reason,
                    row.reference,
                    row.actor,
                )
            if page.next_cursor is None:
                break
            cursor = page.next_cursor


def export_movements(
    uow: UnitOfWork,
    out: IO[bytes],
    fmt: FileFormat,
    *,
    warehouses: Sequence[str | None] = (None,),
    sku: str | None = None,
    movement_type: str | None = None,
    since: datetime | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the stock ledger to a file; return how many movements."""
    rows = counted(
        movement_rows(
            uow, warehouses=warehouses, sku=sku, movement_type=movement_type, since=since
        ),
        progress,
    )
    return write_table(out, fmt, MOVEMENT_HEADER, rows, title="Movements")


RULE_HEADER = (
    "warehouse",
    "sku",
    "min",
    "max",
    "safety_stock",
    "on_hand",
    "reserved",
    "unavailable",
    "incoming",
    "below_minimum",
)


def rule_rows(
    uow: UnitOfWork, *, warehouses: Sequence[str] | None = None, sku: str | None = None
) -> Iterator[tuple[Value, ...]]:
    """Min/max rules with the figures of their positions, one read per page."""
    from potok.services import replenishment

    cursor: str | None = None
    while True:
        page = replenishment.list_rules(
            uow, warehouses=warehouses, sku=sku, cursor=cursor, limit=PAGE
        )
        for rule in page.items:
            yield (
                rule.warehouse,
                rule.sku,
                rule.min_level,
                rule.max_level,
                rule.safety_stock,
                rule.on_hand,
                rule.reserved,
                rule.unavailable,
                rule.incoming,
                rule.below_minimum,
            )
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def export_rules(
    uow: UnitOfWork,
    out: IO[bytes],
    fmt: FileFormat,
    *,
    warehouses: Sequence[str] | None = None,
    sku: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the min/max rules to a file, in the columns their import reads; return how many."""
    rows = counted(rule_rows(uow, warehouses=warehouses, sku=sku), progress)
    return write_table(out, fmt, RULE_HEADER, rows, title="Stock rules")


def stock_rows(
    uow: UnitOfWork, *, warehouses: Sequence[str | None] = (None,), sku: str | None = None
) -> Iterator[tuple[Value, ...]]:
    """Stock positions (per warehouse and lot) with their buckets, one read per page."""
    for warehouse in warehouses:
        cursor: str | None = None
        while True:
            page = inventory.list_levels(
                uow, warehouse=warehouse, sku=sku, cursor=cursor, limit=PAGE
            )
            for row in page.items:
                yield (
                    row.warehouse,
                    row.sku,
                    row.lot,
                    row.expires_on,
                    row.location,
                    row.on_hand,
                    row.reserved,
                    row.unavailable,
                    row.available,
                    row.incoming,
                )
            if page.next_cursor is None:
                break
            cursor = page.next_cursor


def product_rows(uow: UnitOfWork, *, active: bool | None = None) -> Iterator[tuple[Value, ...]]:
    """The catalogue in SKU order, one read per page."""
    after: str | None = None
    while True:
        page = catalogue.list_products(uow, after_sku=after, limit=PAGE, active=active)
        for product in page:
            yield (
                product.sku,
                product.name,
                product.price,
                product.vat_rate,
                product.barcode,
                ";".join(product.barcodes),
                product.weight_g,
                product.active,
                product.tracking.value,
                product.removal_strategy.value if product.removal_strategy else None,
                ";".join(sorted(k.value for k in product.unit_identifiers)),
                product.parcel_group,
                product.category,
            )
        if len(page) < PAGE:
            break
        after = page[-1].sku


def export_stock(
    uow: UnitOfWork,
    out: IO[bytes],
    fmt: FileFormat,
    *,
    warehouses: Sequence[str | None] = (None,),
    sku: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Write stock positions to a file; return how many rows."""
    rows = counted(stock_rows(uow, warehouses=warehouses, sku=sku), progress)
    return write_table(out, fmt, STOCK_HEADER, rows, title="Stock")


def export_products(
    uow: UnitOfWork,
    out: IO[bytes],
    fmt: FileFormat,
    *,
    active: bool | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the catalogue to a file; return how many rows."""
    rows = counted(product_rows(uow, active=active), progress)
    return write_table(out, fmt, PRODUCT_HEADER, rows, title="Products")
