"""Organisations, key places and schools: registered in a grid, listed and corrected inside the scope.

One implementation serves the three tables; what differs (the model, the coded fields, the unique
identifier) is described in `KINDS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import area_codes_of, get_in_scope, require, require_area, restrict
from civicgrid.authz.scope import Principal
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import Conflict, InvalidInput
from civicgrid.geo.area import area_values
from civicgrid.geo.models import Division
from civicgrid.registry import codes
from civicgrid.registry.models import Organisation, Place, School
from civicgrid.registry.people import _escape_like


@dataclass(frozen=True)
class Kind:
    model: type[Organisation] | type[Place] | type[School]
    object_type: str
    coded: dict[str, str]  # field → code table
    unique: str | None = None


KINDS: dict[str, Kind] = {
    "organisations": Kind(
        Organisation,
        "organisation",
        {"org_type": "org_type", "attention_level": "attention_level", "risk_level": "risk_level"},
        unique="credit_code",
    ),
    "places": Kind(Place, "place", {"place_type": "place_type", "attention_level": "attention_level"}),
    "schools": Kind(School, "school", {"school_type": "school_type"}),
}


def credit_code_problem(code: str) -> str | None:
    """GB 32100-2015 unified social credit code: 18 characters with a check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    code = code.upper()
    if len(code) != 18 or any(c not in alphabet for c in code):
        return "a unified social credit code is 18 characters of 0–9 and A–Y without I, O, S, V, Z"
    total = sum(alphabet.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    check = alphabet[(31 - total % 31) % 31]
    return None if code[17] == check else f"the check character should be {check}"


def _check(session: Session, kind: Kind, data: dict[str, Any], current_id: int | None) -> None:
    found = codes.problems(session, {f: (t, data.get(f)) for f, t in kind.coded.items() if f in data})
    if kind.unique and data.get(kind.unique):
        value = data[kind.unique] = str(data[kind.unique]).upper()
        problem = credit_code_problem(value)
        if problem:
            found.append({"field": kind.unique, "problem": problem})
        else:
            clash = session.scalar(select(kind.model.id).where(getattr(kind.model, kind.unique) == value))
            if clash is not None and clash != current_id:
                raise Conflict(
                    f"another {kind.object_type} already has this {kind.unique}",
                    details=[{"field": kind.unique, "problem": "duplicate"}],
                )
    if found:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in found), details=found)


def create(session: Session, principal: Principal, kind_name: str, data: dict[str, Any]) -> Any:
    kind = KINDS[kind_name]
    require(principal, "organisation:write")
    grid = session.get(Division, data.pop("grid_code"))
    if grid is None or grid.level != "grid":
        raise InvalidInput("not a grid", details=[{"field": "grid_code", "problem": "not a grid"}])
    require_area(principal, "organisation:write", area_codes_of(grid))
    _check(session, kind, data, None)
    obj = kind.model(**data, **area_values(grid))
    session.add(obj)
    session.flush()
    audit.record(session, principal, f"{kind.object_type}.create", kind.object_type, obj.id)
    return obj


def get(
    session: Session, principal: Principal, kind_name: str, obj_id: int, permission: str = "organisation:read"
) -> Any:
    return get_in_scope(session, KINDS[kind_name].model, obj_id, principal, permission)


def update(session: Session, principal: Principal, kind_name: str, obj_id: int, changes: dict[str, Any]) -> Any:
    kind = KINDS[kind_name]
    obj = get(session, principal, kind_name, obj_id, "organisation:write")
    changes.pop("grid_code", None)
    _check(session, kind, changes, obj.id)
    changed = sorted(k for k, v in changes.items() if getattr(obj, k) != v)
    for key in changed:
        setattr(obj, key, changes[key])
    session.flush()
    audit.record(
        session, principal, f"{kind.object_type}.update", kind.object_type, obj.id, details={"fields": changed}
    )
    return obj


def query(
    principal: Principal,
    kind_name: str,
    *,
    q: str | None,
    grid_code: str | None,
    community_code: str | None,
    type_code: str | None,
) -> AnySelect:
    kind = KINDS[kind_name]
    model = kind.model
    stmt: Select[Any] = restrict(select(model), principal, "organisation:read", model)
    if q:
        stmt = stmt.where(model.name.like(f"%{_escape_like(q)}%", escape="\\"))
    if grid_code:
        stmt = stmt.where(model.grid_code == grid_code)
    if community_code:
        stmt = stmt.where(model.community_code == community_code)
    type_field = next((f for f in kind.coded if f.endswith("_type")), None)
    if type_code and type_field:
        stmt = stmt.where(getattr(model, type_field) == type_code)
    return stmt.order_by(model.id)
