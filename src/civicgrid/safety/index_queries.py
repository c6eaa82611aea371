"""Reading the safety index: the scores of the areas of a level, one area's trend, and the explanation of
one score (recomputed with the same function that stored it). Everything is limited to the caller's
scope: an area outside it is answered as not found."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date
from typing import Any, Literal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import area_codes_of, in_scope, require
from civicgrid.authz.scope import Principal, level_rank
from civicgrid.core.clock import utcnow
from civicgrid.core.errors import InvalidInput, NotFound
from civicgrid.geo import service as geo_service
from civicgrid.geo.models import Division
from civicgrid.safety import index_store
from civicgrid.safety.areas import load_tree
from civicgrid.safety.counts import local_day
from civicgrid.safety.index import BAND_NAMES, NONE_USED, RED, Areas, MedianGroups, baseline_windows
from civicgrid.safety.index_config import BASELINES
from civicgrid.safety.index_service import Engine, current_config
from civicgrid.safety.models import SafetyIndexConfig, SafetyScore
from civicgrid.safety.periods import Period, period_of

Order = Literal["code", "worst", "best"]
LEVELS = ("city", "district", "street", "community", "grid")


def area_in_scope(session: Session, principal: Principal, code: str) -> Division:
    """The division `code`, or 404 when it does not exist or lies outside the caller's scope."""
    require(principal, "safety:read")
    division = session.get(Division, code)
    if division is None or not in_scope(principal, area_codes_of(division)):
        raise NotFound(
            f"area {code} not found in your scope; GET /api/v1/geo/divisions lists the areas",
            details={"area": code},
        )
    return division


def _period(session: Session, config: SafetyIndexConfig, period_type: str, day: date | None) -> Period:
    """The period containing `day`; without a day, the newest period with stored scores (else the current one)."""
    if day is not None:
        return period_of(period_type, day)
    today = local_day(utcnow())
    period_of(period_type, today)  # checks the type
    latest = index_store.latest_start(session, config.id, period_type, today)
    return period_of(period_type, latest or today)


def _config_out(config: SafetyIndexConfig) -> dict[str, Any]:
    return {"id": config.id, "name": config.name}


def _period_out(period: Period) -> dict[str, Any]:
    return {"type": period.type, "start": period.start, "end": period.end}


# -- the list of a level --------------------------------------------------------------------------------


def index_list(
    session: Session,
    principal: Principal,
    *,
    period_type: str,
    day: date | None,
    level: str | None,
    parent_code: str | None,
    order: Order = "code",
    limit: int | None = None,
) -> dict[str, Any]:
    """The stored scores of the areas of `level` under `parent_code` (default: your own area and the level
    below it), ordered by code, worst first or best first."""
    require(principal, "safety:read")
    parent = area_in_scope(session, principal, parent_code or principal.scope.division_code)
    level = level or (LEVELS[min(level_rank(parent.level) + 1, len(LEVELS) - 1)])
    if level not in LEVELS:
        raise InvalidInput(
            f"unknown level {level!r}; use one of {', '.join(LEVELS)}",
            details=[{"field": "level", "problem": f"must be one of {', '.join(LEVELS)}"}],
        )
    if level_rank(level) < level_rank(parent.level):
        raise InvalidInput(
            f"level {level} is above the area {parent.code} ({parent.level}); ask for its level or one below",
            details=[{"field": "level", "problem": f"must be {parent.level} or below"}],
        )
    config = current_config(session)
    period = _period(session, config, period_type, day)
    under = getattr(Division, f"{parent.level}_code")
    query = (
        select(
            SafetyScore.area_code,
            Division.name,
            SafetyScore.level,
            Division.parent_code,
            SafetyScore.score,
            SafetyScore.band,
            SafetyScore.red_streak,
            SafetyScore.events,
            SafetyScore.deaths,
            SafetyScore.population,
            SafetyScore.computed_at,
        )
        .join(Division, Division.code == SafetyScore.area_code)
        .where(
            SafetyScore.config_id == config.id,
            SafetyScore.period_type == period.type,
            SafetyScore.period_start == period.start,
            SafetyScore.level == level,
            under == parent.code,
        )
    )
    if order == "worst":
        query = query.order_by(SafetyScore.score.asc(), SafetyScore.events.desc(), SafetyScore.area_code)
    elif order == "best":
        query = query.order_by(SafetyScore.score.desc(), SafetyScore.events.asc(), SafetyScore.area_code)
    else:
        query = query.order_by(SafetyScore.area_code)
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    return {
        "period": _period_out(period),
        "config": _config_out(config),
        "level": level,
        "parent_code": parent.code,
        "computed_at": max((r.computed_at for r in rows), default=None),
        "areas": [
            {
                "code": r.area_code,
                "name": r.name,
                "level": r.level,
                "parent_code": r.parent_code,
                "score": r.score,
                "band": r.band,
                "red_streak": r.red_streak,
                "events": r.events,
                "deaths": r.deaths,
                "population": r.population,
            }
            for r in rows
        ],
    }


