"""Reading police-call and incident records (110, 119, 122, recorded incidents) from any feed's format.

A record has the canonical fields of `FIELDS`; a file's columns are mapped to them by a saved mapping
(`feed_mappings`), JSON pushed to the API names them directly. Every problem of a row is found, named
by its field and told in words a person can act on:

- times: ISO 8601 with or without an offset (none = Asia/Shanghai), `YYYY-MM-DD HH:MM[:SS]`,
  `YYYY/MM/DD HH:MM[:SS]`, `YYYYMMDDHHMMSS` (precision second); `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`
  (day); `YYYY-MM`, `YYYYMM`, `YYYY年M月` (month, counted on the first of the month). A time in the future
  is refused;
- categories: the feed's own label, translated by the mapping's category table (a label that already is
  a leaf category code is taken as it is); a label the table lacks is handled by the mapping's policy
  (`CategoryTable`);
- location: a point (lon, lat in WGS 84), placed in its grid by the geo lookup; or an address code (a
  division code of any level), where the record stays. A point outside the city, or one whose swapped
  pair lies in the city ("coordinates look swapped"), is refused; so is a record with no location;
- a record id given twice in one file; casualties that are not whole numbers ≥ 0.

No free text is read: call summaries name people, so no column can be mapped to one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from civicgrid.authz.policy import in_scope
from civicgrid.authz.scope import Level, Principal
from civicgrid.core.clock import utcnow
from civicgrid.geo import lookup
from civicgrid.geo import service as geo
from civicgrid.registry.imports import FieldSpec
from civicgrid.registry.sources import cell_text
from civicgrid.safety.counts import LOCAL_TZ

UNKNOWN_POLICIES = ("reject", "report", "fallback")
MAX_CASUALTIES = 100_000
# Clocks of police systems drift: a call up to this far ahead of ours is still taken as now.
FUTURE_TOLERANCE = timedelta(hours=1)
TIME_FORMATS = (
    "ISO 8601 (2025-03-01T09:30:00+08:00; no offset = Beijing time), 2025-03-01 09:30[:00], 2025/03/01 09:30[:00] "
    "or 20250301093000 to the second; 2025-03-01, 2025/03/01 or 20250301 for a day; 2025-03, 202503 or 2025年3月 "
    "for a month"
)


def _f(name: str, kind: str, description: str, **kwargs: Any) -> tuple[str, FieldSpec]:
    return name, FieldSpec(name, kind, description, **kwargs)


FIELDS: dict[str, FieldSpec] = dict(
    [
        _f(
            "record_id",
            "identifier",
            "the feed's own number of the call or incident (unique per source; importing it again changes nothing)",
            max_length=64,
            aliases=("警情编号", "接警编号", "接警单编号", "案件编号", "事故编号", "编号"),
        ),
        _f(
            "occurred_at",
            "datetime",
            f"when: {TIME_FORMATS}",
            aliases=("报警时间", "接警时间", "发案时间", "发生时间", "事故时间", "时间"),
        ),
        _f(
            "category",
            "category",
            "the feed's own category label, translated by the mapping's category table (or a category code)",
            max_length=100,
            aliases=("警情类别", "警情类型", "案件类别", "案由", "事故类型", "类别"),
        ),
        _f("lon", "float", "longitude (WGS 84)", aliases=("经度", "longitude")),
        _f("lat", "float", "latitude (WGS 84)", aliases=("纬度", "latitude")),
        _f(
            "address_code",
            "identifier",
            "a division code of any level (district … grid) where the record is placed when it has no point",
            max_length=15,
            aliases=("区划代码", "行政区划代码", "地址编码", "网格编码"),
        ),
        _f(
            "address",
            "text",
            "the address of the place (not of a person)",
            max_length=300,
            aliases=("发案地址", "事发地址", "地址"),
        ),
        _f(
            "severity",
            "text",
            "the feed's level of the call (e.g. 一般, 重大)",
            max_length=16,
            aliases=("警情级别", "等级"),
        ),
        _f("deaths", "int", "people killed (a whole number, empty = 0)", aliases=("死亡人数",)),
        _f("injuries", "int", "people injured (a whole number, empty = 0)", aliases=("受伤人数",)),
    ]
)
REQUIRED = ("record_id", "occurred_at", "category")
NO_LOCATION = "no location: give lon and lat (WGS 84), or an address code (a division code such as a community's)"
LOCATION_FIELD = "location"  # the problems of a point concern lon and lat together


Problem = tuple[str, str]  # (field, reason)


@dataclass(slots=True)
class Record:
    """One call or incident as stored: its time in UTC with the local day it counts on, its category
    code, and — once `place` has run — the division it is placed in with that division's ancestors."""

    source: str
    record_id: str
    occurred_at: datetime
    time_precision: str
    day: date
    category_code: str
    raw_category: str | None = None
    lon: float | None = None
    lat: float | None = None
    address_code: str | None = None
    address: str | None = None
    severity: str | None = None
    deaths: int = 0
    injuries: int = 0
    division_code: str | None = None
    district_code: str | None = None
    street_code: str | None = None
    community_code: str | None = None
    grid_code: str | None = None

    def area_codes(self) -> dict[Level, str | None]:
        return {
            Level.district: self.district_code,
            Level.street: self.street_code,
            Level.community: self.community_code,
            Level.grid: self.grid_code,
        }


