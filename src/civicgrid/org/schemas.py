"""What the org API takes and answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OrgUnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: Literal["center", "department", "committee"]
    department_type: str | None
    division_code: str
    city_code: str
    district_code: str | None
    street_code: str | None
    community_code: str | None
    phone: str | None


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    division_code: str
    division_name: str
    division_level: Literal["community", "grid"]
    duty: Literal["grid_worker", "grid_leader"]
    user_id: int
    display_name: str
    username: str


class AssignmentIn(BaseModel):
    division_code: str = Field(min_length=12, max_length=15, description="a grid (worker) or community (leader)")
    duty: Literal["grid_worker", "grid_leader"]
    user_id: int | None = Field(description="the user to assign; null removes the current holder")


class AssignmentStateOut(BaseModel):
    division_code: str
    duty: Literal["grid_worker", "grid_leader"]
    user_id: int | None
