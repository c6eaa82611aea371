"""HTTP routes of organisations, key places and schools (one set per kind, typed per kind)."""

from copy import copy
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, create_model

from civicgrid.auth.deps import PrincipalDep
from civicgrid.core.pagination import ListParams, Page, list_params, paginate
from civicgrid.core.web import SessionDep
from civicgrid.registry import entities, road_lines
from civicgrid.registry.entity_schemas import (
    OrganisationIn,
    OrganisationOut,
    PlaceIn,
    PlaceOut,
    SchoolIn,
    SchoolOut,
)

router = APIRouter(prefix="/registry", tags=["registry"])
ListDep = Annotated[ListParams, Depends(list_params)]


def partial(model: type[BaseModel]) -> type[BaseModel]:
    """The same fields and constraints, all optional, for PATCH (the grid is not changed by a PATCH)."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name == "grid_code":
            continue
        optional = copy(info)
        optional.default = None
        fields[name] = (info.annotation | None, optional)  # type: ignore[operator]
    return create_model(model.__name__.removesuffix("In") + "Update", __config__=model.model_config, **fields)


def _add_routes(kind: str, singular: str, body_model: type[BaseModel], out_model: type[BaseModel]) -> None:
    def list_objects(
        session: SessionDep,
        principal: PrincipalDep,
        params: ListDep,
        q: Annotated[str | None, Query(max_length=100, description="name contains")] = None,
        grid_code: str | None = None,
        community_code: str | None = None,
        type_code: Annotated[str | None, Query(description="the kind's type code")] = None,
    ) -> Any:
        stmt = entities.query(
            principal, kind, q=q, grid_code=grid_code, community_code=community_code, type_code=type_code
        )
        rows, total = paginate(session, stmt, params)
        return Page[out_model].of([out_model.model_validate(r) for r in rows], total, params)  # type: ignore[valid-type]

    def create_object(body: body_model, session: SessionDep, principal: PrincipalDep) -> Any:  # type: ignore[valid-type]
        return out_model.model_validate(entities.create(session, principal, kind, body.model_dump()))  # type: ignore[attr-defined]

    def get_object(obj_id: int, session: SessionDep, principal: PrincipalDep) -> Any:
        return out_model.model_validate(entities.get(session, principal, kind, obj_id))

    update_model = partial(body_model)

    def update_object(obj_id: int, body: update_model, session: SessionDep, principal: PrincipalDep) -> Any:  # type: ignore[valid-type]
        changes = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        return out_model.model_validate(entities.update(session, principal, kind, obj_id, changes))

    router.add_api_route(
        f"/{kind}",
        list_objects,
        methods=["GET"],
        operation_id=f"registry_list_{kind}",
        response_model=Page[out_model],  # type: ignore[valid-type]
        summary=f"{kind.capitalize()} in your scope",
    )
    router.add_api_route(
        f"/{kind}",
        create_object,
        methods=["POST"],
        operation_id=f"registry_create_{singular}",
        response_model=out_model,
        status_code=201,
        summary=f"Register a {singular}",
    )
    router.add_api_route(
        f"/{kind}/{{obj_id}}",
        get_object,
        methods=["GET"],
        operation_id=f"registry_get_{singular}",
        response_model=out_model,
        summary=f"One {singular}",
    )
    router.add_api_route(
        f"/{kind}/{{obj_id}}",
        update_object,
        methods=["PATCH"],
        operation_id=f"registry_update_{singular}",
        response_model=out_model,
        summary=f"Correct a {singular} (fields as in its creation body)",
    )


_add_routes("organisations", "organisation", OrganisationIn, OrganisationOut)
_add_routes("places", "place", PlaceIn, PlaceOut)
_add_routes("schools", "school", SchoolIn, SchoolOut)


@router.get("/road-lines", operation_id="registry_list_road_lines", response_model=Page[road_lines.RoadLineOut])
def list_road_lines(
    session: SessionDep,
    principal: PrincipalDep,
    params: ListDep,
    q: Annotated[str | None, Query(max_length=100, description="name contains")] = None,
    line_type: str | None = None,
    hazard_level: str | None = None,
) -> Page[road_lines.RoadLineOut]:
    """Protected roads and lines (护路护线) in your district or street, with their hazards."""
    rows, total = paginate(
        session, road_lines.query(principal, q=q, line_type=line_type, hazard_level=hazard_level), params
    )
    return Page[road_lines.RoadLineOut].of([road_lines.out(r) for r in rows], total, params)


@router.post(
    "/road-lines", operation_id="registry_create_road_line", response_model=road_lines.RoadLineOut, status_code=201
)
def create_road_line(
    body: road_lines.RoadLineIn, session: SessionDep, principal: PrincipalDep
) -> road_lines.RoadLineOut:
    """Register a protected line in a district or street of your scope, with its course as GeoJSON."""
    return road_lines.out(road_lines.create(session, principal, body.model_dump()))


@router.get("/road-lines/{line_id}", operation_id="registry_get_road_line", response_model=road_lines.RoadLineOut)
def get_road_line(line_id: int, session: SessionDep, principal: PrincipalDep) -> road_lines.RoadLineOut:
    return road_lines.out(road_lines.get(session, principal, line_id))
