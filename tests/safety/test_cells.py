"""Cells over the city and grids as units: the projection, the cells of a size, point → cell, GeoJSON, the
raster densities are summed on, and each unit's division codes (for scope filters)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Level
from civicgrid.core.db import Database
from civicgrid.core.errors import InvalidInput
from civicgrid.geo.geometry import area_km2
from civicgrid.safety.cells import (
    EARTH_RADIUS_M,
    Projection,
    build_cells,
    check_cell_size,
    load_cells,
    load_grids,
    rasterize,
)
from tests.support.city import CITY, DISTRICT, GRID_A1, GRID_B2, OTHER_DISTRICT, STREET_A, TinyCity

OUTLINE = box(117.0, 32.0, 117.2, 32.2)  # about 18.9 km × 22.3 km


def sphere_km2(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> float:
    """The exact area of a lon/lat box on the sphere of the projection's radius."""
    r = EARTH_RADIUS_M / 1000
    return r * r * math.radians(max_lon - min_lon) * (math.sin(math.radians(max_lat)) - math.sin(math.radians(min_lat)))


def test_the_projection_goes_there_and_back_and_keeps_areas() -> None:
    projection = Projection(117.5, 32.5)
    lon = np.array([117.0, 117.5, 118.1, 116.9])
    lat = np.array([32.0, 32.5, 33.2, 31.8])
    x, y = projection.forward(lon, lat)
    assert x[1] == pytest.approx(0.0) and y[1] == pytest.approx(0.0)
    back_lon, back_lat = projection.inverse(x, y)
    assert np.allclose(back_lon, lon, atol=1e-9) and np.allclose(back_lat, lat, atol=1e-9)
    # Equal area: a box half a degree off the centre keeps its area on the ground (km²).
    square = box(117.9, 32.9, 118.0, 33.0)
    assert projection.project(square).area / 1e6 == pytest.approx(sphere_km2(117.9, 32.9, 118.0, 33.0), rel=1e-5)
    # … which the platform's quick estimate (area_km2) gives to a few tenths of a per cent.
    assert projection.project(square).area / 1e6 == pytest.approx(area_km2(square), rel=5e-3)
    # One degree of latitude is about 111 km.
    _, y_north = projection.forward([117.5], [33.5])
    assert y_north[0] / 1000 == pytest.approx(111.2, abs=0.3)


def test_cells_cover_the_outline_with_squares_of_the_size() -> None:
    cells = build_cells(OUTLINE, 500)
    assert len(cells) == pytest.approx(area_km2(OUTLINE) / 0.25, rel=0.03)
    assert np.all(cells.area_km2 == 0.25)
    lon, lat = cells.centres_lonlat()
    assert np.all(shapely.contains_xy(OUTLINE, lon, lat))
    assert np.array_equal(cells.locate(lon, lat), np.arange(len(cells)))
    ids = cells.ids
    assert len(set(ids)) == len(ids) and ids[0].startswith("r")
    # Stable: the same outline and size give the same cells.
    again = build_cells(OUTLINE, 500)
    assert again.ids == ids and again.x0 == cells.x0 and again.y0 == cells.y0


def test_points_outside_every_cell_are_minus_one() -> None:
    cells = build_cells(OUTLINE, 1000)
    found = cells.locate([119.0, 117.1, np.nan, 117.1], [30.0, 32.1, 32.1, 31.0])
    assert found[0] == -1 and found[1] >= 0 and found[2] == -1 and found[3] == -1


def test_a_cell_polygon_is_a_closed_square_of_the_size_on_the_ground() -> None:
    cells = build_cells(OUTLINE, 500)
    geometry = cells.polygons([0, len(cells) - 1])
    assert len(geometry) == 2
    ring = geometry[0]["coordinates"][0]
    assert geometry[0]["type"] == "Polygon" and len(ring) == 5 and ring[0] == ring[-1]
    x, y = cells.projection.forward([p[0] for p in ring], [p[1] for p in ring])
    sides = np.hypot(np.diff(x), np.diff(y))
    assert np.allclose(sides, 500, atol=0.2)  # 6 decimals ≈ 0.1 m
    assert cells.projection.project(Polygon(ring)).area / 1e6 == pytest.approx(0.25, rel=5e-4)  # rounding
    # The polygon contains its cell's centre and that centre is located in the cell.
    lon, lat = cells.centres_lonlat()
    assert Polygon(ring).contains(shapely.Point(lon[0], lat[0]))


