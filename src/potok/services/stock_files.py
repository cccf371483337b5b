"""Stock levels from CSV and XLSX files: every bad cell named by its row and column.

The first row names the columns, in English or Russian, in any order:

- ``warehouse`` / ``склад``: the warehouse code (required)
- ``sku`` / ``артикул``: the product's SKU (required)
- ``on_hand`` / ``остаток``: units on hand, a whole number (required)
- ``expected_on_hand`` / ``ожидаемый остаток``: what the sender believes Potok has now;
  a row whose belief is stale is refused (compare-and-set)
- ``lot`` / ``партия``, ``produced_on`` / ``дата производства``, ``expires_on`` /
  ``годен до``: the lot of products kept by lot, its dates as YYYY-MM-DD or DD.MM.YYYY
- ``serials`` / ``серийные номера``: the units of serialised products, separated by ``;``

Other columns are ignored, so a stock export goes back in as it is.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from potok.collector import collector_held
from potok.domain.inventory import MovementType
from potok.domain.inventory.commands import LevelRow, SetLevels
from potok.domain.inventory.errors import BulkRejected
from potok.domain.inventory.lots import LotInput
from potok.domain.inventory.model import MAX_QUANTITY
from potok.domain.kernel import Actor
from potok.services.file_imports import (
    Cells,
    FileRejected,
    ImportSummary,
    Progress,
    RowProblem,
    Rows,
    in_order,
    open_table,
    problems_from,
    read_rows,
)
from potok.services.unit_of_work import UnitOfWork
from potok.spreadsheets import Column, ColumnMap, FileFormat, Record
from potok.spreadsheets.reading import Table, short_row

KIND = "stock-levels"
COLUMNS = (
    Column("warehouse", ("склад", "код склада"), required=True),
    Column("sku", ("артикул",), required=True),
    Column("on_hand", ("остаток", "в наличии", "количество"), required=True),
    Column("expected_on_hand", ("ожидаемый остаток", "было")),
    Column("lot", ("партия", "номер партии")),
    Column("produced_on", ("дата производства", "произведено")),
    Column("expires_on", ("годен до", "срок годности")),
    Column("serials", ("серийные номера", "серийные")),
)
MAX_REPAIRS = 3
"""How many times a --skip-bad import drops rows the database refused and tries again."""


def level_row(cells: Cells) -> LevelRow | None:
    """One row as a level to set, or None with the problems recorded in ``cells``."""
    warehouse = cells.required("warehouse")
    sku = cells.required("sku")
    on_hand = cells.whole("on_hand", maximum=MAX_QUANTITY)
    expected = None
    if cells.text("expected_on_hand"):
        expected = cells.whole("expected_on_hand", maximum=MAX_QUANTITY)
    lot_number = cells.text("lot")
    produced = cells.date("produced_on")
    expires = cells.date("expires_on")
    if (produced or expires) and not lot_number:
        cells.bad("lot", "produced_on and expires_on need a lot")
    serial_cell = cells.text("serials")
    serials = tuple(s.strip() for s in serial_cell.split(";") if s.strip()) if serial_cell else None
    if on_hand is None or cells.problems:
        return None
    lot = LotInput(lot_number, produced, expires) if lot_number else None
    return LevelRow(warehouse, sku, on_hand, expected, lot, serials)


def _key(row: LevelRow) -> tuple[str, str, str]:
    return (row.warehouse, row.sku, row.lot.number if row.lot else "")


def plain_levels(header: ColumnMap) -> Callable[[Record], LevelRow | None]:
    """Rows naming a warehouse, a SKU, an on-hand and perhaps the expected one, and no
    lot or serial numbers - a whole stock count - read straight from their cells: what
    :func:`level_row` makes of them, without collecting problems there are none of. Any
    other row (one with a problem too) is left to :func:`level_row`."""
    at = header.index
    warehouse, sku, on_hand = at["warehouse"], at["sku"], at["on_hand"]
    expected = at.get("expected_on_hand")
    others = [at[name] for name in ("lot", "produced_on", "expires_on", "serials") if name in at]
    width = max(warehouse, sku, on_hand, expected or 0)

    def parse(record: Record) -> LevelRow | None:
        cells = record.cells
        if record.flaws or len(cells) <= width:
            return None
        count = cells[on_hand]
        if not (cells[warehouse] and cells[sku] and count.isascii() and count.isdigit()):
            return None
        level = int(count)
        believed = None
        if expected is not None and cells[expected]:
            text = cells[expected]
            if not (text.isascii() and text.isdigit()):
                return None
            believed = int(text)
            if believed > MAX_QUANTITY:
                return None
        if level > MAX_QUANTITY or any(p < len(cells) and cells[p] for p in others):
            return None
        return LevelRow(cells[warehouse], cells[sku], level, believed)

    return parse


def read_levels(table: Table, *, progress: Progress | None = None) -> Rows[LevelRow]:
    """The levels a table asks for, and the problems of its bad rows."""
    return read_rows(table, COLUMNS, level_row, _key, progress=progress, quick=plain_levels)


def import_levels(
    uow: UnitOfWork,
    source: IO[bytes],
    fmt: FileFormat,
    actor: Actor,
    *,
    reference: str,
    origin: str = "file",
    skip_bad: bool = False,
    progress: Progress | None = None,
) -> tuple[ImportSummary, list[RowProblem]]:
    """Set the on-hand levels a file lists, in one transaction; each change is a ledger
    movement of type ``import``. Raises :class:`FileRejected` when a row is bad, unless
    ``skip_bad`` (then the good rows are applied and the bad ones returned)."""
    rows = read_levels(open_table(source, fmt, COLUMNS), progress=progress)
    return apply_levels(uow, rows, actor, reference=reference, origin=origin, skip_bad=skip_bad)


def apply_levels(
    uow: UnitOfWork,
    rows: Rows[LevelRow],
    actor: Actor,
    *,
    reference: str,
    origin: str = "file",
    skip_bad: bool = False,
) -> tuple[ImportSummary, list[RowProblem]]:
    """Apply read levels through the bulk path of ``PUT /stock/levels`` (all or nothing),
    with the cyclic garbage collector paused as while reading them (its full passes walked
    the 100,000 rows held, a second of CPU)."""
    with collector_held():
        return _apply_levels(uow, rows, actor, reference, origin, skip_bad)


def _apply_levels(
    uow: UnitOfWork,
    rows: Rows[LevelRow],
    actor: Actor,
    reference: str,
    origin: str,
    skip_bad: bool,
) -> tuple[ImportSummary, list[RowProblem]]:
    from potok.services import inventory

    problems = list(rows.problems) + unknown_references(uow, rows.good)
    if problems and not skip_bad:
        raise FileRejected(problems, rows=rows.count)
    bad = {p.row for p in problems}
    good = [(line, row) for line, row in rows.good if line not in bad]
    for _ in range(MAX_REPAIRS):
        if not good:
            break
        try:
            applied = inventory.set_levels(
                uow,
                SetLevels(
                    [row for _, row in good],
                    source=origin,
                    reference=reference[:200],
                    movement=MovementType.IMPORT,
                    file_sha256=rows.sha256,
                ),
                actor,
            )
        except BulkRejected as error:
            found = problems_from(error.errors, [line for line, _ in good])
            if not skip_bad:
                raise FileRejected(problems + found, rows=rows.count) from None
            problems.extend(found)
            refused = {p.row for p in found}
            good = [(line, row) for line, row in good if line not in refused]
            continue
        summary = ImportSummary(
            KIND,
            rows.count,
            changed=applied.changed,
            created=applied.created,
            skipped=len({p.row for p in problems}),
        )
        return summary, in_order(problems)
    skipped = len({p.row for p in problems})
    return ImportSummary(KIND, rows.count, 0, 0, skipped=skipped), in_order(problems)


def unknown_references(uow: UnitOfWork, good: list[tuple[int, LevelRow]]) -> list[RowProblem]:
    """Rows naming a warehouse or SKU Potok does not know (read before anything is written,
    so that one answer lists every bad row)."""
    with uow.read():
        warehouses = uow.warehouses.ids_for(sorted({r.warehouse for _, r in good}))
        products = uow.products.ids_for({r.sku for _, r in good})
    problems = []
    for line, row in good:
        if row.warehouse not in warehouses:
            problems.append(
                RowProblem(
                    line, "warehouse", f"there is no warehouse '{row.warehouse}'", row.warehouse
                )
            )
        if row.sku not in products:
            problems.append(
                RowProblem(line, "sku", f"there is no product with SKU '{row.sku}'", row.sku)
            )
    return problems


# ---------------------------------------------------------------------- plain CSV lines


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    message: str


class BadHeader(ValueError):
    """The first line does not name the columns Potok needs."""


def parse_levels(lines: Iterable[str]) -> Iterator[tuple[int, LevelRow | BadRow]]:
    """Rows of CSV text with a header line, as :func:`read_levels` reads a file: yields
    ``(line_number, row)`` for good rows and ``(line_number, BadRow)`` for bad ones, in file
    order; raises :class:`BadHeader` when the header lacks a required column."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise BadHeader(
            "the file is empty; the first line must be: warehouse,sku,on_hand"
        ) from None

    def records() -> Iterator[Record]:
        read_so_far = reader.line_num
        for cells in reader:
            number = read_so_far + 1
            read_so_far = reader.line_num
            yield short_row(Record(number, [c.strip() for c in cells]), len(header))

    table = Table(Record(1, [h.strip() for h in header]), records(), None)
    try:
        rows = read_levels(table)
    except FileRejected as error:
        raise BadHeader("; ".join(p.message for p in error.problems)) from None
    by_line: dict[int, LevelRow | BadRow] = dict(rows.good)
    messages: dict[int, list[str]] = {}
    for problem in rows.problems:
        where = f"{problem.column}: " if problem.column else ""
        messages.setdefault(problem.row, []).append(where + problem.message)
    for line, texts in messages.items():
        by_line[line] = BadRow(line, "; ".join(texts))
    yield from sorted(by_line.items())
