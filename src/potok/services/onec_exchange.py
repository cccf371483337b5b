"""1C's exchange with Potok as a site (CommerceML 2): sessions, uploads, and the catalogue
and offers applied to Potok's products and stock.

1C opens an exchange with ``checkauth`` (an API key with the ``erp:exchange`` scope, sent
as HTTP Basic credentials) and carries the session cookie it got through ``init``, the
uploads (``file``, in parts; a zip when Potok asks for one) and ``import``. Uploads are
kept in the database, so any API process may take any step. Products go through the
catalogue's bulk path (the file import's), stock through the bulk compare-and-set path of
``PUT /stock/levels``; a product, price or level that is already what 1C says is left
alone, so the same file twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import NoReturn

from potok.domain.access import Principal
from potok.domain.catalogue import CategoryDraft
from potok.domain.catalogue.categories import MAX_DEPTH
from potok.domain.erp import (
    Catalogue,
    CatalogueItem,
    ExchangeFileRefused,
    ExchangeKind,
    ExchangeNotStarted,
    OfferPackage,
)
from potok.domain.errors import FieldError
from potok.domain.inventory import MovementType
from potok.domain.inventory.commands import LevelRow, SetLevels
from potok.domain.inventory.errors import BulkRejected
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.validation import CODE_PATTERN
from potok.security.tokens import digest, new_token
from potok.services import catalogue_files, categories
from potok.services.catalogue_files import ProductRow
from potok.services.file_imports import FileRejected, Rows
from potok.services.onec_ports import ExchangeSession, GroupLink, ItemLink
from potok.services.unit_of_work import UnitOfWork, atomically, reading

COOKIE = "potok_1c"
"""The cookie 1C carries from ``checkauth`` to the later steps of an exchange."""
SOURCE = "1c"
COLUMN_ELEMENT = {
    "sku": "Артикул",
    "name": "Наименование",
    "barcode": "Штрихкод",
    "barcodes": "Штрихкод",
    "vat_rate": "Ставка",
    "price": "ЦенаЗаЕдиницу",
    "tracking": "Товар",
}


@dataclass(frozen=True, slots=True)
class ExchangeRules:
    """How 1C's files map onto Potok (the ``onec`` settings)."""

    warehouses: Mapping[str, str] = field(default_factory=dict)  # 1C's Ид -> Potok code
    price_type: str = ""  # name or Ид; empty: the first of the file
    default_vat_rate: Decimal = Decimal(22)
    default_warehouse: str = ""  # where a total without warehouses goes; empty: nowhere
    max_file_bytes: int = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Applied:
    """What one imported file changed."""

    file: str
    kind: str
    products_created: int = 0
    products_changed: int = 0
    levels_changed: int = 0
    links_changed: int = 0


# ---------------------------------------------------------------------- sessions


def open_session(
    uow: UnitOfWork,
    principal: Principal,
    kind: ExchangeKind,
    *,
    hours: float,
    clock: Clock = utc_now,
) -> str:
    """Start an exchange for an API key; the token is the cookie 1C sends back."""
    if principal.key_id is None:
        raise ExchangeNotStarted(why="1C signs in with an API key (its name and the key itself)")
    key_id = principal.key_id
    token = new_token()

    def work(uow: UnitOfWork) -> None:
        now = clock()
        uow.onec.forget_expired(now)
        uow.onec.open_session(digest(token), key_id, kind.value, now, now + timedelta(hours=hours))

    atomically(uow, work)
    return token


def session_principal(
    uow: UnitOfWork, token: str, *, clock: Clock = utc_now
) -> tuple[Principal, ExchangeSession] | None:
    """The key and session behind an exchange cookie, or None (unknown, expired, revoked)."""

    def work(uow: UnitOfWork) -> tuple[Principal, ExchangeSession] | None:
        session = uow.onec.session(digest(token), clock())
        if session is None:
            return None
        found = uow.api_keys.get(session.key_id)
        if found is None or found.key.revoked_at is not None:
            return None
        return Principal.for_key(found.key, found.channel_id), session

    return reading(uow, work)


