"""Drawing the reports: when (day by weekday, holiday, season and growth; hour by channel), what (category
by season), by which channel, in which grid (households, urban, hotspots) and where in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from civicgrid.demo.cases import mix
from civicgrid.demo.cases.workdays import DAY, VectorCalendar, day_number
from civicgrid.demo.population.model import Arr, IntArr, _Grids
from civicgrid.demo.population.sampling import _categorical_rows, points_in_polygon

LEAVES: tuple[str, ...] = tuple(mix.CATEGORY_WEIGHTS)
CLASSES: tuple[str, ...] = tuple(sorted({leaf[:2] for leaf in LEAVES}))


@dataclass
class Reports:
    """One entry per case, in the order of the report time (so case ids grow with time)."""

    reported: Arr  # UTC seconds
    leaf: IntArr  # index into LEAVES
    source: IntArr  # index into mix.SOURCES
    grid: IntArr  # index into the grids
    lon: Arr
    lat: Arr

    def __len__(self) -> int:
        return len(self.reported)

    def take(self, order: IntArr) -> Reports:
        return Reports(*(getattr(self, name)[order] for name in ("reported", "leaf", "source", "grid", "lon", "lat")))


def hotspot_communities(community_codes: list[str], urban: list[bool], seed: int) -> list[tuple[str, float]]:
    """The planted hotspots: `mix.HOTSPOTS` urban communities (the same at every scale for a seed) and the
    factor by which their first grid's report rate is raised."""
    rng = np.random.default_rng([seed, 20])
    candidates = sorted({code for code, is_urban in zip(community_codes, urban, strict=True) if is_urban})
    chosen = sorted(rng.choice(len(candidates), size=min(mix.HOTSPOTS, len(candidates)), replace=False).tolist())
    low, high = mix.HOTSPOT_FACTORS
    factors = rng.uniform(low, high, len(chosen))
    return [(candidates[i], round(float(f), 1)) for i, f in zip(chosen, factors, strict=True)]


def hotspot_factors(grids: _Grids, seed: int) -> Arr:
    """Per grid: its hotspot factor (1 for ordinary grids; the first grid of each hotspot community)."""
    factors = np.ones(len(grids))
    first: dict[str, int] = {}
    for index, community in enumerate(grids.community):
        first.setdefault(community, index)  # grids are ordered by code
    for community, factor in hotspot_communities(grids.community, grids.urban.tolist(), seed):
        factors[first[community]] = factor
    return factors


def _day_rates(calendar: VectorCalendar, days: list[date], holidays: set[date]) -> Arr:
    """rate[d, k]: relative reports of leaf k on day d."""
    n = len(days)
    weekday = np.array([d.weekday() for d in days])
    base = np.asarray(mix.WEEKDAY_FACTORS)[weekday]
    base = base * np.where([d in holidays for d in days], mix.HOLIDAY_FACTOR, 1.0)
    base = base * (1 + mix.YEARLY_GROWTH) ** (np.arange(n) / 365.25)
    rate = np.outer(base, np.array([mix.CATEGORY_WEIGHTS[leaf] for leaf in LEAVES]))
    doy = np.array([d.timetuple().tm_yday for d in days])
    month = np.array([d.month for d in days])
    heating = np.array([(d.month, d.day) >= (11, 15) or (d.month, d.day) <= (3, 15) for d in days])
    for leaves, kind, amplitude, months in mix.SEASONS:
        if kind == "summer":
            factor = 1 + amplitude * np.cos(2 * math.pi * (doy - 197) / 365.25)
        elif kind == "heating":
            factor = np.where(heating, 1 + amplitude, 1.0)
        else:
            factor = np.where(np.isin(month, months), 1 + amplitude, 1.0)
        for leaf in leaves:
            rate[:, LEAVES.index(leaf)] *= factor
    return rate


def _grid_weights(grids: _Grids, seed: int) -> Arr:
    """weights[k, g]: how likely a report of leaf k lies in grid g."""
    households = grids.households.astype(float)
    base = households + max(households.mean(), 1.0) * 0.05
    base = base * np.where(grids.urban, mix.URBAN_FACTOR, 1.0) * hotspot_factors(grids, seed)
    weights = np.empty((len(LEAVES), len(grids)))
    for k, leaf in enumerate(LEAVES):
        urban = mix.URBAN_CLASS_FACTOR.get(leaf, mix.URBAN_CLASS_FACTOR.get(leaf[:2], 1.0))
        rural = mix.RURAL_CLASS_FACTOR.get(leaf, mix.RURAL_CLASS_FACTOR.get(leaf[:2], 1.0))
        weights[k] = base * np.where(grids.urban, urban, rural)
    result: Arr = weights / weights.sum(axis=1, keepdims=True)
    return result


