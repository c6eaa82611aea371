"""The public side of Open311: which cases anyone may read, and how a case reads as a service request.

Open311's GET is unauthenticated, so it shows only cases of categories that are not sensitive: the
classes in `open311_hidden_classes` (01 矛盾纠纷 and 02 治安隐患 by default) name parties, suspects
and informants, and are taken through Open311 but never listed. Nothing of the reporter (name, phone,
account) is ever shown; handlers' internal notes are not either — a note is public only for the
steps that tell the public what was decided (rejection, handling result, verification) and for
comments that Open311 clients posted themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.cases import service
from civicgrid.cases.models import OPEN_STATUSES, Case, CaseAction, CaseAttachment
from civicgrid.cases.views import category_names
from civicgrid.config import Settings
from civicgrid.core.clock import utcnow
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import InvalidInput, NotFound
from civicgrid.geo.service import divisions_by_codes
from civicgrid.open311 import params
from civicgrid.open311.render import timestamp
from civicgrid.org.models import OrgUnit

# Reads every case of the city; the hidden classes are taken out by `public_cases`.
READER = Principal(
    user_id=None, username="open311", role="open311", permissions=frozenset({"case:read"}), scope=Scope("", Level.city)
)
DEFAULT_DAYS = 90
MAX_RESULTS = 1000
MAX_PAGE_SIZE = 500
# Comments posted through POST servicerequestupdates carry this idempotency-key prefix: they are public.
CLIENT_COMMENT_PREFIX = "open311:"
PUBLIC_NOTE_ACTIONS = frozenset({"reject", "handle", "pass"})
SUMMARIES = {
    "report": "上报 (reported)",
    "accept": "受理 (accepted)",
    "reject": "不予受理 (not accepted)",
    "dispatch": "派遣至职能部门 (dispatched to a department)",
    "sign": "部门签收 (the department took it)",
    "start": "开始处置 (work started)",
    "send_back": "部门退回 (sent back by the department)",
    "handle": "处置完成 (handled)",
    "start_verification": "开始核查 (being verified)",
    "pass": "核查通过，已办结 (verified and closed)",
    "return": "核查未通过，重新处置 (verification failed; handled again)",
    "escalate": "上报上级 (escalated)",
    "hand_down": "交办 (handed down)",
    "reopen": "重新办理 (reopened)",
    "rate": "评价 (rated)",
    "comment": "留言 (comment)",
}
NOTICES = {
    "reported": "已收到，等待受理 (received; waiting to be accepted)",
    "accepted": "已受理 (accepted)",
    "rejected": "不予受理 (not accepted)",
    "escalated": "已上报上级办理 (escalated)",
    "dispatched": "已派遣至职能部门 (dispatched to a department)",
    "in_progress": "正在处置 (being handled)",
    "handled": "已处置，等待核查 (handled; to be verified)",
    "verifying": "正在核查 (being verified)",
    "returned": "核查未通过，重新处置 (handled again after a failed check)",
    "closed": "已办结 (closed)",
}


def open_or_closed(status: str) -> str:
    return "open" if status in OPEN_STATUSES else "closed"


def public_cases(settings: Settings) -> AnySelect:
    query = service.query_cases(READER, service.CaseFilter())
    for code in settings.open311_hidden_classes:
        query = query.where(Case.category_code.notlike(f"{code}%"))
    return query


def is_public_entry(action: CaseAction) -> bool:
    if action.action == "comment":
        return (action.idempotency_key or "").startswith(CLIENT_COMMENT_PREFIX)
    return action.action in SUMMARIES


def _public_entry_clause() -> ColumnElement[bool]:
    """`is_public_entry` in SQL."""
    return or_(
        CaseAction.action.in_([a for a in SUMMARIES if a != "comment"]),
        and_(CaseAction.action == "comment", CaseAction.idempotency_key.like(f"{CLIENT_COMMENT_PREFIX}%")),
    )


def public_note(action: CaseAction) -> str | None:
    return action.note if action.action in PUBLIC_NOTE_ACTIONS or action.action == "comment" else None


def media_path(attachment_id: int) -> str:
    return f"media/{attachment_id}.jpg"


@dataclass(frozen=True)
class RequestQuery:
    ids: list[str]
    service_codes: list[str]
    statuses: list[str]
    start: datetime | None
    end: datetime | None
    updated_after: datetime | None
    updated_before: datetime | None
    page: int
    page_size: int
    extensions: bool


def parse_request_query(values: Mapping[str, str], settings: Settings) -> RequestQuery:
    tz = settings.tz
    statuses = params.words(values, "status")
    wrong = [s for s in statuses if s not in ("open", "closed")]
    if wrong:
        raise InvalidInput(
            f"status is open, closed or both (comma-separated), not {', '.join(wrong)}",
            details=[{"field": "status", "problem": "unknown status"}],
        )
    return RequestQuery(
        ids=params.words(values, "service_request_id", limit=MAX_RESULTS),
        service_codes=params.words(values, "service_code", limit=200),
        statuses=statuses,
        start=params.moment(values, "start_date", tz),
        end=params.moment(values, "end_date", tz, end_of_day=True),
        updated_after=params.moment(values, "updated_after", tz),
        updated_before=params.moment(values, "updated_before", tz, end_of_day=True),
        page=params.integer(values, "page", default=1, low=1, high=MAX_RESULTS),
        page_size=params.integer(values, "page_size", default=50, low=1, high=MAX_PAGE_SIZE),
        extensions=params.flag(values, "extensions"),
    )


def find_requests(session: Session, settings: Settings, q: RequestQuery) -> list[Case]:
    """Newest first; at most 1,000 in all, paged. `service_request_id` overrides every other filter."""
    query = public_cases(settings)
    if q.ids:
        query = query.where(Case.code.in_(q.ids))
    else:
        if q.service_codes:
            query = query.where(Case.category_code.in_(q.service_codes))
        if q.statuses == ["open"]:
            query = query.where(Case.status.in_(OPEN_STATUSES))
        elif q.statuses == ["closed"]:
            query = query.where(Case.status.notin_(OPEN_STATUSES))
        if not (q.start or q.end or q.updated_after or q.updated_before):
            query = query.where(Case.reported_at >= utcnow() - timedelta(days=DEFAULT_DAYS))
        ranges = ((Case.reported_at, q.start, q.end), (Case.updated_at, q.updated_after, q.updated_before))
        for column, low, high in ranges:
            if low is not None:
                query = query.where(column >= low)
            if high is not None:
                query = query.where(column <= high)
    offset = (q.page - 1) * q.page_size
    limit = min(q.page_size, MAX_RESULTS - offset)
    if limit <= 0:
        return []
    query = query.order_by(Case.reported_at.desc(), Case.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(query))


def find_one(session: Session, settings: Settings, code: str) -> Case:
    found: Case | None = session.scalar(public_cases(settings).where(Case.code == code))
    if found is None:
        raise NotFound(f"there is no service request {code!r}", details={"service_request_id": code})
    return found


def _agencies(session: Session, cases: Sequence[Case]) -> dict[int, str]:
    """Who is responsible: the lead department once dispatched, else the centre or committee holding it."""
    lead_ids = {c.lead_unit_id for c in cases if c.lead_unit_id is not None}
    holding = {c.id: service.level_code(c, c.level) or c.district_code for c in cases}
    districts = divisions_by_codes(session, {c.district_code for c in cases})
    cities = {code: d.parent_code or code for code, d in districts.items()}
    for case in cases:
        if case.level == "city":
            holding[case.id] = cities.get(case.district_code, case.district_code)
    units = session.execute(
        select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.division_code).where(
            or_(OrgUnit.id.in_(lead_ids), OrgUnit.division_code.in_(set(holding.values())))
        )
    ).all()
    unit_names = {row.id: row.name for row in units}
    local = {row.division_code: row.name for row in units if row.kind in ("center", "committee")}
    names = {code: d.name for code, d in divisions_by_codes(session, set(holding.values())).items()}
    out = {}
    for case in cases:
        code = holding[case.id]
        if case.lead_unit_id is not None and case.lead_unit_id in unit_names:
            out[case.id] = unit_names[case.lead_unit_id]
        else:
            out[case.id] = local.get(code) or names.get(code, code)
    return out


def _media(base_url: str, attachment: CaseAttachment | None, report_data: Mapping[str, Any] | None) -> str | None:
    if attachment is not None:
        return base_url + media_path(attachment.id)
    attributes = (report_data or {}).get("attributes") or {}
    link = attributes.get("media_url") if isinstance(attributes, dict) else None
    return link if isinstance(link, str) else None


def public_photos(session: Session, case_ids: Sequence[int]) -> dict[int, list[CaseAttachment]]:
    """Photos bound to a public step of their case's timeline, by case, oldest first."""
    rows = session.execute(
        select(CaseAttachment, CaseAction)
        .join(CaseAction, CaseAction.id == CaseAttachment.action_id)
        .where(CaseAttachment.case_id.in_(case_ids))
        .order_by(CaseAttachment.id)
    ).all()
    out: dict[int, list[CaseAttachment]] = {}
    for attachment, action in rows:
        if is_public_entry(action):
            out.setdefault(action.case_id, []).append(attachment)
    return out


