"""HTTP routes of the administrative map (mounted under /api/v1)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import JSONResponse

from civicgrid.auth.deps import PrincipalDep
from civicgrid.authz.policy import in_scope, require
from civicgrid.authz.scope import Level
from civicgrid.core.errors import InvalidInput, NotFound
from civicgrid.core.pagination import ListParams, Page, list_params
from civicgrid.core.web import SessionDep
from civicgrid.geo import boundaries as boundary_service
from civicgrid.geo import imports, lookup, service
from civicgrid.geo.schemas import (
    AncestorOut,
    BatchLookupIn,
    BatchLookupOut,
    DivisionDetailOut,
    DivisionOut,
    FeatureCollectionOut,
    ImportResultOut,
    LookupOut,
    StaffOut,
    SummaryOut,
)

router = APIRouter(prefix="/geo", tags=["geo"])

ListParamsDep = Annotated[ListParams, Depends(list_params)]
MAX_UPLOAD_BYTES = 64 * 1024 * 1024


@router.get("/divisions", operation_id="geo_list_divisions", response_model=Page[DivisionOut])
def list_divisions(
    session: SessionDep,
    principal: PrincipalDep,
    params: ListParamsDep,
    level: Annotated[str | None, Query(description="city, district, street, community or grid")] = None,
    parent_code: Annotated[str | None, Query(max_length=15)] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the name, or the start of the code")] = None,
) -> Page[DivisionOut]:
    """Divisions in your scope; sort by code, name, level, households, population or area_km2."""
    rows, total = service.list_divisions(session, principal, params, level=level, parent_code=parent_code, q=q)
    return Page[DivisionOut].of([DivisionOut.model_validate(r) for r in rows], total, params)


@router.get("/divisions/{code}", operation_id="geo_get_division", response_model=DivisionDetailOut)
def get_division(session: SessionDep, principal: PrincipalDep, code: str) -> DivisionDetailOut:
    """One division with its ancestors, number of children and, for grids and communities, their staff

    (a grid's worker and its community's grid leader; a community's grid leader)."""
    from civicgrid.org import service as org_service

    division = service.get_division(session, principal, code)
    worker = leader = None
    if division.level == "grid":
        staff = org_service.staff_of(session, code, "grid_worker")
        worker = StaffOut(user_id=staff[0], display_name=staff[1], duty="grid_worker") if staff else None
    # A grid answers to its community's grid leader (网格长).
    community = code if division.level == "community" else division.parent_code if division.level == "grid" else None
    if community is not None:
        staff = org_service.staff_of(session, community, "grid_leader")
        leader = StaffOut(user_id=staff[0], display_name=staff[1], duty="grid_leader") if staff else None
    return DivisionDetailOut(
        **DivisionOut.model_validate(division).model_dump(),
        ancestors=[
            AncestorOut(code=a.code, name=a.name, level=a.level) for a in service.ancestors_of(session, division)
        ],
        children_count=service.children_count(session, code),
        grid_worker=worker,
        grid_leader=leader,
    )


@router.get("/divisions/{code}/children", operation_id="geo_list_children", response_model=Page[DivisionOut])
def list_children(session: SessionDep, principal: PrincipalDep, code: str, params: ListParamsDep) -> Page[DivisionOut]:
    rows, total = service.list_children(session, principal, code, params)
    return Page[DivisionOut].of([DivisionOut.model_validate(r) for r in rows], total, params)


@router.get(
    "/boundaries",
    operation_id="geo_boundaries",
    response_model=FeatureCollectionOut,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def get_boundaries(
    session: SessionDep,
    principal: PrincipalDep,
    level: Literal["city", "district", "street", "community", "grid"],
    parent_code: Annotated[str | None, Query(max_length=15)] = None,
    zoom: Annotated[int | None, Query(ge=0, le=24, description="map zoom; coarser zooms get simpler shapes")] = None,
) -> JSONResponse:
    """GeoJSON boundaries of one level inside your scope (a grid worker sees only the own grid)."""
    collection = boundary_service.boundaries(session, principal, level=level, parent_code=parent_code, zoom=zoom)
    return JSONResponse(collection)


@router.get("/lookup", operation_id="geo_lookup", response_model=LookupOut)
def lookup_point(
    session: SessionDep,
    principal: PrincipalDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
) -> LookupOut:
    """The grid containing a WGS84 point, with its community, street, district and city (404 outside)."""
    require(principal, "geo:read")
    found = lookup.lookup_point(session, lon, lat)
    if not in_scope(
        principal, {level: code for level, (code, _name) in found.ancestors.items()} | {Level.grid: found.grid_code}
    ):
        raise NotFound("this point lies in a grid outside your scope", code="outside_scope")
    names = {level.value: value for level, value in found.ancestors.items()}

    def code_of(level: str) -> str | None:
        return names[level][0] if level in names else None

    def name_of(level: str) -> str | None:
        return names[level][1] if level in names else None

    return LookupOut(
        lon=lon,
        lat=lat,
        grid_code=found.grid_code,
        grid_name=found.grid_name,
        community_code=code_of("community"),
        community_name=name_of("community"),
        street_code=code_of("street"),
        street_name=name_of("street"),
        district_code=code_of("district"),
        district_name=name_of("district"),
        city_code=code_of("city") or "",
        city_name=name_of("city"),
    )


@router.post("/lookup/batch", operation_id="geo_lookup_batch", response_model=BatchLookupOut)
def lookup_batch(session: SessionDep, principal: PrincipalDep, body: BatchLookupIn) -> BatchLookupOut:
    """Grid codes for up to 10,000 [lon, lat] points at once (null for a point in no grid)."""
    require(principal, "geo:read")
    codes = lookup.lookup_many(session, body.points) if body.points else []
    in_city = sum(c is not None for c in codes)
    if principal.scope.level != Level.city:
        visible = service.grid_codes_in_scope(session, principal)
        codes = [c if c in visible else None for c in codes]
    found = sum(c is not None for c in codes)
    return BatchLookupOut(grid_codes=codes, found=found, outside=len(codes) - in_city, outside_scope=in_city - found)


@router.get("/summary/{code}", operation_id="geo_summary", response_model=SummaryOut)
def get_summary(session: SessionDep, principal: PrincipalDep, code: str) -> SummaryOut:
    """Counts below an area, its grids (staffed or not), households, population and area."""
    result = service.summary(session, principal, code)
    division = result.division
    return SummaryOut(
        code=division.code,
        name=division.name,
        level=division.level,
        counts=result.counts,
        grids=result.grids,
        staffed_grids=result.staffed_grids,
        unstaffed_grids=result.grids - result.staffed_grids,
        households=division.households,
        population=division.population,
        area_km2=division.area_km2,
    )


def _read_upload(file: UploadFile) -> bytes:
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it")
    return data


def _result(result: imports.ImportResult) -> ImportResultOut:
    return ImportResultOut(
        kind=result.kind,
        dry_run=result.dry_run,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        by_level=result.by_level,
    )


DryRun = Annotated[bool, Query(description="check everything, write nothing")]
Upload = Annotated[UploadFile, File(description="the file to import (UTF-8)")]


@router.post("/import/divisions", operation_id="geo_import_divisions", response_model=ImportResultOut)
def import_divisions(
    session: SessionDep, principal: PrincipalDep, file: Upload, dry_run: DryRun = False
) -> ImportResultOut:
    """Divisions from a `level,code,name,parent_code` CSV; all rows or none (every problem listed)."""
    require(principal, "geo:import")
    data = _read_upload(file)
    return _result(imports.import_divisions(session, principal, data, dry_run=dry_run))


@router.post("/import/boundaries", operation_id="geo_import_boundaries", response_model=ImportResultOut)
def import_boundaries(
    session: SessionDep, principal: PrincipalDep, file: Upload, dry_run: DryRun = False
) -> ImportResultOut:
    """Boundaries of existing divisions from GeoJSON features with a `code` property; all or none."""
    require(principal, "geo:import")
    data = _read_upload(file)
    return _result(imports.import_boundaries(session, principal, data, dry_run=dry_run))


@router.post("/import/grids", operation_id="geo_import_grids", response_model=ImportResultOut)
def import_grids(
    session: SessionDep, principal: PrincipalDep, file: Upload, dry_run: DryRun = False
) -> ImportResultOut:
    """Grids from GeoJSON (code = community code + 3 digits, name, households, population); all or none."""
    require(principal, "geo:import")
    data = _read_upload(file)
    return _result(imports.import_grids(session, principal, data, dry_run=dry_run))
