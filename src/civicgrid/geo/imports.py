"""Imports of divisions (CSV), boundaries and grids (GeoJSON): all or nothing.

Every check runs before anything is written; if any record has a problem the import raises
`ImportRejected` listing every problem found, and the session is left untouched. One audit record per
import carries the counts. `dry_run=True` runs every check and reports the counts without writing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import in_scope, require
from civicgrid.authz.scope import LEVEL_ORDER, Level, Principal
from civicgrid.core.errors import ImportRejected
from civicgrid.geo import service
from civicgrid.geo.codes import (
    ANCESTOR_COLUMNS,
    code_problem,
    is_village,
    parent_level,
    prefix_problem,
)
from civicgrid.geo.geometry import (
    OUTSIDE_PARENT_TOLERANCE,
    SIBLING_OVERLAP_TOLERANCE,
    area_km2,
    from_wkb,
    geometry_columns,
)
from civicgrid.geo.importers import (
    Problem,
    problem,
    read_divisions_csv,
    read_features,
)
from civicgrid.geo.models import Division


@dataclass
class ImportResult:
    kind: str
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    by_level: dict[str, int] = field(default_factory=dict)


def _reject(kind: str, problems: list[Problem]) -> ImportRejected:
    count = len(problems)
    first = problems[0]
    return ImportRejected(
        f"the {kind} import was refused: {count} problem{'s' if count != 1 else ''} "
        f"(first: {first['feature']} {first['field']}: {first['problem']}); nothing was written",
        details=problems,
    )


def _area_codes(row: Mapping[str, Any]) -> dict[Level, str | None]:
    return {level: row.get(column) for level, column in ANCESTOR_COLUMNS.items()}


def _division_area_codes(division: Division) -> dict[Level, str | None]:
    return {level: getattr(division, column) for level, column in ANCESTOR_COLUMNS.items()}


# --- divisions ---------------------------------------------------------------------------------


def import_divisions(session: Session, principal: Principal, data: bytes, *, dry_run: bool = False) -> ImportResult:
    """Create divisions from a `level,code,name,parent_code` CSV; existing codes get their name updated."""
    require(principal, "geo:import")
    records, problems = read_divisions_csv(data)
    by_code = {r.code: r for r in records}
    existing = service.divisions_by_codes(
        session, [r.code for r in records] + [r.parent_code for r in records if r.parent_code]
    )
    # Ancestor columns of every division known after the import, filled level by level.
    planned: dict[str, dict[str, Any]] = {}
    creates: list[dict[str, Any]] = []
    renames: list[dict[str, Any]] = []
    unchanged = 0
    by_level: dict[str, int] = defaultdict(int)

    def known(code: str) -> tuple[Level, Mapping[str, Any]] | None:
        if code in planned:
            return Level(planned[code]["level"]), planned[code]
        division = existing.get(code)
        if division is not None:
            return Level(division.level), {c: getattr(division, c) for c in ANCESTOR_COLUMNS.values()}
        return None

    for record in sorted(records, key=lambda r: (LEVEL_ORDER.index(r.level), r.line)):
        ref, line = record.code, record.line
        record_problems: list[Problem] = []
        parent_code = record.parent_code
        expected_parent = parent_level(record.level)
        parent_columns: Mapping[str, Any] = {}
        why = prefix_problem(record.code, record.level, parent_code or "")
        if why:
            record_problems.append(problem(ref, line, "parent_code", why))
        if expected_parent is not None and parent_code:
            parent = known(parent_code)
            if parent is None:
                in_file = by_code.get(parent_code)
                text = (
                    f"parent {parent_code} is in the file but was refused"
                    if in_file is not None
                    else f"parent {parent_code} does not exist (import it first or add it to this file)"
                )
                record_problems.append(problem(ref, line, "parent_code", text))
            elif parent[0] != expected_parent:
                record_problems.append(
                    problem(
                        ref,
                        line,
                        "parent_code",
                        f"the parent of a {record.level.value} must be a {expected_parent.value}, "
                        f"but {parent_code} is a {parent[0].value}",
                    )
                )
            else:
                parent_columns = parent[1]
        current = existing.get(record.code)
        if current is not None:
            stored_parent = current.parent_code
            if current.level != record.level.value:
                record_problems.append(
                    problem(ref, line, "level", f"{record.code} already exists as a {current.level}")
                )
            elif record.level != Level.city and stored_parent != parent_code:
                record_problems.append(
                    problem(
                        ref,
                        line,
                        "parent_code",
                        f"{record.code} already exists under {stored_parent}; moving divisions is not supported",
                    )
                )
        if record_problems:
            problems.extend(record_problems)
            continue
        columns: dict[str, Any] = dict.fromkeys(ANCESTOR_COLUMNS.values())
        for lv in LEVEL_ORDER[: LEVEL_ORDER.index(record.level)]:
            columns[ANCESTOR_COLUMNS[lv]] = parent_columns.get(ANCESTOR_COLUMNS[lv])
        columns[ANCESTOR_COLUMNS[record.level]] = record.code
        if not in_scope(principal, _area_codes(columns)):
            problems.append(problem(ref, line, "code", f"{record.code} lies outside your scope"))
            continue
        planned[record.code] = {"level": record.level.value, **columns}
        if current is None:
            creates.append(
                {
                    "code": record.code,
                    "name": record.name,
                    "level": record.level.value,
                    "parent_code": parent_code if record.level != Level.city else None,
                    "is_urban": (not is_village(record.code)) if record.level == Level.community else None,
                    "households": 0,
                    "population": 0,
                    **columns,
                }
            )
            by_level[record.level.value] += 1
        elif current.name != record.name:
            renames.append({"code": record.code, "name": record.name})
        else:
            unchanged += 1
    if problems:
        raise _reject("division", problems)
    result = ImportResult("divisions", dry_run, len(creates), len(renames), unchanged, dict(by_level))
    if not dry_run:
        service.insert_divisions(session, creates)
        service.update_divisions(session, renames)
        audit.record(
            session,
            principal,
            "geo.import_divisions",
            "division",
            None,
            details={"created": result.created, "updated": result.updated, "by_level": result.by_level},
        )
    return result


# --- boundaries and grids ----------------------------------------------------------------------


@dataclass
class _Shape:
    code: str
    parent_code: str | None
    geometry: BaseGeometry
    from_file: bool
    index: int | None = None


def _load_geometries(session: Session, codes: Iterable[str]) -> dict[str, BaseGeometry]:
    wanted = list(dict.fromkeys(codes))
    found: dict[str, BaseGeometry] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(Division.code, Division.geometry).where(Division.code.in_(chunk), Division.geometry.is_not(None))
        )
        found.update({code: from_wkb(blob) for code, blob in rows if blob is not None})
    return found


def _children_with_geometry(session: Session, parent_codes: Iterable[str]) -> list[_Shape]:
    shapes: list[_Shape] = []
    wanted = list(dict.fromkeys(parent_codes))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(Division.code, Division.parent_code, Division.geometry).where(
                Division.parent_code.in_(chunk), Division.geometry.is_not(None)
            )
        )
        shapes.extend(_Shape(code, parent, from_wkb(blob), False) for code, parent, blob in rows if blob is not None)
    return shapes


def _check_inside(
    shapes: list[_Shape],
    parents: Mapping[str, BaseGeometry],
    problems: list[Problem],
    *,
    reverse: bool = False,
) -> None:
    """Each shape must lie inside its parent's boundary (up to OUTSIDE_PARENT_TOLERANCE of its area)."""
    pairs = [(s, parents[s.parent_code]) for s in shapes if s.parent_code is not None and s.parent_code in parents]
    if not pairs:
        return
    children = np.array([s.geometry for s, _ in pairs], dtype=object)
    parent_geoms = np.array([p for _, p in pairs], dtype=object)
    outside = shapely.area(shapely.difference(children, parent_geoms))
    total = shapely.area(children)
    for (shape, _), out, whole in zip(pairs, outside, total, strict=True):
        if whole > 0 and out / whole > OUTSIDE_PARENT_TOLERANCE:
            share = 100 * out / whole
            if reverse:
                text = (
                    f"the new boundary of {shape.parent_code} leaves {share:.1f} % of its existing child "
                    f"{shape.code} outside"
                )
                problems.append(problem(shape.parent_code or "", None, "geometry", text))
            else:
                problems.append(
                    problem(
                        shape.code,
                        shape.index,
                        "geometry",
                        f"{share:.1f} % of the boundary lies outside its parent {shape.parent_code} "
                        f"(allowed: {100 * OUTSIDE_PARENT_TOLERANCE:.1f} %)",
                    )
                )


