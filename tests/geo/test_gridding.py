"""make-grids: partitions tile their polygon; covers; household splits (property-based)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from civicgrid.core.errors import InvalidInput
from civicgrid.geo.gridding import (
    grids_for_households,
    h3_cover,
    partition_polygon,
    sample_points,
    split_total,
    square_cover,
)
from civicgrid.geo.lookup import GridIndex

U_SHAPE = Polygon([(117.0, 32.0), (117.3, 32.0), (117.3, 32.3), (117.2, 32.3), (117.2, 32.1), (117.1, 32.1),
                   (117.1, 32.3), (117.0, 32.3)])  # fmt: skip


def _star(n: int, seed: int) -> Polygon:
    """A random star-shaped (often concave) polygon around (117.3, 32.9)."""
    rng = np.random.default_rng(seed)
    angles = (np.arange(n) + rng.uniform(0.1, 0.9, n)) * (2 * np.pi / n)
    radii = rng.uniform(0.01, 0.05, n)
    return Polygon(np.column_stack([117.3 + radii * np.cos(angles), 32.9 + radii * np.sin(angles)]))


def _check_tiling(polygon: Polygon, parts: list[shapely.Geometry], k: int) -> None:
    assert len(parts) == k
    assert all(p.is_valid and not p.is_empty for p in parts)
    total = sum(p.area for p in parts)
    assert total == pytest.approx(polygon.area, rel=1e-9)
    assert shapely.union_all(parts).area == pytest.approx(polygon.area, rel=1e-9)
    overlap = sum(a.intersection(b).area for i, a in enumerate(parts) for b in parts[i + 1 :])
    assert overlap <= 1e-9 * polygon.area
    assert all(polygon.buffer(1e-9).covers(p) for p in parts)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.integers(1, 12), vertices=st.integers(5, 14), seed=st.integers(0, 10_000))
def test_partition_tiles_the_polygon_with_one_piece_per_grid(k: int, vertices: int, seed: int) -> None:
    polygon = _star(vertices, seed)
    parts = partition_polygon(polygon, k, rng=np.random.default_rng(seed))
    _check_tiling(polygon, parts, k)
    assert all(p.geom_type == "Polygon" for p in parts), "every grid of a one-part polygon is one polygon"


@settings(max_examples=20, deadline=None)
@given(k=st.integers(2, 10), seed=st.integers(0, 10_000), n=st.integers(1, 200))
def test_every_point_of_the_community_lies_in_exactly_one_grid(k: int, seed: int, n: int) -> None:
    parts = partition_polygon(U_SHAPE, k, rng=np.random.default_rng(seed))
    points = sample_points(U_SHAPE, n, np.random.default_rng(seed + 1))
    inside = np.array([shapely.contains_xy(p, points[:, 0], points[:, 1]) for p in parts])
    covering = np.array([shapely.intersects_xy(p, points[:, 0], points[:, 1]) for p in parts])
    assert (inside.sum(axis=0) <= 1).all()
    assert (covering.sum(axis=0) >= 1).all()
    index = GridIndex("t", [f"g{i}" for i in range(k)], [""] * k, [{}] * k, parts, {}, [U_SHAPE])
    located = index.locate_many(points[:, 0], points[:, 1])
    assert (located >= 0).all()
    assert all(covering[located[i], i] for i in range(len(points)))


def test_concave_polygon_pieces_are_merged_into_neighbours() -> None:
    for seed in range(20):
        parts = partition_polygon(U_SHAPE, 5, rng=np.random.default_rng(seed))
        _check_tiling(U_SHAPE, parts, 5)
        assert all(p.geom_type == "Polygon" for p in parts)


def test_invalid_polygons_are_refused() -> None:
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(InvalidInput, match="Self-intersection"):
        partition_polygon(bowtie, 3)


def test_partition_is_deterministic_for_a_seed() -> None:
    a = partition_polygon(U_SHAPE, 6, rng=np.random.default_rng(7))
    b = partition_polygon(U_SHAPE, 6, rng=np.random.default_rng(7))
    assert [p.wkb for p in a] == [p.wkb for p in b]


@given(total=st.integers(0, 10**7), weights=st.lists(st.floats(0, 1000), min_size=1, max_size=30))
def test_split_total_sums_exactly(total: int, weights: list[float]) -> None:
    parts = split_total(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    assert min(parts) >= 0


def test_grids_per_household_count() -> None:
    assert [grids_for_households(h) for h in (0, 100, 449, 451, 3000)] == [1, 1, 1, 2, 10]


def test_square_cover_tiles_the_boundary() -> None:
    cells = square_cover(U_SHAPE, 2000)
    assert len({c.key for c in cells}) == len(cells)
    assert sum(c.geometry.area for c in cells) == pytest.approx(U_SHAPE.area, rel=1e-9)
    full = [c for c in cells if c.geometry.geom_type == "Polygon" and len(c.geometry.exterior.coords) == 5]
    side = full[0].geometry.bounds[3] - full[0].geometry.bounds[1]
    assert side * 111_320 == pytest.approx(2000, rel=1e-6)


def test_h3_cover_tiles_the_boundary() -> None:
    area = box(117.3, 32.9, 117.35, 32.95)
    cells = h3_cover(area, 8)
    assert all(c.key.startswith("88") for c in cells)
    assert sum(c.geometry.area for c in cells) == pytest.approx(area.area, rel=1e-6)
