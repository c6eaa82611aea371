"""Saved mappings of the 12345 import: the export's columns → ticket fields, the hotline's categories →
case categories. Shared by everyone holding `case:import` (one hotline per city); audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.cases.categories import usable_category
from civicgrid.cases.hotline import FIELDS
from civicgrid.cases.hotline_models import HotlineMapping
from civicgrid.core.errors import AppError, Conflict, InvalidInput
from civicgrid.registry.imports import fields

MAX_CATEGORY_NAME = 100


def check_columns(columns: dict[str, str]) -> dict[str, str]:
    """File column → field, every problem reported: an empty column name, an unknown field, a field twice."""
    return fields.check_columns(columns, FIELDS, lambda name: f"{name!r} is not a ticket field ({', '.join(FIELDS)})")


def check_categories(session: Session, categories: dict[str, str]) -> dict[str, str]:
    """The hotline's category name → a usable leaf case category, every problem reported."""

    def not_usable(code: str) -> str | None:
        try:
            category = usable_category(session, code)
        except AppError:
            return f"{code!r} is not an active case category"
        if category.depth != 2:
            return f"{code} {category.name_zh} is a class; name one of its categories"
        return None

    return fields.check_categories(categories, MAX_CATEGORY_NAME, "name", not_usable)


def list_mappings(session: Session, principal: Principal) -> list[HotlineMapping]:
    require(principal, "case:import")
    return list(session.scalars(select(HotlineMapping).order_by(HotlineMapping.name)))


def get_mapping(session: Session, principal: Principal, mapping_id: int) -> HotlineMapping:
    require(principal, "case:import")
    return fields.saved_mapping(session, HotlineMapping, mapping_id, "hotline mapping")


def find_mapping(session: Session, principal: Principal, name: str) -> HotlineMapping:
    require(principal, "case:import")
    found = session.scalar(select(HotlineMapping).where(HotlineMapping.name == name))
    if found is None:
        raise InvalidInput(
            f"there is no saved hotline mapping named {name!r}; save it first (GET /api/v1/cases/hotline/mappings "
            "lists them)",
            details=[{"field": "mapping_name", "problem": "not found"}],
        )
    return found


def _name_taken(session: Session, name: str, except_id: int | None = None) -> None:
    if fields.name_taken(session, HotlineMapping, name, except_id):
        raise Conflict(f"a hotline mapping named {name!r} exists already; change it or choose another name")


def create_mapping(
    session: Session, principal: Principal, name: str, columns: dict[str, str], categories: dict[str, str]
) -> HotlineMapping:
    require(principal, "case:import")
    saved = HotlineMapping(
        name=name,
        columns=check_columns(columns),
        categories=check_categories(session, categories),
        created_by=principal.user_id,
    )
    _name_taken(session, name)
    session.add(saved)
    session.flush()
    audit.record(session, principal, "case.hotline_mapping_create", "hotline_mapping", saved.id, details={"name": name})
    return saved


def update_mapping(
    session: Session,
    principal: Principal,
    mapping_id: int,
    *,
    name: str | None = None,
    columns: dict[str, str] | None = None,
    categories: dict[str, str] | None = None,
) -> HotlineMapping:
    saved = get_mapping(session, principal, mapping_id)
    if name is not None and name != saved.name:
        _name_taken(session, name, saved.id)
        saved.name = name
    if columns is not None:
        saved.columns = check_columns(columns)
    if categories is not None:
        saved.categories = check_categories(session, categories)
    session.flush()
    audit.record(session, principal, "case.hotline_mapping_update", "hotline_mapping", saved.id)
    return saved


def delete_mapping(session: Session, principal: Principal, mapping_id: int) -> None:
    saved = get_mapping(session, principal, mapping_id)
    session.delete(saved)
    session.flush()
    audit.record(session, principal, "case.hotline_mapping_delete", "hotline_mapping", mapping_id)
