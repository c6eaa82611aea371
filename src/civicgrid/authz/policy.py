"""Turning a principal's permissions and scope into checks and SQL filters.

Every list, detail and write of scoped data goes through `restrict`, `get_in_scope` or
`require_area`. A model opts in by naming, per level, the column that holds the code of its area at
that level (self-inclusive, so a district row has `district_code` equal to its own code):

    __scope_columns__ = {Level.district: "district_code", Level.street: "street_code", ...}

Objects outside the caller's scope answer 404, never 403, so their existence does not leak.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from sqlalchemy import false
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Level, Principal, level_rank
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import Forbidden, NotFound

M = TypeVar("M")


class AreaScopedModel(Protocol):
    __scope_columns__: Mapping[Level, str]


def require(principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise Forbidden(
            f"your role ({principal.role}) does not allow {permission}",
            details={"permission": permission},
        )


def restrict(query: AnySelect, principal: Principal, permission: str, model: type[Any]) -> AnySelect:
    """`query` limited to the rows of `model` inside the principal's scope; 403 without `permission`."""
    require(principal, permission)
    scope = principal.scope
    if scope.level == Level.city:
        city_column = model.__scope_columns__.get(Level.city)
        return query if city_column is None else query.where(getattr(model, city_column) == scope.division_code)
    column_name = model.__scope_columns__.get(scope.level)
    if column_name is None:
        # The model is not divided finely enough to tell; a narrower scope sees none of it.
        return query.where(false())
    return query.where(getattr(model, column_name) == scope.division_code)


def in_scope(principal: Principal, area_codes: Mapping[Level, str | None]) -> bool:
    """Whether an object whose area codes per level are `area_codes` lies inside the principal's scope."""
    scope = principal.scope
    if scope.level == Level.city and Level.city not in area_codes:
        return True
    return area_codes.get(scope.level) == scope.division_code


def get_in_scope(session: Session, model: type[M], key: Any, principal: Principal, permission: str) -> M:
    """One object by primary key, or 404 when it does not exist or lies outside the caller's scope."""
    require(principal, permission)
    obj = session.get(model, key)
    if obj is None or not in_scope(principal, area_codes_of(obj)):
        raise NotFound(f"{model.__name__.lower()} {key} not found", details={"id": str(key)})
    return obj


def area_codes_of(obj: Any) -> dict[Level, str | None]:
    return {level: getattr(obj, column) for level, column in type(obj).__scope_columns__.items()}


def require_area(principal: Principal, permission: str, area_codes: Mapping[Level, str | None]) -> None:
    """For writes: the target area must lie inside the caller's scope (404 otherwise)."""
    require(principal, permission)
    if not in_scope(principal, area_codes):
        target = next((code for code in reversed(list(area_codes.values())) if code), "?")
        raise NotFound(f"area {target} not found in your scope", details={"area": target})


def covers_level(principal: Principal, level: Level) -> bool:
    """Whether the principal's scope is at `level` or above it."""
    return level_rank(principal.scope.level) <= level_rank(level)
