"""The geo service: reading the division tree and changing it (imports live in `geo.imports`).

Functions take a session and the acting principal and never commit. Every change bumps the geo
revision so that in-memory indexes (point lookup, simplified boundaries) of every process reload.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, insert, or_, select, update
from sqlalchemy.orm import Session

from civicgrid.authz.policy import get_in_scope, require, restrict
from civicgrid.authz.scope import LEVEL_ORDER, Level, Principal, level_rank
from civicgrid.core.db import after_commit
from civicgrid.core.errors import InvalidInput, NotFound
from civicgrid.core.pagination import ListParams, apply_sort, paginate
from civicgrid.geo.codes import ANCESTOR_COLUMNS, child_level, parse_level
from civicgrid.geo.models import Division, GeoRevision

REVISION_ID = 1

DIVISION_SORTS = {
    "code": Division.code,
    "name": Division.name,
    "level": Division.level,
    "households": Division.households,
    "population": Division.population,
    "area_km2": Division.area_km2,
}


# --- revision and caches -----------------------------------------------------------------------


def current_revision(session: Session) -> str:
    """The token of the division data as stored; '' before anything was imported."""
    token = session.scalar(select(GeoRevision.token).where(GeoRevision.id == REVISION_ID))
    return token or ""


def bump_revision(session: Session) -> str:
    """Mark divisions as changed; local caches are dropped once the transaction commits."""
    token = uuid.uuid4().hex
    updated = session.execute(update(GeoRevision).where(GeoRevision.id == REVISION_ID).values(token=token)).rowcount  # type: ignore[attr-defined]
    if not updated:
        session.add(GeoRevision(id=REVISION_ID, token=token))
        session.flush()
    after_commit(session, invalidate_caches)
    return token


def invalidate_caches() -> None:
    from civicgrid.geo import boundaries, lookup

    lookup.clear_cache()
    boundaries.clear_cache()


# --- reading -----------------------------------------------------------------------------------


def _level_or_error(level: str) -> Level:
    parsed = parse_level(level)
    if parsed is None:
        raise InvalidInput(
            f"unknown level {level!r}",
            details={"field": "level", "allowed": [lv.value for lv in LEVEL_ORDER]},
        )
    return parsed


def list_divisions(
    session: Session,
    principal: Principal,
    params: ListParams,
    *,
    level: str | None = None,
    parent_code: str | None = None,
    q: str | None = None,
) -> tuple[list[Division], int]:
    query: Select[Any] = restrict(select(Division), principal, "geo:read", Division)
    if level:
        query = query.where(Division.level == _level_or_error(level).value)
    if parent_code:
        query = query.where(Division.parent_code == parent_code)
    if q:
        needle = q.strip()
        query = query.where(or_(Division.name.contains(needle, autoescape=True), Division.code.startswith(needle)))
    query = apply_sort(query, params.sort, DIVISION_SORTS, [Division.code])
    return paginate(session, query, params)


def get_division(session: Session, principal: Principal, code: str) -> Division:
    return get_in_scope(session, Division, code, principal, "geo:read")


def ancestors_of(session: Session, division: Division) -> list[Division]:
    """The division's ancestors from the city down to its parent."""
    codes = [
        getattr(division, ANCESTOR_COLUMNS[level])
        for level in LEVEL_ORDER[: level_rank(division.level)]
        if getattr(division, ANCESTOR_COLUMNS[level])
    ]
    if not codes:
        return []
    rows = {d.code: d for d in session.scalars(select(Division).where(Division.code.in_(codes)))}
    return [rows[c] for c in codes if c in rows]


def children_count(session: Session, code: str) -> int:
    return session.scalar(select(func.count()).where(Division.parent_code == code)) or 0


def list_children(session: Session, principal: Principal, code: str, params: ListParams) -> tuple[list[Division], int]:
    get_division(session, principal, code)
    return list_divisions(session, principal, params, parent_code=code)


@dataclass
class AreaSummary:
    division: Division
    counts: dict[str, int]
    grids: int
    staffed_grids: int


