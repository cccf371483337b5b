"""Reading a table from CSV or XLSX one row at a time, every cell as text.

CSV may be UTF-8 (with or without a byte-order mark) or Windows-1251, separated by commas,
semicolons (what Excel writes with Russian settings) or tabs; the header line decides.
XLSX is read from the first sheet, streamed (see :mod:`potok.spreadsheets.xlsx`). What a
spreadsheet can hold and a plain table cannot (a formula, a merged cell, an error value)
is kept as a flaw of the cell, for the importer to report with its row and column.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from potok.spreadsheets.formats import FileFormat
from potok.spreadsheets.writing import unsafe_text

SNIFF_BYTES = 64 * 1024


class BadFile(ValueError):
    """The file cannot be read as a table at all (not a workbook, not text, no header)."""


@dataclass(slots=True)
class Record:
    """One row of a file: its number as the operator sees it (the line, or the Excel row),
    the cells as trimmed text, and what is wrong with cells as cells (by column position)."""

    number: int
    cells: list[str]
    flaws: list[tuple[int, str]] = field(default_factory=list)
    late: bool = False  # flaws found after the row was read (merged cells): no cells here


class Table:
    """A file's header and its rows, read lazily; iterate once."""

    def __init__(self, header: Record, rows: Iterator[Record], total: int | None) -> None:
        self.header = header
        self._rows = rows
        self.total = total  # about how many rows follow the header, for progress bars
        self.sha256: str | None = None  # the file's digest, when read from a file

    def __iter__(self) -> Iterator[Record]:
        return self._rows


def read_table(source: IO[bytes], fmt: FileFormat) -> Table:
    """The table in a seekable binary file; raises :class:`BadFile` when there is none."""
    digest = _sha256(source)
    table = _read_xlsx(source) if fmt is FileFormat.XLSX else _read_csv(source)
    table.sha256 = digest
    return table


def _sha256(source: IO[bytes]) -> str:
    """The file's SHA-256 (for the audit trail), read from where it stands, then rewound."""
    start = source.tell()
    digest = hashlib.sha256()
    while chunk := source.read(1 << 20):
        digest.update(chunk)
    source.seek(start)
    return digest.hexdigest()


# ---------------------------------------------------------------------- CSV


def short_row(record: Record, width: int) -> Record:
    """A CSV record with fewer cells than the header has lost a separator (or a cell): a
    flaw of the row, unless it is empty."""
    if 0 < len(record.cells) < width and any(record.cells):
        record.flaws.append(
            (len(record.cells), f"the row has {len(record.cells)} cells, the header {width}")
        )
    return record


def _encoding(source: IO[bytes]) -> str:
    start = source.read(SNIFF_BYTES)
    source.seek(0)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(start, final=False)
    except UnicodeDecodeError:
        return "cp1251"
    return "utf-8"


def _count_lines(source: IO[bytes]) -> int:
    count = 0
    while chunk := source.read(1 << 20):
        count += chunk.count(b"\n")
    source.seek(0)
    return count


def _read_csv(source: IO[bytes]) -> Table:
    encoding = _encoding(source)
    total = _count_lines(source)
    text = io.TextIOWrapper(source, encoding=encoding, newline="")
    try:
        first = text.readline()
    except UnicodeDecodeError:
        raise BadFile("the file is neither UTF-8 nor Windows-1251 text") from None
    if not first.strip():
        raise BadFile("the file is empty; its first line must name the columns")
    delimiter = max(",;\t", key=first.count)
    header = next(csv.reader([first], delimiter=delimiter))
    reader = csv.reader(text, delimiter=delimiter)

    def rows() -> Iterator[Record]:
        read_so_far = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise BadFile(
                    f"line {read_so_far + 1} is not {encoding} text; save the file as CSV UTF-8"
                ) from None
            except csv.Error as error:
                raise BadFile(f"line {read_so_far + 1}: {error}") from None
            number = read_so_far + 1  # the line a record starts on, even after multi-line cells
            read_so_far = reader.line_num + 1
            yield short_row(Record(number, [unsafe_text(c).strip() for c in cells]), len(header))

    return Table(Record(1, [h.strip() for h in header]), rows(), max(total - 1, 0))


# ---------------------------------------------------------------------- XLSX


def _read_xlsx(source: IO[bytes]) -> Table:
    from potok.spreadsheets.xlsx import NotAWorkbook, Sheet

    try:
        sheet = Sheet(source)
    except NotAWorkbook as error:
        raise BadFile(f"the file is not an XLSX workbook: {error}") from None
    rows = sheet.rows()

    def read(found: Iterator[tuple[int, list[str], list[tuple[int, str]]]]) -> Iterator[Record]:
        try:
            for number, cells, flaws in found:
                yield Record(number, cells, flaws)
        except NotAWorkbook as error:
            raise BadFile(f"the file is not an XLSX workbook: {error}") from None

    records = read(rows)
    first = next(records, None)
    if first is None or first.number != 1:
        sheet.close()
        raise BadFile("the first row of the first sheet must name the columns; it is empty")

    def rest() -> Iterator[Record]:
        try:
            yield from records
            yield from _merged(sheet.merged)
        finally:
            sheet.close()

    total = sheet.total - 1 if sheet.total else None
    return Table(first, rest(), total)


def _merged(ranges: list[str]) -> Iterator[Record]:
    """Merged ranges (written after the rows in a sheet) as flaws of the rows they cover."""
    from potok.spreadsheets.xlsx import column_index

    for ref in ranges:
        start, _, end = ref.partition(":")
        first_col = column_index("".join(c for c in start if c.isalpha()))
        first_row = int("".join(c for c in start if c.isdigit()) or 0)
        last_row = int("".join(c for c in (end or start) if c.isdigit()) or first_row)
        for number in range(first_row, last_row + 1):
            yield Record(
                number,
                [],
                [
                    (
                        first_col,
                        f"is part of the merged cells {ref}; unmerge them and fill every cell",
                    )
                ],
                late=True,
            )
