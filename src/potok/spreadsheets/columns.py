"""Column mapping by header names: each column Potok knows has an English name and
Russian aliases, and a header may name them in any order, case and spacing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Column:
    """A column an import reads: its name (also the English header) and other headers for it."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: str = ""


def normalised(header: str) -> str:
    """A header as compared: lower case, ``ё`` as ``е``, ``_``/``-`` and runs of spaces as one
    space, a byte-order mark and an asterisk (Excel templates mark required columns) dropped."""
    text = header.lstrip("\ufeff").strip().rstrip("*").lower().replace("ё", "е")
    for sign in "_-":
        text = text.replace(sign, " ")
    return " ".join(text.split())


@dataclass(slots=True)
class ColumnMap:
    """Where each known column is in a file's rows, and what is wrong with the header."""

    index: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # name -> the header as written
    problems: list[str] = field(default_factory=list)

    def __contains__(self, name: str) -> bool:
        return name in self.index

    def cell(self, cells: Sequence[str], name: str) -> str:
        """The cell of a column in a row; empty when the file has no such column."""
        where = self.index.get(name)
        if where is None or where >= len(cells):
            return ""
        return cells[where]


def map_header(header: Sequence[str], columns: Sequence[Column]) -> ColumnMap:
    """Find each known column in a header; unknown headers are ignored (an export's extra
    columns may go back in as they are), a known column named twice is a problem."""
    wanted: dict[str, Column] = {}
    for column in columns:
        for name in (column.name, *column.aliases):
            wanted[normalised(name)] = column
    found = ColumnMap()
    for position, text in enumerate(header):
        match = wanted.get(normalised(text))
        if match is None:
            continue
        column = match
        if column.name in found.index:
            found.problems.append(
                f"columns '{found.headers[column.name]}' and '{text.strip()}' both mean "
                f"{column.name}; keep one"
            )
            continue
        found.index[column.name] = position
        found.headers[column.name] = text.strip()
    missing = [c for c in columns if c.required and c.name not in found.index]
    if missing:
        names = ", ".join(
            c.name + (f" ({' / '.join(c.aliases[:1])})" if c.aliases else "") for c in missing
        )
        found.problems.append(
            f"the header lacks {names}; the first row must name the columns, e.g. "
            + ",".join(c.name for c in columns if c.required)
        )
    return found
