"""Inventory: stock positions, the ledger, and the rules that keep them honest."""

from potok.domain.inventory.errors import CountMismatch, StockPositionNotFound
from potok.domain.inventory.model import Movement, MovementType, StockLevel

__all__ = ["CountMismatch", "Movement", "MovementType", "StockLevel", "StockPositionNotFound"]