def request_dicts(
    session: Session, settings: Settings, cases: Sequence[Case], base_url: str, *, extensions: bool = False
) -> list[dict[str, Any]]:
    """The cases as GeoReport v2 service requests (`base_url` ends with /open311/v2/)."""
    if not cases:
        return []
    tz = settings.tz
    ids = [c.id for c in cases]
    names = category_names(session)
    actions: dict[int, list[CaseAction]] = {}
    for action in session.scalars(select(CaseAction).where(CaseAction.case_id.in_(ids)).order_by(CaseAction.id)):
        actions.setdefault(action.case_id, []).append(action)
    photos = public_photos(session, ids)
    agencies = _agencies(session, cases)
    duplicate_ids = {c.duplicate_of_id for c in cases if c.duplicate_of_id is not None}
    duplicate_codes = {
        case_id: code for case_id, code in session.execute(select(Case.id, Case.code).where(Case.id.in_(duplicate_ids)))
    }
    out = []
    for case in cases:
        timeline = [a for a in actions.get(case.id, []) if is_public_entry(a)]
        report = next((a for a in timeline if a.action == "report"), None)
        notes = [a for a in timeline if a.action in PUBLIC_NOTE_ACTIONS and a.note]
        first_photo = next(iter(photos.get(case.id, [])), None)
        item: dict[str, Any] = {
            "service_request_id": case.code,
            "status": open_or_closed(case.status),
            "status_notes": notes[-1].note if notes else None,
            "service_name": names.get(case.category_code, case.category_code),
            "service_code": case.category_code,
            "description": case.description,
            "agency_responsible": agencies[case.id],
            "service_notice": NOTICES.get(case.status, case.status),
            "requested_datetime": timestamp(case.reported_at, tz),
            "updated_datetime": timestamp(case.updated_at, tz),
            "expected_datetime": timestamp(case.handle_due, tz),
            "address": case.address,
            "address_id": None,
            "zipcode": None,
            "lat": case.lat,
            "long": case.lon,
            "media_url": _media(base_url, first_photo, report.data if report else None),
        }
        if extensions:
            stored = dict(((report.data if report else None) or {}).get("attributes") or {})
            stored.pop("media_url", None)
            item["extended_attributes"] = {
                "channel": case.source,
                "district_code": case.district_code,
                "street_code": case.street_code,
                "community_code": case.community_code,
                "grid_code": case.grid_code,
                "duplicate_of": duplicate_codes.get(case.duplicate_of_id) if case.duplicate_of_id else None,
                "followers": case.followers,
                "attributes": stored,
            }
            item["notes"] = [
                {
                    "datetime": timestamp(a.created_at, tz),
                    "summary": SUMMARIES.get(a.action, a.action),
                    "description": public_note(a),
                    "type": _note_type(a),
                }
                for a in timeline
            ]
        out.append(item)
    return out


