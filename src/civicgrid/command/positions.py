"""Positions of grid workers on duty, shared by the workers themselves from the field app.

DESIGN.md §2 rules out hidden monitoring of people, so a position exists only while its worker wants it to:

- a worker (permission `position:share`) turns sharing on for a duty period of at most 12 hours; the field
  app then sends the current point every few minutes. Each share overwrites the worker's one row: no trail
  of earlier points is ever stored;
- turning sharing off deletes the row at once; a duty period that ended is deleted by the purge task;
- the command centre (`command:read`) sees, inside its scope, the workers whose duty period is running and
  whose last share is at most 15 minutes old — with their display name, grid, point and its age. Never a
  phone number or an ID number: a position is shown for dispatching the nearest worker, not to watch them.

The scope of a position is where its point is (its grid and the grid's ancestors): a district centre sees
the workers inside its district, whichever grid they are assigned to.

Live events (after commit, for accounts with `command:read` whose scope holds the point):
`command.position` (user_id, display_name, lon, lat, accuracy_m, grid_code, shared_at, on_duty_until)
and `command.position_removed` (user_id) when sharing stops, the duty period ends, or the worker moves
out of the area a screen watches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.auth.models import User
from civicgrid.authz.policy import area_codes_of, require, require_area, restrict
from civicgrid.authz.scope import Level, Principal
from civicgrid.command.models import CommandPosition
from civicgrid.core.broadcast import Audience, Event, publish_after_commit
from civicgrid.core.clock import utcnow
from civicgrid.core.db import AnySelect, Database, dialect_insert
from civicgrid.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from civicgrid.core.scheduler import periodic
from civicgrid.geo.lookup import Located, lookup_point
from civicgrid.geo.models import Division
from civicgrid.geo.service import divisions_by_codes

SHARE_PERMISSION = "position:share"
READ_PERMISSION = "command:read"
MAX_DUTY_MINUTES = 12 * 60
# A position older than this is not shown: the phone stopped sending (no signal, app closed).
FRESH = timedelta(minutes=15)
# A fix coarser than this cannot say which grid the worker is in (IP-based "positions" are kilometres off).
MAX_ACCURACY_M = 2000.0
TOPIC = "command.position"
TOPIC_REMOVED = "command.position_removed"
PURGE_TASK = "command.position_purge"
PURGE_EVERY = timedelta(minutes=1)
# Up to this many rows purged at once get an event each; more get one event telling screens to re-read.
EVENTS_PER_PURGE = 50


@dataclass(frozen=True)
class OnDuty:
    """A worker on duty as the command centre sees them."""

    user_id: int
    display_name: str
    lon: float
    lat: float
    accuracy_m: float | None
    grid_code: str
    grid_name: str | None
    shared_at: datetime
    on_duty_until: datetime
    age_seconds: int


@dataclass(frozen=True)
class OwnStatus:
    """What the worker's own phone shows: whether it is sharing, the last point sent and until when."""

    sharing: bool
    visible: bool
    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    grid_code: str | None = None
    grid_name: str | None = None
    started_at: datetime | None = None
    shared_at: datetime | None = None
    on_duty_until: datetime | None = None


# -- the worker's own position ----------------------------------------------------------------------------


def _person(principal: Principal) -> int:
    if principal.user_id is None:
        raise Forbidden("only a person's own account shares a position; a machine key has none")
    return principal.user_id


def _problems(lon: float, lat: float, accuracy: float | None, duty_minutes: int | None) -> list[dict[str, str]]:
    problems = []
    if not (isinstance(lon, int | float) and math.isfinite(lon) and -180 <= lon <= 180):
        problems.append({"field": "lon", "problem": "a longitude in [-180, 180] (WGS84, longitude first)"})
    if not (isinstance(lat, int | float) and math.isfinite(lat) and -90 <= lat <= 90):
        problems.append({"field": "lat", "problem": "a latitude in [-90, 90] (WGS84; are lon and lat swapped?)"})
    if accuracy is not None and not (math.isfinite(accuracy) and 0 <= accuracy <= MAX_ACCURACY_M):
        problems.append(
            {
                "field": "accuracy_m",
                "problem": f"between 0 and {MAX_ACCURACY_M:.0f} metres; a coarser fix cannot place you in a grid",
            }
        )
    if duty_minutes is not None and not (1 <= duty_minutes <= MAX_DUTY_MINUTES):
        problems.append({"field": "duty_minutes", "problem": f"between 1 and {MAX_DUTY_MINUTES} (12 hours)"})
    return problems


