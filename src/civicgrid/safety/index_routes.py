"""Routes of the safety index (平安指数): the scores of a level (also ranked: the worst N areas), one area's
explanation and trend, and the index configurations.

Reading needs `safety:read` and is limited to the caller's area and below (an area outside it: 404).
Configurations are created and activated with `safety:admin`; activating queues a job that computes the
new configuration's scores for every period and switches to it when they are ready.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from civicgrid.auth.deps import PrincipalDep, SettingsDep
from civicgrid.core import jobs
from civicgrid.core.pagination import ListParams, Page, list_params
from civicgrid.core.web import SessionDep, get_database
from civicgrid.safety import index_queries, index_service
from civicgrid.safety.index_schemas import (
    ActivationOut,
    ExplanationOut,
    IndexConfigCreate,
    IndexConfigOut,
    IndexOut,
    Level,
    PeriodType,
    TrendOut,
)
from civicgrid.safety.models import SafetyIndexConfig

router = APIRouter(prefix="/safety", tags=["safety"])
ListDep = Annotated[ListParams, Depends(list_params)]
PeriodQuery = Annotated[PeriodType, Query(description="day, dekad (旬), week (ISO, Monday first) or month")]
DateQuery = Annotated[
    date | None, Query(description="any day of the period (local); default: the newest period with scores")
]


def _config_out(config: SafetyIndexConfig) -> IndexConfigOut:
    return IndexConfigOut(
        id=config.id,
        name=config.name,
        active=config.active,
        definition=config.definition,
        created_by=config.created_by,
        created_at=config.created_at,
    )


@router.get("/index", operation_id="safety_index", response_model=IndexOut)
def get_index(
    session: SessionDep,
    principal: PrincipalDep,
    period: PeriodQuery = "month",
    date: DateQuery = None,
    level: Annotated[Level | None, Query(description="default: the level below `parent`")] = None,
    parent: Annotated[str | None, Query(description="an area of your scope (default: your own)")] = None,
    order: Annotated[
        Literal["code", "worst", "best"], Query(description="worst: lowest score first (ranking)")
    ] = "code",
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="at most this many areas")] = None,
) -> IndexOut:
    """The index of every area of `level` under `parent` for one period; with `order=worst&limit=10`,
    the ten worst areas of that level."""
    result = index_queries.index_list(
        session,
        principal,
        period_type=period,
        day=date,
        level=level,
        parent_code=parent,
        order=order,
        limit=limit,
    )
    return IndexOut.model_validate(result)


@router.get("/index-configs", operation_id="safety_index_configs", response_model=Page[IndexConfigOut])
def list_configs(session: SessionDep, principal: PrincipalDep, params: ListDep) -> Page[IndexConfigOut]:
    """Every index configuration, oldest first; exactly one is active."""
    configs = index_service.list_configs(session, principal)
    start = (params.page - 1) * params.page_size
    items = [_config_out(c) for c in configs[start : start + params.page_size]]
    return Page[IndexConfigOut].of(items, len(configs), params)


@router.post(
    "/index-configs", operation_id="safety_index_config_create", response_model=IndexConfigOut, status_code=201
)
def create_config(session: SessionDep, principal: PrincipalDep, body: IndexConfigCreate) -> IndexConfigOut:
    """A new index configuration, inactive. Every problem of the definition is listed in one 422."""
    return _config_out(index_service.create_config(session, principal, body.name, body.definition))


@router.post(
    "/index-configs/{config_id}/activate", operation_id="safety_index_config_activate", response_model=ActivationOut
)
def activate_config(
    config_id: int, request: Request, session: SessionDep, principal: PrincipalDep, settings: SettingsDep
) -> ActivationOut:
    """Queue the job that computes this configuration's scores for every period and then makes it the active
    one (the index shown stays the current one until then)."""
    config = index_service.request_activation(session, principal, config_id)
    runner = jobs.runner_for(request.app.state, get_database(request), settings.job_workers)
    job = jobs.enqueue(
        session, principal, runner, index_service.ACTIVATION_JOB, "safety:admin", {"config_id": config_id}
    )
    return ActivationOut(
        config=_config_out(config),
        job_id=job.id,
        message=f"computing the scores of configuration {config_id} (job {job.id}); "
        "it becomes the active one when they are ready",
    )


@router.get("/index/{area_code}", operation_id="safety_index_explain", response_model=ExplanationOut)
def explain(
    area_code: str, session: SessionDep, principal: PrincipalDep, period: PeriodQuery = "month", date: DateQuery = None
) -> ExplanationOut:
    """One area's score explained: per indicator the observed count and rate, the four baselines, the one
    used, expected, ratio, component score and contribution; deaths and their deduction; residents."""
    return ExplanationOut.model_validate(
        index_queries.explain(session, principal, area_code, period_type=period, day=date)
    )


@router.get("/index/{area_code}/trend", operation_id="safety_index_trend", response_model=TrendOut)
def trend(
    area_code: str,
    session: SessionDep,
    principal: PrincipalDep,
    period: PeriodQuery = "month",
    count: Annotated[int, Query(ge=1, le=400, description="how many periods, ending with `date`'s")] = 12,
    date: DateQuery = None,
) -> TrendOut:
    """One area's scores over the last `count` periods."""
    return TrendOut.model_validate(
        index_queries.trend(session, principal, area_code, period_type=period, count=count, day=date)
    )
