"""Cases: who may see which, what an actor is to a case, and taking workflow actions.

Visibility: area staff see the cases inside their scope (`authz.restrict`); department staff see the
cases dispatched to their unit; residents and volunteers see the cases they reported themselves.
Anything else answers 404, as everywhere.

Actions go through `act`: the transition table in `flows` decides, this module applies the side
effects (levels, deadlines, assignments, cards, extensions), writes the timeline entry and the audit
record, and bumps the case's version. An action carrying an idempotency key that was seen before
returns the first result and changes nothing (offline replays); one carrying an `expected_version`
that is stale is refused with what happened meanwhile, so a phone can explain the conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import in_scope, require, restrict
from civicgrid.authz.scope import Level, Principal, level_rank
from civicgrid.cases import effects, events, flows
from civicgrid.cases.effects import ACTIVE_ASSIGNMENT as ACTIVE_ASSIGNMENT
from civicgrid.cases.effects import ActionInput as ActionInput
from civicgrid.cases.effects import assignments_of as assignments_of
from civicgrid.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseAction,
    CaseAssignment,
    CaseAttachment,
)
from civicgrid.core.clock import utcnow
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import Conflict, InvalidInput, NotFound
from civicgrid.org import service as org


def _area_codes(case: Case) -> dict[Level, str | None]:
    return {
        Level.district: case.district_code,
        Level.street: case.street_code,
        Level.community: case.community_code,
        Level.grid: case.grid_code,
    }


def level_code(case: Case, level: str) -> str | None:
    """The code of the division that holds the case at `level` (None for the city: one per platform)."""
    return None if level == "city" else getattr(case, f"{level}_code")


def _is_department(principal: Principal) -> bool:
    return principal.scope.department_id is not None


def visible_cases(principal: Principal) -> AnySelect:
    """The cases the principal may see, as a query to filter further."""
    if principal.can("case:read") and not _is_department(principal):
        return restrict(select(Case), principal, "case:read", Case)
    if principal.can("case:read") and principal.unit_id is not None:
        assigned = exists().where(
            CaseAssignment.case_id == Case.id,
            CaseAssignment.unit_id == principal.unit_id,
            CaseAssignment.status.in_(ACTIVE_ASSIGNMENT),
        )
        own = Case.reporter_user_id == principal.user_id if principal.user_id else false()
        return select(Case).where(or_(assigned, own))
    require(principal, "case:report")
    if principal.user_id is None:
        return select(Case).where(false())
    return select(Case).where(Case.reporter_user_id == principal.user_id)


def visibility_key(principal: Principal) -> tuple[object, ...]:
    """What decides the cases `visible_cases` lets the principal see: principals with equal keys see the same
    cases (an area's staff share theirs; a department's liaison or a resident sees their own)."""
    if principal.can("case:read") and not _is_department(principal):
        return ("area", principal.scope.level, principal.scope.division_code)
    if principal.can("case:read") and principal.unit_id is not None:
        return ("unit", principal.unit_id, principal.user_id)
    return ("own", principal.user_id if principal.can("case:report") else None)


def get_case(session: Session, principal: Principal, case_id: int) -> Case:
    found: Case | None = session.scalar(visible_cases(principal).where(Case.id == case_id))
    if found is None:
        raise NotFound(f"case {case_id} not found", details={"id": str(case_id)})
    return found


def _holds_level(principal: Principal, case: Case, level: str) -> bool:
    if _is_department(principal) or not principal.can("case:handle"):
        return False
    if level == "city":
        return principal.scope.level == Level.city
    return principal.scope.level == Level(level) and principal.scope.division_code == level_code(case, level)


def _above(principal: Principal, case: Case) -> bool:
    if _is_department(principal) or not principal.can("case:supervise"):
        return False
    rank = level_rank(principal.scope.level)  # 0 = city … 4 = grid
    case_rank = level_rank(Level(case.level))
    return rank < case_rank and in_scope(principal, _area_codes(case))


def capacities_of(session: Session, principal: Principal, case: Case, token_hash: str | None = None) -> frozenset[str]:
    """What the principal is to this case (see `flows`); the transition table decides from these."""
    found: set[str] = {"viewer"}
    holder = _holds_level(principal, case, case.level)
    if holder:
        found.add("holder")
    above = _above(principal, case)
    if above:
        found.add("above")
    lead_id = case.lead_unit_id
    active = [a for a in assignments_of(session, case.id) if a.status in ACTIVE_ASSIGNMENT]
    if principal.unit_id is not None and principal.can("case:handle") and _is_department(principal):
        for assignment in active:
            if assignment.unit_id == principal.unit_id:
                if assignment.role == "lead":
                    found.add("lead")
                elif assignment.status != "reported":
                    found.add("co")
    if ("lead" in found) if lead_id is not None else holder:
        found.add("handler")
    # The rung above the handler decides its extensions: the dispatching rung for a department.
    if (lead_id is not None and holder) or (lead_id is None and above):
        found.add("approver")
    if _is_verifier(session, principal, case):
        found.add("verifier")
    if (principal.user_id is not None and principal.user_id == case.reporter_user_id) or (
        token_hash is not None and token_hash == case.token_hash
    ):
        found.add("reporter")
    return frozenset(found)


def _is_verifier(session: Session, principal: Principal, case: Case) -> bool:
    if _is_department(principal) or not principal.can("case:handle"):
        return False
    if principal.scope.level == Level.grid:
        return principal.scope.division_code == case.grid_code
    # A grid with no grid worker is verified by its community's staff.
    if principal.scope.level == Level.community and principal.scope.division_code == case.community_code:
        return org.staff_of(session, case.grid_code, "grid_worker") is None
    return False


def allowed_actions(session: Session, principal: Principal, case: Case) -> list[str]:
    allowed = flows.allowed_actions(case.status, capacities_of(session, principal, case))
    # A case is rated once; the table allows `rate` on any closed case, the rating itself says it is done.
    return [a for a in allowed if not (a == "rate" and case.satisfaction is not None)]


@dataclass
class ActionResult:
    case: Case
    action: CaseAction
    replayed: bool = False


def act(
    session: Session, principal: Principal, case_id: int, data: ActionInput, *, token_hash: str | None = None
) -> ActionResult:
    if data.idempotency_key:
        earlier = session.scalar(select(CaseAction).where(CaseAction.idempotency_key == data.idempotency_key))
        if earlier is not None:
            if earlier.case_id != case_id or earlier.action != data.action:
                raise Conflict(
                    "this idempotency key was already used for another action; send a new key",
                    details={"idempotency_key": data.idempotency_key},
                )
            return ActionResult(get_case(session, principal, case_id), earlier, replayed=True)
    case = (
        session.scalar(visible_cases(principal).where(Case.id == case_id))
        if principal.user_id or principal.api_key_id
        else None
    )
    if case is None and token_hash is not None:
        case = session.scalar(select(Case).where(Case.id == case_id, Case.token_hash == token_hash))
    if case is None:
        raise NotFound(f"case {case_id} not found", details={"id": str(case_id)})
    capacities = capacities_of(session, principal, case, token_hash)
    if data.expected_version is not None and data.expected_version != case.version:
        last = session.scalar(
            select(CaseAction).where(CaseAction.case_id == case.id).order_by(CaseAction.id.desc()).limit(1)
        )
        raise Conflict(
            f"the case changed since you loaded it (version {data.expected_version}, now {case.version}): "
            + (f"{last.actor_label} did '{last.action}' at {last.created_at.isoformat()}; " if last else "")
            + f"it is now {case.status}",
            code="stale_version",
            details={
                "status": case.status,
                "version": case.version,
                "last_action": last.action if last else None,
                "last_actor": last.actor_label if last else None,
                "allowed_actions": flows.allowed_actions(case.status, capacities),
            },
        )
    transition = flows.check(case.status, data.action, capacities)
    note = (data.note or "").strip() or None
    if transition.note_required and not note:
        raise InvalidInput(
            f"'{data.action}' needs a note saying why or what was done",
            details=[{"field": "note", "problem": "required"}],
        )
    before_status, before_level = case.status, case.level
    extra = effects.apply(session, principal, case, transition, data, capacities)
    if transition.target is not None:
        case.status = transition.target
    if flows.level_rank(case.level) > flows.level_rank(case.max_level):
        case.max_level = case.level
    case.version += 1
    case.updated_at = utcnow()
    entry = CaseAction(
        case_id=case.id,
        action=data.action,
        from_status=before_status,
        to_status=case.status,
        from_level=before_level,
        to_level=case.level,
        actor_user_id=principal.user_id,
        actor_label=principal.username,
        unit_id=principal.unit_id,
        note=note,
        data=extra,
        idempotency_key=data.idempotency_key,
    )
    session.add(entry)
    session.flush()
    if data.attachment_ids:
        bind_attachments(session, principal, case, entry, data.attachment_ids, token_hash=token_hash)
    audit.record(
        session,
        principal,
        f"case.{data.action}",
        "case",
        case.id,
        details={"from": before_status, "to": case.status, "level": case.level},
    )
    events.case_acted(session, principal, case, entry)
    return ActionResult(case, entry)


def bind_attachments(
    session: Session,
    principal: Principal,
    case: Case,
    action: CaseAction | None,
    ids: list[int],
    *,
    token_hash: str | None = None,
) -> None:
    """Attach uploaded photos to a case: only unbound ones the same uploader sent (the same account, or
    the upload token an anonymous resident uploaded them with)."""
    rows = session.scalars(select(CaseAttachment).where(CaseAttachment.id.in_(ids))).all()
    by_id = {row.id: row for row in rows}
    for attachment_id in ids:
        row = by_id.get(attachment_id)
        mine = row is not None and (
            (principal.user_id is not None and row.uploaded_by_user_id == principal.user_id)
            or (token_hash is not None and row.upload_token_hash == token_hash)
        )
        if row is None or not mine or row.case_id is not None:
            raise InvalidInput(
                f"attachment {attachment_id} is not an unused photo you uploaded",
                details=[{"field": "attachment_ids", "problem": f"{attachment_id} not usable"}],
            )
        row.case_id = case.id
        row.action_id = action.id if action else None


def timeline(session: Session, case_id: int) -> list[CaseAction]:
    return list(session.scalars(select(CaseAction).where(CaseAction.case_id == case_id).order_by(CaseAction.id)))


def attachments_of(session: Session, case_id: int) -> list[CaseAttachment]:
    return list(
        session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case_id).order_by(CaseAttachment.id))
    )


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    open_only: bool = False
    category_code: str | None = None
    source: str | None = None
    priority: str | None = None
    level: str | None = None
    card: str | None = None
    district_code: str | None = None
    street_code: str | None = None
    community_code: str | None = None
    grid_code: str | None = None
    lead_unit_id: int | None = None
    overdue: bool = False
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    #: (min_lon, min_lat, max_lon, max_lat): only cases whose point lies in the box (edges included)
    bbox: tuple[float, float, float, float] | None = None
    mine: bool = False


def query_cases(principal: Principal, filters: CaseFilter) -> AnySelect:
    query = visible_cases(principal)
    for column, value in (
        (Case.status, filters.status),
        (Case.source, filters.source),
        (Case.priority, filters.priority),
        (Case.level, filters.level),
        (Case.card, filters.card),
        (Case.district_code, filters.district_code),
        (Case.street_code, filters.street_code),
        (Case.community_code, filters.community_code),
        (Case.grid_code, filters.grid_code),
        (Case.lead_unit_id, filters.lead_unit_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.category_code:
        column = Case.category_code
        query = query.where(
            column.like(f"{filters.category_code}%")
            if len(filters.category_code) == 2
            else column == filters.category_code
        )
    if filters.open_only:
        query = query.where(Case.status.in_(OPEN_STATUSES))
    if filters.overdue:
        now = utcnow()
        query = query.where(
            Case.status.in_(OPEN_STATUSES),
            or_(
                and_(Case.status.in_(("reported", "escalated")), Case.accept_due < now),
                and_(Case.status.notin_(("reported", "escalated")), Case.handle_due < now),
            ),
        )
    if filters.since is not None:
        query = query.where(Case.reported_at >= filters.since)
    if filters.until is not None:
        query = query.where(Case.reported_at < filters.until)
    if filters.text:
        escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(Case.code == filters.text, Case.title.like(f"%{escaped}%", escape="\\")))
    if filters.mine:
        query = query.where(Case.reporter_user_id == principal.user_id) if principal.user_id else query.where(false())
    if filters.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = filters.bbox
        query = query.where(Case.lon.between(min_lon, max_lon), Case.lat.between(min_lat, max_lat))
    return query


def reported_since(session: Session, after_id: int, limit: int) -> list[tuple[int, str, datetime, str]]:
    """Cases with an id above `after_id`, oldest first: (id, grid code, reported at, category code).

    For modules that count the platform's cases as a feed (the safety index); no scope applies.
    """
    rows = session.execute(
        select(Case.id, Case.grid_code, Case.reported_at, Case.category_code)
        .where(Case.id > after_id)
        .order_by(Case.id)
        .limit(limit)
    ).all()
    return [(int(r[0]), str(r[1]), r[2], str(r[3])) for r in rows]
