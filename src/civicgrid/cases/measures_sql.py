"""The SQL of the case measures: group keys (areas, units, categories, local periods), one row per case
with the values the aggregates need, the aggregates themselves, and the grouped percentile SQLite lacks.

Local periods: PostgreSQL converts with `timezone(zone, reported_at)`. SQLite has no time zones, so the
stored UTC time is shifted by the zone's offset with a `datetime()` modifier: a constant for a zone
without daylight saving in the range queried (Asia/Shanghai), else a CASE over the offset changes in it
(found once per zone and range with zoneinfo, to the second).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import ColumnClause, ColumnElement, and_, case, func, literal, literal_column, select

from civicgrid.cases.models import LEVELS, OPEN_STATUSES, Case, CaseCard
from civicgrid.core.db import AnySelect

WAITING = ("reported", "escalated")  # the acceptance clock runs; otherwise the handling clock
P90 = 0.9


def open_condition(dialect: str) -> ColumnElement[Any]:
    """The case is open (neither closed nor rejected). On SQLite the term is marked rare (`likelihood`): its
    statistics average over the statuses, so eight open statuses look like most of the table and the
    planner would read every case instead of the few open ones through the status index."""
    condition = Case.status.in_(OPEN_STATUSES)
    return func.likelihood(condition, literal_column("0.05")) if dialect == "sqlite" else condition


def overdue_condition(now: datetime, dialect: str = "postgresql") -> ColumnElement[bool]:
    """Open and past the current deadline (SQL for `views.is_overdue`).

    The deadline is chosen by a CASE, not an OR of two comparisons: SQLite would otherwise combine the
    deadline indexes (nearly every closed case is past its deadline) instead of reading the open cases."""
    deadline = case((Case.status.in_(WAITING), Case.accept_due), else_=Case.handle_due)
    return and_(open_condition(dialect), deadline < now)


def handling_hours(dialect: str) -> ColumnElement[Any]:
    """closed_at − reported_at in hours (NULL while not closed)."""
    if dialect == "sqlite":
        return (func.julianday(Case.closed_at) - func.julianday(Case.reported_at)) * 24.0
    return func.extract("epoch", Case.closed_at - Case.reported_at) / 3600.0


# -- local periods ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def offset_segments(zone: str, start_day: date, end_day: date) -> tuple[tuple[datetime | None, int], ...]:
    """The zone's UTC offset in minutes over the days given, as (valid before this UTC instant, minutes)
    segments; the last one's instant is None."""
    tz = ZoneInfo(zone)

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(tz).utcoffset()
        return int(delta.total_seconds() // 60) if delta is not None else 0

    segments: list[tuple[datetime | None, int]] = []
    moment = datetime.combine(start_day, time(), UTC)
    current = offset(moment)
    while moment.date() < end_day:
        following = moment + timedelta(days=1)
        if offset(following) != current:
            # The change lies in (lo, hi]: bisect on whole seconds (zones change on whole seconds).
            lo, hi = int(moment.timestamp()), int(following.timestamp())
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(datetime.fromtimestamp(mid, UTC)) == current else (lo, mid)
            segments.append((datetime.fromtimestamp(hi, UTC), current))
            current = offset(following)
        moment = following
    segments.append((None, current))
    return tuple(segments)


def _local_modifier(since: datetime | None, until: datetime | None, tz: ZoneInfo, now: datetime) -> Any:
    """SQLite: the datetime() modifier that turns a stored UTC time into local wall-clock time."""
    start = (since or datetime(2000, 1, 1, tzinfo=UTC)).date() - timedelta(days=1)
    end = (until or now + timedelta(days=366)).date() + timedelta(days=1)
    segments = offset_segments(tz.key, start, end)
    if len(segments) == 1:
        return literal(f"{segments[0][1]:+d} minutes")
    whens = [(Case.reported_at < before, f"{minutes:+d} minutes") for before, minutes in segments[:-1] if before]
    return case(*whens, else_=f"{segments[-1][1]:+d} minutes")


def period_key(
    period: str, dialect: str, tz: ZoneInfo, *, since: datetime | None, until: datetime | None, now: datetime
) -> ColumnElement[str]:
    """The local day ('YYYY-MM-DD'), week (its Monday, 'YYYY-MM-DD') or month ('YYYY-MM') of the report."""
    if dialect == "sqlite":
        modifier = _local_modifier(since, until, tz, now)
        if period == "day":
            return func.strftime("%Y-%m-%d", Case.reported_at, modifier)
        if period == "week":  # back to the Monday on or before the day
            return func.strftime("%Y-%m-%d", Case.reported_at, modifier, "-6 days", "weekday 1")
        return func.strftime("%Y-%m", Case.reported_at, modifier)
    local = func.timezone(tz.key, Case.reported_at)
    if period == "day":
        return func.to_char(local, "YYYY-MM-DD")
    if period == "week":
        return func.to_char(func.date_trunc("week", local), "YYYY-MM-DD")
    return func.to_char(local, "YYYY-MM")


def category_key(category_level: str) -> ColumnElement[str]:
    return func.substr(Case.category_code, 1, 2) if category_level == "class" else Case.category_code.expression


# -- the grouped query ---------------------------------------------------------------------------------------


def scan_key(key: ColumnElement[Any]) -> ColumnElement[Any]:
    """A plain column key wrapped as `coalesce(key, key)`, so the planners read the table once (PostgreSQL in
    parallel) and group by hashing or sorting, instead of walking the key's index and fetching every row
    through it — two to four times slower over a million cases."""
    return func.coalesce(key, key) if isinstance(key, ColumnClause) else key


def per_case(query: AnySelect, key: ColumnElement[Any], dialect: str, now: datetime) -> Any:
    """A subquery with one row per case of `query`: its group key (see `scan_key`) and the values the
    aggregates need."""
    closed = Case.status == "closed"
    return query.with_only_columns(
        key.label("key"),
        case((closed, 1), else_=0).label("closed"),
        case((and_(closed, Case.closed_at <= Case.handle_due), 1), else_=0).label("on_time"),
        case((closed, Case.closure_level)).label("closure_level"),
        case((closed, handling_hours(dialect))).label("hours"),
        case((overdue_condition(now), 1), else_=0).label("overdue"),
        Case.satisfaction.label("satisfaction"),
        maintain_column_froms=True,
    ).subquery("measured")


def cards(query: AnySelect, key: ColumnElement[Any]) -> AnySelect:
    """Yellow and red cards raised on the cases of `query`, per group (a small join: few cases carry cards)."""
    return (
        query.with_only_columns(
            key.label("key"),
            func.sum(case((CaseCard.colour == "yellow", 1), else_=0)).label("yellow"),
            func.sum(case((CaseCard.colour == "red", 1), else_=0)).label("red"),
            maintain_column_froms=True,
        )
        .join(CaseCard, CaseCard.case_id == Case.id)
        .group_by(key)
    )


def aggregates(inner: Any) -> list[ColumnElement[Any]]:
    """The figures of a group of `per_case` rows, but the percentile (`percentiles`, `grouped_percentile`)."""
    columns: list[ColumnElement[Any]] = [
        func.count().label("reported"),
        func.sum(inner.c.closed).label("closed"),
        func.sum(inner.c.on_time).label("on_time"),
        *(func.sum(case((inner.c.closure_level == level, 1), else_=0)).label(f"at_{level}") for level in LEVELS),
        func.avg(inner.c.hours).label("mean_hours"),
        func.sum(inner.c.overdue).label("open_overdue"),
        func.avg(inner.c.satisfaction).label("satisfaction_mean"),
        func.count(inner.c.satisfaction).label("satisfaction_count"),
    ]
    return columns


def percentiles(query: AnySelect, key: ColumnElement[Any], dialect: str) -> AnySelect:
    """PostgreSQL: the 90th percentile of the hours per group and over all (`grouping(key)` = 1), in a query
    of its own — an ordered-set aggregate would keep the other aggregates from running in parallel."""
    closed = durations(query, key, dialect).subquery("closed")
    return select(
        closed.c.key,
        func.grouping(closed.c.key).label("is_total"),
        func.percentile_cont(P90).within_group(closed.c.hours).label("p90_hours"),
    ).group_by(func.rollup(closed.c.key))


def durations(query: AnySelect, key: ColumnElement[Any], dialect: str) -> AnySelect:
    """(group key, hours from report to closure) of every closed case of `query`, for the percentile in Python.

    Most cases are closed, so the status is tested through an expression: SQLite would otherwise walk the
    status index and fetch nine rows in ten through it, slower than reading the table."""
    return query.with_only_columns(
        key.label("key"), handling_hours(dialect).label("hours"), maintain_column_froms=True
    ).where(func.coalesce(Case.status, "") == "closed")


def grouped_percentile(groups: Sequence[Hashable], values: Sequence[float], q: float = P90) -> dict[Hashable, float]:
    """The q-quantile of the values of each group, interpolated linearly between the order statistics
    around position q·(n−1) — what PostgreSQL's percentile_cont(q) and numpy.percentile's default give."""
    if len(values) == 0:
        return {}
    index: dict[Hashable, int] = {}
    codes = np.fromiter((index.setdefault(g, len(index)) for g in groups), dtype=np.int64, count=len(groups))
    data = np.asarray(values, dtype=float)
    order = np.lexsort((data, codes))
    codes, data = codes[order], data[order]
    numbers = np.arange(len(index))
    starts = np.searchsorted(codes, numbers, side="left")
    ends = np.searchsorted(codes, numbers, side="right")
    position = starts + q * (ends - starts - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, ends - 1)
    result = data[low] + (data[high] - data[low]) * (position - low)
    return {group: float(result[number]) for group, number in index.items()}
