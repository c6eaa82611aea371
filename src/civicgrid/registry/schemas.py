"""Request and response bodies of the people, household and house endpoints.

Responses carry masked names and identifiers (`张*明`, `340302********1234`, `138****5678`); unmasked
values come only from the reveal endpoint, with a stated purpose, and are audited.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PersonType = Literal["registered", "floating", "foreign"]


class PersonBase(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    former_name: str | None = Field(default=None, max_length=100)
    ethnicity: str | None = Field(default=None, max_length=4, description="code table ethnicity")
    native_place: str | None = Field(default=None, max_length=6, description="region code")
    marital_status: str | None = Field(default=None, max_length=4)
    political_status: str | None = Field(default=None, max_length=4)
    education: str | None = Field(default=None, max_length=4)
    religion: str | None = Field(default=None, max_length=4)
    occupation: str | None = Field(default=None, max_length=60)
    employer: str | None = Field(default=None, max_length=100)
    hukou_address: str | None = Field(default=None, max_length=250)
    current_address: str | None = Field(default=None, max_length=250)
    relation_to_head: str | None = Field(default=None, max_length=4, description="code table relation")
    hukou_consistent: bool | None = None
    move_in_reason: str | None = Field(default=None, max_length=4)
    permit_type: str | None = Field(default=None, max_length=4)
    permit_no: str | None = Field(default=None, max_length=40)
    permit_expiry: date | None = None
    residence_type: str | None = Field(default=None, max_length=4)
    foreign_surname: str | None = Field(default=None, max_length=80)
    foreign_given_name: str | None = Field(default=None, max_length=80)
    nationality: str | None = Field(default=None, min_length=3, max_length=3, description="ISO 3166-1 alpha-3")
    document_type: str | None = Field(default=None, max_length=4)
    document_expiry: date | None = None
    key_attention: bool = False


class PersonCreate(PersonBase):
    person_type: PersonType
    name: str = Field(min_length=1, max_length=100)
    sex: str = Field(max_length=2, description="code table sex")
    birth_date: date
    id_number: str | None = Field(default=None, max_length=20, description="GB 11643; required unless foreign")
    phone: str | None = Field(default=None, max_length=20)
    document_no: str | None = Field(default=None, max_length=40, description="foreigners: passport or permit no.")
    house_id: int | None = Field(default=None, description="the house the person lives in")
    household_id: int | None = None
    grid_code: str | None = Field(default=None, min_length=15, max_length=15, description="when there is no house")


class PersonUpdate(PersonBase):
    """Fields to correct; omitted fields stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    sex: str | None = Field(default=None, max_length=2)
    birth_date: date | None = None
    id_number: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    document_no: str | None = Field(default=None, max_length=40)
    household_id: int | None = None
    key_attention: bool | None = None  # type: ignore[assignment]


class MoveIn(BaseModel):
    house_id: int
    moved_on: date
    reason: str | None = Field(default=None, max_length=100)


class DeregisterIn(BaseModel):
    reason: Literal["moved_away", "deceased"]
    on: date


class RevealIn(BaseModel):
    purpose: str = Field(min_length=4, max_length=500, description="why you need the unmasked data (audited)")


class LookupIn(BaseModel):
    """Exact lookup by an identifier; sent in a body so it never appears in a URL."""

    id_number: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)


class PersonOut(BaseModel):
    id: int
    person_type: str
    name: str = Field(description="masked")
    sex: str
    birth_year: int
    age: int
    id_number: str | None = Field(description="masked")
    phone: str | None = Field(description="masked")
    house_id: int | None
    household_id: int | None
    address: str | None
    grid_code: str
    community_code: str
    status: str
    review_status: str
    key_attention: bool


class PersonDetailOut(PersonOut, PersonBase):
    relation_to_head: str | None = None
    document_no: str | None = Field(default=None, description="masked")
    status_changed_on: date | None = None
    created_at: datetime
    updated_at: datetime


class PersonRevealedOut(BaseModel):
    id: int
    name: str
    birth_date: date
    id_number: str | None
    phone: str | None
    document_no: str | None
    audit_seq: int = Field(description="the audit record of this reveal")


class ResidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    house_id: int | None
    address: str | None = None
    grid_code: str
    from_date: date
    to_date: date | None
    reason: str | None


class HouseIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    grid_code: str = Field(min_length=15, max_length=15)
    street_address: str = Field(min_length=1, max_length=120)
    building: str | None = Field(default=None, max_length=40)
    unit: str | None = Field(default=None, max_length=20)
    room: str | None = Field(default=None, max_length=20)
    use: str = Field(max_length=20, description="code table house_use")
    owner_name: str | None = Field(default=None, max_length=100)
    owner_id_number: str | None = Field(default=None, max_length=20)
    area_m2: float | None = Field(default=None, gt=0, lt=100000)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)


class HouseUpdate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    street_address: str | None = Field(default=None, min_length=1, max_length=120)
    building: str | None = Field(default=None, max_length=40)
    unit: str | None = Field(default=None, max_length=20)
    room: str | None = Field(default=None, max_length=20)
    use: str | None = Field(default=None, max_length=20)
    owner_name: str | None = Field(default=None, max_length=100)
    area_m2: float | None = Field(default=None, gt=0, lt=100000)


class HouseOut(BaseModel):
    id: int
    address: str
    street_address: str
    building: str | None
    unit: str | None
    room: str | None
    use: str
    owner_name: str | None = Field(description="masked")
    area_m2: float | None
    lon: float | None
    lat: float | None
    grid_code: str
    community_code: str
    residents: int | None = None


class TenancyIn(BaseModel):
    person_id: int
    move_in: date


class TenancyOut(BaseModel):
    id: int
    house_id: int
    person_id: int
    person_name: str = Field(description="masked")
    move_in: date
    move_out: date | None


class HouseholdIn(BaseModel):
    house_id: int
    household_no: str | None = Field(default=None, min_length=4, max_length=30, description="generated when omitted")
    head_person_id: int | None = None


class HouseholdOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    household_no: str
    house_id: int | None
    head_person_id: int | None
    grid_code: str
    community_code: str
