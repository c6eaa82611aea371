"""Case measures (考核指标, DESIGN.md §7) per area, lead unit, category or period, and today's key figures.

For the cases the caller may see (`service.visible_cases`) reported in [since, until), per group:

- `reported` — cases reported; every other figure counts among them;
- `closed` — cases closed (rejected cases are neither closed nor open);
- `on_time` — closed with `closed_at ≤ handle_due` (a closed case without a handling deadline is not on
  time); the rate is over `closed`;
- closure-level shares — `closure_level` over `closed`: grid (网格自结率), community, street, district, city;
- handling time — `closed_at − reported_at` in hours (calendar hours, from report to closure): the mean and
  the 90th percentile with linear interpolation. PostgreSQL computes it with `percentile_cont(0.9)` in a
  grouped query of its own; SQLite has no percentile aggregate, so the closed cases' (group, hours) pairs
  are read instead and `grouped_percentile` interpolates the same way (numpy's default, "linear"), so both
  databases give the same figure;
- `open_overdue` — open now and past the current deadline (acceptance while reported or escalated, handling
  otherwise: `views.is_overdue`);
- cards — supervision cards raised on these cases (`case_card` rows), yellow and red;
- satisfaction — the mean rating (1–5) and how many ratings.

Groups: `area` — the child divisions of `area_code` (default: the caller's own division; a grid is its own
only group); `unit` — the lead department (None: not dispatched, handled on the ladder); `category` — class
(2 digits) or leaf; `period` — day, week (key: the Monday) or month ('YYYY-MM') of the report in the
platform's time zone. The figures are one grouped query over the cases, the percentile a second (on SQLite
the read of the durations), the cards a small join of their own; no case is loaded as an object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import area_codes_of, require, require_area
from civicgrid.authz.scope import LEVEL_ORDER, Level, Principal, level_rank
from civicgrid.cases.measures_sql import (
    aggregates,
    cards,
    category_key,
    durations,
    grouped_percentile,
    open_condition,
    overdue_condition,
    per_case,
    percentiles,
    period_key,
    scan_key,
)
from civicgrid.cases.models import LEVELS, Case, CaseCategory
from civicgrid.cases.service import visible_cases
from civicgrid.core.clock import utcnow
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import InvalidInput, NotFound
from civicgrid.geo.models import Division
from civicgrid.org.models import OrgUnit

GROUPINGS = ("area", "unit", "category", "period")
PERIODS = ("day", "week", "month")
CATEGORY_LEVELS = ("class", "leaf")


@dataclass(frozen=True)
class MeasureQuery:
    group_by: str = "area"
    area_code: str | None = None
    period: str = "month"
    category_level: str = "class"
    since: datetime | None = None
    until: datetime | None = None
    category_code: str | None = None


@dataclass
class Figures:
    key: str | None
    name: str | None = None
    reported: int = 0
    closed: int = 0
    on_time: int = 0
    closed_at: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    mean_hours: float | None = None
    p90_hours: float | None = None
    open_overdue: int = 0
    yellow_cards: int = 0
    red_cards: int = 0
    satisfaction_mean: float | None = None
    satisfaction_count: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None

    @property
    def closure_shares(self) -> dict[str, float | None]:
        return {level: (n / self.closed if self.closed else None) for level, n in self.closed_at.items()}


@dataclass
class Measures:
    group_by: str
    area_code: str
    area_name: str
    period: str | None
    category_level: str | None
    groups: list[Figures]
    total: Figures


@dataclass(frozen=True)
class Summary:
    area_code: str
    area_name: str
    as_of: datetime
    new_today: int
    closed_today: int
    open: int
    overdue: int
    yellow_cards: int
    red_cards: int
    satisfaction_mean_30d: float | None
    satisfaction_count_30d: int


# -- scope and filters -------------------------------------------------------------------------------------


def _area(session: Session, principal: Principal, area_code: str | None) -> Division:
    """The division the figures are for: the requested one inside the caller's scope, else the scope's own."""
    require(principal, "case:read")
    code = area_code or principal.scope.division_code
    division = session.get(Division, code)
    if division is None:
        raise NotFound(f"there is no area {code}; GET /api/v1/geo/divisions lists them", details={"area": code})
    if area_code is not None:
        require_area(principal, "case:read", area_codes_of(division))
    return division


def _in_area(query: AnySelect, division: Division) -> AnySelect:
    if division.level == Level.city.value:
        return query
    column: ColumnElement[Any] = getattr(Case, f"{division.level}_code")
    return query.where(column == division.code)


def _filtered(session: Session, principal: Principal, q: MeasureQuery) -> tuple[AnySelect, Division]:
    division = _area(session, principal, q.area_code)
    query = _in_area(visible_cases(principal), division)
    if q.since is not None:
        query = query.where(Case.reported_at >= q.since)
    if q.until is not None:
        query = query.where(Case.reported_at < q.until)
    if q.category_code:
        query = query.where(
            Case.category_code.like(f"{q.category_code}%")
            if len(q.category_code) == 2
            else Case.category_code == q.category_code
        )
    return query, division


def _child_level(division: Division) -> Level:
    return LEVEL_ORDER[min(level_rank(division.level) + 1, len(LEVEL_ORDER) - 1)]


def _group_key(q: MeasureQuery, division: Division, dialect: str, tz: ZoneInfo, now: datetime) -> ColumnElement[Any]:
    if q.group_by == "area":
        column: ColumnElement[Any] = getattr(Case, f"{_child_level(division).value}_code").expression
        return column
    if q.group_by == "unit":
        return Case.lead_unit_id.expression
    if q.group_by == "category":
        return category_key(q.category_level)
    return period_key(q.period, dialect, tz, since=q.since, until=q.until, now=now)


def _check(q: MeasureQuery) -> None:
    problems = []
    for name, value, allowed in (
        ("group_by", q.group_by, GROUPINGS),
        ("period", q.period, PERIODS),
        ("category_level", q.category_level, CATEGORY_LEVELS),
    ):
        if value not in allowed:
            problems.append({"field": name, "problem": f"one of {', '.join(allowed)}"})
    if q.since is not None and q.until is not None and q.until <= q.since:
        problems.append({"field": "until", "problem": "must be after since"})
    if problems:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in problems), details=problems)


# -- the grouped query ---------------------------------------------------------------------------------------


def _figures(row: Any, key: str | None) -> Figures:
    def number(value: Any) -> float | None:
        return None if value is None else float(value)

    return Figures(
        key=key,
        reported=int(row.reported or 0),
        closed=int(row.closed or 0),
        on_time=int(row.on_time or 0),
        closed_at={level: int(getattr(row, f"at_{level}") or 0) for level in LEVELS},
        mean_hours=number(row.mean_hours),
        p90_hours=number(getattr(row, "p90_hours", None)),
        open_overdue=int(row.open_overdue or 0),
        satisfaction_mean=number(row.satisfaction_mean),
        satisfaction_count=int(row.satisfaction_count or 0),
    )


def _key_text(value: Any) -> str | None:
    return None if value is None else str(value)


def measures(
    session: Session,
    principal: Principal,
    q: MeasureQuery,
    *,
    tz: ZoneInfo | str = "Asia/Shanghai",
    now: datetime | None = None,
    percentile_in_sql: bool | None = None,
) -> Measures:
    """The measures of the cases the principal may see, grouped as `q` says, with the total over all groups.

    `percentile_in_sql` forces where the 90th percentile is computed (default: in SQL on PostgreSQL, in
    Python on SQLite, which has no percentile aggregate); both give the same figure.
    """
    _check(q)
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    in_sql = dialect != "sqlite" if percentile_in_sql is None else percentile_in_sql
    if in_sql and dialect == "sqlite":
        raise InvalidInput("SQLite has no percentile aggregate; compute the percentile in Python")
    query, division = _filtered(session, principal, q)
    key = scan_key(_group_key(q, division, dialect, zone, now))
    inner = per_case(query, key, dialect, now)
    groups: dict[str | None, Figures] = {}
    # Core execution: rows as tuples, without the ORM's result machinery (a million durations at scale).
    connection = session.connection()
    for row in connection.execute(select(inner.c.key, *aggregates(inner)).group_by(inner.c.key)).all():
        groups[_key_text(row.key)] = _figures(row, _key_text(row.key))
    total = _sum(list(groups.values()))
    if in_sql:
        for row in connection.execute(percentiles(query, key, dialect)).all():
            value = None if row.p90_hours is None else float(row.p90_hours)
            found = total if row.is_total else groups.get(_key_text(row.key))
            if found is not None:
                found.p90_hours = value
    else:
        pairs = connection.execute(durations(query, key, dialect)).all()
        keys = [_key_text(k) for k, _ in pairs]
        hours = [h for _, h in pairs]
        for group, value in grouped_percentile(keys, hours).items():
            groups[group if group is None else str(group)].p90_hours = value
        total.p90_hours = grouped_percentile([None] * len(hours), hours).get(None)
    for row in session.connection().execute(cards(query, key)).all():
        carded = groups.get(_key_text(row.key))
        if carded is not None:
            carded.yellow_cards, carded.red_cards = int(row.yellow or 0), int(row.red or 0)
            total.yellow_cards += carded.yellow_cards
            total.red_cards += carded.red_cards
    ordered = _named(session, q, division, groups)
    return Measures(
        group_by=q.group_by,
        area_code=division.code,
        area_name=division.name,
        period=q.period if q.group_by == "period" else None,
        category_level=q.category_level if q.group_by == "category" else None,
        groups=ordered,
        total=total,
    )


def _sum(groups: list[Figures]) -> Figures:
    total = Figures(key=None)
    hours = rated = 0.0
    for g in groups:
        total.reported += g.reported
        total.closed += g.closed
        total.on_time += g.on_time
        for level, n in g.closed_at.items():
            total.closed_at[level] += n
        total.open_overdue += g.open_overdue
        total.yellow_cards += g.yellow_cards
        total.red_cards += g.red_cards
        total.satisfaction_count += g.satisfaction_count
        hours += (g.mean_hours or 0.0) * g.closed
        rated += (g.satisfaction_mean or 0.0) * g.satisfaction_count
    total.mean_hours = hours / total.closed if total.closed else None
    total.satisfaction_mean = rated / total.satisfaction_count if total.satisfaction_count else None
    return total


# -- names and order ------------------------------------------------------------------------------------------


def _named(session: Session, q: MeasureQuery, division: Division, groups: dict[str | None, Figures]) -> list[Figures]:
    """The groups in display order with their names; areas and categories without cases appear with zeros."""
    names: list[tuple[str | None, str | None]]
    if q.group_by == "area":
        names = [
            (code, name)
            for code, name in session.execute(
                select(Division.code, Division.name)
                .where(Division.parent_code == division.code)
                .order_by(Division.code)
            )
        ] or [(division.code, division.name)]
    elif q.group_by == "category":
        query = select(CaseCategory.code, CaseCategory.name_zh).where(
            CaseCategory.depth == (1 if q.category_level == "class" else 2), CaseCategory.active.is_(True)
        )
        if q.category_code:
            query = query.where(CaseCategory.code.like(f"{q.category_code[:2]}%"))
        names = [(c, n) for c, n in session.execute(query.order_by(CaseCategory.sort, CaseCategory.code))]
        if q.category_code and len(q.category_code) == 4:
            names = [(c, n) for c, n in names if c == q.category_code or c == q.category_code[:2]]
    elif q.group_by == "unit":
        ids = [int(k) for k in groups if k is not None]
        units = {i: n for i, n in session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids)))}
        ranked = sorted(groups.values(), key=lambda g: (-g.reported, g.key or ""))
        names = [(g.key, units.get(int(g.key)) if g.key is not None else None) for g in ranked]
    else:
        names = [(key, key) for key in _periods([k for k in groups if k is not None], q.period)]
    result = []
    for key, name in names:
        figures = groups.pop(key, None) or Figures(key=key)
        figures.name = name
        result.append(figures)
    result.extend(groups.values())  # keys without a name (a division or category since removed)
    return result


def _periods(keys: list[str], period: str) -> list[str]:
    """Every period key from the first to the last present, so a chart shows the empty ones as zeros."""
    if not keys:
        return []
    first, last = min(keys), max(keys)
    if period == "month":
        year, month = int(first[:4]), int(first[5:7])
        result = []
        while f"{year:04d}-{month:02d}" <= last:
            result.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return result
    step = timedelta(days=7 if period == "week" else 1)
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    result = []
    while day <= end:
        result.append(day.isoformat())
        day += step
    return result


# -- today's key figures ----------------------------------------------------------------------------------------


def local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    """The start of the local day containing `now`, as UTC."""
    return datetime.combine(now.astimezone(tz).date(), time(), tz).astimezone(UTC)


def summary(
    session: Session,
    principal: Principal,
    *,
    area_code: str | None = None,
    tz: ZoneInfo | str = "Asia/Shanghai",
    now: datetime | None = None,
) -> Summary:
    """Today's figures for the caller's area (or `area_code` inside it): new and closed today (local day),
    open, overdue, open cases carrying a yellow or red card, and the mean satisfaction of the last 30 days.
    One statement of scalar subqueries, each of which can use its own index."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    now = now or utcnow()
    division = _area(session, principal, area_code)
    base = _in_area(visible_cases(principal), division)
    midnight = local_midnight(now, zone)
    month_ago = now - timedelta(days=30)
    dialect = session.get_bind().dialect.name
    is_open = open_condition(dialect)
    closed = Case.status == "closed"
    rating = case((closed, Case.satisfaction))

    def scalar(column: Any, *conditions: ColumnElement[bool]) -> Any:
        return base.where(*conditions).with_only_columns(column, maintain_column_froms=True).scalar_subquery()

    row = session.execute(
        select(
            scalar(func.count(), Case.reported_at >= midnight).label("new_today"),
            # The status goes into the sum, not the filter, so SQLite keeps to the closed_at index.
            scalar(func.sum(case((closed, 1), else_=0)), Case.closed_at >= midnight).label("closed_today"),
            scalar(func.count(), is_open).label("open"),
            scalar(func.count(), overdue_condition(now, dialect)).label("overdue"),
            # Counted inside the open cases (the card index would lead through every carded closed case).
            scalar(func.sum(case((Case.card == "yellow", 1), else_=0)), is_open).label("yellow_cards"),
            scalar(func.sum(case((Case.card == "red", 1), else_=0)), is_open).label("red_cards"),
            scalar(func.avg(rating), Case.closed_at >= month_ago).label("satisfaction_mean"),
            scalar(func.count(rating), Case.closed_at >= month_ago).label("satisfaction_count"),
        )
    ).one()
    return Summary(
        area_code=division.code,
        area_name=division.name,
        as_of=now,
        new_today=int(row.new_today),
        closed_today=int(row.closed_today or 0),
        open=int(row.open),
        overdue=int(row.overdue),
        yellow_cards=int(row.yellow_cards or 0),
        red_cards=int(row.red_cards or 0),
        satisfaction_mean_30d=None if row.satisfaction_mean is None else float(row.satisfaction_mean),
        satisfaction_count_30d=int(row.satisfaction_count),
    )
