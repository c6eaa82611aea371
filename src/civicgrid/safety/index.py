"""The safety index computation (DESIGN.md §8), pure numpy: daily counts in, a score per area and period out.

For a list of periods of one type the counts of every window they need (the period itself, the same
period up to three years back, the period before) are summed once into an array (window × division ×
indicator), rolled up to every ancestor with one sparse product, and every area of every level is scored
at once:

- observed O: records of the kinds that feed an indicator;
- baselines, each an expected count for the period's length: `three_year` (mean of the same period of
  the up-to-3 previous years that have data), `year_on_year`, `previous` (the period before) and
  `peers` (median per-resident rate of the areas of the same level under the same parent, times this
  area's residents; for an area without residents, the median of their counts);
- the configured baseline is used where available, else peers (no history yet), else the first own
  baseline available; with none, expected = observed (a neutral score);
- ratio x = (O + k)/(E + k) with prior k so that small counts do not swing the score; component
  c = clip(100 − slope·(x − 1), 0, 100); score = Σ w·c − min(deaths·points, cap), clipped to 0–100 and
  rounded to one decimal; bands by thresholds (green ≥ 90, yellow ≥ 80, orange ≥ 70, else red).

A baseline window "has data" for an indicator when at least half of its days fall on or after the first
day the indicator's kinds have any count (a city that imported two years of calls has two years of
history, not three); a window partly before that day is scaled up from the days it covers.
The same function serves the stored scores and the explanation of one score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import scipy.sparse as sp

from civicgrid.safety.areas import AreaTree
from civicgrid.safety.counts import CountFrame
from civicgrid.safety.index_config import BASELINES, IndexDefinition
from civicgrid.safety.periods import Period

LEVEL_ORDER = ("city", "district", "street", "community", "grid")
BAND_NAMES = ("green", "yellow", "orange", "red")
RED = 3
NONE_USED = len(BASELINES)  # no baseline available: expected = observed
# Window roles for each target period, in this order.
ROLES = ("period", "back1", "back2", "back3", "previous")
# Cells of the (window × area × channel) working array per chunk of target periods.
CHUNK_CELLS = 4_000_000


@dataclass(frozen=True)
class Rules:
    """An IndexDefinition as arrays."""

    indicators: tuple[str, ...]
    weights: np.ndarray
    per_residents: float
    baseline: str
    prior: float
    slope: float
    death_points: float
    death_cap: float
    thresholds: tuple[float, float, float]  # green, yellow, orange

    @classmethod
    def of(cls, definition: IndexDefinition) -> Rules:
        pairs = definition.weights()
        return cls(
            indicators=tuple(name for name, _ in pairs),
            weights=np.array([w for _, w in pairs], dtype=float),
            per_residents=float(definition.per_residents),
            baseline=definition.baseline,
            prior=definition.scoring.prior,
            slope=definition.scoring.slope,
            death_points=definition.scoring.death_points,
            death_cap=definition.scoring.death_cap,
            thresholds=(definition.bands.green, definition.bands.yellow, definition.bands.orange),
        )

    def band_of(self, scores: np.ndarray) -> np.ndarray:
        green, yellow, orange = self.thresholds
        return np.select([scores >= green, scores >= yellow, scores >= orange], [0, 1, 2], default=RED)


# -- periods as numbers --------------------------------------------------------------------------------


def period_numbers(period_type: str, days: np.ndarray) -> np.ndarray:
    """The number of the period of `period_type` containing each day (consecutive periods: consecutive numbers)."""
    d = days.astype("datetime64[D]").astype(np.int64)
    if period_type == "day":
        return d
    if period_type == "week":
        return (d + 3) // 7  # 1970-01-01 was a Thursday: Monday-based weeks
    months = days.astype("datetime64[M]").astype(np.int64)
    if period_type == "month":
        return months
    day_of_month = d - days.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return months * 3 + np.minimum(day_of_month // 10, 2)  # dekad


def period_number(period: Period) -> int:
    return int(period_numbers(period.type, np.array([period.start], dtype="datetime64[D]"))[0])


def baseline_windows(period: Period) -> list[Period]:
    """The windows a period's score reads, in ROLES order."""
    return [period, period.years_back(1), period.years_back(2), period.years_back(3), period.previous()]


# -- areas -----------------------------------------------------------------------------------------------


