"""The org service: organisation units and grid staffing (一格一员).

One grid worker per grid and one grid leader (网格长) per community; a user holds at most one duty of
each kind. Functions take a session and the acting principal and never commit; every staffing change
writes an audit record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, func, insert, or_, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.auth.models import User
from civicgrid.authz.policy import get_in_scope, require, require_area, restrict
from civicgrid.authz.scope import Level, Principal
from civicgrid.core.errors import Conflict, InvalidInput, NotFound
from civicgrid.core.pagination import ListParams, apply_sort, paginate
from civicgrid.geo.codes import ANCESTOR_COLUMNS
from civicgrid.geo.models import Division
from civicgrid.org.models import UNIT_KINDS, GridAssignment, OrgUnit

Duty = Literal["grid_worker", "grid_leader"]
DUTY_LEVEL: dict[str, Level] = {"grid_worker": Level.grid, "grid_leader": Level.community}

UNIT_SORTS = {"code": OrgUnit.code, "name": OrgUnit.name, "kind": OrgUnit.kind, "division_code": OrgUnit.division_code}


# --- units -------------------------------------------------------------------------------------


def list_units(
    session: Session,
    principal: Principal,
    params: ListParams,
    *,
    kind: str | None = None,
    department_type: str | None = None,
    division_code: str | None = None,
    q: str | None = None,
) -> tuple[list[OrgUnit], int]:
    query: Select[Any] = restrict(select(OrgUnit), principal, "org:read", OrgUnit)
    if kind:
        if kind not in UNIT_KINDS:
            raise InvalidInput(f"unknown kind {kind!r}", details={"field": "kind", "allowed": list(UNIT_KINDS)})
        query = query.where(OrgUnit.kind == kind)
    if department_type:
        query = query.where(OrgUnit.department_type == department_type)
    if division_code:
        query = query.where(OrgUnit.division_code == division_code)
    if q:
        needle = q.strip()
        query = query.where(or_(OrgUnit.name.contains(needle, autoescape=True), OrgUnit.code.startswith(needle)))
    query = apply_sort(query, params.sort, UNIT_SORTS, [OrgUnit.id])
    return paginate(session, query, params)


def get_unit(session: Session, principal: Principal, unit_id: int) -> OrgUnit:
    return get_in_scope(session, OrgUnit, unit_id, principal, "org:read")


def department_serving(session: Session, unit_id: int, district_code: str, *, field: str = "unit_id") -> OrgUnit:
    """The department `unit_id` if it serves `district_code` (a city department or that district's
    branch); a 422 naming `field` otherwise, so a dispatch cannot go to another district's branch."""
    unit = session.get(OrgUnit, unit_id)
    if unit is None or unit.kind != "department":
        raise InvalidInput(
            f"there is no department {unit_id}", details=[{"field": field, "problem": f"{unit_id} is not a department"}]
        )
    if unit.district_code is not None and unit.district_code != district_code:
        raise InvalidInput(
            f"{unit.name} does not serve district {district_code}",
            details=[{"field": field, "problem": f"{unit_id} serves another district"}],
        )
    return unit


def departments_for(session: Session, district_code: str, department_type: str | None = None) -> list[OrgUnit]:
    """Departments that serve a district, the district's own branches first."""
    query = select(OrgUnit).where(
        OrgUnit.kind == "department", or_(OrgUnit.district_code.is_(None), OrgUnit.district_code == district_code)
    )
    if department_type:
        query = query.where(OrgUnit.department_type == department_type)
    return sorted(session.scalars(query), key=lambda u: (u.district_code is None, u.name))


