"""What the routes of every file import share (the registry's, the 12345 hotline's, the safety feeds'):
the upload streamed to disk, then checked and queued as a job in a worker thread, and the file removed
when anything refuses it before the job owns it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from civicgrid.authz.scope import Principal
from civicgrid.config import Settings
from civicgrid.core import jobs
from civicgrid.core.job_routes import JobOut, job_out
from civicgrid.core.uploads import Upload, receive_upload, remove_quietly
from civicgrid.core.web import get_database


def imports_dir(settings: Settings) -> Path:
    """Where uploads wait for their job, and where the error reports are written."""
    return settings.data_dir / "imports"


def start_route(operation_id: str, upload_body: dict[str, Any]) -> dict[str, Any]:
    """The keywords of the POST route that starts an import: 202 with the job, 413 past the limit."""
    return {
        "operation_id": operation_id,
        "response_model": JobOut,
        "status_code": 202,
        "openapi_extra": upload_body,
        "responses": {413: {"description": "the file is larger than CIVICGRID_IMPORT_MAX_BYTES"}},
    }


async def receive_import(
    request: Request, filename: str | None, queue: Callable[[Upload], JobOut], *, keep_fields: bool = False
) -> JobOut:
    """Stream the body to disk (413 past CIVICGRID_IMPORT_MAX_BYTES), then `queue` it in a worker thread
    (it checks the file at once: 422 before any row is read); the file is removed if that fails."""
    settings: Settings = request.app.state.settings
    headers = {k.lower(): v for k, v in request.headers.items()}
    upload = await receive_upload(
        request.stream(), headers, imports_dir(settings), settings.import_max_bytes, filename, keep_fields=keep_fields
    )
    try:
        return await run_in_threadpool(queue, upload)
    except BaseException:
        remove_quietly(upload.path)
        raise


def enqueue_import(
    request: Request, principal: Principal, kind: str, permission: str, params: dict[str, Any]
) -> JobOut:
    """Queue the import's job (202): the app's runner picks it up."""
    settings: Settings = request.app.state.settings
    database = get_database(request)
    runner = jobs.runner_for(request.app.state, database, settings.job_workers)
    with database.unit_of_work() as session:
        job = jobs.enqueue(session, principal, runner, kind, permission, params)
    return job_out(job)
