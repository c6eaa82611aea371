"""The working-day calendar: seeding, working days, deadline arithmetic (examples and properties), caching."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.audit.models import AuditRecord
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.core.db import Database
from civicgrid.core.errors import Forbidden, InvalidInput, NotFound
from civicgrid.core.workcalendar import (
    CalendarDay,
    WorkCalendar,
    default_days,
    invalidate,
    load_calendar,
    remove_day,
    seed_calendar,
    set_day,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar.of({e.day: (e.kind, e.name) for e in default_days()}, SHANGHAI)
ADMIN = Principal(None, "calendar-test", "admin", frozenset({"calendar:write"}), Scope("340300", Level.city))
WORKER = Principal(None, "worker", "grid_worker", frozenset({"geo:read"}), Scope("340300", Level.city))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    invalidate()
    yield
    invalidate()


# -- the shipped data ------------------------------------------------------------------------------------


def test_shipped_make_up_days_are_weekends_and_holidays_are_complete() -> None:
    days = {e.day: e.kind for e in default_days()}
    workdays = sorted(d for d, kind in days.items() if kind == "workday")
    assert all(d.weekday() >= 5 for d in workdays)
    assert [d.isoformat() for d in workdays] == [
        "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
    ]  # fmt: skip
    holidays = {d for d, kind in days.items() if kind == "holiday"}
    spans = [
        ("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
        ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08"),
        ("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
        ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
        ("2026-10-01", "2026-10-07"),
    ]  # fmt: skip
    expected: set[date] = set()
    for first, last in spans:
        day = date.fromisoformat(first)
        while day <= date.fromisoformat(last):
            expected.add(day)
            day += timedelta(days=1)
    assert holidays == expected


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2025-01-26", True),  # Sunday, make-up day for the Spring Festival
        ("2025-01-28", False),  # Tuesday, 除夕
        ("2025-10-08", False),  # Wednesday, last day of the National Day holiday
        ("2025-10-11", True),  # Saturday, make-up day
        ("2026-03-07", False),  # an ordinary Saturday
        ("2026-03-11", True),  # an ordinary Wednesday
        ("2027-05-03", True),  # a year without entries: weekdays only
    ],
)
def test_is_working_day(day: str, working: bool) -> None:
    assert CALENDAR.is_working_day(date.fromisoformat(day)) is working


def test_count_working_days_in_october_2025() -> None:
    # 23 weekdays, 6 of them holidays (1–3, 6–8 Oct), one Saturday worked (11 Oct).
    assert CALENDAR.count_working_days(date(2025, 10, 1), date(2025, 11, 1)) == 18
    assert CALENDAR.count_working_days(date(2025, 11, 1), date(2025, 10, 1)) == 0


def test_coverage_of_years() -> None:
    assert CALENDAR.covers(date(2025, 3, 1), date(2026, 12, 31))
    assert not CALENDAR.covers(date(2026, 12, 1), date(2027, 1, 5))


# -- deadlines -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (local(2026, 3, 2, 15, 20), 1, local(2026, 3, 3, 15, 20)),  # Monday → Tuesday, same clock time
        (local(2026, 3, 6, 15, 20), 1, local(2026, 3, 9, 15, 20)),  # Friday → Monday
        (local(2026, 3, 6, 15, 20), 5, local(2026, 3, 13, 15, 20)),
        (local(2026, 4, 30, 15, 20), 1, local(2026, 5, 6, 15, 20)),  # over the Labour Day holiday
        (local(2026, 4, 30, 15, 20), 4, local(2026, 5, 9, 15, 20)),  # …onto its make-up Saturday
        (local(2026, 2, 13, 10, 0), 1, local(2026, 2, 14, 10, 0)),  # Friday → make-up Saturday
        (local(2026, 2, 13, 10, 0), 2, local(2026, 2, 24, 10, 0)),  # …then over the Spring Festival
        (local(2026, 3, 7, 10, 0), 1, local(2026, 3, 10, 0, 0)),  # Saturday: counts from Monday 00:00
        (local(2026, 3, 7, 10, 0), 0, local(2026, 3, 9, 0, 0)),
        (local(2026, 2, 16, 9, 0), 1, local(2026, 2, 25, 0, 0)),  # inside the holiday: from 24 Feb
        (local(2026, 3, 4, 8, 0), 0.25, local(2026, 3, 4, 14, 0)),  # a fraction of 24 h
        (local(2026, 3, 6, 18, 0), 0.5, local(2026, 3, 9, 6, 0)),  # …continuing on the next working day
        (local(2026, 3, 6, 12, 0), 0.5, local(2026, 3, 9, 0, 0)),  # the end of Friday is Monday 00:00
        (local(2026, 3, 6, 15, 20), 1.5, local(2026, 3, 10, 3, 20)),
        (local(2026, 3, 2, 15, 20), 0, local(2026, 3, 2, 15, 20)),
    ],
)
def test_add_working_days(start: datetime, days: float, expected: datetime) -> None:
    result = CALENDAR.add_working_days(start, days)
    assert result == expected
    assert result.tzinfo is UTC


def test_utc_input_counts_in_local_time() -> None:
    # Friday 23:30 UTC is Saturday 07:30 in Shanghai: the limit starts on Monday.
    result = CALENDAR.add_working_days(datetime(2026, 3, 6, 23, 30, tzinfo=UTC), 1)
    assert result.astimezone(SHANGHAI) == local(2026, 3, 10, 0, 0)


def test_another_time_zone_moves_the_local_day() -> None:
    utc_calendar = WorkCalendar.of(dict(CALENDAR.days), "UTC")
    assert utc_calendar.add_working_days(datetime(2026, 3, 6, 23, 30, tzinfo=UTC), 1) == datetime(
        2026, 3, 9, 23, 30, tzinfo=UTC
    )


@pytest.mark.parametrize("days", [-1, float("nan"), float("inf"), 100_000])
def test_bad_day_counts_are_refused(days: float) -> None:
    with pytest.raises(ValueError, match="days must be"):
        CALENDAR.add_working_days(local(2026, 3, 2, 9, 0), days)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        CALENDAR.add_working_days(datetime(2026, 3, 2, 9, 0), 1)
    with pytest.raises(ValueError, match="naive"):
        CALENDAR.working_days_between(datetime(2026, 3, 2, 9, 0), local(2026, 3, 3))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (local(2026, 3, 6, 15, 20), local(2026, 3, 9, 15, 20), 1.0),  # Friday → Monday
        (local(2026, 3, 9, 15, 20), local(2026, 3, 6, 15, 20), -1.0),
        (local(2026, 3, 7, 1, 0), local(2026, 3, 8, 23, 0), 0.0),  # a weekend
        (local(2026, 3, 2, 6, 0), local(2026, 3, 2, 18, 0), 0.5),
        (local(2026, 4, 30, 0, 0), local(2026, 5, 7, 0, 0), 2.0),  # 30 Apr and 6 May
    ],
)
def test_working_days_between(a: datetime, b: datetime, expected: float) -> None:
    assert CALENDAR.working_days_between(a, b) == pytest.approx(expected)


# -- properties ------------------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2024, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(SHANGHAI)
)  # fmt: skip
day_counts = st.one_of(st.integers(min_value=0, max_value=400), st.floats(min_value=0, max_value=400))


@settings(max_examples=300, deadline=None)
@given(start=moments, days=day_counts)
def test_a_deadline_lands_on_a_working_day(start: datetime, days: float) -> None:
    end = CALENDAR.add_working_days(start, days)
    assert end >= start
    assert CALENDAR.is_working_day(end.astimezone(SHANGHAI).date())


@settings(max_examples=300, deadline=None)
@given(start=moments, days=day_counts)
def test_between_inverts_add(start: datetime, days: float) -> None:
    end = CALENDAR.add_working_days(start, days)
    assert CALENDAR.working_days_between(start, end) == pytest.approx(days, abs=1e-6)
    assert CALENDAR.working_days_between(end, start) == pytest.approx(-days, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(start=moments, days=st.integers(min_value=1, max_value=400))
def test_whole_days_from_a_working_day_keep_the_clock_time(start: datetime, days: int) -> None:
    if not CALENDAR.is_working_day(start.date()):
        start = datetime.combine(CALENDAR.next_working_day(start.date()), start.timetz())
    end = CALENDAR.add_working_days(start, days).astimezone(SHANGHAI)
    assert end.time() == start.time()
    assert CALENDAR.count_working_days(start.date(), end.date()) == days


@settings(max_examples=300, deadline=None)
@given(
    start=moments, later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)), a=day_counts, b=day_counts
)
def test_deadlines_are_monotonic(start: datetime, later: timedelta, a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert CALENDAR.add_working_days(start, low) <= CALENDAR.add_working_days(start, high)
    assert CALENDAR.add_working_days(start, low) <= CALENDAR.add_working_days(start + later, low)


@settings(max_examples=200, deadline=None)
@given(first=st.dates(date(2024, 6, 1), date(2027, 6, 1)), span=st.integers(min_value=0, max_value=800))
def test_count_matches_counting_one_by_one(first: date, span: int) -> None:
    last = first + timedelta(days=span)
    one_by_one = sum(CALENDAR.is_working_day(first + timedelta(days=i)) for i in range(span))
    assert CALENDAR.count_working_days(first, last) == one_by_one


# -- the table: seeding, editing, caching ----------------------------------------------------------------


def test_seeding_is_idempotent_and_keeps_edits(db: Database) -> None:
    with db.unit_of_work() as session:
        assert seed_calendar(session) == len(default_days())
    with db.unit_of_work() as session:
        assert seed_calendar(session) == 0
        set_day(session, ADMIN, date(2026, 10, 7), "holiday", "国庆节（本地调整）")
        remove_day(session, ADMIN, date(2026, 10, 10))
    with db.unit_of_work() as session:
        assert seed_calendar(session) == 1  # the removed day comes back; the edited one stays
        assert session.get(CalendarDay, date(2026, 10, 7)).name == "国庆节（本地调整）"  # type: ignore[union-attr]


def test_the_calendar_is_cached_and_edits_invalidate_it(db: Database) -> None:
    with db.unit_of_work() as session:
        seed_calendar(session)
    with db.unit_of_work() as session:
        first = load_calendar(session, SHANGHAI)
        assert load_calendar(session, "Asia/Shanghai") is first
        assert not first.is_working_day(date(2026, 10, 7))
    with db.unit_of_work() as session:
        session.add(CalendarDay(day=date(2026, 3, 11), kind="holiday", name="behind the cache's back"))
    with db.unit_of_work() as session:
        assert load_calendar(session, SHANGHAI) is first  # the direct insert is not seen yet
        set_day(session, ADMIN, date(2026, 3, 14), "workday", "调休上班")
        assert load_calendar(session, SHANGHAI) is first  # not before the edit has committed
    with db.unit_of_work() as session:
        fresh = load_calendar(session, SHANGHAI)
        assert fresh is not first
        assert fresh.is_working_day(date(2026, 3, 14)) and not fresh.is_working_day(date(2026, 3, 11))


def test_load_calendar_defaults_to_the_configured_time_zone(session: Session) -> None:
    assert load_calendar(session).tz.key == "Asia/Shanghai"


def test_set_day_validates(session: Session) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        set_day(session, ADMIN, date(2026, 3, 11), "workday", "调休")  # a Wednesday
    assert "Saturday or Sunday" in excinfo.value.message
    assert excinfo.value.details == [{"field": "kind", "problem": "2026-03-11 is a Wednesday, already a working day"}]
    with pytest.raises(InvalidInput) as excinfo:
        set_day(session, ADMIN, date(2026, 3, 14), "festival", " ")
    assert [p["field"] for p in excinfo.value.details] == ["kind", "name"]
    set_day(session, ADMIN, date(2026, 3, 14), "holiday", "a weekend day inside a holiday period")  # allowed


def test_editing_needs_the_permission_and_is_audited(session: Session) -> None:
    with pytest.raises(Forbidden):
        set_day(session, WORKER, date(2026, 3, 14), "workday", "调休上班")
    with pytest.raises(Forbidden):
        remove_day(session, WORKER, date(2026, 3, 14))
    set_day(session, ADMIN, date(2026, 3, 14), "workday", "调休上班")
    set_day(session, ADMIN, date(2026, 3, 14), "workday", "春节调休上班")
    remove_day(session, ADMIN, date(2026, 3, 14))
    with pytest.raises(NotFound, match="weekend rule"):
        remove_day(session, ADMIN, date(2026, 3, 14))
    records = session.scalars(select(AuditRecord).order_by(AuditRecord.seq)).all()
    assert [(r.action, r.object_id) for r in records] == [
        ("calendar.set_day", "2026-03-14"),
        ("calendar.set_day", "2026-03-14"),
        ("calendar.remove_day", "2026-03-14"),
    ]
    assert records[1].details == {
        "kind": "workday",
        "name": "春节调休上班",
        "was": {"kind": "workday", "name": "调休上班"},
    }
