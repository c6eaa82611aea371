"""Small vectorised helpers of the generator: weighted picks, categorical draws per row, allocation of
units among the items of groups, ranks within groups, ordinals as dates, random points in a polygon.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from civicgrid.demo.population.model import Arr, IntArr


def _weights(pairs: Sequence[tuple[Any, float]]) -> tuple[list[Any], Arr]:
    labels = [label for label, _ in pairs]
    weights = np.array([w for _, w in pairs], dtype=float)
    return labels, weights / weights.sum()


def _pick(rng: np.random.Generator, pairs: Sequence[tuple[Any, float]], size: int) -> Arr:
    """Indices into `pairs`, drawn by weight."""
    _, p = _weights(pairs)
    return rng.choice(len(p), size=size, p=p)


def _categorical_rows(rng: np.random.Generator, table: Arr, rows: IntArr) -> IntArr:
    """For each item, a category drawn from the probabilities of its row of `table` (rows sum to 1)."""
    cumulative = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    cumulative[:, -1] = 1.0 + 1e-9
    k = table.shape[1]
    flat = (cumulative + np.arange(table.shape[0])[:, None] * 2.0).ravel()
    found = np.searchsorted(flat, rows * 2.0 + rng.random(len(rows)), side="right")
    result: IntArr = np.minimum(found - rows * k, k - 1).astype(np.int64)
    return result


def _allocate(rng: np.random.Generator, groups: IntArr, weights: Arr, extra: IntArr) -> IntArr:
    """Distribute extra[g] units among the items of each group g (items sorted by group) by weight."""
    counts = np.zeros(len(groups), dtype=np.int64)
    total = int(extra.sum())
    if total == 0:
        return counts
    cw = np.cumsum(weights)
    n_groups = len(extra)
    first = np.searchsorted(groups, np.arange(n_groups), side="left")
    last = np.searchsorted(groups, np.arange(n_groups), side="right")
    lo = np.where(first > 0, cw[np.maximum(first - 1, 0)], 0.0)
    hi = cw[np.maximum(last - 1, 0)]
    which = np.repeat(np.arange(n_groups), extra)
    u = lo[which] + rng.random(total) * (hi - lo)[which]
    items = np.searchsorted(cw, u, side="right")
    items = np.clip(items, first[which], last[which] - 1)
    np.add.at(counts, items, 1)
    return counts


def _rank_within(keys: IntArr, rng: np.random.Generator) -> IntArr:
    """0, 1, 2, … within each group of equal keys, in a random order inside the group."""
    order = np.lexsort((rng.random(len(keys)), keys))
    sorted_keys = keys[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    start_pos = np.maximum.accumulate(np.where(starts, np.arange(len(keys)), 0))
    ranks = np.empty(len(keys), dtype=np.int64)
    ranks[order] = np.arange(len(keys)) - start_pos
    return ranks


def _dates(ordinals: IntArr) -> Arr:
    """Proleptic ordinals → 'YYYY-MM-DD' strings."""
    epoch = date(1970, 1, 1).toordinal()
    return np.datetime_as_string((ordinals - epoch).astype("datetime64[D]"), unit="D")


def points_in_polygon(geometry: BaseGeometry, n: int, rng: np.random.Generator) -> tuple[Arr, Arr]:
    """n points inside a polygon: rejection sampling in its bounding box with `shapely.contains_xy`."""
    xs: list[Arr] = []
    ys: list[Arr] = []
    have = 0
    min_x, min_y, max_x, max_y = geometry.bounds
    shapely.prepare(geometry)
    ratio = max(geometry.area / max((max_x - min_x) * (max_y - min_y), 1e-18), 0.05)
    attempts = 0
    while have < n and attempts < 50:
        m = int((n - have) / ratio * 1.2) + 8
        x = rng.uniform(min_x, max_x, m)
        y = rng.uniform(min_y, max_y, m)
        inside = shapely.contains_xy(geometry, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
        attempts += 1
    if have < n:  # pragma: no cover - slivers: fall back to a point on the surface
        point = geometry.representative_point()
        xs.append(np.full(n - have, point.x))
        ys.append(np.full(n - have, point.y))
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]
