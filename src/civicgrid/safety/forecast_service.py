"""Hotspot forecasts from the stored incidents: which incidents count, reading them as points in time and
space, the forecast of a period (cached), and the flagged units of the caller's area as GeoJSON.

Only incidents with coordinates and a time to the day or the second take part: a record placed by an
address code has no point, and one dated only by its month cannot be put in a week. A record known to the
day is spread over its day (a fixed fraction of the day from its id), so that the self-exciting model does
not read many records of one day as simultaneous.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from civicgrid.authz.policy import in_scope, require
from civicgrid.authz.scope import Level, Principal
from civicgrid.core.clock import utcnow
from civicgrid.core.errors import InvalidInput
from civicgrid.geo import service as geo_service
from civicgrid.safety.categories import RECORDS_SOURCE
from civicgrid.safety.cells import MAX_CELL_M, MIN_CELL_M, UNIT_KINDS, Units, check_cell_size, load_units
from civicgrid.safety.counts import LOCAL_TZ, local_day
from civicgrid.safety.forecast import METHOD_NOTES, METHODS, Events, Forecast, Options, SelfExcitingFit, forecast
from civicgrid.safety.models import INDICATORS, SafetyCategory, SafetyIncident
from civicgrid.safety.periods import Period, period_of

EPOCH = date(1970, 1, 1)
# Asia/Shanghai keeps one offset all year; the local calendar in days is UTC seconds shifted by it.
_OFFSET_DAYS = (LOCAL_TZ.utcoffset(datetime(2020, 1, 1)) or timedelta()).total_seconds() / 86400
_GOLDEN = 0.6180339887498949
DEFAULT_INDICATOR = "crime_order"
DEFAULT_TRAIN_DAYS = 365
MAX_COVERAGE = 0.5
BACKTEST_JOB = "safety.backtest"
_CACHE_SIZE = 32


def day_number(day: date) -> float:
    """Days since 1970-01-01 on the local calendar (the time axis of forecasts)."""
    return float((day - EPOCH).days)


def check_method(method: str) -> None:
    if method not in METHODS:
        raise InvalidInput(
            f"unknown forecast method {method!r}; the methods are {', '.join(METHODS)}",
            details=[{"field": "method", "problem": f"must be one of {', '.join(METHODS)}", "methods": list(METHODS)}],
        )


def check_unit(unit: str, cell_size: float) -> None:
    if unit not in UNIT_KINDS:
        raise InvalidInput(
            f"unknown unit {unit!r}; use cell or grid", details=[{"field": "unit", "problem": "must be cell or grid"}]
        )
    if unit == "cell":
        check_cell_size(cell_size)


@dataclass(frozen=True)
class Selection:
    """The incident categories a forecast counts (leaf codes) and how they were asked for."""

    label: str
    codes: tuple[str, ...]


def select_categories(session: Session, indicator: str | None, categories: list[str] | None) -> Selection:
    """Leaf categories from class or leaf codes, else those of an indicator (default: crime_order)."""
    rows = session.execute(select(SafetyCategory.code, SafetyCategory.depth, SafetyCategory.indicator)).all()
    leaves = {code: ind for code, depth, ind in rows if depth == 2}
    classes = {code for code, depth, _ in rows if depth == 1}
    if categories:
        unknown = [c for c in categories if c not in leaves and c not in classes]
        if unknown:
            raise InvalidInput(
                f"unknown incident categories: {', '.join(unknown)} (give classes like 01 or leaves like 0101)",
                details=[{"field": "categories", "problem": f"unknown category {c}"} for c in unknown],
            )
        codes = sorted({leaf for c in categories for leaf in leaves if leaf == c or leaf[:2] == c})
        return Selection("categories:" + ",".join(sorted(set(categories))), tuple(codes))
    indicator = indicator or DEFAULT_INDICATOR
    if indicator not in INDICATORS:
        raise InvalidInput(
            f"unknown indicator {indicator!r}; use one of {', '.join(INDICATORS)}",
            details=[{"field": "indicator", "problem": f"must be one of {', '.join(INDICATORS)}"}],
        )
    codes = sorted(code for code, ind in leaves.items() if ind == indicator)
    if not codes:
        raise InvalidInput(
            f"no incident category counts towards {indicator!r} (it is made of the platform's cases); "
            "forecast an incident indicator or name categories",
            details=[{"field": "indicator", "problem": "no incident categories"}],
        )
    return Selection(indicator, tuple(codes))


def _usable(codes: tuple[str, ...]) -> list[Any]:
    # Calls only: recorded incidents mostly repeat a call at the same place, and would count it twice.
    return [
        SafetyIncident.source != RECORDS_SOURCE,
        SafetyIncident.category_code.in_(codes),
        SafetyIncident.lon.is_not(None),
        SafetyIncident.lat.is_not(None),
        SafetyIncident.time_precision != "month",
    ]


def data_span(session: Session, selection: Selection) -> tuple[date, date, int] | None:
    """First and last day, and the number, of the usable incidents of the selection."""
    first, last, count = session.execute(
        select(func.min(SafetyIncident.day), func.max(SafetyIncident.day), func.count()).where(
            *_usable(selection.codes)
        )
    ).one()
    return (first, last, int(count)) if first is not None else None


def load_events(session: Session, units: Units, selection: Selection, first: date, last: date) -> Events:
    """The usable incidents of the selection from `first` to `last` (local days, inclusive) as events.

    Read as the driver's plain tuples (no ORM rows, no per-row datetime objects on SQLite) and converted
    with pandas in one pass: a year of calls at scale 1 (~180,000) in about two seconds, most of it SQLite's.
    """
    with _collector_paused():
        return _load_events(session, units, selection, first, last)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hundreds of thousands of fresh tuples set off the cyclic garbage collector again and again (40 % of
    the loading time at scale 1); none of them form cycles, so it waits until they are arrays."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_events(session: Session, units: Units, selection: Selection, first: date, last: date) -> Events:
    result = session.connection().execute(
        select(
            SafetyIncident.id,
            SafetyIncident.lon,
            SafetyIncident.lat,
            type_coerce(SafetyIncident.occurred_at, String),
            SafetyIncident.time_precision,
            type_coerce(SafetyIncident.day, String),
        ).where(*_usable(selection.codes), SafetyIncident.day >= first, SafetyIncident.day <= last)
    )
    try:  # the driver's tuples as they come: no Row objects (a third of the time at scale 1)
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    if not rows:
        empty = np.zeros(0)
        return Events(empty, empty, empty, np.zeros(0, dtype=np.int64))
    ids, lon, lat, occurred, precision, day = zip(*rows, strict=True)
    lon_a = np.array(lon, dtype=np.float64)
    lat_a = np.array(lat, dtype=np.float64)
    # UTC instants (naive strings on SQLite, aware datetimes on PostgreSQL) → local days since 1970.
    instants = pd.to_datetime(pd.Series(occurred), utc=True, format="ISO8601").dt.tz_localize(None).to_numpy()
    at_second = instants.astype("datetime64[us]").astype(np.int64) / 86_400e6 + _OFFSET_DAYS
    days = pd.to_datetime(pd.Series(day).astype(str), format="%Y-%m-%d").to_numpy().astype("datetime64[D]")
    days = days.astype(np.int64).astype(np.float64)
    spread = (np.array(ids, dtype=np.float64) * _GOLDEN) % 1.0 * 0.999
    t = np.where(np.array(precision, dtype=object) == "second", at_second, days + spread)
    x, y = units.projection.forward(lon_a, lat_a)
    return Events.of(x, y, t, units.locate(session, lon_a, lat_a))


# --- caches ---------------------------------------------------------------------------------------------------

_lock = threading.Lock()
_units: OrderedDict[tuple[Any, ...], Units] = OrderedDict()
_forecasts: OrderedDict[tuple[Any, ...], tuple[Forecast, dict[str, Any], np.ndarray]] = OrderedDict()


# The last self-exciting fit per database, map and units: the next period's fit starts from it.
_fits: OrderedDict[tuple[Any, ...], SelfExcitingFit] = OrderedDict()


def clear_cache() -> None:
    with _lock:
        _units.clear()
        _forecasts.clear()
        _fits.clear()


def _remember(cache: OrderedDict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> None:
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)


def _recall(cache: OrderedDict[tuple[Any, ...], Any], key: tuple[Any, ...]) -> Any:
    with _lock:
        value = cache.get(key)
        if value is not None:
            cache.move_to_end(key)
        return value


def units_for(session: Session, unit: str, cell_size: float) -> Units:
    """The units, cached per database and map revision (never cached for a map written without one)."""
    token = geo_service.current_revision(session)
    key = (str(session.get_bind().engine.url), token, unit, float(cell_size) if unit == "cell" else None)
    cached: Units | None = _recall(_units, key) if token else None
    if cached is not None:
        return cached
    units = load_units(session, unit, cell_size)
    if token:
        _remember(_units, key, units)
    return units


@dataclass(frozen=True)
class HotspotQuery:
    method: str = "kde"
    unit: str = "cell"
    cell_size: float = 500.0
    period: str = "week"
    start: date | None = None
    coverage: float = 0.05
    indicator: str | None = None
    categories: tuple[str, ...] = ()
    train_days: int = DEFAULT_TRAIN_DAYS
    bandwidth_m: float = 300.0


def validate(query: HotspotQuery) -> None:
    """Every problem of the query at once (422), before anything is read."""
    problems: list[dict[str, Any]] = []
    if query.method not in METHODS:
        problems.append(
            {"field": "method", "problem": f"must be one of {', '.join(METHODS)}", "methods": list(METHODS)}
        )
    if query.unit not in UNIT_KINDS:
        problems.append({"field": "unit", "problem": "must be cell or grid"})
    if query.unit == "cell" and not MIN_CELL_M <= query.cell_size <= MAX_CELL_M:
        problems.append({"field": "cell_size", "problem": f"must be between {MIN_CELL_M} and {MAX_CELL_M} metres"})
    if not 0 < query.coverage <= MAX_COVERAGE:
        problems.append(
            {"field": "coverage", "problem": f"must be a share of the area above 0 and at most {MAX_COVERAGE}"}
        )
    if not 7 <= query.train_days <= 3 * 366:
        problems.append({"field": "train_days", "problem": "must be between 7 and 1098 days"})
    if not 50 <= query.bandwidth_m <= 5_000:
        problems.append({"field": "bandwidth_m", "problem": "must be between 50 and 5000 metres"})
    if problems:
        if problems[0]["field"] == "method":
            message = f"unknown forecast method {query.method!r}; the methods are {', '.join(METHODS)}"
        elif problems[0]["field"] == "cell_size":
            message = (
                f"the cell size must be between {MIN_CELL_M} m and {MAX_CELL_M // 1000} km, got {query.cell_size:g} m "
                "(and not smaller than the location blurring of the data)"
            )
        else:
            message = "the hotspot query is not valid: " + "; ".join(f"{p['field']} {p['problem']}" for p in problems)
        raise InvalidInput(message, details=problems)
    period_of(query.period, date(2000, 1, 1))  # 422 for an unknown period type


def _fingerprint(session: Session, selection: Selection, first: date, last: date) -> tuple[Any, ...]:
    """Changes when an incident of the window is added, removed or re-imported."""
    count, top, latest = session.execute(
        select(func.count(), func.max(SafetyIncident.id), func.max(SafetyIncident.imported_at)).where(
            *_usable(selection.codes), SafetyIncident.day >= first, SafetyIncident.day <= last
        )
    ).one()
    return (int(count), top, latest.isoformat() if latest else None)


def period_forecast(
    session: Session, query: HotspotQuery, selection: Selection, units: Units, target: Period
) -> tuple[Forecast, dict[str, Any], np.ndarray]:
    """The forecast of `target` from the `train_days` before it, its facts, and each unit's incidents in the
    training window (cached while the map and the window's incidents stay the same)."""
    first = target.start - timedelta(days=query.train_days)
    last = target.start - timedelta(days=1)
    token = geo_service.current_revision(session)
    key = (
        str(session.get_bind().engine.url),
        token,
        query.method,
        units.kind,
        units.cell_size,
        target.key(),
        selection.codes,
        query.train_days,
        query.bandwidth_m,
        _fingerprint(session, selection, first, last),
    )
    cached: tuple[Forecast, dict[str, Any], np.ndarray] | None = _recall(_forecasts, key) if token else None
    if cached is not None:
        return cached[0], {**cached[1], "cached": True}, cached[2]
    started = time.perf_counter()
    events = load_events(session, units, selection, first, last)
    cutoff = day_number(target.start)
    span = events.span()
    lookback = float(query.train_days)
    if span is not None:  # a window reaching back before the data: rates over the days that have data
        lookback = min(lookback, cutoff - np.floor(span[0]))
    fit_key = (key[0], token, units.kind, units.cell_size, selection.codes)
    warm = _recall(_fits, fit_key) if token and query.method == "self_exciting" else None
    options = replace(Options(), lookback_days=lookback, bandwidth_m=query.bandwidth_m, warm_start=warm)
    result = forecast(query.method, events, units.space, cutoff, float(target.days), options)
    if token and result.fit is not None:
        _remember(_fits, fit_key, result.fit)
    meta = {
        "training": {"first_day": first.isoformat(), "last_day": last.isoformat(), "events": result.training_events},
        "params": result.params,
        "seconds": round(time.perf_counter() - started, 3),
        "computed_at": utcnow().isoformat(),
        "cached": False,
    }
    inside = (events.unit >= 0) & (events.unit < len(units))
    recent = np.bincount(events.unit[inside], minlength=len(units))
    if token:
        _remember(_forecasts, key, (result, meta, recent))
    return result, meta, recent


def hotspots(session: Session, principal: Principal, query: HotspotQuery) -> dict[str, Any]:
    """The flagged units of the caller's area for the period as a GeoJSON FeatureCollection.

    Units are ranked by expected events per km² among the units of the caller's area, and flagged from the
    top until `coverage` of that area is reached; units expected to see nothing are never flagged.
    """
    require(principal, "safety:read")
    validate(query)
    selection = select_categories(session, query.indicator, list(query.categories) or None)
    today = local_day(utcnow())
    target = period_of(query.period, query.start or today)
    units = units_for(session, query.unit, query.cell_size)
    result, meta, recent = period_forecast(session, query, selection, units, target)
    visible = np.array([in_scope(principal, codes) for codes in units.area_codes], dtype=bool)
    candidates = np.flatnonzero(visible)
    ranked = candidates[np.lexsort((candidates, -result.density[candidates]))]
    area = units.area_km2[ranked]
    budget = query.coverage * float(area.sum())
    within = np.cumsum(area) <= budget * (1 + 1e-9)
    count = max(1, int(within.sum())) if ranked.size else 0
    flagged = ranked[:count]
    flagged = flagged[result.expected[flagged] > 0]
    geometries = units.geometries(session, flagged) if flagged.size else []
    features = []
    for rank, (i, geometry) in enumerate(zip(flagged.tolist(), geometries, strict=True), start=1):
        codes = units.area_codes[i]
        properties: dict[str, Any] = {
            "id": units.ids[i],
            "rank": rank,
            "score": round(float(result.density[i]), 6),
            "expected": round(float(result.expected[i]), 4),
            "events": int(recent[i]),
            "area_km2": round(float(units.area_km2[i]), 6),
            "grid_code": codes.get(Level.grid),
        }
        if units.kind == "grid":
            properties["name"] = units.names[i]
        features.append({"type": "Feature", "id": units.ids[i], "properties": properties, "geometry": geometry})
    flagged_area = float(units.area_km2[flagged].sum()) if flagged.size else 0.0
    return {
        "type": "FeatureCollection",
        "features": features,
        "meta": {
            "method": query.method,
            "unit": units.kind,
            "cell_size": units.cell_size,
            "selection": selection.label,
            "period": {"type": target.type, "start": target.start.isoformat(), "end": target.end.isoformat()},
            "coverage": query.coverage,
            "area_share": round(flagged_area / float(area.sum()), 6) if ranked.size else 0.0,
            "units_in_area": int(candidates.size),
            "flagged": len(features),
            "expected_in_area": round(float(result.expected[candidates].sum()), 3),
            "expected_flagged": round(float(result.expected[flagged].sum()), 3) if flagged.size else 0.0,
            **meta,
        },
    }


def methods(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The forecast methods with the figures of the last stored back-test the caller may see."""
    require(principal, "safety:read")
    figures = last_backtest(session, principal)
    summary = (figures or {}).get("summary", {})
    return [
        {
            "name": name,
            "description": METHOD_NOTES[name],
            "baseline": name == "counts",
            "last_backtest": (
                {
                    "job_id": figures["job_id"],
                    "finished_at": figures["finished_at"],
                    "spec": figures["spec"],
                    "figures": summary[name],
                }
                if figures and name in summary
                else None
            ),
        }
        for name in METHODS
    ]


def last_backtest(session: Session, principal: Principal) -> dict[str, Any] | None:
    """The result of the newest successful back-test (a `safety.backtest` job) the caller may see."""
    from civicgrid.core import jobs

    candidates = session.scalars(
        select(jobs.Job)
        .where(jobs.Job.kind == BACKTEST_JOB, jobs.Job.status == "succeeded")
        .order_by(jobs.Job.finished_at.desc(), jobs.Job.id.desc())
        .limit(20)
    )
    for job in candidates:
        if job.result and jobs.may_see(session, principal, job):
            return {
                "job_id": job.id,
                "finished_at": job.finished_at.isoformat() if job.finished_at else None,
                "spec": job.result.get("spec", {}),
                "summary": job.result.get("summary", {}),
            }
    return None
