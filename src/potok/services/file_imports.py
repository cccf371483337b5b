"""What every file import shares: reading rows by column name, naming each problem by its
row and column, refusing the file as a whole, and writing the problems back as a report.

A file is all or nothing: any bad row and nothing of it is applied (the CLI's
``--skip-bad`` applies the good rows and still reports the bad ones). The report of a
refused file is a table in the file's own format with the row, the column, the value and
what to fix, so an operator fixes the same spreadsheet line by line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, ClassVar, Generic, TypeVar

from potok.collector import collector_held
from potok.domain.errors import FieldError, Rejected
from potok.spreadsheets import Column, ColumnMap, FileFormat, Record, map_header, write_table
from potok.spreadsheets.reading import BadFile, Table

T = TypeVar("T")

MAX_PROBLEMS_SHOWN = 1000
"""A refused file's problem document lists at most this many problems; the report has all."""

Progress = Callable[[int], None]
"""Told how many rows have been read so far."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with a file: the row (1 is the header), the column, the cell's value."""

    row: int
    column: str | None
    message: str
    value: str = ""

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


def in_order(problems: Sequence[RowProblem]) -> list[RowProblem]:
    """Problems by row, then column, as a person reads the file."""
    return sorted(problems, key=lambda p: (p.row, p.column or ""))


class FileRejected(Rejected):
    """A file with bad rows (or no usable header): nothing of it was applied."""

    code: ClassVar[str] = "invalid-import-file"
    title: ClassVar[str] = "The file has errors; nothing was changed"

    def __init__(self, problems: Sequence[RowProblem] = (), *, rows: int = 0) -> None:
        self.problems = in_order(problems)
        bad_rows = len({p.row for p in self.problems})
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f"; and {len(self.problems) - 5} more" if len(self.problems) > 5 else ""
        super().__init__(
            f"{bad_rows} of {rows} rows have errors, nothing was changed: {shown}{more}",
            rows=rows,
            bad_rows=bad_rows,
            problems=[p.as_dict() for p in self.problems[:MAX_PROBLEMS_SHOWN]],
        )


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did."""

    kind: str
    rows: int  # rows read, the header not counted
    changed: int  # rows that changed something
    created: int  # of those, rows that created something (a product, a stock position)
    skipped: int = 0  # bad rows left out (only with skip_bad)


@dataclass(slots=True)
class Rows(Generic[T]):
    """A file's good rows with their row numbers, and the problems of the bad ones."""

    good: list[tuple[int, T]]
    problems: list[RowProblem]
    count: int
    sha256: str | None = None  # the file's digest

    @property
    def bad_rows(self) -> set[int]:
        return {p.row for p in self.problems}


class Cells:
    """One record's cells by column name, collecting what is wrong with them."""

    def __init__(self, record: Record, columns: ColumnMap, names: dict[int, str]) -> None:
        self.record = record
        self.columns = columns
        self.problems: list[RowProblem] = [
            RowProblem(record.number, names.get(position), flaw, _at(record.cells, position))
            for position, flaw in record.flaws
        ]

    def has(self, name: str) -> bool:
        return name in self.columns

    def text(self, name: str) -> str:
        return self.columns.cell(self.record.cells, name)

    def bad(self, name: str | None, message: str) -> None:
        """Record a problem of a cell (one per cell: a formula is not also "not a number")."""
        if name is not None and any(p.column == name for p in self.problems):
            return
        value = self.text(name) if name else ""
        self.problems.append(RowProblem(self.record.number, name, message, value))

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            self.bad(name, "is empty")
        return value

    def whole(self, name: str, *, maximum: int) -> int | None:
        value = self.text(name)
        if not (value.isascii() and value.isdigit()):
            self.bad(name, f"'{value}' is not a whole number from 0 to {maximum}")
            return None
        number = int(value)
        if number > maximum:
            self.bad(name, f"{number} is more than {maximum}")
            return None
        return number

    def decimal(self, name: str) -> Decimal | None:
        value = self.text(name).replace(" ", "").replace("\u00a0", "").replace(",", ".")
        try:
            number = Decimal(value.removesuffix("%"))
        except InvalidOperation:
            self.bad(name, f"'{self.text(name)}' is not a number (e.g. 1499.90 or 1499,90)")
            return None
        if not number.is_finite():
            self.bad(name, f"'{self.text(name)}' is not a number")
            return None
        return number

    def date(self, name: str) -> date | None:
        value = self.text(name)
        if not value:
            return None
        found = parse_date(value)
        if found is None:
            self.bad(name, f"'{value}' is not a date; write it as YYYY-MM-DD or DD.MM.YYYY")
        return found

    def flag(self, name: str) -> bool | None:
        value = self.text(name).lower()
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        self.bad(name, f"'{self.text(name)}' is neither yes nor no (true/false, да/нет, 1/0)")
        return None


