"""Which marketplace item each Potok SKU is, per connection: the ids the marketplace's
orders name (WB ``chrtId``, Ozon ``sku``), its product card (WB ``nmId``, Ozon
``product_id``), the seller's article there and a barcode. Import reads it to name the
SKU of an order line; the stock push reads it to name the item whose quantity it sends."""

from __future__ import annotations

from dataclasses import dataclass

from potok.domain.errors import Rejected
from potok.domain.marketplaces.model import Marketplace
from potok.domain.validation import Problems

MAX_MAPPED_AT_ONCE = 10_000
"""The most rows one mapping request (or file) carries."""

STOCK_KEY = {
    Marketplace.WILDBERRIES: "item",
    Marketplace.OZON: "product",
    Marketplace.RETAILCRM: "item",
    Marketplace.YANDEX_MARKET: "item",
    Marketplace.AVITO: "item",
}
"""The field each marketplace's stock method names an item by: WB ``chrtId`` (the item),
Ozon ``product_id`` (the product card), RetailCRM the offer's ``id`` (the item), Yandex
Market the seller's ``offerId`` (the item: Market's orders name it too)."""


@dataclass(frozen=True, slots=True)
class ItemMapping:
    """One Potok SKU as the marketplace knows it."""

    sku: str
    item: str  # WB chrtId, Ozon sku
    product: str | None = None  # WB nmId, Ozon product_id
    article: str | None = None  # WB vendorCode, Ozon offer_id
    barcode: str | None = None

    def check(self, problems: Problems, marketplace: Marketplace) -> None:
        """Add what is wrong with this row to ``problems``."""
        problems.code("sku", self.sku)
        if marketplace is Marketplace.YANDEX_MARKET:
            if not self.item.strip() or len(self.item) > 64 or not self.item.isprintable():
                problems.add("item", "Market's offerId: 1-64 printable characters", "bad-item")
        elif not self.item.isdigit() or len(self.item) > 19:
            what = {Marketplace.WILDBERRIES: "chrtId", Marketplace.OZON: "sku"}.get(
                marketplace, "offer id"
            )
            problems.add("item", f"the marketplace's {what}: 1-19 digits", "bad-item")
        if self.product is not None and (not self.product.isdigit() or len(self.product) > 19):
            what = {Marketplace.WILDBERRIES: "nmId", Marketplace.OZON: "product_id"}.get(
                marketplace, "product id"
            )
            problems.add("product", f"the marketplace's {what}: 1-19 digits", "bad-product")
        if self.article is not None:
            problems.text("article", self.article, max_length=128)
        if self.barcode is not None:
            problems.text("barcode", self.barcode, max_length=64)

    def stock_key(self, marketplace: Marketplace) -> str | None:
        """The id the marketplace's stock method wants for this item, None if unknown."""
        return self.item if STOCK_KEY[marketplace] == "item" else self.product


class ItemNotMapped(Rejected):
    code = "marketplace-item-not-mapped"
    title = "The SKU is not mapped to a marketplace item"
    template = "SKU '{sku}' has no {marketplace} item on connection '{connection}'."
