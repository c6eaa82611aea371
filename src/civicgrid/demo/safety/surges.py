"""The planted surges of the demo calls: communities where one class of calls runs far above its usual rate
for a few days, so that surge warnings have something to find and back-tests something to score.

The list depends only on the community codes, their urban flags, the seed and the span of days, so it is
the same at every scale (the communities of the demo city do not depend on the scale).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from civicgrid.demo.safety import mix


@dataclass(frozen=True)
class PlantedSurge:
    """`kind` calls (`inc:02`) in community `area_code` at `factor` × the usual rate, `first_day`–`last_day`
    (local days, inclusive)."""

    area_code: str
    kind: str
    first_day: date
    last_day: date
    factor: float

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def klass(self) -> str:
        return self.kind.removeprefix("inc:")


def planted_surges(
    community_codes: Sequence[str], urban: Sequence[bool], seed: int, first_day: date, last_day: date
) -> list[PlantedSurge]:
    """`mix.SURGES` surges between `first_day` and `last_day`, ordered by their first day.

    `mix.RECENT_SURGES` of them lie in the last `mix.RECENT_DAYS` days — the last two ending yesterday and
    three days before — so that the live warning list has some; the others start at least 90 days after
    `first_day` (a baseline to compare with) and end before the recent window. Each surge is in a different
    community, three in four urban. `community_codes` and `urban` are parallel (one entry per grid is fine).
    """
    if last_day - first_day < timedelta(days=mix.RECENT_DAYS + 120):
        raise ValueError("planted surges need a span of at least six months")
    flags: dict[str, bool] = {}
    for code, is_urban in zip(community_codes, urban, strict=True):
        flags[code] = flags.get(code, False) or bool(is_urban)
    town = sorted(code for code, is_urban in flags.items() if is_urban)
    country = sorted(code for code, is_urban in flags.items() if not is_urban)
    rng = np.random.default_rng([seed, 40])
    n_town = min(round(mix.SURGES * mix.SURGE_URBAN_SHARE), len(town))
    n_country = min(mix.SURGES - n_town, len(country))
    areas = [town[i] for i in rng.choice(len(town), n_town, replace=False).tolist()] + [
        country[i] for i in rng.choice(len(country), n_country, replace=False).tolist()
    ]
    order = rng.permutation(len(areas)).tolist()
    areas = [areas[i] for i in order]
    classes = list(mix.SURGE_CLASSES)
    weights = np.array([mix.SURGE_CLASSES[c] for c in classes])
    kinds = rng.choice(len(classes), len(areas), p=weights / weights.sum()).tolist()
    low, high = mix.SURGE_DAYS
    lengths = rng.integers(low, high + 1, len(areas)).tolist()
    factors = np.round(rng.uniform(*mix.SURGE_FACTORS, len(areas)), 1).tolist()
    span = (last_day - first_day).days
    recent = min(mix.RECENT_SURGES, len(areas))
    ends: list[int] = []  # days before last_day
    for number in range(len(areas)):
        length = lengths[number]
        if number < 2 and number < recent:
            end = 1 + 2 * number  # yesterday, three days ago
        elif number < recent:
            end = int(rng.integers(5, mix.RECENT_DAYS - length + 1))
        else:
            end = int(rng.integers(mix.RECENT_DAYS + 1, span - 90 - length + 2))
        ends.append(end)
    surges = [
        PlantedSurge(
            area_code=areas[i],
            kind=f"inc:{classes[kinds[i]]}",
            first_day=last_day - timedelta(days=ends[i] + lengths[i] - 1),
            last_day=last_day - timedelta(days=ends[i]),
            factor=float(factors[i]),
        )
        for i in range(len(areas))
    ]
    return sorted(surges, key=lambda s: (s.first_day, s.area_code))
