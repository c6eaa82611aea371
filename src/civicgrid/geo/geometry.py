"""Small geometry helpers: WKB in and out, areas in km², GeoJSON mapping, validity checks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

KM_PER_DEGREE = 111.32
# Share of a child's area allowed outside its parent before the import is refused.
OUTSIDE_PARENT_TOLERANCE = 0.005
# Share of the smaller sibling's area two siblings may overlap (float slivers along shared edges).
SIBLING_OVERLAP_TOLERANCE = 0.001


def area_km2(geometry: BaseGeometry) -> float:
    """Area on the ground of a lon/lat geometry (equirectangular at its centroid; < 0.1 % error at city size)."""
    if geometry.is_empty:
        return 0.0
    lat = shapely.get_y(geometry.centroid)
    return float(geometry.area) * KM_PER_DEGREE**2 * math.cos(math.radians(lat))


def areas_km2(geometries: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    lat = shapely.get_y(shapely.centroid(geometries))
    result: np.ndarray[Any, np.dtype[np.float64]] = (
        shapely.area(geometries) * KM_PER_DEGREE**2 * np.cos(np.radians(lat))
    )
    return result


def to_wkb(geometry: BaseGeometry) -> bytes:
    data = shapely.to_wkb(geometry, hex=False, output_dimension=2)
    assert isinstance(data, bytes)
    return data


def from_wkb(data: bytes) -> BaseGeometry:
    return shapely.from_wkb(data)


def geometry_columns(geometry: BaseGeometry) -> dict[str, Any]:
    """The Division columns derived from a boundary."""
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    point = geometry.representative_point() if geometry.geom_type == "MultiPolygon" else geometry.centroid
    if not geometry.covers(point):
        point = geometry.representative_point()
    return {
        "geometry": to_wkb(geometry),
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "centroid_lon": float(point.x),
        "centroid_lat": float(point.y),
        "area_km2": round(area_km2(geometry), 6),
    }


def geometry_problems(geometry: BaseGeometry | None) -> list[tuple[str, str]]:
    """(field, problem) pairs that make `geometry` unusable as a boundary; empty when it is fine."""
    if geometry is None or geometry.is_empty:
        return [("geometry", "the geometry is missing or empty")]
    if geometry.geom_type not in ("Polygon", "MultiPolygon"):
        return [("geometry", f"a boundary is a Polygon or MultiPolygon, got {geometry.geom_type}")]
    problems: list[tuple[str, str]] = []
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        problems.append(
            (
                "geometry",
                "coordinates are not WGS84 longitude/latitude "
                f"(bounds {min_lon:.6g}, {min_lat:.6g}, {max_lon:.6g}, {max_lat:.6g}); "
                "reproject to EPSG:4326 with longitude first",
            )
        )
    if not geometry.is_valid:
        problems.append(
            ("geometry", f"the geometry is invalid: {shapely.is_valid_reason(geometry)}; repair it and retry")
        )
    return problems


def as_geojson(geometry: BaseGeometry, precision: int = 6) -> dict[str, Any]:
    """GeoJSON geometry mapping with coordinates rounded to `precision` decimals (6 ≈ 0.1 m)."""
    rounded = shapely.set_precision(geometry, 10.0**-precision, mode="pointwise")
    mapping: dict[str, Any] = shapely.geometry.mapping(rounded)
    return mapping


def from_parts(parts: list[BaseGeometry]) -> BaseGeometry:
    """One Polygon, or a MultiPolygon of several."""
    polygons = [p for p in parts if isinstance(p, Polygon)]
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)
