"""HTTP routes of the case measures (考核指标) and today's key figures (the command centre's header)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from civicgrid.auth.deps import PrincipalDep, SettingsDep
from civicgrid.cases import measures
from civicgrid.cases.measures_schemas import CategoryLevel, GroupBy, MeasuresOut, MeasuresSummaryOut, Period
from civicgrid.core.web import SessionDep

# Registered before the cases router, so `/cases/measures` is not taken for a case id.
router = APIRouter(prefix="/cases/measures", tags=["cases"])


@router.get("", operation_id="cases_measures", response_model=MeasuresOut)
def get_measures(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    group_by: Annotated[GroupBy, Query(description="area: the child divisions of area_code; unit: lead unit")] = "area",
    area_code: Annotated[str | None, Query(description="the area (default: your own); filters every grouping")] = None,
    period: Annotated[Period, Query(description="for group_by=period, in the platform's time zone")] = "month",
    category_level: Annotated[CategoryLevel, Query(description="for group_by=category")] = "class",
    since: Annotated[datetime | None, Query(description="reported at or after (no offset: local time)")] = None,
    until: Annotated[datetime | None, Query(description="reported before (no offset: local time)")] = None,
    category_code: Annotated[str | None, Query(description="a category, or a class's 2 digits")] = None,
) -> MeasuresOut:
    """Cases reported, closed, on-time closure rate, closure-level shares (网格自结率 …), handling hours
    (mean, 90th percentile), open overdue, cards and satisfaction, per group and in total."""
    tz = settings.tz
    query = measures.MeasureQuery(
        group_by=group_by,
        area_code=area_code,
        period=period,
        category_level=category_level,
        since=since if since is None or since.tzinfo else since.replace(tzinfo=tz),
        until=until if until is None or until.tzinfo else until.replace(tzinfo=tz),
        category_code=category_code,
    )
    return MeasuresOut.of(measures.measures(session, principal, query, tz=tz))


@router.get("/summary", operation_id="cases_measures_summary", response_model=MeasuresSummaryOut)
def get_summary(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    area_code: Annotated[str | None, Query(description="an area inside yours (default: your own)")] = None,
) -> MeasuresSummaryOut:
    """Today's key figures of your area: new and closed today, open, overdue, carded, satisfaction (30 days)."""
    return MeasuresSummaryOut.of(measures.summary(session, principal, area_code=area_code, tz=settings.tz))
