"""HTTP routes of background jobs (mounted under /api/v1): poll a job, list yours, fetch its error report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from civicgrid.auth.deps import PrincipalDep
from civicgrid.core import jobs
from civicgrid.core.errors import NotFound
from civicgrid.core.pagination import ListParams, Page, list_params, paginate
from civicgrid.core.web import SessionDep

router = APIRouter(prefix="/jobs", tags=["jobs"])
ListDep = Annotated[ListParams, Depends(list_params)]


class JobOut(BaseModel):
    id: int
    kind: str = Field(description="e.g. registry.import.people")
    status: str = Field(description="queued, running, succeeded or failed")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    total: int | None = Field(description="rows (or units) to process, when known")
    processed: int
    succeeded_rows: int
    failed_rows: int
    message: str | None
    result: dict[str, Any] | None
    error_report_url: str | None = Field(description="the per-row error report (CSV), when there is one")


def job_out(job: jobs.Job) -> JobOut:
    progress = jobs.current_progress(job)
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        total=progress.total,
        processed=progress.processed,
        succeeded_rows=progress.succeeded,
        failed_rows=progress.failed,
        message=progress.message,
        result=job.result,
        error_report_url=f"/api/v1/jobs/{job.id}/error-report" if job.error_report else None,
    )


@router.get("", operation_id="jobs_list_mine", response_model=Page[JobOut])
def list_my_jobs(session: SessionDep, principal: PrincipalDep, params: ListDep) -> Page[JobOut]:
    """The jobs you started, newest first."""
    query = select(jobs.Job).where(jobs.Job.actor == principal.actor_label).order_by(jobs.Job.id.desc())
    rows, total = paginate(session, query, params)
    return Page[JobOut].of([job_out(j) for j in rows], total, params)


@router.get("/{job_id}", operation_id="jobs_get", response_model=JobOut)
def get_job(job_id: int, session: SessionDep, principal: PrincipalDep) -> JobOut:
    """A job and its progress (poll it); visible to its creator and to holders of the permission that
    started it whose scope contains it."""
    return job_out(jobs.get_job(session, principal, job_id))


@router.get(
    "/{job_id}/error-report",
    operation_id="jobs_error_report",
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "row, column, field, value (masked), reason"}},
)
def error_report(job_id: int, session: SessionDep, principal: PrincipalDep) -> FileResponse:
    """The job's per-row error report as CSV (UTF-8 with BOM, so Excel opens it); identifiers masked."""
    job = jobs.get_job(session, principal, job_id)
    if not job.error_report or not Path(job.error_report).is_file():
        raise NotFound(f"job {job_id} has no error report", details={"id": str(job_id)})
    return FileResponse(job.error_report, media_type="text/csv; charset=utf-8", filename=f"job-{job.id}-errors.csv")
