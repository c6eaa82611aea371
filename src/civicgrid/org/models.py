"""Organisation units and who staffs which grid."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.authz.scope import Level
from civicgrid.core.db import Base

UNIT_KINDS = ("center", "department", "committee")


class OrgUnit(Base):
    """A 综治中心 of some level, a department, or a residents'/villagers' committee."""

    __tablename__ = "org_unit"
    __table_args__ = (CheckConstraint("kind IN ('center','department','committee')", name="kind"),)
    __scope_columns__: ClassVar[dict[Level, str]] = {
        Level.city: "city_code",
        Level.district: "district_code",
        Level.street: "street_code",
        Level.community: "community_code",
    }

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(12), index=True)
    # For departments: the kind of department (police, urban_management, housing, …).
    department_type: Mapped[str | None] = mapped_column(String(40), index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("geo_division.code", ondelete="RESTRICT"), index=True)
    city_code: Mapped[str] = mapped_column(String(15))
    district_code: Mapped[str | None] = mapped_column(String(15), index=True)
    street_code: Mapped[str | None] = mapped_column(String(15), index=True)
    community_code: Mapped[str | None] = mapped_column(String(15), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))


class GridAssignment(Base):
    """一格一员: the grid worker of a grid, and the grid leader (网格长) of a community."""

    __tablename__ = "org_grid_assignment"
    __table_args__ = (
        UniqueConstraint("division_code", "duty", name="uq_org_grid_assignment_division_duty"),
        CheckConstraint("duty IN ('grid_worker','grid_leader')", name="duty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("geo_division.code", ondelete="CASCADE"), index=True)
    duty: Mapped[str] = mapped_column(String(12))
    user_id: Mapped[int] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