def _check_overlaps(shapes: list[_Shape], problems: list[Problem]) -> None:
    """Siblings (same parent) must not overlap beyond float slivers; pairs with a file shape are checked."""
    if len(shapes) < 2:
        return
    geoms = np.array([s.geometry for s in shapes], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    parent = np.array([s.parent_code or "" for s in shapes], dtype=object)
    from_file = np.array([s.from_file for s in shapes], dtype=bool)
    keep = (parent[left] == parent[right]) & (from_file[left] | from_file[right])
    left, right = left[keep], right[keep]
    if not len(left):
        return
    overlap = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    areas = shapely.area(geoms)
    smaller = np.minimum(areas[left], areas[right])
    for i, j, amount, small in zip(left, right, overlap, smaller, strict=True):
        if small > 0 and amount / small > SIBLING_OVERLAP_TOLERANCE:
            for a, b in ((shapes[i], shapes[j]), (shapes[j], shapes[i])):
                if not a.from_file:
                    continue
                km2 = amount * area_km2(a.geometry) / max(a.geometry.area, 1e-30)
                problems.append(
                    problem(
                        a.code,
                        a.index,
                        "geometry",
                        f"overlaps its sibling {b.code} by {km2:.4f} km² ({100 * amount / small:.2f} % of the smaller)",
                    )
                )


def _nesting_problems(session: Session, shapes: list[_Shape]) -> list[Problem]:
    """Inside-parent, existing-children-inside and sibling-overlap checks for the file's shapes."""
    problems: list[Problem] = []
    file_codes = {s.code for s in shapes}
    file_geoms = {s.code: s.geometry for s in shapes}
    parent_codes = {s.parent_code for s in shapes if s.parent_code}
    parent_geoms = _load_geometries(session, parent_codes - file_codes)
    parent_geoms.update({c: g for c, g in file_geoms.items() if c in parent_codes})
    _check_inside(shapes, parent_geoms, problems)
    # Existing children (not replaced by this file) must still fit inside a replaced boundary.
    existing_children = [c for c in _children_with_geometry(session, file_codes) if c.code not in file_codes]
    _check_inside(existing_children, file_geoms, problems, reverse=True)
    siblings = [c for c in _children_with_geometry(session, parent_codes) if c.code not in file_codes]
    _check_overlaps(shapes + siblings, problems)
    return problems


def import_boundaries(session: Session, principal: Principal, data: bytes, *, dry_run: bool = False) -> ImportResult:
    """Attach GeoJSON boundaries (features with a `code` property) to existing divisions."""
    require(principal, "geo:import")
    records, problems = read_features(data, "boundary GeoJSON")
    divisions = service.divisions_by_codes(session, [r.code for r in records])
    shapes: list[_Shape] = []
    by_level: dict[str, int] = defaultdict(int)
    for record in records:
        division = divisions.get(record.code)
        if division is None:
            problems.append(
                problem(
                    record.code,
                    record.index,
                    "code",
                    f"division {record.code} does not exist; import it first",
                )
            )
            continue
        if not in_scope(principal, _division_area_codes(division)):
            problems.append(problem(record.code, record.index, "code", f"{record.code} lies outside your scope"))
            continue
        shapes.append(_Shape(record.code, division.parent_code, record.geometry, True, record.index))
        by_level[division.level] += 1
    problems.extend(_nesting_problems(session, shapes))
    if problems:
        raise _reject("boundary", problems)
    result = ImportResult("boundaries", dry_run, 0, len(shapes), 0, dict(by_level))
    if not dry_run:
        service.update_divisions(session, [{"code": s.code, **geometry_columns(s.geometry)} for s in shapes])
        audit.record(
            session,
            principal,
            "geo.import_boundaries",
            "division",
            None,
            details={"updated": result.updated, "by_level": result.by_level},
        )
    return result


def import_grids(session: Session, principal: Principal, data: bytes, *, dry_run: bool = False) -> ImportResult:
    """Create or replace grids from GeoJSON features (code = community code + 3 digits, name, counts)."""
    require(principal, "geo:import")
    records, problems = read_features(data, "grid GeoJSON")
    communities = service.divisions_by_codes(session, [r.code[:12] for r in records])
    current = service.divisions_by_codes(session, [r.code for r in records])
    shapes: list[_Shape] = []
    creates: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    numbers: dict[str, int] = defaultdict(int)
    for record in records:
        why = code_problem(record.code, Level.grid)
        if why:
            problems.append(problem(record.code, record.index, "code", why))
            continue
        community = communities.get(record.code[:12])
        if community is None:
            problems.append(
                problem(
                    record.code,
                    record.index,
                    "code",
                    f"community {record.code[:12]} (the first 12 digits) does not exist; import divisions first",
                )
            )
            continue
        if community.level != Level.community.value:
            problems.append(
                problem(
                    record.code,
                    record.index,
                    "code",
                    f"a grid's parent must be a community, but {community.code} is a {community.level}",
                )
            )
            continue
        existing = current.get(record.code)
        if existing is not None and existing.level != Level.grid.value:
            problems.append(problem(record.code, record.index, "code", f"{record.code} exists as a {existing.level}"))
            continue
        columns = service.ancestor_codes(Level.grid, record.code, community)
        if not in_scope(principal, _area_codes(columns)):
            problems.append(problem(record.code, record.index, "code", f"{record.code} lies outside your scope"))
            continue
        numbers[community.code] += 1
        name = record.name or f"{community.name}第{int(record.code[12:])}网格"
        row: dict[str, Any] = {"code": record.code, "name": name, **geometry_columns(record.geometry)}
        if record.households is not None:
            row["households"] = record.households
        if record.population is not None:
            row["population"] = record.population
        if existing is None:
            creates.append(
                {
                    "level": Level.grid.value,
                    "parent_code": community.code,
                    "is_urban": community.is_urban,
                    "households": 0,
                    "population": 0,
                    **columns,
                    **row,
                }
            )
        else:
            updates.append(row)
        shapes.append(_Shape(record.code, community.code, record.geometry, True, record.index))
    problems.extend(_nesting_problems(session, shapes))
    if problems:
        raise _reject("grid", problems)
    result = ImportResult("grids", dry_run, len(creates), len(updates), 0, {"grid": len(shapes)})
    if not dry_run:
        service.insert_divisions(session, creates)
        service.update_divisions(session, updates)
        if any(r.households is not None or r.population is not None for r in records):
            service.rollup_totals(session)
        audit.record(
            session,
            principal,
            "geo.import_grids",
            "division",
            None,
            details={"created": result.created, "updated": result.updated, "communities": len(numbers)},
        )
    return result
