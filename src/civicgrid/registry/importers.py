"""Bulk import of people and houses from CSV and XLSX files, as background jobs (docs/registry-import.md).

A file is read row by row (`registry.sources`) and processed in batches (CIVICGRID_IMPORT_BATCH_SIZE,
2,000 rows by default) in constant memory. Each row is checked by the same rules as the API —
`people.validate_person` and `houses.validate_house`: code tables, GB 11643 ID numbers and their
agreement with birth date and sex, phones, what foreigners need — and its house or grid must lie in the
importer's scope. What costs per row in the API is done per batch here: blind indexes for the whole
batch, one query for the people (or houses) the batch already knows, one for its houses and grids,
bulk inserts and updates, encryption in one pass per field.

Two modes, as the caller chooses (DESIGN.md §5):

- `apply_valid`: every batch commits its valid rows; the other rows go to the error report.
- `all_or_nothing`: a first pass checks every row without writing; only if no row failed does a
  second pass write them all, in one transaction.

Re-importing is idempotent: a person is matched by the blind index of their ID number (foreigners
without one by their document number), a house by its grid and full address. A match in the caller's
scope is updated with the file's non-empty values (an unchanged row writes nothing); a match outside
the scope is a row error — an import never moves anyone out of another area's registry. Rows are applied
in file order, so when a file holds the same person twice the later row wins.

The per-row error report is a CSV (row, column, field, value, reason) with names and identifiers
masked. One audit record per import carries the counts, never a row's content.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any, TextIO, cast

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import in_scope, require
from civicgrid.authz.scope import Level, Principal
from civicgrid.core import jobs
from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import Keyring, get_keyring
from civicgrid.core.db import Database
from civicgrid.core.errors import ImportRejected
from civicgrid.core.masking import mask_id_number, mask_name, mask_phone
from civicgrid.geo.models import Division
from civicgrid.registry import codes, houses, people
from civicgrid.registry.models import House, Person, Residence, Tenancy
from civicgrid.registry.sources import cell_text, open_source

log = logging.getLogger(__name__)

MODES = ("apply_valid", "all_or_nothing")
MAX_PROBLEMS_IN_RESULT = 20


# -- fields ----------------------------------------------------------------------------------------------


def _mask_document(value: str) -> str:
    return value[:2] + "*" * max(0, len(value) - 4) + value[-2:] if len(value) > 4 else "*" * len(value)


@dataclass(frozen=True)
class FieldSpec:
    """A field a column can be mapped to: how its cells are read and how its values are masked."""

    name: str
    kind: str  # text, code, date, bool, int, float, identifier
    description: str
    max_length: int | None = None
    table: str | None = None  # code table, for kind == "code"
    mask: Callable[[str], str] | None = None
    aliases: tuple[str, ...] = ()


def _f(name: str, kind: str, description: str, **kwargs: Any) -> tuple[str, FieldSpec]:
    return name, FieldSpec(name, kind, description, **kwargs)


PEOPLE_FIELDS: dict[str, FieldSpec] = dict(
    [
        _f(
            "person_type",
            "code",
            "registered, floating or foreign (户籍/流动/境外)",
            table="person_type",
            aliases=("人员类型", "人口类型"),
        ),
        _f("name", "text", "name", max_length=100, mask=mask_name, aliases=("姓名",)),
        _f("sex", "code", "code table sex (1/男, 2/女)", table="sex", aliases=("性别",)),
        _f("birth_date", "date", "YYYY-MM-DD", aliases=("出生日期",)),
        _f(
            "id_number",
            "identifier",
            "citizen ID number (GB 11643)",
            max_length=20,
            mask=mask_id_number,
            aliases=("身份证号", "公民身份号码", "身份证号码"),
        ),
        _f(
            "phone",
            "identifier",
            "mobile or landline",
            max_length=20,
            mask=mask_phone,
            aliases=("联系电话", "手机号", "电话"),
        ),
        _f(
            "document_no",
            "identifier",
            "foreigners: passport or permit number",
            max_length=40,
            mask=_mask_document,
            aliases=("证件号码",),
        ),
        _f("house_id", "int", "the house the person lives in (its id)", aliases=("房屋编号",)),
        _f(
            "grid_code",
            "text",
            "the grid (15 digits), when there is no house id",
            max_length=15,
            aliases=("网格编码", "网格代码"),
        ),
        _f(
            "house_address",
            "text",
            "with grid_code: the house's full address as the registry shows it",
            max_length=250,
            aliases=("房屋地址",),
        ),
        _f("former_name", "text", "former name", max_length=100, mask=mask_name, aliases=("曾用名",)),
        _f("ethnicity", "code", "code table ethnicity (01/汉族 …)", table="ethnicity", aliases=("民族",)),
        _f("native_place", "text", "region code of the native place", max_length=6, aliases=("籍贯",)),
        _f("marital_status", "code", "code table marital_status", table="marital_status", aliases=("婚姻状况",)),
        _f("political_status", "code", "code table political_status", table="political_status", aliases=("政治面貌",)),
        _f("education", "code", "code table education", table="education", aliases=("学历", "文化程度")),
        _f("religion", "code", "code table religion", table="religion", aliases=("宗教信仰",)),
        _f("occupation", "text", "occupation", max_length=60, aliases=("职业",)),
        _f("employer", "text", "employer", max_length=100, aliases=("服务处所", "工作单位")),
        _f("hukou_address", "text", "household-registration address", max_length=250, aliases=("户籍地址",)),
        _f("current_address", "text", "current address", max_length=250, aliases=("现住址",)),
        _f("relation_to_head", "code", "code table relation", table="relation", aliases=("与户主关系",)),
        _f("hukou_consistent", "bool", "人户一致: yes/no", aliases=("人户一致",)),
        _f("move_in_reason", "code", "code table move_in_reason", table="move_in_reason", aliases=("流入原因",)),
        _f("permit_type", "code", "code table permit_type", table="permit_type", aliases=("办证类型",)),
        _f("permit_no", "text", "residence permit number", max_length=40, mask=_mask_document, aliases=("证件号",)),
        _f("permit_expiry", "date", "YYYY-MM-DD", aliases=("证件有效期",)),
        _f("residence_type", "code", "code table residence_type", table="residence_type", aliases=("住所类型",)),
        _f("foreign_surname", "text", "foreigners: surname", max_length=80, mask=mask_name, aliases=("外文姓",)),
        _f("foreign_given_name", "text", "foreigners: given name", max_length=80, mask=mask_name, aliases=("外文名",)),
        _f("nationality", "text", "ISO 3166-1 alpha-3", max_length=3, aliases=("国籍",)),
        _f("document_type", "code", "code table document_type", table="document_type", aliases=("证件类型",)),
        _f("document_expiry", "date", "YYYY-MM-DD", aliases=("证件有效期至",)),
        _f("key_attention", "bool", "key attention: yes/no", aliases=("重点关注",)),
    ]
)

HOUSE_FIELDS: dict[str, FieldSpec] = dict(
    [
        _f("grid_code", "text", "the grid (15 digits)", max_length=15, aliases=("网格编码", "网格代码")),
        _f("street_address", "text", "road and number (幸福路12号)", max_length=120, aliases=("门牌地址", "街路巷")),
        _f("building", "text", "building (3栋)", max_length=40, aliases=("楼栋", "栋")),
        _f("unit", "text", "unit (2单元)", max_length=20, aliases=("单元",)),
        _f("room", "text", "room (401)", max_length=20, aliases=("房间号", "室")),
        _f("use", "code", "code table house_use (self/自住, rented/出租, …)", table="house_use", aliases=("房屋用途",)),
        _f("owner_name", "text", "owner's name", max_length=100, mask=mask_name, aliases=("房主姓名", "产权人")),
        _f(
            "owner_id_number",
            "identifier",
            "owner's citizen ID number",
            max_length=20,
            mask=mask_id_number,
            aliases=("房主身份证号", "产权人身份证号"),
        ),
        _f("area_m2", "float", "floor area in m²", aliases=("面积", "建筑面积")),
        _f("lon", "float", "longitude (WGS 84)", aliases=("经度",)),
        _f("lat", "float", "latitude (WGS 84)", aliases=("纬度",)),
    ]
)

FIELDS: dict[str, dict[str, FieldSpec]] = {"people": PEOPLE_FIELDS, "houses": HOUSE_FIELDS}
# Each group needs at least one of its fields mapped.
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "people": (("person_type",), ("name",), ("sex",), ("birth_date",), ("house_id", "grid_code")),
    "houses": (("grid_code",), ("street_address",), ("use",)),
}
# Cells that must not be empty in any row.
REQUIRED_CELLS: dict[str, tuple[str, ...]] = {
    "people": ("person_type", "name", "sex", "birth_date"),
    "houses": ("grid_code", "street_address", "use"),
}
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "people": ("registry:import", "person:write"),
    "houses": ("registry:import", "house:write"),
}


def require_import(principal: Principal, entity: str) -> None:
    for permission in PERMISSIONS[entity]:
        require(principal, permission)


# -- mapping ---------------------------------------------------------------------------------------------


def auto_mapping(entity: str, header: list[str]) -> dict[str, str]:
    """Columns named like a field (or a usual Chinese heading of it) map to that field."""
    by_name: dict[str, str] = {}
    for spec in FIELDS[entity].values():
        for alias in (spec.name, *spec.aliases):
            by_name.setdefault(alias.lower(), spec.name)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in header:
        target = by_name.get(column.strip().lower())
        if target and target not in taken:
            mapping[column] = target
            taken.add(target)
    return mapping


def resolve_columns(entity: str, header: list[str], mapping: dict[str, str]) -> dict[str, int]:
    """field → column index; ImportRejected listing every problem (before any row is read)."""
    found: list[dict[str, Any]] = []
    positions: dict[str, int] = {}
    for index, column in enumerate(header):
        if column and column in positions:
            found.append({"row": 1, "field": "header", "problem": f"the column {column!r} appears twice"})
        elif column:
            positions[column] = index
    columns: dict[str, int] = {}
    for source, target in mapping.items():
        if source not in positions:
            found.append(
                {"row": 1, "field": target, "problem": f"the mapping names the column {source!r}, which the file lacks"}
            )
            continue
        columns[target] = positions[source]
    missing = [" or ".join(group) for group in REQUIRED[entity] if not any(f in mapping.values() for f in group)]
    if missing:
        found.insert(
            0,
            {"row": 1, "field": "mapping", "problem": f"missing required columns: {', '.join(missing)}"},
        )
    if found:
        first = found[0]["problem"]
        more = f" (and {len(found) - 1} more problem{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
        raise ImportRejected(f"{first}{more}; nothing was imported", details=found)
    return columns


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


# -- the error report ------------------------------------------------------------------------------------

REPORT_HEADER = ("row", "column", "field", "value", "reason")


class ErrorReport:
    """Row errors written to a CSV file as they are found (UTF-8 with BOM, so Excel opens it)."""

    def __init__(self, path: Path, entity: str, field_columns: dict[str, str]) -> None:
        self.path = path
        self.specs = FIELDS[entity]
        self.field_columns = field_columns  # field → the file's column name
        self.problems = 0
        self.first: list[dict[str, Any]] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(REPORT_HEADER)

    def masked(self, field_name: str, raw: Any) -> str:
        text = cell_text(raw) or ""
        spec = self.specs.get(field_name)
        if text and spec is not None and spec.mask is not None:
            return spec.mask(text)
        return text

    def add(self, row: int, field_name: str, raw: Any, reason: str) -> None:
        line = {
            "row": row,
            "column": self.field_columns.get(field_name, ""),
            "field": field_name,
            "value": self.masked(field_name, raw),
            "reason": reason,
        }
        self._writer.writerow([line[k] for k in REPORT_HEADER])
        self.problems += 1
        if len(self.first) < MAX_PROBLEMS_IN_RESULT:
            self.first.append(line)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


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


@dataclass
class _PersonTarget:
    """A person a row writes to: an existing one (id set) or one this import creates (insert set)."""

    person_id: int | None
    current: dict[str, Any]
    insert: dict[str, Any] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    plain: dict[str, str] = field(default_factory=dict)  # identifiers to encrypt: field → normalised value
    moved: bool = False


PERSON_KEY_COLUMNS = (
    "id",
    "status",
    "house_id",
    "id_number_index",
    "phone_index",
    "document_no_index",
    *AREA_COLUMNS,
)
_LOCATION_FIELDS = ("house_id", "grid_code", "house_address")


def _table(model: type[Any]) -> Table:
    """The model's table, for Core executemany inserts (the ORM's bulk path adds nothing here)."""
    return cast(Table, model.__table__)


def _key_of(row: dict[str, Any]) -> str:
    if row["id_number_index"] is not None:
        return f"id:{row['id_number_index']}"
    return f"doc:{row['document_no_index']}"


class PeopleImporter(BaseImporter):
    entity = "people"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.review_status = people._review_status(self.principal)
        plain_fields = [f for f in self.columns if f not in (*_LOCATION_FIELDS, "id_number", "phone", "document_no")]
        self.update_columns = tuple(plain_fields)
        # Every insert carries the same keys, so the database gets one multi-row statement per batch.
        self.insert_template: dict[str, Any] = {
            **{name: None for name in plain_fields},
            "key_attention": False,
            "status": "active",
            "review_status": self.review_status,
            "created_by": self.principal.user_id,
            "house_id": None,
            **{c: None for c in AREA_COLUMNS},
            "id_number_enc": None,
            "id_number_index": None,
            "phone_enc": None,
            "phone_index": None,
            "document_no_enc": None,
            "document_no_index": None,
        }

    def process(self, session: Session, batch: list[tuple[int, list[Any]]], *, write: bool) -> tuple[Counts, list[Row]]:
        counts = Counts(rows=len(batch))
        rows = self.rows_of(batch)
        checks: dict[int, people.PersonCheck] = {}
        for i, row in enumerate(rows):
            values = {k: v for k, v in row.values.items() if k not in _LOCATION_FIELDS}
            check = people.validate_person(session, values, on=self.on)
            row.add_checked(check.problems)
            unplaced = "house_id" not in row.values and "grid_code" not in row.values
            if unplaced and not any(p[0] in _LOCATION_FIELDS for p in row.problems):
                row.problems.append(
                    ("grid_code", "give the house (house_id, or grid_code and house_address) or the grid")
                )
            if "house_address" in row.values and "grid_code" not in row.values:
                row.problems.append(("house_address", "a house address needs the grid_code of its grid"))
            checks[i] = check
        places = self._places(session, rows)

        # Blind indexes of the batch, then one query for the people the registry already has.
        ok = [i for i, row in enumerate(rows) if row.ok]
        id_rows = [i for i in ok if checks[i].id_number]
        id_indexes = dict(
            zip(
                id_rows,
                self.keyring.blind_index_many([checks[i].id_number or "" for i in id_rows], context=people.ID_CONTEXT),
                strict=True,
            )
        )
        doc_rows = [i for i in ok if not checks[i].id_number and checks[i].document_no]
        doc_indexes = dict(
            zip(
                doc_rows,
                self.keyring.blind_index_many(
                    [checks[i].document_no or "" for i in doc_rows], context=people.DOCUMENT_CONTEXT
                ),
                strict=True,
            )
        )
        phone_rows = [i for i in ok if checks[i].phone]
        phone_indexes = dict(
            zip(
                phone_rows,
                self.keyring.blind_index_many(
                    [checks[i].phone or "" for i in phone_rows], context=people.PHONE_CONTEXT
                ),
                strict=True,
            )
        )
        existing = self._existing(session, set(id_indexes.values()), set(doc_indexes.values()))

        targets: dict[str, _PersonTarget] = {}
        inserts: list[_PersonTarget] = []
        for i in ok:
            row, check = rows[i], checks[i]
            if i not in id_indexes and i not in doc_indexes:
                row.problems.append(("document_no", "a person needs an ID number or a document number"))
                continue
            key = f"id:{id_indexes[i]}" if i in id_indexes else f"doc:{doc_indexes[i]}"
            house_id, area = places[i]
            target = targets.get(key)
            if target is None:
                found = existing.get(key)
                if found == "ambiguous":
                    row.problems.append(
                        ("document_no", "several people have this document number; correct them in the app")
                    )
                    continue
                if isinstance(found, dict):
                    if not self.in_scope(found):
                        row.problems.append(
                            (
                                "id_number" if i in id_indexes else "document_no",
                                "this person is registered outside your scope; the import does not move people "
                                "between areas — ask the responsible community",
                            )
                        )
                        continue
                    if found["status"] != "active":
                        row.problems.append(
                            (
                                "id_number",
                                f"this person is deregistered ({found['status']}); re-register them in the app",
                            )
                        )
                        continue
                    target = _PersonTarget(person_id=found["id"], current=found)
                else:
                    insert = dict(self.insert_template)
                    target = _PersonTarget(person_id=None, current=insert, insert=insert)
                    inserts.append(target)
                    if i in id_indexes:
                        insert["id_number_index"] = id_indexes[i]
                        target.plain["id_number"] = check.id_number or ""
                    if i in doc_indexes:
                        insert["document_no_index"] = doc_indexes[i]
                targets[key] = target
                created_now = target.insert is not None
            else:
                created_now = False
            changed = self._apply(target, check, phone_indexes.get(i), house_id, area)
            if created_now:
                counts.created += 1
            elif changed:
                counts.updated += 1
            else:
                counts.unchanged += 1
        counts.failed = sum(1 for row in rows if not row.ok)
        if write:
            self._write(session, inserts, [t for t in targets.values() if t.insert is None and t.changes])
        return counts, rows

    def _apply(
        self,
        target: _PersonTarget,
        check: people.PersonCheck,
        phone_index: str | None,
        house_id: int | None,
        area: dict[str, str],
    ) -> bool:
        """Put a row's values on its target; whether anything changed."""
        wanted: dict[str, Any] = dict(check.columns)
        if phone_index is not None and check.phone:
            wanted["phone_index"] = phone_index
        if check.document_no:
            wanted["document_no_index"] = self.keyring.blind_index(check.document_no, context=people.DOCUMENT_CONTEXT)
        location = {"house_id": house_id, **area}
        if target.insert is None and (
            target.current.get("grid_code") != area["grid_code"] or target.current.get("house_id") != house_id
        ):
            target.moved = True
        wanted.update(location)
        changed = False
        for column, value in wanted.items():
            if target.current.get(column) != value:
                target.current[column] = value
                if target.insert is None:
                    target.changes[column] = value
                changed = True
                if column == "phone_index":
                    target.plain["phone"] = check.phone or ""
                if column == "document_no_index":
                    target.plain["document_no"] = check.document_no or ""
        return changed

    def _places(self, session: Session, rows: list[Row]) -> dict[int, tuple[int | None, dict[str, str]]]:
        """Each valid row's house (if any) and area, all inside the caller's scope; problems noted."""
        wanted_ids = {r.values["house_id"] for r in rows if r.ok and "house_id" in r.values}
        by_id: dict[int, dict[str, Any]] = {}
        if wanted_ids:
            for record in session.execute(
                select(House.id, *(getattr(House, c) for c in AREA_COLUMNS)).where(House.id.in_(wanted_ids))
            ):
                by_id[record.id] = dict(record._mapping)
        address_rows = [r for r in rows if r.ok and "house_address" in r.values and "house_id" not in r.values]
        by_address: dict[tuple[str, str], dict[str, Any]] = {}
        if address_rows:
            addresses = {r.values["house_address"] for r in address_rows}
            for record in session.execute(
                select(House.id, House.address, *(getattr(House, c) for c in AREA_COLUMNS)).where(
                    House.address.in_(addresses)
                )
            ):
                by_address[(record.grid_code, record.address)] = dict(record._mapping)
        grids = self.grids(session, {r.values["grid_code"] for r in rows if r.ok and "grid_code" in r.values})
        places: dict[int, tuple[int | None, dict[str, str]]] = {}
        for i, row in enumerate(rows):
            if not row.ok:
                continue
            values = row.values
            house: dict[str, Any] | None = None
            if "house_id" in values:
                house = by_id.get(values["house_id"])
                if house is None or not self.in_scope(house):
                    row.problems.append(("house_id", f"there is no house {values['house_id']} in your scope"))
                    continue
                if "grid_code" in values and values["grid_code"] != house["grid_code"]:
                    row.problems.append(("grid_code", f"house {house['id']} lies in grid {house['grid_code']}"))
                    continue
                places[i] = (house["id"], {c: house[c] for c in AREA_COLUMNS})
                continue
            grid = grids.get(values["grid_code"])
            if grid is None or not self.in_scope(grid.area):
                row.problems.append(("grid_code", f"{values['grid_code']} is not a grid in your scope"))
                continue
            if "house_address" in values:
                house = by_address.get((grid.area["grid_code"], values["house_address"]))
                if house is None:
                    row.problems.append(
                        (
                            "house_address",
                            f"grid {grid.area['grid_code']} has no house with this address; import the houses first",
                        )
                    )
                    continue
                places[i] = (house["id"], dict(grid.area))
                continue
            places[i] = (None, dict(grid.area))
        return places

    def _existing(self, session: Session, id_indexes: set[str], doc_indexes: set[str]) -> dict[str, Any]:
        """key → the person's current columns (or "ambiguous" for a document number several people share)."""
        found: dict[str, Any] = {}
        columns = [getattr(Person, c) for c in (*PERSON_KEY_COLUMNS, *self.update_columns) if c != "document_no_index"]
        columns.append(Person.document_no_index)
        if id_indexes:
            for row in session.execute(select(*columns).where(Person.id_number_index.in_(id_indexes))):
                found[f"id:{row.id_number_index}"] = dict(row._mapping)
        if doc_indexes:
            for row in session.execute(
                select(*columns).where(Person.document_no_index.in_(doc_indexes), Person.id_number_index.is_(None))
            ):
                key = f"doc:{row.document_no_index}"
                found[key] = "ambiguous" if key in found else dict(row._mapping)
        return found

    def _new_ids(self, session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
        """The ids of people just inserted, by their key (one query per kind of key)."""
        ids: dict[str, int] = {}
        by_id = [r["id_number_index"] for r in rows if r["id_number_index"] is not None]
        if by_id:
            for person_id, index in session.execute(
                select(Person.id, Person.id_number_index).where(Person.id_number_index.in_(by_id))
            ):
                ids[f"id:{index}"] = person_id
        by_doc = [r["document_no_index"] for r in rows if r["id_number_index"] is None]
        if by_doc:
            for person_id, index in session.execute(
                select(Person.id, Person.document_no_index)
                .where(Person.document_no_index.in_(by_doc), Person.id_number_index.is_(None))
                .order_by(Person.id)
            ):
                ids[f"doc:{index}"] = person_id  # the newest wins: the one just inserted
        return ids

    def _write(self, session: Session, inserts: list[_PersonTarget], updates: list[_PersonTarget]) -> None:
        keyring = self.keyring
        for name, context in (
            ("id_number", people.ID_CONTEXT),
            ("phone", people.PHONE_CONTEXT),
            ("document_no", people.DOCUMENT_CONTEXT),
        ):
            holders = [t for t in (*inserts, *updates) if name in t.plain]
            tokens = keyring.encrypt_many([t.plain[name] for t in holders], context=context)
            for target, token in zip(holders, tokens, strict=True):
                (target.insert if target.insert is not None else target.changes)[f"{name}_enc"] = token
                target.plain.pop(name)
        now = utcnow()
        if inserts:
            rows = [{**t.current, "created_at": now, "updated_at": now} for t in inserts]
            # Plain executemany (no RETURNING: SQLite's variable limit would split it into tiny statements).
            session.execute(insert(_table(Person)), rows)
            housed = [row for row in rows if row["house_id"] is not None]
            if housed:
                ids = self._new_ids(session, housed)
                residences = [
                    {
                        "person_id": ids[_key_of(row)],
                        "house_id": row["house_id"],
                        "grid_code": row["grid_code"],
                        "from_date": self.on,
                        "reason": "imported",
                    }
                    for row in housed
                ]
                session.execute(insert(_table(Residence)), residences)
        if updates:
            session.execute(
                update(Person),
                [
                    {"id": t.person_id, **t.changes, "updated_at": now, "review_status": self.review_status}
                    for t in updates
                ],
            )
            moved = [t for t in updates if t.moved]
            if moved:
                session.execute(
                    update(Residence)
                    .where(Residence.person_id.in_([t.person_id for t in moved]), Residence.to_date.is_(None))
                    .values(to_date=self.on)
                )
                new = [
                    {
                        "person_id": t.person_id,
                        "house_id": t.current["house_id"],
                        "grid_code": t.current["grid_code"],
                        "from_date": self.on,
                        "reason": "imported",
                    }
                    for t in moved
                    if t.current["house_id"] is not None
                ]
                if new:
                    session.execute(insert(_table(Residence)), new)


@dataclass
class _HouseTarget:
    house_id: int | None
    current: dict[str, Any]
    insert: dict[str, Any] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    owner_id: str | None = None


HOUSE_PLAIN = ("street_address", "building", "unit", "room", "use", "owner_name", "area_m2", "lon", "lat")


class HouseImporter(BaseImporter):
    entity = "houses"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_template: dict[str, Any] = {
            **{name: None for name in HOUSE_PLAIN},
            **{c: None for c in AREA_COLUMNS},
            "address": None,
            "owner_id_number_enc": None,
            "owner_id_number_index": None,
        }

    def process(self, session: Session, batch: list[tuple[int, list[Any]]], *, write: bool) -> tuple[Counts, list[Row]]:
        counts = Counts(rows=len(batch))
        rows = self.rows_of(batch)
        geometry = "lon" in self.columns
        grids = self.grids(session, {r.values["grid_code"] for r in rows if "grid_code" in r.values}, geometry=geometry)
        keys: dict[int, tuple[str, str]] = {}
        checks: dict[int, houses.HouseCheck] = {}
        for i, row in enumerate(rows):
            grid = grids.get(row.values.get("grid_code", ""))
            if "grid_code" in row.values and (grid is None or not self.in_scope(grid.area)):
                row.problems.append(("grid_code", f"{row.values['grid_code']} is not a grid in your scope"))
                grid = None
            values = {k: v for k, v in row.values.items() if k != "grid_code"}
            check = houses.validate_house(
                session, values, grid.division if grid else None, contains=grid.contains if grid else None, on=self.on
            )
            row.add_checked(check.problems)
            if row.ok and grid is not None:
                v = row.values
                address = houses.compose_address(
                    grid.community_name, v["street_address"], v.get("building"), v.get("unit"), v.get("room")
                )
                if len(address) > 250:
                    row.problems.append(("street_address", "the full address is longer than 250 characters"))
                    continue
                keys[i] = (grid.area["grid_code"], address)
                checks[i] = check
        owner_rows = [i for i in keys if checks[i].owner_id_number]
        owner_indexes = dict(
            zip(
                owner_rows,
                self.keyring.blind_index_many(
                    [checks[i].owner_id_number or "" for i in owner_rows], context=houses.OWNER_ID_CONTEXT
                ),
                strict=True,
            )
        )
        existing: dict[tuple[str, str], dict[str, Any]] = {}
        if keys:
            columns = [House.id, House.address, House.owner_id_number_index, *(getattr(House, c) for c in HOUSE_PLAIN)]
            columns += [getattr(House, c) for c in AREA_COLUMNS]
            addresses = {k[1] for k in keys.values()}
            for record in session.execute(select(*columns).where(House.address.in_(addresses))):
                existing[(record.grid_code, record.address)] = dict(record._mapping)
        targets: dict[tuple[str, str], _HouseTarget] = {}
        inserts: list[_HouseTarget] = []
        outcomes: dict[int, str] = {}
        for i, key in keys.items():
            check = checks[i]
            target = targets.get(key)
            created_now = False
            if target is None:
                found = existing.get(key)
                if found is not None:
                    target = _HouseTarget(house_id=found["id"], current=found)
                else:
                    grid = grids[key[0]]
                    assert grid is not None
                    fresh: dict[str, Any] = {**self.insert_template, **grid.area, "address": key[1]}
                    target = _HouseTarget(house_id=None, current=fresh, insert=fresh)
                    inserts.append(target)
                    created_now = True
                targets[key] = target
            wanted = dict(check.columns)
            if i in owner_indexes:
                wanted["owner_id_number_index"] = owner_indexes[i]
            changed = False
            for column, value in wanted.items():
                if target.current.get(column) != value:
                    target.current[column] = value
                    if target.insert is None:
                        target.changes[column] = value
                    if column == "owner_id_number_index":
                        target.owner_id = check.owner_id_number
                    changed = True
            outcomes[i] = "created" if created_now else "updated" if changed else "unchanged"
        self._tenant_conflicts(session, rows, keys, targets)
        for i, outcome in outcomes.items():
            if rows[i].ok:
                setattr(counts, outcome, getattr(counts, outcome) + 1)
        counts.failed = sum(1 for row in rows if not row.ok)
        if write:
            self._write(session, inserts, [t for t in targets.values() if t.insert is None and t.changes])
        return counts, rows

    def _tenant_conflicts(
        self,
        session: Session,
        rows: list[Row],
        keys: dict[int, tuple[str, str]],
        targets: dict[tuple[str, str], _HouseTarget],
    ) -> None:
        """A house with current tenants keeps its use 'rented' (as in the API)."""
        leaving = {
            t.house_id: key
            for key, t in targets.items()
            if t.house_id is not None and t.changes.get("use") not in (None, "rented")
        }
        if not leaving:
            return
        rented = set(
            session.scalars(
                select(Tenancy.house_id)
                .where(Tenancy.house_id.in_(list(leaving)), Tenancy.move_out.is_(None))
                .group_by(Tenancy.house_id)
            )
        )
        for house_id in rented:
            key = leaving[house_id]
            targets[key].changes.clear()
            for i, row_key in keys.items():
                if row_key == key:
                    rows[i].problems.append(
                        ("use", "the house still has tenants; record their move-out before changing its use")
                    )

    def _write(self, session: Session, inserts: list[_HouseTarget], updates: list[_HouseTarget]) -> None:
        holders = [t for t in (*inserts, *updates) if t.owner_id]
        tokens = self.keyring.encrypt_many([t.owner_id or "" for t in holders], context=houses.OWNER_ID_CONTEXT)
        for target, token in zip(holders, tokens, strict=True):
            (target.insert if target.insert is not None else target.changes)["owner_id_number_enc"] = token
        now = utcnow()
        if inserts:
            session.execute(
                insert(_table(House)), [{**t.current, "created_at": now, "updated_at": now} for t in inserts]
            )
        if updates:
            session.execute(update(House), [{"id": t.house_id, **t.changes, "updated_at": now} for t in updates])


IMPORTERS: dict[str, type[BaseImporter]] = {"people": PeopleImporter, "houses": HouseImporter}


# -- running an import -----------------------------------------------------------------------------------


def batches(rows: Iterator[tuple[int, list[Any]]], size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    while True:
        batch = list(islice(rows, size))
        if not batch:
            return
        yield batch


@dataclass
class ImportSpec:
    """What the job needs: the uploaded file and how to read it."""

    entity: str
    mode: str
    path: str
    format: str
    mapping: dict[str, str]
    mapping_name: str | None = None
    sheet: str | None = None
    batch_size: int = 2000
    report_dir: str = "var/imports"
    encoding: str | None = None  # decided when the job starts

    def params(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "mode": self.mode,
            "path": self.path,
            "format": self.format,
            "mapping": self.mapping,
            "mapping_name": self.mapping_name,
            "sheet": self.sheet,
            "batch_size": self.batch_size,
            "report_dir": self.report_dir,
        }


def check_file(path: Path, entity: str, fmt: str, mapping: dict[str, str] | None, sheet: str | None) -> dict[str, str]:
    """Open the file, check its encoding and header against the mapping (or build one from the header);
    the mapping to use. ImportRejected before any row is read."""
    source = open_source(path, fmt, sheet, count=False)
    try:
        used = mapping if mapping else auto_mapping(entity, source.header)
        resolve_columns(entity, source.header, used)
        return used
    finally:
        source.close()


def _finish_audit(
    session: Session, principal: Principal, job_id: int, spec: ImportSpec, counts: Counts, written: bool
) -> None:
    audit.record(
        session,
        principal,
        f"registry.import_{spec.entity}",
        "job",
        job_id,
        details={
            "mode": spec.mode,
            "format": spec.format,
            "mapping": spec.mapping_name or "inline",
            "written": written,
            **counts.as_dict(),
        },
    )


def _report_problems(report: ErrorReport, rows: list[Row]) -> None:
    for row in rows:
        for name, problem in row.problems:
            report.add(row.number, name, row.raw.get(name), problem)


def run_import(
    database: Database,
    principal: Principal,
    job_id: int,
    spec: ImportSpec,
    progress: Callable[..., None],
    keyring: Keyring | None = None,
) -> dict[str, Any]:
    """Run an import; progress(processed=, succeeded=, failed=, total=, message=, [in_session=, force=])."""
    require_import(principal, spec.entity)
    keyring = keyring or get_keyring()
    path = Path(spec.path)
    report_path = Path(spec.report_dir) / f"job-{job_id}-errors.csv"
    source = open_source(path, spec.format, spec.sheet)
    source.close()
    spec.encoding = source.encoding
    columns = resolve_columns(spec.entity, source.header, spec.mapping)
    field_columns = {f: source.header[i] for f, i in columns.items()}
    report = ErrorReport(report_path, spec.entity, field_columns)
    on = people.today()
    with database.unit_of_work(write=False) as session:
        reader = CellReader(session)
    importer = IMPORTERS[spec.entity](principal, keyring, columns, reader, on)
    progress(total=source.total, message="checking rows" if spec.mode == "all_or_nothing" else "importing", force=True)
    total = Counts()
    result: dict[str, Any]
    try:
        if spec.mode == "apply_valid":
            written = False
            try:
                for batch_rows in _rows(path, spec):
                    with database.unit_of_work() as session:
                        counts, rows = importer.process(session, batch_rows, write=True)
                    written = written or counts.succeeded > 0
                    total.add(counts)
                    _report_problems(report, rows)
                    progress(processed=total.rows, succeeded=total.succeeded, failed=total.failed)
            finally:
                with database.unit_of_work() as session:
                    _finish_audit(session, principal, job_id, spec, total, written)
        else:
            for batch_rows in _rows(path, spec):
                with database.unit_of_work(write=False) as session:
                    counts, rows = importer.process(session, batch_rows, write=False)
                total.add(counts)
                _report_problems(report, rows)
                progress(processed=total.rows, succeeded=total.succeeded, failed=total.failed)
            if total.failed:
                with database.unit_of_work() as session:
                    _finish_audit(session, principal, job_id, spec, total, False)
            else:
                total = _write_all(database, principal, job_id, spec, importer, progress)
    finally:
        report.close()
    result = {
        "entity": spec.entity,
        "mode": spec.mode,
        "format": spec.format,
        "encoding": source.encoding,
        **total.as_dict(),
        "written": spec.mode == "apply_valid" or not total.failed,
        "problems": report.problems,
        "first_problems": report.first,
    }
    if report.problems == 0:
        report.path.unlink(missing_ok=True)
        result["error_report"] = None
    else:
        result["error_report"] = str(report.path)
    if spec.mode == "all_or_nothing" and total.failed:
        raise jobs.JobFailed(
            f"{total.failed:,} of {total.rows:,} rows have problems, so nothing was written (all_or_nothing); "
            "the error report lists each one",
            result,
        )
    return result


def _rows(path: Path, spec: ImportSpec) -> Iterator[list[tuple[int, list[Any]]]]:
    source = open_source(path, spec.format, spec.sheet, count=False, encoding=spec.encoding)
    try:
        yield from batches(source.rows(), spec.batch_size)
    finally:
        source.close()


def _analyze(session: Session, entity: str) -> None:
    """Refresh the planner's statistics inside the write transaction (batches 1, 2, 4, 8, …).

    PostgreSQL's ANALYZE counts the rows this transaction inserted; without it the statistics (and the
    plans psycopg prepared for the batch lookups) still describe the table before the import — an empty
    table is scanned whole for every batch, which turns a million-row import quadratic. A savepoint keeps
    a refusal (a role that may not analyze) from aborting the import.
    """
    table = "registry_person" if entity == "people" else "registry_house"
    try:
        with session.begin_nested():
            session.execute(text(f"ANALYZE {table}"))
    except Exception:
        log.warning("could not ANALYZE %s during an import; it may run slowly", table)


class _Changed(Exception):
    pass


def _write_all(
    database: Database,
    principal: Principal,
    job_id: int,
    spec: ImportSpec,
    importer: BaseImporter,
    progress: Callable[..., None],
) -> Counts:
    """The second pass of all_or_nothing: every row written in one transaction, or none."""
    total = Counts()
    progress(processed=0, succeeded=0, failed=0, message="writing rows", force=True)
    try:
        with database.unit_of_work() as session:
            postgres = session.get_bind().dialect.name == "postgresql"
            for number, batch_rows in enumerate(_rows(Path(spec.path), spec), 1):
                if postgres and number & (number - 1) == 0:
                    _analyze(session, importer.entity)
                counts, rows = importer.process(session, batch_rows, write=True)
                total.add(counts)
                if counts.failed:
                    bad = next(r for r in rows if not r.ok)
                    raise _Changed(f"row {bad.number}: {bad.problems[0][1]}")
                session.flush()
                progress(processed=total.rows, succeeded=total.succeeded, failed=0, in_session=session)
            _finish_audit(session, principal, job_id, spec, total, True)
    except _Changed as exc:
        raise jobs.JobFailed(
            f"the registry changed while the file was imported ({exc}); nothing was written — import it again"
        ) from None
    return total


# -- the job handlers ------------------------------------------------------------------------------------


def _job(context: jobs.JobContext) -> dict[str, Any]:
    spec = ImportSpec(**{k: v for k, v in context.params.items() if k in ImportSpec.__dataclass_fields__})
    try:
        result = run_import(
            context.database,
            context.principal,
            context.job_id,
            spec,
            context.progress,
        )
        if result.get("error_report"):
            context.set_error_report(result["error_report"])
        return result
    except jobs.JobFailed as exc:
        if exc.result and exc.result.get("error_report"):
            context.set_error_report(exc.result["error_report"])
        raise
    finally:
        Path(spec.path).unlink(missing_ok=True)


jobs.handler("registry.import.people")(_job)
jobs.handler("registry.import.houses")(_job)


def count_people(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Person)) or 0
