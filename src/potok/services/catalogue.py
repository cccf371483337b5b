"""Catalogue, channel and network administration: create, replace, delete, read."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from potok.domain.catalogue import (
    CategoryNotFound,
    Product,
    ProductDraft,
    ProductNotFound,
    SkuInUse,
    TrackingLocked,
)
from potok.domain.catalogue.events import ProductCreated, ProductDeleted, ProductUpdated
from potok.domain.catalogue.model import SkuTaken
from potok.domain.channels import Channel, ChannelDraft, ChannelNotFound
from potok.domain.channels.events import ChannelCreated, ChannelDeleted, ChannelUpdated
from potok.domain.channels.model import ChannelCodeTaken, ChannelInUse
from potok.domain.errors import Conflict, FieldError, InvalidInput
from potok.domain.events import plain
from potok.domain.kernel import Actor, ChannelId, Clock, utc_now
from potok.domain.network import Warehouse, WarehouseDraft, WarehouseNotFound
from potok.domain.network.events import WarehouseCreated, WarehouseDeleted, WarehouseUpdated
from potok.domain.network.model import WarehouseCodeTaken, WarehouseInUse
from potok.services.idempotency import Once, atomically_once
from potok.services.rerouting import reroute_from
from potok.services.unit_of_work import UnitOfWork, atomically, reading

# ---------------------------------------------------------------------- products


class BarcodeTaken(Conflict):
    code = "barcode-taken"
    title = "The barcode belongs to another product"
    template = "Barcode '{barcode}' already belongs to product '{sku}'."


def create_product(
    uow: UnitOfWork,
    draft: ProductDraft,
    *,
    clock: Clock = utc_now,
    once: Once[Product] | None = None,
) -> Product:
    draft.validate()

    def work(uow: UnitOfWork) -> Product:
        if uow.products.get_by_sku(draft.sku) is not None:
            raise SkuTaken(sku=draft.sku)
        _barcode_free(uow, draft, None)
        _category_known(uow, draft)
        product = uow.products.add(draft, clock())
        uow.record(
            ProductCreated(occurred_at=product.created_at, sku=product.sku, product=plain(product))
        )
        return product

    return atomically_once(uow, once, work)


def replace_product(
    uow: UnitOfWork, sku: str, draft: ProductDraft, *, clock: Clock = utc_now
) -> Product:
    """Replace a product's data; the SKU itself never changes."""
    draft.validate()
    if draft.sku != sku:
        raise InvalidInput(
            [FieldError("sku", f"must stay '{sku}'; a SKU cannot be renamed", "sku-immutable")]
        )

    def work(uow: UnitOfWork) -> Product:
        current = uow.products.get_by_sku(sku)
        if current is None:
            raise ProductNotFound(sku=sku)
        _barcode_free(uow, draft, current)
        _category_known(uow, draft)
        if draft.tracking is not current.tracking and uow.products.has_stock(current.id):
            raise TrackingLocked(sku=sku, current=current.tracking, requested=draft.tracking)
        product = uow.products.replace(current.id, draft, clock())
        uow.record(
            ProductUpdated(
                occurred_at=product.updated_at,
                sku=sku,
                product=plain(product),
                before=plain(current),
            )
        )
        return product

    return atomically(uow, work)


def _barcode_free(uow: UnitOfWork, draft: ProductDraft, current: Product | None) -> None:
    """None of the draft's barcodes may belong to another product."""
    owners = uow.products.owners_of(draft.all_barcodes)
    for barcode in draft.all_barcodes:
        owner = owners.get(barcode)
        if owner is not None and owner != draft.sku:
            raise BarcodeTaken(barcode=barcode, sku=owner)


def _category_known(uow: UnitOfWork, draft: ProductDraft) -> None:
    if draft.category is not None and not uow.categories.known([draft.category]):
        raise InvalidInput(
            [FieldError("category", f"there is no category '{draft.category}'", "unknown-category")]
        )


