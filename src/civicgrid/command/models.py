"""Tables of the command centre (指挥中心): positions shared on duty and analysis reports.

`CommandPosition` holds the one current position of a grid worker who chose to share it while on duty
(DESIGN.md §2: no hidden monitoring of people). It is a row per account, overwritten by each share and
deleted when sharing stops or the duty period ends: no trail of positions is ever kept.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.authz.scope import Level
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Base
from civicgrid.core.types import UTCDateTime


class CommandPosition(Base):
    """Where a worker on duty last said they were, placed in its grid (the area codes are of the point)."""

    __tablename__ = "command_position"
    __table_args__ = (
        CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name="point"),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="accuracy"),
    )
    __scope_columns__: ClassVar[dict[Level, str]] = {
        Level.city: "city_code",
        Level.district: "district_code",
        Level.street: "street_code",
        Level.community: "community_code",
        Level.grid: "grid_code",
    }

    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    city_code: Mapped[str] = mapped_column(String(15), index=True)
    district_code: Mapped[str | None] = mapped_column(String(15), index=True)
    street_code: Mapped[str | None] = mapped_column(String(15), index=True)
    community_code: Mapped[str | None] = mapped_column(String(15), index=True)
    grid_code: Mapped[str] = mapped_column(String(15), index=True)
    # When this duty period's sharing began, the last share, and when the duty period ends.
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    on_duty_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


REPORT_PERIODS = ("week", "month")
REPORT_STATUSES = ("queued", "running", "succeeded", "failed")
REPORT_ORIGINS = ("request", "schedule")


class CommandReport(Base):
    """An analysis report (研判报告) of one area and one week or month: its request, status and files.

    Scoped by the area (its code and its ancestors' codes). `scheduled_key` is set only on reports the
    schedule made and is unique, so the schedule never makes two reports of one area, period type and start.
    """

    __tablename__ = "command_report"
    __table_args__ = (
        CheckConstraint("period_type IN ('week', 'month')", name="period_type"),
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status"),
        CheckConstraint("origin IN ('request', 'schedule')", name="origin"),
        CheckConstraint("level IN ('city', 'district', 'street', 'community')", name="level"),
        Index("ix_command_report_area_period", "area_code", "period_type", "period_start"),
    )
    __scope_columns__: ClassVar[dict[Level, str]] = {
        Level.city: "city_code",
        Level.district: "district_code",
        Level.street: "street_code",
        Level.community: "community_code",
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("geo_division.code", ondelete="RESTRICT"))
    level: Mapped[str] = mapped_column(String(10))
    city_code: Mapped[str] = mapped_column(String(15), index=True)
    district_code: Mapped[str | None] = mapped_column(String(15), index=True)
    street_code: Mapped[str | None] = mapped_column(String(15), index=True)
    community_code: Mapped[str | None] = mapped_column(String(15), index=True)
    period_type: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    # The last local day the report covers: the period's end, or the day it was asked for while it runs.
    data_until: Mapped[date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(10), default="request")  # asked for, or the schedule
    scheduled_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(String(2000))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("core_job.id", ondelete="SET NULL"), index=True)
    pdf_key: Mapped[str | None] = mapped_column(String(300))
    pdf_size: Mapped[int | None] = mapped_column(Integer)
    xlsx_key: Mapped[str | None] = mapped_column(String(300))
    xlsx_size: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    render_seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(500))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