@dataclass
class MedianGroups:
    """Areas grouped by parent for grouped medians, bucketed by group size so each bucket is one array op."""

    group_of: np.ndarray  # per area: its group number, -1 without a parent
    buckets: list[tuple[np.ndarray, np.ndarray]]  # (group numbers, member indices [n_groups, size])
    groups: int

    @classmethod
    def build(cls, parent: np.ndarray, eligible: np.ndarray) -> MedianGroups:
        has_parent = parent >= 0
        parents = np.unique(parent[has_parent])
        number = {int(p): g for g, p in enumerate(parents)}
        group_of = np.array([number[int(p)] if p >= 0 else -1 for p in parent], dtype=np.int64)
        members: dict[int, list[int]] = {}
        for area in np.flatnonzero(has_parent & eligible):
            members.setdefault(int(group_of[area]), []).append(int(area))
        by_size: dict[int, list[tuple[int, list[int]]]] = {}
        for g, m in members.items():
            by_size.setdefault(len(m), []).append((g, m))
        buckets = [
            (np.array([g for g, _ in items], dtype=np.int64), np.array([m for _, m in items], dtype=np.int64))
            for _, items in sorted(by_size.items())
        ]
        return cls(group_of, buckets, len(parents))

    def median(self, values: np.ndarray) -> np.ndarray:
        """values (T, I, A) → the median of each area's group (T, I, A); NaN where the group has no member."""
        out = np.full((*values.shape[:2], self.groups + 1), np.nan)
        for groups, members in self.buckets:
            out[:, :, groups] = np.median(values[:, :, members], axis=3)
        return out[:, :, self.group_of]  # group -1 reads the last (all-NaN) column


@dataclass
class Areas:
    """The division tree prepared for scoring."""

    codes: list[str]
    names: list[str]
    levels: list[str]
    parent_codes: list[str | None]
    index: dict[str, int]
    parent: np.ndarray  # parent's index, -1 for the city
    population: np.ndarray
    population_source: str
    rollup: sp.csr_matrix  # [ancestor, division] = 1 (itself included)
    rollup_t: sp.csr_matrix  # its transpose, [division, ancestor]
    rate_groups: MedianGroups  # siblings with residents
    count_groups: MedianGroups  # every sibling

    def __len__(self) -> int:
        return len(self.codes)

    @classmethod
    def of(cls, tree: AreaTree) -> Areas:
        n = len(tree)
        parent = np.array([tree.index.get(p, -1) if p else -1 for p in tree.parents], dtype=np.int64)
        rows, cols = [], []
        for k in range(tree.ancestors.shape[1]):
            ancestor = tree.ancestors[:, k]
            ok = ancestor >= 0
            rows.append(ancestor[ok])
            cols.append(np.flatnonzero(ok))
        r = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
        c = np.concatenate(cols) if cols else np.array([], dtype=np.int64)
        rollup = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
        rollup.data[:] = 1.0  # duplicates (a level listed twice) count once
        population = np.asarray(tree.population, dtype=float)
        return cls(
            codes=tree.codes,
            names=tree.names,
            levels=tree.levels,
            parent_codes=tree.parents,
            index=tree.index,
            parent=parent,
            population=population,
            population_source=tree.population_source,
            rollup=rollup,
            rollup_t=rollup.T.tocsr(),
            rate_groups=MedianGroups.build(parent, population > 0),
            count_groups=MedianGroups.build(parent, np.ones(n, dtype=bool)),
        )


# -- counts ----------------------------------------------------------------------------------------------


@dataclass
class Counts:
    """Daily counts of the kinds that feed the configured indicators, as tree and indicator indices."""

    area: np.ndarray
    indicator: np.ndarray
    day: np.ndarray  # datetime64[D]
    count: np.ndarray  # float
    deaths: np.ndarray  # float
    # Per indicator: the first day any of its kinds has a count (history starts there); NaT for none.
    first_day: np.ndarray
    _numbers: dict[str, np.ndarray] = field(default_factory=dict)

    def numbers(self, period_type: str) -> np.ndarray:
        if period_type not in self._numbers:
            self._numbers[period_type] = period_numbers(period_type, self.day)
        return self._numbers[period_type]

    @classmethod
    def of(
        cls,
        frame: CountFrame,
        kinds: dict[str, str],
        rules: Rules,
        areas: Areas,
        first_days: dict[str, date | None],
    ) -> Counts:
        """`kinds`: count kind → indicator; `first_days`: indicator → its first counted day (or None)."""
        position = {name: i for i, name in enumerate(rules.indicators)}
        kind_position = {kind: position[ind] for kind, ind in kinds.items() if ind in position}
        indicator = np.array([kind_position.get(k, -1) for k in frame.kind], dtype=np.int64)
        area = np.array([areas.index.get(c, -1) for c in frame.division], dtype=np.int64)
        keep = (indicator >= 0) & (area >= 0)
        first = np.array(
            [np.datetime64(first_days.get(name) or "NaT", "D") for name in rules.indicators], dtype="datetime64[D]"
        )
        return cls(
            area=area[keep],
            indicator=indicator[keep],
            day=frame.day[keep],
            count=frame.count[keep].astype(float),
            deaths=frame.deaths[keep].astype(float),
            first_day=first,
        )


