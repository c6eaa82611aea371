"""Saved mappings of incident feeds: which column of a police system's export holds which record field,
which of the feed's own category labels is which incident category, and what to do with a label the
table lacks. Shared by everyone holding `safety:import` (the city's police feeds are the city's); names
are unique; every change is audited (never a record's content)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.core.errors import Conflict, InvalidInput
from civicgrid.registry.imports import fields
from civicgrid.registry.imports.fields import refuse
from civicgrid.safety.categories import leaf_categories
from civicgrid.safety.feeds import FIELDS, UNKNOWN_POLICIES, CategoryTable
from civicgrid.safety.models import FEED_SOURCES, SafetyCategory, SafetyFeedMapping

PERMISSION = "safety:import"
MAX_LABEL = 100


def check_columns(columns: dict[str, str]) -> dict[str, str]:
    """File column → record field, every problem reported: an empty column, an unknown field, a field twice."""
    return fields.check_columns(
        columns,
        FIELDS,
        lambda name: (
            f"{name!r} is not a record field ({', '.join(FIELDS)}); free text such as a call summary is "
            "never imported: leave that column out"
        ),
    )


def check_categories(session: Session, categories: dict[str, str]) -> dict[str, str]:
    """The feed's label → an active leaf incident category, every problem reported."""
    leaves = leaf_categories(session)
    return fields.check_categories(
        categories, MAX_LABEL, "label", lambda code: None if code in leaves else _not_a_leaf(session, code)
    )


def _not_a_leaf(session: Session, code: str) -> str:
    category = session.get(SafetyCategory, code)
    if category is not None and category.depth == 1:
        return f"{code} {category.name_zh} is a class; name one of its categories (e.g. {code}01)"
    return f"{code!r} is not an active incident category (a four-digit leaf such as 0101)"


def check_policy(session: Session, policy: str, fallback: str | None) -> str | None:
    """The fallback category to keep: required with `fallback`, refused with the other policies."""
    if policy not in UNKNOWN_POLICIES:
        refuse([{"field": "unknown_category", "problem": f"one of {', '.join(UNKNOWN_POLICIES)}"}])
    if policy != "fallback":
        if fallback is not None:
            refuse([{"field": "fallback_category", "problem": "only with unknown_category = fallback; leave it out"}])
        return None
    if not fallback:
        refuse([{"field": "fallback_category", "problem": "required with unknown_category = fallback (e.g. 0999)"}])
    assert fallback is not None
    if fallback not in leaf_categories(session):
        refuse([{"field": "fallback_category", "problem": _not_a_leaf(session, fallback)}])
    return fallback


def check_source(source: str) -> str:
    if source not in FEED_SOURCES:
        refuse([{"field": "source", "problem": f"one of {', '.join(FEED_SOURCES)} (110, 119, 122 or records)"}])
    return source


# -- reading ---------------------------------------------------------------------------------------------


def list_mappings(session: Session, principal: Principal) -> list[SafetyFeedMapping]:
    require(principal, PERMISSION)
    return list(session.scalars(select(SafetyFeedMapping).order_by(SafetyFeedMapping.name)))


def get_mapping(session: Session, principal: Principal, mapping_id: int) -> SafetyFeedMapping:
    require(principal, PERMISSION)
    return fields.saved_mapping(session, SafetyFeedMapping, mapping_id, "feed mapping")


def find_mapping(session: Session, principal: Principal, name: str) -> SafetyFeedMapping:
    require(principal, PERMISSION)
    found = session.scalar(select(SafetyFeedMapping).where(SafetyFeedMapping.name == name))
    if found is None:
        raise InvalidInput(
            f"there is no saved feed mapping named {name!r}; save it first (GET /api/v1/safety/feed-mappings lists "
            "them)",
            details=[{"field": "mapping", "problem": "not found"}],
        )
    return found


def category_table(session: Session, categories: dict[str, str], policy: str, fallback: str | None) -> CategoryTable:
    """A mapping's category table over today's active leaf categories: a code that has gone inactive since
    the mapping was saved counts as unknown (and a fallback gone inactive turns `fallback` into `report`)."""
    leaves = frozenset(leaf_categories(session))
    labels = {label: code for label, code in categories.items() if code in leaves}
    usable = fallback if fallback in leaves else None
    return CategoryTable(labels, leaves, policy if policy != "fallback" or usable else "report", usable)


# -- writing ---------------------------------------------------------------------------------------------


def _name_taken(session: Session, name: str, except_id: int | None = None) -> None:
    if fields.name_taken(session, SafetyFeedMapping, name, except_id):
        raise Conflict(f"a feed mapping named {name!r} exists already; change it or choose another name")


def create_mapping(
    session: Session,
    principal: Principal,
    *,
    name: str,
    source: str,
    columns: dict[str, str],
    categories: dict[str, str],
    unknown_category: str = "report",
    fallback_category: str | None = None,
) -> SafetyFeedMapping:
    require(principal, PERMISSION)
    saved = SafetyFeedMapping(
        name=name,
        source=check_source(source),
        columns=check_columns(columns),
        categories=check_categories(session, categories),
        unknown_category=unknown_category,
        fallback_category=check_policy(session, unknown_category, fallback_category),
        created_by=principal.user_id,
    )
    _name_taken(session, name)
    session.add(saved)
    session.flush()
    audit.record(
        session, principal, "safety.feed_mapping_create", "safety_feed_mapping", saved.id, details=_summary(saved)
    )
    return saved


def update_mapping(
    session: Session,
    principal: Principal,
    mapping_id: int,
    *,
    name: str | None = None,
    source: str | None = None,
    columns: dict[str, str] | None = None,
    categories: dict[str, str] | None = None,
    unknown_category: str | None = None,
    fallback_category: str | None = None,
) -> SafetyFeedMapping:
    """Replace the given parts (a whole mapping in a PUT: the routes send every part)."""
    saved = get_mapping(session, principal, mapping_id)
    new_columns = check_columns(columns) if columns is not None else None
    new_categories = check_categories(session, categories) if categories is not None else None
    policy = unknown_category if unknown_category is not None else saved.unknown_category
    fallback = check_policy(
        session, policy, fallback_category if unknown_category is not None else saved.fallback_category
    )
    if source is not None:
        check_source(source)
    if name is not None and name != saved.name:
        _name_taken(session, name, saved.id)
        saved.name = name
    if source is not None:
        saved.source = source
    if new_columns is not None:
        saved.columns = new_columns
    if new_categories is not None:
        saved.categories = new_categories
    saved.unknown_category, saved.fallback_category = policy, fallback
    session.flush()
    audit.record(
        session, principal, "safety.feed_mapping_update", "safety_feed_mapping", saved.id, details=_summary(saved)
    )
    return saved


def delete_mapping(session: Session, principal: Principal, mapping_id: int) -> None:
    saved = get_mapping(session, principal, mapping_id)
    details = _summary(saved)
    session.delete(saved)
    session.flush()
    audit.record(session, principal, "safety.feed_mapping_delete", "safety_feed_mapping", mapping_id, details=details)


def _summary(saved: SafetyFeedMapping) -> dict[str, object]:
    return {
        "name": saved.name,
        "source": saved.source,
        "columns": len(saved.columns),
        "categories": len(saved.categories),
        "unknown_category": saved.unknown_category,
    }