def start(uow: UnitOfWork, session: ExchangeSession) -> None:
    """``init``: forget what an earlier, broken-off exchange of this session uploaded."""
    atomically(uow, lambda uow: uow.onec.clear_uploads(session.id))


def receive(
    uow: UnitOfWork, session: ExchangeSession, name: str, content: bytes, *, clock: Clock = utc_now
) -> int:
    """``file``: keep one part of an upload (1C sends large files in parts); its number."""
    return atomically(uow, lambda uow: uow.onec.add_part(session.id, name, content, clock()))


def uploaded(uow: UnitOfWork, session: ExchangeSession, name: str, *, limit: int) -> bytes | None:
    """The file ``name`` of this exchange: as uploaded, or from a zip uploaded in it."""

    def work(uow: UnitOfWork) -> bytes | None:
        found = uow.onec.uploaded(session.id, name)
        if found is not None and not name.lower().endswith(".zip"):
            return found
        for upload in uow.onec.upload_names(session.id):
            if upload.lower().endswith(".zip"):
                content = uow.onec.uploaded(session.id, upload)
                inner = _from_zip(content or b"", upload, name, limit)
                if inner is not None:
                    return inner
        return found

    return reading(uow, work)


def _from_zip(content: bytes, upload: str, name: str, limit: int) -> bytes | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise ExchangeFileRefused(
            file=upload, line=1, element="zip", why="not a zip archive, or an unfinished upload"
        ) from None
    with archive:
        for info in archive.infolist():
            if info.is_dir() or info.filename.replace("\\", "/").rsplit("/", 1)[-1] != name:
                continue
            if info.file_size > limit:
                raise ExchangeFileRefused(
                    file=upload, line=1, element=name, why=f"larger than {limit} bytes"
                )
            with archive.open(info) as member:
                data = member.read(limit + 1)
            if len(data) > limit:
                raise ExchangeFileRefused(
                    file=upload, line=1, element=name, why=f"larger than {limit} bytes"
                )
            return data
    return None


# ---------------------------------------------------------------------- import.xml


def import_catalogue(
    uow: UnitOfWork,
    catalogue: Catalogue,
    *,
    file: str,
    rules: ExchangeRules,
    clock: Clock = utc_now,
) -> Applied:
    """Create or update the products of ``import.xml`` and keep its groups and properties."""
    items = catalogue.items
    with uow.read():
        known_groups = {g.onec_id for g in uow.onec.groups("group")}
        known_properties = {g.onec_id for g in uow.onec.groups("property")}
        links = uow.onec.items([item.onec_id for item in items])
        existing = uow.products.ids_for({_sku(item, links) for item in items})
    known_groups |= {g.onec_id for g in catalogue.groups}
    known_properties |= {p.onec_id for p in catalogue.properties}
    categories = _categories_of(uow, catalogue, file=file, clock=clock)
    seen: dict[str, CatalogueItem] = {}
    rows: list[tuple[int, ProductRow]] = []
    for item in items:
        sku = _sku(item, links)
        earlier = seen.get(sku)
        if earlier is not None:
            _refuse(file, item.line, "Артикул", f"line {earlier.line} has the same article {sku}")
        seen[sku] = item
        for group in item.groups:
            if group not in known_groups:
                _refuse(file, item.line, "Группы", f"group {group} is not in the classifier")
        for prop in item.properties:
            if prop not in known_properties:
                _refuse(
                    file, item.line, "ЗначенияСвойств", f"property {prop} is not in the classifier"
                )
        fields: dict[str, object] = {"name": item.name[:255], "active": not item.deleted}
        if item.barcode is not None:
            fields["barcode"] = item.barcode
        if item.vat_rate is not None:
            fields["vat_rate"] = item.vat_rate
        if item.groups:  # a product is in one category: its first group's
            fields["category"] = category_code(item.groups[0])
        if sku not in existing:
            fields.setdefault("vat_rate", rules.default_vat_rate)
            fields["price"] = Decimal(0)  # offers.xml brings the price
        rows.append((item.line, ProductRow(sku, tuple(fields.items()))))
    try:
        summary, _ = catalogue_files.apply_products(uow, Rows(rows, [], len(rows)), clock=clock)
    except FileRejected as error:
        first = error.problems[0]
        _refuse(file, first.row, COLUMN_ELEMENT.get(first.column or "", "Товар"), first.message)
    at = clock()
    new_links = [
        ItemLink(item.onec_id, _sku(item, links), item.unit, item.groups, dict(item.properties))
        for item in items
    ]
    groups = [GroupLink(g.onec_id, "group", g.name[:255], g.parent) for g in catalogue.groups]
    groups += [
        GroupLink(p.onec_id, "property", p.name[:255], None, dict(p.choices))
        for p in catalogue.properties
    ]

    def save(uow: UnitOfWork) -> int:
        return uow.onec.save_groups(groups, at) + uow.onec.save_items(new_links, at)

    changed_links = atomically(uow, save)
    return Applied(
        file,
        "catalogue",
        products_created=summary.created,
        products_changed=summary.changed - summary.created,
        links_changed=changed_links + categories,
    )


