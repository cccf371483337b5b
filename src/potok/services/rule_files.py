"""Min/max rules from CSV files: every bad row found and named by its line number."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from potok.domain.inventory.model import MAX_QUANTITY
from potok.domain.inventory.replenishment import SetStockRule
from potok.services.stock_files import BadHeader, BadRow

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
