"""What the case workflow tells people: notifications to the accounts an action concerns, and live events
for the screens that show cases (the map, the command centre, a reporter's own list).

Both are written in the action's unit of work and leave only once it committed (`notify` and
`publish_after_commit`). Notifications (DESIGN.md §7):

- dispatch → the staff of the lead and co-handling departments (新派遣事件);
- escalate, hand down → the staff of the rung that now holds the case (community staff, or the centre
  operators of the street, district or city);
- send back (a department returns it) → the staff of the holding rung;
- return (verification failed) → the handler: the lead department's staff, else the holding rung's;
- a card (manual supervision or the SLA scan) → the handler and the holder;
- comment → everyone who acted on the case, and the reporter if they have an account;

never to the person who acted. Live events (topic `case`) follow every action and every new report. A
case event goes to the staff of the case's grid, the staff of the departments working it and its
reporter by name, and to the areas holding it for accounts with `case:supervise` (centres and
communities): an area match alone would also reach department staff, whose scope is the whole city but
who see only the cases dispatched to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.auth.models import User
from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import Level, Principal
from civicgrid.cases.models import Case, CaseAction, CaseAssignment
from civicgrid.core.broadcast import Audience, Event, publish_after_commit
from civicgrid.geo.models import Division
from civicgrid.notifications import service as notifications

TOPIC = "case"  # payload: id, code, status, level, category_code, lon, lat, grid_code, card, action
LIVE_PERMISSION = "case:supervise"
ACTIVE_ASSIGNMENT = ("pending", "signed", "reported")
_HANDLING_ROLES = tuple(role.value for role, perms in ROLE_PERMISSIONS.items() if "case:handle" in perms)
_RUNG_ROLES = tuple(r for r in _HANDLING_ROLES if r != Role.department_staff.value)
_CHUNK = 900  # IN lists stay below SQLite's and PostgreSQL's parameter limits
COLOUR_ZH = {"yellow": "黄牌", "red": "红牌"}
STAGE_ZH = {"accept": "受理超时", "handle": "处置超时", "manual": "人工督办"}


def area_of(case: Case) -> dict[Level, str | None]:
    return {
        Level.district: case.district_code,
        Level.street: case.street_code,
        Level.community: case.community_code,
        Level.grid: case.grid_code,
    }


def rung_code(case: Case, level: str) -> str | None:
    """The division holding the case at `level` (None for the city: one per platform)."""
    return None if level == "city" else str(getattr(case, f"{level}_code"))


class Staff:
    """The accounts that work a rung or a unit, looked up in a few queries for many cases at once.

    A rung's staff are the active accounts scoped exactly at its division with a role that handles cases
    (not department staff); a unit's staff are the active accounts of that unit that handle cases.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._rungs: dict[str | None, set[int]] = {}
        self._units: dict[int, set[int]] = {}

    def load(self, codes: Iterable[str | None] = (), units: Iterable[int] = ()) -> None:
        wanted = {c for c in codes if c not in self._rungs}
        if None in wanted:
            self._rungs[None] = set(
                self.session.scalars(
                    select(User.id)
                    .join(Division, Division.code == User.scope_division_code)
                    .where(Division.level == "city", *self._rung_filter())
                )
            )
        named = sorted(c for c in wanted if c is not None)
        for code in named:
            self._rungs[code] = set()
        for start in range(0, len(named), _CHUNK):
            rows = self.session.execute(
                select(User.id, User.scope_division_code).where(
                    User.scope_division_code.in_(named[start : start + _CHUNK]), *self._rung_filter()
                )
            )
            for user_id, code in rows:
                self._rungs[code].add(user_id)
        unit_ids = sorted({u for u in units if u not in self._units})
        for unit_id in unit_ids:
            self._units[unit_id] = set()
        for start in range(0, len(unit_ids), _CHUNK):
            members = self.session.execute(
                select(User.id, User.unit_id).where(
                    User.unit_id.in_(unit_ids[start : start + _CHUNK]),
                    User.is_active.is_(True),
                    User.role.in_(_HANDLING_ROLES),
                )
            )
            for member_id, member_unit in members:
                if member_unit is not None:
                    self._units[member_unit].add(member_id)

    @staticmethod
    def _rung_filter() -> tuple[Any, ...]:
        return (User.is_active.is_(True), User.role.in_(_RUNG_ROLES), User.scope_department_id.is_(None))

    def of_rung(self, case: Case, level: str | None = None) -> set[int]:
        code = rung_code(case, level or case.level)
        self.load(codes=[code])
        return set(self._rungs[code])

    def of_units(self, unit_ids: Iterable[int]) -> set[int]:
        ids = list(unit_ids)
        self.load(units=ids)
        return set().union(*(self._units[u] for u in ids)) if ids else set()

    def handlers(self, case: Case) -> set[int]:
        """Whoever works the case now: the lead department's staff once dispatched, else the holding rung's."""
        return self.of_units([case.lead_unit_id]) if case.lead_unit_id is not None else self.of_rung(case)


