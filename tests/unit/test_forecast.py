"""The forecast methods on series whose answer is known, the censored days left out, and the
backtest choosing per series and beating the seasonal naive on shop-like demand."""

from __future__ import annotations

import numpy as np
import pytest

from potok.domain.analytics.forecast import backtest, exp_smoothing, seasonal_naive, tsb
from potok.sandbox.demand import demand_history


def test_the_seasonal_naive_repeats_the_last_week_and_skips_a_stock_out() -> None:
    week = [1.0, 2, 3, 4, 5, 6, 7]
    y = np.array([week * 3])
    censored = np.zeros_like(y, dtype=bool)
    assert seasonal_naive(y, censored, 9).tolist() == [[1, 2, 3, 4, 5, 6, 7, 1, 2]]
    y[0, -1] = 0.0  # Sunday of the last week: out of stock, so nothing sold
    censored[0, -1] = True
    assert seasonal_naive(y, censored, 7).tolist() == [week]  # the week before's 7, not 0


def test_exponential_smoothing_learns_a_weekly_pattern_and_tsb_a_slow_rate() -> None:
    pattern = np.array([10.0, 10, 10, 10, 20, 30, 5])
    y = np.tile(pattern, 12)[None, :]
    censored = np.zeros_like(y, dtype=bool)
    assert exp_smoothing(y, censored, 7)[0] == pytest.approx(pattern, abs=0.5)
    slow = np.zeros((1, 84))
    slow[0, ::4] = 2.0  # two units every fourth day: half a unit a day
    assert tsb(slow, np.zeros_like(slow, dtype=bool), 3)[0] == pytest.approx([0.5] * 3, abs=0.1)


def test_the_backtest_beats_the_seasonal_naive_on_shop_like_demand() -> None:
    history = demand_history(200, 365, seed=3)
    result = backtest(history.units, history.censored)
    assert set(result.chosen) <= {"seasonal_naive", "exp_smoothing", "tsb"}
    slow_picks = {m for m, s in zip(result.chosen, history.slow, strict=True) if s}
    assert "tsb" in slow_picks  # slow movers get the intermittent method
    assert result.total.mase is not None
    assert result.total_baseline.mase is not None
    assert result.total.mase < result.total_baseline.mase
    assert result.total.wape is not None
    assert result.total_baseline.wape is not None
    assert result.total.wape < result.total_baseline.wape


def test_a_short_history_is_refused_by_the_backtest_with_the_days_it_needs() -> None:
    with pytest.raises(ValueError, match="needs 98"):
        backtest(np.ones((1, 30)), np.zeros((1, 30), dtype=bool))