def insert_units(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Bulk-create units (system use: the demo city and bootstrap); rows carry every column but `id`."""
    for start in range(0, len(rows), 2000):
        session.execute(insert(OrgUnit), list(rows[start : start + 2000]))
    return len(rows)


# --- staffing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentView:
    id: int
    division_code: str
    division_name: str
    division_level: str
    duty: str
    user_id: int
    display_name: str
    username: str


def _division_area(division: Division) -> dict[Level, str | None]:
    return {level: getattr(division, column) for level, column in ANCESTOR_COLUMNS.items()}


def list_assignments(
    session: Session, principal: Principal, params: ListParams, *, division_code: str | None = None
) -> tuple[list[AssignmentView], int]:
    """Staffing of the divisions in the caller's scope (of one division and its descendants if given)."""
    query: Select[Any] = restrict(
        select(GridAssignment, Division, User)
        .join(Division, Division.code == GridAssignment.division_code)
        .join(User, User.id == GridAssignment.user_id),
        principal,
        "org:read",
        Division,
    )
    if division_code:
        base = session.get(Division, division_code)
        if base is None:
            raise NotFound(f"division {division_code} not found", details={"code": division_code})
        column = getattr(Division, ANCESTOR_COLUMNS[Level(base.level)])
        query = query.where(column == division_code)
    query = query.order_by(GridAssignment.division_code, GridAssignment.duty)
    total_query = query
    rows = session.execute(query.limit(params.page_size).offset((params.page - 1) * params.page_size)).all()

    total = session.scalar(select(func.count()).select_from(total_query.order_by(None).subquery())) or 0
    views = [
        AssignmentView(a.id, d.code, d.name, d.level, a.duty, u.id, u.display_name, u.username) for a, d, u in rows
    ]
    return views, int(total)


def staff_of(session: Session, division_code: str, duty: str) -> tuple[int, str] | None:
    """(user id, display name) of the division's grid worker or grid leader, if staffed."""
    row = session.execute(
        select(User.id, User.display_name)
        .join(GridAssignment, GridAssignment.user_id == User.id)
        .where(GridAssignment.division_code == division_code, GridAssignment.duty == duty)
    ).first()
    return (int(row[0]), str(row[1])) if row else None


def assign(
    session: Session, principal: Principal, division_code: str, duty: str, user_id: int | None
) -> GridAssignment | None:
    """Make `user_id` the grid worker of a grid or the grid leader of a community (None: unassign).

    The previous holder of the duty is replaced. A user may hold one grid-worker and one grid-leader
    duty at most; assigning a user who already holds that duty elsewhere is refused (409).
    """
    require(principal, "org:write")
    if duty not in DUTY_LEVEL:
        raise InvalidInput(f"unknown duty {duty!r}", details={"field": "duty", "allowed": sorted(DUTY_LEVEL)})
    division = session.get(Division, division_code)
    if division is None:
        raise NotFound(f"division {division_code} not found", details={"code": division_code})
    require_area(principal, "org:write", _division_area(division))
    needed = DUTY_LEVEL[duty]
    if division.level != needed.value:
        raise InvalidInput(
            f"a {duty} is assigned to a {needed.value}, but {division_code} is a {division.level}",
            details={"field": "division_code", "level": division.level, "required_level": needed.value},
        )
    current = session.scalar(
        select(GridAssignment).where(GridAssignment.division_code == division_code, GridAssignment.duty == duty)
    )
    previous = current.user_id if current else None
    if user_id is None:
        if current is not None:
            session.delete(current)
            session.flush()
            audit.record(
                session,
                principal,
                "org.unassign",
                "division",
                division_code,
                details={"duty": duty, "previous_user_id": previous},
            )
        return None
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", details={"user_id": user_id})
    elsewhere = session.scalar(
        select(GridAssignment.division_code).where(
            GridAssignment.user_id == user_id,
            GridAssignment.duty == duty,
            GridAssignment.division_code != division_code,
        )
    )
    if elsewhere is not None:
        raise Conflict(
            f"user {user_id} is already the {duty} of {elsewhere}; unassign them there first (一格一员)",
            details={"user_id": user_id, "duty": duty, "division_code": elsewhere},
        )
    if current is None:
        current = GridAssignment(division_code=division_code, duty=duty, user_id=user_id)
        session.add(current)
    elif current.user_id == user_id:
        return current
    else:
        current.user_id = user_id
    session.flush()
    audit.record(
        session,
        principal,
        "org.assign",
        "division",
        division_code,
        details={"duty": duty, "user_id": user_id, "previous_user_id": previous},
    )
    return current


def unstaffed_grids(session: Session, principal: Principal, code: str) -> list[str]:
    """Codes of the grids under `code` (in the caller's scope) without a grid worker."""
    require(principal, "org:read")
    base = get_in_scope(session, Division, code, principal, "org:read")
    column = getattr(Division, ANCESTOR_COLUMNS[Level(base.level)])
    staffed = select(GridAssignment.division_code).where(GridAssignment.duty == "grid_worker")
    return list(
        session.scalars(
            select(Division.code)
            .where(column == code, Division.level == Level.grid.value, Division.code.not_in(staffed))
            .order_by(Division.code)
        )
    )
