"""Marketplaces: connecting accounts, importing their orders once, following their statuses."""

from potok.services.marketplaces.connections import (
    change_connection,
    connect_marketplace,
    get_connection,
    list_connections,
    read_journal,
)
from potok.services.marketplaces.outcome import PollOutcome
from potok.services.marketplaces.polling import poll_due, poll_marketplace

__all__ = [
    "PollOutcome",
    "change_connection",
    "connect_marketplace",
    "get_connection",
    "list_connections",
    "poll_due",
    "poll_marketplace",
    "read_journal",
]
