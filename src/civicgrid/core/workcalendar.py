"""The working-day calendar: weekends, public holidays and make-up working days, in local time.

Monday to Friday are working days and Saturday and Sunday are not, except for the dates listed in
`core_calendar_day`: a `holiday` is a day off (a weekday of a public holiday, or any day of its period),
a `workday` is a weekend day worked instead (调休上班). The table is seeded with the State Council's
holiday arrangements (resources/calendar) and edited by administrators.

Deadlines count in the platform's time zone (Asia/Shanghai by default) on the local wall clock:

- A limit of N working days from a moment ends at the same local clock time N working days later:
  reported Monday 15:20, 1 working day → Tuesday 15:20; Friday 15:20 → Monday 15:20; the eve of a
  holiday week → the same time on the first working day after it, make-up days counting as working days.
- A moment on a non-working day counts from the start (00:00) of the next working day: reported on
  Saturday at 10:00, 1 working day → Tuesday 00:00, i.e. the whole of Monday.
- Working time is measured as the part of each working day elapsed on the wall clock; every working day
  counts 1, non-working days count 0. A fraction of a day is that fraction of 24 hours, continuing on the
  next working day when the current one runs out (Friday 18:00 + 0.5 → Monday 06:00). A deadline that
  falls exactly at the end of a working day is given as 00:00 of the next working day, so every deadline
  lies on a working day.
- `working_days_between(a, b)` measures the working time from a to b in the same units (negative when b
  is before a), so `working_days_between(x, add_working_days(x, n)) == n` and an overdue case is
  `working_days_between(deadline, now)` working days late.

Results are aware UTC datetimes; naive datetimes are refused. Years the table has no entries for follow
the weekend rule only (`WorkCalendar.covers` tells).
"""

from __future__ import annotations

import csv
import math
import threading
import time
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from importlib import resources
from types import MappingProxyType
from typing import Final, Literal, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, Date, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.config import get_settings
from civicgrid.core.db import Base, after_commit
from civicgrid.core.errors import InvalidInput, NotFound

DayKind = Literal["holiday", "workday"]
DAY_KINDS: Final = ("holiday", "workday")
# Edits reach other server processes within this many seconds (the editing process sees them at once).
CACHE_SECONDS: Final = 60.0
# add_working_days refuses longer limits (ten years): a deadline that far is a mistake.
MAX_DAYS: Final = 2600
_DAY = timedelta(days=1)
_DAY_SECONDS = 86400.0


