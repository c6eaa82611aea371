"""Synthetic cities and daily counts for the surge detector: a division tree built in memory, seasonal
city-wide rates split over areas, Poisson or over-dispersed (gamma-mixed) counts, and planted surges."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from civicgrid.geo.models import LEVELS
from civicgrid.safety.areas import AreaTree
from civicgrid.safety.counts import CountFrame

CITY = "340300"


def build_tree(districts: int, streets: int, communities: int, grids: int = 0, seed: int = 1) -> AreaTree:
    """A city of `districts` × `streets` × `communities` (× `grids`) with random populations."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, str | None]] = [(CITY, "city", None)]
    for d in range(1, districts + 1):
        dc = f"3403{d:02d}"
        rows.append((dc, "district", CITY))
        for s in range(1, streets + 1):
            sc = f"{dc}{s:03d}"
            rows.append((sc, "street", dc))
            for c in range(1, communities + 1):
                cc = f"{sc}{c:03d}"
                rows.append((cc, "community", sc))
                for g in range(1, grids + 1):
                    rows.append((f"{cc}{g:03d}", "grid", cc))
    codes = [r[0] for r in rows]
    index = {c: i for i, c in enumerate(codes)}
    ancestors = np.full((len(rows), len(LEVELS)), -1, dtype=np.int64)
    for i, (_code, level, parent) in enumerate(rows):
        ancestors[i, LEVELS.index(level)] = i
        current = parent
        while current is not None:
            j = index[current]
            ancestors[i, LEVELS.index(rows[j][1])] = j
            current = rows[j][2]
    finest = "grid" if grids else "community"
    population = np.zeros(len(rows))
    leaves = [i for i, r in enumerate(rows) if r[1] == finest]
    population[leaves] = rng.integers(1_000, 8_000, len(leaves))
    tree = AreaTree(
        codes=codes,
        names=[f"area {c}" for c in codes],
        levels=[r[1] for r in rows],
        parents=[r[2] for r in rows],
        index=index,
        ancestors=ancestors,
        population=population,
        population_source="divisions",
    )
    tree.population = tree.rollup(np.array(leaves), population[leaves])
    return tree


@dataclass
class Planted:
    area_code: str
    kind: str
    first_day: date
    last_day: date
    extra: int


@dataclass
class Series:
    """How one kind's city-wide daily rate moves: a base, weekday factors, an annual wave, a yearly trend."""

    base: float
    weekday: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.2)
    season: float = 0.25
    trend: float = 0.05
    area_alpha: float = 0.0  # over-dispersion of the area counts (0: Poisson)


@dataclass
class Synthetic:
    tree: AreaTree
    first: date
    last: date
    kinds: dict[str, Series]
    seed: int = 7
    planted: list[Planted] = field(default_factory=list)

    def rates(self, series: Series) -> np.ndarray:
        days = np.arange((self.last - self.first).days + 1)
        start = self.first.toordinal()
        weekday = np.array([series.weekday[date.fromordinal(start + int(d)).weekday()] for d in days])
        season = 1 + series.season * np.sin(2 * np.pi * (start + days) / 365.25)
        trend = (1 + series.trend) ** (days / 365.25)
        rates: np.ndarray = series.base * weekday * season * trend
        return rates

    def frame(self, finest: str = "community") -> CountFrame:
        rng = np.random.default_rng(self.seed)
        leaves = self.tree.at_level(finest)
        weights = self.tree.population[leaves] * rng.gamma(4.0, 0.25, len(leaves))
        share = weights / weights.sum()
        n_days = (self.last - self.first).days + 1
        divisions, days, kinds, counts = [], [], [], []
        for kind, series in self.kinds.items():
            mu = np.outer(self.rates(series), share)  # days × areas
            if series.area_alpha > 0:
                shape = 1 / series.area_alpha
                mu = mu * rng.gamma(shape, 1 / shape, mu.shape)
            y = rng.poisson(mu)
            for plant in self.planted:
                if plant.kind != kind:
                    continue
                area = int(np.flatnonzero(np.array(self.tree.codes)[leaves] == plant.area_code)[0])
                for d in range((plant.first_day - self.first).days, (plant.last_day - self.first).days + 1):
                    y[d, area] += plant.extra
            d_idx, a_idx = np.nonzero(y)
            divisions.append(np.array(self.tree.codes, dtype=object)[leaves][a_idx])
            days.append(np.datetime64(self.first, "D") + d_idx.astype("timedelta64[D]"))
            kinds.append(np.full(len(d_idx), kind, dtype=object))
            counts.append(y[d_idx, a_idx].astype(np.int64))
        del n_days
        count = np.concatenate(counts)
        return CountFrame(
            np.concatenate(divisions),
            np.concatenate(days),
            np.concatenate(kinds),
            count,
            np.zeros(len(count), dtype=np.int64),
        )


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
