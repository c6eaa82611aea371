"""Tables of the command centre (指挥中心).

`CommandPosition` holds the one current position of a grid worker who chose to share it while on duty
(DESIGN.md §2: no hidden monitoring of people). It is a row per account, overwritten by each share and
deleted when sharing stops or the duty period ends: no trail of positions is ever kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, Float, ForeignKey, String
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
