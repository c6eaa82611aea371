"""HTTP routes of the 12345 hotline (mounted under /api/v1; permission case:import).

A file import is a job: `POST /cases/hotline/imports` streams the export to disk (413 past
CIVICGRID_IMPORT_MAX_BYTES), checks its encoding and header against the mapping at once (422 before any
row is read), queues the job and answers 202; poll `GET /cases/hotline/imports/{job_id}` and fetch its
`…/error-report`. A hotline system pushing tickets one at a time calls `POST /cases/hotline/tickets`
(an API key with case:import). Saved mappings: `/cases/hotline/mappings`.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from civicgrid.auth.deps import PrincipalDep, SettingsDep
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.cases import hotline, hotline_mappings
from civicgrid.cases import hotline_import as importer
from civicgrid.cases.hotline_models import HotlineMapping
from civicgrid.config import Settings
from civicgrid.core import jobs
from civicgrid.core.errors import InvalidInput, NotFound
from civicgrid.core.import_uploads import enqueue_import, imports_dir, receive_import, start_route
from civicgrid.core.job_routes import JobOut, job_out
from civicgrid.core.uploads import Upload, upload_body
from civicgrid.core.web import SessionDep, get_database
from civicgrid.registry.import_routes import ReadPrincipalDep

router = APIRouter(prefix="/cases/hotline", tags=["cases: 12345 hotline"])
Mode = Literal["apply_valid", "all_or_nothing"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class HotlineFieldOut(BaseModel):
    name: str
    description: str
    required: bool = Field(description="the file must have this column, and every row must fill it")
    masked_in_reports: bool
    aliases: list[str] = Field(description="column headings mapped to it when the mapping does not say")


class HotlineMappingIn(_In):
    name: str = Field(min_length=1, max_length=100)
    columns: dict[str, str] = Field(description="file column → ticket field; fields left out are found by heading")
    categories: dict[str, str] = Field(
        min_length=1, max_length=5000, description="the hotline's category name → case category code (e.g. 0501)"
    )


class HotlineMappingUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    columns: dict[str, str] | None = None
    categories: dict[str, str] | None = Field(default=None, min_length=1, max_length=5000)


class HotlineMappingOut(BaseModel):
    id: int
    name: str
    columns: dict[str, str]
    categories: dict[str, str]
    created_by: int | None
    created_at: datetime
    updated_at: datetime


class HotlineTicketIn(_In):
    """One ticket as the hotline system holds it; times without an offset are local (Asia/Shanghai)."""

    ticket_no: str = Field(min_length=1, max_length=64)
    received_at: str = Field(
        min_length=1, max_length=40, description="ISO 8601, YYYY-MM-DD HH:MM:SS or YYYY/MM/DD HH:MM"
    )
    category: str | None = Field(default=None, max_length=100, description="the hotline's category (needs `mapping`)")
    category_code: str | None = Field(default=None, max_length=10, description="or the case category itself")
    description: str = Field(min_length=1, max_length=4000)
    address: str | None = Field(default=None, max_length=300)
    lon: float | None = None
    lat: float | None = None
    caller_phone: str | None = Field(default=None, max_length=40)
    caller_name: str | None = Field(default=None, max_length=60)
    priority: str | None = Field(default=None, max_length=20)


class HotlineTicketOut(BaseModel):
    ticket_no: str
    id: int = Field(description="the case")
    code: str
    status: Literal["created", "merged", "unchanged"] = Field(
        description="created a case; merged into the same open problem (+1); or taken in already"
    )


def _mapping_out(saved: HotlineMapping) -> HotlineMappingOut:
    return HotlineMappingOut(
        id=saved.id,
        name=saved.name,
        columns=dict(saved.columns),
        categories=dict(saved.categories),
        created_by=saved.created_by,
        created_at=saved.created_at,
        updated_at=saved.updated_at,
    )


@router.get("/fields", operation_id="hotline_fields", response_model=list[HotlineFieldOut])
def fields(principal: PrincipalDep) -> list[HotlineFieldOut]:
    """The ticket fields an export's columns can be mapped to."""
    require(principal, "case:import")
    return [
        HotlineFieldOut(
            name=spec.name,
            description=spec.description,
            required=spec.name in hotline.REQUIRED,
            masked_in_reports=spec.mask is not None,
            aliases=list(spec.aliases),
        )
        for spec in hotline.FIELDS.values()
    ]


