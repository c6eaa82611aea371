"""Drawing the calls and recorded incidents: when (day by weekday, holiday, season and trend; hour by the
category's rhythm), what (the line's category mix), where (grid by households, urban, case and call
hotspots; a point inside the grid, crowding round the hotspot's spot), the planted surges, near-repeat
follow-ups of thefts and burglaries, casualties, and the recorded incidents filed from the calls.

Times are drawn as local seconds (Asia/Shanghai wall clock since the epoch) and turned into UTC at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import shapely

from civicgrid.demo.cases.draw import _near, hotspot_communities, hotspot_factors
from civicgrid.demo.population.model import Arr, IntArr, _Grids
from civicgrid.demo.population.sampling import _categorical_rows, points_in_polygon
from civicgrid.demo.safety import mix
from civicgrid.demo.safety.surges import PlantedSurge, planted_surges
from civicgrid.safety.categories import DEFAULT_LEAVES
from civicgrid.safety.counts import LOCAL_TZ

DAY = 86400.0
_EPOCH = date(1970, 1, 1)
LEAVES: tuple[str, ...] = tuple(code for code, _, _ in DEFAULT_LEAVES)
CLASSES: tuple[str, ...] = tuple(sorted({leaf[:2] for leaf in LEAVES}))
RHYTHMS: tuple[str, ...] = tuple(mix.HOURS)
SOURCE_INDEX = {source: i for i, source in enumerate(mix.SOURCES)}
RECORDS = SOURCE_INDEX["records"]
_LEAF_CLASS = np.array([CLASSES.index(leaf[:2]) for leaf in LEAVES])
_LEAF_RHYTHM = np.array([RHYTHMS.index(mix.RHYTHM[leaf]) for leaf in LEAVES])
_HOURS = np.array([mix.HOURS[r] for r in RHYTHMS], dtype=float)


def day_number(day: date) -> int:
    return (day - _EPOCH).days


def call_counts(scale: float) -> dict[str, int]:
    """Calls per line at `scale` (the recorded incidents come on top, drawn from the 110 calls)."""
    total = round(mix.CALLS_PER_YEAR * mix.YEARS * scale)
    counts = {s: round(total * share) for s, share in zip(mix.CALL_SOURCES[:-1], mix.SOURCE_SHARES, strict=False)}
    counts[mix.CALL_SOURCES[-1]] = total - sum(counts.values())
    return counts


@dataclass(frozen=True)
class CallHotspot:
    """The first grid of `community` receives `factor` × the calls of the hotspot's leaves."""

    community: str
    name: str
    factor: float

    @property
    def leaves(self) -> tuple[str, ...]:
        return mix.CALL_HOTSPOTS[self.name][0]


def call_hotspots(community_codes: list[str], urban: list[bool], seed: int) -> list[CallHotspot]:
    """The call hotspots (`mix.CALL_HOTSPOTS`): communities chosen by the seed, the same at every scale,
    none of them a planted case hotspot and none chosen twice."""
    flags: dict[str, bool] = {}
    for code, is_urban in zip(community_codes, urban, strict=True):
        flags[code] = flags.get(code, False) or bool(is_urban)
    taken = {code for code, _ in hotspot_communities(community_codes, urban, seed)}
    result: list[CallHotspot] = []
    for number, (name, (_, count, urban_only, (low, high))) in enumerate(mix.CALL_HOTSPOTS.items()):
        rng = np.random.default_rng([seed, 21, number])
        candidates = sorted(c for c, u in flags.items() if (u or not urban_only) and c not in taken)
        chosen = sorted(rng.choice(len(candidates), size=min(count, len(candidates)), replace=False).tolist())
        factors = rng.uniform(low, high, len(chosen))
        for i, factor in zip(chosen, factors.tolist(), strict=True):
            result.append(CallHotspot(candidates[i], name, round(factor, 1)))
            taken.add(candidates[i])
    return result


