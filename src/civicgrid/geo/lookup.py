"""Point → grid lookup from an in-memory index of the grid polygons.

The index is an STRtree over the grids' polygons (prepared); a batch is answered by one bounding-box
query for all points followed by one vectorised `intersects_xy` over the candidate pairs, so a million
points take about a second. A point on the shared edge of two grids goes to the grid listed first (by
code). Points in no grid are reported as such (index −1), never snapped to the nearest grid.

The index is built on first use per database and geo revision; an import bumps the revision, and the
committing process drops its copy at once (`geo.service.invalidate_caches`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Level
from civicgrid.core.errors import InvalidInput, NotFound
from civicgrid.geo import service
from civicgrid.geo.geometry import from_wkb
from civicgrid.geo.models import Division

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Located:
    grid_code: str
    grid_name: str
    # level → (code, name) for the city, district, street and community of the grid
    ancestors: dict[Level, tuple[str, str | None]]


class GridIndex:
    """Grid polygons in an STRtree; `locate_many` answers arrays of grid positions (−1 outside)."""

    def __init__(
        self,
        token: str,
        codes: list[str],
        names: list[str],
        ancestors: list[dict[Level, str | None]],
        geometries: list[BaseGeometry],
        division_names: dict[str, str],
        cities: list[BaseGeometry],
    ) -> None:
        self.token = token
        self.codes = np.array(codes, dtype=object)
        self.names = names
        self.ancestors = ancestors
        self.geometries = np.array(geometries, dtype=object)
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)
        self.division_names = division_names
        self.cities = np.array(cities, dtype=object)
        shapely.prepare(self.cities)
        self.position = {code: i for i, code in enumerate(codes)}

    def __len__(self) -> int:
        return len(self.codes)

    def locate_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> IndexArray:
        """For each point the position of its grid in `codes`, or −1 when no grid contains it."""
        x = np.ascontiguousarray(lon, dtype=np.float64)
        y = np.ascontiguousarray(lat, dtype=np.float64)
        if x.shape != y.shape or x.ndim != 1:
            raise InvalidInput("lon and lat must be one-dimensional arrays of the same length")
        result: IndexArray = np.full(x.shape[0], -1, dtype=np.int64)
        if not len(self.codes) or not x.size:
            return result
        finite = np.isfinite(x) & np.isfinite(y)
        points: npt.NDArray[np.object_] = np.asarray(
            shapely.points(np.where(finite, x, 0.0), np.where(finite, y, 0.0)), dtype=object
        )
        points[~finite] = None
        point_idx, grid_idx = self.tree.query(points)
        hit = shapely.intersects_xy(self.geometries[grid_idx], x[point_idx], y[point_idx])
        point_idx, grid_idx = point_idx[hit], grid_idx[hit]
        if point_idx.size:
            # The lowest grid position wins on shared edges: first pair per point after sorting.
            order = np.lexsort((grid_idx, point_idx))
            point_idx, grid_idx = point_idx[order], grid_idx[order]
            first = np.ones(point_idx.size, dtype=bool)
            first[1:] = point_idx[1:] != point_idx[:-1]
            result[point_idx[first]] = grid_idx[first]
        return result

    def locate(self, lon: float, lat: float) -> int:
        candidates = self.tree.query(shapely.Point(lon, lat))
        hits = [int(i) for i in np.sort(candidates) if shapely.intersects_xy(self.geometries[i], lon, lat)]
        return hits[0] if hits else -1

    def codes_of(self, positions: IndexArray) -> list[str | None]:
        return [None if p < 0 else str(self.codes[p]) for p in positions.tolist()]

    def in_city(self, lon: float, lat: float) -> bool:
        return bool(len(self.cities)) and bool(np.any(shapely.intersects_xy(self.cities, lon, lat)))

    def describe(self, position: int) -> Located:
        codes = self.ancestors[position]
        return Located(
            grid_code=str(self.codes[position]),
            grid_name=self.names[position],
            ancestors={
                level: (code, self.division_names.get(code))
                for level, code in codes.items()
                if code and level != Level.grid
            },
        )


_cache: dict[str, GridIndex] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _database_key(session: Session) -> str:
    return str(session.get_bind().engine.url)


def load_index(session: Session, token: str | None = None) -> GridIndex:
    """Build the index from the database (every grid with a boundary)."""
    token = service.current_revision(session) if token is None else token
    rows = session.execute(
        select(
            Division.code,
            Division.name,
            Division.city_code,
            Division.district_code,
            Division.street_code,
            Division.community_code,
            Division.geometry,
        )
        .where(Division.level == Level.grid.value, Division.geometry.is_not(None))
        .order_by(Division.code)
    ).all()
    names = {
        str(code): str(name)
        for code, name in session.execute(
            select(Division.code, Division.name).where(Division.level != Level.grid.value)
        )
    }
    cities = [
        from_wkb(blob)  # type: ignore[arg-type]  # filtered on IS NOT NULL
        for (blob,) in session.execute(
            select(Division.geometry).where(Division.level == Level.city.value, Division.geometry.is_not(None))
        )
    ]
    ancestors: list[dict[Level, str | None]] = [
        {Level.city: r[2], Level.district: r[3], Level.street: r[4], Level.community: r[5], Level.grid: r[0]}
        for r in rows
    ]
    geometries = list(shapely.from_wkb(np.array([r[6] for r in rows], dtype=object))) if rows else []
    return GridIndex(token, [r[0] for r in rows], [r[1] for r in rows], ancestors, geometries, names, cities)


def get_index(session: Session) -> GridIndex:
    """The cached index of the session's database, rebuilt when the geo revision changed."""
    key = _database_key(session)
    token = service.current_revision(session)
    if not token:
        # Rows written without a revision (tests, manual SQL): never trust a cached copy.
        return load_index(session, token)
    index = _cache.get(key)
    if index is not None and index.token == token:
        return index
    with _lock:
        index = _cache.get(key)
        if index is None or index.token != token:
            index = load_index(session, token)
            _cache[key] = index
    return index


def lookup_point(session: Session, lon: float, lat: float) -> Located:
    """The grid containing the point with its ancestors; 404 `outside_city` / `no_grid` otherwise."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(
            "lon must be in [-180, 180] and lat in [-90, 90] (WGS84, longitude first)",
            details={"lon": lon, "lat": lat},
        )
    index = get_index(session)
    position = index.locate(lon, lat)
    if position >= 0:
        return index.describe(position)
    if len(index.cities) and not index.in_city(lon, lat):
        raise NotFound(
            f"the point ({lon}, {lat}) lies outside the city",
            code="outside_city",
            details={"lon": lon, "lat": lat},
        )
    if not len(index.cities):
        raise NotFound(
            f"the point ({lon}, {lat}) lies in no grid", code="outside_city", details={"lon": lon, "lat": lat}
        )
    raise NotFound(
        f"the point ({lon}, {lat}) lies inside the city but no grid covers it",
        code="no_grid",
        details={"lon": lon, "lat": lat},
    )


def lookup_many(session: Session, points: Any) -> list[str | None]:
    """Grid codes for a sequence of [lon, lat] pairs (None where the point lies in no grid)."""
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    index = get_index(session)
    return index.codes_of(index.locate_many(array[:, 0], array[:, 1]))
