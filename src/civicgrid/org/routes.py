"""HTTP routes of organisation units and grid staffing (mounted under /api/v1)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from civicgrid.auth.deps import PrincipalDep
from civicgrid.core.pagination import ListParams, Page, list_params
from civicgrid.core.web import SessionDep
from civicgrid.org import service
from civicgrid.org.schemas import AssignmentIn, AssignmentOut, AssignmentStateOut, OrgUnitOut

router = APIRouter(prefix="/org", tags=["org"])

ListParamsDep = Annotated[ListParams, Depends(list_params)]


@router.get("/units", operation_id="org_list_units", response_model=Page[OrgUnitOut])
def list_units(
    session: SessionDep,
    principal: PrincipalDep,
    params: ListParamsDep,
    kind: Literal["center", "department", "committee"] | None = None,
    department_type: Annotated[str | None, Query(max_length=40)] = None,
    division_code: Annotated[str | None, Query(max_length=15)] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the name, or the start of the code")] = None,
) -> Page[OrgUnitOut]:
    """Centres, departments and committees in your scope; sort by code, name, kind or division_code."""
    rows, total = service.list_units(
        session, principal, params, kind=kind, department_type=department_type, division_code=division_code, q=q
    )
    return Page[OrgUnitOut].of([OrgUnitOut.model_validate(r) for r in rows], total, params)


@router.get("/units/{unit_id}", operation_id="org_get_unit", response_model=OrgUnitOut)
def get_unit(session: SessionDep, principal: PrincipalDep, unit_id: int) -> OrgUnitOut:
    return OrgUnitOut.model_validate(service.get_unit(session, principal, unit_id))


@router.get("/assignments", operation_id="org_list_assignments", response_model=Page[AssignmentOut])
def list_assignments(
    session: SessionDep,
    principal: PrincipalDep,
    params: ListParamsDep,
    division_code: Annotated[str | None, Query(max_length=15, description="this division and below")] = None,
) -> Page[AssignmentOut]:
    """Grid workers and grid leaders (一格一员) of the divisions in your scope."""
    rows, total = service.list_assignments(session, principal, params, division_code=division_code)
    return Page[AssignmentOut].of([AssignmentOut.model_validate(r) for r in rows], total, params)


@router.put("/assignments", operation_id="org_assign", response_model=AssignmentStateOut)
def assign(session: SessionDep, principal: PrincipalDep, body: AssignmentIn) -> AssignmentStateOut:
    """Make a user the grid worker of a grid or the grid leader of a community (null user: unassign)."""
    result = service.assign(session, principal, body.division_code, body.duty, body.user_id)
    return AssignmentStateOut(
        division_code=body.division_code, duty=body.duty, user_id=result.user_id if result else None
    )
