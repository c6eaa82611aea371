"""The schedule of analysis reports: from 06:00 local time on a Monday the previous week's report of the city
and of each district is due; from 06:00 on the 1st, the previous month's (`core.scheduler`, task
`command.reports`, every 30 minutes, one process at a time).

Each is written once: its row carries a unique `scheduled_key` (type, start, area), so no run — in any
process, however often — makes a second one. A due report that is missing (the server was down that morning)
is made by the next run. The task only writes the rows and their jobs; they are rendered after its
transaction committed, in a background thread, as jobs of a system principal over the city, so the
task's write transaction never lasts as long as the rendering.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.command import report_data
from civicgrid.command.models import CommandReport
from civicgrid.command.report_model import ReportArea, ReportPeriod
from civicgrid.command.reports import JOB_KIND, PERMISSION, new_row
from civicgrid.core import jobs
from civicgrid.core.db import Database, dialect_insert
from civicgrid.core.scheduler import periodic
from civicgrid.geo.models import Division
from civicgrid.safety.counts import LOCAL_TZ
from civicgrid.safety.periods import Period, period_of

log = logging.getLogger(__name__)

SCHEDULE_TASK = "command.reports"
SCHEDULE_EVERY = timedelta(minutes=30)
SCHEDULE_HOUR = 6  # local time the previous period's report is due (the night's late records are in)
SCHEDULE_LEVELS = ("city", "district")
# Scheduled reports gather the figures as this (no person): every section, over the whole city.
SYSTEM_PERMISSIONS = frozenset({PERMISSION, "safety:read", "case:read"})


def system_principal(city_code: str) -> Principal:
    return Principal(
        user_id=None,
        username="reports",
        role="system",
        permissions=SYSTEM_PERMISSIONS,
        scope=Scope(city_code, Level.city),
    )


def due_periods(now: datetime, tz: ZoneInfo = LOCAL_TZ) -> list[Period]:
    """The newest week and month whose report is due at `now`: the previous period once its successor's
    first day has reached 06:00 local time, else the one before it."""
    local = now.astimezone(tz)
    due = []
    for period_type in report_data.PERIOD_TYPES:
        current = period_of(period_type, local.date())
        ready = datetime.combine(current.start, time(SCHEDULE_HOUR), tz)
        previous = current.previous()
        due.append(previous if local >= ready else previous.previous())
    return due


def scheduled_key(period: Period, area_code: str) -> str:
    return f"{period.type}:{period.start.isoformat()}:{area_code}"


def schedule_due(session: Session, now: datetime, tz: ZoneInfo = LOCAL_TZ) -> list[int]:
    """Write the due scheduled reports of the city and each district that do not exist yet, each with its
    queued job; the ids of the jobs written (none when everything due exists already)."""
    divisions = list(
        session.scalars(select(Division).where(Division.level.in_(SCHEDULE_LEVELS)).order_by(Division.code))
    )
    cities = [d for d in divisions if d.level == "city"]
    if len(cities) != 1:
        return []  # no map yet (or several cities): nothing to report on
    principal = system_principal(cities[0].code)
    job_ids = []
    for period in due_periods(now, tz):
        keys = {d.code: scheduled_key(period, d.code) for d in divisions}
        have = set(
            session.scalars(select(CommandReport.scheduled_key).where(CommandReport.scheduled_key.in_(keys.values())))
        )
        for division in divisions:
            key = keys[division.code]
            if key in have:
                continue
            span = ReportPeriod(period.type, period.start, period.end, period.end)
            area = ReportArea(division.code, division.name, _full_name(session, division), division.level)
            values = {**new_row(division, report_data.report_title(area, span), span, "schedule", None)}
            values["scheduled_key"] = key
            inserted = session.execute(
                dialect_insert(session, CommandReport)
                .values(**values)
                .on_conflict_do_nothing()
                .returning(CommandReport.id)
            ).scalar_one_or_none()
            if inserted is None:  # written meanwhile by another process
                continue
            job = jobs.create_job(session, principal, JOB_KIND, PERMISSION, {"report_id": inserted})
            session.execute(update(CommandReport).where(CommandReport.id == inserted).values(job_id=job.id))
            job_ids.append(job.id)
    return job_ids


def _full_name(session: Session, division: Division) -> str:
    if division.level == "city" or not division.city_code:
        return division.name
    city = session.get(Division, division.city_code)
    return f"{city.name if city else ''}{division.name}"


BACKGROUND_NICENESS = 10


def _lower_priority() -> None:
    """Let the requests of the process come first: the scheduled batch can wait (Linux: per thread)."""
    # Not Linux, or not allowed: the batch runs at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


def _in_thread(work: Callable[[], None]) -> None:
    def run() -> None:
        _lower_priority()
        work()

    threading.Thread(target=run, name="civicgrid-reports", daemon=True).start()


# How scheduled reports are rendered once the task committed: in a thread of their own (tests run it inline).
background: Callable[[Callable[[], None]], None] = _in_thread


def run_jobs(database: Database, job_ids: Sequence[int]) -> None:
    for job_id in job_ids:
        try:
            jobs.run_job(database, job_id)
        except Exception as exc:  # one report's failure must not keep the others from being made
            log.error("scheduled report job %s failed: %s", job_id, type(exc).__name__)


@periodic(SCHEDULE_TASK, every=SCHEDULE_EVERY, lease=timedelta(minutes=30))
def schedule_task(database: Database, now: datetime) -> dict[str, Any]:
    with database.unit_of_work() as session:
        job_ids = schedule_due(session, now)
    if job_ids:
        background(lambda: run_jobs(database, job_ids))
    return {"queued": len(job_ids)}