def assign_category(
    uow: UnitOfWork, category: str | None, skus: Sequence[str], *, clock: Clock = utc_now
) -> int:
    """Put these products into a category (None: into none), all or none of them, each
    change with a ``product.updated`` event; returns how many changed."""
    from potok.services.catalogue_files import draft_of, product_of

    def work(uow: UnitOfWork) -> int:
        if category is not None and not uow.categories.known([category]):
            raise CategoryNotFound(category=category)
        found = uow.products.get_many(skus)
        missing = sorted(set(skus) - set(found))
        if missing:
            raise ProductNotFound(sku=missing[0])
        at = clock()
        changes = [
            (p, dataclasses.replace(draft_of(p), category=category))
            for p in found.values()
            if p.category != category
        ]
        uow.products.replace_many([(p.id, draft) for p, draft in changes], at)
        for before, draft in changes:
            uow.record(
                ProductUpdated(
                    occurred_at=at,
                    sku=before.sku,
                    product=plain(product_of(before, draft, at)),
                    before=plain(before),
                )
            )
        return len(changes)

    return atomically(uow, work)


def delete_product(uow: UnitOfWork, sku: str, *, clock: Clock = utc_now) -> None:
    def work(uow: UnitOfWork) -> None:
        product = uow.products.get_by_sku(sku)
        if product is None:
            raise ProductNotFound(sku=sku)
        why = uow.products.usage(product.id)
        if why is not None:
            raise SkuInUse(sku=sku, why=why)
        uow.products.delete(product.id)
        uow.record(ProductDeleted(occurred_at=clock(), sku=sku))

    atomically(uow, work)


def get_product(uow: UnitOfWork, sku: str) -> Product:
    def work(uow: UnitOfWork) -> Product:
        product = uow.products.get_by_sku(sku)
        if product is None:
            raise ProductNotFound(sku=sku)
        return product

    return reading(uow, work)


def list_products(
    uow: UnitOfWork,
    *,
    after_sku: str | None = None,
    limit: int = 100,
    search: str | None = None,
    active: bool | None = None,
    category: str | None = None,
) -> Sequence[Product]:
    """Products in SKU order; ``category``: those of that category and the ones below it."""

    def work(uow: UnitOfWork) -> Sequence[Product]:
        branch = None
        if category is not None:
            root = uow.categories.get_by_code(category)
            if root is None:
                raise CategoryNotFound(category=category)
            branch = [c.code for c in uow.categories.list(under=root)]
        return uow.products.list(
            after_sku=after_sku, limit=limit, search=search, active=active, categories=branch
        )

    return reading(uow, work)


# ---------------------------------------------------------------------- channels


def create_channel(
    uow: UnitOfWork,
    draft: ChannelDraft,
    *,
    clock: Clock = utc_now,
    once: Once[Channel] | None = None,
) -> Channel:
    draft.validate()

    def work(uow: UnitOfWork) -> Channel:
        if uow.channels.get_by_code(draft.code) is not None:
            raise ChannelCodeTaken(channel=draft.code)
        channel = uow.channels.add(draft, clock())
        uow.record(
            ChannelCreated(
                occurred_at=channel.created_at, code=channel.code, channel=plain(channel)
            )
        )
        return channel

    return atomically_once(uow, once, work)


def replace_channel(
    uow: UnitOfWork, code: str, draft: ChannelDraft, *, clock: Clock = utc_now
) -> Channel:
    draft.validate()
    if draft.code != code:
        raise InvalidInput(
            [FieldError("code", f"must stay '{code}'; a code cannot be renamed", "code-immutable")]
        )

    def work(uow: UnitOfWork) -> Channel:
        current = uow.channels.get_by_code(code)
        if current is None:
            raise ChannelNotFound(channel=code)
        channel = uow.channels.replace(current.id, draft, clock())
        uow.record(
            ChannelUpdated(
                occurred_at=channel.updated_at,
                code=code,
                channel=plain(channel),
                before=plain(current),
            )
        )
        return channel

    return atomically(uow, work)


def delete_channel(uow: UnitOfWork, code: str, *, clock: Clock = utc_now) -> None:
    def work(uow: UnitOfWork) -> None:
        channel = uow.channels.get_by_code(code)
        if channel is None:
            raise ChannelNotFound(channel=code)
        why = uow.channels.usage(channel.id)
        if why is not None:
            raise ChannelInUse(channel=code, why=why)
        uow.channels.delete(channel.id)
        uow.record(ChannelDeleted(occurred_at=clock(), code=code))

    atomically(uow, work)


