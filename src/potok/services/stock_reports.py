"""Stock KPIs: per SKU and warehouse, turnover and days of cover over a period, dead stock,
and the value on hand and about to expire (at the products' prices)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from potok.domain.analytics.stock import StockFigures
from potok.services import expiry, forecasting, inventory
from potok.services.pages import page_after
from potok.services.unit_of_work import UnitOfWork, reading


def stock_figures(
    uow: UnitOfWork,
    until: date,
    *,
    days: int = 90,
    expiring_within: int = 30,
    warehouses: list[str] | None = None,
) -> list[StockFigures]:
    """Every position on hand or sold in the ``days`` up to ``until``."""
    demand = forecasting.load_demand(uow, until, days=days, warehouses=warehouses, all_stock=True)
    prices = reading(uow, lambda u: u.reports.prices())
    on_hand: dict[tuple[str, str], int] = defaultdict(int)
    available: dict[tuple[str, str], int] = defaultdict(int)
    cursor: str | None = None
    while True:
        page = inventory.list_levels(uow, cursor=cursor, limit=1000, within=warehouses)
        for row in page.items:
            on_hand[row.warehouse, row.sku] += row.on_hand
            available[row.warehouse, row.sku] += row.available
        cursor = page.next_cursor
        if cursor is None:
            break
    expiring: dict[tuple[str, str], int] = defaultdict(int)
    for lot in expiry.expiring_lots(uow, within_days=expiring_within, within=warehouses):
        expiring[lot.warehouse, lot.sku] += lot.on_hand
    index = {key: i for i, key in enumerate(demand.keys)}
    found = []
    for warehouse, sku in sorted({(w, s) for s, w in demand.keys} | set(on_hand)):
        i = index.get((sku, warehouse))
        sold = int(demand.units[i].sum()) if i is not None else 0
        average = float(demand.on_hand[i].mean()) if i is not None else 0.0
        price = prices.get(sku, Decimal("0.00"))
        found.append(
            StockFigures(
                warehouse,
                sku,
                on_hand[warehouse, sku],
                available[warehouse, sku],
                sold,
                round(average, 2),
                days,
                price * on_hand[warehouse, sku],
                expiring[warehouse, sku],
                price * expiring[warehouse, sku],
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class StockPage:
    items: list[StockFigures]
    next_cursor: str | None
    positions: int = 0  # on every page, as the totals below
    value: Decimal = Decimal("0.00")
    dead: int = 0
    dead_value: Decimal = Decimal("0.00")
    expiring_value: Decimal = Decimal("0.00")


def stock_report(
    uow: UnitOfWork,
    until: date,
    *,
    days: int = 90,
    expiring_within: int = 30,
    warehouses: list[str] | None = None,
    dead_only: bool = False,
    cursor: str | None = None,
    limit: int = 100,
) -> StockPage:
    """The stock figures a page at a time, in (warehouse, SKU) order; ``dead_only``: only
    what lay there unasked for."""
    found = stock_figures(
        uow, until, days=days, expiring_within=expiring_within, warehouses=warehouses
    )
    if warehouses is not None:
        found = [f for f in found if f.warehouse in warehouses]
    if dead_only:
        found = [f for f in found if f.dead]
    items, next_cursor = page_after(found, lambda f: (f.warehouse, f.sku), cursor, limit)
    zero = Decimal("0.00")
    return StockPage(
        items,
        next_cursor,
        len(found),
        sum((f.value for f in found), zero),
        sum(1 for f in found if f.dead),
        sum((f.value for f in found if f.dead), zero),
        sum((f.expiring_value for f in found), zero),
    )
