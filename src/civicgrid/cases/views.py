"""Turning case rows into response bodies (masking the reporter, listing what the caller may do)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Principal
from civicgrid.cases import service
from civicgrid.cases.models import OPEN_STATUSES, PHONE_CONTEXT, Case, CaseCard, CaseCategory, CaseExtension
from civicgrid.cases.schemas import (
    AssignmentOut,
    AttachmentOut,
    CardOut,
    CaseDetailOut,
    CaseOut,
    ExtensionOut,
    PublicCaseOut,
    PublicTimelineEntry,
    TimelineEntry,
)
from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import get_keyring
from civicgrid.core.masking import mask_name, mask_phone
from civicgrid.org.models import OrgUnit

API = "/api/v1"
# Notes of these steps tell a reporter what was decided; other notes are the handlers' own.
PUBLIC_NOTES = frozenset({"reject", "handle", "pass", "rate"})


def category_names(session: Session) -> dict[str, str]:
    return dict(((code, name) for code, name in session.execute(select(CaseCategory.code, CaseCategory.name_zh))))


def is_overdue(case: Case, now: datetime) -> bool:
    if case.status not in OPEN_STATUSES:
        return False
    due = case.accept_due if case.status in ("reported", "escalated") else case.handle_due
    return due is not None and due < now


def case_out(case: Case, names: dict[str, str], now: datetime | None = None) -> CaseOut:
    return CaseOut(
        id=case.id,
        code=case.code,
        title=case.title,
        category_code=case.category_code,
        category_name=names.get(case.category_code, case.category_code),
        source=case.source,
        priority=case.priority,
        status=case.status,
        level=case.level,
        lead_unit_id=case.lead_unit_id,
        lon=case.lon,
        lat=case.lat,
        address=case.address,
        grid_code=case.grid_code,
        community_code=case.community_code,
        street_code=case.street_code,
        district_code=case.district_code,
        reported_at=case.reported_at,
        accept_due=case.accept_due,
        handle_due=case.handle_due,
        closed_at=case.closed_at,
        card=case.card,
        followers=case.followers,
        overdue=is_overdue(case, now or utcnow()),
        version=case.version,
    )


def _attachment(
    case_id: int, attachment_id: int, content_type: str, size: int, w: int, h: int, at: datetime
) -> AttachmentOut:
    base = f"{API}/cases/{case_id}/attachments/{attachment_id}"
    return AttachmentOut(
        id=attachment_id,
        content_type=content_type,
        size=size,
        width=w,
        height=h,
        url=base,
        thumbnail_url=f"{base}?thumbnail=true",
        created_at=at,
    )


def case_detail(session: Session, principal: Principal, case: Case) -> CaseDetailOut:
    names = category_names(session)
    base = case_out(case, names)
    actions = service.timeline(session, case.id)
    attachments = service.attachments_of(session, case.id)
    by_action: dict[int, list[int]] = {}
    for attachment in attachments:
        if attachment.action_id is not None:
            by_action.setdefault(attachment.action_id, []).append(attachment.id)
    assignments = service.assignments_of(session, case.id)
    unit_names = {
        unit_id: name
        for unit_id, name in session.execute(
            select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_([a.unit_id for a in assignments]))
        )
    }
    phone = None
    if case.reporter_phone_enc is not None:
        phone = mask_phone(get_keyring().decrypt(case.reporter_phone_enc, context=PHONE_CONTEXT))
    cards = session.scalars(select(CaseCard).where(CaseCard.case_id == case.id).order_by(CaseCard.id)).all()
    extensions = session.scalars(
        select(CaseExtension).where(CaseExtension.case_id == case.id).order_by(CaseExtension.id)
    ).all()
    return CaseDetailOut(
        **base.model_dump(),
        description=case.description,
        reporter_name=mask_name(case.reporter_name) if case.reporter_name else None,
        reporter_phone=phone,
        anonymous=case.anonymous,
        max_level=case.max_level,
        closure_level=case.closure_level,
        accepted_at=case.accepted_at,
        dispatched_at=case.dispatched_at,
        handled_at=case.handled_at,
        accept_red_due=case.accept_red_due,
        handle_red_due=case.handle_red_due,
        satisfaction=case.satisfaction,
        evaluation=case.evaluation,
        duplicate_of_id=case.duplicate_of_id,
        allowed_actions=service.allowed_actions(session, principal, case),
        timeline=[
            TimelineEntry(
                id=a.id,
                action=a.action,
                from_status=a.from_status,
                to_status=a.to_status,
                from_level=a.from_level,
                to_level=a.to_level,
                actor=a.actor_label,
                unit_id=a.unit_id,
                note=a.note,
                data=a.data or {},
                attachment_ids=by_action.get(a.id, []),
                created_at=a.created_at,
            )
            for a in actions
        ],
        assignments=[
            AssignmentOut(
                id=a.id,
                unit_id=a.unit_id,
                unit_name=unit_names.get(a.unit_id, str(a.unit_id)),
                role=a.role,
                status=a.status,
                report=a.report,
                assigned_at=a.assigned_at,
                reported_at=a.reported_at,
            )
            for a in assignments
        ],
        attachments=[
            _attachment(case.id, a.id, a.content_type, a.size, a.width, a.height, a.created_at) for a in attachments
        ],
        cards=[CardOut.model_validate(c) for c in cards],
        extensions=[ExtensionOut.model_validate(e) for e in extensions],
    )


def public_case(session: Session, case: Case, *, can_rate: bool) -> PublicCaseOut:
    names = category_names(session)
    return PublicCaseOut(
        id=case.id,
        code=case.code,
        title=case.title,
        category_code=case.category_code,
        category_name=names.get(case.category_code, case.category_code),
        status=case.status,
        public_status="open" if case.status in OPEN_STATUSES else "closed",
        description=case.description,
        address=case.address,
        lon=case.lon,
        lat=case.lat,
        reported_at=case.reported_at,
        closed_at=case.closed_at,
        followers=case.followers,
        satisfaction=case.satisfaction,
        can_rate=can_rate and case.status == "closed" and case.satisfaction is None,
        timeline=[
            PublicTimelineEntry(
                action=a.action,
                to_status=a.to_status,
                note=a.note if a.action in PUBLIC_NOTES else None,
                created_at=a.created_at,
            )
            for a in service.timeline(session, case.id)
            if a.action not in ("comment", "supervise", "request_extension", "decide_extension", "co_report")
        ],
        attachment_ids=[a.id for a in service.attachments_of(session, case.id) if a.action_id is not None],
    )
