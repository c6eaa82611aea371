"""The safety index on the wire: scores of a level, one area's trend and explanation, configurations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PeriodType = Literal["day", "dekad", "week", "month"]
Band = Literal["green", "yellow", "orange", "red"]
Level = Literal["city", "district", "street", "community", "grid"]


class PeriodOut(BaseModel):
    type: PeriodType
    start: date
    end: date = Field(description="the last day, inclusive")


class ConfigRef(BaseModel):
    id: int
    name: str


class AreaScoreOut(BaseModel):
    code: str
    name: str
    level: Level
    parent_code: str | None
    score: float = Field(description="0–100, one decimal")
    band: Band
    red_streak: int = Field(description="consecutive red periods of this type ending with this one")
    events: int = Field(description="records counted towards the index's indicators")
    deaths: int
    population: int = Field(description="residents the rates are per; 0 when none are recorded")


class IndexOut(BaseModel):
    period: PeriodOut
    config: ConfigRef
    level: Level
    parent_code: str
    computed_at: datetime | None = Field(description="null: no scores are stored for this period yet")
    areas: list[AreaScoreOut]


class TrendPoint(BaseModel):
    start: date
    end: date
    score: float
    band: Band
    events: int
    deaths: int


class TrendOut(BaseModel):
    area_code: str
    config: ConfigRef
    points: list[TrendPoint] = Field(description="oldest first; periods without a stored score are left out")


class BaselineOut(BaseModel):
    available: bool = Field(description="false: no data for it (no history yet, or no peers)")
    count: float | None = Field(description="expected count for this period's length under this baseline")
    rate: float | None = Field(description="the same per `per_residents` residents; null without residents")
    years: int | None = Field(default=None, description="three_year: previous years with data that were averaged")
    periods: list[date] | None = Field(default=None, description="first days of the periods it reads")
    basis: Literal["rate", "count"] | None = Field(
        default=None, description="peers: median per-resident rate, or median count for an area without residents"
    )


class ComponentOut(BaseModel):
    indicator: str
    weight: float
    observed: int
    rate: float | None = Field(description="observed per `per_residents` residents")
    baselines: dict[str, BaselineOut] = Field(description="three_year, year_on_year, previous, peers")
    baseline_used: str | None = Field(description="null: none available, expected = observed")
    expected: float
    expected_rate: float | None
    ratio: float = Field(description="(observed + prior) / (expected + prior)")
    score: float = Field(description="clip(100 − slope·(ratio − 1), 0, 100)")
    contribution: float = Field(description="weight × score")


class AreaRef(BaseModel):
    code: str
    name: str
    level: Level
    parent_code: str | None


class PopulationOut(BaseModel):
    residents: int
    source: Literal["registry", "divisions", "none"]
    per_residents: int


class EscalationOut(BaseModel):
    notice: int
    interview: int


class BandsOut(BaseModel):
    green: float
    yellow: float
    orange: float


class ExplanationOut(BaseModel):
    area: AreaRef
    period: PeriodOut
    config: ConfigRef
    score: float
    band: Band
    red_streak: int
    escalation: EscalationOut
    stored: bool = Field(description="whether a score is stored for this period (false: computed just now)")
    population: PopulationOut
    baseline: str = Field(description="the configured baseline")
    prior: float
    slope: float
    components: list[ComponentOut]
    weighted: float = Field(description="Σ weight × component score, before the deduction for deaths")
    deaths: int
    deduction: float = Field(description="min(deaths × points per death, cap)")
    bands: BandsOut
    notes: list[str]


class IndexConfigOut(BaseModel):
    id: int
    name: str
    active: bool
    definition: dict[str, Any]
    created_by: int | None
    created_at: datetime


class IndexConfigCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    definition: dict[str, Any] = Field(
        default_factory=dict,
        description="indicators {name: weight} (crime_order, fire, traffic, disputes, hazards; weights > 0 "
        "adding up to 1), per_residents, baseline (three_year | year_on_year | previous | peers), scoring "
        "{prior, slope, death_points, death_cap}, bands {green, yellow, orange}, escalation {notice, interview}; "
        "anything left out takes the default",
        examples=[{"indicators": {"crime_order": 0.5, "fire": 0.2, "traffic": 0.2, "disputes": 0.1}}],
    )


class ActivationOut(BaseModel):
    config: IndexConfigOut
    job_id: int = Field(description="the job computing its scores; GET /api/v1/jobs/{id} shows its progress")
    message: str