# -- times -----------------------------------------------------------------------------------------------

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_SLASH_TIME = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_DASH_TIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_DAY = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})|(\d{4})年(\d{1,2})月")


class _BadTime(ValueError):
    pass


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=LOCAL_TZ)
    except ValueError as exc:
        raise _BadTime(str(exc)) from None


def _parse(text: str) -> tuple[datetime, str]:
    """(the moment, aware; its precision). _BadTime when no accepted format fits."""
    if _ISO.match(text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None:
            return (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)), "second"
    if text.isdigit():
        if len(text) == 14:
            parts = (text[0:4], text[4:6], text[6:8], text[8:10], text[10:12], text[12:14])
            return _local(*(int(p) for p in parts)), "second"
        if len(text) == 8:
            return _local(int(text[0:4]), int(text[4:6]), int(text[6:8])), "day"
        if len(text) == 6:
            return _local(int(text[0:4]), int(text[4:6]), 1), "month"
        raise _BadTime("")
    match = _SLASH_TIME.fullmatch(text) or _DASH_TIME.fullmatch(text)
    if match:
        year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
        return _local(year, month, day, hour, minute, second), "second"
    match = _DAY.fullmatch(text)
    if match:
        return _local(int(match[1]), int(match[3]), int(match[4])), "day"
    match = _MONTH.fullmatch(text)
    if match:
        year_text, month_text = (match[1], match[2]) if match[1] else (match[3], match[4])
        return _local(int(year_text), int(month_text), 1), "month"
    raise _BadTime("")


def parse_time(value: Any, now: datetime | None = None) -> tuple[datetime, date, str] | str:
    """(UTC time, local day counted on, precision), or the problem in words."""
    if isinstance(value, datetime):
        moment, precision = (value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)), "second"
        text = value.isoformat()
    else:
        text = cell_text(value) or ""
        if not text:
            return "required; the cell is empty"
        try:
            moment, precision = _parse(text)
        except _BadTime as exc:
            reason = f" ({exc})" if str(exc) else ""
            return f"{text!r} is not a time in an accepted format{reason}; write it as {TIME_FORMATS}"
    if moment.year < 1949:
        return f"{text!r} lies before 1949; check the year"
    local = moment.astimezone(LOCAL_TZ)
    now = now or utcnow()
    today = now.astimezone(LOCAL_TZ)
    future = (
        moment > now + FUTURE_TOLERANCE
        if precision == "second"
        else local.date() > today.date()
        if precision == "day"
        else (local.year, local.month) > (today.year, today.month)
    )
    if future:
        return f"{text!r} lies in the future; check the date (times without an offset are Beijing time)"
    return moment.astimezone(UTC), local.date(), precision