def category_code(onec_id: str) -> str:
    """The code of the category a 1C group becomes: its Ид (a GUID), or a digest of it when
    the Ид is not a code Potok takes."""
    if CODE_PATTERN.fullmatch(onec_id):
        return onec_id
    return "1c-" + hashlib.sha1(onec_id.encode(), usedforsecurity=False).hexdigest()[:24]


def _categories_of(uow: UnitOfWork, catalogue: Catalogue, *, file: str, clock: Clock) -> int:
    """The classifier's groups as the category tree (with the groups of earlier exchanges
    that this one's products name), before the products are put in them."""
    with uow.read():
        stored = {g.onec_id: g for g in uow.onec.groups("group")}
    lines: dict[str, int] = {}
    groups: dict[str, tuple[str, str | None]] = {
        g.onec_id: (g.name, g.parent) for g in stored.values()
    }
    for group in catalogue.groups:
        groups[group.onec_id] = (group.name, group.parent)
        lines[group.onec_id] = group.line
    named = {g for item in catalogue.items for g in item.groups[:1]}
    wanted: dict[str, CategoryDraft] = {}

    def depth(onec_id: str) -> int:
        levels, parent = 1, groups[onec_id][1]
        while parent in groups and levels <= MAX_DEPTH:
            levels, parent = levels + 1, groups[parent][1]
        return levels

    def add(onec_id: str) -> None:
        if onec_id in wanted or onec_id not in groups:
            return
        name, parent = groups[onec_id]
        if depth(onec_id) > MAX_DEPTH:
            _refuse(
                file,
                lines.get(onec_id, 1),
                "Группа",
                f"group {onec_id} lies deeper than {MAX_DEPTH} levels, the most Potok keeps",
            )
        if parent is not None:
            add(parent)
        code = category_code(onec_id)
        wanted[onec_id] = CategoryDraft(
            code, name.strip()[:255] or code, category_code(parent) if parent in groups else None
        )

    for onec_id in [g.onec_id for g in catalogue.groups] + sorted(named):
        add(onec_id)
    # parents first: ``add`` put each parent in before its child
    return categories.sync_categories(uow, list(wanted.values()), clock=clock)


def _sku(item: CatalogueItem, links: Mapping[str, ItemLink]) -> str:
    """The product an item is: the one it became before (SKUs do not change), else its article."""
    link = links.get(item.onec_id)
    return link.sku if link is not None else item.sku


def _refuse(file: str, line: int, element: str, why: str) -> NoReturn:
    raise ExchangeFileRefused(file=file, line=line, element=element, why=why)


# ---------------------------------------------------------------------- offers.xml