@pytest.mark.parametrize("size", [99, 5001, 0, -500])
def test_cell_sizes_below_100_m_or_above_5_km_are_refused(size: float) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_cell_size(size)
    assert "between 100 m and 5 km" in refused.value.message
    with pytest.raises(InvalidInput):
        build_cells(OUTLINE, size)


def test_the_raster_nests_in_the_cells() -> None:
    cells = build_cells(OUTLINE, 500)
    raster = cells.raster()
    assert raster.pixel == 100 and raster.nrows == cells.nrows * 5 and raster.ncols == cells.ncols * 5
    rows, cols = np.divmod(np.arange(raster.nrows * raster.ncols), raster.ncols)
    x = raster.x0 + (cols + 0.5) * raster.pixel
    y = raster.y0 + (rows + 0.5) * raster.pixel
    assert np.array_equal(raster.pixel_unit, cells.locate_xy(x, y))
    big = build_cells(OUTLINE, 1250).raster()
    assert big.pixel <= 100 and 1250 / big.pixel == round(1250 / big.pixel)


def test_rasterize_gives_shared_edges_to_the_first_shape() -> None:
    left, right = box(117.0, 32.0, 117.01, 32.01), box(117.01, 32.0, 117.02, 32.01)
    projection = Projection(117.01, 32.005)
    raster = rasterize([left, right], projection)
    counts = np.bincount(raster.pixel_unit[raster.pixel_unit >= 0], minlength=2)
    assert counts[0] > 0 and counts[1] > 0
    assert counts.sum() * raster.pixel**2 / 1e6 == pytest.approx(area_km2(left) + area_km2(right), rel=0.1)


def test_cells_of_the_city_carry_the_codes_of_their_centres(db: Database, tiny_city: TinyCity) -> None:
    with db.sessions() as session:
        units = load_cells(session, 5000)
    assert units.kind == "cell" and units.cell_size == 5000 and len(units) > 300
    lon, lat = units.cells.centres_lonlat()  # type: ignore[union-attr]
    west = int(np.flatnonzero((lon < 117.25) & (lat < 32.5))[0])
    codes = units.area_codes[west]
    assert codes[Level.city] == CITY and codes[Level.district] == DISTRICT and codes[Level.street] == STREET_A
    assert codes[Level.grid] == GRID_A1
    east = int(np.flatnonzero(lon > 117.6)[0])
    assert units.area_codes[east][Level.district] == OTHER_DISTRICT and units.area_codes[east][Level.grid] is None


def test_grids_as_units(db: Database, tiny_city: TinyCity, session: Session) -> None:
    units = load_grids(session)
    assert units.kind == "grid" and len(units) == 4 and units.ids[-1] == GRID_B2
    assert units.area_km2 == pytest.approx(np.full(4, 0.125 * 111.32**2 * math.cos(math.radians(32.25))), rel=0.02)
    raster = units.space.raster
    pixels = np.bincount(raster.pixel_unit[raster.pixel_unit >= 0], minlength=4)
    assert pixels * raster.pixel**2 / 1e6 == pytest.approx(units.area_km2, rel=0.02)
    found = units.locate(session, [117.1, 117.3, 117.7], [32.2, 32.7, 32.5])
    assert found.tolist() == [units.ids.index(GRID_A1), units.ids.index(GRID_B2), -1]
    assert units.area_codes[0][Level.city] == CITY
    geometry = units.geometries(session, [0])[0]
    assert geometry["type"] == "Polygon"


def test_no_city_outline_is_a_clear_error(db: Database, session: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        load_cells(session, 500)
    assert "import the administrative map" in refused.value.message
