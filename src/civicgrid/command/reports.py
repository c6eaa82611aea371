"""Analysis reports (研判报告): asking for one, making it in the background (`report_data` gathers the figures,
`report_pdf` and `report_xlsx` draw them), listing reports and serving their files.

A request writes a `CommandReport` row (queued) and a job (`core.jobs`, kind `command.report`) in the
request's transaction; the job gathers the figures (`report_data.gather`, with the requester's permissions
over the report's area), renders the PDF and the XLSX and stores both in the file store (the one case photos
use), then marks the row succeeded — or failed with a message. Gathering reads in its own read-only unit of
work and the row is written in short ones, so rendering never holds SQLite's write lock.

The schedule (`report_schedule`) makes the weekly and monthly reports of the city and its districts.

Who may read a report: anyone with `command:read` whose scope holds the report's area.
"""

from __future__ import annotations

import logging
import threading
import time as monotonic
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from civicgrid.authz.policy import get_in_scope, restrict
from civicgrid.authz.scope import Principal
from civicgrid.command import report_data
from civicgrid.command.models import CommandReport
from civicgrid.command.report_model import ReportData, ReportPeriod
from civicgrid.command.report_pdf import render_pdf
from civicgrid.command.report_xlsx import render_xlsx
from civicgrid.config import get_settings
from civicgrid.core import jobs
from civicgrid.core.clock import utcnow
from civicgrid.core.db import AnySelect, Database
from civicgrid.core.errors import AppError, Conflict, InvalidInput
from civicgrid.core.files import FileStore, file_store_from_settings
from civicgrid.core.pagination import ListParams, apply_sort, paginate
from civicgrid.geo.models import Division
from civicgrid.safety.counts import LOCAL_TZ

log = logging.getLogger(__name__)

