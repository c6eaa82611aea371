"""Reading a batch: cells turned into field values, rows with their problems, counts, and the importers' base."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import in_scope
from civicgrid.authz.scope import Level, Principal
from civicgrid.core.crypto import Keyring
from civicgrid.geo.models import Division
from civicgrid.registry import codes, houses
from civicgrid.registry.imports.fields import FIELDS, REQUIRED_CELLS, FieldSpec
from civicgrid.registry.sources import cell_text

# -- reading cells ---------------------------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_TRUE = {"true", "yes", "y", "1", "是", "√", "t"}
_FALSE = {"false", "no", "n", "0", "否", "", "f"}


class CellReader:
    """Turns cells into field values: codes may be given by label, dates in the usual spellings."""

    def __init__(self, session: Session) -> None:
        self.tables = codes.tables(session)
        self._labels: dict[str, dict[str, str]] = {}

    def _code(self, table: str, text: str) -> str:
        known = self.tables.get(table, {})
        if text in known:
            return text
        labels = self._labels.get(table)
        if labels is None:
            labels = {}
            for code, entry in known.items():
                labels.setdefault(entry["label_zh"], code)
                labels.setdefault(entry["label_en"].lower(), code)
            self._labels[table] = labels
        return labels.get(text, labels.get(text.lower(), text))

    def read(self, spec: FieldSpec, raw: Any) -> tuple[Any, str | None]:
        """(value, None), or (None, problem); (None, None) for an empty cell."""
        numeric = isinstance(raw, int | float) and not isinstance(raw, bool)
        if numeric and spec.name in ("id_number", "owner_id_number"):
            return None, (
                "the ID number is stored as a number in the spreadsheet, which keeps only 15 digits; "
                "format the column as text and enter the numbers again"
            )
        if spec.kind == "date" and isinstance(raw, datetime):
            return raw.date(), None
        if spec.kind == "date" and isinstance(raw, date):
            return raw, None
        if spec.kind == "bool" and isinstance(raw, bool):
            return raw, None
        text = cell_text(raw)
        if text is None:
            return None, None
        if spec.max_length is not None and len(text) > spec.max_length:
            return None, f"longer than {spec.max_length} characters"
        if spec.kind in ("text", "identifier"):
            return text, None
        if spec.kind == "code":
            assert spec.table is not None
            value = self._code(spec.table, text)
            if spec.table == "person_type" and value not in ("registered", "floating", "foreign"):
                return None, f"{text!r} is not a person type: use registered, floating or foreign (户籍/流动/境外)"
            return value, None
        if spec.kind == "date":
            return _parse_date(text)
        if spec.kind == "bool":
            lowered = text.lower()
            if lowered in _TRUE:
                return True, None
            if lowered in _FALSE:
                return False, None
            return None, f"{text!r} is not yes/no (true/false, 1/0, 是/否)"
        if spec.kind == "int":
            if text.isascii() and text.isdigit() and len(text) <= 18:
                return int(text), None
            return None, f"{text!r} is not a whole number"
        if spec.kind == "float":
            try:
                number = float(text)
            except ValueError:
                return None, f"{text!r} is not a number"
            return _check_number(spec.name, number)
        raise AssertionError(spec.kind)  # pragma: no cover


def _parse_date(text: str) -> tuple[date | None, str | None]:
    match = _DATE.fullmatch(text) or (
        re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text) if len(text) == 8 and text.isdigit() else None
    )
    if match is None:
        try:
            return datetime.fromisoformat(text).date(), None
        except ValueError:
            return None, f"{text!r} is not a date; write it as YYYY-MM-DD"
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3))), None
    except ValueError:
        return None, f"{text!r} is not a real date"


def _check_number(name: str, number: float) -> tuple[float | None, str | None]:
    if number != number or number in (float("inf"), float("-inf")):
        return None, "not a number"
    if name == "area_m2" and not 0 < number < 100000:
        return None, "the area must be more than 0 and less than 100,000 m²"
    if name == "lon" and not -180 <= number <= 180:
        return None, "a longitude lies between -180 and 180"
    if name == "lat" and not -90 <= number <= 90:
        return None, "a latitude lies between -90 and 90"
    return number, None


# -- processing ------------------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    raw: dict[str, Any]
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add_checked(self, problems: list[dict[str, str]]) -> None:
        """Problems of the API's rules, except for fields whose cells could not even be read."""
        unreadable = {name for name, _ in self.problems}
        self.problems.extend((p["field"], p["problem"]) for p in problems if p["field"] not in unreadable)