@dataclass
class Incidents:
    """One entry per call or recorded incident."""

    local: Arr  # local wall-clock seconds since the epoch (whole seconds)
    source: IntArr  # index into mix.SOURCES
    leaf: IntArr  # index into LEAVES
    grid: IntArr  # index into the grids
    lon: Arr
    lat: Arr
    deaths: IntArr
    injuries: IntArr
    day_only: Arr  # bool: the record gives only the day

    def __len__(self) -> int:
        return len(self.local)

    def take(self, index: IntArr) -> Incidents:
        return Incidents(*(getattr(self, f)[index] for f in _FIELDS))

    @staticmethod
    def concat(parts: list[Incidents]) -> Incidents:
        return Incidents(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


_FIELDS = ("local", "source", "leaf", "grid", "lon", "lat", "deaths", "injuries", "day_only")


@dataclass
class SurgePlan:
    surge: PlantedSurge
    usual: float  # the community's usual calls of the class a day (expected, before the surge)
    planted: int  # calls added


@dataclass
class Drawn:
    incidents: Incidents  # sorted by time
    surges: list[SurgePlan]
    call_hotspots: list[CallHotspot]
    first_day: date
    last_day: date


@dataclass
class _Model:
    """Where calls fall: weights[k, g] per leaf and grid, and the spot a hotspot grid's calls crowd round."""

    weights: Arr
    spot_of: IntArr  # [k, g]: index into spots, -1 where the grid is no hotspot for the leaf
    spots: list[tuple[int, float, float]]  # (grid, lon, lat)


def _grid_model(grids: _Grids, seed: int, hotspots: list[CallHotspot]) -> _Model:
    households = grids.households.astype(float)
    base = (households + max(households.mean(), 1.0) * 0.05) * np.where(grids.urban, mix.URBAN_FACTOR, 1.0)
    weights = np.empty((len(LEAVES), len(grids)))
    spot_of = np.full((len(LEAVES), len(grids)), -1, dtype=np.int64)
    spots: list[tuple[int, float, float]] = []
    case_factor = hotspot_factors(grids, seed)
    for k, leaf in enumerate(LEAVES):
        urban = mix.URBAN_CLASS_FACTOR.get(leaf, mix.URBAN_CLASS_FACTOR.get(leaf[:2], 1.0))
        rural = mix.RURAL_CLASS_FACTOR.get(leaf, mix.RURAL_CLASS_FACTOR.get(leaf[:2], 1.0))
        weights[k] = base * np.where(grids.urban, urban, rural)
    case_leaves = [k for k, leaf in enumerate(LEAVES) if leaf[:2] in mix.CASE_HOTSPOT_CLASSES]
    for g in np.flatnonzero(case_factor > 1).tolist():
        point = grids.geometry[g].representative_point()
        spots.append((g, point.x, point.y))
        weights[case_leaves, g] *= case_factor[g]
        spot_of[case_leaves, g] = len(spots) - 1
    first = _first_grids(grids)
    rng = np.random.default_rng([seed, 22])
    for hotspot in hotspots:
        g = first[hotspot.community]
        x, y = points_in_polygon(grids.geometry[g], 1, rng)
        spots.append((g, float(x[0]), float(y[0])))
        rows = [LEAVES.index(leaf) for leaf in hotspot.leaves]
        weights[rows, g] *= hotspot.factor
        spot_of[rows, g] = len(spots) - 1
    return _Model(weights / weights.sum(axis=1, keepdims=True), spot_of, spots)


def _first_grids(grids: _Grids) -> dict[str, int]:
    first: dict[str, int] = {}
    for index, community in enumerate(grids.community):
        first.setdefault(community, index)  # grids are ordered by code
    return first


def _day_rates(source: str, days: list[date], holidays: set[date]) -> Arr:
    """rate[d, k]: relative calls of leaf k on day d on this line (near-repeat follow-ups excluded)."""
    shares = mix.SOURCE_MIX[source]
    weekday = np.array([d.weekday() for d in days])
    holiday = np.array([d in holidays for d in days])
    years = np.arange(len(days)) / 365.25
    doy = np.array([d.timetuple().tm_yday for d in days])
    month = np.array([d.month for d in days])
    season_cos = np.cos(2 * math.pi * (doy - 197) / 365.25)
    rate = np.zeros((len(days), len(LEAVES)))
    for k, leaf in enumerate(LEAVES):
        share = shares.get(leaf, 0.0)
        if not share:
            continue
        rhythm = mix.RHYTHM[leaf]
        column = share * np.asarray(mix.WEEKDAYS[rhythm])[weekday]
        column *= np.where(holiday, mix.HOLIDAYS[rhythm], 1.0)
        column *= (1 + mix.TRENDS.get(leaf, mix.TRENDS.get(leaf[:2], 0.0))) ** years
        if source == "110":  # the follow-ups make up the rest
            column *= 1 - mix.NEAR_REPEAT.get(leaf, 0.0)
        rate[:, k] = column
    for leaves, kind, amplitude, months in mix.SEASONS:
        if kind == "summer":
            factor = 1 + amplitude * season_cos
        elif kind == "winter":
            factor = 1 - amplitude * season_cos
        else:
            factor = np.where(np.isin(month, months), 1 + amplitude, 1.0)
        for leaf in leaves:
            rate[:, LEAVES.index(leaf)] *= factor
    return rate


def _clock(rng: np.random.Generator, leaf: IntArr, day: IntArr, first: int) -> Arr:
    """Local seconds: the day, an hour by the leaf's rhythm, a second within the hour."""
    hour = _categorical_rows(rng, _HOURS, _LEAF_RHYTHM[leaf])
    local: Arr = (first + day) * DAY + hour * 3600.0 + np.floor(rng.random(len(day)) * 3600.0)
    return local


def _grids_for(rng: np.random.Generator, model: _Model, leaf: IntArr) -> tuple[IntArr, IntArr]:
    """A grid for each call by its leaf's weights, and the spot it crowds round (-1: none)."""
    grid = np.empty(len(leaf), dtype=np.int64)
    for k in np.unique(leaf).tolist():
        mine = np.flatnonzero(leaf == k)
        grid[mine] = rng.choice(model.weights.shape[1], size=len(mine), p=model.weights[k])
    spot = model.spot_of[leaf, grid]
    spot = np.where(rng.random(len(leaf)) < mix.CROWD_SHARE, spot, -1)
    return grid, spot


def _calls(
    rng: np.random.Generator,
    model: _Model,
    source: str,
    n: int,
    days: list[date],
    holidays: set[date],
    now_local: float,
) -> tuple[Incidents, IntArr]:
    rate = _day_rates(source, days, holidays)
    day_weight = rate.sum(axis=1)
    first = day_number(days[0])
    elapsed = (now_local - (first + len(days) - 1) * DAY) / DAY
    day_weight[-1] *= min(max(elapsed, 0.01), 1.0)  # today is not over
    day = np.repeat(np.arange(len(days)), rng.multinomial(n, day_weight / day_weight.sum()))
    leaf = _categorical_rows(rng, rate, day)
    local = _clock(rng, leaf, day, first)
    late = local > now_local - 60
    local[late] = now_local - 60 - np.floor(rng.random(int(late.sum())) * 3600.0)  # today's calls lie before now
    grid, spot = _grids_for(rng, model, leaf)
    return _bare(local, SOURCE_INDEX[source], leaf, grid), spot


def _bare(local: Arr, source: int, leaf: IntArr, grid: IntArr) -> Incidents:
    n = len(local)
    zeros = np.zeros(n, dtype=np.int64)
    return Incidents(
        local, np.full(n, source, dtype=np.int64), leaf, grid, np.zeros(n), np.zeros(n), zeros, zeros.copy(),
        np.zeros(n, dtype=bool),
    )  # fmt: skip


def _follow_ups(source: str, n: int) -> int:
    """The near-repeat follow-ups to expect among `n` calls of a line (they are drawn after the others)."""
    shares = mix.SOURCE_MIX[source]
    if source != "110":
        return 0
    expected = sum(shares.get(leaf, 0.0) * b for leaf, b in mix.NEAR_REPEAT.items()) / sum(shares.values())
    return round(n * expected)


def _usual(model: _Model, grids: _Grids, counts: dict[str, int], n_days: int) -> dict[tuple[str, str], float]:
    """The expected calls a day of each class in each community (all lines, before surges)."""
    expected = np.zeros((len(CLASSES), len(grids)))
    for source, n in counts.items():
        shares = mix.SOURCE_MIX[source]
        total = sum(shares.values())
        for k, leaf in enumerate(LEAVES):
            if leaf in shares:
                expected[_LEAF_CLASS[k]] += n * shares[leaf] / total * model.weights[k]
    result: dict[tuple[str, str], float] = {}
    for g, community in enumerate(grids.community):
        for c, klass in enumerate(CLASSES):
            key = (community, klass)
            result[key] = result.get(key, 0.0) + float(expected[c, g]) / n_days
    return result


def _surge_calls(
    rng: np.random.Generator,
    model: _Model,
    grids: _Grids,
    surges: list[PlantedSurge],
    usual: dict[tuple[str, str], float],
    first_day: date,
) -> tuple[Incidents, IntArr, list[SurgePlan]]:
    members: dict[str, list[int]] = {}
    for g, community in enumerate(grids.community):
        members.setdefault(community, []).append(g)
    parts: list[Incidents] = []
    spots: list[IntArr] = []
    plans: list[SurgePlan] = []
    for surge in surges:
        klass, source = surge.klass, mix.SURGE_SOURCE[surge.klass]
        rate = usual.get((surge.area_code, klass), 0.0)
        planted = round(max((surge.factor - 1) * rate, mix.SURGE_MIN_EXTRA) * surge.days)
        plans.append(SurgePlan(surge, rate, planted))
        mine = members.get(surge.area_code)
        if not mine or not planted:
            continue
        leaves = [k for k, leaf in enumerate(LEAVES) if leaf[:2] == klass and leaf in mix.SOURCE_MIX[source]]
        shares = np.array([mix.SOURCE_MIX[source][LEAVES[k]] for k in leaves])
        leaf = np.array(leaves, dtype=np.int64)[rng.choice(len(leaves), planted, p=shares / shares.sum())]
        start = (surge.first_day - first_day).days
        day = start + rng.integers(0, surge.days, planted)
        local = _clock(rng, leaf, day, day_number(first_day))
        local_weights = model.weights[leaf][:, mine]
        cumulative = np.cumsum(local_weights / local_weights.sum(axis=1, keepdims=True), axis=1)
        pick = np.minimum((cumulative < rng.random((planted, 1))).sum(axis=1), len(mine) - 1)
        grid = np.asarray(mine, dtype=np.int64)[pick]
        # Half of them round one spot of the community's busiest grid for the class.
        busiest = mine[int(np.argmax(model.weights[leaves][:, mine].sum(axis=0)))]
        x, y = points_in_polygon(grids.geometry[busiest], 1, rng)
        model.spots.append((busiest, float(x[0]), float(y[0])))
        crowd = rng.random(planted) < mix.CROWD_SHARE
        grid[crowd] = busiest
        parts.append(_bare(local, SOURCE_INDEX[source], leaf, grid))
        spots.append(np.where(crowd, len(model.spots) - 1, -1))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return _bare(np.zeros(0), 0, empty, empty), empty, plans
    return Incidents.concat(parts), np.concatenate(spots), plans


def _place(rng: np.random.Generator, grids: _Grids, model: _Model, grid: IntArr, spot: IntArr) -> tuple[Arr, Arr]:
    """A point inside its grid for every incident; those with a spot crowd round it."""
    lon = np.empty(len(grid))
    lat = np.empty(len(grid))
    order = np.argsort(grid, kind="stable")
    counts = np.bincount(grid, minlength=len(grids))
    start = 0
    for g in np.flatnonzero(counts).tolist():
        n = int(counts[g])
        index = order[start : start + n]
        start += n
        lon[index], lat[index] = points_in_polygon(grids.geometry[g], n, rng)
    crowded = np.flatnonzero(spot >= 0)
    order = crowded[np.argsort(spot[crowded], kind="stable")]
    ids, sizes = np.unique(spot[order], return_counts=True)
    start = 0
    for s, n in zip(ids.tolist(), sizes.tolist(), strict=True):
        index = order[start : start + n]
        start += n
        g, x0, y0 = model.spots[s]
        geometry = grids.geometry[g]
        min_x, min_y, max_x, max_y = geometry.bounds
        lon[index], lat[index] = _near(geometry, x0, y0, (max_x - min_x) / 12, (max_y - min_y) / 12, n, rng)
    return lon, lat


def _near_repeats(rng: np.random.Generator, grids: _Grids, calls: Incidents, now_local: float) -> Incidents:
    """Follow-ups of thefts and burglaries: same leaf and grid, a few dozen metres away, days to weeks later."""
    branching = np.zeros(len(LEAVES))
    for leaf, mean in mix.NEAR_REPEAT.items():
        branching[LEAVES.index(leaf)] = mean
    parents = calls.take(np.flatnonzero((calls.source == SOURCE_INDEX["110"]) & (branching[calls.leaf] > 0)))
    found: list[Incidents] = []
    for _ in range(mix.NEAR_GENERATIONS):
        children = parents.take(np.repeat(np.arange(len(parents)), rng.poisson(branching[parents.leaf])))
        delay = rng.exponential(mix.NEAR_DAYS, len(children)) * DAY
        children.local = np.floor(children.local + delay)
        keep = (delay <= mix.NEAR_MAX_DAYS * DAY) & (children.local <= now_local - 60)
        children = children.take(np.flatnonzero(keep))
        if not len(children):
            break
        metres_lat = mix.NEAR_METRES / 111_320.0
        metres_lon = metres_lat / np.cos(np.radians(children.lat))
        x = children.lon + rng.normal(0.0, 1.0, len(children)) * metres_lon
        y = children.lat + rng.normal(0.0, 1.0, len(children)) * metres_lat
        inside = np.zeros(len(children), dtype=bool)
        for g in np.unique(children.grid).tolist():
            mine = np.flatnonzero(children.grid == g)
            inside[mine] = shapely.contains_xy(grids.geometry[g], x[mine], y[mine])
        children.lon = np.where(inside, x, children.lon)  # outside the grid: the parent's own spot
        children.lat = np.where(inside, y, children.lat)
        found.append(children)
        parents = children
    if not found:
        return calls.take(np.zeros(0, dtype=np.int64))
    return Incidents.concat(found)


def _casualties(rng: np.random.Generator, incidents: Incidents) -> None:
    for leaf, (p_hurt, more_hurt, p_dead, more_dead) in mix.CASUALTIES.items():
        mine = np.flatnonzero(incidents.leaf == LEAVES.index(leaf))
        hurt = rng.random(len(mine)) < p_hurt
        incidents.injuries[mine] = np.where(hurt, 1 + rng.poisson(more_hurt, len(mine)), 0)
        dead = rng.random(len(mine)) < p_dead
        incidents.deaths[mine] = np.where(dead, 1 + rng.poisson(more_dead, len(mine)), 0)


def _records(rng: np.random.Generator, calls: Incidents, n_calls: int) -> Incidents:
    """Recorded incidents filed from 110 calls of the criminal and public-order classes (same time, place,
    category and casualties); some give only the day."""
    chance = np.zeros(len(LEAVES))
    for leaf, share in mix.RECORDED.items():
        chance[LEAVES.index(leaf)] = share
    p = np.where(calls.source == SOURCE_INDEX["110"], chance[calls.leaf], 0.0)
    scale = mix.RECORDS_SHARE * n_calls / max(float(p.sum()), 1e-9)
    records = calls.take(np.flatnonzero(rng.random(len(calls)) < np.minimum(p * scale, 1.0)))
    records.source = np.full(len(records), RECORDS, dtype=np.int64)
    records.day_only = rng.random(len(records)) < mix.RECORDS_DAY_PRECISION
    records.local = np.where(records.day_only, np.floor(records.local / DAY) * DAY, records.local)
    return records


def draw_incidents(
    grids: _Grids, holidays: set[date], *, scale: float, seed: int, first_day: date, now: datetime
) -> Drawn:
    """Every call and recorded incident between the local `first_day` and `now`, sorted by time."""
    now_local_dt = now.astimezone(LOCAL_TZ)
    last_day = now_local_dt.date()
    now_local = day_number(last_day) * DAY + (now_local_dt - datetime.combine(last_day, time(), LOCAL_TZ)).seconds
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    hotspots = call_hotspots(grids.community, grids.urban.tolist(), seed)
    model = _grid_model(grids, seed, hotspots)
    counts = call_counts(scale)
    parts: list[Incidents] = []
    spots: list[IntArr] = []
    for number, (source, n) in enumerate(counts.items()):
        n -= _follow_ups(source, n)
        part, spot = _calls(np.random.default_rng([seed, 30, number]), model, source, n, days, holidays, now_local)
        parts.append(part)
        spots.append(spot)
    surges = planted_surges(grids.community, grids.urban.tolist(), seed, first_day, last_day)
    usual = _usual(model, grids, counts, len(days))
    part, spot, plans = _surge_calls(np.random.default_rng([seed, 31]), model, grids, surges, usual, first_day)
    calls = Incidents.concat([*parts, part])
    calls.lon, calls.lat = _place(
        np.random.default_rng([seed, 32]), grids, model, calls.grid, np.concatenate([*spots, spot])
    )
    calls = Incidents.concat([calls, _near_repeats(np.random.default_rng([seed, 33]), grids, calls, now_local)])
    _casualties(np.random.default_rng([seed, 34]), calls)
    records = _records(np.random.default_rng([seed, 35]), calls, len(calls))
    everything = Incidents.concat([calls, records])
    order = np.lexsort((everything.source, everything.local))
    return Drawn(everything.take(order), plans, hotspots, first_day, last_day)
