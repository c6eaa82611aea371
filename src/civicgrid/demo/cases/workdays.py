"""Working-day deadlines for arrays of moments: `core.workcalendar.WorkCalendar.add_working_days`, vectorised.

numpy's `busday_offset` knows a weekmask and holidays but not make-up working days on weekends (调休上班),
so instead the calendar's working dates over the whole span are listed once (the calendar decides each
date: weekends, holidays, make-up days) and a deadline is found by position in that sorted list, with
the same rules as the scalar method: a moment on a non-working day counts from the start of the next
working day, whole days move along the list keeping the wall-clock time, a fraction of a day continues
on the next working day when the current one runs out. Moments are float seconds since the epoch (UTC).

Approximation: local time is UTC plus the zone's offset at noon of the day, which is exact for zones
without daylight saving (Asia/Shanghai) and off by the shift for moments within hours of a change.
The tests compare it with the scalar method on random moments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from civicgrid.core.workcalendar import WorkCalendar
from civicgrid.demo.population.model import Arr

DAY = 86400.0
_EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    return (day - _EPOCH).days


class VectorCalendar:
    """The working dates of `calendar` from `first` to `last` (plus a year of margin for deadlines)."""

    def __init__(self, calendar: WorkCalendar, first: date, last: date) -> None:
        start = first - timedelta(days=7)
        end = last + timedelta(days=400)
        self.base = day_number(start)
        self.span = (end - start).days + 1
        dates = [start + timedelta(days=i) for i in range(self.span)]
        working = np.array([calendar.is_working_day(d) for d in dates])
        self.working_days = self.base + np.flatnonzero(working).astype(np.int64)
        self.offsets = np.array(
            [
                (datetime.combine(d, time(12), UTC).astimezone(calendar.tz).utcoffset() or timedelta()).total_seconds()
                for d in dates
            ]
        )

    def _offset(self, seconds: Arr) -> Arr:
        index = np.clip(np.floor(seconds / DAY).astype(np.int64) - self.base, 0, self.span - 1)
        result: Arr = self.offsets[index]
        return result

    def to_local(self, seconds: Arr) -> Arr:
        local: Arr = seconds + self._offset(seconds)
        return local

    def to_utc(self, local: Arr) -> Arr:
        utc: Arr = local - self._offset(local)
        return utc

    def is_working(self, local_days: Arr) -> Arr:
        position = np.searchsorted(self.working_days, local_days)
        found: Arr = self.working_days[np.minimum(position, len(self.working_days) - 1)] == local_days
        return found

    def add_working_days(self, start: Arr, days: Arr) -> Arr:
        """`days` working days after each UTC moment of `start` (float seconds), as UTC float seconds."""
        local = self.to_local(np.asarray(start, dtype=float))
        day = np.floor(local / DAY).astype(np.int64)
        clock = local - day * DAY
        position = np.searchsorted(self.working_days, day)  # the first working date on or after the day
        clock = np.where(self.working_days[position] == day, clock, 0.0)  # a day off counts from 00:00 next
        days = np.broadcast_to(np.asarray(days, dtype=float), local.shape)
        whole = np.floor(days).astype(np.int64)
        position = position + whole
        remaining = np.round((days - whole) * DAY, 6)
        left = DAY - clock
        fits = remaining < left
        following = self.working_days[np.minimum(position + 1, len(self.working_days) - 1)]
        moment = np.where(
            fits, self.working_days[position] * DAY + clock + remaining, following * DAY + (remaining - left)
        )
        return self.to_utc(moment)