def import_offers(
    uow: UnitOfWork,
    package: OfferPackage,
    actor: Actor,
    *,
    file: str,
    rules: ExchangeRules,
    clock: Clock = utc_now,
) -> Applied:
    """Set the prices and the stock per warehouse that ``offers.xml`` gives: the stock in one
    bulk compare-and-set (every level or none), then the prices."""
    price_type = _price_type(package, rules)
    with uow.read():
        links = uow.onec.items([offer.onec_id for offer in package.offers])
        codes = {w: rules.warehouses.get(w, w) for w in package.warehouses}
        for offer in package.offers:
            for place in offer.stock:
                codes.setdefault(
                    place.warehouse, rules.warehouses.get(place.warehouse, place.warehouse)
                )
        if rules.default_warehouse:
            codes.setdefault("", rules.default_warehouse)
        known = uow.warehouses.ids_for(sorted(set(codes.values())))
    levels: list[tuple[int, LevelRow]] = []
    prices: list[tuple[int, ProductRow]] = []
    for offer in package.offers:
        link = links.get(offer.onec_id)
        if link is None:
            _refuse(
                file,
                offer.line,
                "Ид",
                f"no product with Ид {offer.onec_id} came in import.xml; send the catalogue first",
            )
        chosen = [p for p in offer.prices if price_type in ("", p.price_type)]
        if chosen:
            prices.append((chosen[0].line, ProductRow(link.sku, (("price", chosen[0].amount),))))
        places = list(offer.stock)
        if not places and offer.quantity is not None and rules.default_warehouse:
            levels.append((offer.line, LevelRow(rules.default_warehouse, link.sku, offer.quantity)))
        for place in places:
            code = codes[place.warehouse]
            if code not in known:
                name = package.warehouses.get(place.warehouse, "")
                _refuse(
                    file,
                    place.line,
                    "Склад",
                    f"warehouse {place.warehouse} {name!r} is not a Potok warehouse; map it "
                    "in POTOK_ONEC__WAREHOUSES or create a warehouse with that code",
                )
            levels.append((place.line, LevelRow(code, link.sku, place.quantity)))
    seen: dict[tuple[str, str], int] = {}
    for line, row in levels:
        if (row.warehouse, row.sku) in seen:
            _refuse(
                file,
                line,
                "Склад",
                f"line {seen[(row.warehouse, row.sku)]} already gives {row.sku}'s stock there",
            )
        seen[(row.warehouse, row.sku)] = line
    changed_levels = 0
    if levels:
        command = SetLevels(
            [row for _, row in levels],
            source=SOURCE,
            reference=f"1C {file}"[:200],
            movement=MovementType.IMPORT,
        )
        from potok.services import inventory

        try:
            changed_levels = inventory.set_levels(uow, command, actor, clock=clock).changed
        except BulkRejected as error:
            line, why = _first_row_error(error.errors, [line for line, _ in levels])
            _refuse(file, line, "Склад", why)
    created = changed = 0
    if prices:
        try:
            summary, _ = catalogue_files.apply_products(
                uow, Rows(prices, [], len(prices)), clock=clock
            )
        except FileRejected as error:
            first = error.problems[0]
            _refuse(file, first.row, "ЦенаЗаЕдиницу", first.message)
        created, changed = summary.created, summary.changed - summary.created
    return Applied(
        file,
        "offers",
        products_created=created,
        products_changed=changed,
        levels_changed=changed_levels,
    )


def _price_type(package: OfferPackage, rules: ExchangeRules) -> str:
    """The Ид of the price type Potok sells at: the configured one (by name or Ид), else
    the first of the file; empty when the file names none (then each offer's first)."""
    wanted = rules.price_type.strip()
    for kind in package.price_types:
        if wanted and wanted in (kind.onec_id, kind.name):
            return kind.onec_id
    if wanted:
        return wanted
    return package.price_types[0].onec_id if package.price_types else ""


def _first_row_error(errors: Sequence[FieldError], lines: Sequence[int]) -> tuple[int, str]:
    for error in errors:
        head = error.field.split(".", 1)[0]
        if head.startswith("rows[") and head.endswith("]"):
            index = int(head[5:-1])
            if 0 <= index < len(lines):
                return lines[index], error.message
    return (lines[0] if lines else 1), errors[0].message if errors else "refused"
