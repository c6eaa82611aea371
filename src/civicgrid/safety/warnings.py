"""Warnings (DESIGN.md §8): count surges, rules that fired and forecast hotspots, each with its evidence,
and what operators do about them — acknowledge, turn into a case (pre-filled and linked), close.

Detectors hand `NewWarning`s to `create_warnings`. A warning is unique per (kind, area, subject, first
day): rows are inserted with ON CONFLICT DO NOTHING, so re-running a detection (a second process, the
command beside the server, a replay) never doubles one. A `merge` warning (a surge, a threshold) that
continues an open one of the same subject and area — overlapping its days or starting the day after —
extends it instead of opening another, so a three-day surge is one warning with three detections. One whose
days overlap a closed warning of its subject and area is left out: a sum over several days that still holds
the days an operator dealt with would raise them again.

Reading is scoped (`authz.restrict`, `safety:read`); the incidents behind a warning are listed only for
accounts that may read single incidents (`safety:incidents`), others see their number. Actions follow
`warning_flows` and need `safety:warn`; each is audited and announced on the live stream (topic
`safety.warning`) once committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import area_codes_of, get_in_scope, restrict
from civicgrid.authz.scope import Principal
from civicgrid.cases import categories as case_categories
from civicgrid.core.broadcast import Audience, Event, publish_after_commit
from civicgrid.core.clock import utcnow
from civicgrid.core.db import AnySelect, dialect_insert
from civicgrid.core.errors import InvalidInput
from civicgrid.geo import service as geo
from civicgrid.geo.models import LEVELS, Division
from civicgrid.safety import warning_flows as flows
from civicgrid.safety.categories import RECORDS_SOURCE
from civicgrid.safety.models import (
    WARNING_KINDS,
    WARNING_STATUSES,
    SafetyCategory,
    SafetyFeedState,
    SafetyIncident,
    SafetyWarning,
)

TOPIC = "safety.warning"  # payload: id, kind, subject, level, area_code, severity, status, title, action
READ = "safety:read"
# From the mildest: a surge or threshold (notice, serious), consecutive reds (notice, interview), a death.
SEVERITIES = ("notice", "serious", "interview", "fatal")
MAX_RECORDS = 500
MAX_DETECTIONS = 92
_ACTOR = "system"
_AREA_COLUMNS = {
    "district": "district_code",
    "street": "street_code",
    "community": "community_code",
    "grid": "grid_code",
}

# Daily-count kinds of incidents: calls (inc:01) and recorded incidents (rec:01).
INCIDENT_PREFIXES = ("inc:", "rec:")


@dataclass
class NewWarning:
    """What a detector found; `evidence` must be JSON (dates as ISO strings) and never name people."""

    kind: str  # surge | rule | hotspot
    subject: str  # a count kind (inc:01), or a rule (threshold:3, red_streak:month:notice, fatal:inc:05)
    area_code: str
    period_start: date
    period_end: date
    title: str
    evidence: dict[str, Any]
    severity: str = "notice"
    merge: bool = False


@dataclass
class CreateResult:
    created: list[SafetyWarning] = field(default_factory=list)
    extended: list[SafetyWarning] = field(default_factory=list)
    unchanged: int = 0


@dataclass
class StoredTally:
    """What a detector's runs stored, added up (the scheduled tasks' and commands' results)."""

    created: int = 0
    extended: int = 0
    unchanged: int = 0

    def add(self, stored: CreateResult) -> None:
        self.created += len(stored.created)
        self.extended += len(stored.extended)
        self.unchanged += stored.unchanged

    def stored(self) -> dict[str, int]:
        return {"created": self.created, "extended": self.extended, "unchanged": self.unchanged}


def day_done(session: Session, detector: str) -> date | None:
    """The last day (or week's first day) a scheduled detector has finished, from its row in the feed state."""
    state = session.get(SafetyFeedState, detector)
    return date.fromordinal(state.last_id) if state is not None else None


def mark_day_done(session: Session, detector: str, day: date) -> None:
    state = session.get(SafetyFeedState, detector, with_for_update=True)
    if state is None:
        session.add(SafetyFeedState(feed=detector, last_id=day.toordinal()))
    else:
        state.last_id = day.toordinal()


