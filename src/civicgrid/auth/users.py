"""Account administration: list, create, change, unlock and reset passwords, inside the admin's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.auth.models import User
from civicgrid.auth.secrets import hash_password, password_problem
from civicgrid.auth.service import revoke_all_sessions
from civicgrid.authz.permissions import Role
from civicgrid.authz.policy import area_codes_of, require_area, restrict
from civicgrid.authz.scope import Principal
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import Conflict, InvalidInput, NotFound
from civicgrid.geo.models import Division
from civicgrid.org.models import OrgUnit

USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class UserFilter:
    q: str | None = None
    role: str | None = None
    scope_division_code: str | None = None
    is_active: bool | None = None


def query_users(principal: Principal, filters: UserFilter) -> AnySelect:
    """Users whose scope lies inside the caller's scope, with their scope division and unit."""
    query = (
        select(User, Division.name, OrgUnit.name)
        .join(Division, Division.code == User.scope_division_code)
        .outerjoin(OrgUnit, OrgUnit.id == User.unit_id)
    )
    query = restrict(query, principal, "user:read", Division)
    if filters.q:
        like = f"%{filters.q}%"
        query = query.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    if filters.role:
        query = query.where(User.role == filters.role)
    if filters.scope_division_code:
        query = query.where(User.scope_division_code == filters.scope_division_code)
    if filters.is_active is not None:
        query = query.where(User.is_active == filters.is_active)
    return query


def get_user(session: Session, principal: Principal, user_id: int, permission: str = "user:read") -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    division = session.get(Division, user.scope_division_code)
    assert division is not None
    try:
        require_area(principal, permission, area_codes_of(division))
    except NotFound as exc:
        raise NotFound(f"user {user_id} not found") from exc
    return user


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        raise InvalidInput(
            f"unknown role {role!r}", details={"field": "role", "allowed": [r.value for r in Role]}
        ) from exc


def _check_scope(session: Session, principal: Principal, code: str) -> Division:
    division = session.get(Division, code)
    if division is None:
        raise InvalidInput(f"unknown division {code!r}", details={"field": "scope_division_code"})
    require_area(principal, "user:write", area_codes_of(division))
    return division


def _check_unit(session: Session, unit_id: int | None) -> OrgUnit | None:
    if unit_id is None:
        return None
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise InvalidInput(f"unknown organisation unit {unit_id}", details={"field": "unit_id"})
    return unit


def _check_username(username: str) -> str:
    name = username.strip().lower()
    if not (3 <= len(name) <= 64) or not set(name) <= USERNAME_CHARS:
        raise InvalidInput(
            "a username is 3–64 characters of a–z, 0–9, dot, underscore or hyphen",
            details={"field": "username"},
        )
    return name


def _check_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem:
        raise InvalidInput(f"the password {problem}", details={"field": "password"})


def create_user(
    session: Session,
    principal: Principal | None,
    *,
    username: str,
    display_name: str,
    password: str | None = None,
    password_hash: str | None = None,
    role: str,
    scope_division_code: str,
    unit_id: int | None = None,
) -> User:
    """Create an account. `principal` None is the command line (a local administrator)."""
    name = _check_username(username)
    _check_role(role)
    if principal is not None:
        _check_scope(session, principal, scope_division_code)
    elif session.get(Division, scope_division_code) is None:
        raise InvalidInput(f"unknown division {scope_division_code!r}", details={"field": "scope_division_code"})
    unit = _check_unit(session, unit_id)
    if password_hash is None:
        if password is None:
            raise InvalidInput("a password is required", details={"field": "password"})
        _check_password(password, name)
        password_hash = hash_password(password)
    if not display_name.strip():
        raise InvalidInput("a display name is required", details={"field": "display_name"})
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"the username {name!r} is taken", details={"field": "username"})
    user = User(
        username=name,
        display_name=display_name.strip(),
        password_hash=password_hash,
        role=role,
        scope_division_code=scope_division_code,
        unit_id=unit_id,
        scope_department_id=unit.id if unit is not None and unit.kind == "department" else None,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"the username {name!r} is taken", details={"field": "username"}) from exc
    audit.record(
        session,
        principal,
        "user.create",
        "user",
        user.id,
        details={"role": role, "scope": scope_division_code},
        actor_name=None if principal else "cli",
    )
    return user


def update_user(session: Session, principal: Principal, user_id: int, changes: dict[str, Any]) -> User:
    user = get_user(session, principal, user_id, "user:write")
    if "role" in changes and changes["role"] is not None:
        _check_role(changes["role"])
    if changes.get("scope_division_code") is not None:
        _check_scope(session, principal, changes["scope_division_code"])
    if "unit_id" in changes:
        unit = _check_unit(session, changes["unit_id"])
        user.scope_department_id = unit.id if unit is not None and unit.kind == "department" else None
    if changes.get("display_name") is not None and not str(changes["display_name"]).strip():
        raise InvalidInput("a display name is required", details={"field": "display_name"})
    if user.id == principal.user_id and changes.get("is_active") is False:
        raise Conflict("you cannot disable your own account")
    changed = []
    for field in ("display_name", "role", "scope_division_code", "unit_id", "is_active"):
        wanted = field in changes and (changes[field] is not None or field == "unit_id")
        if wanted and getattr(user, field) != changes[field]:
            setattr(user, field, changes[field])
            changed.append(field)
    if "is_active" in changed and not user.is_active:
        revoke_all_sessions(session, user.id)
    session.flush()
    audit.record(session, principal, "user.update", "user", user.id, details={"fields": changed})
    return user


def unlock_user(session: Session, principal: Principal, user_id: int) -> User:
    user = get_user(session, principal, user_id, "user:write")
    user.locked_until = None
    user.failed_logins = 0
    audit.record(session, principal, "user.unlock", "user", user.id)
    return user


def set_password(session: Session, principal: Principal, user_id: int, password: str) -> User:
    user = get_user(session, principal, user_id, "user:write")
    _check_password(password, user.username)
    user.password_hash = hash_password(password)
    revoke_all_sessions(session, user.id)
    audit.record(session, principal, "user.set_password", "user", user.id)
    return user
