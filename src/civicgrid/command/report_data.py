"""The figures of an analysis report (研判报告) of one area and one week or month, gathered into one dataclass.

One function per section. Each calls the service that owns the figures — the safety index
(`safety.index_queries`), the command centre's trend and rankings (`command.dashboard`), the daily counts
(`safety.counts.totals`), the case measures (`cases.measures`) and case list (`cases.service`), the hotspot
forecast (`safety.forecast_service`), the warnings (`safety.warnings`) — never another module's tables.

The figures are those of the report's area as the requester would see them: every call is made with the
requester's permissions over a scope narrowed to that area (which lies inside the requester's own). A section
the requester may not read, or that cannot be computed (no index configuration), is left out with a note.
No personal data: cases are named by their code, category and handling unit; no reporter, name or phone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import area_codes_of, require, require_area
from civicgrid.authz.scope import Level, Principal, Scope, level_rank
from civicgrid.cases import board, measures
from civicgrid.cases import service as case_service
from civicgrid.cases.models import Case
from civicgrid.cases.views import category_names
from civicgrid.command import dashboard
from civicgrid.command.report_model import (
    BAND_NAMES,
    INDICATOR_NAMES,
    LEVEL_NAMES,
    AreaCalls,
    CategoriesSection,
    CategoryRow,
    ChildScore,
    Component,
    DayRow,
    HotspotsSection,
    HotspotUnit,
    IndexPoint,
    IndexSection,
    OverdueCase,
    OverdueSection,
    ReportArea,
    ReportData,
    ReportPeriod,
    TrendSection,
    WarningRow,
    WarningsSection,
    number,
    percent,
)
from civicgrid.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from civicgrid.geo.models import Division
from civicgrid.geo.service import divisions_by_codes
from civicgrid.org.models import OrgUnit
from civicgrid.safety import counts, forecast_service, index_queries
from civicgrid.safety import warnings as safety_warnings
from civicgrid.safety.models import SafetyWarning
from civicgrid.safety.periods import period_of

PERMISSION = "command:read"
PERIOD_TYPES = ("week", "month")
REPORT_LEVELS = ("city", "district", "street", "community")
TREND_PERIODS = 12
TOP = 10
OVERDUE_SHOWN = 20
WARNINGS_KEPT = 500
HOTSPOT_METHOD = "kde"
PER = 10_000

SEVERITY_RANK = {name: i for i, name in enumerate(safety_warnings.SEVERITIES)}

T = TypeVar("T")


# -- the area and the period --------------------------------------------------------------------------------


def check_period_type(period_type: str) -> None:
    if period_type not in PERIOD_TYPES:
        raise InvalidInput(
            f"unknown report period {period_type!r}; reports are weekly (week) or monthly (month)",
            details=[{"field": "period", "problem": "must be week or month"}],
        )


def report_period(period_type: str, day: date, today: date) -> ReportPeriod:
    """The week (Monday to Sunday) or calendar month holding `day`; 422 for another type or a future day."""
    check_period_type(period_type)
    if day > today:
        raise InvalidInput(
            f"{day.isoformat()} is in the future; a report covers a week or month that has begun "
            f"(today is {today.isoformat()})",
            details=[{"field": "date", "problem": "must not be after today (Asia/Shanghai)"}],
        )
    period = period_of(period_type, day)
    return ReportPeriod(period.type, period.start, period.end, min(period.end, today))


def report_area(session: Session, principal: Principal, area_code: str) -> tuple[Division, ReportArea]:
    """The division of a report: it exists and lies inside the caller's scope (404 otherwise) and is a city,
    district, street or community (422 for a grid: its figures are too small for a report)."""
    require(principal, PERMISSION)
    division = session.get(Division, area_code)
    if division is None:
        raise NotFound(
            f"there is no area {area_code}; GET /api/v1/geo/divisions lists them", details={"area": area_code}
        )
    require_area(principal, PERMISSION, area_codes_of(division))
    if division.level not in REPORT_LEVELS:
        raise InvalidInput(
            f"{division.name} is a {division.level}; reports are made for a city, district, street or community",
            details=[{"field": "area_code", "problem": "must be a city, district, street or community"}],
        )
    chain = [getattr(division, f"{level}_code") for level in REPORT_LEVELS[: level_rank(division.level) + 1]]
    names = divisions_by_codes(session, [c for c in chain if c])
    full = "".join(names[c].name for c in chain if c and c in names)
    return division, ReportArea(division.code, division.name, full or division.name, division.level)


def narrowed(principal: Principal, area: ReportArea) -> Principal:
    """The requester's permissions over the report's area only: every figure is then the area's."""
    return dataclasses.replace(principal, scope=Scope(area.code, Level(area.level), principal.scope.department_id))


