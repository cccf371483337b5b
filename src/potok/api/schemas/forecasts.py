"""Bodies of the forecast endpoints: the newest stored run, one SKU's forecast, and the
reorder suggestions built on the run."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from potok.api.schemas.common import JSON_INTEGER, Code, Day, Out, Page, Schema
from potok.api.schemas.transfers import PurchaseOrderOut


class ForecastRunOut(Out):
    id: int
    ran_at: datetime
    until: date = Field(description="The last day of history the run learnt from.")
    days: int = Field(description="Days of history.")
    horizon: int = Field(description="Days forecast, from the day after `until`.")
    by_channel: bool
    series: int
    mase: float | None = Field(description="Over every series, on the last unseen days.")
    mase_seasonal_naive: float | None
    wape: float | None
    bias: float | None
    notes: list[str]


class ForecastDayOut(Out):
    day: date
    units: float
    low: float = Field(description="The 80 % interval's lower end (never below 0).")
    high: float


class ForecastSeriesOut(Out):
    sku: str
    warehouse: str
    channel: str = Field(description="Empty when the series is every channel together.")
    method: str = Field(description="seasonal_naive, exp_smoothing or tsb")
    sigma: float = Field(description="A day's demand spread, in units.")
    mase: float | None
    mase_seasonal_naive: float | None
    note: str
    days: list[ForecastDayOut]


class StoredForecastOut(Out):
    run: ForecastRunOut | None = Field(description="Null until a run is stored.")
    series: list[ForecastSeriesOut] = Field(description="The series of the SKU asked for.")


class ReorderSuggestionOut(Out):
    warehouse: str
    sku: str
    method: str
    lead_days: int
    lead_demand: float = Field(description="Forecast units over the lead time.")
    safety_stock: float = Field(description="z x sigma x sqrt(lead time).")
    reorder_point: int
    order_up_to: int = Field(description="The reorder point plus the review period's forecast.")
    position: int = Field(description="Available plus incoming, now.")
    suggested_quantity: int = Field(description="Up to `order_up_to` when below the point.")
    min: int | None = Field(description="The min/max rule beside it, when there is one.")
    max: int | None
    why: str


class ReorderPageOut(Page):
    run: ForecastRunOut | None = Field(description="Null until a run is stored.")
    items: list[ReorderSuggestionOut]


class ServiceLevel(StrEnum):
    """A target cycle service level the reorder points are worked out for."""

    p80 = "0.8"
    p90 = "0.9"
    p95 = "0.95"
    p98 = "0.98"
    p99 = "0.99"


class _ReorderIn(Schema):
    warehouse: Code = Field(description="The warehouse to restock.", examples=["MSK"])
    skus: list[Code] = Field(
        default_factory=list,
        max_length=1000,
        description="The positions to act on; empty: every one of the warehouse to order.",
    )
    lead_days: Annotated[int, Field(ge=1, le=180), JSON_INTEGER] = 7
    review_days: Annotated[int, Field(ge=1, le=180), JSON_INTEGER] = 7
    service_level: ServiceLevel = ServiceLevel.p95
    expected_on: Day | None = Field(default=None, description="When it should arrive.")


class ReorderPurchaseIn(_ReorderIn):
    supplier: str = Field(min_length=1, max_length=255, examples=["ООО Чайники"])


class ReorderTransferIn(_ReorderIn):
    from_warehouse: Code = Field(description="Where the stock comes from.", examples=["SPB"])


__all__ = [
    "ForecastDayOut",
    "ForecastRunOut",
    "ForecastSeriesOut",
    "PurchaseOrderOut",
    "ReorderPageOut",
    "ReorderPurchaseIn",
    "ReorderSuggestionOut",
    "ReorderTransferIn",
    "ServiceLevel",
    "StoredForecastOut",
]
