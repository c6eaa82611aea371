"""Road and line protection (护路护线): railways, highways, power lines and pipelines with their hazards.

A line crosses grids, so it is placed in a district (and a street when it lies in one) and carries its
course as a GeoJSON LineString, checked to lie in that area.
"""

from __future__ import annotations

from typing import Any

import shapely
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import shape
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import area_codes_of, get_in_scope, require, require_area, restrict
from civicgrid.authz.scope import Principal
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import InvalidInput
from civicgrid.geo.geometry import from_wkb
from civicgrid.geo.models import Division
from civicgrid.registry import codes
from civicgrid.registry.models import RoadLine
from civicgrid.registry.people import _escape_like


class RoadLineIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    line_type: str = Field(max_length=20, description="code table line_type")
    area_code: str = Field(min_length=6, max_length=9, description="the district or street the line runs in")
    owning_unit: str | None = Field(default=None, max_length=100)
    managing_unit: str | None = Field(default=None, max_length=100)
    security_lead: str | None = Field(default=None, max_length=100)
    hazard_situation: str | None = Field(default=None, max_length=4000)
    hazard_level: str | None = Field(default=None, max_length=10, description="code table hazard_level")
    course: dict[str, Any] | None = Field(default=None, description="GeoJSON LineString or MultiLineString (WGS84)")


class RoadLineOut(BaseModel):
    id: int
    name: str
    line_type: str
    district_code: str
    street_code: str | None
    owning_unit: str | None
    managing_unit: str | None
    security_lead: str | None
    hazard_situation: str | None
    hazard_level: str | None
    course: dict[str, Any] | None


def _course(data: dict[str, Any] | None, area: Division) -> bytes | None:
    if data is None:
        return None
    try:
        line = shape(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(
            "the course is not GeoJSON geometry", details=[{"field": "course", "problem": str(exc)}]
        ) from exc
    if line.geom_type not in ("LineString", "MultiLineString") or line.is_empty or not line.is_valid:
        raise InvalidInput(
            "the course must be a valid, non-empty LineString or MultiLineString",
            details=[{"field": "course", "problem": line.geom_type}],
        )
    if area.geometry is not None and not from_wkb(area.geometry).buffer(0.001).covers(line):
        raise InvalidInput(
            f"the course leaves {area.name}", details=[{"field": "course", "problem": "outside the area"}]
        )
    return shapely.to_wkb(line)


def create(session: Session, principal: Principal, data: dict[str, Any]) -> RoadLine:
    require(principal, "organisation:write")
    area = session.get(Division, data["area_code"])
    if area is None or area.level not in ("district", "street"):
        raise InvalidInput(
            "area_code must be a district or a street", details=[{"field": "area_code", "problem": "not found"}]
        )
    require_area(principal, "organisation:write", area_codes_of(area))
    codes.check(
        session,
        {"line_type": ("line_type", data["line_type"]), "hazard_level": ("hazard_level", data.get("hazard_level"))},
    )
    fields = {k: v for k, v in data.items() if k not in ("area_code", "course")}
    line = RoadLine(
        **fields,
        district_code=area.district_code,
        street_code=area.street_code,
        geometry=_course(data.get("course"), area),
    )
    session.add(line)
    session.flush()
    audit.record(session, principal, "road_line.create", "road_line", line.id)
    return line


def get(session: Session, principal: Principal, line_id: int) -> RoadLine:
    return get_in_scope(session, RoadLine, line_id, principal, "organisation:read")


def query(principal: Principal, *, q: str | None, line_type: str | None, hazard_level: str | None) -> AnySelect:
    stmt: Select[Any] = restrict(select(RoadLine), principal, "organisation:read", RoadLine)
    if q:
        stmt = stmt.where(RoadLine.name.like(f"%{_escape_like(q)}%", escape="\\"))
    if line_type:
        stmt = stmt.where(RoadLine.line_type == line_type)
    if hazard_level:
        stmt = stmt.where(RoadLine.hazard_level == hazard_level)
    return stmt.order_by(RoadLine.id)


def out(line: RoadLine) -> RoadLineOut:
    return RoadLineOut(
        id=line.id,
        name=line.name,
        line_type=line.line_type,
        district_code=line.district_code,
        street_code=line.street_code,
        owning_unit=line.owning_unit,
        managing_unit=line.managing_unit,
        security_lead=line.security_lead,
        hazard_situation=line.hazard_situation,
        hazard_level=line.hazard_level,
        course=shapely.geometry.mapping(from_wkb(line.geometry)) if line.geometry else None,
    )
