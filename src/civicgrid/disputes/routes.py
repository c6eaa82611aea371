"""HTTP routes of disputes: categories, the one-stop desk, the list, recording one with its case, the
detail, changes, parties, mediation sessions, the outcome and the follow-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from civicgrid.auth.deps import PrincipalDep, SettingsDep
from civicgrid.cases.models import Case
from civicgrid.core.pagination import ListParams, Page, apply_sort, list_params, paginate
from civicgrid.core.web import SessionDep
from civicgrid.disputes import access, categories, queries, service
from civicgrid.disputes.models import Dispute
from civicgrid.disputes.schemas import (
    DeskOut,
    DisputeCategoryOut,
    DisputeCreate,
    DisputeDetailOut,
    DisputeOut,
    DisputeUpdate,
    FollowUpIn,
    MediationIn,
    MediationOut,
    Outcome,
    OutcomeIn,
    PartyIn,
    PartyOut,
    Scale,
)
from civicgrid.disputes.views import dispute_detail, party_out

router = APIRouter(prefix="/disputes", tags=["disputes"])
DISPUTE_SORTS = {
    "resolution_deadline": Dispute.resolution_deadline,
    "reported_at": Case.reported_at,
    "people_count": Dispute.people_count,
    "id": Dispute.id,
}


@router.get("/categories", operation_id="disputes_list_categories", response_model=list[DisputeCategoryOut])
def list_categories(
    session: SessionDep,
    principal: PrincipalDep,
    include_inactive: Annotated[bool, Query(description="also retired categories")] = False,
) -> list[DisputeCategoryOut]:
    """The 28 dispute categories, each with the case category it is filed under by default."""
    rows = categories.list_dispute_categories(session, include_inactive=include_inactive)
    return [DisputeCategoryOut.model_validate(c) for c in rows]


@router.get("/desk", operation_id="disputes_desk", response_model=DeskOut)
def desk(
    session: SessionDep,
    principal: PrincipalDep,
    area_code: Annotated[str | None, Query(max_length=15, description="narrow to a division of your scope")] = None,
) -> DeskOut:
    """The one-stop acceptance desk (一站式受理): counts per status and category, due and overdue, unaccepted."""
    return queries.desk(session, principal, area_code)


@router.get("", operation_id="disputes_list", response_model=Page[DisputeOut])
def list_disputes(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[ListParams, Depends(list_params)],
    dispute_category: str | None = None,
    scale: Scale | None = None,
    outcome: Outcome | None = None,
    case_status: Annotated[str | None, Query(description="the status of the dispute's case")] = None,
    area_code: Annotated[str | None, Query(max_length=15, description="a district, street, community or grid")] = None,
    overdue: Annotated[bool | None, Query(description="open and past (true) or not past (false) the deadline")] = None,
    open_only: Annotated[bool, Query(description="only pending or partly resolved disputes")] = False,
    q: Annotated[str | None, Query(max_length=100, description="a case code, or words of the title")] = None,
) -> Page[DisputeOut]:
    """Disputes of your area, filtered; the newest first unless sorted otherwise (`sort=resolution_deadline`
    puts the nearest deadline first — the desk's due-soon list)."""
    filters = queries.DisputeFilter(dispute_category, scale, outcome, case_status, area_code, overdue, open_only, q)
    query = apply_sort(
        queries.query_disputes(session, principal, filters),
        params.sort,
        DISPUTE_SORTS,
        [Case.reported_at.desc(), Dispute.id.desc()],
    )
    rows, total = paginate(session, query, params, scalars=False)
    return Page[DisputeOut].of(queries.outs(session, rows), total, params)


@router.post("", operation_id="disputes_create", response_model=DisputeDetailOut, status_code=201)
def create_dispute(
    body: DisputeCreate, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> DisputeDetailOut:
    """Record a dispute and report its case (a category of class 01) in one go.

    A similar case open nearby answers 409 `possible_duplicate` with the candidates; send again with
    `force_new` to record it anyway.
    """
    dispute = service.create_dispute(
        session,
        principal,
        body.model_dump(),
        duplicate_metres=settings.case_duplicate_metres,
        duplicate_hours=settings.case_duplicate_hours,
    )
    return dispute_detail(session, principal, dispute)


@router.get("/{dispute_id}", operation_id="disputes_get", response_model=DisputeDetailOut)
def get_dispute(dispute_id: int, session: SessionDep, principal: PrincipalDep) -> DisputeDetailOut:
    """One dispute: facts, parties (masked), mediation sessions, outcome, and its case with your actions."""
    return dispute_detail(session, principal, access.get_dispute(session, principal, dispute_id))


@router.patch("/{dispute_id}", operation_id="disputes_update", response_model=DisputeDetailOut)
def update_dispute(
    dispute_id: int, body: DisputeUpdate, session: SessionDep, principal: PrincipalDep
) -> DisputeDetailOut:
    dispute = service.update_dispute(session, principal, dispute_id, body.model_dump(exclude_unset=True))
    return dispute_detail(session, principal, dispute)


@router.post("/{dispute_id}/parties", operation_id="disputes_add_party", response_model=PartyOut, status_code=201)
def add_party(dispute_id: int, body: PartyIn, session: SessionDep, principal: PrincipalDep) -> PartyOut:
    """Name another party; the dispute's people_count must leave room for it."""
    return party_out(service.add_party(session, principal, dispute_id, body.model_dump()))


@router.post(
    "/{dispute_id}/mediations", operation_id="disputes_add_mediation", response_model=MediationOut, status_code=201
)
def add_mediation(dispute_id: int, body: MediationIn, session: SessionDep, principal: PrincipalDep) -> MediationOut:
    """Record a mediation session (numbered 1, 2, … per dispute)."""
    return MediationOut.model_validate(service.add_mediation(session, principal, dispute_id, body.model_dump()))


@router.post("/{dispute_id}/outcome", operation_id="disputes_record_outcome", response_model=DisputeDetailOut)
def record_outcome(dispute_id: int, body: OutcomeIn, session: SessionDep, principal: PrincipalDep) -> DisputeDetailOut:
    """Record the outcome; the case is closed by its own workflow, not by this."""
    dispute = service.record_outcome(session, principal, dispute_id, body.model_dump())
    return dispute_detail(session, principal, dispute)


@router.post("/{dispute_id}/follow-up", operation_id="disputes_follow_up", response_model=DisputeDetailOut)
def follow_up(dispute_id: int, body: FollowUpIn, session: SessionDep, principal: PrincipalDep) -> DisputeDetailOut:
    """Record the return visit (回访) after the outcome."""
    return dispute_detail(session, principal, service.follow_up(session, principal, dispute_id, body.model_dump()))
