"""A person's notifications and the one-time tickets that open their live stream."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.core.clock import utcnow
from civicgrid.core.db import Base
from civicgrid.core.types import UTCDateTime

KINDS = ("assignment", "card", "return", "reply", "warning", "system")


class Notification(Base):
    """One message to one account: a case assigned, a yellow or red card, a case returned, a reply, …"""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint("kind IN ('assignment','card','return','reply','warning','system')", name="kind"),
        Index("ix_notification_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(String(2000))
    object_type: Mapped[str | None] = mapped_column(String(40))  # what it is about, e.g. case
    object_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StreamTicket(Base):
    """A one-time, short-lived ticket for GET /stream (EventSource cannot send an Authorization header).

    Only the ticket's hash is stored; redeeming it is one conditional UPDATE, so it opens one stream
    even when several API workers receive it at once.
    """

    __tablename__ = "notification_stream_ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
