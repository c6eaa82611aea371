"""HTTP routes of registry imports, saved column mappings and exports (mounted under /api/v1).

An import is a job: `POST /registry/imports/{people|houses}` streams the file to disk (413 past
CIVICGRID_IMPORT_MAX_BYTES, checked while reading), checks its encoding and its header against the
mapping at once (422 before any row is read), queues the job and answers 202 with it; poll
`GET /jobs/{id}` and fetch `GET /jobs/{id}/error-report`.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from civicgrid.auth.deps import PrincipalDep, SettingsDep, _api_key, _bearer, current_principal
from civicgrid.authz.scope import Principal
from civicgrid.config import Settings
from civicgrid.core.crypto import Keyring
from civicgrid.core.errors import InvalidInput
from civicgrid.core.import_uploads import enqueue_import, imports_dir, receive_import, start_route
from civicgrid.core.job_routes import JobOut
from civicgrid.core.uploads import Upload, upload_body
from civicgrid.core.web import SessionDep, WriteSessionDep, get_database
from civicgrid.registry import exporters, houses, import_mappings, people
from civicgrid.registry import imports as importers
from civicgrid.registry.sources import sniff_format

router = APIRouter(prefix="/registry", tags=["registry import and export"])

Entity = Literal["people", "houses"]
Mode = Literal["apply_valid", "all_or_nothing"]


def read_principal(
    request: Request,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The caller, authenticated in a short read-only transaction: an upload may take minutes, and a
    write transaction (SQLite's write lock) must not be held while it streams."""
    with get_database(request).unit_of_work(write=False) as session:
        return current_principal(session, settings, bearer, api_key)


ReadPrincipalDep = Annotated[Principal, Depends(read_principal)]


def _keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


KeyringDep = Annotated[Keyring, Depends(_keyring)]


_UPLOAD_BODY = upload_body(
    "the file: raw (text/csv or the .xlsx bytes) or multipart/form-data with a `file` part",
    ("text/csv", "application/octet-stream"),
)


@router.post("/imports/{entity}", **start_route("registry_start_import", _UPLOAD_BODY))
async def start_import(
    entity: Entity,
    request: Request,
    principal: ReadPrincipalDep,
    mode: Annotated[
        Mode, Query(description="apply_valid: write good rows; all_or_nothing: write only if all are good")
    ] = "apply_valid",
    mapping_name: Annotated[str | None, Query(max_length=100, description="a saved mapping")] = None,
    mapping: Annotated[
        str | None, Query(max_length=20_000, description='inline JSON {"file column": "field", …}')
    ] = None,
    sheet: Annotated[str | None, Query(max_length=100, description="XLSX: the worksheet (default: first)")] = None,
    file_format: Annotated[Literal["auto", "csv", "xlsx"], Query(alias="format")] = "auto",
    filename: Annotated[str | None, Query(max_length=255)] = None,
) -> JobOut:
    """Import people or houses from a CSV (UTF-8 or GBK) or XLSX file as a background job (202)."""
    importers.require_import(principal, entity)
    if mapping is not None and mapping_name is not None:
        raise InvalidInput(
            "give mapping or mapping_name, not both", details=[{"field": "mapping", "problem": "both given"}]
        )
    inline = _inline_mapping(entity, mapping) if mapping is not None else None

    def queue(upload: Upload) -> JobOut:
        return _queue(request, principal, entity, mode, upload, inline, mapping_name, sheet, file_format)

    return await receive_import(request, filename, queue)


def _inline_mapping(entity: str, text: str) -> dict[str, str]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"mapping is not valid JSON: {exc.msg}", details=[{"field": "mapping", "problem": "invalid JSON"}]
        ) from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidInput(
            'mapping must be a JSON object {"file column": "field", …}',
            details=[{"field": "mapping", "problem": "not an object of strings"}],
        )
    return import_mappings.check_mapping(entity, value)


def _queue(
    request: Request,
    principal: Principal,
    entity: str,
    mode: str,
    upload: Upload,
    inline: dict[str, str] | None,
    mapping_name: str | None,
    sheet: str | None,
    file_format: str,
) -> JobOut:
    settings: Settings = request.app.state.settings
    database = get_database(request)
    fmt = sniff_format(upload.path, upload.filename) if file_format == "auto" else file_format
    mapping = inline
    if mapping_name is not None:
        with database.unit_of_work(write=False) as session:
            mapping = dict(import_mappings.find_mapping(session, principal, entity, mapping_name).mapping)
    used = importers.check_file(upload.path, entity, fmt, mapping, sheet)
    spec = importers.ImportSpec(
        entity=entity,
        mode=mode,
        path=str(upload.path),
        format=fmt,
        mapping=used,
        mapping_name=mapping_name,
        sheet=sheet,
        batch_size=settings.import_batch_size,
        report_dir=str(imports_dir(settings)),
    )
    return enqueue_import(request, principal, f"registry.import.{entity}", "registry:import", spec.params())


class FieldOut(BaseModel):
    name: str
    description: str
    required: bool = Field(description="the file must have this column (or one of its group)")
    masked_in_reports: bool
    aliases: list[str] = Field(description="column headings mapped to it when no mapping is given")


