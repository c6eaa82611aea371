"""Routes of the safety module: the incident categories and the feeds (mounted under /api/v1/safety).

A feed file is imported as a job: `POST /safety/imports` streams it to disk (413 past
CIVICGRID_IMPORT_MAX_BYTES), checks its encoding and header against the saved mapping at once (422 before
any row is read), queues the job and answers 202; poll `GET /jobs/{id}` and fetch
`GET /jobs/{id}/error-report`. A police system pushing calls as they come calls `POST /safety/incidents`
(an API key of a role with safety:import), all or nothing per call.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.auth.deps import PrincipalDep
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.config import Settings
from civicgrid.core.errors import InvalidInput
from civicgrid.core.import_uploads import enqueue_import, imports_dir, receive_import, start_route
from civicgrid.core.job_routes import JobOut
from civicgrid.core.pagination import ListParams, Page, apply_sort, list_params, paginate, parse_bbox
from civicgrid.core.uploads import Upload, upload_body
from civicgrid.core.web import SessionDep, get_database
from civicgrid.registry.import_routes import ReadPrincipalDep
from civicgrid.safety import feed_import, feed_mappings, incidents
from civicgrid.safety.feed_schemas import (
    CategoryOut,
    FeedFieldOut,
    FeedMappingIn,
    FeedMappingOut,
    IncidentBatchIn,
    IncidentBatchOut,
    IncidentOut,
)
from civicgrid.safety.feeds import FIELDS, REQUIRED
from civicgrid.safety.models import SafetyCategory, SafetyFeedMapping, SafetyIncident

router = APIRouter(prefix="/safety", tags=["safety: feeds"])
Mode = Literal["apply_valid", "all_or_nothing"]
INCIDENT_SORTS = {
    "occurred_at": SafetyIncident.occurred_at,
    "imported_at": SafetyIncident.imported_at,
    "category_code": SafetyIncident.category_code,
    "source": SafetyIncident.source,
}


# -- categories ------------------------------------------------------------------------------------------


@router.get("/categories", operation_id="safety_categories_tree", response_model=list[CategoryOut])
def categories(session: SessionDep, principal: PrincipalDep) -> list[CategoryOut]:
    """The incident categories: classes (with the index indicator each counts towards) and their leaves."""
    require(principal, "safety:read")
    rows = list(session.scalars(select(SafetyCategory).order_by(SafetyCategory.sort, SafetyCategory.code)))

    def out(c: SafetyCategory) -> CategoryOut:
        return CategoryOut(code=c.code, name_zh=c.name_zh, name_en=c.name_en, indicator=c.indicator, active=c.active)

    classes = {c.code: out(c) for c in rows if c.depth == 1}
    for c in rows:
        if c.depth == 2 and c.parent_code in classes:
            classes[c.parent_code].children.append(out(c))
    return list(classes.values())


# -- feed mappings ---------------------------------------------------------------------------------------


def _mapping_out(saved: SafetyFeedMapping) -> FeedMappingOut:
    return FeedMappingOut(
        id=saved.id,
        name=saved.name,
        source=saved.source,
        columns=dict(saved.columns),
        categories=dict(saved.categories),
        unknown_category=saved.unknown_category,
        fallback_category=saved.fallback_category,
        created_by=saved.created_by,
        created_at=saved.created_at,
        updated_at=saved.updated_at,
    )


@router.get("/feed-fields", operation_id="safety_feed_fields", response_model=list[FeedFieldOut])
def feed_fields(principal: PrincipalDep) -> list[FeedFieldOut]:
    """The record fields a feed's columns can be mapped to (nothing else is ever read)."""
    require(principal, feed_mappings.PERMISSION)
    return [
        FeedFieldOut(name=s.name, description=s.description, required=s.name in REQUIRED, aliases=list(s.aliases))
        for s in FIELDS.values()
    ]


@router.get("/feed-mappings", operation_id="safety_feed_mappings_list", response_model=list[FeedMappingOut])
def list_mappings(session: SessionDep, principal: PrincipalDep) -> list[FeedMappingOut]:
    return [_mapping_out(m) for m in feed_mappings.list_mappings(session, principal)]


@router.post(
    "/feed-mappings", operation_id="safety_feed_mapping_create", response_model=FeedMappingOut, status_code=201
)
def create_mapping(body: FeedMappingIn, session: SessionDep, principal: PrincipalDep) -> FeedMappingOut:
    """Save a feed's mapping: columns → record fields, labels → categories, the unknown-label policy."""
    return _mapping_out(feed_mappings.create_mapping(session, principal, **body.model_dump()))