# -- categories ------------------------------------------------------------------------------------------


@dataclass
class CategoryTable:
    """The feed's labels → leaf category codes, with what to do about a label the table lacks:
    `reject` (the whole file is refused, every unknown label listed), `report` (the rows are refused),
    `fallback` (the rows get `fallback`, their label kept as the raw category)."""

    labels: Mapping[str, str]
    leaves: frozenset[str]
    policy: str = "report"
    fallback: str | None = None

    def code_of(self, label: str) -> str | None:
        """The label's category code; None when the table lacks it (whatever the policy)."""
        code = self.labels.get(label)
        if code is not None:
            return code
        return label if label in self.leaves else None


def unknown_label_problem(label: str) -> str:
    return f"{label!r} is not in the mapping's category table; add it there (or give a category code such as 0101)"


# -- one record ------------------------------------------------------------------------------------------


def _casualties(raw: Any) -> tuple[int, str | None]:
    if isinstance(raw, bool):
        return 0, f"{raw!r} is not a number of people"
    text = cell_text(raw)
    if text is None:
        return 0, None
    try:
        number = float(text)
    except ValueError:
        return 0, f"{text!r} is not a whole number of people"
    if not math.isfinite(number) or not number.is_integer() or number < 0:
        return 0, f"{text!r} is not a whole number of people (0 or more)"
    if number > MAX_CASUALTIES:
        return 0, f"{text!r} is more people than any one record holds; check the column"
    return int(number), None


def _coordinate(raw: Any) -> tuple[float | None, str | None]:
    if isinstance(raw, bool):
        return None, f"{raw!r} is not a number"
    text = cell_text(raw)
    if text is None:
        return None, None
    try:
        number = float(text)
    except ValueError:
        return None, f"{text!r} is not a number"
    if not math.isfinite(number):
        return None, f"{text!r} is not a number"
    return number, None


def _text(raw: Any, spec: FieldSpec, problems: list[Problem]) -> str | None:
    text = cell_text(raw)
    if text is not None and spec.max_length is not None and len(text) > spec.max_length:
        problems.append((spec.name, f"longer than {spec.max_length} characters"))
        return None
    return text


def read_record(
    raw: Mapping[str, Any], source: str, table: CategoryTable, now: datetime | None = None
) -> tuple[Record | None, list[Problem], str | None]:
    """A record from a row's values by field, or its problems as (field, reason); and the row's category
    label when the table lacks it (to be listed with the file's other unknown labels)."""
    problems: list[Problem] = []
    record_id = _text(raw.get("record_id"), FIELDS["record_id"], problems)
    if record_id is None and not problems:
        problems.append(("record_id", "required; the cell is empty"))
    when = parse_time(raw.get("occurred_at"), now)
    if isinstance(when, str):
        problems.append(("occurred_at", when))
    label = _text(raw.get("category"), FIELDS["category"], problems)
    code: str | None = None
    unknown: str | None = None
    if label is None:
        if not any(p[0] == "category" for p in problems):
            problems.append(("category", "required; the cell is empty"))
    else:
        code = table.code_of(label)
        if code is None:
            unknown = label
            if table.policy == "fallback" and table.fallback is not None:
                code = table.fallback
            else:
                problems.append(("category", unknown_label_problem(label)))
    lon, lon_problem = _coordinate(raw.get("lon"))
    lat, lat_problem = _coordinate(raw.get("lat"))
    if lon_problem:
        problems.append(("lon", lon_problem))
    if lat_problem:
        problems.append(("lat", lat_problem))
    address_code = _text(raw.get("address_code"), FIELDS["address_code"], problems)
    if not (lon_problem or lat_problem):
        if (lon is None) != (lat is None):
            missing = "lat" if lat is None else "lon"
            problems.append((missing, "give both lon and lat, or neither (and an address code)"))
        elif lon is None and address_code is None and not any(p[0] == "address_code" for p in problems):
            problems.append((LOCATION_FIELD, NO_LOCATION))
    if address_code is not None and lon is None and not address_code.isdigit():
        problems.append(("address_code", f"{address_code!r} is not a division code (digits, e.g. 340303001001)"))
    address = _text(raw.get("address"), FIELDS["address"], problems)
    severity = _text(raw.get("severity"), FIELDS["severity"], problems)
    deaths, problem = _casualties(raw.get("deaths"))
    if problem:
        problems.append(("deaths", problem))
    injuries, problem = _casualties(raw.get("injuries"))
    if problem:
        problems.append(("injuries", problem))
    if problems or isinstance(when, str) or record_id is None or code is None:
        return None, problems, unknown
    occurred_at, day, precision = when
    record = Record(
        source=source,
        record_id=record_id,
        occurred_at=occurred_at,
        time_precision=precision,
        day=day,
        category_code=code,
        raw_category=label,
        lon=lon,
        lat=lat,
        address_code=address_code if lon is None else None,
        address=address,
        severity=severity,
        deaths=deaths,
        injuries=injuries,
    )
    return record, [], unknown


