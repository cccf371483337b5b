"""Products, channels and warehouses: create, read, replace, patch, delete."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from potok.api.deps import Uow
from potok.api.idempotency import IdempotencyKey, answer
from potok.api.problems import responses
from potok.api.schemas.catalogue import (
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    ProductIn,
    ProductOut,
    ProductPageOut,
    ProductPatch,
    WarehouseIn,
    WarehouseOut,
    WarehousePatch,
)
from potok.api.schemas.common import Code
from potok.api.scope import Reach, reach
from potok.api.security import Caller, needs
from potok.domain.access import Permission
from potok.domain.catalogue import (
    CategoryCodeTaken,
    CategoryInUse,
    CategoryLoop,
    CategoryNotFound,
    CategoryTooDeep,
    ProductNotFound,
    SkuInUse,
    TrackingLocked,
)
from potok.domain.catalogue.model import SkuTaken
from potok.domain.channels import ChannelNotFound
from potok.domain.channels.model import ChannelCodeTaken, ChannelInUse
from potok.domain.errors import InvalidInput
from potok.domain.network import WarehouseNotFound
from potok.domain.network.model import WarehouseCodeTaken, WarehouseInUse
from potok.domain.orders.errors import IdempotencyKeyReused
from potok.services import catalogue
from potok.services import categories as category_service
from potok.services.catalogue import BarcodeTaken

In = TypeVar("In", bound=BaseModel)


def merge(
    model: type[In], current: BaseModel, patch: BaseModel, *, derived: frozenset[str] = frozenset()
) -> In:
    """A full body from the current representation (less its ``derived`` fields) and the
    fields a PATCH sets."""
    try:
        return model.model_validate(
            {
                **current.model_dump(exclude={"created_at", "updated_at", *derived}),
                **patch.model_dump(exclude_unset=True),
            }
        )
    except ValidationError as error:  # e.g. an explicit null for a field that needs a value
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors()]
        ) from None


products = APIRouter(prefix="/api/v1/products", tags=["products"])
categories = APIRouter(prefix="/api/v1/categories", tags=["products"])
channels = APIRouter(prefix="/api/v1/channels", tags=["channels"])
warehouses = APIRouter(prefix="/api/v1/warehouses", tags=["warehouses"])


# ---------------------------------------------------------------------- products


@products.post(
    "",
    status_code=201,
    response_model=ProductOut,
    summary="Add a product",
    responses=responses(InvalidInput, SkuTaken, BarcodeTaken, IdempotencyKeyReused),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.NETWORK)],
)
def create_product(
    body: ProductIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return answer(
        request,
        "create-product",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: catalogue.create_product(uow, body.draft(), once=once),
        lambda made: (201, ProductOut.model_validate(made).model_dump(mode="json")),
        lambda made: {"Location": f"{products.prefix}/{made['sku']}"},
    )


@products.get(
    "",
    response_model=ProductPageOut,
    summary="List products by SKU",
    responses=responses(CategoryNotFound),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.NETWORK)],
)
def list_products(
    uow: Uow,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of SKU or name, or a barcode.")
    ] = None,
    active: bool | None = None,
    category: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="Only the products of this category and the categories below it.",
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=64, description="The last SKU seen.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ProductPageOut:
    found = catalogue.list_products(
        uow, after_sku=cursor, limit=limit + 1, search=q, active=active, category=category
    )
    items = [ProductOut.model_validate(p) for p in found[:limit]]
    return ProductPageOut(items=items, next_cursor=items[-1].sku if len(found) > limit else None)


@products.get(
    "/{sku}",
    response_model=ProductOut,
    summary="A product",
    responses=responses(ProductNotFound),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.NETWORK)],
)
def get_product(sku: Code, uow: Uow) -> ProductOut:
    return ProductOut.model_validate(catalogue.get_product(uow, sku))


@products.put(
    "/{sku}",
    response_model=ProductOut,
    summary="Replace a product",
    responses=responses(ProductNotFound, InvalidInput, BarcodeTaken, TrackingLocked),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.NETWORK)],
)
def replace_product(sku: Code, body: ProductIn, uow: Uow) -> ProductOut:
    return ProductOut.model_validate(catalogue.replace_product(uow, sku, body.draft()))


@products.patch(
    "/{sku}",
    response_model=ProductOut,
    summary="Change some of a product's fields",
    responses=responses(ProductNotFound, InvalidInput, BarcodeTaken, TrackingLocked),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.NETWORK)],
)
def patch_product(sku: Code, body: ProductPatch, uow: Uow) -> ProductOut:
    current = ProductOut.model_validate(catalogue.get_product(uow, sku))
    merged = merge(ProductIn, current, body)
    return ProductOut.model_validate(catalogue.replace_product(uow, sku, merged.draft()))


@products.delete(
    "/{sku}",
    status_code=204,
    summary="Delete a product nothing refers to",
    responses=responses(ProductNotFound, SkuInUse),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.NETWORK)],
)
def delete_product(sku: Code, uow: Uow) -> Response:
    catalogue.delete_product(uow, sku)
    return Response(status_code=204)


# ---------------------------------------------------------------------- categories


@categories.post(
    "",
    status_code=201,
    response_model=CategoryOut,
    summary="Add a product category",
    description="A top-level category, or one under `parent`; the tree is at most eight "
    "levels deep.",
    responses=responses(InvalidInput, CategoryCodeTaken, CategoryTooDeep, IdempotencyKeyReused),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.NETWORK)],
)
def create_category(
    body: CategoryIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return answer(
        request,
        "create-category",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: category_service.create_category(uow, body.draft(), once=once),
        lambda made: (201, CategoryOut.model_validate(made).model_dump(mode="json")),
        lambda made: {"Location": f"{categories.prefix}/{made['code']}"},
    )


@categories.get(
    "",
    response_model=list[CategoryOut],
    summary="The category tree, a parent before its children",
    responses=responses(CategoryNotFound),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.NETWORK)],
)
def list_categories(
    uow: Uow,
    under: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="Only this category's branch."),
    ] = None,
) -> list[CategoryOut]:
    return [
        CategoryOut.model_validate(c) for c in category_service.list_categories(uow, under=under)
    ]


@categories.get(
    "/{category}",
    response_model=CategoryOut,
    summary="A category",
    responses=responses(CategoryNotFound),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.NETWORK)],
)
def get_category(category: Code, uow: Uow) -> CategoryOut:
    return CategoryOut.model_validate(category_service.get_category(uow, category))


@categories.put(
    "/{category}",
    response_model=CategoryOut,
    summary="Rename a category or move it with its branch",
    responses=responses(CategoryNotFound, InvalidInput, CategoryLoop, CategoryTooDeep),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.NETWORK)],
)
def replace_category(category: Code, body: CategoryIn, uow: Uow) -> CategoryOut:
    return CategoryOut.model_validate(
        category_service.replace_category(uow, category, body.draft())
    )


@categories.patch(
    "/{category}",
    response_model=CategoryOut,
    summary="Rename a category or move it (`parent`) with its branch",
    responses=responses(CategoryNotFound, InvalidInput, CategoryLoop, CategoryTooDeep),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.NETWORK)],
)
def patch_category(category: Code, body: CategoryPatch, uow: Uow) -> CategoryOut:
    current = CategoryOut.model_validate(category_service.get_category(uow, category))
    merged = merge(CategoryIn, current, body, derived=frozenset({"path"}))
    return CategoryOut.model_validate(
        category_service.replace_category(uow, category, merged.draft())
    )


@categories.delete(
    "/{category}",
    status_code=204,
    summary="Delete a category with no products and nothing below it",
    responses=responses(CategoryNotFound, CategoryInUse),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.NETWORK)],
)
def delete_category(category: Code, uow: Uow) -> Response:
    category_service.delete_category(uow, category)
    return Response(status_code=204)


# ---------------------------------------------------------------------- channels


@channels.post(
    "",
    status_code=201,
    response_model=ChannelOut,
    summary="Add a sales channel",
    responses=responses(InvalidInput, ChannelCodeTaken, IdempotencyKeyReused),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.UNLIMITED)],
)
def create_channel(
    body: ChannelIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return answer(
        request,
        "create-channel",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: catalogue.create_channel(uow, body.draft(), once=once),
        lambda made: (201, ChannelOut.model_validate(made).model_dump(mode="json")),
        lambda made: {"Location": f"{channels.prefix}/{made['code']}"},
    )


@channels.get(
    "",
    response_model=list[ChannelOut],
    summary="All channels",
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.LISTED)],
)
def list_channels(uow: Uow, caller: Caller) -> list[ChannelOut]:
    """Every channel; a key bound to one channel sees that one only."""
    return [
        ChannelOut.model_validate(c)
        for c in catalogue.list_channels(uow)
        if caller.channel in (None, c.code)
    ]


@channels.get(
    "/{code}",
    response_model=ChannelOut,
    summary="A channel",
    responses=responses(ChannelNotFound),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.CHANNEL)],
)
def get_channel(code: Code, uow: Uow) -> ChannelOut:
    return ChannelOut.model_validate(catalogue.get_channel(uow, code))


@channels.put(
    "/{code}",
    response_model=ChannelOut,
    summary="Replace a channel",
    responses=responses(ChannelNotFound, InvalidInput),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.CHANNEL)],
)
def replace_channel(code: Code, body: ChannelIn, uow: Uow) -> ChannelOut:
    return ChannelOut.model_validate(catalogue.replace_channel(uow, code, body.draft()))


@channels.patch(
    "/{code}",
    response_model=ChannelOut,
    summary="Change some of a channel's fields",
    responses=responses(ChannelNotFound, InvalidInput),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.CHANNEL)],
)
def patch_channel(code: Code, body: ChannelPatch, uow: Uow) -> ChannelOut:
    current = ChannelOut.model_validate(catalogue.get_channel(uow, code))
    merged = merge(ChannelIn, current, body)
    return ChannelOut.model_validate(catalogue.replace_channel(uow, code, merged.draft()))


@channels.delete(
    "/{code}",
    status_code=204,
    summary="Delete a channel without orders",
    responses=responses(ChannelNotFound, ChannelInUse),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.CHANNEL)],
)
def delete_channel(code: Code, uow: Uow) -> Response:
    catalogue.delete_channel(uow, code)
    return Response(status_code=204)


# ---------------------------------------------------------------------- warehouses


@warehouses.post(
    "",
    status_code=201,
    response_model=WarehouseOut,
    summary="Add a warehouse, store or pickup point",
    responses=responses(InvalidInput, WarehouseCodeTaken, IdempotencyKeyReused),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.UNLIMITED)],
)
def create_warehouse(
    body: WarehouseIn,
    request: Request,
    uow: Uow,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return answer(
        request,
        "create-warehouse",
        caller,
        idempotency_key,
        body.model_dump_json(),
        lambda once: catalogue.create_warehouse(uow, body.draft(), once=once),
        lambda made: (201, WarehouseOut.model_validate(made).model_dump(mode="json")),
        lambda made: {"Location": f"{warehouses.prefix}/{made['code']}"},
    )


@warehouses.get(
    "",
    response_model=list[WarehouseOut],
    summary="The whole network",
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.NETWORK)],
)
def list_warehouses(uow: Uow, active: bool | None = None) -> list[WarehouseOut]:
    return [WarehouseOut.model_validate(w) for w in catalogue.list_warehouses(uow, active=active)]


@warehouses.get(
    "/{code}",
    response_model=WarehouseOut,
    summary="A location",
    responses=responses(WarehouseNotFound),
    dependencies=[needs(Permission.CATALOGUE_READ), reach(Reach.NETWORK)],
)
def get_warehouse(code: Code, uow: Uow) -> WarehouseOut:
    return WarehouseOut.model_validate(catalogue.get_warehouse(uow, code))


@warehouses.put(
    "/{code}",
    response_model=WarehouseOut,
    summary="Replace a location",
    description="Deactivating a location (`active: false`) sources every order holding stock "
    "there again, elsewhere or backordered with an alert, in the same transaction.",
    responses=responses(WarehouseNotFound, InvalidInput),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.UNLIMITED)],
)
def replace_warehouse(code: Code, body: WarehouseIn, uow: Uow, caller: Caller) -> WarehouseOut:
    return WarehouseOut.model_validate(
        catalogue.replace_warehouse(uow, code, body.draft(), actor=caller.actor)
    )


@warehouses.patch(
    "/{code}",
    response_model=WarehouseOut,
    summary="Change some of a location's fields",
    description='`{"active": false}` takes the location out of sourcing and re-sources '
    "the orders holding stock there (see PUT).",
    responses=responses(WarehouseNotFound, InvalidInput),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.UNLIMITED)],
)
def patch_warehouse(code: Code, body: WarehousePatch, uow: Uow, caller: Caller) -> WarehouseOut:
    current = WarehouseOut.model_validate(catalogue.get_warehouse(uow, code))
    merged = merge(WarehouseIn, current, body)
    return WarehouseOut.model_validate(
        catalogue.replace_warehouse(uow, code, merged.draft(), actor=caller.actor)
    )


@warehouses.delete(
    "/{code}",
    status_code=204,
    summary="Delete a location nothing refers to",
    responses=responses(WarehouseNotFound, WarehouseInUse),
    dependencies=[needs(Permission.CATALOGUE_WRITE), reach(Reach.UNLIMITED)],
)
def delete_warehouse(code: Code, uow: Uow) -> Response:
    catalogue.delete_warehouse(uow, code)
    return Response(status_code=204)
