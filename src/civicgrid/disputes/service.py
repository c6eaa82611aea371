"""Disputes (矛盾纠纷): recording one with its case, changing it, its parties, mediation sessions, the
outcome and the follow-up.

A dispute is created together with its case through `cases.intake.report` (a category of class 01), in
the caller's unit of work: a refusal of either leaves nothing behind. Every input problem is collected
and refused at once (422, `details` = [{field, problem}]) before anything is written. Recording the
outcome does not close the case: the case's own workflow does (accept, handle, verify, close).

Who: `dispute:write` for centres, community staff and grid workers, inside their scope; `dispute:read`
for them and for the staff of justice departments (司法局/司法所), inside the department's area.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require, require_area
from civicgrid.authz.scope import Level, Principal
from civicgrid.cases import intake
from civicgrid.cases.categories import usable_category
from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import get_keyring
from civicgrid.core.errors import Conflict, InvalidInput, NotFound
from civicgrid.disputes.access import case_of, get_dispute, local_date, party_count
from civicgrid.disputes.categories import usable_dispute_category
from civicgrid.disputes.models import Dispute, DisputeCategory, DisputeMediation, DisputeParty
from civicgrid.disputes.parties import new_party, party_problems
from civicgrid.geo import service as geo
from civicgrid.geo.lookup import lookup_point
from civicgrid.registry.people import today

DISPUTE_CLASS = "01"
# Default scale by the number of people involved: 一般 < 10 ≤ 较大 < 30 ≤ 重大 < 100 ≤ 特别重大.
SCALE_BY_PEOPLE = ((100, "especially_major"), (30, "major"), (10, "large"), (1, "general"))
ROLE_SOURCES = {"grid_worker": "grid_worker", "department_staff": "department"}


def scale_for(people_count: int) -> str:
    return next(scale for least, scale in SCALE_BY_PEOPLE if people_count >= least)


def _refuse(found: list[dict[str, str]]) -> None:
    if found:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in found), details=found)


# --- creating -----------------------------------------------------------------------------------


def _case_category(
    session: Session, code: str | None, category: DisputeCategory | None
) -> tuple[str | None, list[dict[str, str]]]:
    chosen = code or (category.case_category_code if category else None)
    if chosen is None:
        if category is None:
            return None, []  # the dispute category's own problem says enough
        problem = (
            f"dispute category {category.code} {category.name_zh} has no default: choose a case category of class 01"
        )
        return None, [{"field": "category_code", "problem": problem}]
    try:
        case_category = usable_category(session, chosen)
    except InvalidInput as exc:
        return None, list(exc.details)
    if case_category.parent_code != DISPUTE_CLASS:
        problem = f"'{chosen}' {case_category.name_zh} is not a dispute category (class 01 矛盾纠纷) of the case table"
        return None, [{"field": "category_code", "problem": problem}]
    return chosen, []


def _point(session: Session, principal: Principal, data: dict[str, Any]) -> tuple[float, float]:
    """Where the dispute lies: the point given, or a point inside the grid given; inside the caller's scope."""
    grid_code = data.get("grid_code")
    lon, lat = data.get("lon"), data.get("lat")
    if grid_code and (lon is None or lat is None):
        grid = geo.get_division(session, principal, grid_code)
        if grid.level != Level.grid.value:
            raise InvalidInput(f"{grid_code} is not a grid", details=[{"field": "grid_code", "problem": "not a grid"}])
        shape = shapely.from_wkb(grid.geometry)
        assert shape is not None
        inside = shape.representative_point()
        lon, lat = round(inside.x, 7), round(inside.y, 7)
    if lon is None or lat is None:
        raise InvalidInput(
            "say where the dispute is: lon and lat, or a grid_code",
            details=[{"field": "location", "problem": "lon/lat or grid_code required"}],
        )
    try:
        place = lookup_point(session, lon, lat)
    except NotFound as exc:
        raise InvalidInput(exc.message, details=[{"field": "location", "problem": exc.code}]) from exc
    areas: dict[Level, str | None] = {level: code for level, (code, _name) in place.ancestors.items()}
    require_area(principal, "dispute:write", {**areas, Level.grid: place.grid_code})
    return lon, lat


