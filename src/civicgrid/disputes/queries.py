"""Reading disputes: the filtered list and the one-stop acceptance desk (一站式受理), both scoped on the
dispute's own area codes (the case's, copied when the dispute was recorded)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import restrict
from civicgrid.authz.scope import Principal
from civicgrid.cases.models import Case
from civicgrid.core.db import AnySelect
from civicgrid.disputes.access import require_read
from civicgrid.disputes.categories import category_names
from civicgrid.disputes.models import OPEN_OUTCOMES, Dispute
from civicgrid.disputes.schemas import Count, DeskOut, DisputeOut
from civicgrid.disputes.views import dispute_out
from civicgrid.registry.people import today

# A case waiting for someone to accept it: newly reported, or escalated to a rung that has not yet.
UNACCEPTED = ("reported", "escalated")
DUE_SOON_DAYS = 7
DESK_LIST_LIMIT = 20


@dataclass(frozen=True)
class DisputeFilter:
    dispute_category: str | None = None
    scale: str | None = None
    outcome: str | None = None
    case_status: str | None = None
    area_code: str | None = None
    overdue: bool | None = None
    open_only: bool = False
    text: str | None = None


def _area(query: AnySelect, area_code: str | None) -> AnySelect:
    if not area_code:
        return query
    return query.where(
        or_(
            Dispute.district_code == area_code,
            Dispute.street_code == area_code,
            Dispute.community_code == area_code,
            Dispute.grid_code == area_code,
        )
    )


def scoped(session: Session, principal: Principal, query: AnySelect, area_code: str | None = None) -> AnySelect:
    """`query` (over Dispute joined with its Case) limited to the caller's scope and `area_code`."""
    require_read(session, principal)
    return _area(restrict(query, principal, "dispute:read", Dispute), area_code)


def _rows() -> AnySelect:
    return select(Dispute, Case.code, Case.title, Case.status, Case.reported_at).join(Case, Case.id == Dispute.case_id)


def query_disputes(session: Session, principal: Principal, filters: DisputeFilter) -> AnySelect:
    query = scoped(session, principal, _rows(), filters.area_code)
    for column, value in (
        (Dispute.dispute_category, filters.dispute_category),
        (Dispute.scale, filters.scale),
        (Dispute.outcome, filters.outcome),
        (Case.status, filters.case_status),
    ):
        if value is not None:
            query = query.where(column == value)
    on = today()
    if filters.open_only:
        query = query.where(Dispute.outcome.in_(OPEN_OUTCOMES))
    if filters.overdue is True:
        query = query.where(Dispute.outcome.in_(OPEN_OUTCOMES), Dispute.resolution_deadline < on)
    elif filters.overdue is False:
        query = query.where(or_(Dispute.outcome.notin_(OPEN_OUTCOMES), Dispute.resolution_deadline >= on))
    if filters.text:
        escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(Case.code == filters.text, Case.title.like(f"%{escaped}%", escape="\\")))
    return query


def outs(session: Session, rows: list[Any]) -> list[DisputeOut]:
    names = category_names(session)
    on = today()
    return [dispute_out(d, code, title, status, at, names, on) for d, code, title, status, at in rows]


def _counts(session: Session, principal: Principal, column: Any, area_code: str | None) -> list[tuple[str, int]]:
    query = select(column, func.count()).select_from(Dispute).join(Case, Case.id == Dispute.case_id).group_by(column)
    rows = session.execute(scoped(session, principal, query, area_code)).all()
    return sorted(((str(key), int(n)) for key, n in rows), key=lambda pair: (-pair[1], pair[0]))


def desk(session: Session, principal: Principal, area_code: str | None = None) -> DeskOut:
    """Counts per case status, outcome and dispute category; the open disputes due within 7 days, the
    overdue ones, and the newest awaiting acceptance."""
    on = today()
    names = category_names(session)
    by_status = _counts(session, principal, Case.status, area_code)
    by_outcome = _counts(session, principal, Dispute.outcome, area_code)
    by_category = _counts(session, principal, Dispute.dispute_category, area_code)
    still_open = Dispute.outcome.in_(OPEN_OUTCOMES)
    soon = Dispute.resolution_deadline.between(on, on + timedelta(days=DUE_SOON_DAYS))
    late = Dispute.resolution_deadline < on

    def listed(*where: Any, order: Any) -> list[DisputeOut]:
        query = scoped(session, principal, _rows(), area_code).where(*where).order_by(*order)
        return outs(session, list(session.execute(query.limit(DESK_LIST_LIMIT)).all()))

    def counted(*where: Any) -> int:
        query = select(func.count()).select_from(Dispute).where(*where)
        return int(session.scalar(scoped(session, principal, query, area_code)) or 0)

    return DeskOut(
        total=sum(n for _, n in by_outcome),
        open=sum(n for key, n in by_outcome if key in OPEN_OUTCOMES),
        overdue_count=counted(still_open, late),
        due_soon_count=counted(still_open, soon),
        by_status=[Count(key=k, count=n) for k, n in by_status],
        by_outcome=[Count(key=k, count=n) for k, n in by_outcome],
        by_category=[Count(key=k, name=names.get(k, (k, ""))[0], count=n) for k, n in by_category],
        due_soon=listed(still_open, soon, order=(Dispute.resolution_deadline, Dispute.id)),
        overdue=listed(still_open, late, order=(Dispute.resolution_deadline, Dispute.id)),
        unaccepted=listed(Case.status.in_(UNACCEPTED), order=(Case.reported_at.desc(), Dispute.id.desc())),
    )
