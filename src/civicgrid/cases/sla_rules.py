"""Keeping the SLA rules: working-day limits per category, priority and/or lead department (`sla.limits_for`
picks the most specific that matches a case).

Case administrators (`case:admin`) create, change and delete rules; supervisors (`case:supervise`) may
read them. A rule's limits are more than 0 and at most 365 working days, a red limit is at least its
yellow one (left empty it is twice the yellow), its category must exist and its unit must be a
department (only a case's lead department selects rules). One rule per (category, priority, unit).
Changes apply to deadlines set from then on (reports, acceptance, dispatch, reopening); deadlines that
open cases already have stay as they are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.cases.models import PRIORITIES, CaseCategory, SlaRule
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from civicgrid.org.models import OrgUnit

MAX_DAYS = 365.0
FIELDS = (
    "category_code",
    "priority",
    "unit_id",
    "accept_days",
    "handle_days",
    "red_accept_days",
    "red_handle_days",
)


def require_read(principal: Principal) -> None:
    if not (principal.can("case:admin") or principal.can("case:supervise")):
        raise Forbidden(
            f"your role ({principal.role}) may not read the SLA rules", details={"permission": "case:admin"}
        )


def list_rules(principal: Principal, category_code: str | None = None, unit_id: int | None = None) -> AnySelect:
    require_read(principal)
    query = select(SlaRule)
    if category_code is not None:
        query = query.where(SlaRule.category_code == category_code)
    if unit_id is not None:
        query = query.where(SlaRule.unit_id == unit_id)
    return query


def _days_problem(value: Any, *, required: bool) -> str | None:
    if value is None:
        return "required" if required else None
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value <= MAX_DAYS:
        return f"must be more than 0 and at most {MAX_DAYS:.0f} working days"
    return None


def _check(session: Session, values: dict[str, Any]) -> None:
    """Refuse the rule whole, listing every problem (422)."""
    problems: list[dict[str, str]] = []
    for field in ("accept_days", "handle_days"):
        if problem := _days_problem(values.get(field), required=True):
            problems.append({"field": field, "problem": problem})
    for red, yellow in (("red_accept_days", "accept_days"), ("red_handle_days", "handle_days")):
        if problem := _days_problem(values.get(red), required=False):
            problems.append({"field": red, "problem": problem})
        elif (
            values.get(red) is not None
            and not any(p["field"] == yellow for p in problems)
            and values[red] < values[yellow]
        ):
            problems.append({"field": red, "problem": f"must be at least {yellow} ({values[yellow]:g})"})
    if values.get("priority") is not None and values["priority"] not in PRIORITIES:
        problems.append({"field": "priority", "problem": f"must be one of {', '.join(PRIORITIES)}"})
    code = values.get("category_code")
    if code is not None and session.get(CaseCategory, code) is None:
        problems.append({"field": "category_code", "problem": f"unknown category {code}"})
    unit_id = values.get("unit_id")
    if unit_id is not None:
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            problems.append({"field": "unit_id", "problem": f"unknown unit {unit_id}"})
        elif unit.kind != "department":
            problems.append({"field": "unit_id", "problem": "not a department (only a lead department's rules apply)"})
    if problems:
        raise InvalidInput(
            "the SLA rule is not valid: " + "; ".join(f"{p['field']} {p['problem']}" for p in problems),
            details=problems,
        )


def _refuse_duplicate(session: Session, values: dict[str, Any], rule_id: int | None = None) -> None:
    query = select(SlaRule.id)
    for field in ("category_code", "priority", "unit_id"):
        column = getattr(SlaRule, field)
        query = query.where(column.is_(None) if values.get(field) is None else column == values[field])
    if rule_id is not None:
        query = query.where(SlaRule.id != rule_id)
    existing = session.scalar(query.limit(1))
    if existing is not None:
        raise Conflict(
            f"SLA rule {existing} already covers this category, priority and unit; change that one instead",
            code="duplicate_rule",
            details={"rule_id": existing},
        )


def _get(session: Session, rule_id: int) -> SlaRule:
    rule = session.get(SlaRule, rule_id)
    if rule is None:
        raise NotFound(f"SLA rule {rule_id} not found", details={"id": str(rule_id)})
    return rule


def _values(rule: SlaRule) -> dict[str, Any]:
    return {field: getattr(rule, field) for field in FIELDS}


def create_rule(session: Session, principal: Principal, data: dict[str, Any]) -> SlaRule:
    require(principal, "case:admin")
    values = {field: data.get(field) for field in FIELDS}
    _check(session, values)
    _refuse_duplicate(session, values)
    rule = SlaRule(**values)
    session.add(rule)
    session.flush()
    audit.record(session, principal, "case_sla_rule.create", "case_sla_rule", rule.id, details=_values(rule))
    return rule


def update_rule(session: Session, principal: Principal, rule_id: int, changes: dict[str, Any]) -> SlaRule:
    require(principal, "case:admin")
    rule = _get(session, rule_id)
    unknown = [field for field in changes if field not in FIELDS]
    if unknown:
        raise InvalidInput(f"unknown fields {unknown}", details=[{"field": f, "problem": "unknown"} for f in unknown])
    values = {**_values(rule), **changes}
    _check(session, values)
    _refuse_duplicate(session, values, rule.id)
    for field, value in changes.items():
        setattr(rule, field, value)
    session.flush()
    audit.record(
        session, principal, "case_sla_rule.update", "case_sla_rule", rule.id, details={"changed": sorted(changes)}
    )
    return rule


def delete_rule(session: Session, principal: Principal, rule_id: int) -> None:
    require(principal, "case:admin")
    rule = _get(session, rule_id)
    before = _values(rule)
    session.delete(rule)
    session.flush()
    audit.record(session, principal, "case_sla_rule.delete", "case_sla_rule", rule_id, details=before)


def names(session: Session, rules: list[SlaRule]) -> tuple[dict[str, str], dict[int, str]]:
    """Category and unit names for showing these rules."""
    codes = {r.category_code for r in rules if r.category_code}
    unit_ids = {r.unit_id for r in rules if r.unit_id is not None}
    categories: dict[str, str] = {}
    units: dict[int, str] = {}
    if codes:
        query = select(CaseCategory.code, CaseCategory.name_zh).where(CaseCategory.code.in_(codes))
        categories = {str(code): str(name) for code, name in session.execute(query)}
    if unit_ids:
        unit_query = select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(unit_ids))
        units = {int(unit_id): str(name) for unit_id, name in session.execute(unit_query)}
    return categories, units