class CalendarDay(Base):
    """A date that departs from the weekend rule: a holiday, or a weekend day worked (调休上班)."""

    __tablename__ = "core_calendar_day"
    __table_args__ = (CheckConstraint("kind IN ('holiday','workday')", name="kind"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


@dataclass(frozen=True)
class WorkCalendar:
    """An immutable snapshot of the calendar in one time zone (build with `load_calendar` or `of`)."""

    tz: ZoneInfo
    days: Mapping[date, tuple[str, str]]  # date → (kind, name)
    _off: tuple[date, ...] = field(repr=False)  # weekday holidays, sorted
    _on: tuple[date, ...] = field(repr=False)  # weekend make-up days, sorted
    years: frozenset[int] = frozenset()  # years with at least one entry

    @classmethod
    def of(cls, entries: Mapping[date, tuple[str, str]], tz: ZoneInfo | str = "Asia/Shanghai") -> WorkCalendar:
        """A calendar of the given date → (kind, name) entries."""
        days = dict(entries)
        return cls(
            tz=tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz),
            days=MappingProxyType(days),
            _off=tuple(sorted(d for d, (kind, _) in days.items() if kind == "holiday" and not is_weekend(d))),
            _on=tuple(sorted(d for d, (kind, _) in days.items() if kind == "workday" and is_weekend(d))),
            years=frozenset(d.year for d in days),
        )

    # -- days --------------------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        entry = self.days.get(day)
        if entry is not None:
            return entry[0] == "workday"
        return not is_weekend(day)

    def covers(self, start: date, end: date) -> bool:
        """Whether the table has entries for every year from start to end (else only weekends count there)."""
        first, last = min(start, end), max(start, end)
        return all(year in self.years for year in range(first.year, last.year + 1))

    def next_working_day(self, day: date) -> date:
        """The first working day after `day`."""
        day += _DAY
        while not self.is_working_day(day):
            day += _DAY
        return day

    def count_working_days(self, start: date, end: date) -> int:
        """Working days d with start <= d < end (0 when end <= start)."""
        if end <= start:
            return 0
        return _weekdays(start, end) - _count(self._off, start, end) + _count(self._on, start, end)

    # -- moments -----------------------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("naive datetime given; pass a timezone-aware datetime")
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def _utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """The moment `days` working days after `start` (see the module docstring), as aware UTC."""
        if isinstance(days, bool) or not math.isfinite(days) or days < 0 or days > MAX_DAYS:
            raise ValueError(f"days must be a number from 0 to {MAX_DAYS}, not {days!r}")
        local = self._local(start)
        day = local.date()
        if not self.is_working_day(day):
            day, local = self._start_of_next(day)
        whole = math.floor(days)
        for _ in range(whole):
            day = self.next_working_day(day)
        moment = datetime.combine(day, local.time())
        remaining = timedelta(seconds=round((days - whole) * _DAY_SECONDS, 6))
        if remaining:
            left_today = datetime.combine(day + _DAY, clock_time()) - moment
            if remaining < left_today:
                moment += remaining
            else:
                day, moment = self._start_of_next(day)
                moment += remaining - left_today
        return self._utc(moment)

    def _start_of_next(self, day: date) -> tuple[date, datetime]:
        following = self.next_working_day(day)
        return following, datetime.combine(following, clock_time())

    def working_days_between(self, a: datetime, b: datetime) -> float:
        """Working time from a to b in working days; negative when b is before a."""
        start, end = self._local(a), self._local(b)
        if end < start:
            return -self._measure(end, start)
        return self._measure(start, end)

    def _measure(self, start: datetime, end: datetime) -> float:
        if start.date() == end.date():
            return _fraction(end) - _fraction(start) if self.is_working_day(start.date()) else 0.0
        total = float(self.count_working_days(start.date() + _DAY, end.date()))
        if self.is_working_day(start.date()):
            total += 1.0 - _fraction(start)
        if self.is_working_day(end.date()):
            total += _fraction(end)
        return total


def _fraction(local: datetime) -> float:
    """How much of its day a local wall-clock time has elapsed (0 ≤ f < 1)."""
    t = local.time()
    return (t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6) / _DAY_SECONDS


def _weekdays(start: date, end: date) -> int:
    """Monday–Friday dates d with start <= d < end."""
    span = (end - start).days
    weeks, rest = divmod(span, 7)
    first = start.weekday()
    return weeks * 5 + sum(1 for i in range(rest) if (first + i) % 7 < 5)


def _count(sorted_days: Sequence[date], start: date, end: date) -> int:
    return bisect_left(sorted_days, end) - bisect_left(sorted_days, start)


# -- loading and caching -----------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[str, tuple[WorkCalendar, float]] = {}


def invalidate() -> None:
    """Forget the cached calendars (after edits; tests that change the table call it too)."""
    with _cache_lock:
        _cache.clear()


def load_calendar(session: Session, tz: ZoneInfo | str | None = None) -> WorkCalendar:
    """The calendar in time zone `tz` (default: CIVICGRID_TIMEZONE), from `core_calendar_day` (cached in the
    process)."""
    if tz is None:
        tz = get_settings().tz
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    with _cache_lock:
        cached = _cache.get(zone.key)
        if cached is not None and time.monotonic() - cached[1] <= CACHE_SECONDS:
            return cached[0]
        rows = session.execute(select(CalendarDay.day, CalendarDay.kind, CalendarDay.name))
        calendar = WorkCalendar.of({day: (kind, name) for day, kind, name in rows}, zone)
        _cache[zone.key] = (calendar, time.monotonic())
        return calendar


class ShippedDay(NamedTuple):
    day: date
    kind: str
    name: str


def default_days() -> list[ShippedDay]:
    """The official holidays and make-up days shipped in resources/calendar/cn_holidays.csv."""
    text = resources.files("civicgrid.resources").joinpath("calendar/cn_holidays.csv").read_text(encoding="utf-8")
    return [ShippedDay(date.fromisoformat(r["day"]), r["kind"], r["name"]) for r in csv.DictReader(text.splitlines())]


def seed_calendar(session: Session) -> int:
    """Insert the shipped days the table lacks (dates already present, edited or not, are kept); the count."""
    present = set(session.scalars(select(CalendarDay.day)))
    missing = [entry for entry in default_days() if entry.day not in present]
    session.add_all(CalendarDay(day=e.day, kind=e.kind, name=e.name) for e in missing)
    session.flush()
    if missing:
        invalidate()
        after_commit(session, invalidate)
    return len(missing)


# -- editing -----------------------------------------------------------------------------------------------


def list_days(session: Session, year: int | None = None) -> list[CalendarDay]:
    query = select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        query = query.where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day < date(year + 1, 1, 1))
    return list(session.scalars(query))


def set_day(session: Session, principal: Principal, day: date, kind: str, name: str) -> CalendarDay:
    """Make `day` a holiday or a make-up working day (replacing what it was); audited."""
    require(principal, "calendar:write")
    name = name.strip()
    problems = []
    if kind not in DAY_KINDS:
        problems.append({"field": "kind", "problem": "must be holiday or workday"})
    elif kind == "workday" and not is_weekend(day):
        problems.append(
            {"field": "kind", "problem": f"{day:%Y-%m-%d} is a {day:%A}, already a working day"},
        )
    if not name:
        problems.append({"field": "name", "problem": "required"})
    if problems:
        message = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        if any(p["problem"].endswith("already a working day") for p in problems):
            message += " — a make-up working day (workday) must fall on a Saturday or Sunday"
        raise InvalidInput(message, details=problems)
    entry = session.get(CalendarDay, day)
    before = (entry.kind, entry.name) if entry else None
    if entry is None:
        entry = CalendarDay(day=day, kind=kind, name=name)
        session.add(entry)
    else:
        entry.kind, entry.name = kind, name
    session.flush()
    after_commit(session, invalidate)
    details: dict[str, object] = {"kind": kind, "name": name}
    if before:
        details["was"] = {"kind": before[0], "name": before[1]}
    audit.record(session, principal, "calendar.set_day", "calendar_day", day.isoformat(), details=details)
    return entry


def remove_day(session: Session, principal: Principal, day: date) -> None:
    """Return `day` to the weekend rule; audited. NotFound when it has no entry."""
    require(principal, "calendar:write")
    entry = session.get(CalendarDay, day)
    if entry is None:
        raise NotFound(
            f"{day.isoformat()} has no calendar entry; it already follows the weekend rule",
            details={"day": day.isoformat()},
        )
    details = {"kind": entry.kind, "name": entry.name}
    session.delete(entry)
    session.flush()
    after_commit(session, invalidate)
    audit.record(session, principal, "calendar.remove_day", "calendar_day", day.isoformat(), details=details)