def summary(session: Session, principal: Principal, code: str) -> AreaSummary:
    from civicgrid.org.models import GridAssignment

    division = get_division(session, principal, code)
    column = getattr(Division, ANCESTOR_COLUMNS[Level(division.level)])
    counts: dict[str, int] = {}
    for level, count in session.execute(
        select(Division.level, func.count()).where(column == code, Division.code != code).group_by(Division.level)
    ):
        counts[str(level)] = int(count)
    below = [lv.value for lv in LEVEL_ORDER[level_rank(division.level) + 1 :]]
    counts = {lv: counts.get(lv, 0) for lv in below}
    grids = counts.get("grid", 1 if division.level == Level.grid else 0)
    if division.level == Level.grid:
        grids = 1
    staffed = (
        session.scalar(
            select(func.count(func.distinct(GridAssignment.division_code)))
            .join(Division, Division.code == GridAssignment.division_code)
            .where(column == code, Division.level == Level.grid.value, GridAssignment.duty == "grid_worker")
        )
        or 0
    )
    return AreaSummary(division, counts, grids, int(staffed))


def grid_codes_in_scope(session: Session, principal: Principal) -> set[str]:
    """The codes of every grid the principal may see."""
    query = restrict(select(Division.code).where(Division.level == Level.grid.value), principal, "geo:read", Division)
    return set(session.scalars(query))


def divisions_by_codes(session: Session, codes: Iterable[str]) -> dict[str, Division]:
    wanted = list(dict.fromkeys(codes))
    found: dict[str, Division] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update({d.code: d for d in session.scalars(select(Division).where(Division.code.in_(chunk)))})
    return found


def areas_of(session: Session, codes: Iterable[str]) -> dict[str, dict[Level, str | None]]:
    """code → the division's own and ancestor codes by level (district … grid), for many divisions at once,
    without loading their geometry (placing records by address code)."""
    wanted = list(dict.fromkeys(codes))
    found: dict[str, dict[Level, str | None]] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(
                Division.code,
                Division.district_code,
                Division.street_code,
                Division.community_code,
                Division.grid_code,
            ).where(Division.code.in_(wanted[start : start + 500]))
        )
        for code, district, street, community, grid in rows:
            found[code] = {Level.district: district, Level.street: street, Level.community: community, Level.grid: grid}
    return found


def require_division(session: Session, code: str) -> Division:
    division = session.get(Division, code)
    if division is None:
        raise NotFound(f"division {code} not found", details={"code": code})
    return division


# --- writing (system use: the demo city and the importers) -------------------------------------


def ancestor_codes(level: Level, code: str, parent: Division | None) -> dict[str, str | None]:
    """The self-inclusive ancestor code columns of a new division under `parent`."""
    columns: dict[str, str | None] = dict.fromkeys(ANCESTOR_COLUMNS.values())
    if parent is not None:
        for lv in LEVEL_ORDER[: level_rank(level)]:
            column = ANCESTOR_COLUMNS[lv]
            columns[column] = getattr(parent, column)
    columns[ANCESTOR_COLUMNS[level]] = code
    return columns


def insert_divisions(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert complete Division rows (parents before children), in batches; bumps the revision."""
    ordered = sorted(rows, key=lambda r: (level_rank(r["level"]), r["code"]))
    for start in range(0, len(ordered), 2000):
        session.execute(insert(Division), ordered[start : start + 2000])
    if ordered:
        bump_revision(session)
    return len(ordered)


def update_divisions(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Update Division rows by primary key (`code` in every dict); bumps the revision."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        for start in range(0, len(group), 2000):
            session.execute(update(Division), group[start : start + 2000])
    if rows:
        bump_revision(session)
    return len(rows)


def rollup_totals(session: Session, city_code: str | None = None) -> None:
    """Set every non-grid division's households and population to the sum over its grids (if it has any)."""
    for level in (Level.community, Level.street, Level.district, Level.city):
        column = getattr(Division, ANCESTOR_COLUMNS[level])
        query = (
            select(column, func.sum(Division.households), func.sum(Division.population))
            .where(Division.level == Level.grid.value)
            .group_by(column)
        )
        if city_code:
            query = query.where(Division.city_code == city_code)
        values = [
            {"code": code, "households": int(h or 0), "population": int(p or 0)}
            for code, h, p in session.execute(query)
            if code
        ]
        if values:
            update_divisions(session, values)


def level_below(level: str) -> str | None:
    below = child_level(Level(level))
    return below.value if below else None


def require_geo_import(principal: Principal) -> None:
    require(principal, "geo:import")
