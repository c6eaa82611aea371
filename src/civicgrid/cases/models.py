"""Case tables (事件, DESIGN.md §6–7): the case, its timeline, department assignments, attachments,
followers, supervision cards, extension requests, the category code table and SLA rules.

A case lives in a grid (`InGrid`), so `authz.restrict` scopes it like any registry object; `level` is
the rung of the ladder 网格 → 社区 → 街道 → 区县 → 市 that currently holds it. The reporter's phone is
stored only encrypted with a blind index, like every identifier in the registry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import register_encrypted
from civicgrid.core.db import Base
from civicgrid.core.types import UTCDateTime
from civicgrid.geo.area import InGrid

PRIORITIES = ("urgent", "high", "normal", "low")
SOURCES = (
    "grid_worker",
    "resident",
    "hotline_12345",
    "open311",
    "iot",
    "video",
    "volunteer",
    "sos",
    "department",
    "centre",
)
STATUSES = (
    "reported",
    "accepted",
    "rejected",
    "escalated",
    "dispatched",
    "in_progress",
    "handled",
    "verifying",
    "returned",
    "closed",
)
OPEN_STATUSES = tuple(s for s in STATUSES if s not in ("rejected", "closed"))
LEVELS = ("grid", "community", "street", "district", "city")
CARD_COLOURS = ("yellow", "red")
PHONE_CONTEXT = "case.reporter_phone"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CaseCategory(Base):
    """The two-level category code table: `01` 矛盾纠纷 … and `0101` under it; configurable data."""

    __tablename__ = "case_category"
    __table_args__ = (
        CheckConstraint(_in("default_priority", PRIORITIES), name="priority"),
        CheckConstraint("depth IN (1, 2)", name="depth"),
    )

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("case_category.code", ondelete="RESTRICT"), index=True)
    depth: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    default_priority: Mapped[str] = mapped_column(String(8), default="normal")
    # The kind of department that usually handles it (org_unit.department_type), if any.
    department_type: Mapped[str | None] = mapped_column(String(40))
    # Working-day limits; None falls back to the SLA rules (and those to the defaults).
    accept_days: Mapped[float | None] = mapped_column(Float)
    handle_days: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class SlaRule(Base):
    """Acceptance and handling limits (working days) for a category and/or priority and/or unit.

    The most specific matching rule wins (unit, then category, then priority); red limits default to
    twice the yellow ones, after the common practice (yellow 1/5, red 2/10).
    """

    __tablename__ = "case_sla_rule"
    __table_args__ = (CheckConstraint(f"priority IS NULL OR {_in('priority', PRIORITIES)}", name="priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("case_category.code", ondelete="CASCADE"), index=True)
    priority: Mapped[str | None] = mapped_column(String(8))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    accept_days: Mapped[float] = mapped_column(Float)
    handle_days: Mapped[float] = mapped_column(Float)
    red_accept_days: Mapped[float | None] = mapped_column(Float)
    red_handle_days: Mapped[float | None] = mapped_column(Float)


class Case(InGrid, Base):
    __tablename__ = "case_case"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint(_in("level", LEVELS), name="level"),
        CheckConstraint(f"closure_level IS NULL OR {_in('closure_level', LEVELS)}", name="closure_level"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction"),
        Index("ix_case_case_source_external", "source", "external_id", unique=True),
        Index("ix_case_case_status_reported", "status", "reported_at"),
        Index("ix_case_case_category_reported", "category_code", "reported_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_code: Mapped[str] = mapped_column(ForeignKey("case_category.code", ondelete="RESTRICT"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12), index=True)
    level: Mapped[str] = mapped_column(String(10), index=True)
    # The highest rung the case reached; at closure it becomes the closure level (网格自结 = grid).
    max_level: Mapped[str] = mapped_column(String(10))
    closure_level: Mapped[str | None] = mapped_column(String(10))
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="SET NULL"), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"), index=True)
    reporter_name: Mapped[str | None] = mapped_column(String(60))
    reporter_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    reporter_phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    anonymous: Mapped[bool] = mapped_column(default=False)
    # SHA-256 of the tracking token handed to a resident or an Open311 client (the token itself is not kept).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A ticket number from 12345 or another system; unique per source so re-imports are idempotent.
    external_id: Mapped[str | None] = mapped_column(String(64))
    # The device's own id for an offline report, so a replayed report creates one case.
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id", ondelete="SET NULL"), index=True)
    followers: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    accept_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accept_red_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handle_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    handle_red_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worst supervision card the current cycle carries: None, 'yellow' or 'red'.
    card: Mapped[str | None] = mapped_column(String(8), index=True)
    # Incremented by reopening, so cards and deadlines of a new cycle do not collide with the old.
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    evaluation: Mapped[str | None] = mapped_column(String(500))
    # Optimistic concurrency: a client that acted on version N is told when the case moved on.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CaseAction(Base):
    """One entry of a case's timeline: who did what, from which state to which, with a note."""

    __tablename__ = "case_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    from_level: Mapped[str | None] = mapped_column(String(10))
    to_level: Mapped[str] = mapped_column(String(10))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The device's key for an offline action: a replay returns the first result and changes nothing.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseAssignment(Base):
    """A department working on a dispatched case: one lead (主办) and any co-handlers (协办)."""

    __tablename__ = "case_assignment"
    __table_args__ = (
        CheckConstraint("role IN ('lead', 'co')", name="role"),
        CheckConstraint("status IN ('pending', 'signed', 'reported', 'withdrawn')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    report: Mapped[str | None] = mapped_column(Text)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseAttachment(Base):
    """A photo: stored stripped of EXIF, with a thumbnail; bound to a case (and an action) once used."""

    __tablename__ = "case_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("case_action.id", ondelete="SET NULL"))
    storage_key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    # Anonymous residents upload with the same one-time token hash they will report with.
    upload_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseFollower(Base):
    """'Same problem, +1': a later reporter who follows an open case instead of opening another."""

    __tablename__ = "case_follower"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseCard(Base):
    """A supervision card (督办): yellow at the limit, red past it, or raised by hand by a centre.

    Unique per case, cycle, stage and colour, so several SLA scanners running at once raise each card once.
    """

    __tablename__ = "case_card"
    __table_args__ = (
        CheckConstraint(_in("colour", CARD_COLOURS), name="colour"),
        CheckConstraint("stage IN ('accept', 'handle', 'manual')", name="stage"),
        Index("ix_case_card_once", "case_id", "cycle", "stage", "colour", "serial", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(8))
    colour: Mapped[str] = mapped_column(String(8))
    # 0 for automatic cards; manual cards count up so a centre may supervise more than once.
    serial: Mapped[int] = mapped_column(Integer, default=0)
    raised_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class CaseExtension(Base):
    """A handler's request for more time, decided by the level above."""

    __tablename__ = "case_extension"
    __table_args__ = (CheckConstraint("status IN ('pending', 'granted', 'refused')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="CASCADE"), index=True)
    days: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(8), default="pending")
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


register_encrypted(Case, "reporter_phone_enc", PHONE_CONTEXT)
