"""Report periods: a span of days cut into buckets of a day, an ISO week or a month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from potok.domain.errors import Rejected

MAX_DAYS = 3660  # ten years and a little: a longer span is refused
MAX_BUCKETS = 1000  # a series longer than this is refused: ask for a coarser grain


class Grain(StrEnum):
    """How finely a report cuts its period."""

    DAY = "day"
    WEEK = "week"  # ISO weeks, starting on Monday
    MONTH = "month"


class PeriodTooLong(Rejected):
    code = "report-period-too-long"
    title = "The report period is too long"
    template = (
        "From {since} to {until} is {days} days in {buckets} {grain} buckets; a report covers "
        "at most {max_days} days and {max_buckets} buckets: shorten the period or ask for a "
        "coarser grain (week, month)."
    )


class PeriodReversed(Rejected):
    code = "report-period-reversed"
    title = "The report period ends before it starts"
    template = "The period starts on {since} and ends on {until}: 'until' must not be before it."


def bucket(day: date, grain: Grain) -> date:
    """The first day of the bucket a day falls into."""
    if grain is Grain.WEEK:
        return day - timedelta(days=day.weekday())
    if grain is Grain.MONTH:
        return day.replace(day=1)
    return day


@dataclass(frozen=True, slots=True)
class Period:
    """The days from ``since`` to ``until``, both included, in UTC."""

    since: date
    until: date
    grain: Grain = Grain.DAY

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise PeriodReversed(since=self.since.isoformat(), until=self.until.isoformat())
        days = (self.until - self.since).days + 1
        buckets = len(self.buckets())
        if days > MAX_DAYS or buckets > MAX_BUCKETS:
            raise PeriodTooLong(
                since=self.since.isoformat(),
                until=self.until.isoformat(),
                days=days,
                buckets=buckets,
                grain=self.grain.value,
                max_days=MAX_DAYS,
                max_buckets=MAX_BUCKETS,
            )

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(0), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.until + timedelta(days=1), time(0), tzinfo=UTC)

    def buckets(self) -> list[date]:
        """Every bucket of the period, in order, empty ones included."""
        found: list[date] = []
        day = bucket(self.since, self.grain)
        while day <= self.until and len(found) <= MAX_BUCKETS:
            found.append(day)
            if self.grain is Grain.DAY:
                day += timedelta(days=1)
            elif self.grain is Grain.WEEK:
                day += timedelta(days=7)
            else:
                day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return found
