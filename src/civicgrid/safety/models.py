"""Safety tables (平安指数, DESIGN.md §8): incident categories and feed mappings, the incidents of the
police-call and incident feeds, the daily counts every index and warning is computed from, index
configurations and scores, and warnings.

An incident is placed as far down the division tree as its location allows: a point lands in its grid;
a record that gives only an address code (a community, a street) stays at that division. Its ancestor
code columns are filled either way, so scope filters work as for every object of the platform.

`SafetyDailyCount` is the one aggregate: per division (the finest the record was placed in), local day
(Asia/Shanghai) and *kind* — `inc:<class>` for incident classes, `case:<class>` for the platform's cases,
`dispute` for dispute records. Indices, warnings and forecasts for any level and period are sums over it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.authz.scope import Level
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Base
from civicgrid.core.types import UTCDateTime

# Where an incident record comes from: 110 接警, 119 火警, 122 交通事故报警, records = 案事件 system.
FEED_SOURCES = ("110", "119", "122", "records")
TIME_PRECISIONS = ("second", "day", "month")
# What an index can be made of. crime_order: criminal and public-order calls and incidents; fire; traffic
# (accidents); disputes: dispute calls, dispute records and cases of class 01; hazards: cases of classes 02/03.
INDICATORS = ("crime_order", "fire", "traffic", "disputes", "hazards")
INDICATOR_NAMES_ZH = {
    "crime_order": "刑事治安",
    "fire": "火灾",
    "traffic": "交通事故",
    "disputes": "矛盾纠纷",
    "hazards": "安全隐患",
}
PERIOD_TYPES = ("day", "dekad", "week", "month")
BANDS = ("green", "yellow", "orange", "red")
WARNING_KINDS = ("surge", "rule", "hotspot")
WARNING_STATUSES = ("open", "acknowledged", "closed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class _InArea:
    """Ancestor codes of the division an object belongs to (any level), for `authz.restrict`."""

    __scope_columns__: ClassVar[dict[Level, str]] = {
        Level.district: "district_code",
        Level.street: "street_code",
        Level.community: "community_code",
        Level.grid: "grid_code",
    }

    district_code: Mapped[str | None] = mapped_column(String(15), index=True)
    street_code: Mapped[str | None] = mapped_column(String(15), index=True)
    community_code: Mapped[str | None] = mapped_column(String(15), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)


class SafetyCategory(Base):
    """Incident categories, two levels: a class (`01` 刑事案件 …) and its leaves (`0101` 盗窃 …).

    The class says which index indicator its incidents count towards (None: counted, shown, not indexed,
    e.g. 群众求助).
    """

    __tablename__ = "safety_category"
    __table_args__ = (
        CheckConstraint("depth IN (1, 2)", name="depth"),
        CheckConstraint(f"indicator IS NULL OR {_in('indicator', INDICATORS)}", name="indicator"),
    )

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("safety_category.code", ondelete="RESTRICT"), index=True)
    depth: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    indicator: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class SafetyFeedMapping(Base):
    """A saved mapping of one feed format: file column → incident field, the feed's category → category,
    and what to do with a category it does not know (reject the file, report the rows, or use a fallback)."""

    __tablename__ = "safety_feed_mapping"
    __table_args__ = (
        CheckConstraint(_in("source", FEED_SOURCES), name="source"),
        CheckConstraint("unknown_category IN ('reject', 'report', 'fallback')", name="unknown_category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    source: Mapped[str] = mapped_column(String(8))
    columns: Mapped[dict[str, str]] = mapped_column(JSON)
    categories: Mapped[dict[str, str]] = mapped_column(JSON)
    unknown_category: Mapped[str] = mapped_column(String(10), default="report")
    fallback_category: Mapped[str | None] = mapped_column(ForeignKey("safety_category.code", ondelete="RESTRICT"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SafetyIncident(_InArea, Base):
    """One police call or recorded incident. No free text is kept: call summaries name people."""

    __tablename__ = "safety_incident"
    __table_args__ = (
        CheckConstraint(_in("source", FEED_SOURCES), name="source"),
        CheckConstraint(_in("time_precision", TIME_PRECISIONS), name="time_precision"),
        CheckConstraint("deaths >= 0 AND injuries >= 0", name="casualties"),
        Index("ix_safety_incident_source_record", "source", "record_id", unique=True),
        Index("ix_safety_incident_day_category", "day", "category_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(8))
    record_id: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    time_precision: Mapped[str] = mapped_column(String(6), default="second")
    # The local (Asia/Shanghai) day it is counted on; the first of the month for month-precision records.
    day: Mapped[date] = mapped_column(Date)
    category_code: Mapped[str] = mapped_column(ForeignKey("safety_category.code", ondelete="RESTRICT"), index=True)
    raw_category: Mapped[str | None] = mapped_column(String(100))
    # The finest division the record was placed in (a grid for a point).
    division_code: Mapped[str] = mapped_column(ForeignKey("geo_division.code", ondelete="RESTRICT"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    severity: Mapped[str | None] = mapped_column(String(16))
    deaths: Mapped[int] = mapped_column(Integer, default=0)
    injuries: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("core_job.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SafetyDailyCount(Base):
    """Records per division, local day and kind (`inc:01`, `case:02`, `dispute`), with casualties."""

    __tablename__ = "safety_daily_count"

    division_code: Mapped[str] = mapped_column(String(15), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    deaths: Mapped[int] = mapped_column(Integer, default=0)
    injuries: Mapped[int] = mapped_column(Integer, default=0)


class SafetyDirtyDay(Base):
    """A local day whose counts changed since the index was last computed (the incremental recompute)."""

    __tablename__ = "safety_dirty_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SafetyFeedState(Base):
    """How far a feed read from another module (the platform's cases) has been counted: the last id."""

    __tablename__ = "safety_feed_state"

    feed: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SafetyIndexConfig(Base):
    """One version of the index definition; exactly one is active. Scores are kept per configuration."""

    __tablename__ = "safety_index_config"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=False, index=True)
    # The whole definition (indicators and weights, baseline, scoring, bands, escalation), validated by
    # safety.index_config.IndexDefinition.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SafetyScore(Base):
    """The index of one area for one period under one configuration. Its explanation is recomputed on
    demand from the daily counts (the same function), so only the figures that lists need are stored."""

    __tablename__ = "safety_score"
    __table_args__ = (
        CheckConstraint(_in("period_type", PERIOD_TYPES), name="period_type"),
        CheckConstraint(_in("band", BANDS), name="band"),
        # No secondary index: every read names the configuration, type and period (the primary key's
        # prefix), and the daily rebuild writes millions of rows (one more index doubles its cost).
    )

    config_id: Mapped[int] = mapped_column(ForeignKey("safety_index_config.id", ondelete="CASCADE"), primary_key=True)
    period_type: Mapped[str] = mapped_column(String(6), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(15), primary_key=True)
    level: Mapped[str] = mapped_column(String(10))
    score: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(6))
    # Consecutive red periods of this type ending with this one (0 when not red).
    red_streak: Mapped[int] = mapped_column(Integer, default=0)
    # Records counted towards the indexed indicators, and deaths; for lists and rankings.
    events: Mapped[int] = mapped_column(Integer, default=0)
    deaths: Mapped[int] = mapped_column(Integer, default=0)
    # The residents the rates were per (the registry's count when the score was computed; 0: none known).
    population: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SafetyWarning(_InArea, Base):
    """A surge, a rule that fired, or a forecast hotspot, with its evidence and what was done about it."""

    __tablename__ = "safety_warning"
    __table_args__ = (
        CheckConstraint(_in("kind", WARNING_KINDS), name="kind"),
        CheckConstraint(_in("status", WARNING_STATUSES), name="status"),
        Index("ix_safety_warning_key", "kind", "area_code", "subject", "period_start", unique=True),
        Index("ix_safety_warning_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    # What it is about: a count kind (`inc:01`), an indicator, or a rule name (`consecutive_red:month`).
    subject: Mapped[str] = mapped_column(String(40))
    area_code: Mapped[str] = mapped_column(ForeignKey("geo_division.code", ondelete="RESTRICT"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    severity: Mapped[str] = mapped_column(String(10), default="notice")
    title: Mapped[str] = mapped_column(String(200))
    # expected, observed, probability, q-value, record ids, … (whatever the detector measured)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="open")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_case.id", ondelete="SET NULL"), index=True)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SafetyRule(Base):
    """A threshold rule (safety.rules): warn when an area of `level` counts at least `threshold` records of
    `kind` over the last `window_days` days. Kept by safety administrators."""

    __tablename__ = "safety_rule"
    __table_args__ = (
        CheckConstraint("level IN ('city', 'district', 'street', 'community', 'grid')", name="level"),
        CheckConstraint("window_days BETWEEN 1 AND 92", name="window_days"),
        CheckConstraint("threshold >= 1", name="threshold"),
        CheckConstraint("severity IN ('notice', 'serious')", name="severity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    level: Mapped[str] = mapped_column(String(10))
    window_days: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(10), default="notice")
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
