"""Exchange with an ERP (1C): what its catalogue and offers files say, and their errors."""

from potok.domain.erp.model import (
    Catalogue,
    CatalogueGroup,
    CatalogueItem,
    CatalogueProperty,
    ExchangeFileRefused,
    ExchangeKind,
    ExchangeNotStarted,
    Offer,
    OfferPackage,
    OfferPrice,
    OfferStock,
    OrderChange,
    PriceType,
)

__all__ = [
    "Catalogue",
    "CatalogueGroup",
    "CatalogueItem",
    "CatalogueProperty",
    "ExchangeFileRefused",
    "ExchangeKind",
    "ExchangeNotStarted",
    "Offer",
    "OfferPackage",
    "OfferPrice",
    "OfferStock",
    "OrderChange",
    "PriceType",
]
