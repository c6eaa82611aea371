"""Divisions of the city, from the city itself down to grids (网格), in one tree.

Each row carries the codes of its ancestors at every level, itself included (a street row has
`street_code` equal to its own code), so that scope filters are one indexed equality.
Boundaries are stored as WKB with their bounding box; the point index is built in memory.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.authz.scope import Level
from civicgrid.core.db import Base

LEVELS = ("city", "district", "street", "community", "grid")


class Division(Base):
    __tablename__ = "geo_division"
    __table_args__ = (CheckConstraint("level IN ('city','district','street','community','grid')", name="level"),)
    __scope_columns__: ClassVar[dict[Level, str]] = {
        Level.city: "city_code",
        Level.district: "district_code",
        Level.street: "street_code",
        Level.community: "community_code",
        Level.grid: "grid_code",
    }

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    level: Mapped[str] = mapped_column(String(10), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("geo_division.code", ondelete="RESTRICT"), index=True)
    city_code: Mapped[str] = mapped_column(String(15), index=True)
    district_code: Mapped[str | None] = mapped_column(String(15), index=True)
    street_code: Mapped[str | None] = mapped_column(String(15), index=True)
    community_code: Mapped[str | None] = mapped_column(String(15), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    # Residents' committee (urban) or villagers' committee (rural), for communities and their grids.
    is_urban: Mapped[bool | None] = mapped_column(default=None)
    geometry: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    centroid_lon: Mapped[float | None] = mapped_column(Float)
    centroid_lat: Mapped[float | None] = mapped_column(Float)
    area_km2: Mapped[float | None] = mapped_column(Float)
    households: Mapped[int] = mapped_column(Integer, default=0)
    population: Mapped[int] = mapped_column(Integer, default=0)


class GeoRevision(Base):
    """One row whose token changes whenever divisions or boundaries change.

    Every process keeps its point index and simplified boundaries in memory; it compares this token
    (one primary-key read) before using them, so an import in one worker invalidates the caches of all.
    """

    __tablename__ = "geo_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
