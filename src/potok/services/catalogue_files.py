"""Products from CSV and XLSX files: created or replaced by SKU, with their barcodes.

The first row names the columns, in English or Russian, in any order; only ``sku`` is
required. A column the file does not have keeps each product's value (a new product
takes the default); a column it has sets the value for every row, an empty cell clearing
it. New products need ``name``, ``price`` and ``vat_rate``.

- ``sku`` / ``артикул``; ``name`` / ``наименование``; ``price`` / ``цена`` (roubles, a dot
  or a comma before kopecks); ``vat_rate`` / ``ставка ндс`` (22, 10, 0; ``%`` allowed)
- ``barcode`` / ``штрихкод``; ``barcodes`` / ``доп. штрихкоды`` (more, separated by ``;``)
- ``weight_g`` / ``вес, г``; ``active`` / ``активен`` (yes/no, да/нет, 1/0)
- ``tracking`` / ``учёт``: none, lot or serial (нет, партия, серийный)
- ``removal_strategy`` / ``стратегия отбора``: fefo, fifo or empty (the warehouse's)
- ``unit_identifiers`` / ``идентификаторы``: marking, imei, uin (маркировка, imei, уин),
  separated by ``;``
- ``parcel_group`` / ``группа посылок``
- ``category`` / ``категория``: the code of an existing category (empty: in none)

A row that changes nothing changes nothing: the same file twice is imported once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from potok.domain.catalogue import Product, ProductDraft
from potok.domain.catalogue.events import ProductCreated, ProductUpdated
from potok.domain.catalogue.model import MAX_BARCODES
from potok.domain.errors import InvalidInput
from potok.domain.events import plain
from potok.domain.fulfilment import UnitIdentifier
from potok.domain.kernel import Clock, RemovalStrategy, Tracking, utc_now
from potok.services.categories import unknown_categories
from potok.services.file_imports import (
    Cells,
    FileRejected,
    ImportSummary,
    Progress,
    RowProblem,
    Rows,
    in_order,
    open_table,
    read_rows,
)
from potok.services.unit_of_work import UnitOfWork, atomically
from potok.spreadsheets import Column, FileFormat

KIND = "products"
COLUMNS = (
    Column("sku", ("артикул",), required=True),
    Column("name", ("наименование", "название", "товар")),
    Column("price", ("цена", "цена, руб")),
    Column("vat_rate", ("ставка ндс", "ндс", "ндс, %")),
    Column("barcode", ("штрихкод", "штрих код", "ean")),
    Column("barcodes", ("доп. штрихкоды", "другие штрихкоды", "штрихкоды")),
    Column("weight_g", ("вес, г", "вес г", "вес")),
    Column("active", ("активен", "активный", "в продаже")),
    Column("tracking", ("учет", "вид учета")),
    Column("removal_strategy", ("стратегия отбора",)),
    Column("unit_identifiers", ("идентификаторы", "идентификаторы единиц")),
    Column("parcel_group", ("группа посылок",)),
    Column("category", ("категория", "код категории")),
)
HEADER = tuple(c.name for c in COLUMNS)
TRACKING_WORDS = {
    "": Tracking.NONE,
    "none": Tracking.NONE,
    "нет": Tracking.NONE,
    "lot": Tracking.LOT,
    "партия": Tracking.LOT,
    "партии": Tracking.LOT,
    "serial": Tracking.SERIAL,
    "серийный": Tracking.SERIAL,
    "серийные номера": Tracking.SERIAL,
}
IDENTIFIER_WORDS = {
    "marking": UnitIdentifier.MARKING,
    "маркировка": UnitIdentifier.MARKING,
    "честный знак": UnitIdentifier.MARKING,
    "imei": UnitIdentifier.IMEI,
    "uin": UnitIdentifier.UIN,
    "уин": UnitIdentifier.UIN,
}
NEEDED_FOR_NEW = ("name", "price", "vat_rate")
LOOKUP_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class ProductRow:
    """One row: the SKU and the fields the file sets (those of its columns)."""

    sku: str
    fields: tuple[tuple[str, Any], ...]


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", ";").split(";") if part.strip()]


def product_row(cells: Cells) -> ProductRow | None:
    """One row as the product fields it sets, or None with the problems in ``cells``."""
    sku = cells.required("sku")
    fields: dict[str, Any] = {}
    for name in ("name", "parcel_group"):
        if cells.has(name):
            fields[name] = cells.text(name)
    for name in ("price", "vat_rate"):
        if cells.has(name):
            fields[name] = cells.decimal(name) if cells.required(name) else None
    if cells.has("barcode"):
        fields["barcode"] = cells.text("barcode") or None
    if cells.has("category"):
        fields["category"] = cells.text("category") or None
    if cells.has("barcodes"):
        barcodes = _split(cells.text("barcodes"))
        if len(barcodes) > MAX_BARCODES:
            cells.bad("barcodes", f"at most {MAX_BARCODES} barcodes")
        fields["barcodes"] = tuple(barcodes)
    if cells.has("weight_g"):
        fields["weight_g"] = (
            cells.whole("weight_g", maximum=10_000_000) if cells.text("weight_g") else 0
        )
    if cells.has("active"):
        fields["active"] = cells.flag("active") if cells.text("active") else True
    if cells.has("tracking"):
        tracking = TRACKING_WORDS.get(cells.text("tracking").lower())
        if tracking is None:
            cells.bad("tracking", "must be none, lot or serial (нет, партия, серийный)")
        fields["tracking"] = tracking
    if cells.has("removal_strategy"):
        word = cells.text("removal_strategy").lower()
        if word and word not in ("fefo", "fifo"):
            cells.bad("removal_strategy", "must be fefo, fifo or empty (the warehouse's)")
        fields["removal_strategy"] = RemovalStrategy(word) if word in ("fefo", "fifo") else None
    if cells.has("unit_identifiers"):
        kinds = set()
        for word in _split(cells.text("unit_identifiers")):
            kind = IDENTIFIER_WORDS.get(word.lower())
            if kind is None:
                cells.bad("unit_identifiers", f"'{word}' is none of marking, imei, uin")
            else:
                kinds.add(kind)
        fields["unit_identifiers"] = frozenset(kinds)
    if cells.problems:
        return None
    return ProductRow(sku, tuple(fields.items()))


def read_products(table: Any, *, progress: Progress | None = None) -> Rows[ProductRow]:
    """The products a table describes, and the problems of its bad rows."""
    return read_rows(table, COLUMNS, product_row, lambda row: row.sku, progress=progress)


def import_products(
    uow: UnitOfWork,
    source: IO[bytes],
    fmt: FileFormat,
    *,
    skip_bad: bool = False,
    progress: Progress | None = None,
    clock: Clock = utc_now,
) -> tuple[ImportSummary, list[RowProblem]]:
    """Create or replace the products a file lists, in one transaction, each with a
    ``product.created`` or ``product.updated`` event. Raises :class:`FileRejected` when a row
    is bad, unless ``skip_bad`` (then the good rows are applied and the bad ones returned)."""
    rows = read_products(open_table(source, fmt, COLUMNS), progress=progress)
    return apply_products(uow, rows, skip_bad=skip_bad, clock=clock)


def draft_of(product: Product) -> ProductDraft:
    """What a product is, as a draft to compare a row against."""
    return ProductDraft(
        product.sku,
        product.name,
        product.price,
        product.vat_rate,
        product.barcode,
        product.weight_g,
        product.active,
        product.tracking,
        product.removal_strategy,
        product.barcodes,
        product.unit_identifiers,
        product.parcel_group,
        product.category,
    )


def product_of(before: Product, draft: ProductDraft, at: datetime) -> Product:
    """The product as a replace by ``draft`` at ``at`` leaves it (what the table now holds)."""
    return dataclasses.replace(
        before,
        name=draft.name,
        price=draft.price,
        vat_rate=draft.vat_rate,
        barcode=draft.barcode,
        weight_g=draft.weight_g,
        active=draft.active,
        tracking=draft.tracking,
        removal_strategy=draft.removal_strategy,
        barcodes=draft.barcodes,
        unit_identifiers=draft.unit_identifiers,
        parcel_group=draft.parcel_group,
        category=draft.category,
        updated_at=at,
    )


NEW = ProductDraft("", "", Decimal(0), Decimal(0))
EVENT_BATCH = 2000
"""Product events written to the outbox at a time, so that memory stays bounded."""


def apply_products(
    uow: UnitOfWork,
    rows: Rows[ProductRow],
    *,
    skip_bad: bool = False,
    clock: Clock = utc_now,
) -> tuple[ImportSummary, list[RowProblem]]:
    """Apply read product rows: every row checked first (one answer names every problem),
    then all applied, or none."""

    def work(uow: UnitOfWork) -> tuple[ImportSummary, list[RowProblem]]:
        problems = list(rows.problems)
        current = _existing(uow, [row.sku for _, row in rows.good])
        planned = _plan(uow, rows.good, current, problems.append)
        if problems and not skip_bad:
            raise FileRejected(problems, rows=rows.count)
        bad = {p.row for p in problems}
        planned = [(line, draft) for line, draft in planned if line not in bad]
        at = clock()
        new = [draft for _, draft in planned if draft.sku not in current]
        for count, product in enumerate(uow.products.add_many(new, at), start=1):
            uow.record(ProductCreated(occurred_at=at, sku=product.sku, product=plain(product)))
            if count % EVENT_BATCH == 0:
                uow.flush_events()  # a big catalogue's events are not all held until the commit
        replaced = [
            (before, draft)
            for _, draft in planned
            if (before := current.get(draft.sku)) is not None and draft_of(before) != draft
        ]
        uow.products.replace_many([(before.id, draft) for before, draft in replaced], at)
        for count, (before, draft) in enumerate(replaced, start=1):
            product = product_of(before, draft, at)
            uow.record(
                ProductUpdated(
                    occurred_at=at, sku=draft.sku, product=plain(product), before=plain(before)
                )
            )
            if count % EVENT_BATCH == 0:
                uow.flush_events()
        changed = len(replaced)
        summary = ImportSummary(KIND, rows.count, changed + len(new), len(new), skipped=len(bad))
        return summary, in_order(problems)

    return atomically(uow, work)


def _existing(uow: UnitOfWork, skus: Sequence[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for start in range(0, len(skus), LOOKUP_CHUNK):
        found.update(uow.products.get_many(skus[start : start + LOOKUP_CHUNK]))
    return found


def _plan(
    uow: UnitOfWork,
    good: list[tuple[int, ProductRow]],
    current: dict[str, Product],
    problem: Callable[[RowProblem], None],
) -> list[tuple[int, ProductDraft]]:
    """Each row's draft, checked as the API checks a product, barcodes against the file and
    the catalogue, tracking against the stock."""
    planned: list[tuple[int, ProductDraft]] = []
    first_with: dict[str, tuple[int, str]] = {}
    named = {value for _, row in good for name, value in row.fields if name == "category"}
    missing = set(unknown_categories(uow, [c for c in named if c]))
    for line, row in good:
        given = dict(row.fields)
        before = current.get(row.sku)
        if before is None:
            lacking = [name for name in NEEDED_FOR_NEW if given.get(name) in (None, "")]
            if lacking:
                problem(
                    RowProblem(
                        line,
                        lacking[0],
                        f"a new product needs {', '.join(lacking)}",
                    )
                )
                continue
        if given.get("category") in missing:
            category = given["category"]
            problem(RowProblem(line, "category", f"there is no category '{category}'", category))
            continue
        draft = dataclasses.replace(draft_of(before) if before else NEW, sku=row.sku, **given)
        try:
            draft.validate()
        except InvalidInput as error:
            for field_error in error.errors:
                column = field_error.field.split("[")[0]
                value = str(given.get(column, "")) if column in given else ""
                problem(RowProblem(line, column, field_error.message, value))
            continue
        repeated = False
        for barcode in draft.all_barcodes:
            seen = first_with.get(barcode)
            if seen is not None and seen[1] != row.sku:
                problem(
                    RowProblem(
                        line, "barcode", f"row {seen[0]} gives {barcode} to {seen[1]}", barcode
                    )
                )
                repeated = True
            first_with.setdefault(barcode, (line, row.sku))
        if repeated:
            continue
        if (
            before is not None
            and draft.tracking is not before.tracking
            and uow.products.has_stock(before.id)
        ):
            problem(
                RowProblem(
                    line,
                    "tracking",
                    f"{row.sku} has stock kept as '{before.tracking}'; write it off or move it "
                    f"out before tracking it as '{draft.tracking}'",
                    str(draft.tracking),
                )
            )
            continue
        planned.append((line, draft))
    barcodes = sorted(first_with)
    owners: dict[str, str] = {}
    for start in range(0, len(barcodes), LOOKUP_CHUNK):
        owners.update(uow.products.owners_of(barcodes[start : start + LOOKUP_CHUNK]))
    kept = []
    for line, draft in planned:
        taken = [b for b in draft.all_barcodes if owners.get(b, draft.sku) != draft.sku]
        for barcode in taken:
            problem(
                RowProblem(
                    line, "barcode", f"{barcode} belongs to product {owners[barcode]}", barcode
                )
            )
        if not taken:
            kept.append((line, draft))
    return kept
