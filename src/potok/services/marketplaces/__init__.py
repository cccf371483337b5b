"""Marketplaces: connecting accounts, importing their orders once, following their statuses."""

from potok.services.marketplaces.catalogue import (
    CatalogueMatch,
    map_catalogues_due,
    map_from_catalogue,
)
from potok.services.marketplaces.connections import (
    change_connection,
    connect_marketplace,
    get_connection,
    list_connections,
    read_journal,
)
from potok.services.marketplaces.crm_backfill import (
    BackfillView,
    get_backfill,
    run_backfill,
    start_backfill,
)
from potok.services.marketplaces.crm_orders import CrmPush, push_order_changes, push_orders
from potok.services.marketplaces.items import list_items, map_items, unmap_items
from potok.services.marketplaces.outcome import PollOutcome
from potok.services.marketplaces.polling import poll_due, poll_marketplace
from potok.services.marketplaces.stock import StockPush, push_stock, push_stock_changes

__all__ = [
    "BackfillView",
    "CatalogueMatch",
    "CrmPush",
    "PollOutcome",
    "StockPush",
    "change_connection",
    "connect_marketplace",
    "get_backfill",
    "get_connection",
    "list_connections",
    "list_items",
    "map_catalogues_due",
    "map_from_catalogue",
    "map_items",
    "poll_due",
    "poll_marketplace",
    "push_order_changes",
    "push_orders",
    "push_stock",
    "push_stock_changes",
    "read_journal",
    "run_backfill",
    "start_backfill",
    "unmap_items",
]
