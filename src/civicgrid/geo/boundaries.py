"""Division boundaries as GeoJSON, simplified for the map's zoom and limited to the caller's scope.

Simplified features are cached per database, geo revision, level and zoom; each request only filters
the cached features by parent and scope, so a map pan costs no geometry work.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import in_scope, require
from civicgrid.authz.scope import Level, Principal
from civicgrid.core.errors import InvalidInput
from civicgrid.geo import service
from civicgrid.geo.codes import ANCESTOR_COLUMNS, parse_level
from civicgrid.geo.models import Division

MAX_ZOOM = 18
MAX_CACHE_ENTRIES = 64


def tolerance_for_zoom(zoom: int | None) -> float:
    """Half a screen pixel in degrees at `zoom` (256-pixel tiles); 0 (no simplification) for None."""
    if zoom is None or zoom >= MAX_ZOOM:
        return 0.0
    return 360.0 / (256 * 2.0**zoom) / 2


@dataclass(frozen=True)
class _Feature:
    area_codes: dict[Level, str | None]
    parent_code: str | None
    feature: dict[str, Any]


_cache: OrderedDict[tuple[str, str, str, int | None], list[_Feature]] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _build(session: Session, level: Level, zoom: int | None) -> list[_Feature]:
    rows = session.execute(
        select(
            Division.code,
            Division.name,
            Division.parent_code,
            Division.households,
            Division.population,
            Division.city_code,
            Division.district_code,
            Division.street_code,
            Division.community_code,
            Division.grid_code,
            Division.geometry,
        )
        .where(Division.level == level.value, Division.geometry.is_not(None))
        .order_by(Division.code)
    ).all()
    if not rows:
        return []
    geometries = shapely.from_wkb(np.array([r[10] for r in rows], dtype=object))
    tolerance = tolerance_for_zoom(zoom)
    if tolerance > 0:
        geometries = shapely.simplify(geometries, tolerance, preserve_topology=True)
    precision = 6 if zoom is None else min(6, max(3, zoom // 3 + 2))
    geometries = shapely.set_precision(geometries, 10.0**-precision, mode="pointwise")
    features: list[_Feature] = []
    levels = (Level.city, Level.district, Level.street, Level.community, Level.grid)
    for row, geometry in zip(rows, geometries, strict=True):
        area_codes = dict(zip(levels, row[5:10], strict=True))
        features.append(
            _Feature(
                area_codes,
                row[2],
                {
                    "type": "Feature",
                    "id": row[0],
                    "properties": {
                        "code": row[0],
                        "name": row[1],
                        "level": level.value,
                        "parent_code": row[2],
                        "households": row[3],
                        "population": row[4],
                    },
                    "geometry": shapely.geometry.mapping(geometry),
                },
            )
        )
    return features


def cached_features(session: Session, level: Level, zoom: int | None) -> list[_Feature]:
    zoom = None if zoom is None else max(0, min(MAX_ZOOM, zoom))
    token = service.current_revision(session)
    if not token:
        # Rows written without a revision (tests, manual SQL): never trust a cached copy.
        return _build(session, level, zoom)
    key = (str(session.get_bind().engine.url), token, level.value, zoom)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    features = _build(session, level, zoom)
    with _lock:
        _cache[key] = features
        while len(_cache) > MAX_CACHE_ENTRIES:
            _cache.popitem(last=False)
    return features


def boundaries(
    session: Session,
    principal: Principal,
    *,
    level: str,
    parent_code: str | None = None,
    zoom: int | None = None,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the boundaries of `level` the caller may see."""
    require(principal, "geo:read")
    parsed = parse_level(level)
    if parsed is None:
        raise InvalidInput(
            f"unknown level {level!r}", details={"field": "level", "allowed": list(ANCESTOR_COLUMNS.values())}
        )
    features = [
        f.feature
        for f in cached_features(session, parsed, zoom)
        if (parent_code is None or f.parent_code == parent_code) and in_scope(principal, f.area_codes)
    ]
    return {"type": "FeatureCollection", "features": features}
