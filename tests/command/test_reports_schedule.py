"""The schedule of analysis reports: which week and month are due when, and that a report of an area and
period is made once however often (and wherever) the task runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from civicgrid.authz.scope import Principal
from civicgrid.command import report_schedule, reports
from civicgrid.command.models import CommandReport
from civicgrid.core import jobs, scheduler
from civicgrid.core.db import Database
from civicgrid.core.files import LocalFileStore
from civicgrid.core.pagination import ListParams
from civicgrid.safety.counts import LOCAL_TZ
from civicgrid.safety.periods import Period
from tests.command.reports_fixtures import ReportCity
from tests.support.city import CITY, DISTRICT, OTHER_DISTRICT, TinyCity


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


def test_which_reports_are_due() -> None:
    due = report_schedule.due_periods
    # Monday 16 November 2026: the week of the 9th is due from 06:00; before, still the week of the 2nd.
    assert due(_local(2026, 11, 16, 5, 59)) == [Period("week", date(2026, 11, 2)), Period("month", date(2026, 10, 1))]
    assert due(_local(2026, 11, 16, 6, 0)) == [Period("week", date(2026, 11, 9)), Period("month", date(2026, 10, 1))]
    assert due(_local(2026, 11, 22, 23, 59))[0] == Period("week", date(2026, 11, 9))  # all week long
    # The 1st of December: November from 06:00.
    assert due(_local(2026, 12, 1, 5, 0))[1] == Period("month", date(2026, 10, 1))
    assert due(_local(2026, 12, 1, 6, 0))[1] == Period("month", date(2026, 11, 1))
    assert due(_local(2027, 1, 1, 6, 30))[1] == Period("month", date(2026, 12, 1))  # across the year
    # Local time decides: 06:00 in Shanghai is 22:00 UTC the day before.
    assert due(datetime(2026, 11, 15, 22, 0, tzinfo=UTC))[0] == Period("week", date(2026, 11, 9))


def test_the_due_reports_are_written_once(db: Database, cases_city: TinyCity) -> None:
    now = _local(2026, 11, 16, 7, 0)
    with db.unit_of_work() as s:
        first = report_schedule.schedule_due(s, now)
    assert len(first) == 6  # the city and its two districts, a week and a month each
    with db.unit_of_work() as s:
        assert report_schedule.schedule_due(s, now) == []
        assert report_schedule.schedule_due(s, now + timedelta(days=3)) == []  # the same week and month
        rows = list(s.scalars(select(CommandReport).order_by(CommandReport.id)))
        assert {(r.area_code, r.period_type, r.period_start) for r in rows} == {
            (code, kind, start)
            for code in (CITY, DISTRICT, OTHER_DISTRICT)
            for kind, start in (("week", date(2026, 11, 9)), ("month", date(2026, 10, 1)))
        }
        assert {(r.origin, r.status, r.requested_by) for r in rows} == {("schedule", "queued", None)}
        assert all(r.data_until == Period(r.period_type, r.period_start).end for r in rows)
        assert {r.job_id for r in rows} == set(first)
        by_key = {r.scheduled_key: r for r in rows}
        assert by_key[f"week:2026-11-09:{DISTRICT}"].title == "蚌埠市蚌山区 2026年第46周 社会治安形势研判报告"
        assert by_key[f"month:2026-10-01:{CITY}"].title == "蚌埠市 2026年10月 社会治安形势研判报告"
        job = s.get(jobs.Job, first[0])
        assert job is not None and (job.kind, job.status, job.actor) == (reports.JOB_KIND, "queued", "system:reports")
    # The next Monday: only the new week.
    with db.unit_of_work() as s:
        later = report_schedule.schedule_due(s, now + timedelta(days=7))
        assert len(later) == 3
    # The unique key refuses a second row of the same area and period, whoever writes it.
    with pytest.raises(IntegrityError), db.unit_of_work() as s:
        row = s.scalars(select(CommandReport)).first()
        assert row is not None
        s.add(
            CommandReport(
                area_code=row.area_code, level=row.level, city_code=row.city_code, district_code=row.district_code,
                period_type=row.period_type, period_start=row.period_start, data_until=row.data_until,
                origin="schedule", scheduled_key=row.scheduled_key, status="queued", title=row.title,
            )
        )  # fmt: skip
        s.flush()


def test_no_city_no_reports(db: Database) -> None:
    with db.unit_of_work() as s:
        assert report_schedule.schedule_due(s, _local(2026, 11, 16, 7, 0)) == []


def test_the_scheduled_task_makes_the_reports_once(
    db: Database,
    report_city: ReportCity,
    report_store: LocalFileStore,
    principal_of: Callable[[str], Principal],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(report_schedule, "background", lambda work: work())  # render at once, in this thread
    week = report_city.week
    now = datetime.combine(week.next().start, datetime.min.time(), LOCAL_TZ).astimezone(UTC) + timedelta(hours=7)
    runs = scheduler.run_due(db, now, only=[report_schedule.SCHEDULE_TASK])
    assert [(r.name, r.status, r.result) for r in runs] == [("command.reports", "ok", {"queued": 6})]
    with db.unit_of_work(write=False) as s:
        rows = list(s.scalars(select(CommandReport)))
        assert len(rows) == 6 and {r.status for r in rows} == {"succeeded"}, [(r.status, r.error) for r in rows]
        assert all(r.pages and r.pdf_size and r.xlsx_size for r in rows)
        weekly = next(r for r in rows if r.area_code == DISTRICT and r.period_type == "week")
        assert weekly.period_start == week.start and weekly.summary is not None and "接报警情 11 起" in weekly.summary
    assert len(list(report_store.root.rglob("*.pdf"))) == 6

    # Run again (another process, an hour later, that evening): nothing more.
    for later in (timedelta(hours=1), timedelta(hours=12)):
        runs = scheduler.run_due(db, now + later, only=[report_schedule.SCHEDULE_TASK])
        assert [r.result for r in runs] == [{"queued": 0}]
    with db.unit_of_work(write=False) as s:
        assert s.scalar(select(func.count()).select_from(CommandReport)) == 6
        # A district's centre lists its district's scheduled reports, not the city's or the other district's.
        listed, total = reports.list_reports(
            s, principal_of("district.operator"), reports.ReportFilter(origin="schedule"), ListParams(1, 50, None)
        )
        assert total == 2 and {r.area_code for r in listed} == {DISTRICT}


def test_the_scheduled_batch_runs_in_its_own_thread_at_a_lower_priority() -> None:
    import os
    import sys
    import threading

    seen: list[tuple[str, int | None]] = []
    finished = threading.Event()

    def work() -> None:
        niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) if sys.platform == "linux" else None
        seen.append((threading.current_thread().name, niceness))
        finished.set()

    report_schedule._in_thread(work)
    assert finished.wait(10)
    assert seen[0][0] == "civicgrid-reports"
    if sys.platform == "linux":
        assert seen[0][1] is not None and seen[0][1] >= report_schedule.BACKGROUND_NICENESS
