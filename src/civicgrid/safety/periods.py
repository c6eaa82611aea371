"""Index periods on the local (Asia/Shanghai) calendar: day, dekad (旬: 1–10, 11–20, 21–end), ISO week
(Monday to Sunday) and month. A period is named by its type and first day."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from civicgrid.core.errors import InvalidInput
from civicgrid.safety.models import PERIOD_TYPES


@dataclass(frozen=True, order=True)
class Period:
    type: str
    start: date

    @property
    def end(self) -> date:
        """The last day, inclusive."""
        return self.next().start - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def next(self) -> Period:
        if self.type == "day":
            return Period("day", self.start + timedelta(days=1))
        if self.type == "week":
            return Period("week", self.start + timedelta(days=7))
        if self.type == "dekad":
            if self.start.day < 21:
                return Period("dekad", self.start + timedelta(days=10))
            return Period("dekad", _add_months(self.start.replace(day=1), 1))
        return Period("month", _add_months(self.start, 1))

    def previous(self) -> Period:
        return period_of(self.type, self.start - timedelta(days=1))

    def years_back(self, years: int) -> Period:
        """The same period `years` earlier (same dekad or month; the ISO week of the same number)."""
        if self.type == "week":
            iso = self.start.isocalendar()
            year = iso.year - years
            weeks = date(year, 12, 28).isocalendar().week
            return Period("week", date.fromisocalendar(year, min(iso.week, weeks), 1))
        day = self.start
        shifted = (
            day.replace(year=day.year - years, day=min(day.day, 28))
            if day.month == 2
            else day.replace(year=day.year - years)
        )
        return period_of(self.type, shifted)

    def key(self) -> str:
        return f"{self.type}:{self.start.isoformat()}"


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_of(period_type: str, day: date) -> Period:
    """The period of `period_type` that contains `day`."""
    if period_type == "day":
        return Period("day", day)
    if period_type == "week":
        return Period("week", day - timedelta(days=day.weekday()))
    if period_type == "dekad":
        return Period("dekad", day.replace(day=1 if day.day <= 10 else 11 if day.day <= 20 else 21))
    if period_type == "month":
        return Period("month", day.replace(day=1))
    raise InvalidInput(
        f"unknown period type {period_type!r}; use one of {', '.join(PERIOD_TYPES)}",
        details=[{"field": "period", "problem": f"must be one of {', '.join(PERIOD_TYPES)}"}],
    )


def periods_between(period_type: str, first: date, last: date) -> list[Period]:
    """Every period of `period_type` that overlaps the days `first`..`last`."""
    periods: list[Period] = []
    period = period_of(period_type, first)
    while period.start <= last:
        periods.append(period)
        period = period.next()
    return periods
