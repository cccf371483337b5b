"""The item map from a CSV file: ``sku,item[,product,article,barcode]`` with a header line,
columns in any order; every bad line is named."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.marketplaces import ItemMapping
from potok.domain.marketplaces.items import MAX_MAPPED_AT_ONCE

REQUIRED = ("sku", "item")
OPTIONAL = ("product", "article", "barcode")
HEADER = "sku,item,product,article,barcode"


def parse_items(lines: Iterable[str]) -> tuple[list[ItemMapping], list[str]]:
    """The rows of the file as mappings, and each one's name (``line N``); InvalidInput
    naming each bad line when the header or any row is wrong. Whether the SKUs exist is the
    mapping's to check."""
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise InvalidInput(
            [FieldError("file", f"the file is empty; the first line must be: {HEADER}", "empty")]
        ) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInput(
            [
                FieldError(
                    "header",
                    f"lacks {', '.join(missing)}; the first line names the columns {HEADER} "
                    "(product, article and barcode are optional)",
                    "bad-header",
                )
            ]
        )
    index = {name: header.index(name) for name in (*REQUIRED, *OPTIONAL) if name in header}
    rows: list[ItemMapping] = []
    names: list[str] = []
    problems: list[FieldError] = []
    for record in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        cells = {
            name: (record[at].strip() if at < len(record) else "") for name, at in index.items()
        }
        if not cells["sku"] or not cells["item"]:
            problems.append(FieldError(f"line {number}", "sku and item are required", "required"))
            continue
        rows.append(
            ItemMapping(
                cells["sku"],
                cells["item"],
                product=cells.get("product") or None,
                article=cells.get("article") or None,
                barcode=cells.get("barcode") or None,
            )
        )
        names.append(f"line {number}")
        if len(rows) > MAX_MAPPED_AT_ONCE:
            problems.append(
                FieldError("file", f"at most {MAX_MAPPED_AT_ONCE} rows at once", "too-many")
            )
            break
    if problems:
        raise InvalidInput(problems)
    return rows, names