def _check_new(new: Sequence[NewWarning], divisions: dict[str, Division]) -> None:
    problems = []
    for i, w in enumerate(new):
        if w.kind not in WARNING_KINDS:
            problems.append({"field": f"{i}.kind", "problem": f"must be one of {', '.join(WARNING_KINDS)}"})
        if w.severity not in SEVERITIES:
            problems.append({"field": f"{i}.severity", "problem": f"must be one of {', '.join(SEVERITIES)}"})
        if w.area_code not in divisions:
            problems.append({"field": f"{i}.area_code", "problem": f"unknown division {w.area_code}"})
        if w.period_end < w.period_start:
            problems.append({"field": f"{i}.period_end", "problem": "before period_start"})
        if not w.subject or len(w.subject) > 40:
            problems.append({"field": f"{i}.subject", "problem": "1 to 40 characters"})
    if problems:
        raise InvalidInput("the warnings are not valid", details=problems)


def _merged_evidence(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    detections = [*(old.get("detections") or []), *(new.get("detections") or [])][-MAX_DETECTIONS:]
    return {**old, **new, "detections": detections}


def _stronger(a: str, b: str) -> str:
    return max(a, b, key=SEVERITIES.index)


def _continued(session: Session, new: Sequence[NewWarning]) -> dict[int, SafetyWarning]:
    """For each merge warning (by position), the open warning of its subject and area it continues, else a
    closed one whose days it overlaps."""
    merging = [i for i, w in enumerate(new) if w.merge]
    if not merging:
        return {}
    earliest = min(new[i].period_start for i in merging) - timedelta(days=1)
    areas = sorted({new[i].area_code for i in merging})
    existing: list[SafetyWarning] = []
    for start in range(0, len(areas), 500):
        existing += session.scalars(
            select(SafetyWarning)
            .where(
                SafetyWarning.area_code.in_(areas[start : start + 500]),
                SafetyWarning.period_end >= earliest,
            )
            .with_for_update()
        )
    found: dict[int, SafetyWarning] = {}
    for i in merging:
        w = new[i]
        same = [old for old in existing if (old.kind, old.subject, old.area_code) == (w.kind, w.subject, w.area_code)]
        continued = (
            old
            for old in same
            if old.status != "closed"
            and old.period_start <= w.period_end
            and old.period_end >= w.period_start - timedelta(days=1)
        )
        overlapped = (
            old
            for old in same
            if old.status == "closed" and old.period_start <= w.period_end and old.period_end >= w.period_start
        )
        match = next(continued, None) or next(overlapped, None)
        if match is not None:
            found[i] = match
    return found


def create_warnings(session: Session, new: Sequence[NewWarning]) -> CreateResult:
    """Store what detectors found (by the system): new warnings inserted once, continued ones extended;
    audited as one record, each announced after commit."""
    result = CreateResult()
    if not new:
        return result
    divisions = geo.divisions_by_codes(session, {w.area_code for w in new})
    _check_new(new, divisions)
    continued = _continued(session, new)
    rows = []
    for i, w in enumerate(new):
        old = continued.get(i)
        if old is not None:
            if w.period_end <= old.period_end or old.status == "closed":
                result.unchanged += 1  # in the warning already (a re-run), or days an operator dealt with
                continue
            old.period_end = w.period_end
            old.evidence = _merged_evidence(old.evidence, w.evidence)
            old.severity = _stronger(old.severity, w.severity)
            old.title = w.title[:200]
            result.extended.append(old)
            continue
        division = divisions[w.area_code]
        rows.append(
            {
                "kind": w.kind,
                "subject": w.subject,
                "area_code": w.area_code,
                "level": division.level,
                "period_start": w.period_start,
                "period_end": w.period_end,
                "severity": w.severity,
                "title": w.title[:200],
                "evidence": w.evidence,
                "status": "open",
                "district_code": division.district_code,
                "street_code": division.street_code,
                "community_code": division.community_code,
                "grid_code": division.grid_code,
                "created_at": utcnow(),
            }
        )
    session.flush()
    if rows:
        statement = dialect_insert(session, SafetyWarning).on_conflict_do_nothing().returning(SafetyWarning.id)
        ids = [int(row[0]) for row in session.connection().execute(statement, rows)]
        result.unchanged += len(rows) - len(ids)
        if ids:
            result.created = list(
                session.scalars(select(SafetyWarning).where(SafetyWarning.id.in_(ids)).order_by(SafetyWarning.id))
            )
    if result.created or result.extended:
        audit.record(
            session,
            None,
            "safety.warning.detect",
            "safety_warning",
            None,
            details={
                "created": [w.id for w in result.created][:200],
                "extended": [w.id for w in result.extended][:200],
            },
            actor_name=_ACTOR,
        )
        for warning in result.created:
            publish(session, warning, "created")
        for warning in result.extended:
            publish(session, warning, "extended")
    return result


def publish(session: Session, warning: SafetyWarning, action: str) -> None:
    payload = {
        "id": warning.id,
        "kind": warning.kind,
        "subject": warning.subject,
        "level": warning.level,
        "area_code": warning.area_code,
        "severity": warning.severity,
        "status": warning.status,
        "title": warning.title,
        "action": action,
    }
    audience = Audience.of(areas=[area_codes_of(warning)], permission=READ)
    publish_after_commit(session, Event(TOPIC, payload, audience))


# -- reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarningFilter:
    status: str | None = None
    kind: str | None = None
    level: str | None = None
    area_code: str | None = None  # the area itself or any area inside it
    subject: str | None = None
    severity: str | None = None
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before


def _check_filter(filters: WarningFilter) -> None:
    problems = []
    for name, value, allowed in (
        ("status", filters.status, WARNING_STATUSES),
        ("kind", filters.kind, WARNING_KINDS),
        ("level", filters.level, LEVELS),
        ("severity", filters.severity, SEVERITIES),
    ):
        if value is not None and value not in allowed:
            problems.append({"field": name, "problem": f"must be one of {', '.join(allowed)}"})
    if filters.since and filters.until and filters.until <= filters.since:
        problems.append({"field": "until", "problem": "must be after since"})
    if problems:
        raise InvalidInput("; ".join(f"{p['field']} {p['problem']}" for p in problems), details=problems)


def query_warnings(session: Session, principal: Principal, filters: WarningFilter) -> AnySelect:
    """The warnings inside the principal's scope that match `filters` (unsorted); `area_code` is a division
    of any level, the city's included: the warnings of that area and of the areas inside it."""
    _check_filter(filters)
    query = restrict(select(SafetyWarning), principal, READ, SafetyWarning)
    for column, value in (
        (SafetyWarning.status, filters.status),
        (SafetyWarning.kind, filters.kind),
        (SafetyWarning.level, filters.level),
        (SafetyWarning.subject, filters.subject),
        (SafetyWarning.severity, filters.severity),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.area_code:
        code = filters.area_code
        division = geo.divisions_by_codes(session, [code]).get(code)
        if division is None:
            raise InvalidInput(
                f"{code!r} is not a division of the map",
                details=[{"field": "area_code", "problem": "unknown division"}],
            )
        area_column = _AREA_COLUMNS.get(division.level)
        if area_column is not None:  # the city holds every warning: no condition beyond the scope's
            query = query.where(or_(SafetyWarning.area_code == code, getattr(SafetyWarning, area_column) == code))
    if filters.since:
        query = query.where(SafetyWarning.created_at >= filters.since)
    if filters.until:
        query = query.where(SafetyWarning.created_at < filters.until)
    return query


def get_warning(session: Session, principal: Principal, warning_id: int, permission: str = READ) -> SafetyWarning:
    """One warning inside the principal's scope (404 otherwise)."""
    return get_in_scope(session, SafetyWarning, warning_id, principal, permission)


def area_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    return {code: d.name for code, d in geo.divisions_by_codes(session, codes).items()}


def count_kind(warning: SafetyWarning) -> str | None:
    """The daily-count kind a warning is about (inc:01, case:02), if any."""
    kind = warning.evidence.get("count_kind") if isinstance(warning.evidence, dict) else None
    if isinstance(kind, str):
        return kind
    return warning.subject if warning.subject.startswith((*INCIDENT_PREFIXES, "case:")) else None


@dataclass
class Records:
    """The incidents behind a warning: their number, and the records themselves when the reader may see them."""

    total: int | None
    items: list[dict[str, Any]] | None
    truncated: bool = False


def incident_query(warning: SafetyWarning, kind: str) -> AnySelect:
    records = SafetyIncident.source == RECORDS_SOURCE
    query = select(SafetyIncident).where(
        SafetyIncident.category_code.like(f"{kind[4:]}%"),
        records if kind.startswith("rec:") else ~records,
        SafetyIncident.day >= warning.period_start,
        SafetyIncident.day <= warning.period_end,
    )
    column = _AREA_COLUMNS.get(warning.level)
    if column is not None:
        query = query.where(getattr(SafetyIncident, column) == warning.area_code)
    if warning.subject.startswith("fatal:"):
        query = query.where(SafetyIncident.deaths > 0)
    return query


def contributing_records(session: Session, principal: Principal, warning: SafetyWarning) -> Records:
    """The incidents a surge, threshold or fatal warning counted (for inc kinds); for case kinds the count."""
    kind = count_kind(warning)
    if kind is None:
        return Records(None, None)
    if not kind.startswith(INCIDENT_PREFIXES):
        observed = warning.evidence.get("observed")
        return Records(int(observed) if isinstance(observed, int | float) else None, None)
    query = incident_query(warning, kind)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    if not principal.can("safety:incidents"):
        return Records(total, None)
    names = {
        str(code): str(name) for code, name in session.execute(select(SafetyCategory.code, SafetyCategory.name_zh))
    }
    incidents = session.scalars(query.order_by(SafetyIncident.occurred_at, SafetyIncident.id).limit(MAX_RECORDS))
    items = [
        {
            "id": i.id,
            "source": i.source,
            "occurred_at": i.occurred_at,
            "time_precision": i.time_precision,
            "day": i.day,
            "category_code": i.category_code,
            "category_name": names.get(i.category_code),
            "division_code": i.division_code,
            "lon": i.lon,
            "lat": i.lat,
            "deaths": i.deaths,
            "injuries": i.injuries,
        }
        for i in incidents
    ]
    return Records(total, items, truncated=total > len(items))


def allowed_actions(principal: Principal, warning: SafetyWarning) -> list[str]:
    if not principal.can(flows.PERMISSION):
        return []
    return flows.allowed_actions(warning.status, warning.case_id is not None)


def kind_names(session: Session) -> dict[str, str]:
    """Names of the daily-count kinds: incident classes and case classes."""
    names = {
        f"inc:{code}": str(name)
        for code, name in session.execute(
            select(SafetyCategory.code, SafetyCategory.name_zh).where(SafetyCategory.depth == 1)
        )
    }
    names.update({f"rec:{kind[4:]}": f"{name}（案事件）" for kind, name in list(names.items())})
    for category in case_categories.list_categories(session, include_inactive=True):
        if category.depth == 1:
            names[f"case:{category.code}"] = category.name_zh
    names["dispute"] = "矛盾纠纷"
    return names


# -- actions ----------------------------------------------------------------------------------------------


def take(session: Session, principal: Principal, warning_id: int, action: str, note: str | None) -> SafetyWarning:
    warning = get_warning(session, principal, warning_id, flows.PERMISSION)
    session.refresh(warning, with_for_update=True)
    transition = flows.check(warning.status, action, warning.case_id is not None)
    if transition.note_required and not (note or "").strip():
        raise InvalidInput(
            f"say why in a note to {action.replace('_', ' ')} the warning",
            details=[{"field": "note", "problem": "required"}],
        )
    return warning


def apply(session: Session, warning: SafetyWarning, action: str, values: dict[str, Any]) -> None:
    """Write the transition only if nobody changed the warning since it was read (any database)."""
    guard = [SafetyWarning.id == warning.id, SafetyWarning.status == warning.status]
    if flows.BY_ACTION[action].needs_no_case:
        guard.append(SafetyWarning.case_id.is_(None))
    changed = session.execute(
        update(SafetyWarning).where(*guard).values(**values), execution_options={"synchronize_session": False}
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(warning)
        raise flows.NotAllowed(
            "the warning was changed meanwhile; reload it",
            details={
                "status": warning.status,
                "allowed_actions": flows.allowed_actions(warning.status, warning.case_id is not None),
            },
        )
    session.refresh(warning)


def acknowledged_values(principal: Principal, warning: SafetyWarning) -> dict[str, Any]:
    if warning.status != "open":
        return {}
    return {"status": "acknowledged", "acknowledged_by": principal.user_id, "acknowledged_at": utcnow()}


def acknowledge(session: Session, principal: Principal, warning_id: int) -> SafetyWarning:
    """Open → acknowledged: someone is looking into it."""
    warning = take(session, principal, warning_id, "acknowledge", None)
    apply(session, warning, "acknowledge", acknowledged_values(principal, warning))
    audit.record(session, principal, "safety.warning.acknowledge", "safety_warning", warning.id)
    publish(session, warning, "acknowledge")
    return warning


def close(session: Session, principal: Principal, warning_id: int, note: str | None) -> SafetyWarning:
    """Open or acknowledged → closed, with a note saying what was done (or why nothing is needed)."""
    warning = take(session, principal, warning_id, "close", note)
    text = (note or "").strip()[:500]
    values = {"status": "closed", "closed_by": principal.user_id, "closed_at": utcnow(), "close_note": text}
    apply(session, warning, "close", values)
    audit.record(
        session, principal, "safety.warning.close", "safety_warning", warning.id, details={"case_id": warning.case_id}
    )
    publish(session, warning, "close")
    return warning
