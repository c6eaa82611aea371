"""Tables of the 12345 hotline import: saved mappings, and the tickets already taken in.

A mapping says which column of the hotline's export holds which ticket field, and which case category
each of the hotline's own category names is. There is one hotline per city, so mappings are shared by
everyone who may import its tickets (`case:import`); their names are unique.

Every ticket taken in is remembered with the case it became — or the open case it was merged into as
one more report of the same problem (+1) — so a ticket imported or pushed again changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.core.clock import utcnow
from civicgrid.core.db import Base
from civicgrid.core.types import UTCDateTime


class HotlineMapping(Base):
    __tablename__ = "case_hotline_mapping"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # file column → ticket field (ticket_no, received_at, category, …)
    columns: Mapped[dict[str, str]] = mapped_column(JSON)
    # the hotline's category name → case category code (a leaf, e.g. 0501)
    categories: Mapped[dict[str, str]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HotlineTicket(Base):
    __tablename__ = "case_hotline_ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    # True: merged into an open case of the same problem nearby (+1) instead of opening one.
    merged: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("core_job.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
