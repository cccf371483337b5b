"""Daily demand forecasting per SKU x warehouse, many series at once (numpy, one pass
over the days for all series and all parameters together).

Three methods, chosen per series by a rolling-origin backtest:
- ``seasonal_naive``: each weekday as it was the week before - the baseline everything is
  measured against;
- ``exp_smoothing``: additive exponential smoothing of a level and a weekly season
  (Holt-Winters without trend), its two weights picked per series from a small grid by
  the one-step errors over the history;
- ``tsb``: Teunter-Syntetos-Babai for intermittent demand (slow movers): the chance of a
  demand day and the size of a demand, smoothed apart; a flat forecast of their product.

Censored days (the SKU was out of stock at the warehouse when the day began) are neither
learnt from nor scored: a stock-out is not a day of no demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEASON = 7
HORIZON = 28
FOLDS = 3  # rolling origins: the first ones choose the method, the last one scores it
MIN_DAYS = 2 * SEASON  # fewer days of history than this: the baseline, with a note
METHODS = ("seasonal_naive", "exp_smoothing", "tsb")
_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3, 0.5])
_GAMMAS = np.array([0.05, 0.15, 0.3])
_TSB = np.array([0.05, 0.1, 0.2, 0.3])

Matrix = np.ndarray[Any, np.dtype[np.float64]]
Mask = np.ndarray[Any, np.dtype[np.bool_]]


def _imputed(y: Matrix, censored: Mask) -> Matrix:
    """Censored days filled with the same weekday's value a week before (0 at the start)."""
    filled = np.where(censored, np.nan, y)
    for t in range(filled.shape[1]):
        gap = np.isnan(filled[:, t])
        if gap.any():
            filled[gap, t] = filled[gap, t - SEASON] if t >= SEASON else 0.0
    return filled


