"""Count surges (DESIGN.md §8, REFERENCE.md §5): per kind of record (`inc:01`, `case:02`, …) and area,
the count of the last day (or days) against a seasonal expectation, alerting on the upper-tail probability
with the false-discovery rate controlled across every area and kind tested at a level, so a city of
thousands of grids does not drown its operators in chance alarms.

The expectation of each kind is built from the `training_days` before the window:

1. The city's daily series: the seasonal GLM of `safety.surge_model` (weekday, annual Fourier terms,
   trend; Poisson or negative binomial, fewer terms for short or sparse series), predicted over the
   window as the city's expected count s(d).
2. Each area's share of the kind over the training window, shrunk towards its share of the population
   (empirical Bayes, gamma–Poisson, the prior's weight by moments and never below half a record per area),
   so a quiet area keeps a small expectation instead of zero: μ_area = share × Σ_window s(d).
3. The dispersion α of the area counts per kind and level, by moments on the training residuals summed
   over blocks as long as the window; α = 0 (Poisson) unless significantly above 0.
4. p = P(X ≥ observed) (negative binomial or Poisson); Benjamini–Hochberg over every (area, kind) tested at
   a level; a surge where q ≤ fdr and observed ≥ min_observed. A child and its parent may both alert.

Pure (counts and the division tree in, surges out) so that back-tests replay it over history;
`SurgeDetector` keeps the indexing of a long count frame between days, `detect_surges` is one day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np
import pandas as pd
from scipy import stats

from civicgrid.core.errors import InvalidInput
from civicgrid.geo.models import LEVELS
from civicgrid.safety.areas import AreaTree
from civicgrid.safety.counts import CountFrame
from civicgrid.safety.surge_model import (
    DISPERSION_Z,
    CityFit,
    FloatArray,
    IntArray,
    day_number,
    fit_city,
    from_day_number,
    sparse_moment_alpha,
)

DEFAULT_LEVELS = ("community", "street")
# The day alone, and the sums of the last 3 and 7 days: a surge of a few extra records a day over several
# days (most of the demo's planted ones) stands out only in a sum.
DEFAULT_WINDOWS = (1, 3, 7)
MIN_TRAINING_DAYS = 28
MAX_WINDOW_DAYS = 92
MAX_TRAINING_DAYS = 3 * 366


@dataclass(frozen=True)
class Surge:
    """One area whose count of one kind over the window is improbably high."""

    level: str
    area_code: str
    area_name: str
    kind: str
    first_day: date
    last_day: date
    observed: int
    expected: float
    p: float
    q: float
    alpha: float  # dispersion of the area counts (0: Poisson)
    model: str  # poisson | negbin
    factors: dict[str, float | str] = field(default_factory=dict)

    @property
    def window(self) -> tuple[date, date]:
        return self.first_day, self.last_day

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else math.inf


@dataclass(frozen=True)
class LevelFit:
    """How one kind was tested at one level."""

    alpha: float
    model: str
    prior_records: float  # weight of the population prior in the shares (pseudo-records)
    areas: int


@dataclass
class Detection:
    """Everything one day's detection found and measured (the surges, and how each kind was modelled)."""

    day: date
    first_day: date
    surges: list[Surge] = field(default_factory=list)
    # With several window lengths, `fits` and `levels` describe the shortest window's models.
    fits: dict[str, CityFit] = field(default_factory=dict)
    levels: dict[tuple[str, str], LevelFit] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # kind (kind/<n>d: a longer window) → why not tested
    tested: dict[str, int] = field(default_factory=dict)  # level → (area, kind, window) tests
    p_values: dict[str, FloatArray] = field(default_factory=dict)  # level → every p tested (calibration)


# -- the detector ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """The daily counts of one kind, sorted by day."""

    days: IntArray
    division: IntArray  # index in the tree, -1 for a code the tree does not know
    count: FloatArray


def _check(
    levels: Sequence[str], window_days: Sequence[int], training_days: int, fdr: float, min_observed: int
) -> None:
    problems = []
    unknown = [level for level in levels if level not in LEVELS]
    if unknown or not levels:
        problems.append({"field": "levels", "problem": f"must be some of {', '.join(LEVELS)}"})
    if not window_days or not all(1 <= days <= MAX_WINDOW_DAYS for days in window_days):
        problems.append({"field": "window_days", "problem": f"must be 1 to {MAX_WINDOW_DAYS}"})
    if not MIN_TRAINING_DAYS <= training_days <= MAX_TRAINING_DAYS:
        problems.append({"field": "training_days", "problem": f"must be {MIN_TRAINING_DAYS} to {MAX_TRAINING_DAYS}"})
    if not 0 < fdr < 1:
        problems.append({"field": "fdr", "problem": "must lie between 0 and 1"})
    if min_observed < 1:
        problems.append({"field": "min_observed", "problem": "must be at least 1"})
    if problems:
        raise InvalidInput(
            "the surge detection settings are not valid: "
            + "; ".join(f"{p['field']} {p['problem']}" for p in problems),
            details=problems,
        )


