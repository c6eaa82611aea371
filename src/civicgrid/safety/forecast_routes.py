"""Routes of the safety module: hotspot forecasts for the next period, and the forecast methods with their
last back-test figures."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from civicgrid.auth.deps import PrincipalDep
from civicgrid.core.web import SessionDep
from civicgrid.safety import forecast_service as service

router = APIRouter(prefix="/safety", tags=["safety"])


class HotspotProperties(BaseModel):
    id: str = Field(description="the cell (r<row>c<col>) or the grid's code")
    rank: int = Field(description="1 = the hottest unit of your area")
    score: float = Field(description="expected events per km² in the period (the ranking key)")
    expected: float = Field(description="expected events in the unit in the period")
    events: int = Field(description="the unit's incidents in the training window")
    area_km2: float
    grid_code: str | None = Field(default=None, description="the grid of the unit (a cell: of its centre)")
    name: str | None = Field(default=None, description="the grid's name (unit=grid)")


class HotspotGeometry(BaseModel):
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


class HotspotFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    properties: HotspotProperties
    geometry: HotspotGeometry


class HotspotPeriod(BaseModel):
    type: str
    start: date
    end: date


class HotspotTraining(BaseModel):
    first_day: date
    last_day: date
    events: int


class HotspotMeta(BaseModel):
    method: str
    unit: str
    cell_size: float | None
    selection: str = Field(description="the indicator, or categories:<codes>")
    period: HotspotPeriod
    coverage: float
    area_share: float = Field(description="the flagged share of your area")
    units_in_area: int
    flagged: int
    expected_in_area: float
    expected_flagged: float
    training: HotspotTraining
    params: dict[str, Any]
    seconds: float
    computed_at: str
    cached: bool


class HotspotCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[HotspotFeature]
    meta: HotspotMeta


class MethodOut(BaseModel):
    name: str
    description: str
    baseline: bool
    last_backtest: dict[str, Any] | None = Field(
        description="job_id, finished_at, spec and the figures (hit rate, PAI, PEI* per coverage) of the newest "
        "back-test (`civicgrid safety backtest`) you may see"
    )


@router.get(
    "/hotspots",
    operation_id="safety_hotspots",
    response_model=HotspotCollection,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def get_hotspots(
    session: SessionDep,
    principal: PrincipalDep,
    method: Annotated[str, Query(description="counts, kde, self_exciting or near_repeat")] = "kde",
    unit: Annotated[str, Query(description="cell (squares of cell_size metres) or grid")] = "cell",
    cell_size: Annotated[float, Query(description="metres, 100 to 5000 (unit=cell)")] = 500,
    period: Annotated[str, Query(description="day, dekad, week or month")] = "week",
    start: Annotated[date | None, Query(description="a day of the forecast period (default: today)")] = None,
    coverage: Annotated[float, Query(description="share of your area to flag, e.g. 0.05")] = 0.05,
    indicator: Annotated[str | None, Query(description="default crime_order; ignored with categories")] = None,
    categories: Annotated[str | None, Query(description="comma-separated classes or leaves, e.g. 01,0201")] = None,
    train_days: Annotated[int, Query(description="days of history before the period")] = service.DEFAULT_TRAIN_DAYS,
    bandwidth_m: Annotated[float, Query(description="kernel bandwidth in metres (kde)")] = 300,
) -> JSONResponse:
    """The units of your area most likely to see incidents in the period, as GeoJSON: ranked by expected
    events per km², flagged from the top until `coverage` of your area is reached; trained on the
    `train_days` before the period. Places are forecast, never people."""
    query = service.HotspotQuery(
        method=method,
        unit=unit,
        cell_size=cell_size,
        period=period,
        start=start,
        coverage=coverage,
        indicator=indicator,
        categories=tuple(c.strip() for c in (categories or "").split(",") if c.strip()),
        train_days=train_days,
        bandwidth_m=bandwidth_m,
    )
    return JSONResponse(service.hotspots(session, principal, query), media_type="application/geo+json")


@router.get("/hotspots/methods", operation_id="safety_hotspot_methods", response_model=list[MethodOut])
def get_methods(session: SessionDep, principal: PrincipalDep) -> list[MethodOut]:
    """The forecast methods, with the figures of the last back-test (`civicgrid safety backtest`) if any."""
    return [MethodOut.model_validate(m) for m in service.methods(session, principal)]
