"""The events after which marketplaces are told their stock again."""

from __future__ import annotations

STOCK_EVENTS = (
    "stock.changed",  # on hand moved
    "stock.reserved",  # reservations took units
    "stock.released",  # reservations gave them back
    "stock.synced",  # a bulk upload: every SKU may have moved
    "stock.rule_set",  # a safety stock changed
    "stock.rule_deleted",
)
MAP_CHANGED = "marketplace.items_mapped"
"""A connection's item map changed: that connection pushes every SKU again (an event of
the connection's own, not in the catalogue of events that leave Potok)."""