# -- one area's trend ------------------------------------------------------------------------------------


def trend(
    session: Session, principal: Principal, area_code: str, *, period_type: str, count: int, day: date | None
) -> dict[str, Any]:
    """The stored scores of the `count` periods ending with the one containing `day` (default: the newest)."""
    division = area_in_scope(session, principal, area_code)
    config = current_config(session)
    last = _period(session, config, period_type, day)
    first = last
    for _ in range(count - 1):
        first = first.previous()
    rows = session.execute(
        select(SafetyScore.period_start, SafetyScore.score, SafetyScore.band, SafetyScore.events, SafetyScore.deaths)
        .where(
            SafetyScore.config_id == config.id,
            SafetyScore.period_type == period_type,
            SafetyScore.period_start >= first.start,
            SafetyScore.period_start <= last.start,
            SafetyScore.area_code == division.code,
        )
        .order_by(SafetyScore.period_start)
    ).all()
    return {
        "area_code": division.code,
        "config": _config_out(config),
        "points": [
            {
                "start": r.period_start,
                "end": Period(period_type, r.period_start).end,
                "score": r.score,
                "band": r.band,
                "events": r.events,
                "deaths": r.deaths,
            }
            for r in rows
        ],
    }


# -- the explanation -------------------------------------------------------------------------------------


def _rate(count: float, population: float, per: float) -> float | None:
    return round(count / population * per, 4) if population > 0 else None


def explain(
    session: Session, principal: Principal, area_code: str, *, period_type: str, day: date | None
) -> dict[str, Any]:
    """Every part of one area's score for one period, recomputed with the function that stored it."""
    division = area_in_scope(session, principal, area_code)
    config = current_config(session)
    period = _period(session, config, period_type, day)
    areas = _areas_for(session, config.id, period)
    scope = _subtree(areas, division)
    engine = Engine.load(session, config, [period], areas=areas, divisions=scope)
    block = engine.block([period])
    a = areas.index[division.code]
    rules, definition = engine.rules, engine.definition
    per = rules.per_residents
    population = float(areas.population[a])
    windows = baseline_windows(period)
    components = []
    for i, indicator in enumerate(rules.indicators):
        observed = float(block.observed[0, a, i])
        baselines: dict[str, Any] = {}
        for b, name in enumerate(BASELINES):
            available = bool(block.available[b, 0, a, i])
            count = float(block.baselines[b, 0, a, i]) if available else None
            entry: dict[str, Any] = {
                "available": available,
                "count": round(count, 4) if count is not None else None,
                "rate": _rate(count, population, per) if count is not None else None,
            }
            if name == "three_year":
                years = int(block.years_used[0, i])
                entry["years"] = years
                entry["periods"] = [windows[n].start for n in (1, 2, 3) if block.covered[0, n, i]]
            elif name == "year_on_year":
                entry["periods"] = [windows[1].start]
            elif name == "previous":
                entry["periods"] = [windows[4].start]
            else:
                entry["basis"] = "rate" if population > 0 else "count"
            baselines[name] = entry
        used = int(block.used[0, a, i])
        expected = float(block.expected[0, a, i])
        weight = float(rules.weights[i])
        component = float(block.component[0, a, i])
        components.append(
            {
                "indicator": indicator,
                "weight": weight,
                "observed": round(observed),
                "rate": _rate(observed, population, per),
                "baselines": baselines,
                "baseline_used": BASELINES[used] if used != NONE_USED else None,
                "expected": round(expected, 4),
                "expected_rate": _rate(expected, population, per),
                "ratio": round(float(block.ratio[0, a, i]), 4),
                "score": round(component, 2),
                "contribution": round(weight * component, 2),
            }
        )
    stored = session.get(SafetyScore, (config.id, period.type, period.start, division.code))
    band = int(block.band[0, a])
    if stored is not None and stored.band == BAND_NAMES[band]:
        streak = stored.red_streak
    else:
        before = index_store.stored_streaks(session, config.id, period.previous(), areas)[a]
        streak = int(before) + 1 if band == RED else 0
    deaths = float(block.deaths[0, a])
    notes = _notes(definition.baseline, components, population, areas.population_source)
    return {
        "area": {
            "code": division.code,
            "name": division.name,
            "level": division.level,
            "parent_code": division.parent_code,
        },
        "period": _period_out(period),
        "config": _config_out(config),
        "score": float(block.score[0, a]),
        "band": BAND_NAMES[band],
        "red_streak": streak,
        "escalation": {"notice": definition.escalation.notice, "interview": definition.escalation.interview},
        "stored": stored is not None,
        "population": {
            "residents": round(population),
            "source": areas.population_source if population > 0 else "none",
            "per_residents": int(per),
        },
        "baseline": definition.baseline,
        "prior": rules.prior,
        "slope": rules.slope,
        "components": components,
        "weighted": round(float(np.dot(block.component[0, a], rules.weights)), 2),
        "deaths": round(deaths),
        "deduction": float(block.deduction[0, a]),
        "bands": {"green": rules.thresholds[0], "yellow": rules.thresholds[1], "orange": rules.thresholds[2]},
        "notes": notes,
    }


