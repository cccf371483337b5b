"""Writing a table to CSV or XLSX one row at a time.

CSV is UTF-8 with a byte-order mark (so that Excel shows Cyrillic right) and commas.
XLSX is written as a stream into the zip (see :mod:`potok.spreadsheets.xlsx`); text that
starts with ``=`` stays text, never a formula. Times are written in UTC.

Text a spreadsheet would take for a formula (starting with ``= + - @``, a tab or a carriage
return: a customer's name ``=HYPERLINK(...)``) is written to CSV behind an apostrophe, as
OWASP advises against CSV injection; reading a CSV takes that apostrophe off again, so an
exported file imports back unchanged. XLSX cells hold text as inline strings, which a
spreadsheet never evaluates, so they keep the text as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from potok.spreadsheets.formats import FileFormat

Value = str | int | Decimal | date | datetime | bool | None


def write_table(
    out: IO[bytes],
    fmt: FileFormat,
    header: Sequence[str],
    rows: Iterable[Sequence[Value]],
    *,
    title: str = "Potok",
) -> int:
    """Write the header and every row; return how many rows (besides the header) were written."""
    if fmt is FileFormat.XLSX:
        return _write_xlsx(out, header, rows, title)
    return _write_csv(out, header, rows)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a cell that a spreadsheet would evaluate as a formula starts."""


def safe_text(text: str) -> str:
    """Text for a CSV cell that no spreadsheet runs as a formula: behind an apostrophe when
    it starts like one (numbers are written as numbers, never through here)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unsafe_text(text: str) -> str:
    """The text :func:`safe_text` wrote (an apostrophe before a formula's start taken off)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return safe_text(value)
    return str(value)


def _write_csv(out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Value]]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
        count += 1
    text.flush()
    text.detach()
    return count


def _write_xlsx(
    out: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Value]], title: str
) -> int:
    from potok.spreadsheets.xlsx import write_xlsx

    return write_xlsx(out, header, rows, title=title)
