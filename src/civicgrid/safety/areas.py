"""The division tree as arrays, for summing daily counts of the finest divisions up to every ancestor,
with each area's resident population (the registry's active registered and floating residents; where a
city has no registry data yet, the population recorded on the divisions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.geo.models import LEVELS, Division
from civicgrid.registry.people import resident_population_by_grid


@dataclass
class AreaTree:
    codes: list[str]
    names: list[str]
    levels: list[str]
    parents: list[str | None]
    index: dict[str, int]
    # ancestors[i, k]: the index of division i's ancestor at level k (LEVELS order), itself included; -1 none.
    ancestors: np.ndarray
    population: np.ndarray  # float, per division
    population_source: str  # "registry" or "divisions"

    def __len__(self) -> int:
        return len(self.codes)

    def at_level(self, level: str) -> np.ndarray:
        """Indices of the divisions of one level."""
        return np.flatnonzero(np.array(self.levels, dtype=object) == level)

    def children(self, code: str) -> list[str]:
        return [c for c, p in zip(self.codes, self.parents, strict=True) if p == code]

    def rollup(self, finest: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Sum `values` (per record, placed in division indices `finest`) into every division and its
        ancestors; returns one total per division (also for the last axis of 2-D values)."""
        totals = np.zeros((len(self), *values.shape[1:]), dtype=float)
        for k in range(len(LEVELS)):
            target = self.ancestors[finest, k]
            ok = target >= 0
            np.add.at(totals, target[ok], values[ok])
        return totals


def load_tree(session: Session) -> AreaTree:
    rows = session.execute(
        select(
            Division.code,
            Division.name,
            Division.level,
            Division.parent_code,
            Division.city_code,
            Division.district_code,
            Division.street_code,
            Division.community_code,
            Division.grid_code,
            Division.population,
        ).order_by(Division.code)
    ).all()
    codes = [r[0] for r in rows]
    index = {code: i for i, code in enumerate(codes)}
    ancestors = np.full((len(rows), len(LEVELS)), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        for k, code in enumerate(row[4:9]):
            if code is not None and code in index:
                ancestors[i, k] = index[code]
    registry = resident_population_by_grid(session)
    tree = AreaTree(
        codes=codes,
        names=[r[1] for r in rows],
        levels=[r[2] for r in rows],
        parents=[r[3] for r in rows],
        index=index,
        ancestors=ancestors,
        population=np.zeros(len(rows)),
        population_source="registry" if sum(registry.values()) > 0 else "divisions",
    )
    grid_population = np.zeros(len(rows))
    for i, row in enumerate(rows):
        if row[2] == "grid":
            grid_population[i] = registry.get(row[0], 0) if tree.population_source == "registry" else (row[9] or 0)
    grids = tree.at_level("grid")
    if len(grids):
        tree.population = tree.rollup(grids, grid_population[grids])
    else:  # a map without grids: the divisions' own figures
        tree.population = np.array([float(r[9] or 0) for r in rows])
    return tree
