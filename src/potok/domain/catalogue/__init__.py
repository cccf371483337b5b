"""The catalogue: products (SKUs) that orders are made of and stock is kept for, and the
tree of categories they belong to."""

from potok.domain.catalogue.categories import (
    Category,
    CategoryCodeTaken,
    CategoryDraft,
    CategoryInUse,
    CategoryLoop,
    CategoryNotFound,
    CategoryTooDeep,
)
from potok.domain.catalogue.model import (
    Product,
    ProductDraft,
    ProductNotFound,
    SkuInUse,
    TrackingLocked,
)

__all__ = [
    "Category",
    "CategoryCodeTaken",
    "CategoryDraft",
    "CategoryInUse",
    "CategoryLoop",
    "CategoryNotFound",
    "CategoryTooDeep",
    "Product",
    "ProductDraft",
    "ProductNotFound",
    "SkuInUse",
    "TrackingLocked",
]
