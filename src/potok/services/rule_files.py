"""Min/max rules from CSV and XLSX files: every bad row found and named by its row.

``parse_rules`` reads plain CSV lines (``potok stock rules import``); ``read_rules`` and
``apply_rules`` read any table file, with the columns in English or Russian
(``склад``, ``артикул``, ``минимум``, ``максимум``, ``страховой запас``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from potok.domain.inventory.errors import BulkRejected
from potok.domain.inventory.model import MAX_QUANTITY
from potok.domain.inventory.replenishment import SetStockRule
from potok.domain.kernel import Actor
from potok.services.file_imports import (
    Cells,
    FileRejected,
    ImportSummary,
    Progress,
    RowProblem,
    Rows,
    problems_from,
    read_rows,
)
from potok.services.stock_files import BadHeader, BadRow
from potok.services.unit_of_work import UnitOfWork
from potok.spreadsheets import Column
from potok.spreadsheets.reading import Table

REQUIRED_COLUMNS = ("warehouse", "sku", "min", "max")
OPTIONAL_COLUMNS = ("safety_stock",)
HEADER = "warehouse,sku,min,max,safety_stock"


def parse_rules(lines: Iterable[str]) -> Iterator[tuple[int, SetStockRule | BadRow]]:
    """Rows of ``warehouse,sku,min,max[,safety_stock]`` with a header line, in any column
    order. Yields ``(line_number, rule)`` for well-formed rows and ``(line_number, BadRow)``
    for the others; raises :class:`BadHeader` when the header lacks a required column.
    Whether the warehouse and SKU exist, and max >= min, is the import's to check."""
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise BadHeader(f"the file is empty; the first line must be: {HEADER}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise BadHeader(
            f"the header lacks {', '.join(missing)}; the first line must name the columns "
            f"{HEADER} (safety_stock is optional)"
        )
    index = {
        name: header.index(name)
        for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
        if name in header
    }
    read_so_far = reader.line_num
    for record in reader:
        number = read_so_far + 1
        read_so_far = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) < len(header):
            yield number, BadRow(number, f"has {len(record)} columns, the header has {len(header)}")
            continue
        warehouse = record[index["warehouse"]].strip()
        sku = record[index["sku"]].strip()
        problems = []
        if not warehouse:
            problems.append("warehouse is empty")
        if not sku:
            problems.append("sku is empty")
        low = _level(record[index["min"]], "min", problems)
        high = _level(record[index["max"]], "max", problems)
        safety: int | None = 0
        if "safety_stock" in index and record[index["safety_stock"]].strip():
            safety = _level(record[index["safety_stock"]], "safety_stock", problems)
        if problems:
            yield number, BadRow(number, "; ".join(problems))
            continue
        assert low is not None
        assert high is not None
        assert safety is not None
        yield number, SetStockRule(warehouse, sku, low, high, safety)


def _level(text: str, name: str, problems: list[str]) -> int | None:
    value = text.strip()
    if not (value.isascii() and value.isdigit()):
        problems.append(f"{name} '{value}' is not a whole number of units (0 or more)")
        return None
    quantity = int(value)
    if quantity > MAX_QUANTITY:
        problems.append(f"{name} {quantity} is more than {MAX_QUANTITY}")
        return None
    return quantity


# ---------------------------------------------------------------------- CSV and XLSX files

KIND = "stock-rules"
COLUMNS = (
    Column("warehouse", ("склад", "код склада"), required=True),
    Column("sku", ("артикул",), required=True),
    Column("min", ("минимум", "мин", "min_level"), required=True),
    Column("max", ("максимум", "макс", "max_level"), required=True),
    Column("safety_stock", ("страховой запас",)),
)


def rule_row(cells: Cells) -> SetStockRule | None:
    """One row as a rule to set, or None with the problems recorded in ``cells``."""
    warehouse = cells.required("warehouse")
    sku = cells.required("sku")
    low = cells.whole("min", maximum=MAX_QUANTITY)
    high = cells.whole("max", maximum=MAX_QUANTITY)
    safety = cells.whole("safety_stock", maximum=MAX_QUANTITY) if cells.text("safety_stock") else 0
    if low is None or high is None or safety is None or cells.problems:
        return None
    return SetStockRule(warehouse, sku, low, high, safety)


def read_rules(table: Table, *, progress: Progress | None = None) -> Rows[SetStockRule]:
    """The rules a table sets, and the problems of its bad rows."""
    return read_rows(table, COLUMNS, rule_row, lambda r: (r.warehouse, r.sku), progress=progress)


def apply_rules(
    uow: UnitOfWork, rows: Rows[SetStockRule], actor: Actor
) -> tuple[ImportSummary, list[RowProblem]]:
    """Create or change the rules a file lists, in one transaction, all or none; rules not
    in the file are kept."""
    from potok.services import replenishment

    lines = [line for line, _ in rows.good]
    problems = list(rows.problems)
    if rows.good:
        problems += problems_from(
            replenishment.check_rule_rows(uow, [rule for _, rule in rows.good]), lines
        )
    if problems or not rows.good:
        raise FileRejected(
            problems or [RowProblem(1, None, "the file has no rows under the header")],
            rows=rows.count,
        )
    try:
        applied = replenishment.import_rules(uow, [rule for _, rule in rows.good], actor)
    except BulkRejected as error:  # changed since it was checked
        raise FileRejected(problems_from(error.errors, lines), rows=rows.count) from None
    return ImportSummary(KIND, rows.count, applied.changed + applied.created, applied.created), []