def _units_working(session: Session, case: Case) -> list[int]:
    return list(
        session.scalars(
            select(CaseAssignment.unit_id).where(
                CaseAssignment.case_id == case.id, CaseAssignment.status.in_(ACTIVE_ASSIGNMENT)
            )
        )
    )


def payload(case: Case, action: str) -> dict[str, Any]:
    return {
        "id": case.id,
        "code": case.code,
        "status": case.status,
        "level": case.level,
        "category_code": case.category_code,
        "lon": case.lon,
        "lat": case.lat,
        "grid_code": case.grid_code,
        "card": case.card,
        "action": action,
    }


def live_event(case: Case, action: str, named: Iterable[int]) -> Event:
    """The `case` event of one case: to `named` accounts, and to supervisors whose area holds it."""
    users = set(named)
    if case.reporter_user_id is not None:
        users.add(case.reporter_user_id)
    audience = Audience.of(users=users, areas=[area_of(case)], permission=LIVE_PERMISSION)
    return Event(TOPIC, payload(case, action), audience)


def publish_case(session: Session, case: Case, action: str, staff: Staff | None = None) -> None:
    staff = staff or Staff(session)
    named = staff.of_rung(case, "grid") | staff.of_units(_units_working(session, case))
    publish_after_commit(session, live_event(case, action, named))


def _title(prefix: str, case: Case) -> str:
    return f"{prefix}：{case.code} {case.title}"[: notifications.MAX_TITLE]


def _send(
    session: Session,
    recipients: set[int],
    kind: str,
    title: str,
    case: Case,
    actor: Principal | None,
    body: str | None = None,
) -> None:
    if actor is not None and actor.user_id is not None:
        recipients = recipients - {actor.user_id}
    if recipients:
        notifications.notify(session, recipients, kind, title, body, "case", case.id, actor=actor)


def case_reported(session: Session, principal: Principal | None, case: Case) -> None:
    """A new case: screens of its area show it."""
    publish_case(session, case, "report")


def case_acted(session: Session, principal: Principal, case: Case, entry: CaseAction) -> None:
    """After `service.act` recorded `entry`: notify whom the action concerns, and tell the screens."""
    staff = Staff(session)
    action = entry.action
    data = entry.data or {}
    body = entry.note[:500] if entry.note else None
    if action == "dispatch":
        units = [data["lead_unit_id"], *data.get("co_unit_ids", [])] if data.get("lead_unit_id") else []
        _send(session, staff.of_units(units), "assignment", _title("新派遣事件", case), case, principal, body)
    elif action in ("escalate", "hand_down"):
        prefix = "上报事件" if action == "escalate" else "交办事件"
        _send(session, staff.of_rung(case), "assignment", _title(prefix, case), case, principal, body)
    elif action == "send_back":
        _send(session, staff.of_rung(case), "return", _title("部门退回事件", case), case, principal, body)
    elif action == "return":
        _send(session, staff.handlers(case), "return", _title("核查未通过，事件退回", case), case, principal, body)
    elif action == "supervise":
        colour = COLOUR_ZH.get(str(data.get("colour")), "督办")
        recipients = staff.handlers(case) | staff.of_rung(case)
        _send(session, recipients, "card", _title(f"{colour}督办", case), case, principal, body)
    elif action == "comment":
        participants = set(
            session.scalars(
                select(CaseAction.actor_user_id).where(
                    CaseAction.case_id == case.id, CaseAction.actor_user_id.is_not(None)
                )
            )
        )
        if case.reporter_user_id is not None:
            participants.add(case.reporter_user_id)
        _send(
            session,
            {int(p) for p in participants if p is not None},
            "reply",
            _title("事件有新留言", case),
            case,
            principal,
            body,
        )
    publish_case(session, case, action, staff)


