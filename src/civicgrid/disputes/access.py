"""Who may read disputes, and fetching one in scope (shared by the service, the views and the queries)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import get_in_scope, require
from civicgrid.authz.scope import Principal
from civicgrid.cases.models import Case
from civicgrid.config import get_settings
from civicgrid.core.errors import Forbidden, NotFound
from civicgrid.disputes.models import Dispute, DisputeParty
from civicgrid.org import service as org

JUSTICE = "justice"


def local_date(moment: datetime) -> date:
    return moment.astimezone(get_settings().tz).date()


def require_read(session: Session, principal: Principal) -> None:
    """`dispute:read`; of department staff, only the justice department's."""
    require(principal, "dispute:read")
    department_id = principal.scope.department_id
    if department_id is None:
        return
    try:
        unit = org.get_unit(session, principal, department_id)
    except NotFound:
        unit = None
    if unit is None or unit.department_type != JUSTICE:
        raise Forbidden(
            "of the departments, only justice (司法) reads disputes", details={"permission": "dispute:read"}
        )


def get_dispute(session: Session, principal: Principal, dispute_id: int, *, write: bool = False) -> Dispute:
    if write:
        return get_in_scope(session, Dispute, dispute_id, principal, "dispute:write")
    require_read(session, principal)
    return get_in_scope(session, Dispute, dispute_id, principal, "dispute:read")


def case_of(session: Session, dispute: Dispute) -> Case:
    case = session.get(Case, dispute.case_id)
    assert case is not None  # the foreign key holds it
    return case


def party_count(session: Session, dispute_id: int) -> int:
    return session.scalar(select(func.count()).where(DisputeParty.dispute_id == dispute_id)) or 0
