"""Special-care groups (特殊人群) and their follow-up visits.

This is the most sensitive data in the system: it needs its own permissions (`care:read`,
`care:write`) and every read — lists included — is audited with what was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.auth.models import User
from civicgrid.authz.policy import area_codes_of, get_in_scope, in_scope, require, restrict
from civicgrid.authz.scope import Principal
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import Conflict, InvalidInput
from civicgrid.geo.models import Division
from civicgrid.registry import codes
from civicgrid.registry.care_schemas import ITEMS_BY_GROUP
from civicgrid.registry.models import Person, SpecialCare, Visit
from civicgrid.registry.people import today


def _details(group: str, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        items = ITEMS_BY_GROUP[group].model_validate(raw)
    except ValidationError as exc:
        problems = [
            {"field": "details." + ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()
        ]
        raise InvalidInput(
            "the group's data items are not valid: " + "; ".join(f"{p['field']}: {p['problem']}" for p in problems),
            details=problems,
        ) from exc
    return items.model_dump(mode="json", exclude_none=True)


def _check_responsible(session: Session, principal: Principal, user_id: int | None, grid_code: str) -> None:
    if user_id is None:
        return
    user = session.get(User, user_id)
    grid = session.get(Division, grid_code)
    assert grid is not None
    if user is None or not user.is_active:
        raise InvalidInput(
            f"there is no active user {user_id}", details=[{"field": "responsible_user_id", "problem": "not found"}]
        )
    scope = session.get(Division, user.scope_division_code)
    # The responsible worker must work over the person's grid (their scope contains it).
    if scope is None or getattr(grid, f"{scope.level}_code") != scope.code:
        raise InvalidInput(
            "the responsible worker does not work in this person's grid",
            details=[{"field": "responsible_user_id", "problem": "outside the grid"}],
        )


def create_care(session: Session, principal: Principal, data: dict[str, Any]) -> SpecialCare:
    require(principal, "care:write")
    person = session.get(Person, data["person_id"])
    if person is None or person.status != "active" or not in_scope(principal, area_codes_of(person)):
        raise InvalidInput(
            f"there is no active person {data['person_id']} in your scope",
            details=[{"field": "person_id", "problem": "not found"}],
        )
    group = data["care_group"]
    codes.check(session, {"attention_level": ("attention_level", data["attention_level"])})
    if data.get("risk_level") is not None and group != "mental_disorder":
        raise InvalidInput(
            "a risk level 0–5 applies to severe mental disorders only",
            details=[{"field": "risk_level", "problem": "only for mental_disorder"}],
        )
    if session.scalar(
        select(SpecialCare.id).where(
            SpecialCare.person_id == person.id, SpecialCare.care_group == group, SpecialCare.active.is_(True)
        )
    ):
        raise Conflict("this person already has an active record in this group")
    _check_responsible(session, principal, data.get("responsible_user_id"), person.grid_code)
    care = SpecialCare(
        person_id=person.id,
        care_group=group,
        attention_level=data["attention_level"],
        risk_level=data.get("risk_level"),
        responsible_user_id=data.get("responsible_user_id"),
        visit_interval_days=data.get("visit_interval_days", 30),
        details=_details(group, data.get("details") or {}),
        next_visit_due=today() + timedelta(days=7),
        district_code=person.district_code,
        street_code=person.street_code,
        community_code=person.community_code,
        grid_code=person.grid_code,
    )
    session.add(care)
    session.flush()
    audit.record(session, principal, "care.create", "special_care", care.id, details={"group": group})
    return care


def get_care(
    session: Session, principal: Principal, care_id: int, purpose: str | None = None, permission: str = "care:read"
) -> SpecialCare:
    care = get_in_scope(session, SpecialCare, care_id, principal, permission)
    if permission == "care:read":
        audit.record(session, principal, "care.read", "special_care", care.id, purpose=purpose)
    return care


def update_care(session: Session, principal: Principal, care_id: int, changes: dict[str, Any]) -> SpecialCare:
    care = get_care(session, principal, care_id, permission="care:write")
    if changes.get("attention_level") is not None:
        codes.check(session, {"attention_level": ("attention_level", changes["attention_level"])})
    if changes.get("risk_level") is not None and care.care_group != "mental_disorder":
        raise InvalidInput(
            "a risk level 0–5 applies to severe mental disorders only",
            details=[{"field": "risk_level", "problem": "only for mental_disorder"}],
        )
    if "responsible_user_id" in changes:
        _check_responsible(session, principal, changes["responsible_user_id"], care.grid_code)
    if changes.get("details") is not None:
        changes["details"] = _details(care.care_group, changes["details"])
    changed = []
    for key, value in changes.items():
        if (value is not None or key == "responsible_user_id") and getattr(care, key) != value:
            setattr(care, key, value)
            changed.append(key)
    session.flush()
    audit.record(session, principal, "care.update", "special_care", care.id, details={"fields": changed})
    return care


def record_visit(session: Session, principal: Principal, care_id: int, data: dict[str, Any]) -> Visit:
    care = get_care(session, principal, care_id, permission="care:write")
    if not care.active:
        raise Conflict("this special-care record is closed")
    visited_on: date = data["visited_on"]
    if visited_on > today():
        raise InvalidInput("the visit date is in the future", details=[{"field": "visited_on", "problem": "future"}])
    codes.check(session, {"form": ("visit_form", data["form"])})
    next_due = data.get("next_visit_due") or visited_on + timedelta(days=care.visit_interval_days)
    if next_due <= visited_on:
        raise InvalidInput(
            "the next visit must come after this one",
            details=[{"field": "next_visit_due", "problem": "not after the visit"}],
        )
    visit = Visit(
        special_care_id=care.id,
        visited_on=visited_on,
        worker_user_id=principal.user_id,
        form=data["form"],
        findings=data["findings"],
        next_visit_due=next_due,
    )
    session.add(visit)
    if care.last_visit_on is None or visited_on >= care.last_visit_on:
        care.last_visit_on = visited_on
        care.next_visit_due = next_due
    session.flush()
    audit.record(session, principal, "care.visit", "special_care", care.id, details={"visit": visit.id})
    return visit


def visits(session: Session, principal: Principal, care_id: int) -> list[Visit]:
    care = get_care(session, principal, care_id)
    return list(
        session.scalars(
            select(Visit).where(Visit.special_care_id == care.id).order_by(Visit.visited_on.desc(), Visit.id.desc())
        )
    )


@dataclass(frozen=True)
class CareFilter:
    care_group: str | None = None
    grid_code: str | None = None
    community_code: str | None = None
    overdue: bool | None = None
    active: bool | None = True
    responsible_user_id: int | None = None


def query_care(principal: Principal, filters: CareFilter) -> AnySelect:
    query: Select[Any] = restrict(
        select(SpecialCare, Person.name, User.display_name)
        .join(Person, Person.id == SpecialCare.person_id)
        .outerjoin(User, User.id == SpecialCare.responsible_user_id),
        principal,
        "care:read",
        SpecialCare,
    )
    for column, value in (
        (SpecialCare.care_group, filters.care_group),
        (SpecialCare.grid_code, filters.grid_code),
        (SpecialCare.community_code, filters.community_code),
        (SpecialCare.active, filters.active),
        (SpecialCare.responsible_user_id, filters.responsible_user_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.overdue is True:
        query = query.where(SpecialCare.next_visit_due < today())
    elif filters.overdue is False:
        query = query.where(SpecialCare.next_visit_due >= today())
    return query


def audit_list(session: Session, principal: Principal, filters: CareFilter, shown: int) -> None:
    audit.record(
        session,
        principal,
        "care.list",
        "special_care",
        None,
        details={"filters": {k: v for k, v in filters.__dict__.items() if v is not None}, "shown": shown},
    )


def overdue_by_grid(
    session: Session, principal: Principal, *, community_code: str | None = None, limit: int = 500
) -> list[tuple[str, str, int, int, int]]:
    """Per grid in scope: overdue visits, visits due within 7 days, active records (grids with any overdue first)."""
    on = today()
    query = (
        select(
            SpecialCare.grid_code,
            Division.name,
            func.sum(case((SpecialCare.next_visit_due < on, 1), else_=0)),
            func.sum(
                case(
                    (and_(SpecialCare.next_visit_due >= on, SpecialCare.next_visit_due <= on + timedelta(days=7)), 1),
                    else_=0,
                )
            ),
            func.count(),
        )
        .join(Division, Division.code == SpecialCare.grid_code)
        .where(SpecialCare.active.is_(True))
        .group_by(SpecialCare.grid_code, Division.name)
    )
    query = restrict(query, principal, "care:read", SpecialCare)
    if community_code:
        query = query.where(SpecialCare.community_code == community_code)
    query = query.order_by(
        func.sum(case((SpecialCare.next_visit_due < on, 1), else_=0)).desc(), SpecialCare.grid_code
    ).limit(limit)
    rows = [(g, n, int(o or 0), int(d or 0), int(a)) for g, n, o, d, a in session.execute(query)]
    audit.record(session, principal, "care.overdue_summary", "special_care", None, details={"grids": len(rows)})
    return rows
