"""Service-level limits: which working-day limits apply to a case, and the deadlines they give.

Limits come from the most specific `SlaRule` that matches the case (a unit's override beats a
category's, which beats a priority's), else from the category's own limits, else from the defaults
of common practice: accept within 1 working day and handle within 5 (yellow card at the limit), red
card at twice that (2 / 10). Deadlines are counted on the work calendar (weekends, holidays and
make-up working days, in the city's time zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from civicgrid.cases.models import Case, CaseCategory, SlaRule
from civicgrid.core.workcalendar import load_calendar

DEFAULT_ACCEPT_DAYS = 1.0
DEFAULT_HANDLE_DAYS = 5.0
RED_FACTOR = 2.0


@dataclass(frozen=True)
class Limits:
    accept_days: float
    handle_days: float
    red_accept_days: float
    red_handle_days: float


def _specificity(rule: SlaRule) -> tuple[int, int, int]:
    return (rule.unit_id is not None, rule.category_code is not None, rule.priority is not None)


def limits_for(session: Session, category: CaseCategory, priority: str, unit_id: int | None = None) -> Limits:
    codes = [category.code] + ([category.parent_code] if category.parent_code else [])
    rules = session.scalars(
        select(SlaRule).where(
            or_(SlaRule.category_code.is_(None), SlaRule.category_code.in_(codes)),
            or_(SlaRule.priority.is_(None), SlaRule.priority == priority),
            or_(SlaRule.unit_id.is_(None), SlaRule.unit_id == unit_id),
        )
    ).all()
    if rules:
        # A rule for the leaf category beats one for its class.
        best = max(rules, key=lambda r: (*_specificity(r), r.category_code == category.code))
        accept, handle = best.accept_days, best.handle_days
        red_accept = best.red_accept_days or accept * RED_FACTOR
        red_handle = best.red_handle_days or handle * RED_FACTOR
        if best.unit_id is not None or best.category_code is not None:
            return Limits(accept, handle, red_accept, red_handle)
        # A priority-only rule still yields to limits the category sets itself.
        accept = category.accept_days or accept
        handle = category.handle_days or handle
        return Limits(accept, handle, accept * RED_FACTOR, handle * RED_FACTOR)
    accept = category.accept_days or DEFAULT_ACCEPT_DAYS
    handle = category.handle_days or DEFAULT_HANDLE_DAYS
    return Limits(accept, handle, accept * RED_FACTOR, handle * RED_FACTOR)


def set_accept_deadlines(session: Session, case: Case, category: CaseCategory, start: datetime) -> None:
    limits = limits_for(session, category, case.priority, case.lead_unit_id)
    calendar = load_calendar(session)
    case.accept_due = calendar.add_working_days(start, limits.accept_days)
    case.accept_red_due = calendar.add_working_days(start, limits.red_accept_days)


def set_handle_deadlines(session: Session, case: Case, category: CaseCategory, start: datetime) -> None:
    limits = limits_for(session, category, case.priority, case.lead_unit_id)
    calendar = load_calendar(session)
    case.handle_due = calendar.add_working_days(start, limits.handle_days)
    case.handle_red_due = calendar.add_working_days(start, limits.red_handle_days)


def extend(session: Session, case: Case, days: float) -> None:
    """Push the handling deadlines back by `days` working days (a granted extension)."""
    calendar = load_calendar(session)
    if case.handle_due is not None:
        case.handle_due = calendar.add_working_days(case.handle_due, days)
    if case.handle_red_due is not None:
        case.handle_red_due = calendar.add_working_days(case.handle_red_due, days)
