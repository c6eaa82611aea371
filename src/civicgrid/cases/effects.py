"""What each workflow action does to a case beyond its state: levels, deadlines, department
assignments, cards and extensions. `service.act` checks the transition table first and calls `apply`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Principal
from civicgrid.cases import flows, sla
from civicgrid.cases.models import LEVELS, Case, CaseAssignment, CaseCard, CaseCategory, CaseExtension
from civicgrid.core.clock import utcnow
from civicgrid.core.errors import Conflict, InvalidInput
from civicgrid.org import service as org

ACTIVE_ASSIGNMENT = ("pending", "signed", "reported")


@dataclass
class ActionInput:
    action: str
    note: str | None = None
    lead_unit_id: int | None = None
    co_unit_ids: list[int] | None = None
    level: str | None = None
    colour: str | None = None
    days: float | None = None
    extension_id: int | None = None
    grant: bool | None = None
    satisfaction: int | None = None
    attachment_ids: list[int] | None = None
    idempotency_key: str | None = None
    expected_version: int | None = None


def assignments_of(session: Session, case_id: int) -> list[CaseAssignment]:
    return list(
        session.scalars(select(CaseAssignment).where(CaseAssignment.case_id == case_id).order_by(CaseAssignment.id))
    )


def _category(session: Session, case: Case) -> CaseCategory:
    category = session.get(CaseCategory, case.category_code)
    assert category is not None
    return category


def _take_up(principal: Principal, case: Case, capacities: frozenset[str]) -> None:
    """A rung above acting for the holder takes the case up to its own rung."""
    if "holder" not in capacities and "above" in capacities:
        case.level = principal.scope.level.value


def apply(
    session: Session,
    principal: Principal,
    case: Case,
    transition: flows.Transition,
    data: ActionInput,
    capacities: frozenset[str],
) -> dict[str, Any]:
    now = utcnow()
    action = transition.action
    if action == "accept":
        _take_up(principal, case, capacities)
        case.accepted_at = case.accepted_at or now
        sla.set_handle_deadlines(session, case, _category(session, case), now)
        return {}
    if action == "reject":
        _take_up(principal, case, capacities)
        case.closed_at = now
        return {}
    if action == "sign":
        _set_assignment_status(session, case, principal.unit_id, "signed")
        return {}
    if action == "dispatch":
        _take_up(principal, case, capacities)
        return _dispatch(session, case, data, now)
    if action == "send_back":
        _withdraw_assignments(session, case)
        return {}
    if action == "co_report":
        assignment = _set_assignment_status(session, case, principal.unit_id, "reported")
        assignment.report = data.note
        assignment.reported_at = now
        return {"unit_id": principal.unit_id}
    if action == "handle":
        pending = [
            a.unit_id for a in assignments_of(session, case.id) if a.role == "co" and a.status in ("pending", "signed")
        ]
        if pending:
            raise Conflict(
                "co-handling departments have not reported yet; the case is completed when every one has",
                code="co_handlers_pending",
                details={"pending_unit_ids": pending},
            )
        case.handled_at = now
        return {}
    if action == "pass":
        case.closed_at = now
        case.closure_level = case.max_level
        return {}
    if action == "return":
        case.handled_at = None
        return {}
    if action == "escalate":
        higher = flows.level_above(case.level)
        if higher is None:
            raise Conflict("the city is the top of the ladder; dispatch the case to departments instead")
        _withdraw_assignments(session, case)
        case.level = higher
        return {"to_level": higher}
    if action == "hand_down":
        return _hand_down(session, principal, case, data, capacities)
    if action == "reopen":
        case.cycle += 1
        case.closed_at = None
        case.closure_level = None
        case.card = None
        case.handled_at = None
        _withdraw_assignments(session, case)
        sla.set_handle_deadlines(session, case, _category(session, case), now)
        return {"cycle": case.cycle}
    if action == "supervise":
        return _supervise(session, principal, case, data)
    if action == "request_extension":
        return _request_extension(session, principal, case, data)
    if action == "decide_extension":
        return _decide_extension(session, principal, case, data, now)
    if action == "rate":
        if data.satisfaction is None or not 1 <= data.satisfaction <= 5:
            raise InvalidInput(
                "satisfaction is a whole number from 1 (very unsatisfied) to 5 (very satisfied)",
                details=[{"field": "satisfaction", "problem": "required, 1–5"}],
            )
        if case.satisfaction is not None:
            raise Conflict("this case has been rated already")
        case.satisfaction = data.satisfaction
        case.evaluation = data.note
        return {"satisfaction": data.satisfaction}
    return {}  # start, comment: the timeline entry is the whole effect


def _set_assignment_status(session: Session, case: Case, unit_id: int | None, status: str) -> CaseAssignment:
    assignment = session.scalar(
        select(CaseAssignment).where(
            CaseAssignment.case_id == case.id,
            CaseAssignment.unit_id == unit_id,
            CaseAssignment.status.in_(ACTIVE_ASSIGNMENT),
        )
    )
    assert assignment is not None  # the capacity check found it
    assignment.status = status
    return assignment


def _withdraw_assignments(session: Session, case: Case) -> None:
    for assignment in assignments_of(session, case.id):
        if assignment.status in ACTIVE_ASSIGNMENT:
            assignment.status = "withdrawn"
    case.lead_unit_id = None


def _dispatch(session: Session, case: Case, data: ActionInput, now: datetime) -> dict[str, Any]:
    if data.lead_unit_id is None:
        raise InvalidInput(
            "dispatching needs a lead department (lead_unit_id)",
            details=[{"field": "lead_unit_id", "problem": "required"}],
        )
    co_ids = list(dict.fromkeys(data.co_unit_ids or []))
    if data.lead_unit_id in co_ids:
        raise InvalidInput(
            "the lead department cannot also be a co-handler",
            details=[{"field": "co_unit_ids", "problem": "contains the lead"}],
        )
    for field, unit_id in [("lead_unit_id", data.lead_unit_id), *(("co_unit_ids", u) for u in co_ids)]:
        org.department_serving(session, unit_id, case.district_code, field=field)
    _withdraw_assignments(session, case)
    session.add(CaseAssignment(case_id=case.id, unit_id=data.lead_unit_id, role="lead"))
    for unit_id in co_ids:
        session.add(CaseAssignment(case_id=case.id, unit_id=unit_id, role="co"))
    case.lead_unit_id = data.lead_unit_id
    case.dispatched_at = now
    case.accepted_at = case.accepted_at or now
    sla.set_handle_deadlines(session, case, _category(session, case), now)
    return {"lead_unit_id": data.lead_unit_id, "co_unit_ids": co_ids}


def _hand_down(
    session: Session, principal: Principal, case: Case, data: ActionInput, capacities: frozenset[str]
) -> dict[str, Any]:
    if data.level not in LEVELS:
        raise InvalidInput(
            f"say which rung to hand the case down to: one of {', '.join(LEVELS[:-1])}",
            details=[{"field": "level", "problem": "required"}],
        )
    _take_up(principal, case, capacities)
    if flows.level_rank(data.level) >= flows.level_rank(case.level):
        raise InvalidInput(
            f"a case held by the {case.level} can be handed down only to a lower rung, not to the {data.level}",
            details=[{"field": "level", "problem": "not lower"}],
        )
    _withdraw_assignments(session, case)
    case.level = data.level
    return {"to_level": data.level}


def _supervise(session: Session, principal: Principal, case: Case, data: ActionInput) -> dict[str, Any]:
    colour = data.colour or "yellow"
    if colour not in ("yellow", "red"):
        raise InvalidInput("a card is yellow or red", details=[{"field": "colour", "problem": "yellow or red"}])
    serial = 1 + len(
        session.scalars(
            select(CaseCard.id).where(
                CaseCard.case_id == case.id, CaseCard.cycle == case.cycle, CaseCard.stage == "manual"
            )
        ).all()
    )
    session.add(
        CaseCard(
            case_id=case.id,
            cycle=case.cycle,
            stage="manual",
            colour=colour,
            serial=serial,
            raised_by_user_id=principal.user_id,
            note=data.note,
        )
    )
    if case.card != "red":
        case.card = colour
    return {"colour": colour}


def _request_extension(session: Session, principal: Principal, case: Case, data: ActionInput) -> dict[str, Any]:
    if data.days is None or not 0 < data.days <= 30:
        raise InvalidInput(
            "ask for more than 0 and at most 30 working days", details=[{"field": "days", "problem": "out of range"}]
        )
    if session.scalar(
        select(CaseExtension.id).where(CaseExtension.case_id == case.id, CaseExtension.status == "pending")
    ):
        raise Conflict("an extension request for this case is already waiting for a decision")
    extension = CaseExtension(
        case_id=case.id, days=data.days, reason=data.note or "", requested_by_user_id=principal.user_id
    )
    session.add(extension)
    session.flush()
    return {"extension_id": extension.id, "days": data.days}


def _decide_extension(
    session: Session, principal: Principal, case: Case, data: ActionInput, now: datetime
) -> dict[str, Any]:
    extension = session.get(CaseExtension, data.extension_id) if data.extension_id else None
    if extension is None or extension.case_id != case.id:
        raise InvalidInput(
            "name the extension request of this case to decide (extension_id)",
            details=[{"field": "extension_id", "problem": "not found"}],
        )
    if extension.status != "pending":
        raise Conflict(f"this extension request was {extension.status} already")
    if data.grant is None:
        raise InvalidInput("say whether the extension is granted", details=[{"field": "grant", "problem": "required"}])
    extension.status = "granted" if data.grant else "refused"
    extension.decided_by_user_id = principal.user_id
    extension.decided_at = now
    extension.decision_note = data.note
    if data.grant:
        sla.extend(session, case, extension.days)
    return {"extension_id": extension.id, "granted": data.grant}
