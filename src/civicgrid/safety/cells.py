"""The units hotspots are forecast on: square cells of a chosen size over the city, or the city's grids.

Cells are squares in metres of a Lambert azimuthal equal-area projection centred on the city (areas are
true; shapes are true to well under 0.1 % across a city), snapped to multiples of the cell size so the
same size always gives the same cells. A cell belongs to the city when its centre lies inside the city
outline (the city division's boundary). Points are placed in cells by arithmetic on their projected
coordinates and one raster lookup, so a million points take milliseconds.

Grids are the grid divisions with their areas in km²; points are placed in grids by the geo lookup.
Either kind of unit also carries a fine raster (pixels of at most 100 m) with the unit of each pixel,
which kernel densities are summed on, and the division codes of each unit for scope filters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.scope import LEVEL_ORDER, Level
from civicgrid.core.errors import InvalidInput
from civicgrid.geo import lookup
from civicgrid.geo.geometry import areas_km2, from_wkb
from civicgrid.geo.models import Division
from civicgrid.safety.forecast import FloatArray, IntArray, Raster, UnitSpace

EARTH_RADIUS_M = 6_371_007.2  # the authalic radius: equal areas on the sphere
MIN_CELL_M = 100
MAX_CELL_M = 5_000
MAX_PIXEL_M = 100.0
MAX_RASTER_PIXELS = 4_000_000
UNIT_KINDS = ("cell", "grid")


def check_cell_size(size: float) -> None:
    if not MIN_CELL_M <= size <= MAX_CELL_M:
        raise InvalidInput(
            f"the cell size must be between {MIN_CELL_M} m and {MAX_CELL_M // 1000} km, got {size:g} m "
            "(and not smaller than the location blurring of the data)",
            details=[{"field": "cell_size", "problem": f"must be between {MIN_CELL_M} and {MAX_CELL_M} metres"}],
        )


@dataclass(frozen=True)
class Projection:
    """Spherical Lambert azimuthal equal-area around (lon0, lat0): lon/lat in degrees ↔ x/y in metres."""

    lon0: float
    lat0: float

    def forward(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        lam = np.radians(np.asarray(lon, dtype=np.float64) - self.lon0)
        phi = np.radians(np.asarray(lat, dtype=np.float64))
        phi0 = math.radians(self.lat0)
        cos_phi = np.cos(phi)
        denominator = 1.0 + math.sin(phi0) * np.sin(phi) + math.cos(phi0) * cos_phi * np.cos(lam)
        k = np.sqrt(2.0 / denominator)
        x = EARTH_RADIUS_M * k * cos_phi * np.sin(lam)
        y = EARTH_RADIUS_M * k * (math.cos(phi0) * np.sin(phi) - math.sin(phi0) * cos_phi * np.cos(lam))
        return x, y

    def inverse(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        xx = np.asarray(x, dtype=np.float64)
        yy = np.asarray(y, dtype=np.float64)
        rho = np.hypot(xx, yy)
        c = 2.0 * np.arcsin(np.clip(rho / (2.0 * EARTH_RADIUS_M), -1.0, 1.0))
        phi0 = math.radians(self.lat0)
        safe = np.where(rho > 0, rho, 1.0)
        lat = np.arcsin(np.cos(c) * math.sin(phi0) + np.where(rho > 0, yy * np.sin(c) * math.cos(phi0) / safe, 0.0))
        lon = np.arctan2(xx * np.sin(c), rho * math.cos(phi0) * np.cos(c) - yy * math.sin(phi0) * np.sin(c))
        return np.asarray(self.lon0 + np.degrees(lon), dtype=np.float64), np.asarray(np.degrees(lat), dtype=np.float64)

    def project(self, geometry: BaseGeometry) -> BaseGeometry:
        def transform(coords: FloatArray) -> FloatArray:
            x, y = self.forward(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geometry, transform)

    @staticmethod
    def around(geometry: BaseGeometry) -> Projection:
        """Centred on the geometry's bounding box (rounded, so the same outline gives the same cells)."""
        min_lon, min_lat, max_lon, max_lat = geometry.bounds
        return Projection(round((min_lon + max_lon) / 2, 3), round((min_lat + max_lat) / 2, 3))


