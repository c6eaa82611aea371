"""Organisations, places, schools and protected lines: their bodies."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class Located(_In):
    grid_code: str = Field(min_length=15, max_length=15)
    address: str | None = Field(default=None, max_length=250)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)


class OrganisationIn(Located):
    kind: str = Field(pattern="^(economic|social)$")
    name: str = Field(min_length=1, max_length=200)
    credit_code: str | None = Field(default=None, min_length=18, max_length=18)
    licence_no: str | None = Field(default=None, max_length=40)
    registration_no: str | None = Field(default=None, max_length=40)
    registration_authority: str | None = Field(default=None, max_length=100)
    org_type: str | None = Field(default=None, max_length=20)
    status: str | None = Field(default=None, max_length=20)
    approval_date: date | None = None
    staff_count: int | None = Field(default=None, ge=0, le=10_000_000)
    legal_rep_name: str | None = Field(default=None, max_length=100)
    security_officer_name: str | None = Field(default=None, max_length=100)
    hazardous_chemicals: bool = False
    hazard_type: str | None = Field(default=None, max_length=40)
    attention_level: str | None = Field(default=None, max_length=10)
    risk_level: str | None = Field(default=None, max_length=10)


class OrganisationOut(OrganisationIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    community_code: str


class PlaceIn(Located):
    name: str = Field(min_length=1, max_length=200)
    place_type: str = Field(max_length=20)
    key_attribute: str | None = Field(default=None, max_length=100)
    area_m2: float | None = Field(default=None, gt=0)
    staff_count: int | None = Field(default=None, ge=0)
    person_in_charge: str | None = Field(default=None, max_length=100)
    supervising_unit: str | None = Field(default=None, max_length=100)
    attention_level: str | None = Field(default=None, max_length=10)


class PlaceOut(PlaceIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    community_code: str


class SchoolIn(Located):
    name: str = Field(min_length=1, max_length=200)
    school_type: str = Field(max_length=20)
    supervising_authority: str | None = Field(default=None, max_length=100)
    students: int | None = Field(default=None, ge=0)
    staff: int | None = Field(default=None, ge=0)
    head_name: str | None = Field(default=None, max_length=100)
    security_lead: str | None = Field(default=None, max_length=100)
    guards: int | None = Field(default=None, ge=0)


class SchoolOut(SchoolIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    community_code: str
