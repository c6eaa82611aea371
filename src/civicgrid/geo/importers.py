"""Reading division CSV and boundary/grid GeoJSON files into records, collecting every problem.

Readers never touch the database: they decode, parse and check what a file can tell on its own
(encoding, columns, code formats, duplicates, geometry validity). `geo.service` then checks the
records against the database (parents, nesting, overlaps) and writes them, or refuses the whole file.

Every problem is a dict `{"feature": <code, or index when there is no usable code>, "index": <0-based
feature index or 1-based CSV line>, "field": ..., "problem": ...}`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from civicgrid.authz.scope import Level
from civicgrid.core.errors import ImportRejected
from civicgrid.geo.codes import code_problem, parse_level
from civicgrid.geo.geometry import geometry_problems

DIVISION_COLUMNS = ("level", "code", "name", "parent_code")
MAX_NAME_LENGTH = 100

Problem = dict[str, Any]


def problem(feature: str | int, index: int | None, field_name: str, text: str) -> Problem:
    return {"feature": feature, "index": index, "field": field_name, "problem": text}


@dataclass
class DivisionRecord:
    line: int
    level: Level
    code: str
    name: str
    parent_code: str | None


@dataclass
class FeatureRecord:
    index: int
    code: str
    geometry: BaseGeometry
    name: str | None = None
    households: int | None = None
    population: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def decode_text(data: bytes, what: str) -> str:
    """UTF-8 text (a byte-order mark is allowed); anything else is refused with a hint."""
    if not data.strip():
        raise ImportRejected(f"the {what} is empty", details=[problem("file", None, "file", "the file has no content")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        hint = ""
        try:
            data.decode("gb18030")
            hint = " It looks like GBK/GB18030 (common for files saved by Excel in Chinese); save it as UTF-8."
        except UnicodeDecodeError:
            pass
        raise ImportRejected(
            f"the {what} is not UTF-8 text (invalid byte at position {exc.start}).{hint}",
            details=[problem("file", None, "encoding", f"not UTF-8: invalid byte at position {exc.start}{hint}")],
        ) from None


def read_divisions_csv(data: bytes) -> tuple[list[DivisionRecord], list[Problem]]:
    """Rows of a `level,code,name,parent_code` CSV (any column order, extra columns ignored)."""
    text = decode_text(data, "division CSV")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in DIVISION_COLUMNS if c not in header]
    if missing:
        raise ImportRejected(
            f"the division CSV lacks the column(s) {', '.join(missing)}; "
            f"the header must name {', '.join(DIVISION_COLUMNS)} (found: {', '.join(header) or 'nothing'})",
            details=[problem("file", 1, column, "missing column") for column in missing],
        )
    reader.fieldnames = header
    records: list[DivisionRecord] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for line_index, row in enumerate(reader, start=2):
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue
        code = values.get("code", "")
        ref: str | int = code or line_index
        level = parse_level(values.get("level", ""))
        row_problems: list[Problem] = []
        if level is None:
            row_problems.append(
                problem(
                    ref,
                    line_index,
                    "level",
                    f"unknown level {values.get('level', '')!r}; use city, district, street, community or grid",
                )
            )
        else:
            why = code_problem(code, level)
            if why:
                row_problems.append(problem(ref, line_index, "code", why))
        name = values.get("name", "")
        if not name:
            row_problems.append(problem(ref, line_index, "name", "the name is empty"))
        elif len(name) > MAX_NAME_LENGTH:
            row_problems.append(problem(ref, line_index, "name", f"longer than {MAX_NAME_LENGTH} characters"))
        if code in seen:
            row_problems.append(problem(ref, line_index, "code", f"duplicate code {code} (first on line {seen[code]})"))
        elif code:
            seen[code] = line_index
        parent_code = values.get("parent_code", "") or None
        if level is not None and level != Level.city and parent_code is None:
            row_problems.append(problem(ref, line_index, "parent_code", f"a {level.value} needs a parent_code"))
        problems.extend(row_problems)
        if not row_problems and level is not None:
            records.append(DivisionRecord(line_index, level, code, name, parent_code))
    if not records and not problems:
        raise ImportRejected(
            "the division CSV has a header but no rows",
            details=[problem("file", None, "file", "no rows after the header")],
        )
    return records, problems


def _int_property(props: dict[str, Any], key: str, ref: str | int, index: int, problems: list[Problem]) -> int | None:
    value = props.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.append(problem(ref, index, key, f"{key} must be a whole number ≥ 0, got {value!r}"))
        return None
    try:
        number = float(value)
    except ValueError:
        problems.append(problem(ref, index, key, f"{key} must be a whole number ≥ 0, got {value!r}"))
        return None
    if number < 0 or number != int(number):
        problems.append(problem(ref, index, key, f"{key} must be a whole number ≥ 0, got {value!r}"))
        return None
    return int(number)


def read_features(data: bytes, what: str) -> tuple[list[FeatureRecord], list[Problem]]:
    """Features of a GeoJSON FeatureCollection (or one Feature) with a `code` property and valid polygons."""
    text = decode_text(data, what)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            f"the {what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            details=[problem("file", None, "file", f"invalid JSON: {exc.msg} (line {exc.lineno})")],
        ) from None
    if isinstance(document, dict) and document.get("type") == "Feature":
        document = {"type": "FeatureCollection", "features": [document]}
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportRejected(
            f"the {what} must be a GeoJSON FeatureCollection",
            details=[problem("file", None, "type", "expected {'type': 'FeatureCollection', 'features': [...]}")],
        )
    raw_features = document.get("features")
    if not isinstance(raw_features, list) or not raw_features:
        raise ImportRejected(f"the {what} has no features", details=[problem("file", None, "features", "no features")])
    records: list[FeatureRecord] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(raw_features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(problem(index, index, "type", "not a GeoJSON Feature"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            problems.append(problem(index, index, "properties", "properties must be an object"))
            continue
        raw_code = props.get("code")
        code = str(raw_code).strip() if raw_code is not None else ""
        ref: str | int = code or index
        feature_problems: list[Problem] = []
        if not code:
            feature_problems.append(problem(index, index, "code", "the feature has no `code` property"))
        elif code in seen:
            feature_problems.append(
                problem(ref, index, "code", f"duplicate code {code} (first at feature {seen[code]})")
            )
        else:
            seen[code] = index
        geometry: BaseGeometry | None = None
        raw_geometry = feature.get("geometry")
        if raw_geometry is None:
            feature_problems.append(problem(ref, index, "geometry", "the feature has no geometry"))
        else:
            try:
                geometry = shapely.from_geojson(json.dumps(raw_geometry))
            except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
                feature_problems.append(problem(ref, index, "geometry", f"unreadable geometry: {exc}"))
            else:
                feature_problems.extend(problem(ref, index, f, p) for f, p in geometry_problems(geometry))
        name = props.get("name")
        name_text = str(name).strip() if name is not None else None
        if name_text is not None and len(name_text) > MAX_NAME_LENGTH:
            feature_problems.append(problem(ref, index, "name", f"longer than {MAX_NAME_LENGTH} characters"))
        households = _int_property(props, "households", ref, index, feature_problems)
        population = _int_property(props, "population", ref, index, feature_problems)
        problems.extend(feature_problems)
        if not feature_problems and geometry is not None:
            extra = {k: v for k, v in props.items() if k not in ("code", "name", "households", "population")}
            records.append(FeatureRecord(index, code, geometry, name_text or None, households, population, extra))
    return records, problems
