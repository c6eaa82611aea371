"""Dispute bodies: creating one (its case with it), changing it, parties, mediations, the outcome,
follow-up, the list row, the detail and the one-stop desk."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from civicgrid.cases.schemas import CaseOut, Priority

Scale = Literal["general", "large", "major", "especially_major"]
Outcome = Literal["pending", "resolved", "partly", "failed"]
RecordedOutcome = Literal["resolved", "partly", "failed"]
PartyRole = Literal["applicant", "respondent", "other"]
MediationMethod = Literal["people", "administrative", "judicial", "litigation", "police", "petition", "lawyer", "other"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DisputeCategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    case_category_code: str | None
    active: bool


class PartyIn(_In):
    role: PartyRole
    name: str = Field(min_length=1, max_length=100)
    id_number: str | None = Field(default=None, max_length=40, description="citizen ID (GB 11643); stored encrypted")
    sex: str | None = Field(default=None, max_length=2, description="code table sex")
    ethnicity: str | None = Field(default=None, max_length=4, description="code table ethnicity")
    education: str | None = Field(default=None, max_length=4, description="code table education")
    person_category: str | None = Field(default=None, max_length=12, description="code table person_type")
    address: str | None = Field(default=None, max_length=300)


class DisputeCreate(_In):
    """A dispute and its case (class 01 矛盾纠纷) in one go; place it by `lon`/`lat` or by `grid_code`."""

    dispute_category: str = Field(min_length=2, max_length=4, description="one of the 28 dispute categories")
    category_code: str | None = Field(
        default=None,
        max_length=10,
        description="the case category, a leaf of class 01; default: the dispute category's",
    )
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    grid_code: str | None = Field(default=None, max_length=15, description="instead of a point: a grid of your scope")
    address: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=200)
    summary: str = Field(
        min_length=2, max_length=4000, description="what the dispute is about (also the case's description)"
    )
    scale: Scale | None = Field(default=None, description="default: from the number of people involved")
    people_count: int = Field(ge=1, le=1_000_000)
    units_involved: str | None = Field(default=None, max_length=500)
    resolution_deadline: date
    priority: Priority | None = None
    reported_at: datetime | None = None
    parties: list[PartyIn] = Field(default_factory=list, max_length=50)
    client_id: str | None = Field(default=None, min_length=8, max_length=64, description="a replay creates one dispute")
    force_new: bool = Field(default=False, description="record it even when a similar case is open nearby")


class DisputeUpdate(_In):
    dispute_category: str | None = Field(default=None, min_length=2, max_length=4)
    scale: Scale | None = None
    people_count: int | None = Field(default=None, ge=1, le=1_000_000)
    summary: str | None = Field(default=None, min_length=2, max_length=4000)
    units_involved: str | None = Field(default=None, max_length=500)
    resolution_deadline: date | None = None


class MediationIn(_In):
    mediated_on: date
    method: MediationMethod
    organisation: str = Field(min_length=1, max_length=200)
    mediator: str = Field(min_length=1, max_length=100)
    result: str = Field(min_length=1, max_length=4000)
    agreement: str | None = Field(default=None, max_length=8000)
    agreement_reached: bool = False


class OutcomeIn(_In):
    outcome: RecordedOutcome
    resolved_on: date | None = Field(default=None, description="default: today")
    resolution: str = Field(min_length=2, max_length=4000, description="how it was resolved, or why not")
    success: bool | None = Field(default=None, description="default: true when resolved")
    evaluated_on: date | None = None
    evaluation: str | None = Field(default=None, max_length=4000)


class FollowUpIn(_In):
    follow_up_on: date
    note: str = Field(min_length=2, max_length=4000)


class PartyOut(BaseModel):
    id: int
    role: str
    name: str = Field(description="masked")
    id_number: str | None = Field(description="masked")
    sex: str | None
    ethnicity: str | None
    education: str | None
    person_category: str | None
    address: str | None


class MediationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    session_no: int
    mediated_on: date
    method: str
    organisation: str
    mediator: str
    result: str
    agreement: str | None
    agreement_reached: bool
    created_at: datetime


class DisputeOut(BaseModel):
    id: int
    case_id: int
    case_code: str
    title: str
    case_status: str
    dispute_category: str
    dispute_category_name: str
    scale: str
    people_count: int
    outcome: str
    success: bool
    resolution_deadline: date
    overdue: bool = Field(description="still open and past its resolution deadline")
    days_left: int | None = Field(description="days to the resolution deadline while open (negative: overdue)")
    reported_at: datetime
    district_code: str
    street_code: str
    community_code: str
    grid_code: str


class DisputeDetailOut(DisputeOut):
    summary: str
    units_involved: str | None
    resolved_on: date | None
    resolution: str | None
    evaluated_on: date | None
    evaluation: str | None
    follow_up_on: date | None
    follow_up_note: str | None
    created_at: datetime
    updated_at: datetime
    parties: list[PartyOut]
    mediations: list[MediationOut]
    case: CaseOut
    case_visible: bool = Field(description="whether you may open the case itself (/cases/{id})")
    case_allowed_actions: list[str] = Field(description="the workflow actions you may take on the case now")


class Count(BaseModel):
    key: str
    name: str | None = None
    count: int


class DeskOut(BaseModel):
    """The one-stop acceptance desk (一站式受理) of the caller's area."""

    total: int
    open: int
    overdue_count: int
    due_soon_count: int
    by_status: list[Count] = Field(description="per case status")
    by_outcome: list[Count]
    by_category: list[Count] = Field(description="per dispute category, most first")
    due_soon: list[DisputeOut] = Field(description="open, resolution deadline within 7 days")
    overdue: list[DisputeOut] = Field(description="open, past the resolution deadline")
    unaccepted: list[DisputeOut] = Field(description="newest whose case awaits acceptance")
