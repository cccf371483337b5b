"""Products in and out of the ``products`` table."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from potok.db.engine import is_sqlite
from potok.db.integrity import still_held
from potok.db.pg import text_array
from potok.db.tables import (
    order_lines,
    product_barcodes,
    product_category_links,
    products,
    stock,
)
from potok.domain.catalogue import Product, ProductDraft
from potok.domain.fulfilment.identifiers import format_identifiers, parse_identifiers
from potok.domain.kernel import ProductId, RemovalStrategy, Tracking


def _product(row: Any, category: str | None = None) -> Product:
    """A product from a row of :data:`_PRODUCTS` (with its category) or of the table alone
    (the category given apart)."""
    return Product(
        id=ProductId(row.id),
        sku=row.sku,
        name=row.name,
        price=row.price,
        vat_rate=row.vat_rate,
        barcode=row.barcode,
        weight_g=row.weight_g,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tracking=Tracking(row.tracking),
        removal_strategy=RemovalStrategy(row.removal_strategy) if row.removal_strategy else None,
        barcodes=tuple(row.barcodes or ()),
        unit_identifiers=parse_identifiers(row.unit_identifiers or ""),
        parcel_group=row.parcel_group or "",
        category=_category_of(row, category),
        length_mm=row.length_mm,
        width_mm=row.width_mm,
        height_mm=row.height_mm,
    )


def _category_of(row: Any, given: str | None) -> str | None:
    try:
        return row.category  # type: ignore[no-any-return]
    except (AttributeError, KeyError):  # a row of the products table alone
        return given


_links = product_category_links
_PRODUCTS = sa.select(products, _links.c.category).select_from(
    products.outerjoin(_links, _links.c.product_id == products.c.id)
)
"""Products with the code of their category."""
_BY_SKUS = _PRODUCTS.where(products.c.sku.in_(sa.bindparam("skus", expanding=True)))
_BY_SKU = _PRODUCTS.where(products.c.sku == sa.bindparam("sku"))
_BY_BARCODE = _PRODUCTS.join(
    product_barcodes, product_barcodes.c.product_id == products.c.id
).where(product_barcodes.c.barcode == sa.bindparam("barcode"))


_ARRAY_SKUS = 50_000
"""SKUs one look-up statement carries as an array on PostgreSQL."""
_IDS_BY_ARRAY = sa.text(
    "SELECT p.sku, p.id FROM unnest(CAST(:skus AS text[])) AS given(sku) "
    "JOIN products p ON p.sku = given.sku"
)
_TRACKED_BY_ARRAY = sa.text(
    "SELECT p.sku, p.tracking FROM unnest(CAST(:skus AS text[])) AS given(sku) "
    "JOIN products p ON p.sku = given.sku WHERE p.tracking <> :none"
)


class ProductRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def get_by_sku(self, sku: str) -> Product | None:
        row = self.connection.execute(_BY_SKU, {"sku": sku}).first()
        return _product(row) if row else None

    def get_by_barcode(self, barcode: str) -> Product | None:
        """The product any of whose barcodes this is."""
        row = self.connection.execute(_BY_BARCODE, {"barcode": barcode}).first()
        return _product(row) if row else None

    def owners_of(self, barcodes: Collection[str]) -> dict[str, str]:
        """Barcode to the SKU of the product that has it, for these barcodes."""
        if not barcodes:
            return {}
        rows = self.connection.execute(
            sa.select(product_barcodes.c.barcode, products.c.sku)
            .join(products, products.c.id == product_barcodes.c.product_id)
            .where(product_barcodes.c.barcode.in_(sorted(set(barcodes))))
        )
        return {row.barcode: row.sku for row in rows}

    def get_many(self, skus: Collection[str]) -> dict[str, Product]:
        if not skus:
            return {}
        rows = self.connection.execute(_BY_SKUS, {"skus": sorted(set(skus))})
        return {row.sku: _product(row) for row in rows}

    def ids_for(self, skus: Collection[str]) -> dict[str, ProductId]:
        """SKU to id for many SKUs at once (bulk stock uploads)."""
        result: dict[str, ProductId] = {}
        unique = sorted(set(skus))
        if not is_sqlite(self.connection):  # one array, not thousands of placeholders
            for start in range(0, len(unique), _ARRAY_SKUS):
                rows = self.connection.execute(
                    _IDS_BY_ARRAY, {"skus": text_array(unique[start : start + _ARRAY_SKUS])}
                )
                result.update({sku: ProductId(id_) for sku, id_ in rows})
            return result
        for start in range(0, len(unique), 5000):
            chunk = unique[start : start + 5000]
            rows = self.connection.execute(
                sa.select(products.c.sku, products.c.id).where(products.c.sku.in_(chunk))
            )
            result.update({row.sku: ProductId(row.id) for row in rows})
        return result

    def list(
        self,
        *,
        after_sku: str | None = None,
        limit: int = 100,
        search: str | None = None,
        active: bool | None = None,
        categories: Collection[str] | None = None,
    ) -> Sequence[Product]:
        query = _PRODUCTS.order_by(products.c.sku).limit(limit)
        if after_sku is not None:
            query = query.where(products.c.sku > after_sku)
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(
                sa.or_(
                    sa.func.lower(products.c.sku).like(pattern),
                    sa.func.lower(products.c.name).like(pattern),
                    products.c.id.in_(
                        sa.select(product_barcodes.c.product_id).where(
                            product_barcodes.c.barcode == search
                        )
                    ),
                )
            )
        if active is not None:
            query = query.where(products.c.active == active)
        if categories is not None:
            query = query.where(_links.c.category.in_(sorted(categories)))
        return [_product(row) for row in self.connection.execute(query)]

    def add(self, draft: ProductDraft, at: datetime) -> Product:
        row = self.connection.execute(
            sa.insert(products)
            .values(**_values(draft), created_at=at, updated_at=at)
            .returning(products)
        ).one()
        self._index_barcodes(ProductId(row.id), draft)
        self._link([(ProductId(row.id), draft.category)], fresh=True)
        return _product(row, draft.category)

    def add_many(self, drafts: Sequence[ProductDraft], at: datetime) -> Sequence[Product]:
        """Insert many products with two statements (a file import), in the drafts' order."""
        if not drafts:
            return []
        rows = self.connection.execute(
            sa.insert(products).returning(products, sort_by_parameter_order=True),
            [{**_values(d), "created_at": at, "updated_at": at} for d in drafts],
        ).all()
        added = [_product(row, d.category) for row, d in zip(rows, drafts, strict=True)]
        barcodes = [{"barcode": b, "product_id": p.id} for p in added for b in p.all_barcodes]
        if barcodes:
            self.connection.execute(sa.insert(product_barcodes), barcodes)
        self._link([(p.id, p.category) for p in added], fresh=True)
        return added

    def replace_many(self, changes: Sequence[tuple[ProductId, ProductDraft]], at: datetime) -> None:
        """Replace many products' data (a file import): one UPDATE statement run for every
        product, their barcodes deleted and inserted in bulk."""
        if not changes:
            return
        names = list(_values(changes[0][1]))
        self.connection.execute(
            sa.update(products)
            .where(products.c.id == sa.bindparam("product_id"))
            .values({name: sa.bindparam(f"new_{name}") for name in names} | {"updated_at": at}),
            [
                {"product_id": pid, **{f"new_{k}": v for k, v in _values(draft).items()}}
                for pid, draft in changes
            ],
        )
        ids = [pid for pid, _ in changes]
        for start in range(0, len(ids), 1000):
            self.connection.execute(
                sa.delete(product_barcodes).where(
                    product_barcodes.c.product_id.in_(ids[start : start + 1000])
                )
            )
        barcodes = [
            {"barcode": b, "product_id": pid} for pid, draft in changes for b in draft.all_barcodes
        ]
        if barcodes:
            self.connection.execute(sa.insert(product_barcodes), barcodes)
        self._link([(pid, draft.category) for pid, draft in changes])

    def replace(self, product_id: ProductId, draft: ProductDraft, at: datetime) -> Product:
        row = self.connection.execute(
            sa.update(products)
            .where(products.c.id == product_id)
            .values(**_values(draft), updated_at=at)
            .returning(products)
        ).one()
        self._index_barcodes(product_id, draft)
        self._link([(product_id, draft.category)])
        return _product(row, draft.category)

    def _link(
        self, categories: Sequence[tuple[ProductId, str | None]], *, fresh: bool = False
    ) -> None:
        """Put the products in these categories (None: in none); ``fresh`` products have no
        link yet."""
        if not fresh:
            ids = [pid for pid, _ in categories]
            for start in range(0, len(ids), 1000):
                self.connection.execute(
                    _links.delete().where(_links.c.product_id.in_(ids[start : start + 1000]))
                )
        rows = [{"product_id": pid, "category": code} for pid, code in categories if code]
        if rows:
            self.connection.execute(_links.insert(), rows)

    def _index_barcodes(self, product_id: ProductId, draft: ProductDraft) -> None:
        self.connection.execute(
            sa.delete(product_barcodes).where(product_barcodes.c.product_id == product_id)
        )
        if draft.all_barcodes:
            self.connection.execute(
                sa.insert(product_barcodes),
                [{"barcode": b, "product_id": product_id} for b in draft.all_barcodes],
            )

    def delete(self, product_id: ProductId) -> None:
        self.connection.execute(sa.delete(products).where(products.c.id == product_id))

    def tracked(self, skus: Collection[str]) -> dict[str, Tracking]:
        """The tracking of those of these SKUs that are kept by lot or serial number."""
        result: dict[str, Tracking] = {}
        unique = sorted(set(skus))
        if not is_sqlite(self.connection):  # one array, not thousands of placeholders
            for start in range(0, len(unique), _ARRAY_SKUS):
                rows = self.connection.execute(
                    _TRACKED_BY_ARRAY,
                    {
                        "skus": text_array(unique[start : start + _ARRAY_SKUS]),
                        "none": Tracking.NONE.value,
                    },
                )
                result.update({sku: Tracking(tracking) for sku, tracking in rows})
            return result
        for start in range(0, len(unique), 5000):
            rows = self.connection.execute(
                sa.select(products.c.sku, products.c.tracking).where(
                    products.c.sku.in_(unique[start : start + 5000]),
                    products.c.tracking != Tracking.NONE.value,
                )
            )
            result.update({row.sku: Tracking(row.tracking) for row in rows})
        return result

    def has_stock(self, product_id: ProductId) -> bool:
        """Whether any unit of the product is on hand anywhere (tracking may not change)."""
        return (
            self.connection.execute(
                sa.select(stock.c.id)
                .where(stock.c.product_id == product_id, stock.c.on_hand > 0)
                .limit(1)
            ).first()
            is not None
        )

    def usage(self, product_id: ProductId) -> str | None:
        """Why the product cannot be deleted, or None when nothing refers to it."""
        if self.connection.execute(
            sa.select(order_lines.c.order_id).where(order_lines.c.product_id == product_id).limit(1)
        ).first():
            return "appears on orders"
        if self.connection.execute(
            sa.select(stock.c.id).where(stock.c.product_id == product_id).limit(1)
        ).first():
            return "has stock records"
        return still_held(self.connection, "products", product_id)


def _values(draft: ProductDraft) -> dict[str, Any]:
    return {
        "sku": draft.sku,
        "name": draft.name,
        "price": draft.price,
        "vat_rate": draft.vat_rate,
        "barcode": draft.barcode,
        "weight_g": draft.weight_g,
        "active": draft.active,
        "tracking": draft.tracking.value,
        "removal_strategy": draft.removal_strategy.value if draft.removal_strategy else None,
        "barcodes": list(draft.barcodes),
        "unit_identifiers": format_identifiers(draft.unit_identifiers),
        "parcel_group": draft.parcel_group,
        "length_mm": draft.length_mm,
        "width_mm": draft.width_mm,
        "height_mm": draft.height_mm,
    }
