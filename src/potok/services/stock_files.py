"""Stock levels from CSV files: every bad row found and named by its line number."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from potok.domain.inventory.commands import LevelRow
from potok.domain.inventory.model import MAX_QUANTITY

REQUIRED_COLUMNS = ("warehouse", "sku", "on_hand")
OPTIONAL_COLUMNS = ("expected_on_hand",)


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    message: str


@dataclass(slots=True)
class ParsedFile:
    rows: list[tuple[int, LevelRow]]
    bad: list[BadRow]


class BadHeader(ValueError):
    """The first line does not name the columns Potok needs."""


def parse_levels(lines: Iterable[str]) -> Iterator[tuple[int, LevelRow | BadRow]]:
    """Rows of ``warehouse,sku,on_hand[,expected_on_hand]`` with a header line.

    Yields ``(line_number, row)`` for good rows and ``(line_number, BadRow)`` for bad ones;
    raises :class:`BadHeader` when the header lacks a required column.
    """
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise BadHeader(
            "the file is empty; the first line must be: warehouse,sku,on_hand"
        ) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise BadHeader(
            f"the header lacks {', '.join(missing)}; the first line must name the columns "
            "warehouse,sku,on_hand (expected_on_hand is optional)"
        )
    index = {
        name: header.index(name)
        for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
        if name in header
    }
    seen: dict[tuple[str, str], int] = {}
    read_so_far = reader.line_num
    for record in reader:
        number = read_so_far + 1  # the line the record starts on, even after multi-line cells
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
        on_hand = _quantity(record[index["on_hand"]], "on_hand", problems)
        expected = None
        if "expected_on_hand" in index and record[index["expected_on_hand"]].strip():
            expected = _quantity(record[index["expected_on_hand"]], "expected_on_hand", problems)
        key = (warehouse, sku)
        if not problems and key in seen:
            problems.append(f"repeats line {seen[key]} for {warehouse}/{sku}")
        if problems:
            yield number, BadRow(number, "; ".join(problems))
            continue
        seen[key] = number
        assert on_hand is not None
        yield number, LevelRow(warehouse, sku, on_hand, expected)


def _quantity(text: str, name: str, problems: list[str]) -> int | None:
    value = text.strip()
    if not (value.isascii() and value.isdigit()):
        problems.append(f"{name} '{value}' is not a whole number of units")
        return None
    quantity = int(value)
    if quantity > MAX_QUANTITY:
        problems.append(f"{name} {quantity} is more than {MAX_QUANTITY}")
        return None
    return quantity