# -- the computation -------------------------------------------------------------------------------------


@dataclass
class Block:
    """Scores and their parts for target periods (T) × every area (A) × configured indicator (I)."""

    periods: list[Period]
    observed: np.ndarray  # T, A, I
    baselines: np.ndarray  # B(4), T, A, I — expected counts for the period's length under each baseline
    available: np.ndarray  # B(4), T, A, I — bool
    years_used: np.ndarray  # T, I — previous years with data in the three-year baseline
    covered: np.ndarray  # T, 5 (ROLES), I — whether each window has data
    used: np.ndarray  # T, A, I — index into BASELINES, NONE_USED when none was available
    expected: np.ndarray  # T, A, I
    ratio: np.ndarray  # T, A, I
    component: np.ndarray  # T, A, I
    deaths: np.ndarray  # T, A
    deduction: np.ndarray  # T, A
    score: np.ndarray  # T, A
    band: np.ndarray  # T, A (index into BAND_NAMES)

    @property
    def events(self) -> np.ndarray:
        events: np.ndarray = self.observed.sum(axis=-1)
        return events


def chunk_size(areas: Areas, rules: Rules) -> int:
    """How many target periods to compute at once within the memory budget."""
    per_target = len(ROLES) * max(len(areas), 1) * (len(rules.indicators) + 1)
    return max(1, CHUNK_CELLS // per_target)


def _window_sums(
    counts: Counts, areas: Areas, rules: Rules, windows: Sequence[Period]
) -> tuple[np.ndarray, np.ndarray]:
    """Sums per window, indicator and area (rolled up): (W, I, A); and deaths per window and area: (W, A)."""
    period_type = windows[0].type
    wanted = np.array([period_number(w) for w in windows], dtype=np.int64)
    channels = len(rules.indicators) + 1  # the last channel carries deaths
    n_windows, n_areas = len(windows), len(areas)
    if len(counts.count) == 0:
        return np.zeros((n_windows, channels - 1, n_areas)), np.zeros((n_windows, n_areas))
    base = int(wanted.min())
    slot_of = np.full(int(wanted.max()) - base + 1, -1, dtype=np.int64)
    slot_of[wanted - base] = np.arange(n_windows)
    numbers = counts.numbers(period_type) - base
    inside = (numbers >= 0) & (numbers < len(slot_of))
    slot = np.full(len(numbers), -1, dtype=np.int64)
    slot[inside] = slot_of[numbers[inside]]
    keep = slot >= 0
    s, a, i = slot[keep], counts.area[keep], counts.indicator[keep]
    # Records sit at their finest division: sum them sparsely (window·channel × division), roll up to every
    # ancestor, and make the result dense once, already in the (window, channel, area) layout used below.
    placed = sp.csr_matrix(
        (
            np.concatenate([counts.count[keep], counts.deaths[keep]]),
            (np.concatenate([s * channels + i, s * channels + channels - 1]), np.concatenate([a, a])),
        ),
        shape=(n_windows * channels, n_areas),
    )
    cube = (placed @ areas.rollup_t).toarray().reshape(n_windows, channels, n_areas)
    return cube[:, :-1, :], cube[:, -1, :]


def compute(periods: Sequence[Period], counts: Counts, areas: Areas, rules: Rules) -> Block:
    """Score every area for each of `periods` (one type)."""
    targets = list(periods)
    per_target = [baseline_windows(p) for p in targets]
    windows = sorted({w for ws in per_target for w in ws})
    slot = {w: i for i, w in enumerate(windows)}
    sums, death_sums = _window_sums(counts, areas, rules, windows)
    days = np.array([w.days for w in windows], dtype=float)
    starts = np.array([w.start for w in windows], dtype="datetime64[D]")
    ends = np.array([w.end for w in windows], dtype="datetime64[D]")
    # Days of each window within each indicator's history (none without any history: NaT).
    history = counts.first_day[None, :]
    begins = np.where(np.isnat(history), ends[:, None] + 1, np.maximum(starts[:, None], history))
    covered_days = np.maximum((ends[:, None] - begins).astype(np.int64) + 1, 0).astype(float)  # (W, I)
    # A window "has data" when at least half of it lies within the history; its count is then scaled
    # up from the days it covers.
    covered = covered_days * 2 >= days[:, None]

    roles = np.array([[slot[w] for w in ws] for ws in per_target], dtype=np.int64)  # T, 5
    # Arrays below are (T, I, A): areas last, the axis every operation runs along.
    observed = sums[roles[:, 0]]
    deaths = death_sums[roles[:, 0]]  # T, A
    # T, 5, I — to the target period's length, from the days of the window with data
    scale = days[roles[:, 0]][:, None, None] / np.maximum(covered_days[roles], 1.0)
    cover = covered[roles]  # T, 5, I
    n_t, n_i, n_a = observed.shape

    baselines = np.zeros((len(BASELINES), n_t, n_i, n_a))
    available = np.zeros((len(BASELINES), n_t, n_i, n_a), dtype=bool)
    three_year, year_on_year, previous, peers = baselines  # views, filled in place
    years_used = cover[:, 1:4, :].sum(axis=1)  # T, I
    for role in (1, 2, 3):
        weight = scale[:, role, :] * cover[:, role, :] / np.maximum(years_used, 1)
        three_year += sums[roles[:, role]] * weight[:, :, None]
    available[0] = (years_used > 0)[:, :, None]
    year_on_year += sums[roles[:, 1]] * scale[:, 1, :, None]
    available[1] = cover[:, 1, :, None]
    previous += sums[roles[:, 4]] * scale[:, 4, :, None]
    available[2] = cover[:, 4, :, None]

    population = areas.population
    has_people = population > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(has_people, observed / population, np.nan)
    peer_rate = areas.rate_groups.median(rates)
    peer_count = areas.count_groups.median(observed)
    peers[...] = np.where(has_people, peer_rate * population, peer_count)
    available[3] = (areas.parent >= 0) & ~np.isnan(peers)
    np.nan_to_num(peers, copy=False)

    order = [BASELINES.index(rules.baseline), BASELINES.index("peers")]
    order += [b for b in range(len(BASELINES)) if b not in order]
    used = np.full((n_t, n_i, n_a), NONE_USED, dtype=np.int64)
    expected = observed.copy()  # with no baseline at all: expected = observed (neutral)
    for b in reversed(order):  # the first available in `order` wins
        used[available[b]] = b
        np.copyto(expected, baselines[b], where=available[b] & (used == b))

    k = rules.prior
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (observed + k) / (expected + k)
    ratio[np.isnan(ratio)] = 1.0  # 0/0 with no prior: nothing observed, nothing expected
    component = np.clip(100.0 - rules.slope * (ratio - 1.0), 0.0, 100.0)
    weighted = np.einsum("tia,i->ta", component, rules.weights)
    deduction = np.minimum(deaths * rules.death_points, rules.death_cap)
    score = np.round(np.clip(weighted - deduction, 0.0, 100.0), 1)

    def by_area(x: np.ndarray) -> np.ndarray:
        """(…, I, A) → a (…, A, I) view."""
        return np.swapaxes(x, -1, -2)

    return Block(
        periods=targets,
        observed=by_area(observed),
        baselines=by_area(baselines),
        available=by_area(available),
        years_used=years_used,
        covered=cover,
        used=by_area(used),
        expected=by_area(expected),
        ratio=by_area(ratio),
        component=by_area(component),
        deaths=deaths,
        deduction=deduction,
        score=score,
        band=rules.band_of(score),
    )


def streaks(bands: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Consecutive red periods ending with each period (T, A), continuing `previous` (A)."""
    out = np.zeros(bands.shape, dtype=np.int64)
    carry = previous.astype(np.int64)
    for t in range(bands.shape[0]):
        carry = np.where(bands[t] == RED, carry + 1, 0)
        out[t] = carry
    return out
