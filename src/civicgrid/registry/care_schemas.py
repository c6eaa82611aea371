"""Special-care records and visits: bodies, and the group-specific data items of GB/T 31000."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CareGroup = Literal[
    "released_prisoner", "community_correction", "mental_disorder", "drug_user", "hiv_aids", "key_youth"
]


class _Items(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MentalDisorderItems(_Items):
    guardian_name: str | None = Field(default=None, max_length=100)
    guardian_relation: str | None = Field(default=None, max_length=20)
    economic_situation: str | None = Field(default=None, max_length=40)
    subsistence_allowance: bool | None = None
    first_onset: date | None = None
    diagnosis: str | None = Field(default=None, max_length=200)
    incident_count: int | None = Field(default=None, ge=0, le=1000)
    last_incident: date | None = None
    treatment_status: str | None = Field(default=None, max_length=40)
    hospital: str | None = Field(default=None, max_length=100)
    support_measures: str | None = Field(default=None, max_length=500)


class ReleasedPrisonerItems(_Items):
    recidivist: bool | None = None
    original_offence: str | None = Field(default=None, max_length=100)
    sentence: str | None = Field(default=None, max_length=100)
    prison: str | None = Field(default=None, max_length=100)
    release_date: date | None = None
    risk_assessment: str | None = Field(default=None, max_length=40)
    settlement_status: str | None = Field(default=None, max_length=40)
    support_given: str | None = Field(default=None, max_length=500)


class CommunityCorrectionItems(_Items):
    correction_no: str | None = Field(default=None, max_length=40)
    correction_category: str | None = Field(default=None, max_length=40)
    offence: str | None = Field(default=None, max_length=100)
    sentence: str | None = Field(default=None, max_length=100)
    start_date: date | None = None
    end_date: date | None = None
    reception_method: str | None = Field(default=None, max_length=40)
    group_members: str | None = Field(default=None, max_length=200)


class DrugUserItems(_Items):
    first_discovered: date | None = None
    control_status: str | None = Field(default=None, max_length=40)
    controller: str | None = Field(default=None, max_length=100)
    support_given: str | None = Field(default=None, max_length=500)


class HivAidsItems(_Items):
    route_of_infection: str | None = Field(default=None, max_length=40)
    case_category: str | None = Field(default=None, max_length=40)
    support_given: str | None = Field(default=None, max_length=500)
    attention_type: str | None = Field(default=None, max_length=40)


class KeyYouthItems(_Items):
    person_category: str | None = Field(default=None, max_length=40)
    family_situation: str | None = Field(default=None, max_length=100)
    guardian_name: str | None = Field(default=None, max_length=100)
    guardian_relation: str | None = Field(default=None, max_length=20)
    support_person: str | None = Field(default=None, max_length=100)
    support_means: str | None = Field(default=None, max_length=200)


ITEMS_BY_GROUP: dict[str, type[_Items]] = {
    "mental_disorder": MentalDisorderItems,
    "released_prisoner": ReleasedPrisonerItems,
    "community_correction": CommunityCorrectionItems,
    "drug_user": DrugUserItems,
    "hiv_aids": HivAidsItems,
    "key_youth": KeyYouthItems,
}


class CareCreate(BaseModel):
    person_id: int
    care_group: CareGroup
    attention_level: str = Field(max_length=10, description="code table attention_level")
    risk_level: int | None = Field(default=None, ge=0, le=5, description="severe mental disorders: 0–5")
    responsible_user_id: int | None = None
    visit_interval_days: int = Field(default=30, ge=1, le=366)
    details: dict[str, object] = Field(default_factory=dict, description="the group's data items")


class CareUpdate(BaseModel):
    attention_level: str | None = Field(default=None, max_length=10)
    risk_level: int | None = Field(default=None, ge=0, le=5)
    responsible_user_id: int | None = None
    visit_interval_days: int | None = Field(default=None, ge=1, le=366)
    details: dict[str, object] | None = None
    active: bool | None = None


class CareOut(BaseModel):
    id: int
    person_id: int
    person_name: str = Field(description="masked")
    care_group: str
    attention_level: str
    risk_level: int | None
    responsible_user_id: int | None
    responsible_name: str | None
    visit_interval_days: int
    last_visit_on: date | None
    next_visit_due: date | None
    overdue_days: int
    grid_code: str
    active: bool


class CareDetailOut(CareOut):
    details: dict[str, object]
    created_at: datetime


class VisitIn(BaseModel):
    visited_on: date
    form: str = Field(max_length=10, description="code table visit_form")
    findings: str = Field(min_length=2, max_length=4000)
    next_visit_due: date | None = Field(default=None, description="defaults to visited_on + the record's interval")


class VisitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    special_care_id: int
    visited_on: date
    worker_user_id: int | None
    form: str
    findings: str
    next_visit_due: date | None


class OverdueByGrid(BaseModel):
    grid_code: str
    grid_name: str
    overdue: int
    due_within_7_days: int
    active: int
