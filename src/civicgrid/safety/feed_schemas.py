"""Request and response bodies of the safety feeds: categories, feed mappings, pushed calls, incidents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["110", "119", "122", "records"]
UnknownPolicy = Literal["reject", "report", "fallback"]
MAX_PUSHED = 1_000


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CategoryOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    indicator: str | None = Field(description="the index indicator the class counts towards; null: not indexed")
    active: bool
    children: list[CategoryOut] = Field(default_factory=list, description="a class's leaf categories")


class FeedFieldOut(BaseModel):
    name: str
    description: str
    required: bool = Field(description="the file must have this column, and every row must fill it")
    aliases: list[str] = Field(description="column headings mapped to it when the mapping does not say")


class FeedMappingIn(_In):
    name: str = Field(min_length=1, max_length=100)
    source: Source = Field(description="110 接警, 119 火警, 122 交通事故报警, records 案事件")
    columns: dict[str, str] = Field(
        default_factory=dict, description="file column → record field; fields left out are found by heading"
    )
    categories: dict[str, str] = Field(
        default_factory=dict, max_length=5000, description="the feed's category label → leaf category code (0101)"
    )
    unknown_category: UnknownPolicy = Field(
        default="report",
        description="a label the table lacks: reject the whole file, report (refuse) the rows, or use the fallback",
    )
    fallback_category: str | None = Field(default=None, max_length=10, description="with fallback: e.g. 0999")


class FeedMappingOut(BaseModel):
    id: int
    name: str
    source: str
    columns: dict[str, str]
    categories: dict[str, str]
    unknown_category: str
    fallback_category: str | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime


class IncidentIn(_In):
    """One call or incident; no free text (call summaries name people), so unknown keys are refused."""

    record_id: str = Field(min_length=1, max_length=64)
    occurred_at: str | int = Field(description="ISO 8601 (no offset = Beijing time), or a day or month as in files")
    category: str = Field(min_length=1, max_length=100, description="a leaf code, or the feed's label (with mapping)")
    lon: float | None = None
    lat: float | None = None
    address_code: str | None = Field(default=None, max_length=15, description="a division code, without a point")
    address: str | None = Field(default=None, max_length=300)
    severity: str | None = Field(default=None, max_length=16)
    deaths: int = Field(default=0, ge=0, le=100_000)
    injuries: int = Field(default=0, ge=0, le=100_000)


class IncidentBatchIn(_In):
    source: Source | None = Field(default=None, description="required unless mapping_id gives it")
    mapping_id: int | None = Field(default=None, description="a saved feed mapping whose category table applies")
    incidents: list[IncidentIn] = Field(min_length=1, max_length=MAX_PUSHED)


class IncidentBatchOut(BaseModel):
    created: int
    created_ids: list[str] = Field(description="record ids stored by this call")
    duplicates: list[str] = Field(description="record ids stored before (pushing again changes nothing)")


class IncidentOut(BaseModel):
    id: int
    source: str
    record_id: str
    occurred_at: datetime
    time_precision: str = Field(description="second, day or month")
    day: date = Field(description="the local day it is counted on")
    category_code: str
    category_name: str | None
    raw_category: str | None = Field(description="the feed's own label")
    division_code: str = Field(description="the finest division it was placed in (a grid for a point)")
    district_code: str | None
    street_code: str | None
    community_code: str | None
    grid_code: str | None
    lon: float | None
    lat: float | None
    address: str | None
    severity: str | None
    deaths: int
    injuries: int
    imported_at: datetime
