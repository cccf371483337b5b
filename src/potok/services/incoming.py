"""Incoming stock: what shipped transfers and open purchase orders bring to each warehouse."""

from __future__ import annotations

from potok.services.read_models import IncomingRow
from potok.services.unit_of_work import UnitOfWork, reading


def list_incoming(
    uow: UnitOfWork, *, warehouses: list[str] | None = None, sku: str | None = None
) -> list[IncomingRow]:
    """Per (warehouse, SKU): the units on their way, the earliest expected date, and the
    transfers and purchase orders that bring them."""
    return reading(uow, lambda uow: uow.queries.list_incoming(warehouses=warehouses, sku=sku))
