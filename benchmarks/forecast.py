"""Forecast benchmark: the sandbox's year of shop-like daily demand (weekly and yearly
seasons, trends, promotions, stock-outs, a quarter slow movers; potok/sandbox/demand.py),
each series' method chosen by the rolling-origin backtest and scored on the last 28 days it
never saw, against the seasonal naive, then the forecast of every series.

    python benchmarks/forecast.py --series 2000
    python benchmarks/forecast.py --series 10000

It prints the methods chosen, then as its last line:

    forecast series=N horizon_days=28 mase=… mase_seasonal_naive=… wape=… fit_s=…

``mase`` is the mean over series of the chosen method's MASE (scaled by the history's
weekly naive error), ``wape`` the pooled weighted absolute percentage error; ``fit_s`` the
seconds for the backtest and the forecast together (numpy, one process).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from potok.domain.analytics.forecast import HORIZON, backtest, forecast_with
from potok.sandbox.demand import demand_history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    history = demand_history(args.series, args.days, seed=args.seed)
    started = time.perf_counter()
    tested = backtest(history.units, history.censored, HORIZON)
    by_method: dict[str, list[int]] = {}
    for i, method in enumerate(tested.chosen):
        by_method.setdefault(method, []).append(i)
    for method, rows in by_method.items():
        forecast_with(method, history.units[rows], history.censored[rows], HORIZON)
    fit_s = time.perf_counter() - started
    print("methods chosen:", dict(Counter(tested.chosen)))
    print(f"bias={tested.total.bias:.4f} wape_seasonal_naive={tested.total_baseline.wape:.4f}")
    print(
        f"forecast series={args.series} horizon_days={HORIZON} "
        f"mase={tested.total.mase:.4f} mase_seasonal_naive={tested.total_baseline.mase:.4f} "
        f"wape={tested.total.wape:.4f} fit_s={fit_s:.2f}"
    )


if __name__ == "__main__":
    main()
