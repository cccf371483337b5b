"""Fictitious daily demand that looks like a shop's: weekly and yearly seasons, trends,
promotions, stock-outs and slow movers - for the forecast's benchmark and the demo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class DemandHistory:
    """``units[s, t]``: units asked of series s on day t; ``censored``: out of stock that
    day (what was asked is not known) or on promotion (not ordinary demand)."""

    units: np.ndarray[Any, np.dtype[np.float64]]
    censored: np.ndarray[Any, np.dtype[np.bool_]]
    slow: np.ndarray[Any, np.dtype[np.bool_]]  # the slow movers among the series


def demand_history(series: int, days: int = 365, *, seed: int = 7) -> DemandHistory:
    """``series`` histories of ``days`` days; a quarter of them slow movers."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    slow = rng.random(series) < 0.25
    base = np.where(slow, rng.uniform(0.05, 0.4, series), rng.uniform(2.0, 40.0, series))
    weekly_shape = np.array([0.9, 0.95, 1.0, 1.05, 1.2, 1.35, 0.75])
    weekly = 1 + rng.uniform(0.3, 1.0, series)[:, None] * (weekly_shape[t % 7] - 1)
    yearly = 1 + rng.uniform(0.0, 0.35, series)[:, None] * np.sin(
        2 * np.pi * (t + rng.integers(0, 365, series)[:, None]) / 365
    )
    trend = 1 + rng.uniform(-0.3, 0.5, series)[:, None] * t / days
    rate = base[:, None] * weekly * yearly * trend
    units = rng.poisson(rate).astype(np.float64)
    promo = np.zeros((series, days), dtype=bool)
    for s in np.flatnonzero(rng.random(series) < 0.3):  # some run a week-long promotion
        start = rng.integers(0, days - 7)
        promo[s, start : start + 7] = True
    units = np.where(promo, units * 3, units)
    stockout = np.zeros((series, days), dtype=bool)
    for s in np.flatnonzero(rng.random(series) < 0.2):  # some run out for a few days
        start = rng.integers(0, days - 10)
        stockout[s, start : start + int(rng.integers(2, 10))] = True
    units = np.where(stockout, 0.0, units)
    return DemandHistory(units, promo | stockout, slow)