PERMISSION = report_data.PERMISSION
JOB_KIND = "command.report"
KEY_PREFIX = "reports"
FORMATS = {
    "pdf": ("application/pdf", "pdf_key"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx_key"),
}
PENDING = ("queued", "running")
REPORT_SORTS = {
    "created_at": CommandReport.created_at,
    "period_start": CommandReport.period_start,
    "area_code": CommandReport.area_code,
}


# -- the file store -----------------------------------------------------------------------------------------

_stores: dict[str, FileStore] = {}
_stores_lock = threading.Lock()


def database_url(database: Database) -> str:
    """The database's full URL as its engine has it (the same for every `Database` made on one database)."""
    return database.engine.url.render_as_string(hide_password=False)


def use_store(database: Database, store: FileStore) -> None:
    """The store the reports of `database` go to (the app's, registered by its routes)."""
    with _stores_lock:
        _stores[database_url(database)] = store


def store_for(database: Database) -> FileStore:
    """The registered store, else the one the environment's settings choose (the same in a normal deployment)."""
    with _stores_lock:
        store = _stores.get(database_url(database))
    return store if store is not None else file_store_from_settings(get_settings())


# -- asking for a report ------------------------------------------------------------------------------------


def _area_columns(division: Division) -> dict[str, Any]:
    return {
        "city_code": division.city_code or division.code,
        "district_code": division.district_code,
        "street_code": division.street_code,
        "community_code": division.community_code,
    }


def new_row(
    division: Division, title: str, period: ReportPeriod, origin: str, requested_by: int | None
) -> dict[str, Any]:
    return {
        "area_code": division.code,
        "level": division.level,
        **_area_columns(division),
        "period_type": period.type,
        "period_start": period.start,
        "data_until": period.until,
        "origin": origin,
        "status": "queued",
        "title": title,
        "requested_by": requested_by,
        "created_at": utcnow(),
    }


def request_report(
    session: Session,
    principal: Principal,
    runner: jobs.JobRunner,
    area_code: str,
    period_type: str,
    day: date,
    *,
    tz: ZoneInfo = LOCAL_TZ,
    now: datetime | None = None,
) -> tuple[CommandReport, bool]:
    """Queue the report of `area_code` for the week or month holding `day`; (the report, whether it is new).

    Everything is checked first: the period type (week or month), the day (not in the future), the area
    (inside your scope: 404 otherwise; a city, district, street or community). The same report asked for
    again by the same person while the first is still queued or running is answered with that one.
    """
    now = now or utcnow()
    today = now.astimezone(tz).date()
    report_data.check_period_type(period_type)
    period = report_data.report_period(period_type, day, today)
    division, area = report_data.report_area(session, principal, area_code)
    same = session.scalars(
        select(CommandReport)
        .where(
            CommandReport.area_code == division.code,
            CommandReport.period_type == period.type,
            CommandReport.period_start == period.start,
            CommandReport.data_until == period.until,
            CommandReport.status.in_(PENDING),
            CommandReport.origin == "request",
            CommandReport.requested_by == principal.user_id if principal.user_id else CommandReport.id.is_(None),
        )
        .order_by(CommandReport.id.desc())
    ).first()
    if same is not None:
        return same, False
    report = CommandReport(
        **new_row(division, report_data.report_title(area, period), period, "request", principal.user_id)
    )
    session.add(report)
    session.flush()
    job = jobs.enqueue(session, principal, runner, JOB_KIND, PERMISSION, {"report_id": report.id})
    report.job_id = job.id
    session.flush()
    return report, True


# -- rendering ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    xlsx: bytes
    pages: int
    summary: str
    seconds: float


def render(data: ReportData) -> Rendered:
    started = monotonic.perf_counter()
    pdf, pages = render_pdf(data)
    xlsx = render_xlsx(data)
    return Rendered(pdf, xlsx, pages, data.summary, monotonic.perf_counter() - started)


def _key(report: CommandReport, extension: str) -> str:
    return f"{KEY_PREFIX}/{report.period_start:%Y/%m}/{report.id}-{uuid.uuid4().hex[:12]}.{extension}"


def _fail(database: Database, report_id: int, message: str) -> None:
    with database.unit_of_work() as session:
        session.execute(
            update(CommandReport)
            .where(CommandReport.id == report_id)
            .values(status="failed", error=message[:500], finished_at=utcnow())
        )


def produce(
    database: Database,
    store: FileStore,
    report_id: int,
    principal: Principal,
    *,
    tz: ZoneInfo = LOCAL_TZ,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Gather, render and store one queued report; its figures for the job's result. On any error the row
    is marked failed (with a message a person can act on) and nothing stays in the store."""
    with database.unit_of_work() as session:
        report = session.get(CommandReport, report_id)
        if report is None:
            raise jobs.JobFailed(f"report {report_id} no longer exists")
        report.status, report.started_at, report.error = "running", utcnow(), None
        area_code, period_type, start, until = (
            report.area_code,
            report.period_type,
            report.period_start,
            report.data_until,
        )
    started = monotonic.perf_counter()
    stored: list[str] = []
    try:
        with database.unit_of_work(write=False) as session:
            data = report_data.gather(
                session, principal, area_code, period_type, start, now=now or utcnow(), tz=tz, today=until
            )
        rendered = render(data)
        with database.unit_of_work(write=False) as session:
            row = session.get(CommandReport, report_id)
            assert row is not None
            pdf_key, xlsx_key = _key(row, "pdf"), _key(row, "xlsx")
        store.put(pdf_key, rendered.pdf, FORMATS["pdf"][0])
        stored.append(pdf_key)
        store.put(xlsx_key, rendered.xlsx, FORMATS["xlsx"][0])
        stored.append(xlsx_key)
        seconds = monotonic.perf_counter() - started
        with database.unit_of_work() as session:
            session.execute(
                update(CommandReport)
                .where(CommandReport.id == report_id)
                .values(
                    status="succeeded",
                    title=data.title[:200],
                    summary=data.summary[:2000],
                    pdf_key=pdf_key,
                    pdf_size=len(rendered.pdf),
                    xlsx_key=xlsx_key,
                    xlsx_size=len(rendered.xlsx),
                    pages=rendered.pages,
                    render_seconds=round(seconds, 3),
                    finished_at=utcnow(),
                    error=None,
                )
            )
    except BaseException as exc:
        for key in stored:
            try:
                store.delete(key)
            except Exception:  # the failure itself matters more; an orphan file is only wasted space
                log.warning("could not delete a report file after a failure")
        message = (
            exc.message
            if isinstance(exc, AppError | jobs.JobFailed)
            else "the report could not be made (internal error); the server log has the details"
        )
        _fail(database, report_id, message)
        if isinstance(exc, AppError):
            raise jobs.JobFailed(message) from exc
        raise
    return {
        "report_id": report_id,
        "pdf_size": len(rendered.pdf),
        "xlsx_size": len(rendered.xlsx),
        "pages": rendered.pages,
        "seconds": round(seconds, 3),
        "message": f"report {report_id} ready: {rendered.pages} pages",
    }


@jobs.handler(JOB_KIND)
def _run(context: jobs.JobContext) -> dict[str, Any]:
    report_id = int(context.params["report_id"])
    context.progress(total=1, processed=0, message="gathering the figures and drawing the report", force=True)
    result = produce(context.database, store_for(context.database), report_id, context.principal)
    context.progress(processed=1, succeeded=1, force=True)
    return result


# -- reading ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilter:
    area_code: str | None = None  # the area itself or any area inside it
    period_type: str | None = None
    status: str | None = None
    origin: str | None = None


def _check_filter(filters: ReportFilter) -> None:
    problems = []
    for name, value, allowed in (
        ("period", filters.period_type, report_data.PERIOD_TYPES),
        ("status", filters.status, ("queued", "running", "succeeded", "failed")),
        ("origin", filters.origin, ("request", "schedule")),
    ):
        if value is not None and value not in allowed:
            problems.append({"field": name, "problem": f"must be one of {', '.join(allowed)}"})
    if problems:
        raise InvalidInput("; ".join(f"{p['field']} {p['problem']}" for p in problems), details=problems)


def query_reports(principal: Principal, filters: ReportFilter) -> AnySelect:
    """The reports of areas inside the principal's scope that match `filters` (unsorted)."""
    _check_filter(filters)
    query = restrict(select(CommandReport), principal, PERMISSION, CommandReport)
    if filters.area_code:
        code = filters.area_code
        query = query.where(
            or_(
                CommandReport.area_code == code,
                CommandReport.district_code == code,
                CommandReport.street_code == code,
                CommandReport.community_code == code,
            )
        )
    for column, value in (
        (CommandReport.period_type, filters.period_type),
        (CommandReport.status, filters.status),
        (CommandReport.origin, filters.origin),
    ):
        if value is not None:
            query = query.where(column == value)
    return query


def list_reports(
    session: Session, principal: Principal, filters: ReportFilter, params: ListParams
) -> tuple[list[CommandReport], int]:
    query = apply_sort(
        query_reports(principal, filters),
        params.sort,
        REPORT_SORTS,
        [CommandReport.created_at.desc(), CommandReport.id.desc()],
    )
    return paginate(session, query, params)


def get_report(session: Session, principal: Principal, report_id: int) -> CommandReport:
    """One report of an area inside the caller's scope (404 otherwise)."""
    return get_in_scope(session, CommandReport, report_id, principal, PERMISSION)


def job_states(session: Session, reports: Sequence[CommandReport]) -> dict[int, tuple[str, str | None]]:
    """The status and message of the jobs of pending reports: a job that died with its process (failed by the
    runner's resume) leaves its report pending, and the report is then shown as failed."""
    ids = [r.job_id for r in reports if r.status in PENDING and r.job_id is not None]
    if not ids:
        return {}
    rows = session.execute(select(jobs.Job.id, jobs.Job.status, jobs.Job.message).where(jobs.Job.id.in_(ids)))
    return {int(i): (str(s), m) for i, s, m in rows}


def effective_status(report: CommandReport, states: dict[int, tuple[str, str | None]]) -> tuple[str, str | None]:
    if report.status in PENDING and report.job_id in states:
        status, message = states[report.job_id]
        if status == "failed":
            return "failed", message or "the job that made the report stopped; ask for the report again"
    return report.status, report.error


@dataclass(frozen=True)
class ReportFile:
    key: str
    content_type: str
    filename: str
    size: int | None


def report_file(session: Session, principal: Principal, report_id: int, fmt: str) -> ReportFile:
    """Where a finished report's PDF or XLSX is, with its download name (the report's title)."""
    if fmt not in FORMATS:
        raise InvalidInput(
            f"unknown format {fmt!r}; reports are served as pdf or xlsx",
            details=[{"field": "format", "problem": "must be pdf or xlsx"}],
        )
    report = get_report(session, principal, report_id)
    content_type, column = FORMATS[fmt]
    key = getattr(report, column)
    if report.status != "succeeded" or not key:
        raise Conflict(
            f"report {report_id} is {report.status}; its files can be downloaded once it has succeeded",
            code="report_not_ready",
            details={"status": report.status},
        )
    return ReportFile(key, content_type, f"{report.title}.{fmt}", getattr(report, f"{fmt}_size"))


def content_disposition(filename: str, fallback: str) -> str:
    """`attachment` with an ASCII fallback name and the real (Chinese) one in RFC 5987 form (filename*)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
