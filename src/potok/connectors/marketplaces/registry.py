"""Connector clients built per connection, from the connection's base URL and credentials."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from potok.connectors.marketplaces.interface import MarketplaceClient
from potok.connectors.marketplaces.ozon import Ozon
from potok.connectors.marketplaces.wildberries import Wildberries
from potok.domain.errors import Rejected
from potok.domain.marketplaces import Connection, Credentials, Marketplace
from potok.settings import MarketplaceSettings

SUPPORTED = frozenset({Marketplace.WILDBERRIES, Marketplace.OZON})
"""The marketplaces a connection can be made to."""


class MarketplaceNotSupported(Rejected):
    code = "marketplace-not-supported"
    title = "There is no connector for this marketplace yet"
    template = "Potok has no connector for '{marketplace}' yet."


@dataclass(frozen=True, slots=True)
class MarketplaceClients:
    """Builds the client of a connection; hosts and timeouts come from the settings."""

    settings: MarketplaceSettings
    sleep: Callable[[float], None] | None = None

    def default_url(self, marketplace: Marketplace) -> str:
        if marketplace is Marketplace.WILDBERRIES:
            return self.settings.wildberries_url
        return self.settings.ozon_url

    def build(self, connection: Connection, credentials: Credentials) -> MarketplaceClient:
        options: dict[str, object] = {
            "timeout_s": self.settings.timeout_s,
            "attempts": self.settings.attempts,
            "longest_wait_s": self.settings.longest_wait_s,
        }
        if self.sleep is not None:
            options["sleep"] = self.sleep
        if connection.marketplace is Marketplace.WILDBERRIES:
            return Wildberries.connect(connection.base_url, credentials, **options)
        if connection.marketplace is Marketplace.OZON:
            return Ozon.connect(connection.base_url, credentials, **options)
        raise MarketplaceNotSupported(marketplace=connection.marketplace.value)
