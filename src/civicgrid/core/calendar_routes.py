"""HTTP routes of the working-day calendar: everyone signed in reads it; administrators edit it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, Field

from civicgrid.auth.deps import PrincipalDep, SettingsDep
from civicgrid.core import workcalendar
from civicgrid.core.errors import InvalidInput
from civicgrid.core.web import SessionDep

router = APIRouter(prefix="/calendar", tags=["calendar"])
DayPath = Annotated[date, Path(description="the date, YYYY-MM-DD")]


class CalendarDayOut(BaseModel):
    day: date
    kind: Literal["holiday", "workday"] = Field(description="holiday: a day off; workday: a weekend day worked")
    name: str
    weekday: int = Field(description="ISO weekday, 1 = Monday … 7 = Sunday")


class CalendarDayIn(BaseModel):
    kind: Literal["holiday", "workday"] = Field(
        description="holiday (a day off, e.g. 劳动节) or workday (调休上班: a Saturday or Sunday worked)"
    )
    name: str = Field(min_length=1, max_length=100, description="e.g. 劳动节, 春节调休上班")


class DeadlineOut(BaseModel):
    start: datetime
    days: float
    deadline: datetime = Field(description="the deadline in UTC")
    deadline_local: datetime = Field(description="the same moment in the platform's time zone")
    timezone: str
    calendar_complete: bool = Field(
        description="false when a year between start and deadline has no holiday entries (weekends only)"
    )


def _out(entry: workcalendar.CalendarDay) -> CalendarDayOut:
    return CalendarDayOut(
        day=entry.day,
        kind=entry.kind,
        name=entry.name,
        weekday=entry.day.isoweekday(),
    )


@router.get("/days", operation_id="calendar_list_days", response_model=list[CalendarDayOut])
def list_days(
    session: SessionDep,
    principal: PrincipalDep,
    year: Annotated[int | None, Query(ge=1900, le=2999, description="only this year's entries")] = None,
) -> list[CalendarDayOut]:
    """The dates that depart from the weekend rule (holidays and make-up working days), by date."""
    return [_out(entry) for entry in workcalendar.list_days(session, year)]


@router.put("/days/{day}", operation_id="calendar_set_day", response_model=CalendarDayOut)
def set_day(day: DayPath, body: CalendarDayIn, session: SessionDep, principal: PrincipalDep) -> CalendarDayOut:
    """Make a date a holiday or a make-up working day (a workday must be a Saturday or Sunday)."""
    return _out(workcalendar.set_day(session, principal, day, body.kind, body.name))


@router.delete("/days/{day}", operation_id="calendar_remove_day", status_code=204, response_class=Response)
def remove_day(day: DayPath, session: SessionDep, principal: PrincipalDep) -> Response:
    """Remove a date's entry: it follows the weekend rule again."""
    workcalendar.remove_day(session, principal, day)
    return Response(status_code=204)


@router.get("/working-days", operation_id="calendar_deadline", response_model=DeadlineOut)
def deadline(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    start: Annotated[AwareDatetime, Query(description="ISO 8601 with offset, e.g. 2026-04-30T15:20:00+08:00")],
    days: Annotated[float, Query(ge=0, le=workcalendar.MAX_DAYS, description="working days; fractions allowed")],
) -> DeadlineOut:
    """The deadline `days` working days after `start` (weekends, holidays and make-up days counted)."""
    calendar = workcalendar.load_calendar(session, settings.tz)
    try:
        end = calendar.add_working_days(start, days)
    except ValueError as exc:  # pragma: no cover - the query's bounds refuse these first
        raise InvalidInput(str(exc), details=[{"field": "days", "problem": str(exc)}]) from exc
    local = end.astimezone(settings.tz)
    return DeadlineOut(
        start=start,
        days=days,
        deadline=end,
        deadline_local=local,
        timezone=settings.timezone,
        calendar_complete=calendar.covers(start.astimezone(settings.tz).date(), local.date()),
    )