@router.get("/feed-mappings/{mapping_id}", operation_id="safety_feed_mapping_get", response_model=FeedMappingOut)
def get_mapping(mapping_id: int, session: SessionDep, principal: PrincipalDep) -> FeedMappingOut:
    return _mapping_out(feed_mappings.get_mapping(session, principal, mapping_id))


@router.put("/feed-mappings/{mapping_id}", operation_id="safety_feed_mapping_update", response_model=FeedMappingOut)
def update_mapping(
    mapping_id: int, body: FeedMappingIn, session: SessionDep, principal: PrincipalDep
) -> FeedMappingOut:
    """Replace a mapping whole (imports already queued keep the mapping they started with)."""
    return _mapping_out(feed_mappings.update_mapping(session, principal, mapping_id, **body.model_dump()))


@router.delete("/feed-mappings/{mapping_id}", operation_id="safety_feed_mapping_delete", status_code=204)
def delete_mapping(mapping_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    feed_mappings.delete_mapping(session, principal, mapping_id)
    return Response(status_code=204)


# -- file imports ----------------------------------------------------------------------------------------

_UPLOAD_BODY = upload_body(
    "the feed: multipart/form-data with `file`, `mapping_id` and `mode`; or the raw CSV, JSON or JSON Lines "
    "with mapping_id and mode in the query",
    ("text/csv", "application/json", "application/octet-stream"),
    {
        "mapping_id": {"type": "integer", "description": "the saved feed mapping"},
        "mode": {"type": "string", "enum": ["apply_valid", "all_or_nothing"], "default": "apply_valid"},
    },
)


@router.post("/imports", **start_route("safety_feed_import_start", _UPLOAD_BODY))
async def start_import(
    request: Request,
    principal: ReadPrincipalDep,
    mapping_id: Annotated[int | None, Query(description="the saved feed mapping (or a form field)")] = None,
    mode: Annotated[
        Mode | None, Query(description="apply_valid: store the good rows; all_or_nothing: only if every one is good")
    ] = None,
    filename: Annotated[str | None, Query(max_length=255)] = None,
) -> JobOut:
    """Import police calls or incidents from a CSV (UTF-8 or GBK), JSON array or JSON Lines file as a job
    (202); the job's result counts created, duplicates (stored before) and failed rows, and lists the
    category labels the mapping's table lacks."""
    require(principal, feed_mappings.PERMISSION)

    def queue(upload: Upload) -> JobOut:
        return _queue(request, principal, *_form_choices(upload, mapping_id, mode), upload)

    return await receive_import(request, filename, queue, keep_fields=True)


def _form_choices(upload: Upload, mapping_id: int | None, mode: str | None) -> tuple[int, str]:
    """mapping_id and mode from the query or the form (not both, unless they agree)."""
    problems: list[dict[str, str]] = []
    form_id = upload.fields.get("mapping_id")
    if form_id is not None:
        if not form_id.isdigit():
            problems.append({"field": "mapping_id", "problem": f"{form_id!r} is not a mapping id"})
        elif mapping_id is not None and int(form_id) != mapping_id:
            problems.append({"field": "mapping_id", "problem": "the query and the form name different mappings"})
        else:
            mapping_id = int(form_id)
    form_mode = upload.fields.get("mode")
    if form_mode is not None:
        if form_mode not in feed_import.MODES:
            problems.append({"field": "mode", "problem": "apply_valid or all_or_nothing"})
        elif mode is not None and form_mode != mode:
            problems.append({"field": "mode", "problem": "the query and the form give different modes"})
        else:
            mode = form_mode
    if mapping_id is None and not problems:
        problems.append({"field": "mapping_id", "problem": "required: the saved feed mapping to read the file with"})
    if problems:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in problems), details=problems)
    assert mapping_id is not None
    return mapping_id, mode or "apply_valid"