@dataclass
class CellGrid:
    """Square cells of `size` metres whose centres lie in the outline; unit i is (rows[i], cols[i])."""

    size: float
    projection: Projection
    x0: float
    y0: float
    nrows: int
    ncols: int
    rows: IntArray
    cols: IntArray
    lookup: IntArray  # nrows × ncols, row-major: the unit of each cell position, −1 outside the outline

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    @property
    def ids(self) -> list[str]:
        return [f"r{r}c{c}" for r, c in zip(self.rows.tolist(), self.cols.tolist(), strict=True)]

    @property
    def area_km2(self) -> FloatArray:
        return np.full(len(self), self.size * self.size / 1e6)

    def locate_xy(self, x: npt.ArrayLike, y: npt.ArrayLike) -> IntArray:
        """The unit of each projected point; −1 outside every cell."""
        col = np.floor((np.asarray(x, dtype=np.float64) - self.x0) / self.size)
        row = np.floor((np.asarray(y, dtype=np.float64) - self.y0) / self.size)
        ok = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (col < self.ncols) & (row >= 0) & (row < self.nrows)
        position = np.where(ok, row, 0).astype(np.int64) * self.ncols + np.where(ok, col, 0).astype(np.int64)
        result: IntArray = np.where(ok, self.lookup[position], -1)
        return result

    def locate(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> IntArray:
        x, y = self.projection.forward(lon, lat)
        return self.locate_xy(x, y)

    def centres_xy(self) -> tuple[FloatArray, FloatArray]:
        x = np.asarray(self.x0 + (self.cols + 0.5) * self.size, dtype=np.float64)
        y = np.asarray(self.y0 + (self.rows + 0.5) * self.size, dtype=np.float64)
        return x, y

    def centres_lonlat(self) -> tuple[FloatArray, FloatArray]:
        return self.projection.inverse(*self.centres_xy())

    def polygons(self, units: npt.ArrayLike) -> list[dict[str, Any]]:
        """GeoJSON Polygons (WGS84, 6 decimals) of the given units."""
        index = np.asarray(units, dtype=np.int64)
        left = self.x0 + self.cols[index] * self.size
        bottom = self.y0 + self.rows[index] * self.size
        xs = np.stack([left, left + self.size, left + self.size, left, left], axis=1)
        ys = np.stack([bottom, bottom, bottom + self.size, bottom + self.size, bottom], axis=1)
        lon, lat = self.projection.inverse(xs, ys)
        lon, lat = np.round(lon, 6), np.round(lat, 6)
        return [
            {"type": "Polygon", "coordinates": [[[float(a), float(b)] for a, b in zip(lo, la, strict=True)]]}
            for lo, la in zip(lon.tolist(), lat.tolist(), strict=True)
        ]

    def raster(self) -> Raster:
        """Pixels of at most 100 m that tile the cells exactly (k × k per cell)."""
        k = max(1, math.ceil(self.size / MAX_PIXEL_M))
        blocks = self.lookup.reshape(self.nrows, self.ncols)
        pixel_unit = np.repeat(np.repeat(blocks, k, axis=0), k, axis=1).ravel()
        return Raster(self.x0, self.y0, self.size / k, self.nrows * k, self.ncols * k, pixel_unit)


def build_cells(outline: BaseGeometry, size: float, projection: Projection | None = None) -> CellGrid:
    """The cells of `size` metres whose centres lie inside `outline` (a lon/lat polygon)."""
    check_cell_size(size)
    projection = projection or Projection.around(outline)
    shape = projection.project(outline)
    min_x, min_y, max_x, max_y = shape.bounds
    x0 = math.floor(min_x / size) * size
    y0 = math.floor(min_y / size) * size
    ncols = max(1, math.ceil((max_x - x0) / size))
    nrows = max(1, math.ceil((max_y - y0) / size))
    rows, cols = np.divmod(np.arange(nrows * ncols, dtype=np.int64), ncols)
    shapely.prepare(shape)
    inside = shapely.contains_xy(shape, x0 + (cols + 0.5) * size, y0 + (rows + 0.5) * size)
    lookup_array = np.full(nrows * ncols, -1, dtype=np.int64)
    lookup_array[inside] = np.arange(int(inside.sum()))
    return CellGrid(float(size), projection, x0, y0, nrows, ncols, rows[inside], cols[inside], lookup_array)


def rasterize(shapes: list[BaseGeometry], projection: Projection, pixel: float | None = None) -> Raster:
    """A raster over lon/lat polygons with the index of the polygon containing each pixel centre
    (the first one listed on shared edges); pixels of 100 m, coarser only for very large extents."""
    projected = [projection.project(s) for s in shapes]
    bounds = np.array([p.bounds for p in projected]) if projected else np.zeros((1, 4))
    min_x, min_y = float(bounds[:, 0].min()), float(bounds[:, 1].min())
    max_x, max_y = float(bounds[:, 2].max()), float(bounds[:, 3].max())
    if pixel is None:
        pixel = max(MAX_PIXEL_M, math.sqrt(max((max_x - min_x) * (max_y - min_y), 1.0) / MAX_RASTER_PIXELS))
        pixel = math.ceil(pixel)
    x0 = math.floor(min_x / pixel) * pixel
    y0 = math.floor(min_y / pixel) * pixel
    ncols = max(1, math.ceil((max_x - x0) / pixel))
    nrows = max(1, math.ceil((max_y - y0) / pixel))
    pixel_unit = np.full(nrows * ncols, -1, dtype=np.int64)
    for i, shape in enumerate(projected):
        sx0, sy0, sx1, sy1 = shape.bounds
        c0, c1 = int((sx0 - x0) // pixel), min(ncols - 1, int((sx1 - x0) // pixel))
        r0, r1 = int((sy0 - y0) // pixel), min(nrows - 1, int((sy1 - y0) // pixel))
        cols = np.arange(c0, c1 + 1)
        rows = np.arange(r0, r1 + 1)
        cc, rr = np.meshgrid(cols, rows)
        position = (rr * ncols + cc).ravel()
        free = pixel_unit[position] < 0
        position = position[free]
        if not position.size:
            continue
        shapely.prepare(shape)
        hit = shapely.contains_xy(shape, x0 + (position % ncols + 0.5) * pixel, y0 + (position // ncols + 0.5) * pixel)
        pixel_unit[position[hit]] = i
    return Raster(float(x0), float(y0), float(pixel), nrows, ncols, pixel_unit)


# --- units read from the map ---------------------------------------------------------------------------------


@dataclass
class Units:
    """The units of one forecast: cells of one size, or grids; what the forecast needs and what the map
    shows (ids, GeoJSON, the division codes of each unit for scope filters)."""

    kind: str
    ids: list[str]
    names: list[str | None]
    area_km2: FloatArray
    projection: Projection
    space: UnitSpace
    area_codes: list[dict[Level, str | None]]
    cells: CellGrid | None = None
    grid_positions: IntArray | None = None  # grids: the position of each unit in the geo lookup's index
    cell_size: float | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def locate(self, session: Session, lon: npt.ArrayLike, lat: npt.ArrayLike) -> IntArray:
        """The unit of each lon/lat point; −1 outside every unit."""
        if self.cells is not None:
            return self.cells.locate(lon, lat)
        index = lookup.get_index(session)
        positions = index.locate_many(lon, lat)
        to_unit = np.full(len(index) + 1, -1, dtype=np.int64)
        assert self.grid_positions is not None
        to_unit[self.grid_positions] = np.arange(len(self))
        result: IntArray = to_unit[np.where(positions >= 0, positions, len(index))]
        return result

    def geometries(self, session: Session, units: npt.ArrayLike) -> list[dict[str, Any]]:
        index = np.asarray(units, dtype=np.int64)
        if self.cells is not None:
            return self.cells.polygons(index)
        grids = lookup.get_index(session)
        assert self.grid_positions is not None
        shapes = grids.geometries[self.grid_positions[index]]
        rounded = shapely.set_precision(shapes, 1e-6, mode="pointwise") if len(shapes) else shapes
        return [shapely.geometry.mapping(s) for s in rounded]


def city_outline(session: Session) -> tuple[str, BaseGeometry]:
    """The city division's code and boundary; refused with a clear message when the map has none."""
    rows = session.execute(
        select(Division.code, Division.geometry).where(Division.level == "city", Division.geometry.is_not(None))
    ).all()
    if len(rows) != 1:
        raise InvalidInput(
            "hotspot forecasts need exactly one city with a boundary on the map "
            f"(found {len(rows)}); import the administrative map first (civicgrid geo import)",
            details=[{"field": "map", "problem": f"{len(rows)} cities with a boundary"}],
        )
    code, blob = rows[0]
    assert blob is not None
    return str(code), from_wkb(blob)


def _division_codes(session: Session, lon: FloatArray, lat: FloatArray, city: str) -> list[dict[Level, str | None]]:
    """For each point the code of the division containing it at each level (the first by code on edges)."""
    codes: dict[Level, npt.NDArray[np.object_]] = {}
    points = shapely.points(lon, lat)
    for level in LEVEL_ORDER[1:]:
        rows = session.execute(
            select(Division.code, Division.geometry)
            .where(Division.level == level.value, Division.geometry.is_not(None))
            .order_by(Division.code)
        ).all()
        found = np.full(lon.shape[0], None, dtype=object)
        if rows:
            shapes = shapely.from_wkb(np.array([r[1] for r in rows], dtype=object))
            tree = shapely.STRtree(shapes)
            point_idx, shape_idx = tree.query(points, predicate="intersects")
            order = np.lexsort((shape_idx, point_idx))
            point_idx, shape_idx = point_idx[order], shape_idx[order]
            first = np.ones(point_idx.shape[0], dtype=bool)
            first[1:] = point_idx[1:] != point_idx[:-1]
            names = np.array([r[0] for r in rows], dtype=object)
            found[point_idx[first]] = names[shape_idx[first]]
        codes[level] = found
    return [{Level.city: city, **{level: codes[level][i] for level in LEVEL_ORDER[1:]}} for i in range(lon.shape[0])]


def load_cells(session: Session, size: float) -> Units:
    """The city's cells of `size` metres with their division codes (those of the cell's centre)."""
    check_cell_size(size)
    city, outline = city_outline(session)
    cells = build_cells(outline, size)
    lon, lat = cells.centres_lonlat()
    return Units(
        kind="cell",
        ids=cells.ids,
        names=[None] * len(cells),
        area_km2=cells.area_km2,
        projection=cells.projection,
        space=UnitSpace(cells.area_km2, cells.raster()),
        area_codes=_division_codes(session, lon, lat, city),
        cells=cells,
        cell_size=float(size),
    )


def load_grids(session: Session) -> Units:
    """The city's grids as units: their areas in km² and a 100 m raster of them."""
    city, outline = city_outline(session)
    projection = Projection.around(outline)
    index = lookup.get_index(session)
    if not len(index):
        raise InvalidInput(
            "the map has no grids with boundaries; forecast on cells (unit=cell) or import the grids",
            details=[{"field": "unit", "problem": "no grids on the map"}],
        )
    shapes = list(index.geometries)
    return Units(
        kind="grid",
        ids=[str(c) for c in index.codes],
        names=list(index.names),
        area_km2=areas_km2(index.geometries),
        projection=projection,
        space=UnitSpace(areas_km2(index.geometries), rasterize(shapes, projection)),
        area_codes=[{**codes, Level.city: codes.get(Level.city) or city} for codes in index.ancestors],
        grid_positions=np.arange(len(index), dtype=np.int64),
    )


def load_units(session: Session, kind: str, cell_size: float) -> Units:
    if kind == "cell":
        return load_cells(session, cell_size)
    if kind == "grid":
        return load_grids(session)
    raise InvalidInput(
        f"unknown unit {kind!r}; use cell or grid",
        details=[{"field": "unit", "problem": "must be cell or grid"}],
    )