# -- the sections -------------------------------------------------------------------------------------------
def report_title(area: ReportArea, period: ReportPeriod) -> str:
    return f"{area.full_name} {period.label} 社会治安形势研判报告"


def _end_of(day: date, tz: ZoneInfo, now: datetime) -> datetime:
    """The last moment of a local day as UTC (never after `now`), for services that count back from now."""
    end = datetime.combine(day, time(23, 59, 59), tz).astimezone(UTC)
    return min(end, now)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)


def index_section(session: Session, principal: Principal, area: ReportArea, period: ReportPeriod) -> IndexSection:
    """The area's score and band with its components (the index's own explanation), the previous period's
    stored score, and the child areas' scores worst first."""
    explained = index_queries.explain(session, principal, area.code, period_type=period.type, day=period.start)
    trend = index_queries.trend(session, principal, area.code, period_type=period.type, count=2, day=period.start)
    previous_start = period.period.previous().start
    previous = next((p for p in trend["points"] if p["start"] == previous_start), None)
    children_level = None
    children: list[ChildScore] = []
    if area.level != "grid":
        listed = index_queries.index_list(
            session, principal, period_type=period.type, day=period.start, level=None, parent_code=area.code,
            order="worst",
        )  # fmt: skip
        children_level = str(listed["level"])
        children = [
            ChildScore(a["code"], a["name"], float(a["score"]), a["band"], int(a["events"]), int(a["population"]))
            for a in listed["areas"]
        ]
    components = [
        Component(
            indicator=c["indicator"],
            name=INDICATOR_NAMES.get(c["indicator"], c["indicator"]),
            weight=float(c["weight"]),
            observed=int(c["observed"]),
            rate=c["rate"],
            expected_rate=c["expected_rate"],
            ratio=float(c["ratio"]),
            score=float(c["score"]),
            contribution=float(c["contribution"]),
        )
        for c in explained["components"]
    ]
    return IndexSection(
        score=round(float(explained["score"]), 1),
        band=str(explained["band"]),
        previous_score=round(float(previous["score"]), 1) if previous else None,
        previous_band=str(previous["band"]) if previous else None,
        stored=bool(explained["stored"]),
        population=int(explained["population"]["residents"]),
        per_residents=int(explained["population"]["per_residents"]),
        deaths=int(explained["deaths"]),
        deduction=float(explained["deduction"]),
        config_name=str(explained["config"]["name"]),
        components=components,
        children=children,
        children_level=children_level,
    )


def _point_label(period_type: str, start: date) -> str:
    if period_type == "week":
        iso = start.isocalendar()
        return f"{iso.year % 100:02d}W{iso.week:02d}"
    return f"{start.year}-{start.month:02d}"


def trend_section(
    session: Session, principal: Principal, area: ReportArea, period: ReportPeriod, *, tz: ZoneInfo, now: datetime
) -> TrendSection:
    """The index over the last 12 periods (stored scores) and, per day of the period, police calls per
    indicator and cases reported and closed (the command centre's daily trend)."""
    points: list[IndexPoint] = []
    if principal.can("safety:read"):
        try:
            stored = index_queries.trend(
                session, principal, area.code, period_type=period.type, count=TREND_PERIODS, day=period.start
            )
            points = [
                IndexPoint(p["start"], _point_label(period.type, p["start"]), float(p["score"]), str(p["band"]))
                for p in stored["points"]
            ]
        except Conflict:  # no index configuration: the daily figures still stand
            points = []
    daily = dashboard.trend(
        session, principal, area_code=area.code, days=period.days, tz=tz, now=_end_of(period.until, tz, now)
    )
    days = [DayRow(d.day, dict(d.calls), d.calls_total, d.cases_reported, d.cases_closed) for d in daily.days]
    return TrendSection(points, list(daily.indicators), days, principal.can("case:read"))


def _calls_by_kind(session: Session, area: ReportArea, first: date, last: date) -> dict[str, int]:
    totals = counts.totals(session, (area.level, area.code), first, last, by_day=False)
    result: dict[str, int] = {}
    for (_group, _day, kind), n in totals.items():
        result[kind] = result.get(kind, 0) + n
    return result


