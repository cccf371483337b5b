"""Writing a table to CSV or XLSX one row at a time.

CSV is UTF-8 with a byte-order mark (so that Excel shows Cyrillic right) and commas.
XLSX is written as a stream into the zip (see :mod:`potok.spreadsheets.xlsx`); text that
starts with ``=`` stays text, never a formula. Times are written in UTC.
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


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
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
