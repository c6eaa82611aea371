"""Dispute tables (矛盾纠纷, DESIGN.md §6, REFERENCE.md §1): the dispute record beside its case, the
parties, the mediation sessions, and the 28-category code table.

A dispute is a case of class 01 (矛盾纠纷): the case runs the workflow, deadlines and measures; the
dispute record holds what GB/T 31000 asks of a dispute (scale, category, people involved, parties,
mediation, resolution deadline, outcome, evaluation, follow-up). Every table carries the case's area
codes (`InGrid`), so `authz.restrict` scopes it like any other object. A party's ID number is stored
only encrypted beside a blind index, as in the registry; names are kept and masked in responses.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import register_encrypted
from civicgrid.core.db import Base
from civicgrid.core.types import UTCDateTime
from civicgrid.geo.area import InGrid

# 一般 / 较大 / 重大 / 特别重大
SCALES = ("general", "large", "major", "especially_major")
OUTCOMES = ("pending", "resolved", "partly", "failed")
# Still being worked on: not resolved and not given up (a partly resolved dispute stays open).
OPEN_OUTCOMES = ("pending", "partly")
PARTY_ROLES = ("applicant", "respondent", "other")
# 人民调解, 行政调解, 司法调解, 诉调对接, 警调对接, 访调对接, 律师调解, 其他
MEDIATION_METHODS = (
    "people",
    "administrative",
    "judicial",
    "litigation",
    "police",
    "petition",
    "lawyer",
    "other",
)
PARTY_ID_CONTEXT = "dispute_party.id_number"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class DisputeCategory(Base):
    """The 28 dispute categories (REFERENCE.md §2), kept as data; each may suggest a case category."""

    __tablename__ = "dispute_category"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80))
    # The case category (a leaf under 01) a new dispute of this category is filed under by default.
    case_category_code: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class Dispute(InGrid, Base):
    __tablename__ = "dispute"
    __table_args__ = (
        CheckConstraint(_in("scale", SCALES), name="scale"),
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        CheckConstraint("people_count >= 1", name="people_count"),
        Index("ix_dispute_outcome_deadline", "outcome", "resolution_deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_case.id", ondelete="RESTRICT"), unique=True)
    dispute_category: Mapped[str] = mapped_column(ForeignKey("dispute_category.code", ondelete="RESTRICT"), index=True)
    scale: Mapped[str] = mapped_column(String(20))
    people_count: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    units_involved: Mapped[str | None] = mapped_column(String(500))
    resolution_deadline: Mapped[date] = mapped_column(Date, index=True)
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    success: Mapped[bool] = mapped_column(default=False)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(Text)
    evaluated_on: Mapped[date | None] = mapped_column(Date)
    evaluation: Mapped[str | None] = mapped_column(Text)
    follow_up_on: Mapped[date | None] = mapped_column(Date)
    follow_up_note: Mapped[str | None] = mapped_column(Text)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DisputeParty(InGrid, Base):
    """A main party (当事人): applicant, respondent or other."""

    __tablename__ = "dispute_party"
    __table_args__ = (CheckConstraint(_in("role", PARTY_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    sex: Mapped[str | None] = mapped_column(String(2))
    ethnicity: Mapped[str | None] = mapped_column(String(4))
    education: Mapped[str | None] = mapped_column(String(4))
    # The registry's person_type code (户籍 / 流动 / 境外).
    person_category: Mapped[str | None] = mapped_column(String(12))
    address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DisputeMediation(InGrid, Base):
    """One mediation session; sessions are numbered 1, 2, … per dispute."""

    __tablename__ = "dispute_mediation"
    __table_args__ = (
        CheckConstraint(_in("method", MEDIATION_METHODS), name="method"),
        Index("ix_dispute_mediation_session", "dispute_id", "session_no", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    session_no: Mapped[int] = mapped_column(Integer)
    mediated_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    organisation: Mapped[str] = mapped_column(String(200))
    mediator: Mapped[str] = mapped_column(String(100))
    result: Mapped[str] = mapped_column(Text)
    agreement: Mapped[str | None] = mapped_column(Text)
    agreement_reached: Mapped[bool] = mapped_column(default=False)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


register_encrypted(DisputeParty, "id_number_enc", PARTY_ID_CONTEXT)
