"""Shortages: the orders waiting for stock, read for the operators' list - what each lacks,
since when, where it holds its other units, and the receipts expected for what it lacks."""

from __future__ import annotations

from potok.services.read_models import OrderFilter, ShortOrderPage
from potok.services.unit_of_work import UnitOfWork, reading


def list_shortages(
    uow: UnitOfWork,
    flt: OrderFilter,
    *,
    sku: str | None = None,
    warehouse: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> ShortOrderPage:
    """A page of backordered orders within ``flt`` (the caller's reach and chosen channels),
    longest waiting first; ``sku`` and ``warehouse`` narrow it."""
    return reading(
        uow,
        lambda uow: uow.queries.list_short_orders(
            flt, sku=sku, warehouse=warehouse, cursor=cursor, limit=limit
        ),
    )