def _points(grids: _Grids, grid: IntArr, hotspots: Arr, rng: np.random.Generator) -> tuple[Arr, Arr]:
    """A point inside its grid for every report; in hotspot grids half of them crowd round one spot."""
    lon = np.empty(len(grid))
    lat = np.empty(len(grid))
    order = np.argsort(grid, kind="stable")
    counts = np.bincount(grid, minlength=len(grids))
    start = 0
    for g in np.flatnonzero(counts).tolist():
        n = int(counts[g])
        index = order[start : start + n]
        start += n
        geometry = grids.geometry[g]
        x, y = points_in_polygon(geometry, n, rng)
        if hotspots[g] > 1:
            crowd = n // 2
            spot = geometry.representative_point()
            min_x, min_y, max_x, max_y = geometry.bounds
            cx, cy = _near(geometry, spot.x, spot.y, (max_x - min_x) / 12, (max_y - min_y) / 12, crowd, rng)
            x[:crowd], y[:crowd] = cx, cy
        lon[index], lat[index] = x, y
    return lon, lat


def _near(
    geometry: BaseGeometry, x0: float, y0: float, sx: float, sy: float, n: int, rng: np.random.Generator
) -> tuple[Arr, Arr]:
    xs: list[Arr] = []
    ys: list[Arr] = []
    have = 0
    for _ in range(20):
        x = rng.normal(x0, sx, 2 * (n - have) + 8)
        y = rng.normal(y0, sy, len(x))
        inside = shapely.contains_xy(geometry, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
        if have >= n:
            break
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    if len(x_all) < n:  # pragma: no cover - a sliver: keep the spot itself
        x_all = np.r_[x_all, np.full(n - len(x_all), x0)]
        y_all = np.r_[y_all, np.full(n - len(y_all), y0)]
    return x_all[:n], y_all[:n]


def draw_reports(
    grids: _Grids,
    calendar: VectorCalendar,
    holidays: set[date],
    *,
    n: int,
    first_day: date,
    now: float,
    seed: int,
    rng: np.random.Generator,
) -> Reports:
    """`n` reports between the local `first_day` and `now` (UTC seconds)."""
    last_day = date.fromordinal(date(1970, 1, 1).toordinal() + int(calendar.to_local(np.array([now]))[0] // DAY))
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    rate = _day_rates(calendar, days, holidays)
    day_weight = rate.sum(axis=1)
    elapsed = (calendar.to_local(np.array([now]))[0] - day_number(last_day) * DAY) / DAY
    day_weight[-1] *= max(elapsed, 0.01)  # today is not over
    day = np.repeat(np.arange(len(days)), rng.multinomial(n, day_weight / day_weight.sum()))
    leaf = _categorical_rows(rng, rate, day)
    klass = np.array([CLASSES.index(leaf_code[:2]) for leaf_code in LEAVES])[leaf]
    source_table = np.array([mix.SOURCE_MIX[c] for c in CLASSES], dtype=float)
    source = _categorical_rows(rng, source_table, klass)
    profile = np.zeros(len(mix.SOURCES), dtype=np.int64)
    profile[[mix.SOURCES.index(s) for s in mix.PATROL_SOURCES]] = 0
    profile[[mix.SOURCES.index(s) for s in (*mix.RESIDENT_SOURCES, "sos")]] = 1
    profile[[mix.SOURCES.index(s) for s in mix.MACHINE_SOURCES]] = 2
    hours_table = np.array([mix.HOURS_PATROL, mix.HOURS_PUBLIC, mix.HOURS_MACHINE], dtype=float)
    hour = _categorical_rows(rng, hours_table, profile[source])
    local = (day_number(first_day) + day) * DAY + hour * 3600.0 + np.floor(rng.random(n) * 3600.0)
    reported = calendar.to_utc(local)
    late = reported > now - 60
    reported[late] = now - 60 - np.floor(rng.random(int(late.sum())) * 3600.0)  # today's reports lie before now
    weights = _grid_weights(grids, seed)
    grid = np.empty(n, dtype=np.int64)
    for k in range(len(LEAVES)):
        mine = np.flatnonzero(leaf == k)
        grid[mine] = rng.choice(len(grids), size=len(mine), p=weights[k])
    lon, lat = _points(grids, grid, hotspot_factors(grids, seed), rng)
    reports = Reports(reported, leaf, source, grid, lon, lat)
    return reports.take(np.argsort(reported, kind="stable"))
