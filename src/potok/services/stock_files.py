"""Stock levels from CSV files: every bad row found and named by its line number."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from potok.domain.inventory.commands import LevelRow
from potok.domain.inventory.lots import LotInput
from potok.domain.inventory.model import MAX_QUANTITY

REQUIRED_COLUMNS = ("warehouse", "sku", "on_hand")
OPTIONAL_COLUMNS = ("expected_on_hand", "lot", "produced_on", "expires_on", "serials")


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
    """Rows of ``warehouse,sku,on_hand[,expected_on_hand,lot,produced_on,expires_on,serials]``
    with a header line. ``lot`` names the lot of products kept by lot (its dates in ISO
    form, optional); ``serials`` lists the units of serialised products, separated by ``;``.

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
    seen: dict[tuple[str, str, str], int] = {}
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
        lot_number = _cell(record, index, "lot")
        produced = _date(_cell(record, index, "produced_on"), "produced_on", problems)
        expires = _date(_cell(record, index, "expires_on"), "expires_on", problems)
        if (produced or expires) and not lot_number:
            problems.append("produced_on and expires_on need a lot")
        serial_cell = _cell(record, index, "serials")
        serials = (
            tuple(s.strip() for s in serial_cell.split(";") if s.strip()) if serial_cell else None
        )
        key = (warehouse, sku, lot_number)
        if not problems and key in seen:
            where = f"{warehouse}/{sku}" + (f"/{lot_number}" if lot_number else "")
            problems.append(f"repeats line {seen[key]} for {where}")
        if problems:
            yield number, BadRow(number, "; ".join(problems))
            continue
        seen[key] = number
        assert on_hand is not None
        lot = LotInput(lot_number, produced, expires) if lot_number else None
        yield number, LevelRow(warehouse, sku, on_hand, expected, lot, serials)


def _cell(record: list[str], index: dict[str, int], name: str) -> str:
    return record[index[name]].strip() if name in index else ""


def _date(text: str, name: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{name} '{text}' is not a date (YYYY-MM-DD)")
        return None


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
