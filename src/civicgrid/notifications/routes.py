"""HTTP routes of your notifications (everyone sees and marks only their own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from civicgrid.auth.deps import PrincipalDep
from civicgrid.core.pagination import ListParams, Page, apply_sort, list_params, paginate
from civicgrid.core.web import SessionDep
from civicgrid.notifications import service
from civicgrid.notifications.models import Notification
from civicgrid.notifications.schemas import MarkReadIn, MarkReadOut, NotificationOut, UnreadCountOut

router = APIRouter(prefix="/notifications", tags=["notifications"])
SORTS = {"created_at": Notification.created_at, "id": Notification.id}


@router.get("", operation_id="notifications_list", response_model=Page[NotificationOut])
def list_notifications(
    session: SessionDep,
    principal: PrincipalDep,
    params: Annotated[ListParams, Depends(list_params)],
    unread_only: Annotated[bool, Query(description="only notifications you have not read")] = False,
) -> Page[NotificationOut]:
    """Your notifications, newest first."""
    query = apply_sort(
        service.list_notifications(principal, unread_only),
        params.sort,
        SORTS,
        [Notification.created_at.desc(), Notification.id.desc()],
    )
    rows, total = paginate(session, query, params)
    return Page[NotificationOut].of([NotificationOut.model_validate(n) for n in rows], total, params)


@router.get("/unread-count", operation_id="notifications_unread_count", response_model=UnreadCountOut)
def unread_count(session: SessionDep, principal: PrincipalDep) -> UnreadCountOut:
    """How many of your notifications are unread (the bell's badge)."""
    return UnreadCountOut(unread=service.unread_count(session, principal))


@router.post("/read", operation_id="notifications_mark_read", response_model=MarkReadOut)
def mark_read(body: MarkReadIn, session: SessionDep, principal: PrincipalDep) -> MarkReadOut:
    """Mark notifications read; ids that are not yours (or do not exist) are ignored, so `marked` may be
    smaller than the list."""
    marked = service.mark_read(session, principal, body.ids)
    return MarkReadOut(marked=marked, unread=service.unread_count(session, principal))


@router.post("/read-all", operation_id="notifications_mark_all_read", response_model=MarkReadOut)
def mark_all_read(session: SessionDep, principal: PrincipalDep) -> MarkReadOut:
    """Mark every notification of yours read."""
    marked = service.mark_all_read(session, principal)
    return MarkReadOut(marked=marked, unread=0)
