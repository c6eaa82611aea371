"""The command centre's figures (一张图): today's key figures, daily trends and rankings of units and areas.

Nothing here reads another module's tables: case figures come from the case measures service
(`cases.measures`), police calls from the safety daily counts (`safety.counts.totals`), open warnings from
`safety.warning_counts`, populations from `safety.areas.load_tree`, workers on duty from
`command.positions`. Every answer is for one area inside the caller's scope (default: the caller's own)
and needs `command:read`; the case figures follow the caller's own case visibility.
"""

from __future__ import annotations

import threading
import time as monotonic
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from civicgrid.authz.scope import LEVEL_ORDER, Principal, level_rank
from civicgrid.cases import measures
from civicgrid.cases.service import visibility_key
from civicgrid.command import positions
from civicgrid.core.broadcast import events_delivered
from civicgrid.core.clock import utcnow
from civicgrid.core.errors import InvalidInput
from civicgrid.core.memo import Memo
from civicgrid.geo import service as geo_service
from civicgrid.geo.models import Division
from civicgrid.safety import counts, warning_counts
from civicgrid.safety.areas import AreaTree, load_tree
from civicgrid.safety.categories import kind_indicators
from civicgrid.safety.models import INDICATORS

PERMISSION = "command:read"
MAX_DAYS = 366
RANKINGS = ("units", "areas")
OTHER = "other"  # incident classes that feed no indicator (群众求助 …)
PER = 10_000
POPULATION_TTL_SECONDS = 600.0
T = TypeVar("T")

# The wall's screens ask for the same figures together and again on every live event: an answer is kept
# `ttl` seconds (the routes pass the setting; 0, the default, computes every time), or until the next live
# event reaches the process, for every caller who would see the same — same scope, permissions and case
# visibility.
_answers: Memo[object] = Memo()


def _remembered(principal: Principal, ttl: float, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    # A live event (a case reported, a worker going on duty) starts a new answer: the screens that refetch
    # on it must see the change, and they still share that one computation.
    shared_by = (principal.scope, principal.permissions, visibility_key(principal), events_delivered())
    return cast(T, _answers.get((*key, *shared_by), compute, ttl))


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str


def _area(division: Division) -> Area:
    return Area(division.code, division.name, division.level)


def _today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)