def get_channel(uow: UnitOfWork, code: str) -> Channel:
    def work(uow: UnitOfWork) -> Channel:
        channel = uow.channels.get_by_code(code)
        if channel is None:
            raise ChannelNotFound(channel=code)
        return channel

    return reading(uow, work)


def list_channels(uow: UnitOfWork) -> Sequence[Channel]:
    return reading(uow, lambda uow: uow.channels.list())


# ---------------------------------------------------------------------- network


def _channel_ids(uow: UnitOfWork, draft: WarehouseDraft) -> list[ChannelId]:
    found = uow.channels.ids_for(list(draft.channels))
    unknown = [code for code in draft.channels if code not in found]
    if unknown:
        raise InvalidInput(
            [
                FieldError("channels", f"there is no channel '{code}'", "unknown-channel")
                for code in unknown
            ]
        )
    return [found[code] for code in draft.channels]


def create_warehouse(
    uow: UnitOfWork,
    draft: WarehouseDraft,
    *,
    clock: Clock = utc_now,
    once: Once[Warehouse] | None = None,
) -> Warehouse:
    draft.validate()

    def work(uow: UnitOfWork) -> Warehouse:
        if uow.warehouses.get_by_code(draft.code) is not None:
            raise WarehouseCodeTaken(warehouse=draft.code)
        warehouse = uow.warehouses.add(draft, _channel_ids(uow, draft), clock())
        uow.record(
            WarehouseCreated(
                occurred_at=warehouse.created_at, code=warehouse.code, warehouse=plain(warehouse)
            )
        )
        return warehouse

    return atomically_once(uow, once, work)


def replace_warehouse(
    uow: UnitOfWork,
    code: str,
    draft: WarehouseDraft,
    *,
    actor: Actor | None = None,
    clock: Clock = utc_now,
) -> Warehouse:
    """Replace a location's data. Deactivating one sources every order holding stock there
    again, elsewhere or backordered (with an alert), in the same transaction."""
    draft.validate()
    if draft.code != code:
        raise InvalidInput(
            [FieldError("code", f"must stay '{code}'; a code cannot be renamed", "code-immutable")]
        )

    def work(uow: UnitOfWork) -> Warehouse:
        current = uow.warehouses.get_by_code(code)
        if current is None:
            raise WarehouseNotFound(warehouse=code)
        at = clock()
        warehouse = uow.warehouses.replace(current.id, draft, _channel_ids(uow, draft), at)
        uow.record(
            WarehouseUpdated(
                occurred_at=warehouse.updated_at,
                code=code,
                warehouse=plain(warehouse),
                before=plain(current),
            )
        )
        if current.active and not warehouse.active:
            reroute_from(uow, warehouse, at, actor, f"warehouse {code} deactivated")
        return warehouse

    return atomically(uow, work)


def delete_warehouse(uow: UnitOfWork, code: str, *, clock: Clock = utc_now) -> None:
    def work(uow: UnitOfWork) -> None:
        warehouse = uow.warehouses.get_by_code(code)
        if warehouse is None:
            raise WarehouseNotFound(warehouse=code)
        why = uow.warehouses.usage(warehouse.id)
        if why is not None:
            raise WarehouseInUse(warehouse=code, why=why)
        uow.warehouses.delete(warehouse.id)
        uow.record(WarehouseDeleted(occurred_at=clock(), code=code))

    atomically(uow, work)


def get_warehouse(uow: UnitOfWork, code: str) -> Warehouse:
    def work(uow: UnitOfWork) -> Warehouse:
        warehouse = uow.warehouses.get_by_code(code)
        if warehouse is None:
            raise WarehouseNotFound(warehouse=code)
        return warehouse

    return reading(uow, work)


def list_warehouses(uow: UnitOfWork, *, active: bool | None = None) -> Sequence[Warehouse]:
    return reading(uow, lambda uow: uow.warehouses.list(active=active))
