"""Making grids: partitions of a polygon into k compact grids, and square or H3 covers of a boundary.

`partition_polygon` samples points uniformly inside the polygon, places k seeds by k-means on them
(in a local metric frame, so grids are not stretched north–south), takes the Voronoi cells of the seeds
and clips them to the polygon. Clipping a convex cell to a concave polygon can leave a cell in several
pieces; every piece that does not hold the cell's seed is merged into the neighbouring grid with which
it shares the longest edge, so each grid is one polygon (for a one-part input). The grids tile the
polygon: their union is the polygon and they overlap only along edges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from civicgrid.core.errors import InvalidInput
from civicgrid.geo.geometry import from_parts

FloatArray = npt.NDArray[np.float64]
METRES_PER_DEGREE = 111_320.0
MAX_COVER_CELLS = 250_000


def _frame(polygon: BaseGeometry) -> float:
    """The factor that turns degrees of longitude into degrees of latitude near the polygon."""
    return math.cos(math.radians(polygon.centroid.y))


def sample_points(polygon: BaseGeometry, n: int, rng: np.random.Generator) -> FloatArray:
    """`n` points uniformly distributed inside `polygon` (rejection sampling in its bounding box)."""
    shapely.prepare(polygon)
    min_x, min_y, max_x, max_y = polygon.bounds
    fill = max(polygon.area / max((max_x - min_x) * (max_y - min_y), 1e-300), 1e-3)
    chunks: list[FloatArray] = []
    have = 0
    for _ in range(1000):
        m = int((n - have) / fill * 1.3) + 16
        xs = rng.uniform(min_x, max_x, m)
        ys = rng.uniform(min_y, max_y, m)
        inside = shapely.contains_xy(polygon, xs, ys)
        chunk = np.column_stack([xs[inside], ys[inside]])
        chunks.append(chunk)
        have += len(chunk)
        if have >= n:
            break
    points = np.concatenate(chunks)[:n] if chunks else np.empty((0, 2))
    if len(points) < n:
        raise InvalidInput("could not sample points inside the polygon (is it degenerate?)")
    return points


def kmeans(points: FloatArray, k: int, rng: np.random.Generator, iterations: int = 30) -> FloatArray:
    """k-means++ seeding and Lloyd iterations; returns k centres snapped to the nearest sample point."""
    n = len(points)
    centres = np.empty((k, 2))
    centres[0] = points[rng.integers(n)]
    nearest = ((points - centres[0]) ** 2).sum(axis=1)
    for i in range(1, k):
        total = nearest.sum()
        pick = rng.integers(n) if total <= 0 else rng.choice(n, p=nearest / total)
        centres[i] = points[pick]
        nearest = np.minimum(nearest, ((points - centres[i]) ** 2).sum(axis=1))
    for _ in range(iterations):
        distance = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        label = distance.argmin(axis=1)
        counts = np.bincount(label, minlength=k)
        sums = np.zeros((k, 2))
        np.add.at(sums, label, points)
        moved = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centres)
        if np.allclose(moved, centres):
            break
        centres = moved
    # Snap to samples (inside the polygon), keeping the seeds distinct.
    distance = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    snapped = np.empty_like(centres)
    used: set[int] = set()
    for i in range(k):
        for candidate in np.argsort(distance[:, i]):
            if int(candidate) not in used:
                used.add(int(candidate))
                snapped[i] = points[candidate]
                break
    return snapped


def _shared_length(a: BaseGeometry, b: BaseGeometry) -> float:
    tolerance = 1e-9 * max(1.0, math.sqrt(max(a.area, b.area)))
    return float(shapely.length(shapely.intersection(a.boundary, b.buffer(tolerance, quad_segs=1))))


def merge_pieces(polygons: list[BaseGeometry], pieces: list[BaseGeometry]) -> list[BaseGeometry]:
    """Merge each stray piece into the polygon sharing the longest edge with it (nearest if none)."""
    result = list(polygons)
    for piece in sorted(pieces, key=lambda p: -p.area):
        tree = shapely.STRtree(result)
        candidates = tree.query(piece, predicate="intersects")
        best, best_length = -1, 0.0
        for i in sorted(int(c) for c in candidates):
            length = _shared_length(piece, result[i])
            if length > best_length:
                best, best_length = i, length
        if best < 0:
            best = int(tree.nearest(piece))
        merged = shapely.union(result[best], piece)
        parts = _as_polygonal(merged)
        result[best] = from_parts(parts)
    return result


def _as_polygonal(geometry: BaseGeometry) -> list[BaseGeometry]:
    return [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon" and not p.is_empty and p.area > 0]


def voronoi_partition(polygon: BaseGeometry, seeds: FloatArray) -> list[BaseGeometry]:
    """The Voronoi cells of `seeds` (in a local metric frame) clipped to `polygon`, one region per seed.

    Pieces of a clipped cell that do not hold its seed are merged into neighbours, so every region is one
    polygon when `polygon` is one polygon and every seed lies inside it.
    """
    if len(seeds) == 1:
        return [polygon]
    factor = _frame(polygon)
    scaled = seeds * np.array([factor, 1.0])
    min_x, min_y, max_x, max_y = polygon.bounds
    margin = max(max_x - min_x, max_y - min_y) + 1.0
    envelope = shapely.box(min_x * factor - margin, min_y - margin, max_x * factor + margin, max_y + margin)
    cells = shapely.get_parts(shapely.voronoi_polygons(MultiPoint(scaled), extend_to=envelope, ordered=True))
    cells = shapely.transform(cells, lambda xy: xy / np.array([factor, 1.0]))
    clipped = shapely.intersection(cells, polygon)
    mains: list[BaseGeometry] = []
    strays: list[BaseGeometry] = []
    for seed, piece in zip(seeds, clipped, strict=True):
        parts = _as_polygonal(piece)
        if not parts:
            mains.append(Polygon())
            continue
        holder = next((p for p in parts if p.intersects(Point(seed))), max(parts, key=lambda p: p.area))
        mains.append(holder)
        strays.extend(p for p in parts if p is not holder)
    empty = [i for i, m in enumerate(mains) if m.is_empty]
    if empty:
        raise InvalidInput(f"seeds {empty} lie outside the polygon")
    return merge_pieces(mains, strays)


def partition_polygon(
    polygon: BaseGeometry, k: int, *, rng: np.random.Generator | None = None, samples_per_grid: int = 60
) -> list[BaseGeometry]:
    """Split `polygon` into `k` compact regions of about equal area that tile it."""
    if k < 1:
        raise InvalidInput(f"the number of grids must be at least 1, got {k}")
    if polygon.is_empty or polygon.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput("only a Polygon or MultiPolygon can be divided into grids")
    if not polygon.is_valid:
        raise InvalidInput(f"the polygon is invalid: {shapely.is_valid_reason(polygon)}; repair it first")
    if k == 1:
        return [polygon]
    rng = rng or np.random.default_rng(0)
    factor = _frame(polygon)
    samples = sample_points(polygon, max(400, samples_per_grid * k), rng)
    scaled = samples * np.array([factor, 1.0])
    seeds = kmeans(scaled, k, rng) / np.array([factor, 1.0])
    return voronoi_partition(polygon, seeds)


def grids_for_households(households: int, per_grid: int = 300) -> int:
    """How many grids a community of `households` gets (at least one)."""
    return max(1, round(households / per_grid))


def split_total(total: int, weights: Sequence[float] | FloatArray) -> list[int]:
    """Split an integer total in proportion to weights (largest remainder; the parts sum to `total`)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones_like(w)
    exact = total * w / w.sum()
    parts = np.floor(exact).astype(np.int64)
    remainder = total - int(parts.sum())
    if remainder > 0:
        order = np.argsort(-(exact - parts), kind="stable")
        parts[order[:remainder]] += 1
    return [int(p) for p in parts]