def _check_days(days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(
            f"days must be between 1 and {MAX_DAYS}", details=[{"field": "days", "problem": f"1 to {MAX_DAYS}"}]
        )


def _calls(session: Session, division: Division, first: date, last: date) -> dict[date | None, int]:
    by_day: dict[date | None, int] = defaultdict(int)
    for (_group, day, _kind), n in counts.totals(session, (division.level, division.code), first, last).items():
        by_day[day] += n
    return by_day


# -- today's key figures --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    area: Area
    as_of: datetime
    cases: measures.Summary | None  # None when the caller may not read cases
    calls_today: int
    calls_yesterday: int
    open_warnings: int | None  # None when the caller may not read warnings
    workers_on_duty: int


def overview(
    session: Session,
    principal: Principal,
    *,
    area_code: str | None = None,
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai"),
    now: datetime | None = None,
    ttl: float = 0.0,
) -> Overview:
    """Today's figures of the area in one answer: cases (new, closed, open, overdue, cards), police calls of
    today and yesterday (local days), warnings not yet closed, and workers on duty sharing their position."""
    if ttl > 0 and now is None:
        key = ("overview", area_code, tz.key)
        return _remembered(principal, ttl, key, lambda: overview(session, principal, area_code=area_code, tz=tz))
    now = now or utcnow()
    division = positions.area_in_scope(session, principal, area_code, PERMISSION)
    cases = (
        measures.summary(session, principal, area_code=division.code, tz=tz, now=now)
        if principal.can("case:read")
        else None
    )
    today = _today(now, tz)
    calls = _calls(session, division, today - timedelta(days=1), today)
    warnings = (
        warning_counts.open_count(session, principal, (division.level, division.code))
        if principal.can("safety:read")
        else None
    )
    return Overview(
        area=_area(division),
        as_of=now,
        cases=cases,
        calls_today=calls.get(today, 0),
        calls_yesterday=calls.get(today - timedelta(days=1), 0),
        open_warnings=warnings,
        workers_on_duty=positions.count_on_duty(session, principal, division, now=now),
    )


# -- daily trend --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendDay:
    day: date
    cases_reported: int
    cases_closed: int
    calls: dict[str, int]
    calls_total: int


@dataclass(frozen=True)
class Trend:
    area: Area
    first: date
    last: date
    indicators: list[str]
    days: list[TrendDay]


def call_indicators(session: Session) -> tuple[list[str], dict[str, str]]:
    """The indicators incident classes feed (in the platform's order, then `other`), and kind → indicator."""
    mapping = {kind: indicator for kind, indicator in kind_indicators(session).items() if kind.startswith("inc:")}
    used = [i for i in INDICATORS if i in mapping.values()]
    return [*used, OTHER], mapping


def trend(
    session: Session,
    principal: Principal,
    *,
    area_code: str | None = None,
    days: int = 30,
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai"),
    now: datetime | None = None,
    ttl: float = 0.0,
) -> Trend:
    """Per local day of the last `days` (today included): cases reported, how many of them are closed now,
    and police calls per indicator. Every day of the range is listed, with zeros where nothing happened."""
    _check_days(days)
    if ttl > 0 and now is None:
        key = ("trend", area_code, days, tz.key)
        return _remembered(
            principal, ttl, key, lambda: trend(session, principal, area_code=area_code, days=days, tz=tz)
        )
    now = now or utcnow()
    division = positions.area_in_scope(session, principal, area_code, PERMISSION)
    last = _today(now, tz)
    first = last - timedelta(days=days - 1)
    reported: dict[str, tuple[int, int]] = {}
    if principal.can("case:read"):
        query = measures.MeasureQuery(
            group_by="period", period="day", area_code=division.code, since=_midnight(first, tz)
        )
        for group in measures.measures(session, principal, query, tz=tz, now=now).groups:
            if group.key is not None:
                reported[group.key] = (group.reported, group.closed)
    indicators, mapping = call_indicators(session)
    calls: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(indicators, 0))
    for (_group, day, kind), n in counts.totals(session, (division.level, division.code), first, last).items():
        if day is not None:
            calls[day][mapping.get(kind, OTHER)] += n
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        new, closed = reported.get(day.isoformat(), (0, 0))
        by_indicator = calls[day] if day in calls else dict.fromkeys(indicators, 0)
        result.append(TrendDay(day, new, closed, by_indicator, sum(by_indicator.values())))
    return Trend(_area(division), first, last, indicators, result)


# -- rankings -----------------------------------------------------------------------------------------------


@dataclass
class UnitRank:
    rank: int
    unit_id: int
    name: str | None
    reported: int
    closed: int
    on_time_rate: float | None
    open_overdue: int
    yellow_cards: int
    red_cards: int


@dataclass
class AreaRank:
    code: str
    name: str
    level: str
    population: int
    calls: int
    calls_per_10k: float | None
    reported: int
    open_overdue: int
    rank_calls: int = 0
    rank_overdue: int = 0


@dataclass
class Ranking:
    by: str
    area: Area
    first: date
    last: date
    units: list[UnitRank] = field(default_factory=list)
    areas: list[AreaRank] = field(default_factory=list)
    population_source: str | None = None


def ranking(
    session: Session,
    principal: Principal,
    *,
    by: str = "units",
    area_code: str | None = None,
    days: int = 30,
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai"),
    now: datetime | None = None,
    ttl: float = 0.0,
) -> Ranking:
    """Units by on-time closure rate (then fewest overdue, fewest red cards), or the area's child areas by
    police calls per 10,000 residents and by overdue cases, over the cases reported and the calls of the last
    `days` local days."""
    problems = []
    if by not in RANKINGS:
        problems.append({"field": "by", "problem": f"one of {', '.join(RANKINGS)}"})
    if not 1 <= days <= MAX_DAYS:
        problems.append({"field": "days", "problem": f"1 to {MAX_DAYS}"})
    if problems:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in problems), details=problems)
    if ttl > 0 and now is None:
        key = ("ranking", by, area_code, days, tz.key)
        return _remembered(
            principal, ttl, key, lambda: ranking(session, principal, by=by, area_code=area_code, days=days, tz=tz)
        )
    now = now or utcnow()
    division = positions.area_in_scope(session, principal, area_code, PERMISSION)
    last = _today(now, tz)
    first = last - timedelta(days=days - 1)
    result = Ranking(by, _area(division), first, last)
    if by == "units":
        result.units = _rank_units(session, principal, division, first, tz, now)
    else:
        result.areas, result.population_source = _rank_areas(session, principal, division, first, last, tz, now)
    return result


