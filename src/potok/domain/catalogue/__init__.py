"""The catalogue: products (SKUs) that orders are made of and stock is kept for."""

from potok.domain.catalogue.model import (
    Product,
    ProductDraft,
    ProductNotFound,
    SkuInUse,
    TrackingLocked,
)

__all__ = ["Product", "ProductDraft", "ProductNotFound", "SkuInUse", "TrackingLocked"]