@router.get("/mappings", operation_id="hotline_list_mappings", response_model=list[HotlineMappingOut])
def list_mappings(session: SessionDep, principal: PrincipalDep) -> list[HotlineMappingOut]:
    return [_mapping_out(m) for m in hotline_mappings.list_mappings(session, principal)]


@router.post("/mappings", operation_id="hotline_create_mapping", response_model=HotlineMappingOut, status_code=201)
def create_mapping(body: HotlineMappingIn, session: SessionDep, principal: PrincipalDep) -> HotlineMappingOut:
    saved = hotline_mappings.create_mapping(session, principal, body.name, body.columns, body.categories)
    return _mapping_out(saved)


@router.get("/mappings/{mapping_id}", operation_id="hotline_get_mapping", response_model=HotlineMappingOut)
def get_mapping(mapping_id: int, session: SessionDep, principal: PrincipalDep) -> HotlineMappingOut:
    return _mapping_out(hotline_mappings.get_mapping(session, principal, mapping_id))


@router.patch("/mappings/{mapping_id}", operation_id="hotline_update_mapping", response_model=HotlineMappingOut)
def update_mapping(
    mapping_id: int, body: HotlineMappingUpdate, session: SessionDep, principal: PrincipalDep
) -> HotlineMappingOut:
    saved = hotline_mappings.update_mapping(
        session, principal, mapping_id, name=body.name, columns=body.columns, categories=body.categories
    )
    return _mapping_out(saved)


