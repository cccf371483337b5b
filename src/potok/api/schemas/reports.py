"""Bodies of the reports endpoints: KPI series, reasons, picking per employee."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from potok.api.schemas.common import Out


class StageTimeOut(Out):
    stage: str = Field(description="confirmed, picked, packed, handed_over or delivered")
    orders: int = Field(description="Orders that passed the stage.")
    median_s: float | None = Field(description="Median seconds from the stage before.")
    p90_s: float | None = Field(description="90th percentile seconds from the stage before.")


class KpiRowOut(Out):
    period: date = Field(description="First day of the bucket (a Monday for weeks).")
    key: str = Field(description="The channel, warehouse or carrier; empty without `by`.")
    currency: str
    orders: int
    cancelled: int
    revenue: Decimal = Field(description="Totals of the orders not cancelled.")
    average_order: Decimal | None
    cancellation_rate: Decimal | None
    delivered: int
    on_time_rate: Decimal | None = Field(
        description="Delivered by the promised time, of the delivered orders with a promise."
    )
    backorder_rate: Decimal | None = Field(description="Orders that waited for stock.")
    fill_rate: Decimal | None = Field(
        description="Units handed over of the units ordered, over orders handed over in full."
    )
    return_rate: Decimal | None = Field(description="Orders with a return, of those shipped.")
    shipping_cost_per_order: Decimal | None = Field(
        description="What carriers booked, per order that has both a booking and an estimate."
    )
    shipping_estimate_per_order: Decimal | None = Field(
        description="The sourcing engine's estimate for the same orders."
    )
    stages: list[StageTimeOut]


class OrderReportOut(Out):
    since: date
    until: date
    grain: str
    by: str
    rows: list[KpiRowOut]


class ReasonOut(Out):
    kind: str = Field(description="cancelled or returned")
    reason: str
    orders: int


class ReasonReportOut(Out):
    since: date
    until: date
    items: list[ReasonOut]


class EmployeeOut(Out):
    actor: str
    warehouse: str
    scans: int
    units: int
    active_s: float = Field(description="Gaps between the person's scans, each up to 15 min.")
    units_per_hour: Decimal | None


class EmployeeReportOut(Out):
    since: date
    until: date
    items: list[EmployeeOut]


class StockFiguresOut(Out):
    warehouse: str
    sku: str
    on_hand: int
    available: int
    sold: int = Field(description="Units ordered in the period (orders not cancelled).")
    average_on_hand: float = Field(description="Units on hand, averaged over the period's days.")
    turnover: float | None = Field(
        description="Units sold over the average on hand; null when nothing lay there."
    )
    days_of_cover: float | None = Field(
        description="Days the available units last at the period's daily demand; null "
        "when nothing sold."
    )
    dead: bool = Field(description="On hand and not asked for once in the period.")
    value: Decimal = Field(description="On hand at the product's price.")
    expiring_units: int = Field(description="In lots expiring within the horizon (or expired).")
    expiring_value: Decimal


class StockReportOut(Out):
    until: date
    days: int
    expiring_within_days: int
    items: list[StockFiguresOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