@dataclass
class Counts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    @property
    def succeeded(self) -> int:
        return self.created + self.updated + self.unchanged

    def add(self, other: Counts) -> None:
        self.rows += other.rows
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.failed += other.failed

    def as_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }


@dataclass
class GridInfo:
    division: Division
    area: dict[str, str]
    community_name: str
    contains: Callable[[float, float], bool] | None = None


def _area_levels(area: dict[str, Any]) -> dict[Level, str | None]:
    return {
        Level.district: area.get("district_code"),
        Level.street: area.get("street_code"),
        Level.community: area.get("community_code"),
        Level.grid: area.get("grid_code"),
    }


AREA_COLUMNS = ("district_code", "street_code", "community_code", "grid_code")


class BaseImporter:
    entity: str

    def __init__(
        self,
        principal: Principal,
        keyring: Keyring,
        columns: dict[str, int],
        reader: CellReader,
        on: date,
    ) -> None:
        self.principal = principal
        self.keyring = keyring
        self.columns = columns
        self.reader = reader
        self.on = on
        self.specs = FIELDS[self.entity]
        self._grids: dict[str, GridInfo | None] = {}

    def rows_of(self, batch: list[tuple[int, list[Any]]]) -> list[Row]:
        """Cells read into values; conversion problems and empty required cells noted per row."""
        rows = []
        required = REQUIRED_CELLS[self.entity]
        for number, cells in batch:
            raw = {f: (cells[i] if i < len(cells) else None) for f, i in self.columns.items()}
            row = Row(number, raw)
            for name, value in raw.items():
                converted, problem = self.reader.read(self.specs[name], value)
                if problem is not None:
                    row.problems.append((name, problem))
                elif converted is not None:
                    row.values[name] = converted
            for name in required:
                if name in self.columns and name not in row.values and not any(p[0] == name for p in row.problems):
                    row.problems.append((name, "required; the cell is empty"))
            rows.append(row)
        return rows

    def grids(self, session: Session, codes_: Iterable[str], *, geometry: bool = False) -> dict[str, GridInfo | None]:
        """Grids by code (None: not a grid), cached for the job."""
        wanted = {c for c in codes_ if c not in self._grids}
        if wanted:
            from sqlalchemy.orm import undefer

            query = select(Division).where(Division.code.in_(wanted), Division.level == Level.grid.value)
            if geometry:
                query = query.options(undefer(Division.geometry))
            found = {d.code: d for d in session.scalars(query)}
            community_codes = {d.community_code for d in found.values() if d.community_code}
            names = dict(
                session.execute(select(Division.code, Division.name).where(Division.code.in_(community_codes))).all()
            )
            for code in wanted:
                division = found.get(code)
                if division is None:
                    self._grids[code] = None
                    continue
                session.expunge(division)
                self._grids[code] = GridInfo(
                    division=division,
                    area={
                        "district_code": division.district_code or "",
                        "street_code": division.street_code or "",
                        "community_code": division.community_code or "",
                        "grid_code": division.code,
                    },
                    community_name=names.get(division.community_code or "", ""),
                    contains=houses.grid_contains(division) if geometry else None,
                )
        return {c: self._grids.get(c) for c in codes_}

    def in_scope(self, area: dict[str, Any]) -> bool:
        return in_scope(self.principal, _area_levels(area))

    def process(self, session: Session, batch: list[tuple[int, list[Any]]], *, write: bool) -> tuple[Counts, list[Row]]:
        raise NotImplementedError


def _table(model: type[Any]) -> Table:
    """The model's table, for Core executemany inserts (the ORM's bulk path adds nothing here)."""
    return cast(Table, model.__table__)