@router.get("/import-fields", operation_id="registry_import_fields", response_model=list[FieldOut])
def import_fields(principal: PrincipalDep, entity: Entity = "people") -> list[FieldOut]:
    """The fields a file's columns can be mapped to."""
    importers.require_import(principal, entity)
    required = {name for group in importers.REQUIRED[entity] for name in group}
    return [
        FieldOut(
            name=spec.name,
            description=spec.description,
            required=spec.name in required,
            masked_in_reports=spec.mask is not None,
            aliases=list(spec.aliases),
        )
        for spec in importers.FIELDS[entity].values()
    ]


# -- saved mappings ---------------------------------------------------------------------------------------


class MappingIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    entity: Entity
    mapping: dict[str, str] = Field(description="file column → field", min_length=1, max_length=200)


class MappingUpdate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=100)
    mapping: dict[str, str] | None = Field(default=None, min_length=1, max_length=200)


class MappingOut(BaseModel):
    id: int
    name: str
    entity: str
    mapping: dict[str, str]
    unit_id: int | None
    created_by: int | None


def _mapping_out(saved: import_mappings.ImportMapping) -> MappingOut:
    return MappingOut(
        id=saved.id,
        name=saved.name,
        entity=saved.entity,
        mapping=dict(saved.mapping),
        unit_id=saved.unit_id,
        created_by=saved.created_by,
    )


@router.get("/import-mappings", operation_id="registry_list_import_mappings", response_model=list[MappingOut])
def list_mappings(session: SessionDep, principal: PrincipalDep, entity: Entity | None = None) -> list[MappingOut]:
    """Mappings saved by your unit (or by you)."""
    return [_mapping_out(m) for m in import_mappings.list_mappings(session, principal, entity)]


@router.post(
    "/import-mappings", operation_id="registry_create_import_mapping", response_model=MappingOut, status_code=201
)
def create_mapping(body: MappingIn, session: SessionDep, principal: PrincipalDep) -> MappingOut:
    saved = import_mappings.create_mapping(session, principal, body.name, body.entity, body.mapping)
    return _mapping_out(saved)


@router.get("/import-mappings/{mapping_id}", operation_id="registry_get_import_mapping", response_model=MappingOut)
def get_mapping(mapping_id: int, session: SessionDep, principal: PrincipalDep) -> MappingOut:
    return _mapping_out(import_mappings.get_mapping(session, principal, mapping_id))


@router.patch("/import-mappings/{mapping_id}", operation_id="registry_update_import_mapping", response_model=MappingOut)
def update_mapping(mapping_id: int, body: MappingUpdate, session: SessionDep, principal: PrincipalDep) -> MappingOut:
    saved = import_mappings.update_mapping(session, principal, mapping_id, body.name, body.mapping)
    return _mapping_out(saved)


@router.delete("/import-mappings/{mapping_id}", operation_id="registry_delete_import_mapping", status_code=204)
def delete_mapping(mapping_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    import_mappings.delete_mapping(session, principal, mapping_id)
    return Response(status_code=204)


# -- exports ----------------------------------------------------------------------------------------------

_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
        },
        "description": "the masked rows",
    }
}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(request: Request, export: exporters.Export, fmt: str) -> StreamingResponse:
    database = get_database(request)
    settings: Settings = request.app.state.settings
    name = f"{export.entity}-{date.today():%Y%m%d}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "X-Total-Count": str(export.rows)}
    if fmt == "xlsx":
        stream = exporters.xlsx_stream(export, database, settings.data_dir / "exports")
        return StreamingResponse(stream, media_type=XLSX_TYPE, headers=headers)
    return StreamingResponse(
        exporters.csv_stream(export, database), media_type="text/csv; charset=utf-8", headers=headers
    )


@router.get(
    "/exports/people",
    operation_id="registry_export_people",
    response_class=StreamingResponse,
    responses=_EXPORT_RESPONSES,
)
def export_people(
    request: Request,
    session: WriteSessionDep,
    principal: PrincipalDep,
    keyring: KeyringDep,
    file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
    name: Annotated[str | None, Query(max_length=100, description="name starts with")] = None,
    grid_code: str | None = None,
    community_code: str | None = None,
    street_code: str | None = None,
    person_type: str | None = None,
    status: Annotated[str | None, Query(description="active (default), moved_away, deceased or all")] = "active",
    review_status: str | None = None,
    key_attention: bool | None = None,
    house_id: int | None = None,
    household_id: int | None = None,
    address: Annotated[str | None, Query(max_length=100, description="house address contains")] = None,
) -> StreamingResponse:
    """People of your scope (the list's filters), masked, as CSV or XLSX; the export is audited."""
    filters = people.PersonFilter(
        name,
        grid_code,
        community_code,
        street_code,
        person_type,
        None if status == "all" else status,
        review_status,
        key_attention,
        house_id,
        household_id,
        address,
    )
    export = exporters.start_export(session, principal, keyring, "people", file_format, filters)
    return _download(request, export, file_format)


@router.get(
    "/exports/houses",
    operation_id="registry_export_houses",
    response_class=StreamingResponse,
    responses=_EXPORT_RESPONSES,
)
def export_houses(
    request: Request,
    session: WriteSessionDep,
    principal: PrincipalDep,
    keyring: KeyringDep,
    file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
    address: Annotated[str | None, Query(max_length=100, description="address contains")] = None,
    use: str | None = None,
    grid_code: str | None = None,
    community_code: str | None = None,
) -> StreamingResponse:
    """Houses of your scope (the list's filters), owners masked, as CSV or XLSX; the export is audited."""
    filters = houses.HouseFilter(address, use, grid_code, community_code)
    export = exporters.start_export(session, principal, keyring, "houses", file_format, filters)
    return _download(request, export, file_format)
