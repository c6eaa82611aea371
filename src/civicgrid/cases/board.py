"""The supervision board (督办看板): the open cases of the caller's area that are carded, overdue or due
soon, counted per rung and per lead department, in a few grouped queries over `service.visible_cases`.

"Overdue" is what the case list's `overdue` filter means: a case waiting for acceptance (reported,
escalated) past `accept_due`, any other open case past `handle_due`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.cases import service
from civicgrid.cases.models import LEVELS, OPEN_STATUSES, Case
from civicgrid.core.db import AnySelect
from civicgrid.org.models import OrgUnit

WAITING = ("reported", "escalated")
DUE_SOON = timedelta(hours=24)
DUE_SOON_SHOWN = 50


def current_due() -> ColumnElement[Any]:
    """The deadline a case is measured against now."""
    return case((Case.status.in_(WAITING), Case.accept_due), else_=Case.handle_due)


def _overdue(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Case.status.in_(WAITING), Case.accept_due < now),
        and_(Case.status.notin_(WAITING), Case.handle_due < now),
    )


def _due_soon(now: datetime) -> ColumnElement[bool]:
    due = current_due()
    return and_(due >= now, due < now + DUE_SOON)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass
class Tally:
    open: int = 0
    overdue: int = 0
    yellow: int = 0
    red: int = 0


@dataclass
class Board:
    open: int
    overdue: int
    overdue_accept: int
    overdue_handle: int
    yellow: int
    red: int
    due_soon: int
    by_level: dict[str, Tally]
    by_unit: list[tuple[int, str, Tally]]
    due_soon_cases: list[Case]


def open_cases(principal: Principal) -> AnySelect:
    """The open cases the principal may see (case:read: area staff their area, departments theirs)."""
    require(principal, "case:read")
    return service.visible_cases(principal).where(Case.status.in_(OPEN_STATUSES))


def carded_cases(principal: Principal) -> AnySelect:
    """Open cases with a card, to sort (`RED_FIRST`, then `current_due()`) and paginate."""
    return open_cases(principal).where(Case.card.is_not(None))


RED_FIRST = case((Case.card == "red", 0), else_=1)


def board(session: Session, principal: Principal, now: datetime) -> Board:
    scoped = open_cases(principal)
    tallies = (
        func.count(),
        _flag(_overdue(now)),
        _flag(Case.card == "yellow"),
        _flag(Case.card == "red"),
    )
    by_level = {level: Tally() for level in LEVELS}
    for level, opened, overdue, yellow, red in session.execute(
        scoped.with_only_columns(Case.level, *tallies).group_by(Case.level)
    ):
        by_level[level] = Tally(int(opened), int(overdue), int(yellow), int(red))
    totals = session.execute(
        scoped.with_only_columns(
            func.count(),
            _flag(and_(Case.status.in_(WAITING), Case.accept_due < now)),
            _flag(and_(Case.status.notin_(WAITING), Case.handle_due < now)),
            _flag(Case.card == "yellow"),
            _flag(Case.card == "red"),
            _flag(_due_soon(now)),
        )
    ).one()
    units = session.execute(
        scoped.where(Case.lead_unit_id.is_not(None))
        .with_only_columns(Case.lead_unit_id, *tallies)
        .group_by(Case.lead_unit_id)
    ).all()
    unit_names = select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_([row[0] for row in units]))
    names = {int(unit_id): str(name) for unit_id, name in session.execute(unit_names)}
    by_unit = sorted(
        (
            (int(unit_id), names.get(unit_id, str(unit_id)), Tally(int(o), int(d), int(y), int(r)))
            for unit_id, o, d, y, r in units
        ),
        key=lambda row: (-row[2].overdue, -row[2].red, -row[2].open, row[1]),
    )
    soon = list(session.scalars(scoped.where(_due_soon(now)).order_by(current_due(), Case.id).limit(DUE_SOON_SHOWN)))
    opened, overdue_accept, overdue_handle, yellow, red, due_soon = (int(v) for v in totals)
    return Board(
        open=opened,
        overdue=overdue_accept + overdue_handle,
        overdue_accept=overdue_accept,
        overdue_handle=overdue_handle,
        yellow=yellow,
        red=red,
        due_soon=due_soon,
        by_level=by_level,
        by_unit=by_unit,
        due_soon_cases=soon,
    )
