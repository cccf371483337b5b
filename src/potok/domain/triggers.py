"""Facts that set off reactions inside Potok, in the transaction that caused them.

A use case says what happened (stock was freed, orders lost their reservations, stock
figures moved); the reactions registry (``services/reactions.py``) decides what follows.
Unlike domain events these carry live aggregates and never leave the process: what leaves
Potok is the domain events the same use case records for the outbox.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from potok.domain.fulfilment import Shipment
from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.orders import Order


@dataclass(frozen=True, kw_only=True)
class Trigger:
    """Something a use case did that other parts of Potok react to. (No slots: a slotted
    dataclass is a copy, and the original would linger among ``__subclasses__``, which the
    registry's start-up check reads.)"""

    at: datetime


@dataclass(frozen=True, kw_only=True)
class StockFreed(Trigger):
    """Sellable units of these products grew (received, released, counted up, returned to
    the shelf); orders waiting for them may now be covered."""

    product_ids: Collection[ProductId]
    actor: str


@dataclass(frozen=True, kw_only=True)
class OrdersDisplaced(Trigger):
    """These orders lost their reservations (stock fell under what was reserved, a location
    went away) and must be sourced again; ``avoid`` are locations not to use this time."""

    orders: Sequence[Order]
    actor: str
    why: str
    avoid: Collection[WarehouseId] = ()


@dataclass(frozen=True, kw_only=True)
class OrdersLeftShort(Trigger):
    """Sourcing again found no stock for these orders; they wait as backorders."""

    orders: Sequence[Order]
    why: str


@dataclass(frozen=True, kw_only=True)
class StockFiguresMoved(Trigger):
    """On-hand, unavailable or incoming of these positions (warehouse, product) changed:
    their min/max rules may have been crossed."""

    positions: Collection[tuple[WarehouseId, ProductId]]


@dataclass(frozen=True, kw_only=True)
class ParcelCameBack(Trigger):
    """A shipment of this order was returned to its sender undelivered: its units are at
    the warehouse that sent it again."""

    order: Order
    shipment: Shipment
    actor: str