def _measures(
    session: Session, principal: Principal, group_by: str, division: Division, first: date, tz: ZoneInfo, now: datetime
) -> list[measures.Figures]:
    if not principal.can("case:read"):
        return []
    query = measures.MeasureQuery(group_by=group_by, area_code=division.code, since=_midnight(first, tz))
    return measures.measures(session, principal, query, tz=tz, now=now).groups


def _rank_units(
    session: Session, principal: Principal, division: Division, first: date, tz: ZoneInfo, now: datetime
) -> list[UnitRank]:
    groups = [g for g in _measures(session, principal, "unit", division, first, tz, now) if g.key is not None]
    groups.sort(
        key=lambda g: (
            g.on_time_rate is None,
            -(g.on_time_rate or 0.0),
            g.open_overdue,
            g.red_cards,
            -g.reported,
            int(g.key or 0),
        )
    )
    return [
        UnitRank(
            rank=i + 1,
            unit_id=int(g.key or 0),
            name=g.name,
            reported=g.reported,
            closed=g.closed,
            on_time_rate=g.on_time_rate,
            open_overdue=g.open_overdue,
            yellow_cards=g.yellow_cards,
            red_cards=g.red_cards,
        )
        for i, g in enumerate(groups)
    ]


def _rank_areas(
    session: Session,
    principal: Principal,
    division: Division,
    first: date,
    last: date,
    tz: ZoneInfo,
    now: datetime,
) -> tuple[list[AreaRank], str]:
    tree = _population_tree(session)
    children = sorted(tree.children(division.code))
    if not children:
        return [], tree.population_source
    child_level = LEVEL_ORDER[min(level_rank(division.level) + 1, len(LEVEL_ORDER) - 1)].value
    calls: dict[str, int] = defaultdict(int)
    for (group, _day, _kind), n in counts.totals(
        session, (division.level, division.code), first, last, group_level=child_level, by_day=False
    ).items():
        if group is not None:
            calls[group] += n
    cases = {g.key: g for g in _measures(session, principal, "area", division, first, tz, now)}
    rows = []
    for code in children:
        i = tree.index[code]
        population = round(float(tree.population[i]))
        figures = cases.get(code)
        rows.append(
            AreaRank(
                code=code,
                name=tree.names[i],
                level=tree.levels[i],
                population=population,
                calls=calls.get(code, 0),
                calls_per_10k=calls.get(code, 0) * PER / population if population > 0 else None,
                reported=figures.reported if figures is not None else 0,
                open_overdue=figures.open_overdue if figures is not None else 0,
            )
        )
    for rank, row in enumerate(sorted(rows, key=lambda r: (r.open_overdue * -1, r.code)), start=1):
        row.rank_overdue = rank
    rows.sort(key=lambda r: (r.calls_per_10k is None, -(r.calls_per_10k or 0.0), -r.calls, r.code))
    for rank, row in enumerate(rows, start=1):
        row.rank_calls = rank
    return rows, tree.population_source


# The division tree with its populations counts every resident of the registry (millions of rows at a city's
# scale): kept per database and geo revision for a few minutes, as populations change slowly.
_trees: dict[str, tuple[str, float, AreaTree]] = {}
_trees_lock = threading.Lock()


def _population_tree(session: Session) -> AreaTree:
    token = geo_service.current_revision(session)
    if not token:  # divisions written without a revision (tests, manual SQL): never trust a cached copy
        return load_tree(session)
    key = str(session.get_bind().engine.url)
    with _trees_lock:
        cached = _trees.get(key)
        if cached is not None and cached[0] == token and monotonic.monotonic() - cached[1] < POPULATION_TTL_SECONDS:
            return cached[2]
    tree = load_tree(session)
    with _trees_lock:
        _trees[key] = (token, monotonic.monotonic(), tree)
    return tree


def clear_cache() -> None:
    with _trees_lock:
        _trees.clear()
