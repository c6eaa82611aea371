"""Routes of the command centre: positions shared on duty, today's key figures, trends, rankings and analysis
reports (研判报告)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from civicgrid.auth.deps import PrincipalDep, SettingsDep
from civicgrid.cases.attachments import file_store
from civicgrid.command import dashboard, positions, reports
from civicgrid.command.models import CommandReport
from civicgrid.command.schemas import (
    CommandReportIn,
    CommandReportOut,
    OverviewOut,
    OwnPositionOut,
    PositionIn,
    PositionsOut,
    RankBy,
    RankingOut,
    ReportFormat,
    ReportOrigin,
    ReportPeriodType,
    ReportStatus,
    TrendOut,
    WorkerPositionOut,
)
from civicgrid.core import jobs
from civicgrid.core.clock import utcnow
from civicgrid.core.pagination import ListParams, Page, list_params
from civicgrid.core.web import SessionDep, get_database
from civicgrid.geo.service import divisions_by_codes

router = APIRouter(prefix="/command", tags=["command"])

AreaQuery = Annotated[str | None, Query(description="an area inside yours (default: your own)")]
DaysQuery = Annotated[int, Query(description=f"local days back from today, 1 to {dashboard.MAX_DAYS}")]


@router.put("/positions/me", operation_id="command_share_position", response_model=OwnPositionOut)
def share_position(body: PositionIn, session: SessionDep, principal: PrincipalDep) -> OwnPositionOut:
    """Share your current position while on duty (grid workers). The first share of a duty period gives
    `duty_minutes` (at most 12 hours); the field app then sends the point every few minutes. Only your
    latest point is kept, and it is deleted when you stop sharing or the duty period ends."""
    now = utcnow()
    positions.share(session, principal, body.lon, body.lat, body.accuracy_m, body.duty_minutes, now=now)
    return OwnPositionOut.of(positions.own_status(session, principal, now=now))


@router.delete("/positions/me", operation_id="command_stop_sharing", status_code=204)
def stop_sharing(session: SessionDep, principal: PrincipalDep) -> Response:
    """Stop sharing: your position is deleted at once (nothing is kept). Answers 204 also when not sharing."""
    positions.stop(session, principal)
    return Response(status_code=204)


@router.get("/positions/me", operation_id="command_own_position", response_model=OwnPositionOut)
def own_position(session: SessionDep, principal: PrincipalDep) -> OwnPositionOut:
    """Whether you are sharing your position, the last point sent and until when."""
    return OwnPositionOut.of(positions.own_status(session, principal))


@router.get("/positions", operation_id="command_positions", response_model=PositionsOut)
def list_positions(session: SessionDep, principal: PrincipalDep, area_code: AreaQuery = None) -> PositionsOut:
    """Grid workers on duty sharing their position inside your area (last share at most 15 minutes old):
    name, grid, point and its age — no phone, no ID number."""
    now = utcnow()
    items = [WorkerPositionOut.of(p) for p in positions.on_duty(session, principal, area_code=area_code, now=now)]
    return PositionsOut(as_of=now, total=len(items), items=items)


@router.get("/overview", operation_id="command_overview", response_model=OverviewOut)
def get_overview(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, area_code: AreaQuery = None
) -> OverviewOut:
    """Today's key figures of the area: new, closed, open and overdue cases, yellow and red cards, police calls
    today and yesterday, open warnings, workers on duty."""
    return OverviewOut.of(
        dashboard.overview(session, principal, area_code=area_code, tz=settings.tz, ttl=settings.figures_ttl)
    )


@router.get("/trend", operation_id="command_trend", response_model=TrendOut)
def get_trend(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    area_code: AreaQuery = None,
    days: DaysQuery = 30,
) -> TrendOut:
    """Per day of the last `days`: cases reported, how many of them are closed, police calls per indicator."""
    return TrendOut.of(
        dashboard.trend(session, principal, area_code=area_code, days=days, tz=settings.tz, ttl=settings.figures_ttl)
    )


@router.get("/ranking", operation_id="command_ranking", response_model=RankingOut)
def get_ranking(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    by: Annotated[RankBy, Query(description="units: handling units; areas: the area's child areas")] = "units",
    area_code: AreaQuery = None,
    days: DaysQuery = 30,
) -> RankingOut:
    """Handling units by on-time closure rate, overdue and red cards; or child areas by police calls per
    10,000 residents and by overdue cases — over the last `days`."""
    return RankingOut.of(
        dashboard.ranking(
            session, principal, by=by, area_code=area_code, days=days, tz=settings.tz, ttl=settings.figures_ttl
        )
    )


# -- analysis reports (研判报告) -------------------------------------------------------------------------------


def _reports_out(session: Session, rows: list[CommandReport]) -> list[CommandReportOut]:
    names = {code: d.name for code, d in divisions_by_codes(session, [r.area_code for r in rows]).items()}
    states = reports.job_states(session, rows)
    return [CommandReportOut.of(r, names.get(r.area_code), *reports.effective_status(r, states)) for r in rows]


@router.post("/reports", operation_id="command_report_request", response_model=CommandReportOut, status_code=202)
def request_report(
    body: CommandReportIn, request: Request, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> CommandReportOut:
    """Ask for the analysis report (研判报告, PDF and XLSX) of an area inside your scope for a week or month; it
    is made in the background: poll the report until `status` is succeeded, then download its files. A date
    in the future or a grid → 422; an area outside your scope → 404. Asking again while your same report is
    still being made answers that one."""
    database = get_database(request)
    reports.use_store(database, file_store(request.app.state, settings))
    runner = jobs.runner_for(request.app.state, database, settings.job_workers)
    report, _new = reports.request_report(
        session, principal, runner, body.area_code, body.period, body.date, tz=settings.tz
    )
    return _reports_out(session, [report])[0]


@router.get("/reports", operation_id="command_reports", response_model=Page[CommandReportOut])
def list_reports(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[ListParams, Depends(list_params)],
    area_code: Annotated[str | None, Query(description="the area or any area inside it")] = None,
    period: ReportPeriodType | None = None,
    status: ReportStatus | None = None,
    origin: ReportOrigin | None = None,
) -> Page[CommandReportOut]:
    """Reports of the areas inside your scope, newest first (sort: created_at, period_start, area_code)."""
    filters = reports.ReportFilter(area_code=area_code, period_type=period, status=status, origin=origin)
    rows, total = reports.list_reports(session, principal, filters, params)
    return Page[CommandReportOut].of(_reports_out(session, rows), total, params)


@router.get("/reports/{report_id}", operation_id="command_report", response_model=CommandReportOut)
def get_report(report_id: int, session: SessionDep, principal: PrincipalDep) -> CommandReportOut:
    """One report: its status, summary, file sizes and page count, or why it failed."""
    return _reports_out(session, [reports.get_report(session, principal, report_id)])[0]


@router.get(
    "/reports/{report_id}/file",
    operation_id="command_report_file",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the report as a PDF or an Excel workbook, named after its title",
            "content": {content_type: {} for content_type, _ in reports.FORMATS.values()},
        }
    },
)
def download_report(
    report_id: int,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    format: Annotated[ReportFormat, Query(description="pdf or xlsx")] = "pdf",
) -> StreamingResponse:
    """A finished report's PDF or XLSX (409 while it is being made or when it failed)."""
    found = reports.report_file(session, principal, report_id, format)
    chunks = file_store(request.app.state, settings).stream(found.key)  # NotFound here when the file is gone
    headers = {
        "Content-Disposition": reports.content_disposition(found.filename, f"report-{report_id}.{format}"),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if found.size is not None:
        headers["Content-Length"] = str(found.size)
    return StreamingResponse(chunks, media_type=found.content_type, headers=headers)