def _locate(session: Session, lon: float, lat: float) -> Located:
    try:
        return lookup_point(session, lon, lat)
    except NotFound as exc:  # a point of the body, not a missing object: 422 with the lookup's reason
        raise InvalidInput(
            f"{exc.message}; a position is shared only inside the city's grids",
            code=exc.code,
            details=[{"field": "lon", "problem": exc.code}, {"field": "lat", "problem": exc.code}],
        ) from exc


def _area(position: CommandPosition) -> dict[Level, str | None]:
    return area_codes_of(position)


def share(
    session: Session,
    principal: Principal,
    lon: float,
    lat: float,
    accuracy: float | None,
    duty_minutes: int | None,
    *,
    now: datetime | None = None,
) -> CommandPosition:
    """Record the caller's current point. `duty_minutes` starts (or restarts) a duty period of that length
    from now; without it the running period goes on, and a period that ended must be started again (409)."""
    user_id = _person(principal)
    require(principal, SHARE_PERMISSION)
    now = now or utcnow()
    problems = _problems(lon, lat, accuracy, duty_minutes)
    if problems:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in problems), details=problems)
    previous = session.get(CommandPosition, user_id, populate_existing=True)
    if duty_minutes is None and (previous is None or previous.on_duty_until <= now):
        raise Conflict(
            "you are not sharing your position (or your duty period ended); "
            "turn sharing on again with a duty length (duty_minutes)",
            code="not_sharing",
            details=[{"field": "duty_minutes", "problem": "required to start sharing"}],
        )
    located = _locate(session, float(lon), float(lat))
    old_area = _area(previous) if previous is not None else None
    codes = {level: code for level, (code, _name) in located.ancestors.items()}
    values: dict[str, Any] = {
        "user_id": user_id,
        "lon": float(lon),
        "lat": float(lat),
        "accuracy_m": None if accuracy is None else float(accuracy),
        "city_code": codes.get(Level.city),
        "district_code": codes.get(Level.district),
        "street_code": codes.get(Level.street),
        "community_code": codes.get(Level.community),
        "grid_code": located.grid_code,
        "shared_at": now,
    }
    updated = dict(values)
    if duty_minutes is not None:
        updated["started_at"] = now
        updated["on_duty_until"] = now + timedelta(minutes=duty_minutes)
    # One upsert: the phone may send twice at once (a timer and the page becoming visible).
    statement = dialect_insert(session, CommandPosition).values(
        **values, started_at=now, on_duty_until=now + timedelta(minutes=duty_minutes or 0)
    )
    updated.pop("user_id")
    session.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=updated))
    position = session.get(CommandPosition, user_id, populate_existing=True)
    assert position is not None
    if old_area is not None and old_area != _area(position):
        publish_after_commit(session, _removed_event(user_id, old_area))
    publish_after_commit(session, _position_event(session, position))
    return position


def stop(session: Session, principal: Principal) -> bool:
    """Stop sharing: the caller's row is deleted (whether it was running or not); True if there was one.

    Needs no permission beyond being signed in: anyone may always withdraw their own position."""
    user_id = _person(principal)
    position = session.get(CommandPosition, user_id)
    if position is None:
        return False
    area = _area(position)
    session.delete(position)
    session.flush()
    publish_after_commit(session, _removed_event(user_id, area))
    return True


def own_status(session: Session, principal: Principal, *, now: datetime | None = None) -> OwnStatus:
    """The caller's sharing as the phone shows it; `visible` says whether the command centre sees it now."""
    user_id = _person(principal)
    now = now or utcnow()
    position = session.get(CommandPosition, user_id)
    if position is None or position.on_duty_until <= now:
        return OwnStatus(sharing=False, visible=False)
    grid = session.get(Division, position.grid_code)
    return OwnStatus(
        sharing=True,
        visible=position.shared_at >= now - FRESH,
        lon=position.lon,
        lat=position.lat,
        accuracy_m=position.accuracy_m,
        grid_code=position.grid_code,
        grid_name=grid.name if grid is not None else None,
        started_at=position.started_at,
        shared_at=position.shared_at,
        on_duty_until=position.on_duty_until,
    )


# -- the command centre's view ----------------------------------------------------------------------------


