"""Sending and reading notifications, and the tickets that open the live stream.

Other modules call `notify` inside their own unit of work (a case assigned, a card raised, a case
returned, a reply): the rows are written in that transaction and a `notification` event reaches the
recipients' open screens only once it committed. Everyone reads and marks only their own notifications;
ids of other people's notifications are ignored (never an error, so their existence does not show).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from civicgrid.audit import service as audit
from civicgrid.auth.models import User
from civicgrid.auth.secrets import new_opaque_secret, sha256_hex
from civicgrid.auth.service import load_principal
from civicgrid.authz.scope import Principal
from civicgrid.core.broadcast import Audience, Event, publish_after_commit
from civicgrid.core.clock import as_utc, utcnow
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import Forbidden, InvalidInput, Unauthenticated
from civicgrid.notifications.models import KINDS, Notification, StreamTicket

TOPIC = "notification"  # a new notification (payload: kind, title, object_type, object_id)
TOPIC_READ = "notification.read"  # some were marked read, perhaps in another tab (payload: unread)
TICKET_SECONDS = 60
MAX_TITLE, MAX_BODY = 200, 2000


def _owner(principal: Principal) -> int:
    if principal.user_id is None:
        raise Forbidden("notifications belong to people's accounts; an API key has none")
    return principal.user_id


def notify(
    session: Session,
    user_ids: Iterable[int],
    kind: str,
    title: str,
    body: str | None = None,
    object_type: str | None = None,
    object_id: int | str | None = None,
    *,
    actor: Principal | None = None,
) -> list[Notification]:
    """Add one notification per account and tell their open screens after commit.

    `title` is short, Chinese first (e.g. "案件已指派：CG20260301-0012"); `actor` is who caused it (for
    the audit trail; None for the system, e.g. the SLA timer). Unknown accounts are refused (422);
    repeated ids get one notification.
    """
    recipients = sorted(set(user_ids))
    problems = []
    if kind not in KINDS:
        problems.append({"field": "kind", "problem": f"must be one of {', '.join(KINDS)}"})
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        problems.append({"field": "title", "problem": f"must have 1 to {MAX_TITLE} characters"})
    if body is not None and len(body) > MAX_BODY:
        problems.append({"field": "body", "problem": f"must have at most {MAX_BODY} characters"})
    if object_id is not None and (object_type is None or len(str(object_id)) > 64):
        problems.append({"field": "object_id", "problem": "needs an object_type and at most 64 characters"})
    if problems:
        raise InvalidInput(
            "the notification is not valid: " + "; ".join(f"{p['field']} {p['problem']}" for p in problems),
            details=problems,
        )
    if not recipients:
        return []
    known = set(session.scalars(select(User.id).where(User.id.in_(recipients))))
    unknown = [u for u in recipients if u not in known]
    if unknown:
        raise InvalidInput(
            f"cannot notify unknown accounts {unknown}", details=[{"field": "user_ids", "problem": "unknown"}]
        )
    now = utcnow()
    target = None if object_id is None else str(object_id)
    rows = [
        Notification(
            user_id=user_id,
            kind=kind,
            title=title,
            body=body,
            object_type=object_type,
            object_id=target,
            created_at=now,
        )
        for user_id in recipients
    ]
    session.add_all(rows)
    session.flush()
    audit.record(
        session,
        actor,
        "notification.send",
        object_type or "notification",
        target,
        details={"kind": kind, "recipients": len(recipients)},
        actor_name=None if actor else "system",
    )
    payload = {"kind": kind, "title": title, "object_type": object_type, "object_id": target}
    publish_after_commit(session, Event(TOPIC, payload, Audience.of(users=recipients)))
    return rows


def list_notifications(principal: Principal, unread_only: bool = False) -> AnySelect:
    """The caller's notifications (sort and paginate the query)."""
    query = select(Notification).where(Notification.user_id == _owner(principal))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def unread_count(session: Session, principal: Principal) -> int:
    owner = _owner(principal)
    query = select(func.count()).where(Notification.user_id == owner, Notification.read_at.is_(None))
    return session.scalar(query) or 0


def mark_read(session: Session, principal: Principal, ids: Iterable[int]) -> int:
    """Mark the caller's notifications among `ids` read; how many changed (others' ids are ignored)."""
    wanted = sorted(set(ids))
    if not wanted:
        return 0
    return _mark(session, principal, Notification.id.in_(wanted))


def mark_all_read(session: Session, principal: Principal) -> int:
    return _mark(session, principal, None)


def _mark(session: Session, principal: Principal, which: ColumnElement[bool] | None) -> int:
    owner = _owner(principal)
    statement = update(Notification).where(Notification.user_id == owner, Notification.read_at.is_(None))
    if which is not None:
        statement = statement.where(which)
    marked: int = session.execute(statement.values(read_at=utcnow())).rowcount  # type: ignore[attr-defined]
    if marked:
        audit.record(session, principal, "notification.read", "notification", None, details={"count": marked})
        event = Event(TOPIC_READ, {"unread": unread_count(session, principal)}, Audience.of(users=[owner]))
        publish_after_commit(session, event)
    return marked


# -- stream tickets ----------------------------------------------------------------------------------------


def issue_ticket(session: Session, principal: Principal) -> tuple[str, datetime]:
    """A one-time ticket for the caller's live stream, valid for 60 seconds (only its hash is stored).

    Tickets are session bookkeeping like refreshed tokens: not audited. Expired ones are swept here.
    """
    owner = _owner(principal)
    now = utcnow()
    session.execute(delete(StreamTicket).where(StreamTicket.expires_at < now - timedelta(hours=1)))
    ticket = new_opaque_secret()
    expires = now + timedelta(seconds=TICKET_SECONDS)
    session.add(StreamTicket(token_hash=sha256_hex(ticket), user_id=owner, expires_at=expires))
    session.flush()
    return ticket, expires


class TicketRejected(Unauthenticated):
    code = "invalid_ticket"


def redeem_ticket(session: Session, ticket: str) -> Principal:
    """Spend a ticket: the principal of its account; 401 when unknown, used, expired or the account disabled."""
    stored = session.scalar(select(StreamTicket).where(StreamTicket.token_hash == sha256_hex(ticket)))
    again = "ask for a new one with POST /api/v1/stream/ticket"
    if stored is None:
        raise TicketRejected(f"unknown stream ticket; {again}")
    if stored.used_at is not None:
        raise TicketRejected(f"this stream ticket was already used (each opens one stream); {again}")
    if as_utc(stored.expires_at) <= utcnow():
        raise TicketRejected(f"this stream ticket expired (tickets last {TICKET_SECONDS} seconds); {again}")
    spent = session.execute(
        update(StreamTicket)
        .where(StreamTicket.id == stored.id, StreamTicket.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise TicketRejected(f"this stream ticket was already used (each opens one stream); {again}")
    principal = load_principal(session, stored.user_id)
    if principal is None:
        raise TicketRejected("the account is disabled; log in again")
    return principal
