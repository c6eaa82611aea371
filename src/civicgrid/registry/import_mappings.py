"""Saved column mappings for registry imports: "this city's old system calls the ID column 公民身份号码".

A mapping belongs to the organisation unit of the person who saved it (everyone in the unit may use and
edit it) — or, for accounts without a unit, to that person alone. Names are unique per unit and entity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Base
from civicgrid.core.errors import Conflict, InvalidInput, NotFound
from civicgrid.core.types import UTCDateTime

ENTITIES = ("people", "houses")


class ImportMapping(Base):
    """A named mapping of a file's columns to registry fields, saved for the next import."""

    __tablename__ = "registry_import_mapping"
    __table_args__ = (CheckConstraint("entity IN ('people','houses')", name="entity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    entity: Mapped[str] = mapped_column(String(10))
    mapping: Mapped[dict[str, str]] = mapped_column(JSON)  # source column → field
    created_by: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def _visible(principal: Principal) -> Any:
    """Mappings of the caller's unit, or the caller's own when they have no unit."""
    if principal.unit_id is not None:
        return or_(ImportMapping.unit_id == principal.unit_id, ImportMapping.created_by == principal.user_id)
    return (ImportMapping.unit_id.is_(None)) & (
        ImportMapping.created_by.is_(None)
        if principal.user_id is None
        else ImportMapping.created_by == principal.user_id
    )


def check_mapping(entity: str, mapping: dict[str, str]) -> dict[str, str]:
    """Source column → field, with every problem reported: unknown fields, a field mapped twice."""
    from civicgrid.registry.imports import FIELDS

    if entity not in ENTITIES:
        raise InvalidInput(
            f"entity must be people or houses, not {entity!r}", details=[{"field": "entity", "problem": "unknown"}]
        )
    found: list[dict[str, str]] = []
    cleaned: dict[str, str] = {}
    targets: dict[str, str] = {}
    for source, target in mapping.items():
        column, field = str(source).strip(), str(target).strip()
        if not column:
            found.append({"field": "mapping", "problem": "a source column name is empty"})
            continue
        if field not in FIELDS[entity]:
            found.append(
                {
                    "field": f"mapping.{column}",
                    "problem": f"{field!r} is not a field of {entity} (fields: {', '.join(FIELDS[entity])})",
                }
            )
            continue
        if field in targets:
            found.append(
                {"field": f"mapping.{column}", "problem": f"{field} is already mapped from column {targets[field]!r}"}
            )
            continue
        targets[field] = column
        cleaned[column] = field
    if found:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in found), details=found)
    return cleaned


def list_mappings(session: Session, principal: Principal, entity: str | None = None) -> list[ImportMapping]:
    require(principal, "registry:import")
    query = select(ImportMapping).where(_visible(principal))
    if entity is not None:
        query = query.where(ImportMapping.entity == entity)
    return list(session.scalars(query.order_by(ImportMapping.entity, ImportMapping.name)))


def get_mapping(session: Session, principal: Principal, mapping_id: int) -> ImportMapping:
    require(principal, "registry:import")
    found = session.scalar(select(ImportMapping).where(ImportMapping.id == mapping_id, _visible(principal)))
    if found is None:
        raise NotFound(f"import mapping {mapping_id} not found", details={"id": str(mapping_id)})
    return found


def find_mapping(session: Session, principal: Principal, entity: str, name: str) -> ImportMapping:
    require(principal, "registry:import")
    found = session.scalar(
        select(ImportMapping)
        .where(ImportMapping.entity == entity, ImportMapping.name == name, _visible(principal))
        .order_by(ImportMapping.id)
        .limit(1)
    )
    if found is None:
        raise InvalidInput(
            f"there is no saved {entity} mapping named {name!r}; save it first or give the mapping inline",
            details=[{"field": "mapping_name", "problem": "not found"}],
        )
    return found


def _name_taken(session: Session, principal: Principal, entity: str, name: str, except_id: int | None) -> bool:
    query = select(ImportMapping.id).where(
        ImportMapping.entity == entity, ImportMapping.name == name, _visible(principal)
    )
    if except_id is not None:
        query = query.where(ImportMapping.id != except_id)
    return session.scalar(query.limit(1)) is not None


def create_mapping(
    session: Session, principal: Principal, name: str, entity: str, mapping: dict[str, str]
) -> ImportMapping:
    require(principal, "registry:import")
    cleaned = check_mapping(entity, mapping)
    if _name_taken(session, principal, entity, name, None):
        raise Conflict(f"a {entity} mapping named {name!r} already exists; change it or choose another name")
    saved = ImportMapping(
        name=name, entity=entity, mapping=cleaned, created_by=principal.user_id, unit_id=principal.unit_id
    )
    session.add(saved)
    session.flush()
    audit.record(session, principal, "registry.mapping_create", "import_mapping", saved.id, details={"name": name})
    return saved


def update_mapping(
    session: Session, principal: Principal, mapping_id: int, name: str | None, mapping: dict[str, str] | None
) -> ImportMapping:
    saved = get_mapping(session, principal, mapping_id)
    if name is not None and name != saved.name:
        if _name_taken(session, principal, saved.entity, name, saved.id):
            raise Conflict(f"a {saved.entity} mapping named {name!r} already exists")
        saved.name = name
    if mapping is not None:
        saved.mapping = check_mapping(saved.entity, mapping)
    session.flush()
    audit.record(session, principal, "registry.mapping_update", "import_mapping", saved.id)
    return saved


def delete_mapping(session: Session, principal: Principal, mapping_id: int) -> None:
    saved = get_mapping(session, principal, mapping_id)
    session.delete(saved)
    session.flush()
    audit.record(session, principal, "registry.mapping_delete", "import_mapping", mapping_id)
