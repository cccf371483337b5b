"""Stock KPIs per SKU x warehouse over a period: turnover, days of cover, dead stock, and
the value of what is about to expire."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class StockFigures:
    """One SKU at one warehouse: what sold in the period against what lay there."""

    warehouse: str
    sku: str
    on_hand: int
    available: int
    sold: int  # units ordered in the period (orders not cancelled)
    average_on_hand: float  # over the period's days, from the ledger
    days: int
    value: Decimal  # on hand at the product's price
    expiring_units: int  # in lots expiring within the horizon (or expired)
    expiring_value: Decimal

    @property
    def daily_demand(self) -> float:
        return self.sold / self.days if self.days else 0.0

    @property
    def turnover(self) -> float | None:
        """Units sold over the average on hand: how many times the stock turned."""
        if self.average_on_hand <= 0:
            return None
        return round(self.sold / self.average_on_hand, 2)

    @property
    def days_of_cover(self) -> float | None:
        """How many days the available units last at the period's daily demand."""
        if self.daily_demand <= 0:
            return None
        return round(self.available / self.daily_demand, 1)

    @property
    def dead(self) -> bool:
        """On hand and not asked for once in the period."""
        return self.on_hand > 0 and self.sold == 0
