"""Marketplaces: connecting accounts, importing their orders once, following their statuses."""

from potok.services.marketplaces.connections import (
    connect_marketplace,
    get_connection,
    list_connections,
    read_journal,
)
from potok.services.marketplaces.polling import PollOutcome, poll_due, poll_marketplace

__all__ = [
    "PollOutcome",
    "connect_marketplace",
    "get_connection",
    "list_connections",
    "poll_due",
    "poll_marketplace",
    "read_journal",
]
