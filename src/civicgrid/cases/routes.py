"""HTTP routes of cases: categories, reports, the list, the detail with its timeline, and actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from civicgrid.auth.deps import PrincipalDep, SettingsDep
from civicgrid.authz.scope import Principal
from civicgrid.cases import categories, intake, service
from civicgrid.cases.models import Case, CaseCategory
from civicgrid.cases.schemas import (
    ActionIn,
    ActionOut,
    CaseDetailOut,
    CaseOut,
    CaseReport,
    CategoryCreate,
    CategoryOut,
    CategoryUpdate,
    DispatchOption,
    ReportOut,
)
from civicgrid.cases.views import case_detail, case_out, category_names
from civicgrid.core.clock import utcnow
from civicgrid.core.errors import InvalidInput
from civicgrid.core.pagination import ListParams, Page, apply_sort, list_params, paginate, parse_bbox
from civicgrid.core.web import SessionDep
from civicgrid.org import service as org

router = APIRouter(prefix="/cases", tags=["cases"])
CASE_SORTS = {
    "reported_at": Case.reported_at,
    "handle_due": Case.handle_due,
    "accept_due": Case.accept_due,
    "priority": Case.priority,
    "status": Case.status,
    "id": Case.id,
}
# A person's channel follows from their role; machines (API keys) say theirs in the body.
ROLE_SOURCES = {
    "grid_worker": "grid_worker",
    "resident": "resident",
    "volunteer": "volunteer",
    "department_staff": "department",
    "center_operator": "centre",
    "community_staff": "centre",
}


@router.get("/categories", operation_id="cases_list_categories", response_model=list[CategoryOut])
def list_categories(
    session: SessionDep, include_inactive: Annotated[bool, Query(description="also retired categories")] = False
) -> list[CategoryOut]:
    """The two-level category table (public: the resident page needs it before anyone signs in)."""
    return [
        CategoryOut.model_validate(c) for c in categories.list_categories(session, include_inactive=include_inactive)
    ]


@router.post("/categories", operation_id="cases_create_category", response_model=CategoryOut, status_code=201)
def create_category(body: CategoryCreate, session: SessionDep, principal: PrincipalDep) -> CategoryOut:
    return CategoryOut.model_validate(categories.create_category(session, principal, body.model_dump()))


@router.patch("/categories/{code}", operation_id="cases_update_category", response_model=CategoryOut)
def update_category(code: str, body: CategoryUpdate, session: SessionDep, principal: PrincipalDep) -> CategoryOut:
    changes = body.model_dump(exclude_unset=True)
    return CategoryOut.model_validate(categories.update_category(session, principal, code, changes))


def source_of(principal: Principal, requested: str | None) -> str:
    if principal.api_key_id is not None:
        if requested is None:
            raise InvalidInput(
                "a machine client must say its channel in `source` (iot, video, volunteer, sos, hotline_12345, …)",
                details=[{"field": "source", "problem": "required for API keys"}],
            )
        return requested
    if requested is not None and requested != ROLE_SOURCES.get(principal.role):
        raise InvalidInput(
            "`source` is for machine clients; your reports are filed under your own channel",
            details=[{"field": "source", "problem": "not for people"}],
        )
    return ROLE_SOURCES.get(principal.role, "centre")


@router.post("", operation_id="cases_report", response_model=ReportOut, status_code=201)
def report_case(
    body: CaseReport, request: Request, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> ReportOut:
    """Report a problem at a point; it is placed in its grid and its deadlines set.

    A report of the same category near an open case answers 409 `possible_duplicate` with the
    candidates: follow one (`POST /cases/{id}/follow`) or send again with `force_new`.
    """
    source = source_of(principal, body.source)
    outcome = intake.report(
        session,
        principal,
        intake.Report(**body.model_dump(exclude={"source"})),
        source=source,
        duplicate_metres=settings.case_duplicate_metres,
        duplicate_hours=settings.case_duplicate_hours,
    )
    return ReportOut(
        case=case_detail(session, principal, outcome.case) if not body.anonymous else None,
        id=outcome.case.id,
        code=outcome.case.code,
        created=outcome.created,
        followed=outcome.followed,
        token=outcome.token,
    )


@router.get("", operation_id="cases_list", response_model=Page[CaseOut])
def list_cases(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[ListParams, Depends(list_params)],
    status: str | None = None,
    open_only: Annotated[bool, Query(description="only cases not yet closed or rejected")] = False,
    category_code: Annotated[str | None, Query(description="a category, or a class's 2 digits for all of it")] = None,
    source: str | None = None,
    priority: str | None = None,
    level: str | None = None,
    card: Annotated[str | None, Query(description="yellow or red")] = None,
    district_code: str | None = None,
    street_code: str | None = None,
    community_code: str | None = None,
    grid_code: str | None = None,
    lead_unit_id: int | None = None,
    overdue: Annotated[bool, Query(description="only open cases past their current deadline")] = False,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=100, description="a case code, or words of the title")] = None,
    mine: Annotated[bool, Query(description="only the cases you reported yourself")] = False,
    bbox: Annotated[
        str | None, Query(max_length=100, description="min_lon,min_lat,max_lon,max_lat: only cases in this box (map)")
    ] = None,
) -> Page[CaseOut]:
    """Cases you may see, filtered, newest first unless sorted otherwise."""
    filters = service.CaseFilter(
        status, open_only, category_code, source, priority, level, card, district_code, street_code,
        community_code, grid_code, lead_unit_id, overdue, since, until, q, parse_bbox(bbox) if bbox else None, mine,
    )  # fmt: skip
    query = apply_sort(
        service.query_cases(principal, filters), params.sort, CASE_SORTS, [Case.reported_at.desc(), Case.id.desc()]
    )
    rows, total = paginate(session, query, params)
    names = category_names(session)
    now = utcnow()
    return Page[CaseOut].of([case_out(case, names, now) for case in rows], total, params)


@router.get("/{case_id}", operation_id="cases_get", response_model=CaseDetailOut)
def get_case(case_id: int, session: SessionDep, principal: PrincipalDep) -> CaseDetailOut:
    """One case with its timeline, departments, photos, cards and the actions you may take now."""
    return case_detail(session, principal, service.get_case(session, principal, case_id))


@router.post("/{case_id}/actions", operation_id="cases_act", response_model=ActionOut)
def act(case_id: int, body: ActionIn, session: SessionDep, principal: PrincipalDep) -> ActionOut:
    """Take a workflow action. Not allowed now → 409 with `allowed_actions`; a replayed
    `idempotency_key` returns the first result; a stale `expected_version` → 409 `stale_version`."""
    result = service.act(session, principal, case_id, service.ActionInput(**body.model_dump()))
    return ActionOut(
        case=case_detail(session, principal, result.case), action_id=result.action.id, replayed=result.replayed
    )


@router.post("/{case_id}/follow", operation_id="cases_follow", response_model=ReportOut)
def follow(case_id: int, session: SessionDep, principal: PrincipalDep) -> ReportOut:
    """+1: you have the same problem as this open case and will follow it instead of reporting anew."""
    source = ROLE_SOURCES.get(principal.role, "centre")
    outcome = intake.follow(session, principal, case_id, source=source)
    return ReportOut(case=None, id=outcome.case.id, code=outcome.case.code, created=False, followed=True, token=None)


@router.get("/{case_id}/dispatch-options", operation_id="cases_dispatch_options", response_model=list[DispatchOption])
def dispatch_options(case_id: int, session: SessionDep, principal: PrincipalDep) -> list[DispatchOption]:
    """Departments that may take this case: those serving its district, the category's usual one first."""
    case = service.get_case(session, principal, case_id)
    category = session.get(CaseCategory, case.category_code)
    usual = category.department_type if category else None
    units = org.departments_for(session, case.district_code)
    options = [
        DispatchOption(
            id=u.id,
            name=u.name,
            department_type=u.department_type,
            district_code=u.district_code,
            suggested=u.department_type == usual,
        )
        for u in units
    ]
    return sorted(options, key=lambda o: not o.suggested)
