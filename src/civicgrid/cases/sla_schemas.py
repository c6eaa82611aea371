"""SLA rules and the supervision board on the wire."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from civicgrid.cases.schemas import CaseOut
from civicgrid.core.pagination import Page

Priority = Literal["urgent", "high", "normal", "low"]


class SlaRuleOut(BaseModel):
    id: int
    category_code: str | None = Field(description="a category or a class (2 digits); null: any category")
    category_name: str | None
    priority: str | None = Field(description="null: any priority")
    unit_id: int | None = Field(description="a department's own limits for the cases it leads; null: any unit")
    unit_name: str | None
    accept_days: float = Field(description="working days to accept (yellow card at the limit)")
    handle_days: float = Field(description="working days to handle (yellow card at the limit)")
    red_accept_days: float | None = Field(description="red card limit; null: twice accept_days")
    red_handle_days: float | None = Field(description="red card limit; null: twice handle_days")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SlaRuleCreate(_In):
    category_code: str | None = Field(default=None, max_length=10)
    priority: Priority | None = None
    unit_id: int | None = None
    accept_days: float = Field(description="more than 0, at most 365 working days")
    handle_days: float = Field(description="more than 0, at most 365 working days")
    red_accept_days: float | None = Field(default=None, description="at least accept_days; null: twice it")
    red_handle_days: float | None = Field(default=None, description="at least handle_days; null: twice it")


class SlaRuleUpdate(_In):
    """Only the fields sent change; send null to clear an optional one."""

    category_code: str | None = Field(default=None, max_length=10)
    priority: Priority | None = None
    unit_id: int | None = None
    accept_days: float | None = None
    handle_days: float | None = None
    red_accept_days: float | None = None
    red_handle_days: float | None = None


class BoardCounts(BaseModel):
    open: int = Field(description="open cases (not closed or rejected)")
    overdue: int = Field(description="open cases past their current deadline")
    overdue_accept: int = Field(description="… waiting for acceptance")
    overdue_handle: int = Field(description="… being handled or verified")
    yellow: int = Field(description="open cases whose worst card is yellow")
    red: int = Field(description="open cases with a red card")
    due_soon: int = Field(description="open cases not yet overdue whose deadline falls within 24 hours")


class BoardRow(BaseModel):
    open: int
    overdue: int
    yellow: int
    red: int


class BoardLevelRow(BoardRow):
    level: Literal["grid", "community", "street", "district", "city"] = Field(description="the rung holding them")


class BoardUnitRow(BoardRow):
    unit_id: int
    unit_name: str = Field(description="the lead department")


class BoardOut(BaseModel):
    counts: BoardCounts
    by_level: list[BoardLevelRow]
    by_unit: list[BoardUnitRow] = Field(description="dispatched cases by lead department, most overdue first")
    due_soon: list[CaseOut] = Field(description="the 50 soonest of the cases due within 24 hours")
    cases: Page[CaseOut] = Field(description="open cases with a card: red first, then the earliest deadline")
