"""Warnings and warning rules on the wire."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["city", "district", "street", "community", "grid"]


class WarningOut(BaseModel):
    id: int
    kind: str = Field(description="surge | rule | hotspot")
    subject: str = Field(
        description="what it is about: a count kind (inc:01, case:02), or a rule "
        "(threshold:<rule id>, red_streak:<period>:<notice|interview>, fatal:<kind>)"
    )
    subject_name: str | None = Field(description="the kind's or rule's name")
    level: str
    area_code: str
    area_name: str | None
    period_start: date
    period_end: date
    severity: str = Field(description="notice < serious < interview < fatal")
    title: str
    status: str = Field(description="open | acknowledged | closed")
    case_id: int | None = Field(description="the case it was turned into")
    created_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    close_note: str | None


class RecordOut(BaseModel):
    """One incident behind a warning (no free text: call summaries and addresses name people)."""

    id: int
    source: str
    occurred_at: datetime
    time_precision: str
    day: date
    category_code: str
    category_name: str | None
    division_code: str
    lon: float | None
    lat: float | None
    deaths: int
    injuries: int


class WarningDetailOut(WarningOut):
    evidence: dict[str, Any] = Field(
        description="what the detector measured: observed, expected, p, q, alpha, model, the seasonal factors, "
        "each detection (a surge lasting several days has several), summary_zh; or the rule's figures"
    )
    records_total: int | None = Field(description="records counted (incidents, or cases for case kinds)")
    records: list[RecordOut] | None = Field(
        description="the incidents behind it (first 500 by time), for accounts that may read single incidents"
    )
    records_truncated: bool
    allowed_actions: list[str] = Field(description="what you may do with it now")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CloseIn(_In):
    note: str | None = Field(default=None, max_length=500, description="required: what was done, or why nothing is")


class ToCaseIn(_In):
    """Everything is pre-filled from the warning; send only what should differ."""

    category_code: str | None = Field(default=None, max_length=10, description="a case category leaf (0201 …)")
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    priority: Literal["urgent", "high", "normal", "low"] | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)


class ToCaseOut(BaseModel):
    warning: WarningDetailOut
    case_id: int
    case_code: str


class RuleIn(_In):
    name: str = Field(min_length=1, max_length=100)
    kind: str = Field(max_length=12, description="a daily-count kind: inc:01 …, case:02 …, dispute")
    level: Level
    window_days: int = Field(description="1 to 92 days ending with the day evaluated")
    threshold: int = Field(description="warn at this many records or more (1 to 1,000,000)")
    severity: Literal["notice", "serious"] = "notice"
    active: bool = True


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    kind_name: str | None = None
    level: str
    window_days: int
    threshold: int
    severity: str
    active: bool
    created_at: datetime
    updated_at: datetime