def _case_categories(
    session: Session, principal: Principal, area: ReportArea, first: date, last: date, tz: ZoneInfo, now: datetime
) -> dict[str, tuple[str, int]]:
    query = measures.MeasureQuery(
        group_by="category",
        category_level="leaf",
        area_code=area.code,
        since=_midnight(first, tz),
        until=_midnight(last + timedelta(days=1), tz),
    )
    found = measures.measures(session, principal, query, tz=tz, now=now)
    return {g.key: (g.name or g.key, g.reported) for g in found.groups if g.key is not None and g.reported}


def _rows(
    current: dict[str, tuple[str, int]], previous: dict[str, tuple[str, int]], top: int | None
) -> list[CategoryRow]:
    codes = set(current) | set(previous)
    rows = [
        CategoryRow(
            code,
            (current.get(code) or previous[code])[0],
            current.get(code, ("", 0))[1],
            previous.get(code, ("", 0))[1],
        )
        for code in codes
    ]
    rows = [r for r in rows if r.count or r.previous]
    rows.sort(key=lambda r: (-r.count, -r.previous, r.code))
    return rows[:top] if top is not None else rows


def categories_section(
    session: Session, principal: Principal, area: ReportArea, period: ReportPeriod, *, tz: ZoneInfo, now: datetime
) -> CategoriesSection:
    """Police-call classes and case categories with their counts and the change against the previous period."""
    first, last = period.previous()
    kinds = safety_warnings.kind_names(session)
    _indicators, mapping = dashboard.call_indicators(session)
    now_calls = _calls_by_kind(session, area, period.start, period.until)
    before_calls = _calls_by_kind(session, area, first, last)
    calls = _rows(
        {k: (kinds.get(k, k), n) for k, n in now_calls.items()},
        {k: (kinds.get(k, k), n) for k, n in before_calls.items()},
        None,
    )
    crime = [k for k, indicator in mapping.items() if indicator == "crime_order"]
    cases: list[CategoryRow] | None = None
    cases_total = cases_previous = 0
    if principal.can("case:read"):
        current = _case_categories(session, principal, area, period.start, period.until, tz, now)
        before = _case_categories(session, principal, area, first, last, tz, now)
        cases = _rows(current, before, TOP)
        cases_total = sum(n for _, n in current.values())
        cases_previous = sum(n for _, n in before.values())
    return CategoriesSection(
        previous_first=first,
        previous_last=last,
        calls=calls,
        calls_total=sum(now_calls.values()),
        calls_previous=sum(before_calls.values()),
        crime_order=sum(now_calls.get(k, 0) for k in crime),
        crime_order_previous=sum(before_calls.get(k, 0) for k in crime),
        cases=cases,
        cases_total=cases_total,
        cases_previous=cases_previous,
    )


def hotspots_section(
    session: Session, principal: Principal, area: ReportArea, period: ReportPeriod, *, tz: ZoneInfo, now: datetime
) -> HotspotsSection:
    """The grids forecast hottest for the next period (kernel density over the year before it) and the child
    areas with the most police calls per 10,000 residents in this period."""
    target = period.period.next()
    units: list[HotspotUnit] = []
    training: int | None = None
    note = None
    if principal.can("safety:read"):
        query = forecast_service.HotspotQuery(
            method=HOTSPOT_METHOD, unit="grid", period=period.type, start=target.start, coverage=0.5
        )
        found = forecast_service.hotspots(session, principal, query)
        training = int(found["meta"].get("training", {}).get("events", 0))
        for feature in found["features"][:TOP]:
            p = feature["properties"]
            units.append(
                HotspotUnit(
                    rank=int(p["rank"]),
                    name=str(p.get("name") or p["id"]),
                    grid_code=p.get("grid_code"),
                    expected=float(p["expected"]),
                    density=float(p["score"]),
                    recent_events=int(p["events"]),
                )
            )
    else:
        note = "无权查看热点预测（需要 safety:read）"
    ranking = dashboard.ranking(
        session, principal, by="areas", area_code=area.code, days=period.days, tz=tz, now=_end_of(period.until, tz, now)
    )
    areas = [AreaCalls(r.code, r.name, r.population, r.calls, r.calls_per_10k) for r in ranking.areas[:TOP]]
    return HotspotsSection(HOTSPOT_METHOD, target.start, target.end, units, areas, training, note)


def _unit_names(session: Session, ids: set[int]) -> dict[int, str]:
    # Names of handling units are reference data shown beside the case list (as the case measures do).
    if not ids:
        return {}
    return {int(i): str(n) for i, n in session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids)))}