def _queue(request: Request, principal: Principal, mapping_id: int, mode: str, upload: Upload) -> JobOut:
    settings: Settings = request.app.state.settings
    database = get_database(request)
    with database.unit_of_work(write=False) as session:
        saved = feed_mappings.get_mapping(session, principal, mapping_id)
        spec = feed_import.FeedSpec(
            path=str(upload.path),
            format=feed_import.sniff(upload.path, upload.filename),
            mode=mode,
            mapping_id=saved.id,
            mapping_name=saved.name,
            source=saved.source,
            columns=dict(saved.columns),
            categories=dict(saved.categories),
            unknown_category=saved.unknown_category,
            fallback_category=saved.fallback_category,
            report_dir=str(imports_dir(settings)),
        )
    feed_import.check_file(upload.path, spec.format, spec.columns)
    return enqueue_import(request, principal, feed_import.JOB_KIND, feed_mappings.PERMISSION, spec.params())


# -- pushed calls and the incident list ------------------------------------------------------------------


@router.post(
    "/incidents",
    operation_id="safety_incidents_push",
    response_model=IncidentBatchOut,
    status_code=201,
    responses={200: {"model": IncidentBatchOut, "description": "nothing new: every incident was stored before"}},
)
def push_incidents(
    body: IncidentBatchIn, response: Response, session: SessionDep, principal: PrincipalDep
) -> IncidentBatchOut:
    """Store up to 1,000 calls as a police system receives them, all or nothing: any invalid incident →
    422 listing every problem, nothing stored. Incidents stored before are listed as duplicates (pushing
    again is harmless). Screens of the incidents' areas are told at once (live topic `safety.incident`)."""
    require(principal, feed_mappings.PERMISSION)
    source: str | None = body.source
    if body.mapping_id is not None:
        saved = feed_mappings.get_mapping(session, principal, body.mapping_id)
        if source is not None and source != saved.source:
            raise InvalidInput(
                f"the mapping {saved.name!r} is of source {saved.source}, not {source}",
                details=[{"field": "source", "problem": "differs from the mapping's source"}],
            )
        source = saved.source
        table = feed_mappings.category_table(
            session, dict(saved.categories), saved.unknown_category, saved.fallback_category
        )
    else:
        table = feed_mappings.category_table(session, {}, "report", None)
    if source is None:
        raise InvalidInput(
            "give the source (110, 119, 122 or records), or a mapping_id whose source applies",
            details=[{"field": "source", "problem": "required without mapping_id"}],
        )
    items: list[dict[str, Any]] = [item.model_dump() for item in body.incidents]
    stored = incidents.receive(session, principal, source, items, table)
    if not stored.created:
        response.status_code = 200
    return IncidentBatchOut(
        created=len(stored.created),
        created_ids=[r.record_id for r in stored.created],
        duplicates=stored.duplicates,
    )


def _names(session: Session) -> dict[str, str]:
    return {str(code): str(name) for code, name in session.execute(select(SafetyCategory.code, SafetyCategory.name_zh))}


@router.get("/incidents", operation_id="safety_incidents_list", response_model=Page[IncidentOut])
def list_incidents(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[ListParams, Depends(list_params)],
    source: Annotated[Literal["110", "119", "122", "records"] | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=4, description="a leaf code, or a class's 2 digits")] = None,
    area_code: Annotated[str | None, Query(max_length=15, description="a division: its records and below")] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    bbox: Annotated[
        str | None, Query(max_length=100, description="min_lon,min_lat,max_lon,max_lat: only records in this box")
    ] = None,
) -> Page[IncidentOut]:
    """Single calls and incidents of your area (safety:incidents), newest first unless sorted otherwise."""
    filters = incidents.IncidentFilter(source, category, area_code, since, until, parse_bbox(bbox) if bbox else None)
    query = apply_sort(
        incidents.query(session, principal, filters),
        params.sort,
        INCIDENT_SORTS,
        [SafetyIncident.occurred_at.desc(), SafetyIncident.id.desc()],
    )
    rows, total = paginate(session, query, params)
    names = _names(session)
    return Page[IncidentOut].of(
        [
            IncidentOut(
                id=r.id,
                source=r.source,
                record_id=r.record_id,
                occurred_at=r.occurred_at,
                time_precision=r.time_precision,
                day=r.day,
                category_code=r.category_code,
                category_name=names.get(r.category_code),
                raw_category=r.raw_category,
                division_code=r.division_code,
                district_code=r.district_code,
                street_code=r.street_code,
                community_code=r.community_code,
                grid_code=r.grid_code,
                lon=r.lon,
                lat=r.lat,
                address=r.address,
                severity=r.severity,
                deaths=r.deaths,
                injuries=r.injuries,
                imported_at=r.imported_at,
            )
            for r in rows
        ],
        total,
        params,
    )
