"""Till receipts from CSV and XLSX files, for stores whose till is not connected: one row
per receipt line, grouped into receipts by store and receipt number.

The first row names the columns, in English or Russian, in any order:

- ``store`` / ``магазин``, ``receipt`` / ``чек``, ``sku`` / ``артикул``, ``quantity`` /
  ``количество``, ``price`` / ``цена`` (required)
- ``kind`` / ``вид``: sale or return (продажа, возврат); empty is a sale
- ``sold_at`` / ``время``: YYYY-MM-DD HH:MM[:SS] or DD.MM.YYYY HH:MM[:SS], in UTC unless it
  carries an offset (``+03:00``); empty is the time of the upload
- ``till`` / ``касса``, ``marking_codes`` / ``коды маркировки`` (separated by ``;``)

The whole file is one transaction, and a receipt Potok has is left alone, so the same file
twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO

from potok.domain.errors import InvalidInput, PotokError
from potok.domain.inventory.model import MAX_QUANTITY
from potok.domain.kernel import Actor, Clock, Tracking, utc_now
from potok.domain.network import WarehouseType
from potok.domain.stores import Receipt, ReceiptKind, ReceiptLine
from potok.services import store_sales
from potok.services.file_imports import (
    Cells,
    FileRejected,
    ImportSummary,
    RowProblem,
    Rows,
    open_table,
    parse_moment,
    read_rows,
)
from potok.services.unit_of_work import UnitOfWork
from potok.spreadsheets import Column, FileFormat

KIND = "store-receipts"
COLUMNS = (
    Column("store", ("магазин", "склад"), required=True),
    Column("receipt", ("чек", "номер чека"), required=True),
    Column("kind", ("вид", "операция")),
    Column("sold_at", ("время", "дата", "дата и время")),
    Column("till", ("касса",)),
    Column("sku", ("артикул",), required=True),
    Column("quantity", ("количество", "кол-во"), required=True),
    Column("price", ("цена",), required=True),
    Column("marking_codes", ("коды маркировки", "маркировка")),
)
KINDS = {
    "": ReceiptKind.SALE,
    "sale": ReceiptKind.SALE,
    "продажа": ReceiptKind.SALE,
    "return": ReceiptKind.RETURN,
    "возврат": ReceiptKind.RETURN,
}


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    store: str
    receipt: str
    kind: ReceiptKind
    sold_at: datetime | None
    till: str
    line: ReceiptLine


def receipt_row(cells: Cells) -> ReceiptRow | None:
    store = cells.required("store")
    number = cells.required("receipt")
    sku = cells.required("sku")
    if len(number) > 64:
        cells.bad("receipt", "at most 64 characters")
    kind = KINDS.get(cells.text("kind").lower())
    if kind is None:
        cells.bad("kind", "must be sale or return (продажа, возврат)")
    sold_at = None
    if cells.text("sold_at"):
        sold_at = parse_moment(cells.text("sold_at"))
        if sold_at is None:
            cells.bad("sold_at", "write it as YYYY-MM-DD HH:MM or DD.MM.YYYY HH:MM")
    quantity = cells.whole("quantity", maximum=MAX_QUANTITY)
    if quantity == 0:
        cells.bad("quantity", "must be at least 1")
    price = cells.decimal("price")
    codes = tuple(c.strip() for c in cells.text("marking_codes").split(";") if c.strip())
    if cells.problems or kind is None or quantity is None or price is None:
        return None
    return ReceiptRow(
        store,
        number,
        kind,
        sold_at,
        cells.text("till")[:64],
        ReceiptLine(sku, quantity, price, codes),
    )


def import_receipts(
    uow: UnitOfWork,
    source: IO[bytes],
    fmt: FileFormat,
    actor: Actor,
    *,
    clock: Clock = utc_now,
) -> ImportSummary:
    """Record the receipts a file lists, every store's in one transaction, or none."""
    rows = read_rows(open_table(source, fmt, COLUMNS), COLUMNS, receipt_row, lambda row: id(row))
    return apply_receipts(uow, rows, actor, clock=clock)


def apply_receipts(
    uow: UnitOfWork, rows: Rows[ReceiptRow], actor: Actor, *, clock: Clock = utc_now
) -> ImportSummary:
    problems = list(rows.problems)
    grouped: dict[tuple[str, str], list[tuple[int, ReceiptRow]]] = {}
    for line, row in rows.good:
        grouped.setdefault((row.store, row.receipt), []).append((line, row))
    now = clock()
    batches: dict[str, list[Receipt]] = {}
    where: dict[str, list[list[int]]] = {}  # store -> each receipt's rows
    for (store, number), lines in grouped.items():
        first = lines[0][1]
        for line, row in lines[1:]:
            if (row.kind, row.sold_at, row.till) != (first.kind, first.sold_at, first.till):
                problems.append(
                    RowProblem(
                        line,
                        "kind",
                        f"row {lines[0][0]} gives receipt {number} another kind, time or till",
                    )
                )
        batches.setdefault(store, []).append(
            Receipt(
                number,
                first.kind,
                first.sold_at or now,
                tuple(r.line for _, r in lines),
                first.till,
            )
        )
        where.setdefault(store, []).append([line for line, _ in lines])
    problems += _unknown(uow, rows.good)
    if problems:
        raise FileRejected(problems, rows=rows.count)
    ordered = sorted(batches.items())
    try:
        done = store_sales.record_many(uow, ordered, actor, clock=clock)
    except InvalidInput as error:
        raise FileRejected(
            [RowProblem(1, None, f"{e.field}: {e.message}") for e in error.errors],
            rows=rows.count,
        ) from None
    except PotokError as error:
        store = str(error.context.get("store") or error.context.get("warehouse") or "")
        row_no = min((line for receipt in where.get(store, []) for line in receipt), default=1)
        raise FileRejected([RowProblem(row_no, "receipt", error.detail)], rows=rows.count) from None
    changed = sum(len(d.recorded) for d in done)
    return ImportSummary(KIND, rows.count, changed, changed)


def _unknown(uow: UnitOfWork, good: list[tuple[int, ReceiptRow]]) -> list[RowProblem]:
    """Rows naming a store or product Potok does not have (read before anything is written,
    so that one answer names every bad row)."""
    skus = sorted({row.line.sku for _, row in good})
    with uow.read():
        products = uow.products.ids_for(skus)
        tracked = uow.products.tracked(skus)
        stores = {code: uow.warehouses.get_by_code(code) for code in {r.store for _, r in good}}
    problems = []
    for line, row in good:
        store = stores[row.store]
        if store is None:
            problems.append(
                RowProblem(line, "store", f"there is no store '{row.store}'", row.store)
            )
        elif store.type is not WarehouseType.STORE:
            problems.append(
                RowProblem(line, "store", f"'{row.store}' is a {store.type.value}, not a store")
            )
        if row.line.sku not in products:
            problems.append(
                RowProblem(
                    line, "sku", f"there is no product with SKU '{row.line.sku}'", row.line.sku
                )
            )
        elif tracked.get(row.line.sku, Tracking.NONE) is not Tracking.NONE:
            problems.append(
                RowProblem(line, "sku", f"{row.line.sku} is kept by lot or serial number")
            )
    return problems
