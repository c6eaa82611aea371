"""Bodies of the case measures: a group's figures, the grouped answer, and today's key figures."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from civicgrid.cases.measures import Figures, Measures, Summary

GroupBy = Literal["area", "unit", "category", "period"]
Period = Literal["day", "week", "month"]
CategoryLevel = Literal["class", "leaf"]


class ClosureShares(BaseModel):
    """Shares of the closed cases by the rung they were closed at (None when nothing was closed)."""

    grid: float | None = Field(description="网格自结率: closed within the grid")
    community: float | None
    street: float | None
    district: float | None
    city: float | None


class MeasureGroupOut(BaseModel):
    key: str | None = Field(description="division code, unit id, category code or period; None: no lead unit")
    name: str | None
    reported: int
    closed: int
    on_time: int
    on_time_rate: float | None = Field(description="closed by the handling deadline, over closed")
    closure_shares: ClosureShares
    mean_hours: float | None = Field(description="mean hours from report to closure")
    p90_hours: float | None = Field(description="90th percentile of hours from report to closure")
    open_overdue: int
    yellow_cards: int
    red_cards: int
    satisfaction_mean: float | None
    satisfaction_count: int

    @classmethod
    def of(cls, f: Figures) -> MeasureGroupOut:
        return cls(
            key=f.key,
            name=f.name,
            reported=f.reported,
            closed=f.closed,
            on_time=f.on_time,
            on_time_rate=f.on_time_rate,
            closure_shares=ClosureShares(**f.closure_shares),
            mean_hours=f.mean_hours,
            p90_hours=f.p90_hours,
            open_overdue=f.open_overdue,
            yellow_cards=f.yellow_cards,
            red_cards=f.red_cards,
            satisfaction_mean=f.satisfaction_mean,
            satisfaction_count=f.satisfaction_count,
        )


class MeasuresOut(BaseModel):
    group_by: GroupBy
    area_code: str
    area_name: str
    period: Period | None
    category_level: CategoryLevel | None
    groups: list[MeasureGroupOut]
    total: MeasureGroupOut

    @classmethod
    def of(cls, m: Measures) -> MeasuresOut:
        return cls(
            group_by=m.group_by,
            area_code=m.area_code,
            area_name=m.area_name,
            period=m.period,
            category_level=m.category_level,
            groups=[MeasureGroupOut.of(g) for g in m.groups],
            total=MeasureGroupOut.of(m.total),
        )


class MeasuresSummaryOut(BaseModel):
    area_code: str
    area_name: str
    as_of: datetime
    new_today: int = Field(description="reported since local midnight")
    closed_today: int = Field(description="closed since local midnight")
    open: int
    overdue: int = Field(description="open and past the current deadline")
    yellow_cards: int = Field(description="open cases carrying a yellow card")
    red_cards: int = Field(description="open cases carrying a red card")
    satisfaction_mean_30d: float | None
    satisfaction_count_30d: int

    @classmethod
    def of(cls, s: Summary) -> MeasuresSummaryOut:
        return cls(**vars(s))