class SurgeDetector:
    """Surge detection over one count frame, for one day or many (back-tests replay it day by day)."""

    def __init__(self, counts: CountFrame, tree: AreaTree) -> None:
        self.tree = tree
        self._rows: dict[str, _Rows] = {}
        self._areas: dict[tuple[str, str], IntArray] = {}
        self._members: dict[str, IntArray] = {}
        self._fits: dict[tuple[str, int, int, int, int], CityFit | None] = {}
        self._fits_day: int | None = None
        if len(counts) == 0:
            return
        kind_codes, kinds = pd.factorize(pd.Series(counts.kind, dtype=object))
        division = pd.Index(tree.codes).get_indexer(pd.Index(counts.division)).astype(np.int64)
        days = counts.day.astype("datetime64[D]").astype(np.int64)
        for k, kind in enumerate(kinds):
            chosen = np.flatnonzero(kind_codes == k)
            order = chosen[np.argsort(days[chosen], kind="stable")]
            self._rows[str(kind)] = _Rows(days[order], division[order], counts.count[order].astype(np.float64))

    @property
    def kinds(self) -> list[str]:
        return sorted(self._rows)

    def _level_members(self, level: str) -> IntArray:
        if level not in self._members:
            self._members[level] = self.tree.at_level(level).astype(np.int64)
        return self._members[level]

    def _area_of(self, kind: str, level: str) -> IntArray:
        """Each row's area at `level` as a position among that level's areas (-1: placed above it)."""
        key = (kind, level)
        if key not in self._areas:
            rows = self._rows[kind]
            members = self._level_members(level)
            position = np.full(len(self.tree) + 1, -1, dtype=np.int64)  # the last slot answers index -1
            position[members] = np.arange(len(members))
            ancestor = np.full(len(rows.division), -1, dtype=np.int64)
            known = rows.division >= 0
            ancestor[known] = self.tree.ancestors[rows.division[known], LEVELS.index(level)]
            self._areas[key] = position[ancestor]
        return self._areas[key]

    def _city_fit(self, kind: str, train: tuple[int, int], window: tuple[int, int]) -> CityFit | str:
        """The kind's city model over the training days (cached per day), or why there is none."""
        rows = self._rows[kind]
        lo, hi = np.searchsorted(rows.days, [train[0], train[1] + 1])
        if hi <= lo or rows.count[lo:hi].sum() <= 0:
            return "no records in the training window"
        # The kind's series starts with its first record: days before it are not zeros but unknown.
        start = max(train[0], int(rows.days[lo]))
        if train[1] - start + 1 < MIN_TRAINING_DAYS:
            return f"fewer than {MIN_TRAINING_DAYS} days of history before the window"
        key = (kind, start, train[1], *window)
        if self._fits_day != window[1]:  # fits are kept for the day being detected only
            self._fits.clear()
            self._fits_day = window[1]
        if key not in self._fits:
            y = np.bincount(rows.days[lo:hi] - start, weights=rows.count[lo:hi], minlength=train[1] - start + 1)
            days = np.arange(start, train[1] + 1, dtype=np.int64)
            window_days = np.arange(window[0], window[1] + 1, dtype=np.int64)
            self._fits[key] = fit_city(kind, y.astype(np.float64), days, window_days)
        fit = self._fits[key]
        assert fit is not None
        return fit

    def detect(
        self,
        day: date,
        *,
        levels: Sequence[str] = DEFAULT_LEVELS,
        window_days: int | Sequence[int] = DEFAULT_WINDOWS,
        training_days: int = 365,
        fdr: float = 0.05,
        min_observed: int = 3,
        kinds: Iterable[str] | None = None,
    ) -> Detection:
        """The surges of the windows of `window_days` (one length or several) ending on `day`, each trained
        on the days before it.

        Several lengths (the default: 1, 3 and 7 days): every (area, kind, window) is one test in the
        level's Benjamini–Hochberg family, and an area over the bar in several windows reports the shortest
        (the days of the surge most closely; a longer window only when the days alone are too weak)."""
        lengths = sorted({window_days} if isinstance(window_days, int) else set(window_days))
        _check(levels, lengths, training_days, fdr, min_observed)
        last = day_number(day)
        detection = Detection(day=day, first_day=from_day_number(last - lengths[-1] + 1))
        wanted = self.kinds if kinds is None else [k for k in dict.fromkeys(kinds) if k in self._rows]
        windows: list[tuple[int, dict[str, CityFit]]] = []
        for length in lengths:
            first = last - length + 1
            fits: dict[str, CityFit] = {}
            for kind in wanted:
                fit = self._city_fit(kind, (first - training_days, first - 1), (first, last))
                if isinstance(fit, str):
                    detection.skipped[kind if length == lengths[0] else f"{kind}/{length}d"] = fit
                else:
                    fits[kind] = fit
            windows.append((length, fits))
        detection.fits = windows[0][1]
        for level in dict.fromkeys(levels):
            tests = [
                test
                for length, fits in windows
                for kind, fit in fits.items()
                if (test := self._test(kind, fit, level, last, length, detection)) is not None
            ]
            detection.tested[level] = sum(len(t.p) for t in tests)
            if not tests:
                continue
            detection.p_values[level] = np.concatenate([t.p for t in tests])
            q = stats.false_discovery_control(detection.p_values[level], method="bh")
            offset = 0
            shortest: dict[tuple[str, int], Surge] = {}  # (kind, area) → its surge; shorter windows come first
            for test in tests:
                test_q = q[offset : offset + len(test.p)]
                offset += len(test.p)
                for i in np.flatnonzero((test_q <= fdr) & (test.observed >= min_observed)).tolist():
                    if (test.kind, i) not in shortest:
                        shortest[(test.kind, i)] = self._surge(test, i, float(test_q[i]), level, last)
            detection.surges.extend(shortest.values())
        detection.surges.sort(key=lambda s: (LEVELS.index(s.level), s.q, s.area_code, s.kind))
        return detection

    def _test(
        self, kind: str, fit: CityFit, level: str, last: int, window_days: int, detection: Detection
    ) -> _LevelTest | None:
        """Every area of `level` for one kind over the window of `window_days` ending on `last`."""
        first = last - window_days + 1
        train_last = first - 1
        rows = self._rows[kind]
        members = self._level_members(level)
        n = len(members)
        if n == 0:
            return None
        area = self._area_of(kind, level)
        start = day_number(fit.first_day)
        lo, hi = np.searchsorted(rows.days, [start, train_last + 1])
        t_area, t_days, t_count = area[lo:hi], rows.days[lo:hi], rows.count[lo:hi]
        placed = t_area >= 0
        n_a = np.bincount(t_area[placed], weights=t_count[placed], minlength=n).astype(np.float64)
        level_total = float(n_a.sum())
        city_total = float(t_count.sum())
        if level_total <= 0:
            detection.skipped.setdefault(f"{kind}@{level}", f"no {kind} records placed in a {level}")
            return None
        population = self.tree.population[members].astype(np.float64)
        mean_population = float(population.mean()) if population.size else 0.0
        if mean_population > 0:
            population = population + 0.05 * mean_population
            prior = population / population.sum()
        else:
            prior = np.full(n, 1.0 / n)
        excess = float(((n_a - level_total * prior) ** 2 - n_a).sum())
        k_min, k_max = 0.5 * n, 1000.0 * max(level_total, n)
        weight = min(max(level_total**2 / excess, k_min), k_max) if excess > 0 else k_max
        share = (level_total / city_total) * (n_a + weight * prior) / (level_total + weight)

        # The dispersion of area counts summed over window-long blocks of the training days.
        blocks = len(fit.fitted) // window_days
        alpha = 0.0
        if blocks >= 2:
            block_start = train_last - blocks * window_days + 1
            inside = placed & (t_days >= block_start)
            cell = t_area[inside] * blocks + (t_days[inside] - block_start) // window_days
            cells, inverse = np.unique(cell, return_inverse=True)
            y = np.bincount(inverse, weights=t_count[inside]).astype(np.float64)
            city_blocks = fit.fitted[len(fit.fitted) - blocks * window_days :].reshape(blocks, window_days).sum(1)
            estimate, z = sparse_moment_alpha(cells // blocks, cells % blocks, y, share, city_blocks)
            alpha = estimate if estimate > 0 and z > DISPERSION_Z else 0.0

        w_lo, w_hi = np.searchsorted(rows.days, [first, last + 1])
        w_area, w_count = area[w_lo:w_hi], rows.count[w_lo:w_hi]
        inside_window = w_area >= 0
        observed = np.bincount(w_area[inside_window], weights=w_count[inside_window], minlength=n)
        observed = np.rint(observed).astype(np.int64)
        expected = share * float(fit.predicted.sum())
        if alpha > 0:
            size = 1.0 / alpha
            p = stats.nbinom.sf(observed - 1, size, size / (size + expected))
        else:
            p = stats.poisson.sf(observed - 1, expected)
        p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
        model = "negbin" if alpha > 0 else "poisson"
        detection.levels.setdefault((kind, level), LevelFit(round(alpha, 6), model, round(weight, 3), n))
        return _LevelTest(
            kind, fit, window_days, members, observed, expected, p, alpha, model, share, n_a / city_total, prior
        )

    def _surge(self, test: _LevelTest, i: int, q: float, level: str, last: int) -> Surge:
        fit = test.fit
        factors: dict[str, float | str] = {
            **fit.factors,
            "city_expected": round(float(fit.predicted.sum()), 3),
            "city_model": fit.model,
            "city_alpha": round(fit.alpha, 6),
            "city_dispersion": round(fit.dispersion, 3),
            "training_days": len(fit.fitted),
            "share": round(float(test.share[i]), 6),
            "training_share": round(float(test.training_share[i]), 6),
            "population_share": round(float(test.prior[i]), 6),
        }
        tree_index = int(test.members[i])
        return Surge(
            level=level,
            area_code=self.tree.codes[tree_index],
            area_name=self.tree.names[tree_index],
            kind=test.kind,
            first_day=from_day_number(last - test.window_days + 1),
            last_day=from_day_number(last),
            observed=int(test.observed[i]),
            expected=round(float(test.expected[i]), 4),
            p=float(test.p[i]),
            q=q,
            alpha=round(test.alpha, 6),
            model=test.model,
            factors=factors,
        )


@dataclass(frozen=True)
class _LevelTest:
    kind: str
    fit: CityFit
    window_days: int
    members: IntArray
    observed: IntArray
    expected: FloatArray
    p: FloatArray
    alpha: float
    model: str
    share: FloatArray
    training_share: FloatArray
    prior: FloatArray


def detect_surges(
    counts: CountFrame,
    tree: AreaTree,
    day: date,
    *,
    levels: Sequence[str] = DEFAULT_LEVELS,
    window_days: int | Sequence[int] = DEFAULT_WINDOWS,
    training_days: int = 365,
    fdr: float = 0.05,
    min_observed: int = 3,
    kinds: Iterable[str] | None = None,
) -> list[Surge]:
    """The surges of the `window_days` (one length or several) ending on `day` (counts must cover the
    training days before it)."""
    return (
        SurgeDetector(counts, tree)
        .detect(
            day,
            levels=levels,
            window_days=window_days,
            training_days=training_days,
            fdr=fdr,
            min_observed=min_observed,
            kinds=kinds,
        )
        .surges
    )


# -- judging detections against planted surges (back-tests) ---------------------------------------------


class PlantedLike(Protocol):
    area_code: str
    kind: str
    first_day: date
    last_day: date


Span = tuple[str, str, date, date]


def _span(item: Surge | PlantedLike | Span) -> Span:
    if isinstance(item, tuple):
        return item
    return item.area_code, item.kind, item.first_day, item.last_day


def _related(a: str, b: str, parents: dict[str, str | None] | None) -> bool:
    """The same area, or one the parent of the other (by the tree, else by the code's prefix)."""
    if a == b:
        return True
    if parents is not None:
        return parents.get(a) == b or parents.get(b) == a
    short, long = sorted((a, b), key=len)
    return long.startswith(short) and len(long) - len(short) == 3


def _matches(x: Span, y: Span, parents: dict[str, str | None] | None) -> bool:
    return x[1] == y[1] and x[2] <= y[3] and y[2] <= x[3] and _related(x[0], y[0], parents)


def surge_precision_recall(
    detected: Sequence[Surge | Span],
    planted: Sequence[PlantedLike | Span],
    *,
    tree: AreaTree | None = None,
) -> dict[str, float | int | None]:
    """Recall: planted surges found (a detection of the same kind, in that area or its parent or child,
    overlapping its days); precision: detections that overlap a planted surge so. Planted surges may be
    objects with area_code, kind, first_day, last_day or such tuples. Without a tree, parent and child are
    told by the code (a child's code extends its parent's by three digits: street, community, grid).
    Precision (recall) is None when nothing was detected (planted)."""
    parents = dict(zip(tree.codes, tree.parents, strict=True)) if tree is not None else None
    found_spans = [_span(d) for d in detected]
    planted_spans = [_span(p) for p in planted]
    by_kind: dict[str, list[Span]] = {}
    for span in found_spans:
        by_kind.setdefault(span[1], []).append(span)
    planted_by_kind: dict[str, list[Span]] = {}
    for span in planted_spans:
        planted_by_kind.setdefault(span[1], []).append(span)
    found = sum(1 for p in planted_spans if any(_matches(p, d, parents) for d in by_kind.get(p[1], [])))
    true_positive = sum(1 for d in found_spans if any(_matches(d, p, parents) for p in planted_by_kind.get(d[1], [])))
    return {
        "planted": len(planted_spans),
        "found": found,
        "recall": found / len(planted_spans) if planted_spans else None,
        "detected": len(found_spans),
        "true_positives": true_positive,
        "false_positives": len(found_spans) - true_positive,
        "precision": true_positive / len(found_spans) if found_spans else None,
    }