def area_in_scope(session: Session, principal: Principal, area_code: str | None, permission: str) -> Division:
    """The division asked for (inside the caller's scope; 404 otherwise), or the caller's own."""
    require(principal, permission)
    code = area_code or principal.scope.division_code
    division = session.get(Division, code)
    if division is None:
        raise NotFound(f"there is no area {code}; GET /api/v1/geo/divisions lists them", details={"area": code})
    if area_code is not None:
        require_area(principal, permission, area_codes_of(division))
    return division


def _in_area(query: AnySelect, division: Division | None) -> AnySelect:
    if division is None or division.level == Level.city.value:
        return query
    return query.where(getattr(CommandPosition, f"{division.level}_code") == division.code)


def _on_duty_query(principal: Principal, division: Division | None, now: datetime) -> AnySelect:
    query = (
        select(CommandPosition, User.display_name)
        .join(User, User.id == CommandPosition.user_id)
        .where(
            CommandPosition.on_duty_until > now,
            CommandPosition.shared_at >= now - FRESH,
            User.is_active.is_(True),
        )
    )
    return _in_area(restrict(query, principal, READ_PERMISSION, CommandPosition), division)


def on_duty(
    session: Session, principal: Principal, *, area_code: str | None = None, now: datetime | None = None
) -> list[OnDuty]:
    """The workers on duty sharing their position inside the caller's scope (or `area_code` inside it)."""
    now = now or utcnow()
    division = area_in_scope(session, principal, area_code, READ_PERMISSION) if area_code else None
    rows = session.execute(_on_duty_query(principal, division, now).order_by(CommandPosition.user_id)).all()
    grids = divisions_by_codes(session, {position.grid_code for position, _ in rows})
    return [
        OnDuty(
            user_id=position.user_id,
            display_name=name,
            lon=position.lon,
            lat=position.lat,
            accuracy_m=position.accuracy_m,
            grid_code=position.grid_code,
            grid_name=grids[position.grid_code].name if position.grid_code in grids else None,
            shared_at=position.shared_at,
            on_duty_until=position.on_duty_until,
            age_seconds=max(0, int((now - position.shared_at).total_seconds())),
        )
        for position, name in rows
    ]


def count_on_duty(session: Session, principal: Principal, division: Division, *, now: datetime | None = None) -> int:
    """How many workers on duty share their position inside `division` (within the caller's scope)."""
    now = now or utcnow()
    query = _on_duty_query(principal, division, now)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


# -- events and the purge -----------------------------------------------------------------------------------


def _audience(area: dict[Level, str | None]) -> Audience:
    return Audience.of(areas=[area], permission=READ_PERMISSION)


def _position_event(session: Session, position: CommandPosition) -> Event:
    user = session.get(User, position.user_id)
    payload = {
        "user_id": position.user_id,
        "display_name": user.display_name if user is not None else None,
        "lon": position.lon,
        "lat": position.lat,
        "accuracy_m": position.accuracy_m,
        "grid_code": position.grid_code,
        "shared_at": position.shared_at.isoformat(),
        "on_duty_until": position.on_duty_until.isoformat(),
    }
    return Event(TOPIC, payload, _audience(_area(position)))


def _removed_event(user_id: int, area: dict[Level, str | None]) -> Event:
    return Event(TOPIC_REMOVED, {"user_id": user_id}, _audience(area))


def purge(session: Session, now: datetime | None = None) -> int:
    """Delete every position whose duty period ended; returns how many."""
    now = now or utcnow()
    ended = list(session.scalars(select(CommandPosition).where(CommandPosition.on_duty_until <= now)))
    if not ended:
        return 0
    for position in ended:
        session.delete(position)
    session.flush()
    if len(ended) <= EVENTS_PER_PURGE:
        for position in ended:
            publish_after_commit(session, _removed_event(position.user_id, _area(position)))
    else:
        areas = list({p.grid_code: _area(p) for p in ended}.values())
        payload = {"user_ids": [p.user_id for p in ended][:100], "count": len(ended), "resync": True}
        publish_after_commit(
            session, Event(TOPIC_REMOVED, payload, Audience.of(areas=areas, permission=READ_PERMISSION))
        )
    return len(ended)


@periodic(PURGE_TASK, every=PURGE_EVERY)
def purge_task(database: Database, now: datetime) -> int:
    with database.unit_of_work() as session:
        return purge(session, now)
