"""What the forecasts refuse: reading a run before any is stored, and asking a stored run
for more days than it forecast."""

from __future__ import annotations

from potok.domain.errors import NotFound, Rejected


class NoForecastRun(NotFound):
    code = "no-forecast-run"
    title = "No demand forecast is stored yet"
    template = (
        "No forecast run is stored: run 'potok forecast run', or let the worker run one on "
        "its schedule (POTOK_WORKER__FORECAST_EVERY_HOURS)."
    )


class ForecastTooShort(Rejected):
    code = "forecast-too-short"
    title = "The stored forecast does not reach that far"
    template = (
        "Lead time {lead_days} d and review period {review_days} d need {needed} days of "
        "forecast; run {run} forecast {horizon} days: shorten them, or store a run with "
        "'potok forecast run --horizon {needed}'."
    )


class NothingToReorder(Rejected):
    code = "nothing-to-reorder"
    title = "Nothing of that is to be ordered"
    template = (
        "The newest forecast run suggests ordering none of {skus} at {warehouse} now: their "
        "positions cover their reorder points (an order or transfer may already bring them)."
    )