def seasonal_naive(y: Matrix, censored: Mask, horizon: int) -> Matrix:
    """The last week repeated (censored days as the week before them): day ``T + j`` gets
    the value of day ``T - 7 + j % 7``."""
    last = _imputed(y, censored)[:, -SEASON:]
    reps = -(-horizon // SEASON)
    return np.asarray(np.tile(last, reps)[:, :horizon], dtype=np.float64)


def exp_smoothing(y: Matrix, censored: Mask, horizon: int) -> Matrix:
    """Additive level + weekly season; weights per series from the grid by one-step SSE."""
    n, days = y.shape
    grid_a, grid_g = np.meshgrid(_ALPHAS, _GAMMAS, indexing="ij")
    alpha, gamma = grid_a.ravel(), grid_g.ravel()  # (K,)
    k = alpha.size
    start = _imputed(y, censored)
    first = start[:, : min(days, 2 * SEASON)]
    level0 = first.mean(axis=1)
    season0 = np.zeros((n, SEASON))
    for d in range(min(days, 2 * SEASON)):
        season0[:, d % SEASON] += (first[:, d] - level0) / max(1, min(days, 2 * SEASON) // SEASON)
    level = np.repeat(level0[:, None], k, axis=1)  # (n, K)
    season = np.repeat(season0[:, None, :], k, axis=1)  # (n, K, 7)
    sse = np.zeros((n, k))
    for t in range(days):
        pos = t % SEASON
        pred = level + season[:, :, pos]
        err = y[:, t][:, None] - pred
        err = np.where(censored[:, t][:, None], 0.0, err)
        if t >= SEASON:
            sse += err * err
        level = level + alpha * err
        season[:, :, pos] += gamma * (1 - alpha) * err
    best = sse.argmin(axis=1)
    rows = np.arange(n)
    lv, ss = level[rows, best], season[rows, best]  # (n,), (n, 7)
    steps = (days + np.arange(horizon)) % SEASON
    return np.asarray(np.clip(lv[:, None] + ss[:, steps], 0.0, None), dtype=np.float64)


def tsb(y: Matrix, censored: Mask, horizon: int) -> Matrix:
    """Teunter-Syntetos-Babai: chance of a demand day times the smoothed demand size."""
    n, days = y.shape
    a = _TSB  # the same weight for both parts, picked per series
    seen = ~censored
    occurred = (y > 0) & seen
    size0 = np.where(
        occurred.any(axis=1), (y * occurred).sum(axis=1) / np.maximum(occurred.sum(axis=1), 1), 0.0
    )
    prob0 = occurred.sum(axis=1) / np.maximum(seen.sum(axis=1), 1)
    prob = np.repeat(prob0[:, None], a.size, axis=1)
    size = np.repeat(size0[:, None], a.size, axis=1)
    sse = np.zeros((n, a.size))
    for t in range(days):
        yt = y[:, t][:, None]
        ok = seen[:, t][:, None]
        err = np.where(ok, yt - prob * size, 0.0)
        sse += err * err
        hit = (yt > 0) & ok
        prob = np.where(ok, prob + a * (hit - prob), prob)
        size = np.where(hit, size + a * (yt - size), size)
    best = sse.argmin(axis=1)
    rows = np.arange(n)
    flat = prob[rows, best] * size[rows, best]
    return np.asarray(np.repeat(flat[:, None], horizon, axis=1), dtype=np.float64)


_FORECASTERS = {"seasonal_naive": seasonal_naive, "exp_smoothing": exp_smoothing, "tsb": tsb}


def forecast_with(method: str, y: Matrix, censored: Mask, horizon: int) -> Matrix:
    return _FORECASTERS[method](y, censored, horizon)


def _scale(y: Matrix, censored: Mask) -> Matrix:
    """MASE's denominator per series: the mean absolute weekly-naive error in the history."""
    diff = np.abs(y[:, SEASON:] - y[:, :-SEASON])
    ok = ~(censored[:, SEASON:] | censored[:, :-SEASON])
    count = ok.sum(axis=1)
    return np.asarray(
        np.where(count > 0, (diff * ok).sum(axis=1) / np.maximum(count, 1), 0.0), dtype=np.float64
    )


@dataclass(frozen=True, slots=True)
class Accuracy:
    """How one method did on held-out days: MASE (against the history's weekly naive),
    WAPE and bias (forecast less actual, over actual)."""

    mase: float | None
    wape: float | None
    bias: float | None


def _accuracy(errors: Matrix, actual: Matrix, ok: Mask, scale: Matrix) -> list[Accuracy]:
    found = []
    for i in range(errors.shape[0]):
        e, a, m = errors[i][ok[i]], actual[i][ok[i]], scale[i]
        total = float(a.sum())
        found.append(
            Accuracy(
                float(np.abs(e).mean() / m) if m > 0 and e.size else None,
                float(np.abs(e).sum() / total) if total > 0 else None,
                float(e.sum() / total) if total > 0 else None,
            )
        )
    return found


def overall(errors: Matrix, actual: Matrix, ok: Mask, scale: Matrix) -> Accuracy:
    """Accuracy over many series: MASE as the mean of the series' own, WAPE and bias pooled."""
    good = scale > 0
    per = [
        float(np.abs(errors[i][ok[i]]).mean() / scale[i])
        for i in np.flatnonzero(good)
        if ok[i].any()
    ]
    total = float((actual * ok).sum())
    e = errors * ok
    return Accuracy(
        float(np.mean(per)) if per else None,
        float(np.abs(e).sum() / total) if total > 0 else None,
        float(e.sum() / total) if total > 0 else None,
    )


@dataclass
class Backtest:
    """The method chosen per series and how it and the baseline did on the last fold."""

    chosen: list[str]
    accuracy: list[Accuracy]  # of the chosen method, per series
    baseline: list[Accuracy]  # of the seasonal naive, per series
    total: Accuracy
    total_baseline: Accuracy
    notes: list[str] = field(default_factory=list)


def backtest(y: Matrix, censored: Mask, horizon: int = HORIZON, folds: int = FOLDS) -> Backtest:
    """Rolling origins ``folds`` horizons from the end: all but the last pick each series'
    method by mean absolute error; the last scores the pick and the baseline, unseen."""
    n, days = y.shape
    usable = days - folds * horizon
    if usable < MIN_DAYS:
        raise ValueError(f"{days} days of history: a backtest needs {MIN_DAYS + folds * horizon}")
    mae = {m: np.zeros(n) for m in METHODS}
    for fold in range(folds - 1):
        origin = usable + fold * horizon
        actual, ok = y[:, origin : origin + horizon], ~censored[:, origin : origin + horizon]
        for method in METHODS:
            f = forecast_with(method, y[:, :origin], censored[:, :origin], horizon)
            mae[method] += (np.abs(f - actual) * ok).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
    stacked = np.stack([mae[m] for m in METHODS])  # (methods, n); ties go to the simpler one
    chosen = [METHODS[i] for i in stacked.argmin(axis=0)]
    origin = usable + (folds - 1) * horizon
    train_y, train_c = y[:, :origin], censored[:, :origin]
    actual, ok = y[:, origin : origin + horizon], ~censored[:, origin : origin + horizon]
    by_method = {m: forecast_with(m, train_y, train_c, horizon) for m in METHODS}
    picked = np.stack([by_method[m][i] for i, m in enumerate(chosen)]) if n else actual
    base = by_method["seasonal_naive"]
    scale = _scale(train_y, train_c)
    return Backtest(
        chosen,
        _accuracy(picked - actual, actual, ok, scale),
        _accuracy(base - actual, actual, ok, scale),
        overall(picked - actual, actual, ok, scale),
        overall(base - actual, actual, ok, scale),
    )
