"""HTTP routes of supervision: the supervision board of your area, and the SLA rules (case administrators).

Registered before the cases router: `/cases/sla-rules` and `/cases/supervision/…` are not case ids.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from civicgrid.auth.deps import PrincipalDep
from civicgrid.cases import board as boards
from civicgrid.cases import sla_rules
from civicgrid.cases.models import Case, SlaRule
from civicgrid.cases.schemas import CaseOut
from civicgrid.cases.sla_schemas import (
    BoardCounts,
    BoardLevelRow,
    BoardOut,
    BoardUnitRow,
    SlaRuleCreate,
    SlaRuleOut,
    SlaRuleUpdate,
)
from civicgrid.cases.views import case_out, category_names
from civicgrid.core.clock import utcnow
from civicgrid.core.pagination import ListParams, Page, apply_sort, list_params, paginate
from civicgrid.core.web import SessionDep

router = APIRouter(prefix="/cases", tags=["cases"])
ListDep = Annotated[ListParams, Depends(list_params)]
RULE_SORTS = {
    "id": SlaRule.id,
    "category_code": SlaRule.category_code,
    "priority": SlaRule.priority,
    "unit_id": SlaRule.unit_id,
}
CARDED_SORTS = {
    "reported_at": Case.reported_at,
    "accept_due": Case.accept_due,
    "handle_due": Case.handle_due,
    "priority": Case.priority,
    "id": Case.id,
}


@router.get("/supervision/board", operation_id="cases_supervision_board", response_model=BoardOut)
def supervision_board(session: SessionDep, principal: PrincipalDep, params: ListDep) -> BoardOut:
    """Your area's open cases under supervision: counts (overdue, yellow and red cards, due within 24 h)
    per rung and per lead department, the cases due soonest, and the carded cases as a page (red first)."""
    now = utcnow()
    result = boards.board(session, principal, now)
    # Red cards first whatever the sort; then the sort asked for, then the earliest deadline.
    carded = boards.carded_cases(principal).order_by(boards.RED_FIRST)
    query = apply_sort(carded, params.sort, CARDED_SORTS, [boards.current_due(), Case.id])
    rows, total = paginate(session, query, params)
    names = category_names(session)
    return BoardOut(
        counts=BoardCounts(
            open=result.open,
            overdue=result.overdue,
            overdue_accept=result.overdue_accept,
            overdue_handle=result.overdue_handle,
            yellow=result.yellow,
            red=result.red,
            due_soon=result.due_soon,
        ),
        by_level=[
            BoardLevelRow(level=level, open=t.open, overdue=t.overdue, yellow=t.yellow, red=t.red)
            for level, t in result.by_level.items()
        ],
        by_unit=[
            BoardUnitRow(unit_id=unit_id, unit_name=name, open=t.open, overdue=t.overdue, yellow=t.yellow, red=t.red)
            for unit_id, name, t in result.by_unit
        ],
        due_soon=[case_out(c, names, now) for c in result.due_soon_cases],
        cases=Page[CaseOut].of([case_out(c, names, now) for c in rows], total, params),
    )


def _rule_out(rule: SlaRule, categories: dict[str, str], units: dict[int, str]) -> SlaRuleOut:
    return SlaRuleOut(
        id=rule.id,
        category_code=rule.category_code,
        category_name=categories.get(rule.category_code) if rule.category_code else None,
        priority=rule.priority,
        unit_id=rule.unit_id,
        unit_name=units.get(rule.unit_id) if rule.unit_id is not None else None,
        accept_days=rule.accept_days,
        handle_days=rule.handle_days,
        red_accept_days=rule.red_accept_days,
        red_handle_days=rule.red_handle_days,
    )


def _one(session: SessionDep, rule: SlaRule) -> SlaRuleOut:
    categories, units = sla_rules.names(session, [rule])
    return _rule_out(rule, categories, units)


@router.get("/sla-rules", operation_id="cases_list_sla_rules", response_model=Page[SlaRuleOut])
def list_sla_rules(
    session: SessionDep,
    principal: PrincipalDep,
    params: ListDep,
    category_code: Annotated[str | None, Query(max_length=10)] = None,
    unit_id: int | None = None,
) -> Page[SlaRuleOut]:
    """The SLA rules (case administrators and supervisors); limits not covered fall back to the
    category's own, then to 1/5 working days (red cards at twice that)."""
    query = apply_sort(sla_rules.list_rules(principal, category_code, unit_id), params.sort, RULE_SORTS, [SlaRule.id])
    rows, total = paginate(session, query, params)
    categories, units = sla_rules.names(session, rows)
    return Page[SlaRuleOut].of([_rule_out(r, categories, units) for r in rows], total, params)


@router.post("/sla-rules", operation_id="cases_create_sla_rule", response_model=SlaRuleOut, status_code=201)
def create_sla_rule(body: SlaRuleCreate, session: SessionDep, principal: PrincipalDep) -> SlaRuleOut:
    """Add a rule (case:admin). A duplicate of an existing (category, priority, unit) answers 409."""
    return _one(session, sla_rules.create_rule(session, principal, body.model_dump()))


@router.patch("/sla-rules/{rule_id}", operation_id="cases_update_sla_rule", response_model=SlaRuleOut)
def update_sla_rule(rule_id: int, body: SlaRuleUpdate, session: SessionDep, principal: PrincipalDep) -> SlaRuleOut:
    """Change a rule (case:admin); deadlines already set on open cases stay."""
    return _one(session, sla_rules.update_rule(session, principal, rule_id, body.model_dump(exclude_unset=True)))


@router.delete("/sla-rules/{rule_id}", operation_id="cases_delete_sla_rule", status_code=204, response_class=Response)
def delete_sla_rule(rule_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    """Remove a rule (case:admin)."""
    sla_rules.delete_rule(session, principal, rule_id)
    return Response(status_code=204)
