"""Nested partitions of a region out of one fine Voronoi tessellation (used by the demo city).

The region is cut into many small "fine cells" (Voronoi cells of points sampled with a density that is
high where the city is dense). Every division of every level is a set of fine cells, chosen inside its
parent's set by a capacity-constrained power diagram (seeds move to their cell's centroid, weights
grow or shrink until each child's area meets its target). A child's boundary is the union of its cells
clipped to the outline, so children tile their parent exactly and nest by construction. Stray
components of a child are handed to the sibling they touch most, so each division is one polygon.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPoint
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.geometry import from_parts

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass
class FineCells:
    """Voronoi cells of `points`; `xy` are the seed points in a metric-like frame (lon·cos φ, lat)."""

    points: FloatArray
    xy: FloatArray
    cells: npt.NDArray[np.object_]  # unclipped Voronoi cells, exact shared edges
    clipped_area: FloatArray
    on_edge: npt.NDArray[np.bool_]  # cell not wholly inside the outline
    neighbours: list[list[int]]
    outline: BaseGeometry
    factor: float


def sample_weighted(
    outline: BaseGeometry, n: int, density: Callable[[FloatArray, FloatArray], FloatArray], rng: np.random.Generator
) -> FloatArray:
    """`n` points inside `outline` distributed with probability proportional to `density`."""
    shapely.prepare(outline)
    min_x, min_y, max_x, max_y = outline.bounds
    gx, gy = np.meshgrid(np.linspace(min_x, max_x, 300), np.linspace(min_y, max_y, 300))
    peak = float(np.max(density(gx.ravel(), gy.ravel()))) * 1.05
    chunks: list[FloatArray] = []
    have = 0
    while have < n:
        m = max(4 * (n - have), 1024)
        xs = rng.uniform(min_x, max_x, m)
        ys = rng.uniform(min_y, max_y, m)
        keep = shapely.contains_xy(outline, xs, ys) & (rng.uniform(0, peak, m) < density(xs, ys))
        chunk = np.column_stack([xs[keep], ys[keep]])
        chunks.append(chunk)
        have += len(chunk)
    return np.concatenate(chunks)[:n]


def fine_cells(outline: BaseGeometry, points: FloatArray) -> FineCells:
    factor = math.cos(math.radians(outline.centroid.y))
    min_x, min_y, max_x, max_y = outline.bounds
    margin = max(max_x - min_x, max_y - min_y)
    envelope = shapely.box(min_x - margin, min_y - margin, max_x + margin, max_y + margin)
    # Voronoi in the metric frame, back to degrees: shared vertices transform identically.
    scale = np.array([factor, 1.0])
    scaled_env = shapely.transform(envelope, lambda c: c * scale)
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(points * scale), extend_to=scaled_env, ordered=True))
    cells = shapely.transform(cells, lambda c: c / scale)
    shapely.prepare(outline)
    inside = shapely.contains_properly(outline, cells)
    clipped_area = shapely.area(cells)
    edge_idx = np.flatnonzero(~inside)
    clipped = shapely.intersection(cells[edge_idx], outline)
    clipped_area[edge_idx] = shapely.area(clipped)
    # Adjacency from the Delaunay triangulation (dual of the Voronoi diagram).
    position = {(float(x), float(y)): i for i, (x, y) in enumerate(points * scale)}
    edges = shapely.get_parts(shapely.delaunay_triangles(MultiPoint(points * scale), only_edges=True))
    coords = shapely.get_coordinates(edges).reshape(-1, 2, 2)
    pairs = [
        (position[(float(a[0]), float(a[1]))], position[(float(b[0]), float(b[1]))])
        for a, b in coords
        if (float(a[0]), float(a[1])) in position and (float(b[0]), float(b[1])) in position
    ]
    pair_array = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    # Two cells on the outline are neighbours only if their clipped parts still share an edge.
    clipped_full = np.array(cells, dtype=object)
    clipped_full[edge_idx] = clipped
    both_edge = ~inside[pair_array[:, 0]] & ~inside[pair_array[:, 1]]
    if both_edge.any():
        check = pair_array[both_edge]
        shared = shapely.length(
            shapely.intersection(shapely.boundary(clipped_full[check[:, 0]]), clipped_full[check[:, 1]])
        )
        ok = np.ones(len(pair_array), dtype=bool)
        ok[np.flatnonzero(both_edge)] = shared > 0
        pair_array = pair_array[ok]
    neighbours: list[list[int]] = [[] for _ in range(len(points))]
    for a, b in pair_array.tolist():
        neighbours[a].append(b)
        neighbours[b].append(a)
    return FineCells(points, points * scale, cells, clipped_area, ~inside, neighbours, outline, factor)


def _power_assign(
    xy: FloatArray,
    area: FloatArray,
    seeds: FloatArray,
    targets: FloatArray,
    iterations: int,
    fixed: npt.NDArray[np.bool_] | None = None,
) -> IntArray:
    """Capacity-constrained power diagram of the cells: labels such that areas approach targets."""
    weights = np.zeros(len(seeds))
    seeds = seeds.copy()
    labels: IntArray = np.zeros(len(xy), dtype=np.int64)
    for _ in range(iterations):
        d2 = ((xy[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2) - weights[None, :]
        labels = d2.argmin(axis=1).astype(np.int64)
        got = np.bincount(labels, weights=area, minlength=len(seeds))
        weights += 0.6 * (targets - got) / math.pi
        counts = np.bincount(labels, minlength=len(seeds))
        sx = np.bincount(labels, weights=xy[:, 0] * area, minlength=len(seeds))
        sy = np.bincount(labels, weights=xy[:, 1] * area, minlength=len(seeds))
        moved = np.column_stack([sx, sy]) / np.maximum(got, 1e-300)[:, None]
        movable = counts > 0 if fixed is None else (counts > 0) & ~fixed
        seeds = np.where(movable[:, None], 0.5 * seeds + 0.5 * moved, seeds)
    return labels


def _components(members: IntArray, labels: dict[int, int], neighbours: list[list[int]]) -> list[list[int]]:
    """Connected groups of `members` whose cells share the same label."""
    seen: set[int] = set()
    groups: list[list[int]] = []
    for start in members.tolist():
        if start in seen:
            continue
        label = labels[start]
        stack, group = [start], []
        seen.add(start)
        while stack:
            cell = stack.pop()
            group.append(cell)
            for other in neighbours[cell]:
                if other not in seen and labels.get(other) == label:
                    seen.add(other)
                    stack.append(other)
        groups.append(group)
    return groups


def split_cells(
    fine: FineCells,
    members: IntArray,
    seeds: FloatArray,
    targets: FloatArray,
    *,
    iterations: int = 40,
    fixed: npt.NDArray[np.bool_] | None = None,
) -> list[IntArray]:
    """Split the parent's cells `members` into len(seeds) connected, non-empty groups sized by `targets`.

    Seeds flagged in `fixed` stay where they are (anchored seats); the others drift to their centroid.
    """
    k = len(seeds)
    if k == 1:
        return [members]
    if len(members) < k:
        raise ValueError(f"{len(members)} fine cells cannot hold {k} divisions; use more fine cells")
    xy = fine.xy[members]
    area = fine.clipped_area[members]
    targets = targets / targets.sum() * area.sum()
    labels = _power_assign(xy, area, seeds, targets, iterations, fixed)
    # Every child gets at least one cell: the free cell nearest to its seed, taken from a larger sibling.
    for child in range(k):
        if not np.any(labels == child):
            counts = np.bincount(labels, minlength=k)
            order = np.argsort(((xy - seeds[child]) ** 2).sum(axis=1))
            donor_cell = next(int(i) for i in order if counts[labels[i]] > 1)
            labels[donor_cell] = child
    label_of = dict(zip(members.tolist(), labels.tolist(), strict=True))
    for _ in range(10):
        changed = False
        for child in range(k):
            mine = np.array([c for c, lab in label_of.items() if lab == child], dtype=np.int64)
            groups = _components(mine, label_of, fine.neighbours)
            if len(groups) <= 1:
                continue
            groups.sort(key=lambda g: -fine.clipped_area[g].sum())
            for group in groups[1:]:
                touching: dict[int, int] = {}
                for cell in group:
                    for other in fine.neighbours[cell]:
                        other_label = label_of.get(other)
                        if other_label is not None and other_label != child:
                            touching[other_label] = touching.get(other_label, 0) + 1
                if touching:
                    target = max(sorted(touching), key=lambda lab: touching[lab])
                    for cell in group:
                        label_of[cell] = target
                    changed = True
        if not changed:
            break
    final = np.array([label_of[c] for c in members.tolist()], dtype=np.int64)
    return [members[final == child] for child in range(k)]


def ring_seeds(
    fine: FineCells,
    members: IntArray,
    centre_xy: FloatArray,
    order: list[int],
    targets: FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    """Initial seeds: children in `order` (most urban first) on rings of growing distance from the centre.

    The child ranked i gets a random cell among those whose cumulative area, counted outward from the
    centre, falls within its share of the targets, so urban children start near the centre.
    """
    xy = fine.xy[members]
    area = fine.clipped_area[members]
    by_distance = np.argsort(((xy - centre_xy) ** 2).sum(axis=1), kind="stable")
    cumulative = np.cumsum(area[by_distance]) / area.sum()
    share = targets / targets.sum()
    seeds = np.empty((len(order), 2))
    start = 0.0
    used: set[int] = set()
    for child in order:
        end = start + float(share[child])
        lo = int(np.searchsorted(cumulative, start))
        hi = max(lo + 1, int(np.searchsorted(cumulative, end)))
        choices = [int(i) for i in by_distance[lo:hi] if int(i) not in used] or [
            int(i) for i in by_distance if int(i) not in used
        ]
        pick = choices[int(rng.integers(len(choices)))]
        used.add(pick)
        seeds[child] = xy[pick]
        start = end
    return seeds


def union_cells(fine: FineCells, members: IntArray) -> BaseGeometry:
    """The boundary of a set of cells: their exact union, clipped to the outline where needed."""
    merged = shapely.coverage_union_all(fine.cells[members])
    if fine.on_edge[members].any():
        merged = shapely.intersection(merged, fine.outline)
    return from_parts([p for p in shapely.get_parts(merged) if p.geom_type == "Polygon" and p.area > 0])
