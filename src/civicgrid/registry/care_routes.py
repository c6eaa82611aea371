"""HTTP routes of special-care records and visits (every read audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from civicgrid.auth.deps import PrincipalDep
from civicgrid.auth.models import User
from civicgrid.core.masking import mask_name
from civicgrid.core.pagination import ListParams, Page, apply_sort, list_params, paginate
from civicgrid.core.web import SessionDep, WriteSessionDep
from civicgrid.registry import care
from civicgrid.registry.care_schemas import (
    CareCreate,
    CareDetailOut,
    CareOut,
    CareUpdate,
    OverdueByGrid,
    VisitIn,
    VisitOut,
)
from civicgrid.registry.models import Person, SpecialCare
from civicgrid.registry.people import today

router = APIRouter(prefix="/registry/care", tags=["registry"])
CARE_SORTS = {"next_visit_due": SpecialCare.next_visit_due, "id": SpecialCare.id, "risk_level": SpecialCare.risk_level}


def _out(record: SpecialCare, person_name: str, responsible: str | None) -> CareOut:
    overdue = (today() - record.next_visit_due).days if record.next_visit_due and record.next_visit_due < today() else 0
    return CareOut(
        id=record.id,
        person_id=record.person_id,
        person_name=mask_name(person_name),
        care_group=record.care_group,
        attention_level=record.attention_level,
        risk_level=record.risk_level,
        responsible_user_id=record.responsible_user_id,
        responsible_name=responsible,
        visit_interval_days=record.visit_interval_days,
        last_visit_on=record.last_visit_on,
        next_visit_due=record.next_visit_due,
        overdue_days=overdue,
        grid_code=record.grid_code,
        active=record.active,
    )


def _detail(session: SessionDep, record: SpecialCare) -> CareDetailOut:
    person = session.get(Person, record.person_id)
    user = session.get(User, record.responsible_user_id) if record.responsible_user_id else None
    assert person is not None
    base = _out(record, person.name, user.display_name if user else None)
    return CareDetailOut(**base.model_dump(), details=record.details, created_at=record.created_at)


@router.get("", operation_id="care_list", response_model=Page[CareOut])
def list_care(
    session: WriteSessionDep,
    principal: PrincipalDep,
    params: Annotated[ListParams, Depends(list_params)],
    care_group: str | None = None,
    grid_code: str | None = None,
    community_code: str | None = None,
    overdue: Annotated[bool | None, Query(description="only overdue (true) or only not overdue (false)")] = None,
    active: bool | None = True,
    responsible_user_id: int | None = None,
) -> Page[CareOut]:
    """Special-care records in your scope (the listing itself is audited)."""
    filters = care.CareFilter(care_group, grid_code, community_code, overdue, active, responsible_user_id)
    query = apply_sort(
        care.query_care(principal, filters), params.sort, CARE_SORTS, [SpecialCare.next_visit_due, SpecialCare.id]
    )
    rows, total = paginate(session, query, params, scalars=False)
    care.audit_list(session, principal, filters, len(rows))
    return Page[CareOut].of([_out(r, name, worker) for r, name, worker in rows], total, params)


@router.get("/overdue-by-grid", operation_id="care_overdue_by_grid", response_model=list[OverdueByGrid])
def overdue_by_grid(
    session: WriteSessionDep, principal: PrincipalDep, community_code: str | None = None
) -> list[OverdueByGrid]:
    """The visits dashboard: per grid, overdue visits, visits due within 7 days and active records."""
    return [
        OverdueByGrid(grid_code=g, grid_name=n, overdue=o, due_within_7_days=d, active=a)
        for g, n, o, d, a in care.overdue_by_grid(session, principal, community_code=community_code)
    ]


@router.post("", operation_id="care_create", response_model=CareDetailOut, status_code=201)
def create_care(body: CareCreate, session: SessionDep, principal: PrincipalDep) -> CareDetailOut:
    """Put a person of your scope in a special-care group, with the group's data items."""
    return _detail(session, care.create_care(session, principal, body.model_dump()))


@router.get("/{care_id}", operation_id="care_get", response_model=CareDetailOut)
def get_care(
    care_id: int,
    session: WriteSessionDep,
    principal: PrincipalDep,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
) -> CareDetailOut:
    """One record with its data items (audited)."""
    return _detail(session, care.get_care(session, principal, care_id, purpose))


@router.patch("/{care_id}", operation_id="care_update", response_model=CareDetailOut)
def update_care(care_id: int, body: CareUpdate, session: SessionDep, principal: PrincipalDep) -> CareDetailOut:
    return _detail(session, care.update_care(session, principal, care_id, body.model_dump(exclude_unset=True)))


@router.get("/{care_id}/visits", operation_id="care_list_visits", response_model=list[VisitOut])
def list_visits(care_id: int, session: WriteSessionDep, principal: PrincipalDep) -> list[VisitOut]:
    return [VisitOut.model_validate(v) for v in care.visits(session, principal, care_id)]


@router.post("/{care_id}/visits", operation_id="care_record_visit", response_model=VisitOut, status_code=201)
def record_visit(care_id: int, body: VisitIn, session: SessionDep, principal: PrincipalDep) -> VisitOut:
    """Record a follow-up visit; the next visit falls due after the record's interval unless given."""
    return VisitOut.model_validate(care.record_visit(session, principal, care_id, body.model_dump()))
