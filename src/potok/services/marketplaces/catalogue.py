"""The item map filling itself from the marketplace's catalogue: each item the seller lists
there (Ozon: ``offer_id``, ``sku``, ``product_id``, barcodes) is mapped to the Potok SKU its
article names, else to the product that has one of its barcodes.

What a person mapped is never overwritten by a guess: a SKU mapped to another item, an item
mapped to another SKU, or two listed items naming one SKU are left as they are and reported.
Listed items no SKU matches are reported too; their orders still wait in the journal and
alert the operators when they come (``alert_unmapped_item``). The marketplace is read
before the transaction that stores the map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from potok.connectors.marketplaces import (
    READS_CATALOGUE,
    ListedItem,
    MarketplaceClients,
    MarketplaceError,
    MarketplaceNotSupported,
)
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.marketplaces import Connection, ConnectionNotFound, Credentials, ItemMapping
from potok.domain.marketplaces.events import MarketplaceItemsMapped
from potok.domain.validation import Problems
from potok.services.unit_of_work import UnitOfWork, atomically, reading

READ_AT_ONCE = 1000
REPORTED = 100
"""Unmatched items and conflicts named in the outcome at most (the counts are whole)."""


@dataclass
class CatalogueMatch:
    """What one reading of the marketplace's catalogue did to the connection's item map."""

    connection: str
    listed: int = 0  # items the marketplace listed
    mapped: int = 0  # mappings stored now (new, or their product/article/barcode refreshed)
    unchanged: int = 0  # already mapped exactly so
    unmatched: int = 0  # listed items no Potok SKU matches
    conflicts: int = 0  # left alone: mapped otherwise by a person, or ambiguous
    unmatched_items: list[str] = field(default_factory=list)  # "item (article)"
    conflict_notes: list[str] = field(default_factory=list)
    error: str | None = None
    requests: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0


def map_from_catalogue(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    actor: Actor,
    *,
    clock: Clock = utc_now,
) -> CatalogueMatch:
    """Read the connection's marketplace catalogue and map every item it can to a SKU."""

    def read(uow: UnitOfWork) -> tuple[Connection, Credentials]:
        connection = uow.marketplaces.get_by_code(code)
        if connection is None:
            raise ConnectionNotFound(connection=code)
        return connection, uow.marketplaces.credentials(connection.id)

    connection, credentials = reading(uow, read)
    outcome = CatalogueMatch(connection.code)
    try:
        client = clients.build(connection, credentials)
    except MarketplaceNotSupported as error:
        outcome.error = error.detail
        return outcome
    try:
        listed = client.catalogue()
    except MarketplaceError as error:
        outcome.error = str(error)
        return outcome
    finally:
        client.close()
        outcome.requests = client.stats.requests
        outcome.rate_limit_waits = client.stats.rate_limit_waits
        outcome.waited_s = round(client.stats.waited_s, 3)
    outcome.listed = len(listed)
    atomically(uow, lambda uow: _match(uow, connection, listed, actor, clock, outcome))
    return outcome


def map_catalogues_due(
    uow: UnitOfWork, clients: MarketplaceClients, *, clock: Clock = utc_now
) -> list[CatalogueMatch]:
    """Read the catalogue of every active connection whose marketplace Potok reads it from
    (the worker runs this every ``marketplaces.catalogue_every_hours``)."""
    connections = reading(uow, lambda uow: uow.marketplaces.list())
    return [
        map_from_catalogue(uow, clients, c.code, Actor.system("marketplace-catalogue"), clock=clock)
        for c in connections
        if c.active and c.marketplace in READS_CATALOGUE
    ]


def _match(
    uow: UnitOfWork,
    connection: Connection,
    listed: Sequence[ListedItem],
    actor: Actor,
    clock: Clock,
    outcome: CatalogueMatch,
) -> None:
    outcome.mapped = outcome.unchanged = outcome.unmatched = outcome.conflicts = 0
    outcome.unmatched_items.clear()
    outcome.conflict_notes.clear()
    articles = sorted({i.article for i in listed if i.article})
    barcodes = sorted({b for i in listed for b in i.barcodes})
    known: dict[str, int] = {}
    owners: dict[str, str] = {}
    for start in range(0, max(len(articles), len(barcodes)), READ_AT_ONCE):
        known.update(uow.products.ids_for(articles[start : start + READ_AT_ONCE]))
        owners.update(uow.products.owners_of(barcodes[start : start + READ_AT_ONCE]))
    found: dict[str, list[ItemMapping]] = {}
    for entry in listed:
        sku = entry.article if entry.article in known else None
        if sku is None:
            sku = next((owners[b] for b in entry.barcodes if b in owners), None)
        if sku is None:
            outcome.unmatched += 1
            _note(outcome.unmatched_items, f"{entry.item} ({entry.article or 'no article'})")
            continue
        barcode = next((b for b in entry.barcodes if len(b) <= 64), None)
        row = ItemMapping(sku, entry.item, entry.product, entry.article[:128] or None, barcode)
        here = Problems()
        row.check(here, connection.marketplace)
        if here:
            outcome.conflicts += 1
            _note(outcome.conflict_notes, f"{entry.item}: {here.errors[0].message}")
            continue
        found.setdefault(sku, []).append(row)
    skus = sorted(found)
    current: dict[str, ItemMapping] = {}
    owner_of: dict[str, str] = {}
    items = sorted({r.item for rows in found.values() for r in rows})
    for start in range(0, max(len(skus), len(items)), READ_AT_ONCE):
        some = skus[start : start + READ_AT_ONCE]
        if some:
            current.update(
                (m.sku, m) for m in uow.marketplace_items.mapped(connection.id, skus=some)
            )
        owner_of.update(
            uow.marketplace_items.by_item(connection.id, items[start : start + READ_AT_ONCE])
        )
    rows: list[ItemMapping] = []
    for sku in skus:
        candidates = found[sku]
        if len({r.item for r in candidates}) > 1:
            outcome.conflicts += 1
            names = ", ".join(sorted({r.item for r in candidates}))
            _note(outcome.conflict_notes, f"{sku}: several listed items name it ({names})")
            continue
        row = candidates[0]
        before = current.get(sku)
        if before is not None and before.item != row.item:
            outcome.conflicts += 1
            _note(
                outcome.conflict_notes,
                f"{sku}: mapped to {before.item}, the catalogue lists {row.item} - kept",
            )
            continue
        holder = owner_of.get(row.item)
        if holder is not None and holder != sku:
            outcome.conflicts += 1
            _note(outcome.conflict_notes, f"{row.item}: mapped to {holder}, not {sku} - kept")
            continue
        if before == row:
            outcome.unchanged += 1
            continue
        rows.append(row)
    if not rows:
        return
    at = clock()
    product_ids = uow.products.ids_for([r.sku for r in rows])
    uow.marketplace_items.put(connection.id, rows, product_ids, at)
    uow.record(
        MarketplaceItemsMapped(
            occurred_at=at, connection=connection.code, mapped=len(rows), removed=0, by=str(actor)
        )
    )
    outcome.mapped = len(rows)


def _note(notes: list[str], text: str) -> None:
    if len(notes) < REPORTED:
        notes.append(text)