def _note_type(action: CaseAction) -> str:
    if action.action == "report":
        return "opened"
    if action.action == "comment":
        return "comment"
    if action.to_status in ("closed", "rejected") and action.from_status != action.to_status:
        return "closed"
    return "status_change" if action.from_status != action.to_status else "activity"


def updates(session: Session, settings: Settings, values: Mapping[str, str], base_url: str) -> list[dict[str, Any]]:
    """Public timeline entries since `updated_after` (default: the last 90 days), oldest first, paged."""
    tz = settings.tz
    after = params.moment(values, "updated_after", tz) or utcnow() - timedelta(days=DEFAULT_DAYS)
    before = params.moment(values, "updated_before", tz, end_of_day=True)
    codes = params.words(values, "service_request_id", limit=MAX_RESULTS)
    page = params.integer(values, "page", default=1, low=1, high=MAX_RESULTS)
    page_size = params.integer(values, "page_size", default=50, low=1, high=MAX_PAGE_SIZE)
    public_ids = public_cases(settings).with_only_columns(Case.id)
    if codes:
        public_ids = public_ids.where(Case.code.in_(codes))
    query = (
        select(CaseAction, Case.code)
        .join(Case, Case.id == CaseAction.case_id)
        .where(CaseAction.case_id.in_(public_ids), CaseAction.created_at > after, _public_entry_clause())
        .order_by(CaseAction.id)
    )
    if before is not None:
        query = query.where(CaseAction.created_at <= before)
    offset = (page - 1) * page_size
    limit = min(page_size, MAX_RESULTS - offset)
    rows = [(a, code) for a, code in session.execute(query.offset(offset).limit(limit))] if limit > 0 else []
    photos: dict[int, CaseAttachment] = {}
    for attachments in public_photos(session, list({a.case_id for a, _c in rows})).values():
        for attachment in attachments:
            if attachment.action_id is not None:
                photos.setdefault(attachment.action_id, attachment)
    out = []
    for action, code in rows:
        note = public_note(action)
        summary = SUMMARIES.get(action.action, action.action)
        photo = photos.get(action.id)
        out.append(
            {
                "service_request_id": code,
                "update_id": str(action.id),
                "updated_datetime": timestamp(action.created_at, tz),
                "status": open_or_closed(action.to_status),
                "description": f"{summary}：{note}" if note else summary,
                "media_url": base_url + media_path(photo.id) if photo else None,
            }
        )
    return out


def public_photo(session: Session, settings: Settings, attachment_id: int) -> CaseAttachment:
    """A photo that GET requests links to (media_url): bound to a public step of a public case."""
    attachment = session.get(CaseAttachment, attachment_id)
    if attachment is not None and attachment.case_id is not None:
        listed = public_photos(session, [attachment.case_id]).get(attachment.case_id, [])
        visible = session.scalar(public_cases(settings).where(Case.id == attachment.case_id))
        if visible is not None and any(a.id == attachment.id for a in listed):
            return attachment
    raise NotFound(f"there is no published photo {attachment_id}")