def create_dispute(
    session: Session,
    principal: Principal,
    data: dict[str, Any],
    *,
    duplicate_metres: float = intake.DEFAULT_DUPLICATE_METRES,
    duplicate_hours: float = intake.DEFAULT_DUPLICATE_HOURS,
) -> Dispute:
    """Record a dispute and report its case; nothing is written unless both succeed."""
    require(principal, "dispute:write")
    require(principal, "case:report")
    found: list[dict[str, str]] = []
    try:
        lon, lat = _point(session, principal, data)
    except InvalidInput as exc:
        lon, lat, found = 0.0, 0.0, list(exc.details)
    try:
        category: DisputeCategory | None = usable_dispute_category(session, data["dispute_category"])
    except InvalidInput as exc:
        category = None
        found += exc.details
    case_category, problems = _case_category(session, data.get("category_code"), category)
    found += problems
    reported_at: datetime = data.get("reported_at") or utcnow()
    reported_on = local_date(reported_at)
    if data["resolution_deadline"] < reported_on:
        found.append(
            {
                "field": "resolution_deadline",
                "problem": f"the resolution deadline lies before the report date {reported_on.isoformat()}",
            }
        )
    parties: list[dict[str, Any]] = data.get("parties") or []
    if data["people_count"] < len(parties):
        found.append(
            {
                "field": "people_count",
                "problem": f"{len(parties)} parties are named but only {data['people_count']} people",
            }
        )
    on = today()
    for i, party in enumerate(parties):
        found += party_problems(session, party, on=on, prefix=f"parties[{i}].")
    _refuse(found)
    assert category is not None and case_category is not None
    outcome = intake.report(
        session,
        principal,
        intake.Report(
            category_code=case_category,
            lon=lon,
            lat=lat,
            description=data["summary"],
            title=data.get("title") or f"{category.name_zh}：{data['summary'][:60]}",
            address=data.get("address"),
            priority=data.get("priority"),
            client_id=data.get("client_id"),
            reported_at=data.get("reported_at"),
            force_new=bool(data.get("force_new")),
        ),
        source=ROLE_SOURCES.get(principal.role, "centre"),
        duplicate_metres=duplicate_metres,
        duplicate_hours=duplicate_hours,
    )
    case = outcome.case
    if not outcome.created:
        earlier = session.scalar(select(Dispute).where(Dispute.case_id == case.id))
        if earlier is None:
            raise Conflict(
                f"client_id was used already for case {case.code}, which is not a dispute; send a new client_id",
                details={"case_id": case.id},
            )
        return earlier  # an offline replay: the dispute recorded the first time
    dispute = Dispute(
        case_id=case.id,
        dispute_category=category.code,
        scale=data.get("scale") or scale_for(data["people_count"]),
        people_count=data["people_count"],
        summary=data["summary"],
        units_involved=data.get("units_involved") or None,
        resolution_deadline=data["resolution_deadline"],
        created_by_user_id=principal.user_id,
        district_code=case.district_code,
        street_code=case.street_code,
        community_code=case.community_code,
        grid_code=case.grid_code,
    )
    session.add(dispute)
    session.flush()
    keyring = get_keyring()
    for party in parties:
        session.add(new_party(keyring, dispute, party))
    session.flush()
    audit.record(
        session,
        principal,
        "dispute.create",
        "dispute",
        dispute.id,
        details={"case_id": case.id, "category": category.code, "parties": len(parties)},
    )
    return dispute


# --- changing -----------------------------------------------------------------------------------


def update_dispute(session: Session, principal: Principal, dispute_id: int, changes: dict[str, Any]) -> Dispute:
    dispute = get_dispute(session, principal, dispute_id, write=True)
    changes = {key: value for key, value in changes.items() if value is not None or key == "units_involved"}
    found: list[dict[str, str]] = []
    if "dispute_category" in changes:
        try:
            usable_dispute_category(session, changes["dispute_category"])
        except InvalidInput as exc:
            found += exc.details
    if "resolution_deadline" in changes:
        reported_on = local_date(case_of(session, dispute).reported_at)
        if changes["resolution_deadline"] < reported_on:
            found.append(
                {
                    "field": "resolution_deadline",
                    "problem": f"the resolution deadline lies before the report date {reported_on.isoformat()}",
                }
            )
    if "people_count" in changes:
        named = party_count(session, dispute.id)
        if changes["people_count"] < named:
            found.append({"field": "people_count", "problem": f"{named} parties are named; the count cannot be lower"})
    _refuse(found)
    changed = sorted(key for key, value in changes.items() if getattr(dispute, key) != value)
    for key in changed:
        setattr(dispute, key, changes[key])
    session.flush()
    audit.record(session, principal, "dispute.update", "dispute", dispute.id, details={"fields": changed})
    return dispute


def add_party(session: Session, principal: Principal, dispute_id: int, data: dict[str, Any]) -> DisputeParty:
    dispute = get_dispute(session, principal, dispute_id, write=True)
    _lock(session, dispute)
    found = party_problems(session, data, on=today())
    named = party_count(session, dispute.id)
    if named + 1 > dispute.people_count:
        found.append(
            {
                "field": "people_count",
                "problem": f"the dispute involves {dispute.people_count} people and names {named} parties already; "
                "raise its people_count first",
            }
        )
    _refuse(found)
    party = new_party(get_keyring(), dispute, data)
    session.add(party)
    dispute.updated_at = utcnow()
    session.flush()
    audit.record(
        session, principal, "dispute.add_party", "dispute", dispute.id, details={"party": party.id, "role": party.role}
    )
    return party