def overdue_section(session: Session, principal: Principal, now: datetime) -> OverdueSection:
    """Open cases of the area past their current deadline now: how many, and the longest overdue ones."""
    query = case_service.query_cases(principal, case_service.CaseFilter(overdue=True))
    count = int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    due = board.current_due()
    rows = session.execute(
        query.with_only_columns(Case.code, Case.category_code, Case.lead_unit_id, Case.level, due.label("due"))
        .order_by(due.asc(), Case.id)
        .limit(OVERDUE_SHOWN)
    ).all()
    categories = category_names(session)
    units = _unit_names(session, {int(r.lead_unit_id) for r in rows if r.lead_unit_id is not None})
    cases = []
    for r in rows:
        unit = units.get(r.lead_unit_id) if r.lead_unit_id is not None else None
        moment: datetime = r.due if r.due.tzinfo else r.due.replace(tzinfo=UTC)
        cases.append(
            OverdueCase(
                code=str(r.code),
                category=categories.get(r.category_code, str(r.category_code)),
                unit=unit or f"{LEVEL_NAMES.get(r.level, r.level)}级处置",
                due=moment,
                days_overdue=round(max(0.0, (now - moment).total_seconds() / 86400), 1),
            )
        )
    return OverdueSection(now, count, cases)


def _subject_name(subject: str, kinds: dict[str, str]) -> str:
    if subject in kinds:
        return kinds[subject]
    head = subject.split(":", 2)
    if len(head) >= 2 and ":".join(head[:2]) in kinds:
        return kinds[":".join(head[:2])]
    return INDICATOR_NAMES.get(subject, subject)


def warnings_section(session: Session, principal: Principal, period: ReportPeriod) -> WarningsSection:
    """The warnings of the area whose days overlap the period, and what was done: status, linked case, note."""
    base = safety_warnings.query_warnings(session, principal, safety_warnings.WarningFilter()).where(
        SafetyWarning.period_start <= period.until, SafetyWarning.period_end >= period.start
    )
    by_status: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    with_case = 0
    grouped = base.with_only_columns(
        SafetyWarning.status, SafetyWarning.kind, SafetyWarning.case_id.is_not(None), func.count()
    ).group_by(SafetyWarning.status, SafetyWarning.kind, SafetyWarning.case_id.is_not(None))
    for status, kind, linked, n in session.execute(grouped):
        by_status[status] = by_status.get(status, 0) + int(n)
        by_kind[kind] = by_kind.get(kind, 0) + int(n)
        with_case += int(n) if linked else 0
    found = list(session.scalars(base.order_by(SafetyWarning.period_start, SafetyWarning.id).limit(WARNINGS_KEPT)))
    found.sort(key=lambda w: (-SEVERITY_RANK.get(w.severity, 0), w.period_start, w.id))
    names = safety_warnings.area_names(session, list({w.area_code for w in found}))
    kinds = safety_warnings.kind_names(session)
    case_ids = {w.case_id for w in found if w.case_id is not None}
    codes: dict[int, str] = {}
    if case_ids and principal.can("case:read"):
        visible = case_service.visible_cases(principal).where(Case.id.in_(case_ids))
        codes = {int(i): str(c) for i, c in session.execute(visible.with_only_columns(Case.id, Case.code))}
    rows = [
        WarningRow(
            id=w.id,
            kind=w.kind,
            area=names.get(w.area_code, w.area_code),
            subject=_subject_name(w.subject, kinds),
            title=w.title,
            severity=w.severity,
            status=w.status,
            first_day=w.period_start,
            last_day=w.period_end,
            case_code=codes.get(w.case_id) if w.case_id is not None else None,
            close_note=(w.close_note or None) and str(w.close_note)[:200],
        )
        for w in found
    ]
    return WarningsSection(sum(by_status.values()), by_status, by_kind, with_case, rows)


# -- the summary --------------------------------------------------------------------------------------------


def _relative(now: int, before: int) -> float | None:
    return (now - before) / before if before else None


