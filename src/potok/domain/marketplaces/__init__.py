"""Marketplace connections: accounts, mappings, health and the journal of orders kept aside."""

from potok.domain.marketplaces.items import ItemMapping, ItemNotMapped
from potok.domain.marketplaces.model import (
    Connection,
    ConnectionChanges,
    ConnectionCodeTaken,
    ConnectionDraft,
    ConnectionNotFound,
    Credentials,
    Health,
    JournalEntry,
    JournalKind,
    Marketplace,
    StickerNotKept,
)

__all__ = [
    "Connection",
    "ConnectionChanges",
    "ConnectionCodeTaken",
    "ConnectionDraft",
    "ConnectionNotFound",
    "Credentials",
    "Health",
    "ItemMapping",
    "ItemNotMapped",
    "JournalEntry",
    "JournalKind",
    "Marketplace",
    "StickerNotKept",
]