def _lock(session: Session, dispute: Dispute) -> None:
    """Serialise writers of one dispute (PostgreSQL row lock; SQLite serialises every writer anyway)."""
    session.execute(select(Dispute.id).where(Dispute.id == dispute.id).with_for_update())


def add_mediation(session: Session, principal: Principal, dispute_id: int, data: dict[str, Any]) -> DisputeMediation:
    dispute = get_dispute(session, principal, dispute_id, write=True)
    found: list[dict[str, str]] = []
    if data["mediated_on"] > today():
        found.append({"field": "mediated_on", "problem": "the mediation date lies in the future"})
    if data.get("agreement_reached") and not (data.get("agreement") or "").strip():
        found.append({"field": "agreement", "problem": "an agreement was reached: give its terms"})
    _refuse(found)
    if dispute.outcome == "resolved":
        raise Conflict("this dispute is recorded as resolved; record a new outcome before mediating again")
    _lock(session, dispute)
    last = session.scalar(
        select(func.max(DisputeMediation.session_no)).where(DisputeMediation.dispute_id == dispute.id)
    )
    mediation = DisputeMediation(
        dispute_id=dispute.id,
        session_no=(last or 0) + 1,
        mediated_on=data["mediated_on"],
        method=data["method"],
        organisation=data["organisation"],
        mediator=data["mediator"],
        result=data["result"],
        agreement=(data.get("agreement") or "").strip() or None,
        agreement_reached=bool(data.get("agreement_reached")),
        recorded_by_user_id=principal.user_id,
        district_code=dispute.district_code,
        street_code=dispute.street_code,
        community_code=dispute.community_code,
        grid_code=dispute.grid_code,
    )
    session.add(mediation)
    dispute.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        principal,
        "dispute.mediate",
        "dispute",
        dispute.id,
        details={"session": mediation.session_no, "method": mediation.method, "agreement": mediation.agreement_reached},
    )
    return mediation


def record_outcome(session: Session, principal: Principal, dispute_id: int, data: dict[str, Any]) -> Dispute:
    """Resolved, partly resolved or failed, with the details and an optional evaluation (the case goes on)."""
    dispute = get_dispute(session, principal, dispute_id, write=True)
    on = today()
    resolved_on: date = data.get("resolved_on") or on
    evaluated_on: date | None = data.get("evaluated_on")
    reported_on = local_date(case_of(session, dispute).reported_at)
    found: list[dict[str, str]] = []
    if resolved_on > on:
        found.append({"field": "resolved_on", "problem": "the date lies in the future"})
    elif resolved_on < reported_on:
        found.append(
            {"field": "resolved_on", "problem": f"the date lies before the report date {reported_on.isoformat()}"}
        )
    if evaluated_on is not None and evaluated_on > on:
        found.append({"field": "evaluated_on", "problem": "the date lies in the future"})
    elif evaluated_on is not None and evaluated_on < resolved_on:
        found.append({"field": "evaluated_on", "problem": "the evaluation cannot come before the outcome"})
    if evaluated_on is None and data.get("evaluation"):
        found.append({"field": "evaluated_on", "problem": "give the date of the evaluation"})
    _refuse(found)
    success = data.get("success")
    before = dispute.outcome
    dispute.outcome = data["outcome"]
    dispute.success = (data["outcome"] == "resolved") if success is None else bool(success)
    dispute.resolved_on = resolved_on
    dispute.resolution = data["resolution"]
    dispute.evaluated_on = evaluated_on
    dispute.evaluation = data.get("evaluation") or None
    dispute.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        principal,
        "dispute.outcome",
        "dispute",
        dispute.id,
        details={"from": before, "to": dispute.outcome, "success": dispute.success},
    )
    return dispute


def follow_up(session: Session, principal: Principal, dispute_id: int, data: dict[str, Any]) -> Dispute:
    """The return visit (回访) after an outcome: its date and what was found."""
    dispute = get_dispute(session, principal, dispute_id, write=True)
    if dispute.outcome == "pending":
        raise Conflict("record the dispute's outcome before its follow-up")
    when: date = data["follow_up_on"]
    if when > today():
        _refuse([{"field": "follow_up_on", "problem": "the date lies in the future"}])
    if dispute.resolved_on is not None and when < dispute.resolved_on:
        _refuse([{"field": "follow_up_on", "problem": "a follow-up comes after the outcome"}])
    dispute.follow_up_on = when
    dispute.follow_up_note = data["note"]
    dispute.updated_at = utcnow()
    session.flush()
    audit.record(session, principal, "dispute.follow_up", "dispute", dispute.id)
    return dispute