def summary_text(data: ReportData) -> str:
    """Plain facts from the figures, one sentence per section that has them; no judgement is added."""
    parts: list[str] = []
    lead = f"{data.area.full_name}{data.period.label}"
    if data.index is not None:
        ix = data.index
        text = f"平安指数 {ix.score:.1f}（{BAND_NAMES.get(ix.band, ix.band)}）"
        if ix.change is not None:
            if ix.change > 0:
                text += f"，较上期上升 {ix.change:.1f}"
            elif ix.change < 0:
                text += f"，较上期下降 {-ix.change:.1f}"
            else:
                text += "，与上期持平"
        worst = [c for c in ix.children if c.band in ("red", "orange")]
        if worst:
            text += f"；下辖{len(worst)}个区域为橙色或红色（最低：{worst[0].name} {worst[0].score:.1f}）"
        parts.append(text)
    if data.categories is not None:
        c = data.categories
        text = f"接报警情 {number(c.calls_total)} 起，环比 {percent(_relative(c.calls_total, c.calls_previous))}"
        crime = percent(_relative(c.crime_order, c.crime_order_previous))
        text += f"，其中刑事治安警情 {number(c.crime_order)} 起，环比 {crime}"
        if c.calls:
            top = c.calls[0]
            text += f"；最多的类别为{top.name}（{number(top.count)} 起）"
        parts.append(text)
        if c.cases is not None:
            text = f"新增事件 {number(c.cases_total)} 件，环比 {percent(_relative(c.cases_total, c.cases_previous))}"
            if data.trend is not None and data.trend.cases_shown:
                closed = sum(d.cases_closed for d in data.trend.days)
                text += f"，其中已办结 {number(closed)} 件"
            parts.append(text)
    if data.overdue is not None:
        parts.append(f"截至报告生成时超期未办结事件 {number(data.overdue.count)} 件")
    if data.warnings is not None:
        w = data.warnings
        text = f"本期预警 {number(w.total)} 条"
        if w.total:
            done, seen, waiting = (number(w.by_status.get(s, 0)) for s in ("closed", "acknowledged", "open"))
            text += f"，已关闭 {done} 条、已确认 {seen} 条、待处理 {waiting} 条，转为事件 {number(w.with_case)} 条"
        parts.append(text)
    if data.hotspots is not None and data.hotspots.units:
        names = "、".join(u.name for u in data.hotspots.units[:3])
        parts.append(f"下期预测热点网格：{names}")
    if not parts:
        return f"{lead}：暂无可用数据。"
    return f"{lead}：" + "；".join(parts) + "。"


# -- everything ---------------------------------------------------------------------------------------------


def _section(notes: list[str], name: str, build: Callable[[], T]) -> T | None:
    """A section, or None with a note when the requester may not read it or it cannot be computed."""
    try:
        return build()
    except Forbidden as exc:
        needed = exc.details.get("permission") if isinstance(exc.details, dict) else None
        notes.append(f"{name}：无权查看（{needed}）" if needed else f"{name}：无权查看")
    except (Conflict, NotFound, InvalidInput) as exc:
        notes.append(f"{name}：无法生成（{exc.message}）")
    return None


def gather(
    session: Session,
    principal: Principal,
    area_code: str,
    period_type: str,
    day: date,
    *,
    now: datetime,
    tz: ZoneInfo,
    today: date | None = None,
) -> ReportData:
    """Every section of the report of `area_code` for the week or month holding `day`.

    `today` (default: `now`'s local day) fixes how far a running period is covered, so a report asked for on
    one day and rendered a little later covers the same days.
    """
    today = today or now.astimezone(tz).date()
    period = report_period(period_type, day, today)
    _division, area = report_area(session, principal, area_code)
    scoped = narrowed(principal, area)
    data = ReportData(area, period, report_title(area, period), now, str(tz))
    notes = data.notes
    if scoped.can("safety:read"):
        data.index = _section(notes, "平安指数", lambda: index_section(session, scoped, area, period))
    else:
        notes.append("平安指数：无权查看（safety:read）")
    data.trend = _section(notes, "趋势", lambda: trend_section(session, scoped, area, period, tz=tz, now=now))
    data.categories = _section(
        notes, "警情与事件类别", lambda: categories_section(session, scoped, area, period, tz=tz, now=now)
    )
    data.hotspots = _section(notes, "热点", lambda: hotspots_section(session, scoped, area, period, tz=tz, now=now))
    if scoped.can("case:read"):
        data.overdue = _section(notes, "超期事件", lambda: overdue_section(session, scoped, now))
    else:
        notes.append("超期事件：无权查看（case:read）")
    if scoped.can("safety:read"):
        data.warnings = _section(notes, "预警处置", lambda: warnings_section(session, scoped, period))
    else:
        notes.append("预警处置：无权查看（safety:read）")
    data.summary = summary_text(data)
    return data
