"""What an ERP (1C) sends Potok in an exchange: its catalogue and its offers (prices and stock),
read from CommerceML, each item remembering the line it came from for error messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from potok.domain.errors import Rejected


class ExchangeKind(StrEnum):
    """What an exchange carries: 1C's ``type`` parameter."""

    CATALOG = "catalog"  # the catalogue, prices and stock, from 1C to Potok
    SALE = "sale"  # orders, both ways


class ExchangeFileRefused(Rejected):
    """A file 1C sent that Potok cannot take; nothing of it was applied."""

    code = "exchange-file-refused"
    title = "The exchange file was refused; nothing of it was applied"
    template = "{file}, line {line}, <{element}>: {why}"


class ExchangeNotStarted(Rejected):
    """A step of the exchange came before the step it needs."""

    code = "exchange-not-started"
    title = "The exchange step came out of order"
    template = "{why}"


@dataclass(frozen=True, slots=True)
class CatalogueGroup:
    """A group of 1C's classifier (a folder of products), within its parent group."""

    onec_id: str
    name: str
    parent: str | None
    line: int


@dataclass(frozen=True, slots=True)
class CatalogueProperty:
    """A property of products in 1C's classifier, with its choices (value id -> text)."""

    onec_id: str
    name: str
    choices: Mapping[str, str]
    line: int


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    """A product as 1C describes it in ``import.xml``."""

    onec_id: str
    sku: str
    name: str
    unit: str  # its base unit's ОКЕИ code
    line: int
    barcode: str | None = None
    vat_rate: Decimal | None = None  # None: the file does not say
    groups: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    deleted: bool = False  # 1C marked it deleted: Potok stops selling it


@dataclass(frozen=True, slots=True)
class Catalogue:
    """``import.xml``: the classifier (groups, properties) and the catalogue's products."""

    groups: tuple[CatalogueGroup, ...] = ()
    properties: tuple[CatalogueProperty, ...] = ()
    items: tuple[CatalogueItem, ...] = ()
    only_changes: bool = False


@dataclass(frozen=True, slots=True)
class PriceType:
    onec_id: str
    name: str
    currency: str


@dataclass(frozen=True, slots=True)
class OfferPrice:
    price_type: str
    amount: Decimal
    currency: str
    line: int


@dataclass(frozen=True, slots=True)
class OfferStock:
    warehouse: str  # 1C's Ид of the warehouse
    quantity: int
    line: int


@dataclass(frozen=True, slots=True)
class Offer:
    """A product's prices and stock as 1C offers them in ``offers.xml``."""

    onec_id: str
    line: int
    prices: tuple[OfferPrice, ...] = ()
    stock: tuple[OfferStock, ...] = ()
    quantity: int | None = None  # the total, when no warehouse is named


@dataclass(frozen=True, slots=True)
class OfferPackage:
    """``offers.xml``: price types, warehouses (Ид -> name) and the offers."""

    price_types: tuple[PriceType, ...] = ()
    warehouses: Mapping[str, str] = field(default_factory=dict)
    offers: tuple[Offer, ...] = ()
    only_changes: bool = False


@dataclass(frozen=True, slots=True)
class OrderChange:
    """What 1C says of one of Potok's orders after taking it: cancelled, or paid."""

    order_ref: str  # the Ид Potok gave the document: the order's id
    line: int
    cancelled: bool = False
    paid: bool = False
