"""How many warnings are still open in an area, for the command centre's key figures.

Kept apart from the warning workflow (safety/warnings.py) so the command centre depends on one small read.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.authz.policy import restrict
from civicgrid.authz.scope import Principal
from civicgrid.safety.models import SafetyWarning

OPEN_STATUSES = ("open", "acknowledged")


def open_count(session: Session, principal: Principal, area: tuple[str, str] | None = None) -> int:
    """Warnings open or acknowledged (not yet closed) inside the caller's scope and, when given, about
    `area` ((level, code)) or a place inside it. A warning about a larger area than `area` is not counted."""
    query = select(func.count()).select_from(SafetyWarning).where(SafetyWarning.status.in_(OPEN_STATUSES))
    query = restrict(query, principal, "safety:read", SafetyWarning)
    if area is not None and area[0] != "city":
        query = query.where(getattr(SafetyWarning, f"{area[0]}_code") == area[1])
    return int(session.scalar(query) or 0)
