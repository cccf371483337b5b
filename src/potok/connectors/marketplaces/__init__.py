"""Marketplaces: one interface (:class:`MarketplaceClient`, in ``interface.py``) and a
module per marketplace speaking its published API (``../shared/specs``).

A connector pulls new orders and reads statuses; Potok's services turn what it answers
into orders and their changes. It never touches the database and is called outside
transactions.

To add a marketplace:

1. Write a module here with a class that implements :class:`MarketplaceClient`
   (``new_orders``, ``statuses``), talking through :class:`MarketplaceHttp` with the
   marketplace's rate limit as a :class:`RateLimit`, every path in one ``PATHS`` table.
2. Map its statuses to :class:`MarketplaceState` in one function.
3. Register it in :class:`MarketplaceClients.build` and give its default host a setting.
4. Test it against a simulator of its API running as a real local HTTP server (see
   ``tests/simulators/``), including its 429 and 5xx answers.
"""

from potok.connectors.marketplaces.http import MarketplaceHttp, RateLimit
from potok.connectors.marketplaces.interface import (
    CallStats,
    CredentialsRefused,
    CustomersOutcome,
    HistoryChange,
    IncomingAddress,
    IncomingLine,
    IncomingOrder,
    ListedItem,
    Malformed,
    MarketplaceClient,
    MarketplaceError,
    MarketplaceRefused,
    MarketplaceState,
    MarketplaceUnavailable,
    MirroredCustomer,
    MirroredLine,
    MirroredOrder,
    MirrorOutcome,
    OrderMirror,
    Packed,
    PackedItem,
    PackOutcome,
    StatusSeen,
    Sticker,
    StockLevel,
    StockOutcome,
)
from potok.connectors.marketplaces.registry import (
    ANSWERS_CANCELLATIONS,
    CONFIRMS_ORDERS,
    MIRRORS_ORDERS,
    PRINTS_STICKERS,
    READS_CATALOGUE,
    TELLS_TRACKING,
    MarketplaceClients,
    MarketplaceNotSupported,
)

__all__ = [
    "ANSWERS_CANCELLATIONS",
    "CONFIRMS_ORDERS",
    "MIRRORS_ORDERS",
    "PRINTS_STICKERS",
    "READS_CATALOGUE",
    "TELLS_TRACKING",
    "CallStats",
    "CredentialsRefused",
    "CustomersOutcome",
    "HistoryChange",
    "IncomingAddress",
    "IncomingLine",
    "IncomingOrder",
    "ListedItem",
    "Malformed",
    "MarketplaceClient",
    "MarketplaceClients",
    "MarketplaceError",
    "MarketplaceHttp",
    "MarketplaceNotSupported",
    "MarketplaceRefused",
    "MarketplaceState",
    "MarketplaceUnavailable",
    "MirrorOutcome",
    "MirroredCustomer",
    "MirroredLine",
    "MirroredOrder",
    "OrderMirror",
    "PackOutcome",
    "Packed",
    "PackedItem",
    "RateLimit",
    "StatusSeen",
    "Sticker",
    "StockLevel",
    "StockOutcome",
]
