"""Routes of the command centre: positions shared on duty, today's key figures, trends and rankings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from civicgrid.auth.deps import PrincipalDep, SettingsDep
from civicgrid.command import dashboard, positions
from civicgrid.command.schemas import (
    OverviewOut,
    OwnPositionOut,
    PositionIn,
    PositionsOut,
    RankBy,
    RankingOut,
    TrendOut,
    WorkerPositionOut,
)
from civicgrid.core.clock import utcnow
from civicgrid.core.web import SessionDep

router = APIRouter(prefix="/command", tags=["command"])

AreaQuery = Annotated[str | None, Query(description="an area inside yours (default: your own)")]
DaysQuery = Annotated[int, Query(description=f"local days back from today, 1 to {dashboard.MAX_DAYS}")]


@router.put("/positions/me", operation_id="command_share_position", response_model=OwnPositionOut)
def share_position(body: PositionIn, session: SessionDep, principal: PrincipalDep) -> OwnPositionOut:
    """Share your current position while on duty (grid workers). The first share of a duty period gives
    `duty_minutes` (at most 12 hours); the field app then sends the point every few minutes. Only your
    latest point is kept, and it is deleted when you stop sharing or the duty period ends."""
    now = utcnow()
    positions.share(session, principal, body.lon, body.lat, body.accuracy_m, body.duty_minutes, now=now)
    return OwnPositionOut.of(positions.own_status(session, principal, now=now))


@router.delete("/positions/me", operation_id="command_stop_sharing", status_code=204)
def stop_sharing(session: SessionDep, principal: PrincipalDep) -> Response:
    """Stop sharing: your position is deleted at once (nothing is kept). Answers 204 also when not sharing."""
    positions.stop(session, principal)
    return Response(status_code=204)


@router.get("/positions/me", operation_id="command_own_position", response_model=OwnPositionOut)
def own_position(session: SessionDep, principal: PrincipalDep) -> OwnPositionOut:
    """Whether you are sharing your position, the last point sent and until when."""
    return OwnPositionOut.of(positions.own_status(session, principal))


@router.get("/positions", operation_id="command_positions", response_model=PositionsOut)
def list_positions(session: SessionDep, principal: PrincipalDep, area_code: AreaQuery = None) -> PositionsOut:
    """Grid workers on duty sharing their position inside your area (last share at most 15 minutes old):
    name, grid, point and its age — no phone, no ID number."""
    now = utcnow()
    items = [WorkerPositionOut.of(p) for p in positions.on_duty(session, principal, area_code=area_code, now=now)]
    return PositionsOut(as_of=now, total=len(items), items=items)


@router.get("/overview", operation_id="command_overview", response_model=OverviewOut)
def get_overview(
    session: SessionDep, principal: PrincipalDep, settings: SettingsDep, area_code: AreaQuery = None
) -> OverviewOut:
    """Today's key figures of the area: new, closed, open and overdue cases, yellow and red cards, police calls
    today and yesterday, open warnings, workers on duty."""
    return OverviewOut.of(dashboard.overview(session, principal, area_code=area_code, tz=settings.tz))


@router.get("/trend", operation_id="command_trend", response_model=TrendOut)
def get_trend(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    area_code: AreaQuery = None,
    days: DaysQuery = 30,
) -> TrendOut:
    """Per day of the last `days`: cases reported, how many of them are closed, police calls per indicator."""
    return TrendOut.of(dashboard.trend(session, principal, area_code=area_code, days=days, tz=settings.tz))


@router.get("/ranking", operation_id="command_ranking", response_model=RankingOut)
def get_ranking(
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    by: Annotated[RankBy, Query(description="units: handling units; areas: the area's child areas")] = "units",
    area_code: AreaQuery = None,
    days: DaysQuery = 30,
) -> RankingOut:
    """Handling units by on-time closure rate, overdue and red cards; or child areas by police calls per
    10,000 residents and by overdue cases — over the last `days`."""
    return RankingOut.of(dashboard.ranking(session, principal, by=by, area_code=area_code, days=days, tz=settings.tz))