# -- placing records -------------------------------------------------------------------------------------


def _outside(index: lookup.GridIndex, lon: float, lat: float) -> str:
    """Why a point that lies in no grid is refused."""
    if index.locate(lat, lon) >= 0 or (len(index.cities) and index.in_city(lat, lon)):
        return (
            f"coordinates look swapped: ({lon}, {lat}) lies outside the city but ({lat}, {lon}) lies in it; "
            "put the longitude in lon and the latitude in lat"
        )
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return f"({lon}, {lat}) is not a WGS 84 position (longitude within ±180, latitude within ±90)"
    if len(index.cities) and index.in_city(lon, lat):
        return f"({lon}, {lat}) lies inside the city but no grid covers it; check the grid map"
    return f"({lon}, {lat}) lies outside the city"


def place(
    session: Session, records: Sequence[Record], principal: Principal | None = None
) -> list[tuple[int, str, str]]:
    """Place every record that is not placed yet: a point in its grid (one batch lookup), an address code
    at its division. Fills the division and ancestor codes; returns the problems as (position in
    `records`, field, reason) — outside the city, swapped, an unknown code, outside `principal`'s scope."""
    problems: list[tuple[int, str, str]] = []
    points = [i for i, r in enumerate(records) if r.division_code is None and r.lon is not None and r.lat is not None]
    coded = [i for i, r in enumerate(records) if r.division_code is None and r.lon is None and r.address_code]
    if points:
        index = lookup.get_index(session)
        found = index.locate_many(
            np.array([records[i].lon for i in points], dtype=np.float64),
            np.array([records[i].lat for i in points], dtype=np.float64),
        )
        for i, position in zip(points, found.tolist(), strict=True):
            record = records[i]
            if position < 0:
                assert record.lon is not None and record.lat is not None
                problems.append((i, LOCATION_FIELD, _outside(index, record.lon, record.lat)))
                continue
            codes = index.ancestors[position]
            record.division_code = str(index.codes[position])
            record.district_code = codes.get(Level.district)
            record.street_code = codes.get(Level.street)
            record.community_code = codes.get(Level.community)
            record.grid_code = codes.get(Level.grid)
    if coded:
        areas = geo.areas_of(session, {str(records[i].address_code) for i in coded})
        for i in coded:
            record = records[i]
            area = areas.get(str(record.address_code))
            if area is None:
                problems.append(
                    (i, "address_code", f"{record.address_code!r} is not a division of the map (district … grid)")
                )
                continue
            record.division_code = record.address_code
            record.district_code = area[Level.district]
            record.street_code = area[Level.street]
            record.community_code = area[Level.community]
            record.grid_code = area[Level.grid]
    if principal is not None:
        for i in (*points, *coded):
            record = records[i]
            if record.division_code is not None and not in_scope(principal, record.area_codes()):
                field = LOCATION_FIELD if record.lon is not None else "address_code"
                problems.append((i, field, f"lies outside your area ({principal.scope.division_code}); not imported"))
                record.division_code = None
    problems.sort()
    return problems