# -- cards raised by the SLA scan -------------------------------------------------------------------------

# Up to this many carded cases in one scan get an event each; more get one event telling screens to re-read.
LIVE_EVENTS_PER_SCAN = 50
CODES_IN_SUMMARY = 20


@dataclass
class RaisedCards:
    """The cards one scan raised on one case (a late scan may raise yellow and red at once)."""

    case: Case
    cards: list[tuple[str, str]] = field(default_factory=list)  # (stage, colour)

    @property
    def worst(self) -> tuple[str, str]:
        return max(self.cards, key=lambda card: card[1] == "red")


def cards_raised(session: Session, raised: Sequence[RaisedCards]) -> int:
    """Notify the handler and the holder of each carded case, and tell the screens; notifications sent.

    One scan may card many cases (after a long stop, thousands): the cases of one set of recipients are
    told in one notification when there are several, so nobody receives a flood.
    """
    if not raised:
        return 0
    staff = Staff(session)
    cases = [r.case for r in raised]
    staff.load(
        codes={rung_code(c, c.level) for c in cases} | {c.grid_code for c in cases},
        units={c.lead_unit_id for c in cases if c.lead_unit_id is not None},
    )
    groups: dict[frozenset[int], list[RaisedCards]] = {}
    for item in raised:
        recipients = frozenset(staff.handlers(item.case) | staff.of_rung(item.case))
        if recipients:
            groups.setdefault(recipients, []).append(item)
    sent = 0
    for recipients, items in groups.items():
        if len(items) == 1:
            item = items[0]
            stage, colour = item.worst
            title = _title(f"{COLOUR_ZH[colour]}督办（{STAGE_ZH[stage]}）", item.case)
            notifications.notify(session, recipients, "card", title, None, "case", item.case.id)
        else:
            red = sum(1 for i in items if i.worst[1] == "red")
            title = f"{len(items)} 件事件超时督办（红牌 {red}，黄牌 {len(items) - red}）"
            codes = [i.case.code for i in sorted(items, key=lambda i: i.worst[1] != "red")]
            body = "、".join(codes[:CODES_IN_SUMMARY]) + (" 等" if len(codes) > CODES_IN_SUMMARY else "")
            notifications.notify(session, recipients, "card", title, body, "case", None)
        sent += 1
    if len(raised) <= LIVE_EVENTS_PER_SCAN:
        for item in raised:
            case = item.case
            named = staff.of_rung(case, "grid") | (staff.of_units([case.lead_unit_id]) if case.lead_unit_id else set())
            publish_after_commit(session, live_event(case, "card", named))
    else:
        named = (
            set()
            .union(*(staff.of_rung(c, "grid") for c in cases))
            .union(*(staff.of_units([c.lead_unit_id]) for c in cases if c.lead_unit_id is not None))
        )
        areas = list({c.grid_code: area_of(c) for c in cases}.values())
        audience = Audience.of(users=named, areas=areas, permission=LIVE_PERMISSION)
        publish_after_commit(session, Event(TOPIC, {"action": "card", "count": len(raised), "resync": True}, audience))
    return sent
