"""Connector clients built per connection, from the connection's base URL and credentials."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from potok.connectors.marketplaces.avito import Avito
from potok.connectors.marketplaces.http import BucketPool
from potok.connectors.marketplaces.interface import MarketplaceClient
from potok.connectors.marketplaces.ozon import Ozon
from potok.connectors.marketplaces.retailcrm import CrmStatuses, RetailCrm
from potok.connectors.marketplaces.wildberries import Wildberries
from potok.connectors.marketplaces.yandex_market import YandexMarket
from potok.domain.errors import Rejected
from potok.domain.marketplaces import Connection, Credentials, Marketplace
from potok.settings import MarketplaceSettings

SUPPORTED = frozenset(
    {
        Marketplace.WILDBERRIES,
        Marketplace.OZON,
        Marketplace.RETAILCRM,
        Marketplace.YANDEX_MARKET,
        Marketplace.AVITO,
    }
)
"""The marketplaces a connection can be made to."""

READS_CATALOGUE = frozenset({Marketplace.OZON})
"""The marketplaces whose catalogue Potok reads to fill a connection's item map."""

PRINTS_STICKERS = frozenset({Marketplace.WILDBERRIES, Marketplace.YANDEX_MARKET, Marketplace.AVITO})
"""The marketplaces whose per-order sticker Potok fetches once an order is packed there
(Market: the order's labels, a PDF with one per box)."""

ANSWERS_CANCELLATIONS = frozenset({Marketplace.YANDEX_MARKET})
"""The marketplaces where a customer asks to cancel and the seller accepts or refuses."""

CONFIRMS_ORDERS = frozenset({Marketplace.AVITO})
"""The marketplaces where the seller confirms each new order it takes."""

TELLS_TRACKING = frozenset({Marketplace.AVITO})
"""The marketplaces told the tracking number of a parcel the seller's own carrier takes
(Avito's DBS orders), when it is handed over."""

MIRRORS_ORDERS = frozenset({Marketplace.RETAILCRM})
"""CRMs told Potok's orders of other channels (their clients are :class:`OrderMirror`)."""


class MarketplaceNotSupported(Rejected):
    code = "marketplace-not-supported"
    title = "There is no connector for this marketplace yet"
    template = "Potok has no connector for '{marketplace}' yet."


@dataclass(frozen=True, slots=True)
class MarketplaceClients:
    """Builds the client of a connection; hosts and timeouts come from the settings. One
    per process: its bucket pool makes every client of an account keep that account's
    rate limits together."""

    settings: MarketplaceSettings
    sleep: Callable[[float], None] | None = None
    pool: BucketPool = field(default_factory=BucketPool)

    def default_url(self, marketplace: Marketplace) -> str:
        if marketplace is Marketplace.WILDBERRIES:
            return self.settings.wildberries_url
        if marketplace is Marketplace.RETAILCRM:
            return self.settings.retailcrm_url
        if marketplace is Marketplace.YANDEX_MARKET:
            return self.settings.yandex_market_url
        if marketplace is Marketplace.AVITO:
            return self.settings.avito_url
        return self.settings.ozon_url

    def build(self, connection: Connection, credentials: Credentials) -> MarketplaceClient:
        options: dict[str, object] = {
            "timeout_s": self.settings.timeout_s,
            "attempts": self.settings.attempts,
            "longest_wait_s": self.settings.longest_wait_s,
            "pool": self.pool,
            "account": _account(connection.base_url, credentials),
        }
        if self.sleep is not None:
            options["sleep"] = self.sleep
        if connection.marketplace is Marketplace.WILDBERRIES:
            return Wildberries.connect(
                connection.base_url,
                credentials,
                sticker_type=self.settings.wildberries_sticker_type,
                sticker_size=self.settings.wildberries_sticker_size,
                **options,
            )
        if connection.marketplace is Marketplace.OZON:
            return Ozon.connect(connection.base_url, credentials, **options)
        if connection.marketplace is Marketplace.YANDEX_MARKET:
            return YandexMarket.connect(connection.base_url, credentials, **options)
        if connection.marketplace is Marketplace.AVITO:
            return Avito.connect(connection.base_url, credentials, **options)
        if connection.marketplace is Marketplace.RETAILCRM:
            statuses = CrmStatuses(
                packed=self.settings.retailcrm_packed_status,
                shipped=self.settings.retailcrm_shipped_status,
                cancelled=self.settings.retailcrm_cancelled_status,
            )
            crm = RetailCrm.connect(
                connection.base_url,
                credentials,
                statuses=statuses,
                time_zone=self.settings.retailcrm_time_zone,
                **options,
            )
            crm.mirror_statuses.update(self.settings.retailcrm_mirror_statuses)
            crm.payment_type = self.settings.retailcrm_payment_type
            return crm
        raise MarketplaceNotSupported(marketplace=connection.marketplace.value)


def _account(base_url: str, credentials: Credentials) -> str:
    """A name for the account behind the credentials that does not reveal them."""
    seen = f"{base_url}|{credentials.client_id or ''}|{credentials.reveal()}"
    return hashlib.sha256(seen.encode()).hexdigest()[:16]
