"""Analytics: the figures managers read - order KPIs by period and dimension, stage times,
per-employee work - computed from the order facts read model, free of storage."""

from potok.domain.analytics.kpis import (
    STAGES,
    Dimension,
    EmployeeFigures,
    KpiRow,
    OrderFact,
    PickScan,
    ReasonCount,
    StageTime,
    employee_figures,
    order_kpis,
    reason_counts,
)
from potok.domain.analytics.periods import Grain, Period, PeriodTooLong, bucket
from potok.domain.analytics.stats import percentile

__all__ = [
    "STAGES",
    "Dimension",
    "EmployeeFigures",
    "Grain",
    "KpiRow",
    "OrderFact",
    "Period",
    "PeriodTooLong",
    "PickScan",
    "ReasonCount",
    "StageTime",
    "bucket",
    "employee_figures",
    "order_kpis",
    "percentile",
    "reason_counts",
]
