"""The public map of the city's areas (mounted under /api/v1/public/map), no account needed.

Administrative boundaries are public information: the residents' 随手拍 page draws them so that a
resident sees where the pin is even without a basemap. Only each area's code and name are given (no
households, population or anything else the signed-in map shows), simplified for a city-wide view
from the same cached features as `GET /geo/boundaries`. Browsers and proxies may keep the answer for
an hour and revalidate it by its ETag.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Level
from civicgrid.core.web import SessionDep
from civicgrid.geo.boundaries import cached_features
from civicgrid.geo.schemas import BoundaryGeometry

router = APIRouter(prefix="/public/map", tags=["public"])

PublicLevel = Literal["district", "street"]
# The map zoom each level is simplified for (half a pixel: ~34 m at 11, ~17 m at 12), so that a pin
# near a border still falls in the right area while a whole city's streets stay a small download.
DISPLAY_ZOOM: dict[str, int] = {"district": 11, "street": 12}
CACHE_CONTROL = "public, max-age=3600"


class AreaProperties(BaseModel):
    code: str
    name: str


class AreaFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    properties: AreaProperties
    geometry: BoundaryGeometry


class AreasOut(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    level: PublicLevel
    city_codes: list[str] = Field(description="the codes of the features that are city outlines (listed first)")
    features: list[AreaFeature] = Field(description="the city outlines, then the areas of `level` by code")


def _public(feature: dict[str, Any]) -> dict[str, Any]:
    """The feature with its code and name only."""
    properties = feature["properties"]
    return {
        "type": "Feature",
        "id": feature["id"],
        "properties": {"code": properties["code"], "name": properties["name"]},
        "geometry": feature["geometry"],
    }


def public_areas(session: Session, level: PublicLevel) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the city outline and the areas of `level`, code and name only."""
    zoom = DISPLAY_ZOOM[level]
    cities = [_public(f.feature) for f in cached_features(session, Level.city, zoom)]
    areas = [_public(f.feature) for f in cached_features(session, Level(level), zoom)]
    return {
        "type": "FeatureCollection",
        "level": level,
        "city_codes": [c["id"] for c in cities],
        "features": cities + areas,
    }


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


@router.get(
    "/areas",
    operation_id="public_map_areas",
    response_model=AreasOut,
    responses={304: {"description": "not modified since the version named in If-None-Match"}},
)
def areas(
    session: SessionDep,
    level: Annotated[PublicLevel, Query(description="the areas to draw inside the city outline")] = "district",
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The city outline and its districts (or streets), code and name only, simplified for display.

    Public: no sign-in. Cacheable for an hour (Cache-Control), revalidated by its ETag (If-None-Match
    answers 304 when nothing changed).
    """
    body = json.dumps(public_areas(session, level), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag}
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)
