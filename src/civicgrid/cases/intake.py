"""Intake: every channel (grid worker, resident, 12345, Open311, sensors, video, volunteers) reports
through `report`, which places the case in its grid, sets its deadlines and offers duplicates.

A new report of the same category within `case_duplicate_metres` and `case_duplicate_hours` of an open
case is "the same problem": unless the reporter insists (`force_new`) or the channel merges by itself
(`on_duplicate="follow"`, used by Open311 and the 12345 import), the reporter is told which cases it
resembles (409 `possible_duplicate`) and may follow one (+1) instead.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require, require_area
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.cases import events, sla
from civicgrid.cases.categories import usable_category
from civicgrid.cases.models import OPEN_STATUSES, PHONE_CONTEXT, PRIORITIES, Case, CaseAction, CaseFollower
from civicgrid.cases.service import bind_attachments, get_case
from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import get_keyring
from civicgrid.core.errors import Conflict, InvalidInput, NotFound
from civicgrid.core.idnumber import InvalidPhone, normalise_phone
from civicgrid.geo.lookup import lookup_point

EARTH_RADIUS_M = 6_371_008.8
DEFAULT_DUPLICATE_METRES = 100.0
DEFAULT_DUPLICATE_HOURS = 72.0
# Channels relaying other people's reports (a 12345 operator, a third-party app): the account that files a
# report is not its reporter, and every relayed report of an open problem is one more +1.
RELAYED_SOURCES = frozenset({"hotline_12345", "open311"})


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(18)


@dataclass
class Report:
    category_code: str
    lon: float
    lat: float
    description: str = ""
    title: str | None = None
    address: str | None = None
    priority: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    anonymous: bool = False
    external_id: str | None = None
    client_id: str | None = None
    attachment_ids: list[int] = field(default_factory=list)
    reported_at: datetime | None = None
    force_new: bool = False
    on_duplicate: Literal["ask", "follow", "ignore"] = "ask"
    upload_token: str | None = None
    # Channel-specific details kept on the report's timeline entry (Open311: the service attributes).
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    case: Case
    created: bool
    # Handed out once to an anonymous or token-tracked reporter; only its digest is stored.
    token: str | None = None
    followed: bool = False


class PossibleDuplicate(Conflict):
    code = "possible_duplicate"


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def duplicates(
    session: Session, category_code: str, lon: float, lat: float, *, metres: float, hours: float, now: datetime
) -> list[tuple[Case, float]]:
    """Open cases of the same category near the point and recent enough, nearest first."""
    dlat = metres / 111_320.0
    dlon = metres / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    rows = session.scalars(
        select(Case).where(
            Case.category_code == category_code,
            Case.reported_at >= now - timedelta(hours=hours),
            Case.status.in_(OPEN_STATUSES),
            Case.lon.between(lon - dlon, lon + dlon),
            Case.lat.between(lat - dlat, lat + dlat),
            Case.duplicate_of_id.is_(None),
        )
    ).all()
    near = [(case, _distance_m(lon, lat, case.lon, case.lat)) for case in rows]
    return sorted([(c, d) for c, d in near if d <= metres], key=lambda pair: pair[1])


def _initial(principal: Principal | None, source: str, grid_code: str) -> str:
    # A grid worker reporting in their own grid holds the case already: it starts accepted (即报即受).
    if (
        principal is not None
        and source == "grid_worker"
        and principal.scope.level == Level.grid
        and principal.scope.division_code == grid_code
    ):
        return "accepted"
    return "reported"


def report(
    session: Session,
    principal: Principal | None,
    data: Report,
    *,
    source: str,
    duplicate_metres: float = DEFAULT_DUPLICATE_METRES,
    duplicate_hours: float = DEFAULT_DUPLICATE_HOURS,
) -> Outcome:
    """Accept a report from any channel; `principal` is None for an anonymous resident."""
    if principal is not None:
        require(principal, "case:report")
    if data.client_id:
        earlier = session.scalar(select(Case).where(Case.client_id == data.client_id))
        if earlier is not None:
            return Outcome(earlier, created=False)
    if data.external_id:
        earlier = session.scalar(select(Case).where(Case.source == source, Case.external_id == data.external_id))
        if earlier is not None:
            return Outcome(earlier, created=False)
    category = usable_category(session, data.category_code)
    if category.depth != 2:
        raise InvalidInput(
            f"'{category.code}' {category.name_zh} is a class; choose one of its categories",
            details=[{"field": "category_code", "problem": "not a leaf category"}],
        )
    if data.priority is not None and data.priority not in PRIORITIES:
        raise InvalidInput(
            f"priority must be one of {', '.join(PRIORITIES)}", details=[{"field": "priority", "problem": "unknown"}]
        )
    try:
        place = lookup_point(session, data.lon, data.lat)
    except NotFound as exc:
        raise InvalidInput(exc.message, details=[{"field": "location", "problem": exc.code}]) from exc
    areas = {level: code for level, (code, _name) in place.ancestors.items()}
    areas[Level.grid] = place.grid_code
    if principal is not None and principal.can("case:read") and principal.scope.department_id is None:
        # Area staff report through their own area; elsewhere they report as residents do (public page).
        require_area(principal, "case:report", areas)
    now = utcnow()
    reported_at = data.reported_at or now
    if reported_at > now + timedelta(minutes=5):
        raise InvalidInput(
            "the report time lies in the future", details=[{"field": "reported_at", "problem": "in the future"}]
        )
    phone = None
    if data.reporter_phone:
        try:
            phone = normalise_phone(data.reporter_phone)
        except InvalidPhone as exc:
            raise InvalidInput(exc.message, details=[{"field": "reporter_phone", "problem": exc.message}]) from exc
    if not data.force_new and data.on_duplicate != "ignore":
        similar = duplicates(
            session, category.code, data.lon, data.lat, metres=duplicate_metres, hours=duplicate_hours, now=now
        )
        if similar and data.on_duplicate == "follow":
            return follow(session, principal, similar[0][0].id, source=source, bypass_scope=True)
        if similar:
            raise PossibleDuplicate(
                f"{len(similar)} open report(s) of the same problem lie within {duplicate_metres:.0f} m; "
                "follow one (+1) or send again with force_new",
                details={
                    "candidates": [
                        {
                            "id": case.id,
                            "code": case.code,
                            "title": case.title,
                            "status": case.status,
                            "distance_m": round(distance, 1),
                            "reported_at": case.reported_at.isoformat(),
                            "followers": case.followers,
                        }
                        for case, distance in similar[:5]
                    ]
                },
            )
    token = new_token() if principal is None or source in ("open311", "resident") else None
    keyring = get_keyring()
    case = Case(
        code=f"tmp-{uuid.uuid4().hex[:20]}",  # fits the column (24) until the real code is known
        title=(data.title or "").strip() or f"{category.name_zh}：{(data.address or place.grid_name)[:80]}",
        description=data.description,
        category_code=category.code,
        source=source,
        priority=data.priority or category.default_priority,
        status=_initial(principal, source, place.grid_code),
        level="grid",
        max_level="grid",
        lon=data.lon,
        lat=data.lat,
        address=data.address,
        reporter_user_id=principal.user_id
        if principal is not None and not data.anonymous and source not in RELAYED_SOURCES
        else None,
        reporter_name=None if data.anonymous else data.reporter_name,
        reporter_phone_enc=keyring.encrypt(phone, context=PHONE_CONTEXT) if phone and not data.anonymous else None,
        reporter_phone_index=keyring.blind_index(phone, context=PHONE_CONTEXT)
        if phone and not data.anonymous
        else None,
        anonymous=data.anonymous,
        token_hash=token_digest(token) if token else None,
        external_id=data.external_id,
        client_id=data.client_id,
        reported_at=reported_at,
        district_code=areas[Level.district],
        street_code=areas[Level.street],
        community_code=areas[Level.community],
        grid_code=place.grid_code,
    )
    if case.status == "accepted":
        case.accepted_at = now
    session.add(case)
    session.flush()
    case.code = f"SJ{reported_at:%Y%m%d}{case.id:08d}"
    sla.set_accept_deadlines(session, case, category, reported_at)
    if case.status == "accepted":
        sla.set_handle_deadlines(session, case, category, now)
    entry = CaseAction(
        case_id=case.id,
        action="report",
        from_status=None,
        to_status=case.status,
        from_level=None,
        to_level="grid",
        actor_user_id=principal.user_id if principal else None,
        actor_label=principal.username if principal else "anonymous",
        unit_id=principal.unit_id if principal else None,
        note=None,
        data={"source": source, **({"attributes": data.attributes} if data.attributes else {})},
    )
    session.add(entry)
    session.flush()
    if data.attachment_ids:
        bind_attachments(
            session,
            principal or ANONYMOUS,
            case,
            entry,
            data.attachment_ids,
            token_hash=token_digest(data.upload_token) if data.upload_token else None,
        )
    audit.record(session, principal, "case.report", "case", case.id, details={"source": source})
    events.case_reported(session, principal, case)
    return Outcome(case, created=True, token=token)


# Who an anonymous resident is to the services that need a principal (binding photos, rating by token).
ANONYMOUS = Principal(
    user_id=None,
    username="anonymous",
    role="resident",
    permissions=frozenset({"case:report"}),
    scope=Scope("", Level.city),
)


def follow(
    session: Session, principal: Principal | None, case_id: int, *, source: str, bypass_scope: bool = False
) -> Outcome:
    """+1 on an open case: the reporter follows it instead of opening another; returns a token for
    anonymous followers so they can track it too."""
    # Residents may +1 any open case they were offered as the same problem (they learn nothing more of
    # it than the offer showed); area staff follow only the cases they may see.
    if principal is not None and principal.can("case:read") and not bypass_scope:
        case: Case | None = get_case(session, principal, case_id)
    else:
        if principal is not None:
            require(principal, "case:report")
        case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found", details={"id": str(case_id)})
    if case.status not in OPEN_STATUSES:
        raise Conflict(f"case {case.code} is {case.status}; report the problem anew if it is back")
    user_id = principal.user_id if principal is not None and source not in RELAYED_SOURCES else None
    if user_id is not None and session.scalar(
        select(CaseFollower.id).where(CaseFollower.case_id == case.id, CaseFollower.user_id == user_id)
    ):
        return Outcome(case, created=False, followed=True)
    token = new_token() if user_id is None else None
    session.add(
        CaseFollower(case_id=case.id, user_id=user_id, token_hash=token_digest(token) if token else None, source=source)
    )
    case.followers += 1
    session.flush()
    audit.record(session, principal, "case.follow", "case", case.id, details={"source": source})
    return Outcome(case, created=False, token=token, followed=True)


def by_token(session: Session, token: str) -> Case:
    """The case a tracking token follows (reported or +1'd with it)."""
    digest = token_digest(token)
    case = session.scalar(select(Case).where(Case.token_hash == digest))
    if case is None:
        follower = session.scalar(select(CaseFollower).where(CaseFollower.token_hash == digest))
        case = session.get(Case, follower.case_id) if follower else None
    if case is None:
        raise NotFound("no case is tracked by this token; check it was copied whole", code="unknown_token")
    return case
