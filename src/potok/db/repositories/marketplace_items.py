"""Each marketplace connection's map of Potok SKUs to marketplace items, in and out of
its table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.tables import marketplace_items, products
from potok.domain.marketplaces import ItemMapping

_i = marketplace_items.c


def _mapping(row: Any) -> ItemMapping:
    return ItemMapping(
        sku=row.sku, item=row.item, product=row.product, article=row.article, barcode=row.barcode
    )


class MarketplaceItemRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def put(
        self,
        connection_id: int,
        rows: Sequence[ItemMapping],
        product_ids: Mapping[str, int],
        at: datetime,
    ) -> None:
        """Map these SKUs, replacing what the SKUs or the items were mapped to before."""
        if not rows:
            return
        ids = [product_ids[r.sku] for r in rows]
        items = [r.item for r in rows]
        for start in range(0, len(rows), 1000):
            self.connection.execute(
                sa.delete(marketplace_items).where(
                    _i.connection_id == connection_id,
                    sa.or_(
                        _i.product_id.in_(ids[start : start + 1000]),
                        _i.item.in_(items[start : start + 1000]),
                    ),
                )
            )
        self.connection.execute(
            sa.insert(marketplace_items),
            [
                {
                    "connection_id": connection_id,
                    "product_id": product_ids[r.sku],
                    "item": r.item,
                    "product": r.product,
                    "article": r.article,
                    "barcode": r.barcode,
                    "created_at": at,
                    "updated_at": at,
                }
                for r in rows
            ],
        )

    def remove(self, connection_id: int, product_ids: Sequence[int]) -> int:
        result = self.connection.execute(
            sa.delete(marketplace_items).where(
                _i.connection_id == connection_id, _i.product_id.in_(list(product_ids))
            )
        )
        return int(result.rowcount or 0)

    def mapped(
        self,
        connection_id: int,
        *,
        skus: Sequence[str] | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[ItemMapping]:
        """The connection's mappings in SKU order (these SKUs only, when given)."""
        query = (
            sa.select(marketplace_items, products.c.sku)
            .join(products, products.c.id == _i.product_id)
            .where(_i.connection_id == connection_id)
            .order_by(products.c.sku)
        )
        if skus is not None:
            query = query.where(products.c.sku.in_(list(skus)))
        if after is not None:
            query = query.where(products.c.sku > after)
        if limit is not None:
            query = query.limit(limit)
        return [_mapping(r) for r in self.connection.execute(query)]

    def by_item(self, connection_id: int, items: Sequence[str]) -> dict[str, str]:
        """The Potok SKU of each of these marketplace items that is mapped."""
        if not items:
            return {}
        rows = self.connection.execute(
            sa.select(_i.item, products.c.sku)
            .join(products, products.c.id == _i.product_id)
            .where(_i.connection_id == connection_id, _i.item.in_(list(items)))
        )
        return {r.item: r.sku for r in rows}