# The division tree with its populations counts every resident of the registry (millions of rows at a city's
# scale): kept per database and geo revision for a few minutes, as populations change slowly.
AREAS_TTL_SECONDS = 600.0
_areas: dict[str, tuple[str, float, Areas]] = {}
_areas_lock = threading.Lock()


def _cached_areas(session: Session) -> Areas:
    token = geo_service.current_revision(session)
    if not token:  # divisions written without a revision (tests, manual SQL): never trust a cached copy
        return Areas.of(load_tree(session))
    key = str(session.get_bind().engine.url)
    with _areas_lock:
        cached = _areas.get(key)
        if cached is not None and cached[0] == token and time.monotonic() - cached[1] < AREAS_TTL_SECONDS:
            return cached[2]
    areas = Areas.of(load_tree(session))
    with _areas_lock:
        _areas[key] = (token, time.monotonic(), areas)
    return areas


def _areas_for(session: Session, config_id: int, period: Period) -> Areas:
    """The areas with the populations the stored scores of `period` were computed with (so that the
    explanation is the stored score's), or the current ones when nothing is stored."""
    areas = _cached_areas(session)
    rows = session.execute(
        select(SafetyScore.area_code, SafetyScore.population).where(
            SafetyScore.config_id == config_id,
            SafetyScore.period_type == period.type,
            SafetyScore.period_start == period.start,
        )
    ).all()
    if not rows:
        return areas
    population = areas.population.copy()
    for code, residents in rows:
        i = areas.index.get(code)
        if i is not None:
            population[i] = residents
    if np.array_equal(population, areas.population):
        return areas
    return replace(areas, population=population, rate_groups=MedianGroups.build(areas.parent, population > 0))


def _subtree(areas: Areas, division: Division) -> list[str] | None:
    """Codes of every division under the area's parent (its peers' counts); None when that is the whole city."""
    parent = division.parent_code
    if parent is None or areas.parent[areas.index[parent]] < 0:
        return None
    p = areas.index[parent]
    inside = np.zeros(len(areas), dtype=bool)
    inside[p] = True
    # Children come after their parent in no particular order: walk up each division's parents.
    parents = areas.parent
    for i in range(len(areas)):
        j = i
        while j >= 0 and not inside[j]:
            j = parents[j]
        if j >= 0:
            inside[i] = True
    return [c for c, ok in zip(areas.codes, inside, strict=True) if ok]


def _notes(baseline: str, components: list[dict[str, Any]], population: float, source: str) -> list[str]:
    notes: list[str] = []
    if population <= 0:
        notes.append(
            "no residents are recorded for this area: expected counts come from its own past counts "
            "(and its peers' counts), not from per-resident rates"
        )
    elif source == "divisions":
        notes.append("residents are the population recorded on the divisions (the registry has none yet)")
    fell_back = sorted({c["indicator"] for c in components if c["baseline_used"] != baseline})
    if fell_back:
        notes.append(
            f"the configured baseline ({baseline}) has no data for {', '.join(fell_back)}; "
            "the next available baseline was used (peers first)"
        )
    if any(c["baseline_used"] is None for c in components):
        notes.append("no baseline at all for some indicators: expected = observed (a neutral component)")
    return notes
