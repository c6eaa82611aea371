"""Bodies of the command centre's routes: positions shared on duty, key figures, trends, rankings and reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from civicgrid.command.dashboard import AreaRank, Overview, Ranking, Trend, TrendDay, UnitRank
from civicgrid.command.models import CommandReport
from civicgrid.command.positions import MAX_ACCURACY_M, MAX_DUTY_MINUTES, OnDuty, OwnStatus
from civicgrid.safety.periods import Period

RankBy = Literal["units", "areas"]


class PositionIn(BaseModel):
    """The phone's current fix. `duty_minutes` starts sharing for that long (at most 12 hours); omit it to
    update the point while the duty period runs."""

    lon: float = Field(description="WGS84 longitude")
    lat: float = Field(description="WGS84 latitude")
    accuracy_m: float | None = Field(default=None, description=f"radius in metres, at most {MAX_ACCURACY_M:.0f}")
    duty_minutes: int | None = Field(
        default=None, description=f"start (or restart) a duty period of this length, 1 to {MAX_DUTY_MINUTES}"
    )


class OwnPositionOut(BaseModel):
    sharing: bool = Field(description="a duty period is running and the position is kept")
    visible: bool = Field(description="the command centre sees it now (last share at most 15 minutes old)")
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    grid_code: str | None
    grid_name: str | None
    started_at: datetime | None
    shared_at: datetime | None
    on_duty_until: datetime | None

    @classmethod
    def of(cls, s: OwnStatus) -> OwnPositionOut:
        return cls(**vars(s))


class WorkerPositionOut(BaseModel):
    user_id: int
    display_name: str
    lon: float
    lat: float
    accuracy_m: float | None
    grid_code: str = Field(description="the grid the point lies in")
    grid_name: str | None
    shared_at: datetime
    on_duty_until: datetime
    age_seconds: int = Field(description="seconds since the last share")

    @classmethod
    def of(cls, p: OnDuty) -> WorkerPositionOut:
        return cls(**vars(p))


class PositionsOut(BaseModel):
    """Every worker on duty sharing a position in the area (not paged: a map shows them all)."""

    as_of: datetime
    total: int
    items: list[WorkerPositionOut]


class AreaOut(BaseModel):
    code: str
    name: str
    level: str


class CaseFiguresOut(BaseModel):
    new_today: int = Field(description="reported since local midnight")
    closed_today: int = Field(description="closed since local midnight")
    open: int
    overdue: int = Field(description="open and past the current deadline")
    yellow_cards: int = Field(description="open cases carrying a yellow card")
    red_cards: int = Field(description="open cases carrying a red card")


class OverviewOut(BaseModel):
    area: AreaOut
    as_of: datetime
    cases: CaseFiguresOut | None = Field(description="None when your role may not read cases")
    calls_today: int = Field(description="police calls and incidents of today (local day)")
    calls_yesterday: int
    open_warnings: int | None = Field(description="warnings open or acknowledged; None without safety:read")
    workers_on_duty: int = Field(description="grid workers on duty sharing their position")

    @classmethod
    def of(cls, o: Overview) -> OverviewOut:
        c = o.cases
        return cls(
            area=AreaOut(**vars(o.area)),
            as_of=o.as_of,
            cases=None
            if c is None
            else CaseFiguresOut(
                new_today=c.new_today,
                closed_today=c.closed_today,
                open=c.open,
                overdue=c.overdue,
                yellow_cards=c.yellow_cards,
                red_cards=c.red_cards,
            ),
            calls_today=o.calls_today,
            calls_yesterday=o.calls_yesterday,
            open_warnings=o.open_warnings,
            workers_on_duty=o.workers_on_duty,
        )


class TrendDayOut(BaseModel):
    day: date
    cases_reported: int
    cases_closed: int = Field(description="of the cases reported that day, those closed by now")
    calls: dict[str, int] = Field(description="police calls per indicator (and `other`)")
    calls_total: int

    @classmethod
    def of(cls, d: TrendDay) -> TrendDayOut:
        return cls(**vars(d))


class TrendOut(BaseModel):
    area: AreaOut
    first: date
    last: date
    indicators: list[str] = Field(description="the keys of `calls`, in display order")
    days: list[TrendDayOut]

    @classmethod
    def of(cls, t: Trend) -> TrendOut:
        return cls(
            area=AreaOut(**vars(t.area)),
            first=t.first,
            last=t.last,
            indicators=t.indicators,
            days=[TrendDayOut.of(d) for d in t.days],
        )


class UnitRankOut(BaseModel):
    rank: int
    unit_id: int
    name: str | None
    reported: int
    closed: int
    on_time_rate: float | None = Field(description="closed by the handling deadline, over closed")
    open_overdue: int
    yellow_cards: int
    red_cards: int

    @classmethod
    def of(cls, u: UnitRank) -> UnitRankOut:
        return cls(**vars(u))


class AreaRankOut(BaseModel):
    code: str
    name: str
    level: str
    population: int = Field(description="resident population (the registry's, else the divisions' figures)")
    calls: int
    calls_per_10k: float | None = Field(description="police calls per 10,000 residents; None without population")
    reported: int = Field(description="cases reported")
    open_overdue: int = Field(description="of those, open and past their deadline")
    rank_calls: int = Field(description="1 = most calls per 10,000 residents")
    rank_overdue: int = Field(description="1 = most overdue cases")

    @classmethod
    def of(cls, a: AreaRank) -> AreaRankOut:
        return cls(**vars(a))


class RankingOut(BaseModel):
    by: RankBy
    area: AreaOut
    first: date
    last: date
    units: list[UnitRankOut] = Field(description="for by=units, best on-time closure rate first")
    areas: list[AreaRankOut] = Field(description="for by=areas, the child areas, most calls per 10,000 first")
    population_source: str | None = Field(description="registry or divisions (for by=areas)")

    @classmethod
    def of(cls, r: Ranking) -> RankingOut:
        return cls(
            by=r.by,  # checked by the service
            area=AreaOut(**vars(r.area)),
            first=r.first,
            last=r.last,
            units=[UnitRankOut.of(u) for u in r.units],
            areas=[AreaRankOut.of(a) for a in r.areas],
            population_source=r.population_source,
        )


# -- analysis reports (研判报告) ---------------------------------------------------------------------------------

ReportPeriodType = Literal["week", "month"]
ReportStatus = Literal["queued", "running", "succeeded", "failed"]
ReportOrigin = Literal["request", "schedule"]
ReportFormat = Literal["pdf", "xlsx"]
Day = date  # a field below is named `date`


class CommandReportIn(BaseModel):
    """Ask for the report of an area for the week (Monday to Sunday) or calendar month holding `date`."""

    area_code: str = Field(description="a city, district, street or community inside your scope", max_length=15)
    period: ReportPeriodType = Field(description="week or month (local calendar, Asia/Shanghai)")
    date: Day = Field(description="any day of the period, not after today; a running period is covered so far")


class CommandReportOut(BaseModel):
    id: int
    area_code: str
    area_name: str | None
    level: str
    period: ReportPeriodType
    period_start: date
    period_end: date = Field(description="the period's last day")
    data_until: date = Field(description="the last day covered (before period_end while the period runs)")
    complete: bool = Field(description="the whole period is covered")
    origin: ReportOrigin = Field(description="request: asked for by a person; schedule: made every week and month")
    status: ReportStatus
    title: str
    summary: str | None = Field(description="the report's automatic summary paragraph, once made")
    pdf_size: int | None
    xlsx_size: int | None
    pages: int | None = Field(description="pages of the PDF")
    render_seconds: float | None
    error: str | None = Field(description="why it failed")
    job_id: int | None
    requested_by: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, r: CommandReport, area_name: str | None, status: str, error: str | None) -> CommandReportOut:
        """`status` and `error` as `reports.effective_status` gives them (a dead job shows as failed)."""
        end = Period(r.period_type, r.period_start).end
        return cls(
            id=r.id,
            area_code=r.area_code,
            area_name=area_name,
            level=r.level,
            period=r.period_type,  # checked by the table
            period_start=r.period_start,
            period_end=end,
            data_until=r.data_until,
            complete=r.data_until >= end,
            origin=r.origin,
            status=status,
            title=r.title,
            summary=r.summary,
            pdf_size=r.pdf_size,
            xlsx_size=r.xlsx_size,
            pages=r.pages,
            render_seconds=r.render_seconds,
            error=error,
            job_id=r.job_id,
            requested_by=r.requested_by,
            created_at=r.created_at,
            started_at=r.started_at,
            finished_at=r.finished_at,
        )
