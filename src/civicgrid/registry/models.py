"""Registry tables after the data items of GB/T 31000-2015 (DESIGN.md §6, REFERENCE.md §1).

Identifiers that single a person out (ID numbers, phone numbers, foreign document numbers) are stored
only encrypted (`*_enc`, AES-GCM with the key id inside) beside an HMAC blind index (`*_index`) that
answers exact lookups without decrypting. Names stay searchable and are masked in responses.
Coded fields hold codes of the code tables (`registry_code`), validated on every write.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.authz.scope import Level
from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import register_encrypted
from civicgrid.core.db import Base
from civicgrid.core.types import UTCDateTime
from civicgrid.geo.area import InGrid

PERSON_TYPES = ("registered", "floating", "foreign")
PERSON_STATUSES = ("active", "moved_away", "deceased")
REVIEW_STATUSES = ("pending", "approved")
CARE_GROUPS = (
    "released_prisoner",
    "community_correction",
    "mental_disorder",
    "drug_user",
    "hiv_aids",
    "key_youth",
)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CodeEntry(Base):
    """One entry of a code table (sex, ethnicity, education, house use, …): data, editable by admins."""

    __tablename__ = "registry_code"

    table: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class House(InGrid, Timestamps, Base):
    """房屋: an addressable dwelling or premises, down to the room."""

    __tablename__ = "registry_house"

    id: Mapped[int] = mapped_column(primary_key=True)
    street_address: Mapped[str] = mapped_column(String(120), index=True)  # road and number: 幸福路12号
    building: Mapped[str | None] = mapped_column(String(40))  # 3栋
    unit: Mapped[str | None] = mapped_column(String(20))  # 2单元
    room: Mapped[str | None] = mapped_column(String(20))  # 401
    address: Mapped[str] = mapped_column(String(250), index=True)  # the full address, for search
    use: Mapped[str] = mapped_column(String(20), index=True)  # code table house_use
    owner_name: Mapped[str | None] = mapped_column(String(100))
    owner_id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    owner_id_number_index: Mapped[str | None] = mapped_column(String(32), index=True)
    area_m2: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)


class Household(InGrid, Timestamps, Base):
    """户: the people registered together under one household number."""

    __tablename__ = "registry_household"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_no: Mapped[str] = mapped_column(String(30), unique=True)
    house_id: Mapped[int | None] = mapped_column(ForeignKey("registry_house.id", ondelete="SET NULL"), index=True)
    head_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("registry_person.id", ondelete="SET NULL", use_alter=True), index=True
    )


class Person(InGrid, Timestamps, Base):
    """实有人口: registered (户籍), floating (流动) and foreign (境外) residents."""

    __tablename__ = "registry_person"
    __table_args__ = (
        # Name search is by prefix (LIKE '张%'); on PostgreSQL only a pattern-ops index serves it.
        Index("ix_registry_person_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
        Index("ix_registry_person_grid_status", "grid_code", "status"),
        CheckConstraint("person_type IN ('registered','floating','foreign')", name="person_type"),
        CheckConstraint("status IN ('active','moved_away','deceased')", name="status"),
        CheckConstraint("review_status IN ('pending','approved')", name="review_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Type, status and review status have a handful of values each: no index of their own (a planner
    # without statistics would pick one over the grid's), but paired with the grid where lists filter.
    person_type: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    former_name: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(2))  # code table sex
    birth_date: Mapped[date] = mapped_column(Date, index=True)
    ethnicity: Mapped[str | None] = mapped_column(String(4))
    native_place: Mapped[str | None] = mapped_column(String(6))  # region code
    marital_status: Mapped[str | None] = mapped_column(String(4))
    political_status: Mapped[str | None] = mapped_column(String(4))
    education: Mapped[str | None] = mapped_column(String(4))
    religion: Mapped[str | None] = mapped_column(String(4))
    occupation: Mapped[str | None] = mapped_column(String(60))
    employer: Mapped[str | None] = mapped_column(String(100))
    hukou_address: Mapped[str | None] = mapped_column(String(250))
    current_address: Mapped[str | None] = mapped_column(String(250))
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_index: Mapped[str | None] = mapped_column(String(32), unique=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str | None] = mapped_column(String(32), index=True)
    house_id: Mapped[int | None] = mapped_column(ForeignKey("registry_house.id", ondelete="SET NULL"), index=True)
    household_id: Mapped[int | None] = mapped_column(
        ForeignKey("registry_household.id", ondelete="SET NULL"), index=True
    )
    # Registered population (户籍人口)
    relation_to_head: Mapped[str | None] = mapped_column(String(4))  # code table relation
    hukou_consistent: Mapped[bool | None] = mapped_column()  # 人户一致
    # Floating population (流动人口)
    move_in_reason: Mapped[str | None] = mapped_column(String(4))
    permit_type: Mapped[str | None] = mapped_column(String(4))
    permit_no: Mapped[str | None] = mapped_column(String(40))
    permit_expiry: Mapped[date | None] = mapped_column(Date)
    residence_type: Mapped[str | None] = mapped_column(String(4))
    # Foreigners (境外人员)
    foreign_surname: Mapped[str | None] = mapped_column(String(80))
    foreign_given_name: Mapped[str | None] = mapped_column(String(80))
    nationality: Mapped[str | None] = mapped_column(String(3))  # ISO 3166-1 alpha-3
    document_type: Mapped[str | None] = mapped_column(String(4))
    document_no_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    document_no_index: Mapped[str | None] = mapped_column(String(32), index=True)
    document_expiry: Mapped[date | None] = mapped_column(Date)
    # Lifecycle
    status: Mapped[str] = mapped_column(String(12), default="active")
    status_changed_on: Mapped[date | None] = mapped_column(Date)
    review_status: Mapped[str] = mapped_column(String(10), default="approved")
    key_attention: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))


class Residence(Base):
    """Where someone lived when: one row per stay in a house (to_date open for the current one)."""

    __tablename__ = "registry_residence"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("registry_person.id", ondelete="CASCADE"), index=True)
    house_id: Mapped[int | None] = mapped_column(ForeignKey("registry_house.id", ondelete="SET NULL"), index=True)
    grid_code: Mapped[str] = mapped_column(String(15))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(100))


class Tenancy(Base):
    """A tenant of a rented house (出租房屋), with move-in and move-out."""

    __tablename__ = "registry_tenancy"

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("registry_house.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("registry_person.id", ondelete="CASCADE"), index=True)
    move_in: Mapped[date] = mapped_column(Date)
    move_out: Mapped[date | None] = mapped_column(Date)


class Organisation(InGrid, Timestamps, Base):
    """Non-public economic organisations (非公有制经济组织) and social organisations (社会组织)."""

    __tablename__ = "registry_organisation"
    __table_args__ = (CheckConstraint("kind IN ('economic','social')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)  # unified social credit code
    licence_no: Mapped[str | None] = mapped_column(String(40))
    registration_no: Mapped[str | None] = mapped_column(String(40))
    registration_authority: Mapped[str | None] = mapped_column(String(100))
    org_type: Mapped[str | None] = mapped_column(String(20))  # code table org_type
    status: Mapped[str | None] = mapped_column(String(20))
    approval_date: Mapped[date | None] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(String(250))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    staff_count: Mapped[int | None] = mapped_column(Integer)
    legal_rep_name: Mapped[str | None] = mapped_column(String(100))
    legal_rep_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    security_officer_name: Mapped[str | None] = mapped_column(String(100))
    security_officer_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    hazardous_chemicals: Mapped[bool] = mapped_column(default=False)
    hazard_type: Mapped[str | None] = mapped_column(String(40))
    attention_level: Mapped[str | None] = mapped_column(String(10))  # code table attention_level
    risk_level: Mapped[str | None] = mapped_column(String(10))


class Place(InGrid, Timestamps, Base):
    """Key places (重点场所): entertainment, catering, hazardous chemicals, hotels, …"""

    __tablename__ = "registry_place"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    place_type: Mapped[str] = mapped_column(String(20), index=True)  # code table place_type
    key_attribute: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(250))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    area_m2: Mapped[float | None] = mapped_column(Float)
    staff_count: Mapped[int | None] = mapped_column(Integer)
    person_in_charge: Mapped[str | None] = mapped_column(String(100))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    supervising_unit: Mapped[str | None] = mapped_column(String(100))
    attention_level: Mapped[str | None] = mapped_column(String(10))


class School(InGrid, Timestamps, Base):
    """Schools and their surroundings (校园及周边安全)."""

    __tablename__ = "registry_school"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    school_type: Mapped[str] = mapped_column(String(20))  # code table school_type
    address: Mapped[str | None] = mapped_column(String(250))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    supervising_authority: Mapped[str | None] = mapped_column(String(100))
    students: Mapped[int | None] = mapped_column(Integer)
    staff: Mapped[int | None] = mapped_column(Integer)
    head_name: Mapped[str | None] = mapped_column(String(100))
    security_lead: Mapped[str | None] = mapped_column(String(100))
    guards: Mapped[int | None] = mapped_column(Integer)


class RoadLine(Timestamps, Base):
    """Road and line protection (护路护线): railways, power lines, pipelines with their hazards."""

    __tablename__ = "registry_road_line"
    # A line crosses grids: it is scoped by its district and, where it lies in one, its street.
    __scope_columns__: ClassVar[dict[Level, str]] = {Level.district: "district_code", Level.street: "street_code"}

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    line_type: Mapped[str] = mapped_column(String(20))  # code table line_type
    district_code: Mapped[str] = mapped_column(String(15), index=True)
    street_code: Mapped[str | None] = mapped_column(String(15), index=True)
    owning_unit: Mapped[str | None] = mapped_column(String(100))
    managing_unit: Mapped[str | None] = mapped_column(String(100))
    security_lead: Mapped[str | None] = mapped_column(String(100))
    hazard_situation: Mapped[str | None] = mapped_column(Text)
    hazard_level: Mapped[str | None] = mapped_column(String(10))  # code table hazard_level
    geometry: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # WKB LineString


class SpecialCare(InGrid, Timestamps, Base):
    """特殊人群: a person in one of the special-care groups, with the care given. The most sensitive data."""

    __tablename__ = "registry_special_care"
    __table_args__ = (
        CheckConstraint(
            "care_group IN ('released_prisoner','community_correction','mental_disorder','drug_user',"
            "'hiv_aids','key_youth')",
            name="care_group",
        ),
        CheckConstraint("risk_level IS NULL OR (risk_level BETWEEN 0 AND 5)", name="risk_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("registry_person.id", ondelete="CASCADE"), index=True)
    care_group: Mapped[str] = mapped_column(String(24), index=True)
    attention_level: Mapped[str] = mapped_column(String(10))  # code table attention_level
    risk_level: Mapped[int | None] = mapped_column(Integer)  # severe mental disorders: assessment 0–5
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"), index=True)
    visit_interval_days: Mapped[int] = mapped_column(Integer, default=30)
    last_visit_on: Mapped[date | None] = mapped_column(Date)
    next_visit_due: Mapped[date | None] = mapped_column(Date, index=True)
    # Group-specific data items (guardian, diagnosis, sentence, …), validated per group by the service.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True, index=True)


class Visit(Base):
    """A follow-up visit (走访) to a special-care person."""

    __tablename__ = "registry_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    special_care_id: Mapped[int] = mapped_column(ForeignKey("registry_special_care.id", ondelete="CASCADE"), index=True)
    visited_on: Mapped[date] = mapped_column(Date)
    worker_user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    form: Mapped[str] = mapped_column(String(10))  # code table visit_form
    findings: Mapped[str] = mapped_column(Text)
    next_visit_due: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Encrypted columns, so that `civicgrid keys rotate` finds every one of them.
for _model, _column, _context in (
    (Person, "id_number_enc", "person.id_number"),
    (Person, "phone_enc", "person.phone"),
    (Person, "document_no_enc", "person.document_no"),
    (House, "owner_id_number_enc", "house.owner_id_number"),
    (Organisation, "legal_rep_phone_enc", "organisation.legal_rep_phone"),
    (Organisation, "security_officer_phone_enc", "organisation.security_officer_phone"),
    (Place, "phone_enc", "place.phone"),
):
    register_encrypted(_model, _column, _context)
