"""Routes of the safety module: warnings (list, detail with evidence, acknowledge, to a case, close) and the
threshold rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.auth.deps import PrincipalDep
from civicgrid.authz.scope import Principal
from civicgrid.core.pagination import ListParams, Page, apply_sort, list_params, paginate
from civicgrid.core.web import SessionDep
from civicgrid.safety import rules, warning_cases, warnings
from civicgrid.safety.hotspot_warnings import calls_of
from civicgrid.safety.models import SafetyRule, SafetyWarning
from civicgrid.safety.warning_schemas import (
    CloseIn,
    RecordOut,
    RuleIn,
    RuleOut,
    ToCaseIn,
    ToCaseOut,
    WarningDetailOut,
    WarningOut,
)

router = APIRouter(prefix="/safety", tags=["safety"])
ListDep = Annotated[ListParams, Depends(list_params)]
WARNING_SORTS = {
    "created_at": SafetyWarning.created_at,
    "period_start": SafetyWarning.period_start,
    "period_end": SafetyWarning.period_end,
    "severity": SafetyWarning.severity,
    "status": SafetyWarning.status,
    "level": SafetyWarning.level,
    "id": SafetyWarning.id,
}
RULE_SORTS = {"id": SafetyRule.id, "name": SafetyRule.name, "kind": SafetyRule.kind, "level": SafetyRule.level}
STREAK_ZH = {"notice": "警示通报", "interview": "约谈"}
PERIOD_ZH = {"day": "日", "dekad": "旬", "week": "周", "month": "月"}


class _Names:
    """Names for showing warnings: areas, kinds, rules (looked up once per answer)."""

    def __init__(self, session: Session, items: list[SafetyWarning]) -> None:
        self.areas = warnings.area_names(session, [w.area_code for w in items])
        self.kinds = warnings.kind_names(session)
        self.rules: dict[str, str] = {}
        rule_ids = [
            int(w.subject.removeprefix("threshold:"))
            for w in items
            if w.subject.startswith("threshold:") and w.subject.removeprefix("threshold:").isdigit()
        ]
        if rule_ids:
            found = session.execute(select(SafetyRule.id, SafetyRule.name).where(SafetyRule.id.in_(rule_ids)))
            self.rules = {f"threshold:{rule_id}": name for rule_id, name in found}

    def subject(self, subject: str) -> str | None:
        if subject in self.kinds:
            return self.kinds[subject]
        if subject.startswith("threshold:"):
            return self.rules.get(subject)
        if subject.startswith("fatal:"):
            return f"{self.kinds.get(subject.removeprefix('fatal:'), subject)}死亡"
        if subject.startswith("red_streak:"):
            _, period, severity = [*subject.split(":"), "", ""][:3]
            return f"连续{PERIOD_ZH.get(period, period)}红色（{STREAK_ZH.get(severity, severity)}）"
        if subject.startswith("hotspot:"):
            return f"{calls_of(subject.removeprefix('hotspot:'))}热点预测"
        return None


def _out(warning: SafetyWarning, names: _Names) -> WarningOut:
    return WarningOut(
        id=warning.id,
        kind=warning.kind,
        subject=warning.subject,
        subject_name=names.subject(warning.subject),
        level=warning.level,
        area_code=warning.area_code,
        area_name=names.areas.get(warning.area_code),
        period_start=warning.period_start,
        period_end=warning.period_end,
        severity=warning.severity,
        title=warning.title,
        status=warning.status,
        case_id=warning.case_id,
        created_at=warning.created_at,
        acknowledged_at=warning.acknowledged_at,
        closed_at=warning.closed_at,
        close_note=warning.close_note,
    )


def _detail(session: Session, principal: Principal, warning: SafetyWarning) -> WarningDetailOut:
    records = warnings.contributing_records(session, principal, warning)
    base = _out(warning, _Names(session, [warning]))
    return WarningDetailOut(
        **base.model_dump(),
        evidence=warning.evidence or {},
        records_total=records.total,
        records=[RecordOut(**r) for r in records.items] if records.items is not None else None,
        records_truncated=records.truncated,
        allowed_actions=warnings.allowed_actions(principal, warning),
    )


@router.get("/warnings", operation_id="safety_list_warnings", response_model=Page[WarningOut])
def list_warnings(
    session: SessionDep,
    principal: PrincipalDep,
    params: ListDep,
    status: Annotated[str | None, Query(description="open | acknowledged | closed")] = None,
    kind: Annotated[str | None, Query(description="surge | rule | hotspot")] = None,
    level: Annotated[str | None, Query(description="the level of the warning's area")] = None,
    area_code: Annotated[
        str | None, Query(max_length=15, description="an area: its warnings and those inside it")
    ] = None,
    subject: Annotated[str | None, Query(max_length=40, description="e.g. inc:01, fatal:inc:05, threshold:3")] = None,
    severity: Annotated[str | None, Query(description="notice | serious | interview | fatal")] = None,
    since: Annotated[datetime | None, Query(description="created at or after")] = None,
    until: Annotated[datetime | None, Query(description="created before")] = None,
) -> Page[WarningOut]:
    """Warnings of your area, newest first unless sorted otherwise."""
    filters = warnings.WarningFilter(status, kind, level, area_code, subject, severity, since, until)
    query = apply_sort(
        warnings.query_warnings(session, principal, filters),
        params.sort,
        WARNING_SORTS,
        [SafetyWarning.created_at.desc(), SafetyWarning.id.desc()],
    )
    rows, total = paginate(session, query, params)
    names = _Names(session, rows)
    return Page[WarningOut].of([_out(w, names) for w in rows], total, params)


@router.get("/warnings/{warning_id}", operation_id="safety_get_warning", response_model=WarningDetailOut)
def get_warning(warning_id: int, session: SessionDep, principal: PrincipalDep) -> WarningDetailOut:
    """One warning with its evidence, the records behind it and the actions you may take now."""
    return _detail(session, principal, warnings.get_warning(session, principal, warning_id))


@router.post(
    "/warnings/{warning_id}/acknowledge", operation_id="safety_acknowledge_warning", response_model=WarningDetailOut
)
def acknowledge_warning(warning_id: int, session: SessionDep, principal: PrincipalDep) -> WarningDetailOut:
    """Open → acknowledged (safety:warn). Not possible now → 409 with `allowed_actions`."""
    return _detail(session, principal, warnings.acknowledge(session, principal, warning_id))


@router.post("/warnings/{warning_id}/to-case", operation_id="safety_warning_to_case", response_model=ToCaseOut)
def warning_to_case(
    warning_id: int, session: SessionDep, principal: PrincipalDep, body: ToCaseIn | None = None
) -> ToCaseOut:
    """Report a case pre-filled from the warning (category, place, title, description; override any) and
    link it; an open warning becomes acknowledged. Once per warning (409 afterwards)."""
    request = warning_cases.CaseRequest(**(body or ToCaseIn()).model_dump())
    warning, case = warning_cases.to_case(session, principal, warning_id, request)
    return ToCaseOut(warning=_detail(session, principal, warning), case_id=case.id, case_code=case.code)


@router.post("/warnings/{warning_id}/close", operation_id="safety_close_warning", response_model=WarningDetailOut)
def close_warning(warning_id: int, body: CloseIn, session: SessionDep, principal: PrincipalDep) -> WarningDetailOut:
    """Open or acknowledged → closed, with a note (required)."""
    return _detail(session, principal, warnings.close(session, principal, warning_id, body.note))


def _rule_out(rule: SafetyRule, kinds: dict[str, str]) -> RuleOut:
    out = RuleOut.model_validate(rule)
    out.kind_name = kinds.get(rule.kind)
    return out


@router.get("/warning-rules", operation_id="safety_list_warning_rules", response_model=Page[RuleOut])
def list_warning_rules(
    session: SessionDep,
    principal: PrincipalDep,
    params: ListDep,
    kind: Annotated[str | None, Query(max_length=12)] = None,
    active: bool | None = None,
) -> Page[RuleOut]:
    """The threshold rules (safety:read; safety administrators keep them)."""
    query = apply_sort(rules.list_rules(principal, kind=kind, active=active), params.sort, RULE_SORTS, [SafetyRule.id])
    rows, total = paginate(session, query, params)
    kinds = warnings.kind_names(session)
    return Page[RuleOut].of([_rule_out(r, kinds) for r in rows], total, params)


@router.post("/warning-rules", operation_id="safety_create_warning_rule", response_model=RuleOut, status_code=201)
def create_warning_rule(body: RuleIn, session: SessionDep, principal: PrincipalDep) -> RuleOut:
    """Add a threshold rule (safety:admin); a name in use answers 409."""
    rule = rules.create_rule(session, principal, body.model_dump())
    return _rule_out(rule, warnings.kind_names(session))


@router.put("/warning-rules/{rule_id}", operation_id="safety_replace_warning_rule", response_model=RuleOut)
def replace_warning_rule(rule_id: int, body: RuleIn, session: SessionDep, principal: PrincipalDep) -> RuleOut:
    """Replace a threshold rule (safety:admin); warnings it raised stay as they are."""
    rule = rules.replace_rule(session, principal, rule_id, body.model_dump())
    return _rule_out(rule, warnings.kind_names(session))


@router.delete(
    "/warning-rules/{rule_id}", operation_id="safety_delete_warning_rule", status_code=204, response_class=Response
)
def delete_warning_rule(rule_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    """Remove a threshold rule (safety:admin)."""
    rules.delete_rule(session, principal, rule_id)
    return Response(status_code=204)
