"""What the geo API takes and answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LevelName = Literal["city", "district", "street", "community", "grid"]


class DivisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: LevelName
    parent_code: str | None
    city_code: str
    district_code: str | None
    street_code: str | None
    community_code: str | None
    grid_code: str | None
    is_urban: bool | None
    households: int
    population: int
    area_km2: float | None
    centroid_lon: float | None
    centroid_lat: float | None
    min_lon: float | None
    min_lat: float | None
    max_lon: float | None
    max_lat: float | None


class AncestorOut(BaseModel):
    code: str
    name: str
    level: LevelName


class StaffOut(BaseModel):
    user_id: int
    display_name: str
    duty: Literal["grid_worker", "grid_leader"]


class DivisionDetailOut(DivisionOut):
    ancestors: list[AncestorOut] = Field(description="from the city down to the parent")
    children_count: int
    grid_worker: StaffOut | None = Field(default=None, description="for grids: the assigned grid worker")
    grid_leader: StaffOut | None = Field(default=None, description="for communities: the grid leader (网格长)")


class LookupOut(BaseModel):
    lon: float
    lat: float
    grid_code: str
    grid_name: str
    community_code: str | None
    community_name: str | None
    street_code: str | None
    street_name: str | None
    district_code: str | None
    district_name: str | None
    city_code: str
    city_name: str | None


class BatchLookupIn(BaseModel):
    points: list[tuple[float, float]] = Field(
        max_length=10_000, description="[lon, lat] pairs (WGS84), at most 10,000 per call"
    )


class BatchLookupOut(BaseModel):
    grid_codes: list[str | None] = Field(
        description="one per point, null when the point lies in no grid or in a grid outside your scope"
    )
    found: int
    outside: int = Field(description="points in no grid of the city")
    outside_scope: int = Field(default=0, description="points in a grid outside your scope")


class SummaryOut(BaseModel):
    code: str
    name: str
    level: LevelName
    counts: dict[str, int] = Field(description="number of divisions per level below this one")
    grids: int
    staffed_grids: int
    unstaffed_grids: int
    households: int
    population: int
    area_km2: float | None


class ImportResultOut(BaseModel):
    kind: Literal["divisions", "boundaries", "grids"]
    dry_run: bool
    created: int
    updated: int
    unchanged: int = 0
    by_level: dict[str, int] = Field(default_factory=dict)


class BoundaryProperties(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None
    households: int
    population: int


class BoundaryGeometry(BaseModel):
    """A GeoJSON Polygon or MultiPolygon in WGS84 longitude/latitude."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class BoundaryFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    properties: BoundaryProperties
    geometry: BoundaryGeometry


class FeatureCollectionOut(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[BoundaryFeature]