# --- covers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    key: str
    geometry: BaseGeometry


def square_cover(boundary: BaseGeometry, size_m: float) -> list[Cell]:
    """Square cells of `size_m` metres (row-major from the south-west), clipped to `boundary`."""
    if size_m <= 0:
        raise InvalidInput("the cell size must be positive")
    min_x, min_y, max_x, max_y = boundary.bounds
    dy = size_m / METRES_PER_DEGREE
    dx = dy / _frame(boundary)
    cols = max(1, math.ceil((max_x - min_x) / dx))
    rows = max(1, math.ceil((max_y - min_y) / dy))
    if rows * cols > MAX_COVER_CELLS:
        raise InvalidInput(
            f"{rows * cols} cells of {size_m} m would cover the boundary; use a larger size (at most {MAX_COVER_CELLS})"
        )
    r, c = np.divmod(np.arange(rows * cols), cols)
    boxes = shapely.box(min_x + c * dx, min_y + r * dy, min_x + (c + 1) * dx, min_y + (r + 1) * dy)
    shapely.prepare(boundary)
    touching = shapely.intersects(boundary, boxes)
    inside = shapely.contains_properly(boundary, boxes)
    clipped = boxes.copy()
    edge = touching & ~inside
    clipped[edge] = shapely.intersection(boxes[edge], boundary)
    cells: list[Cell] = []
    for i in np.flatnonzero(touching):
        polygonal = _polygonal_only(clipped[i])
        if polygonal is not None:
            cells.append(Cell(f"r{int(r[i])}c{int(c[i])}", polygonal))
    return cells


def _polygonal_only(geometry: Any) -> BaseGeometry | None:
    if geometry is None or geometry.is_empty:
        return None
    parts = _as_polygonal(geometry)
    if not parts:
        return None
    return from_parts(parts)


def h3_cover(boundary: BaseGeometry, resolution: int) -> list[Cell]:
    """The H3 cells (v4 API) of `resolution` overlapping `boundary`, clipped to it, ordered by cell id."""
    if not 0 <= resolution <= 15:
        raise InvalidInput("an H3 resolution is 0..15")
    shape = h3.geo_to_h3shape(boundary)
    ids = sorted(h3.h3shape_to_cells_experimental(shape, resolution, contain="overlap"))
    if len(ids) > MAX_COVER_CELLS:
        raise InvalidInput(f"{len(ids)} H3 cells would cover the boundary; use a coarser resolution")
    hexagons = np.array([Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(i)]) for i in ids], dtype=object)
    clipped = shapely.intersection(hexagons, boundary) if len(hexagons) else hexagons
    cells: list[Cell] = []
    for cell_id, geometry in zip(ids, clipped, strict=True):
        polygonal = _polygonal_only(geometry)
        if polygonal is not None:
            cells.append(Cell(str(cell_id), polygonal))
    return cells
