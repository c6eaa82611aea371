"""The fields an import can fill, which of them are required, and how a file's columns map to them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.core.errors import ImportRejected, InvalidInput, NotFound
from civicgrid.core.masking import mask_id_number, mask_name, mask_phone

MODES = ("apply_valid", "all_or_nothing")
SavedT = TypeVar("SavedT")


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


def locate_columns(
    header: list[str], columns: Mapping[str, str], fields: Mapping[str, FieldSpec], required: Iterable[str]
) -> dict[str, int]:
    """field → column index, for imports whose mapping names some columns and leaves the rest to their
    headings: fields the mapping leaves out are found by their name or usual heading (`FieldSpec.aliases`).
    ImportRejected listing every problem (a heading twice, a mapped column missing, a required field
    missing), before any row is read."""
    problems: list[dict[str, Any]] = []
    positions: dict[str, int] = {}
    for index, column in enumerate(header):
        if column and column in positions:
            problems.append({"row": 1, "field": "header", "problem": f"the column {column!r} appears twice"})
        elif column:
            positions[column] = index
    found: dict[str, int] = {}
    for column, name in columns.items():
        if column not in positions:
            problems.append(
                {"row": 1, "field": name, "problem": f"the mapping names the column {column!r}, which the file lacks"}
            )
        else:
            found[name] = positions[column]
    for name, spec in fields.items():
        if name not in found and name not in columns.values():
            heading = next(
                (h for h in (name, *spec.aliases) if h in positions and positions[h] not in found.values()), None
            )
            if heading is not None:
                found[name] = positions[heading]
    missing = [name for name in required if name not in found]
    if missing:
        problems.insert(0, {"row": 1, "field": "mapping", "problem": f"missing required columns: {', '.join(missing)}"})
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ImportRejected(f"{problems[0]['problem']}{more}; nothing was imported", details=problems)
    return found


# -- saved mappings --------------------------------------------------------------------------------------


def refuse(problems: list[dict[str, str]]) -> None:
    """InvalidInput naming every problem of a mapping, if there is any."""
    if problems:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in problems), details=problems)


def check_columns(
    columns: Mapping[str, str], fields: Iterable[str], not_a_field: Callable[[str], str]
) -> dict[str, str]:
    """File column → field, every problem reported: an empty column name, an unknown field (`not_a_field`
    says why), a field mapped twice."""
    known = set(fields)
    problems: list[dict[str, str]] = []
    cleaned: dict[str, str] = {}
    sources: dict[str, str] = {}
    for source, target in columns.items():
        column, name = str(source).strip(), str(target).strip()
        if not column:
            problems.append({"field": "columns", "problem": "a column name is empty"})
        elif name not in known:
            problems.append({"field": f"columns.{column}", "problem": not_a_field(name)})
        elif name in sources:
            problems.append(
                {"field": f"columns.{column}", "problem": f"{name} is already mapped from column {sources[name]!r}"}
            )
        else:
            sources[name] = column
            cleaned[column] = name
    refuse(problems)
    return cleaned


def check_categories(
    categories: Mapping[str, str], max_length: int, label_noun: str, not_usable: Callable[[str], str | None]
) -> dict[str, str]:
    """A file's category label → a category code, every problem reported: an empty or too long label, a
    code `not_usable` finds a problem with (the problem)."""
    problems: list[dict[str, str]] = []
    cleaned: dict[str, str] = {}
    for source, target in categories.items():
        label, code = str(source).strip(), str(target).strip()
        if not label or len(label) > max_length:
            problems.append(
                {"field": "categories", "problem": f"a category {label_noun} is empty or over {max_length}"}
            )
        elif (problem := not_usable(code)) is not None:
            problems.append({"field": f"categories.{label}", "problem": problem})
        else:
            cleaned[label] = code
    refuse(problems)
    return cleaned


def saved_mapping(session: Session, model: type[SavedT], mapping_id: int, noun: str) -> SavedT:
    """The saved mapping `mapping_id` of `model`, or a 404 naming it (`noun`: "feed mapping", …)."""
    found = session.get(model, mapping_id)
    if found is None:
        raise NotFound(f"{noun} {mapping_id} not found", details={"id": str(mapping_id)})
    return found


def name_taken(session: Session, model: type[Any], name: str, except_id: int | None = None) -> bool:
    """Whether a saved mapping of `model` other than `except_id` has the name (names are unique)."""
    query = select(model.id).where(model.name == name)
    if except_id is not None:
        query = query.where(model.id != except_id)
    return session.scalar(query) is not None
