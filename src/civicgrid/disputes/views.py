"""Turning dispute rows into response bodies: parties masked, the case beside the dispute."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Principal
from civicgrid.cases import service as cases
from civicgrid.cases import views as case_views
from civicgrid.core.crypto import get_keyring
from civicgrid.core.errors import NotFound
from civicgrid.core.masking import mask_id_number, mask_name
from civicgrid.disputes.access import case_of
from civicgrid.disputes.categories import category_names
from civicgrid.disputes.models import OPEN_OUTCOMES, PARTY_ID_CONTEXT, Dispute, DisputeMediation, DisputeParty
from civicgrid.disputes.schemas import DisputeDetailOut, DisputeOut, MediationOut, PartyOut
from civicgrid.registry.people import today


def dispute_out(
    dispute: Dispute,
    case_code: str,
    title: str,
    case_status: str,
    reported_at: datetime,
    names: dict[str, tuple[str, str]],
    on: date | None = None,
) -> DisputeOut:
    on = on or today()
    still_open = dispute.outcome in OPEN_OUTCOMES
    days_left = (dispute.resolution_deadline - on).days if still_open else None
    return DisputeOut(
        id=dispute.id,
        case_id=dispute.case_id,
        case_code=case_code,
        title=title,
        case_status=case_status,
        dispute_category=dispute.dispute_category,
        dispute_category_name=names.get(dispute.dispute_category, (dispute.dispute_category, ""))[0],
        scale=dispute.scale,
        people_count=dispute.people_count,
        outcome=dispute.outcome,
        success=dispute.success,
        resolution_deadline=dispute.resolution_deadline,
        overdue=days_left is not None and days_left < 0,
        days_left=days_left,
        reported_at=reported_at,
        district_code=dispute.district_code,
        street_code=dispute.street_code,
        community_code=dispute.community_code,
        grid_code=dispute.grid_code,
    )


def party_out(party: DisputeParty) -> PartyOut:
    number = None
    if party.id_number_enc is not None:
        number = mask_id_number(get_keyring().decrypt(party.id_number_enc, context=PARTY_ID_CONTEXT))
    return PartyOut(
        id=party.id,
        role=party.role,
        name=mask_name(party.name),
        id_number=number,
        sex=party.sex,
        ethnicity=party.ethnicity,
        education=party.education,
        person_category=party.person_category,
        address=party.address,
    )


def dispute_detail(session: Session, principal: Principal, dispute: Dispute) -> DisputeDetailOut:
    case = case_of(session, dispute)
    try:
        cases.get_case(session, principal, case.id)
        visible = True
    except NotFound:
        visible = False  # e.g. justice staff: they read the dispute, not the case's handling
    base = dispute_out(dispute, case.code, case.title, case.status, case.reported_at, category_names(session))
    parties = session.scalars(
        select(DisputeParty).where(DisputeParty.dispute_id == dispute.id).order_by(DisputeParty.id)
    )
    mediations = session.scalars(
        select(DisputeMediation).where(DisputeMediation.dispute_id == dispute.id).order_by(DisputeMediation.session_no)
    )
    return DisputeDetailOut(
        **base.model_dump(),
        summary=dispute.summary,
        units_involved=dispute.units_involved,
        resolved_on=dispute.resolved_on,
        resolution=dispute.resolution,
        evaluated_on=dispute.evaluated_on,
        evaluation=dispute.evaluation,
        follow_up_on=dispute.follow_up_on,
        follow_up_note=dispute.follow_up_note,
        created_at=dispute.created_at,
        updated_at=dispute.updated_at,
        parties=[party_out(p) for p in parties],
        mediations=[MediationOut.model_validate(m) for m in mediations],
        case=case_views.case_out(case, case_views.category_names(session)),
        case_visible=visible,
        case_allowed_actions=cases.allowed_actions(session, principal, case) if visible else [],
    )