@router.delete("/mappings/{mapping_id}", operation_id="hotline_delete_mapping", status_code=204)
def delete_mapping(mapping_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    hotline_mappings.delete_mapping(session, principal, mapping_id)
    return Response(status_code=204)


_UPLOAD_BODY = upload_body(
    "the export: raw (CSV, JSON, JSON Lines or the .xlsx bytes) or multipart/form-data with `file`",
    ("text/csv", "application/json", "application/octet-stream"),
)


@router.post("/imports", **start_route("hotline_start_import", _UPLOAD_BODY))
async def start_import(
    request: Request,
    principal: ReadPrincipalDep,
    mode: Annotated[
        Mode, Query(description="apply_valid: take in the good tickets; all_or_nothing: only if every one is good")
    ] = "apply_valid",
    mapping_name: Annotated[str | None, Query(max_length=100, description="a saved mapping")] = None,
    mapping: Annotated[
        str | None, Query(max_length=100_000, description='inline JSON {"columns": {…}, "categories": {…}}')
    ] = None,
    file_format: Annotated[Literal["auto", "csv", "xlsx", "json"], Query(alias="format")] = "auto",
    filename: Annotated[str | None, Query(max_length=255)] = None,
) -> JobOut:
    """Import 12345 tickets from an export (CSV in UTF-8 or GBK, XLSX, a JSON array or JSON Lines) as a job."""
    require(principal, "case:import")
    if (mapping is None) == (mapping_name is None):
        raise InvalidInput(
            "give a saved mapping (mapping_name) or one inline (mapping), one of them: the categories need it",
            details=[{"field": "mapping_name", "problem": "give exactly one of mapping_name and mapping"}],
        )

    def queue(upload: Upload) -> JobOut:
        return _queue(request, principal, mode, upload, mapping, mapping_name, file_format)

    return await receive_import(request, filename, queue)


def _inline(text: str) -> tuple[dict[str, str], dict[str, str]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"mapping is not valid JSON: {exc.msg}", details=[{"field": "mapping", "problem": "invalid JSON"}]
        ) from None
    try:
        parsed = HotlineMappingIn.model_validate({"name": "inline", **value})
    except (TypeError, ValueError):
        raise InvalidInput(
            'mapping must be {"columns": {"file column": "field", …}, "categories": {"hotline category": "0501", …}}',
            details=[{"field": "mapping", "problem": "not a mapping"}],
        ) from None
    return parsed.columns, parsed.categories


def _queue(
    request: Request,
    principal: Principal,
    mode: str,
    upload: Upload,
    inline: str | None,
    mapping_name: str | None,
    file_format: str,
) -> JobOut:
    settings: Settings = request.app.state.settings
    database = get_database(request)
    with database.unit_of_work(write=False) as session:
        if mapping_name is not None:
            saved = hotline_mappings.find_mapping(session, principal, mapping_name)
            columns, categories = dict(saved.columns), dict(saved.categories)
        else:
            assert inline is not None
            columns, categories = _inline(inline)
            columns = hotline_mappings.check_columns(columns)
            categories = hotline_mappings.check_categories(session, categories)
    fmt = importer.sniff(upload.path, upload.filename) if file_format == "auto" else file_format
    importer.check_file(upload.path, fmt, columns)
    spec = importer.HotlineSpec(
        path=str(upload.path),
        format=fmt,
        mode=mode,
        columns=columns,
        categories=categories,
        mapping_name=mapping_name,
        batch_size=min(settings.import_batch_size, 500),
        report_dir=str(imports_dir(settings)),
        timezone=settings.timezone,
        duplicate_metres=settings.case_duplicate_metres,
        duplicate_hours=settings.case_duplicate_hours,
    )
    return enqueue_import(request, principal, importer.JOB_KIND, "case:import", spec.params())


def _hotline_job(session: Session, principal: Principal, job_id: int) -> jobs.Job:
    job = jobs.get_job(session, principal, job_id)
    if job.kind != importer.JOB_KIND:
        raise NotFound(f"hotline import {job_id} not found", details={"id": str(job_id)})
    return job


@router.get("/imports/{job_id}", operation_id="hotline_get_import", response_model=JobOut)
def get_import(job_id: int, session: SessionDep, principal: PrincipalDep) -> JobOut:
    """An import job and its progress (poll it); the result counts created, merged, unchanged and failed."""
    return job_out(_hotline_job(session, principal, job_id))


@router.get(
    "/imports/{job_id}/error-report",
    operation_id="hotline_import_error_report",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "row, column, field, value (masked), reason"}},
)
def error_report(job_id: int, session: SessionDep, principal: PrincipalDep) -> FileResponse:
    """The import's per-row error report (CSV, UTF-8 with BOM); callers' names and phones masked."""
    job = _hotline_job(session, principal, job_id)
    if not job.error_report or not Path(job.error_report).is_file():
        raise NotFound(f"hotline import {job_id} has no error report", details={"id": str(job_id)})
    return FileResponse(job.error_report, media_type="text/csv; charset=utf-8", filename=f"hotline-{job.id}-errors.csv")


@router.post("/tickets", operation_id="hotline_push_ticket", response_model=HotlineTicketOut, status_code=201)
def push_ticket(
    body: HotlineTicketIn,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    mapping: Annotated[
        str | None, Query(max_length=100, description="the saved mapping whose categories apply")
    ] = None,
) -> HotlineTicketOut:
    """Take in one ticket pushed by the hotline system: 201 with the new case, or 200 when it was merged
    into the same open problem (+1) or taken in already (pushing again is harmless)."""
    require(principal, "case:import")
    raw: dict[str, Any] = body.model_dump(exclude={"category_code"})
    if body.category_code is not None:
        raw["category"], categories = body.category_code, {body.category_code: body.category_code}
    elif mapping is not None:
        categories = dict(hotline_mappings.find_mapping(session, principal, mapping).categories)
    else:
        raise InvalidInput(
            "give category_code, or category with the saved mapping (?mapping=NAME) that translates it",
            details=[{"field": "category_code", "problem": "required without a mapping"}],
        )
    ticket, problems = hotline.read_ticket(raw, categories, settings.tz)
    if ticket is None:
        raise InvalidInput(
            "; ".join(f"{name}: {reason}" for name, reason in problems),
            details=[{"field": name, "problem": reason} for name, reason in problems],
        )
    status, case = hotline.take_in(
        session,
        principal,
        ticket,
        duplicate_metres=settings.case_duplicate_metres,
        duplicate_hours=settings.case_duplicate_hours,
    )
    if status != "created":
        response.status_code = 200
    return HotlineTicketOut(ticket_no=ticket.ticket_no, id=case.id, code=case.code, status=status)
