"""Mapping Potok SKUs to a connection's marketplace items (WB chrtId, Ozon sku and
product_id), which import and the stock push read."""

from __future__ import annotations

from collections.abc import Sequence

from potok.domain.alerts import AlertKind
from potok.domain.errors import InvalidInput
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.marketplaces import Connection, ConnectionNotFound, ItemMapping
from potok.domain.marketplaces.events import MarketplaceItemsMapped
from potok.domain.marketplaces.items import MAX_MAPPED_AT_ONCE
from potok.domain.validation import Problems
from potok.services.alerts import raise_alert_once
from potok.services.unit_of_work import UnitOfWork, atomically, reading


def _connection(uow: UnitOfWork, code: str) -> Connection:
    connection = uow.marketplaces.get_by_code(code)
    if connection is None:
        raise ConnectionNotFound(connection=code)
    return connection


def map_items(
    uow: UnitOfWork,
    code: str,
    rows: Sequence[ItemMapping],
    actor: Actor,
    *,
    names: Sequence[str] | None = None,
    clock: Clock = utc_now,
) -> int:
    """Map these SKUs to the connection's marketplace items (a SKU or an item mapped
    before is mapped anew); every row is checked first and nothing is stored unless all
    are right, each problem named by its row (``items[0].sku``, or by ``names``: a file's
    ``line 2.sku``). Returns how many were mapped."""
    labels = list(names) if names is not None else [f"items[{n}]" for n in range(len(rows))]
    problems = Problems()
    if len(rows) > MAX_MAPPED_AT_ONCE:
        problems.add("items", f"at most {MAX_MAPPED_AT_ONCE} rows at once", "too-many")
        raise InvalidInput(problems.errors)

    def work(uow: UnitOfWork) -> int:
        connection = _connection(uow, code)
        seen_skus: set[str] = set()
        seen_items: set[str] = set()
        for number, row in enumerate(rows):
            here = Problems(f"{labels[number]}.")
            row.check(here, connection.marketplace)
            if row.sku in seen_skus:
                here.add("sku", f"SKU '{row.sku}' is mapped twice in this request", "duplicate")
            if row.item in seen_items:
                here.add("item", f"item '{row.item}' is mapped twice in this request", "duplicate")
            seen_skus.add(row.sku)
            seen_items.add(row.item)
            problems.extend(here.errors)
        product_ids = uow.products.ids_for(sorted(seen_skus))
        for number, row in enumerate(rows):
            if row.sku not in product_ids:
                problems.add(
                    f"{labels[number]}.sku", f"there is no product '{row.sku}'", "unknown-sku"
                )
        if problems:
            raise InvalidInput(problems.errors)
        at = clock()
        uow.marketplace_items.put(connection.id, rows, product_ids, at)
        uow.record(
            MarketplaceItemsMapped(
                occurred_at=at,
                connection=connection.code,
                mapped=len(rows),
                removed=0,
                by=str(actor),
            )
        )
        return len(rows)

    return atomically(uow, work)


def unmap_items(
    uow: UnitOfWork, code: str, skus: Sequence[str], actor: Actor, *, clock: Clock = utc_now
) -> int:
    """Forget the marketplace items of these SKUs; returns how many were mapped."""

    def work(uow: UnitOfWork) -> int:
        connection = _connection(uow, code)
        ids = uow.products.ids_for(list(skus))
        removed = uow.marketplace_items.remove(connection.id, list(ids.values())) if ids else 0
        if removed:
            uow.record(
                MarketplaceItemsMapped(
                    occurred_at=clock(),
                    connection=connection.code,
                    mapped=0,
                    removed=removed,
                    by=str(actor),
                )
            )
        return removed

    return atomically(uow, work)


def list_items(
    uow: UnitOfWork, code: str, *, after: str | None = None, limit: int = 100
) -> list[ItemMapping]:
    """The connection's mapped SKUs in SKU order, after ``after``."""
    return reading(
        uow,
        lambda uow: uow.marketplace_items.mapped(
            _connection(uow, code).id, after=after, limit=limit
        ),
    )


def alert_unmapped_item(
    uow: UnitOfWork, connection: Connection, item: str, detail: str, *, clock: Clock = utc_now
) -> None:
    """Tell the operators, once per marketplace item, that orders for it wait in the
    journal because no SKU is mapped to it (the order itself is kept aside, not dropped)."""

    def work(uow: UnitOfWork) -> None:
        at = clock()
        message = (
            f"{connection.code}: marketplace item {item} has no Potok SKU; its orders wait in "
            f"the connection's journal. {detail}"
        )[:2000]
        raise_alert_once(
            uow, AlertKind.MARKETPLACE_ITEM_NOT_MAPPED, f"{connection.code}/{item}", message, at
        )

    atomically(uow, work)