TRUE = frozenset({"true", "yes", "1", "да", "y", "д", "истина"})
FALSE = frozenset({"false", "no", "0", "нет", "n", "н", "ложь"})


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` or the Russian ``DD.MM.YYYY``; None for anything else."""
    try:
        if "." in text:
            return datetime.strptime(text, "%d.%m.%Y").date()
        return date.fromisoformat(text)
    except ValueError:
        return None


MOMENT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M")


def parse_moment(text: str) -> datetime | None:
    """An instant as ISO 8601, ``YYYY-MM-DD HH:MM[:SS]`` or ``DD.MM.YYYY HH:MM[:SS]``, in
    UTC unless it carries an offset; None for anything else."""
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        found = None
        for pattern in MOMENT_FORMATS:
            try:
                found = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if found is None:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _at(cells: Sequence[str], position: int) -> str:
    return cells[position] if position < len(cells) else ""


QuickParse = Callable[[ColumnMap], Callable[[Record], T | None] | None]
"""Given a file's header, a parser of plain rows straight from their cells (None: none for
this header): it returns what ``parse`` would for a row it takes, and None for any row it
leaves to ``parse`` (one with a problem, or with cells it does not read)."""


def read_rows(
    table: Table,
    columns: Sequence[Column],
    parse: Callable[[Cells], T | None],
    key: Callable[[T], object],
    *,
    progress: Progress | None = None,
    quick: QuickParse[T] | None = None,
) -> Rows[T]:
    """Every row of a table parsed, bad ones as problems; a key seen twice is a problem too."""
    header = map_header(table.header.cells, columns)
    names = {position: name for name, position in header.index.items()}
    header_problems = [RowProblem(1, None, message) for message in header.problems]
    header_problems += [
        RowProblem(1, names.get(position), flaw) for position, flaw in table.header.flaws
    ]
    if header_problems:
        raise FileRejected(header_problems, rows=0)
    found: Rows[T] = Rows([], [], 0, table.sha256)
    seen: dict[object, int] = {}
    plain = quick(header) if quick is not None else None
    with collector_held():  # the rows make no cycles: see potok/collector.py
        for record in table:
            if record.late:
                found.problems.extend(Cells(record, header, names).problems)
                continue
            if not any(record.cells) and not record.flaws:
                continue
            found.count += 1
            if progress is not None and found.count % 1000 == 0:
                progress(found.count)
            quickly = plain(record) if plain is not None else None
            if quickly is not None:
                row_key = key(quickly)
                if row_key not in seen:
                    seen[row_key] = record.number
                    found.good.append((record.number, quickly))
                    continue
            cells = Cells(record, header, names)
            parsed = parse(cells)
            if parsed is not None and not cells.problems:
                row_key = key(parsed)
                if row_key in seen:
                    cells.bad(None, f"repeats row {seen[row_key]} for {_shown(row_key)}")
                else:
                    seen[row_key] = record.number
            if cells.problems:
                found.problems.extend(cells.problems)
            elif parsed is not None:
                found.good.append((record.number, parsed))
    if progress is not None:
        progress(found.count)
    if found.problems:
        bad = found.bad_rows
        found.good = [(number, row) for number, row in found.good if number not in bad]
    return found


def _shown(key: object) -> str:
    if isinstance(key, tuple):
        return "/".join(str(part) for part in key if part)
    return str(key)


def open_table(source: IO[bytes], fmt: FileFormat, columns: Sequence[Column]) -> Table:
    """The table in a file, or the file refused as a whole (saying which columns it needs)."""
    from potok.spreadsheets import read_table

    try:
        return read_table(source, fmt)
    except BadFile as error:
        needed = ",".join(c.name for c in columns if c.required)
        message = f"{error}; the first row must name the columns, e.g. {needed}"
        raise FileRejected([RowProblem(1, None, message)], rows=0) from None


def counted(rows: Iterable[T], progress: Progress | None) -> Iterator[T]:
    """The rows as they are, telling ``progress`` every thousand."""
    count = 0
    for row in rows:
        yield row
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(count)
    if progress is not None:
        progress(count)


def problems_from(
    errors: Sequence[FieldError], lines: Sequence[int], columns: dict[str, str] | None = None
) -> list[RowProblem]:
    """A batch's field errors (``rows[3].sku``) as problems of the file rows they came from."""
    found = []
    for error in errors:
        head, _, field = error.field.partition(".")
        if head.startswith("rows[") and head.endswith("]"):
            index = int(head[5:-1])
            row = lines[index] if index < len(lines) else 0
        else:
            row, field = 0, error.field
        column = field.split("[")[0] or None
        if columns is not None and column is not None:
            column = columns.get(column, column)
        found.append(RowProblem(row, column, error.message))
    return found


REPORT_HEADER = ("row", "column", "value", "problem")


def report_rows(problems: Sequence[RowProblem]) -> Iterator[tuple[int, str, str, str]]:
    for problem in problems:
        yield problem.row, problem.column or "", problem.value, problem.message


def write_report(out: IO[bytes], fmt: FileFormat, problems: Sequence[RowProblem]) -> int:
    """The problems as a table in the file's own format: row, column, value, problem."""
    return write_table(out, fmt, REPORT_HEADER, report_rows(problems), title="Problems")
