"""Registry import/export tests: an app with the job and import routers, files to upload, polling jobs."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from civicgrid.config import Settings
from civicgrid.core.db import Database
from civicgrid.core.idnumber import Sex, make_id_number

API = "/api/v1"


def mount_routers(app: FastAPI) -> None:
    """Include the jobs and registry import/export routers unless create_app already does."""
    from civicgrid.core.job_routes import router as job_router
    from civicgrid.registry.import_routes import router as import_router

    paths = {getattr(route, "path", "") for route in app.routes}
    if f"{API}/jobs/{{job_id}}" not in paths:
        app.include_router(job_router, prefix=API)
    if f"{API}/registry/imports/{{entity}}" not in paths:
        app.include_router(import_router, prefix=API)


def make_client(settings: Settings, db: Database) -> Iterator[TestClient]:
    from civicgrid.app import create_app

    app = create_app(settings, db)
    mount_routers(app)
    with TestClient(app) as client:
        yield client
    runner = getattr(app.state, "job_runner", None)
    if runner is not None:
        runner.shutdown(wait=True)


def person_id(year: int, seq: int, sex: Sex = Sex.male, region: str = "340303") -> str:
    return make_id_number(region, date(year, 1 + seq % 12, 1 + seq % 28), seq, sex)


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def wait_for(client: TestClient, job_id: int, headers: dict[str, str], timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"{API}/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.05)


def start_import(
    client: TestClient,
    headers: dict[str, str],
    data: bytes,
    entity: str = "people",
    *,
    filename: str = "people.csv",
    multipart: bool = False,
    **params: Any,
) -> Any:
    query = {k: v for k, v in params.items() if v is not None}
    if multipart:
        return client.post(
            f"{API}/registry/imports/{entity}", params=query, headers=headers, files={"file": (filename, data)}
        )
    return client.post(
        f"{API}/registry/imports/{entity}",
        params={**query, "filename": filename},
        headers={**headers, "Content-Type": "application/octet-stream"},
        content=data,
    )


def run_import(
    client: TestClient, headers: dict[str, str], data: bytes, entity: str = "people", **params: Any
) -> dict[str, Any]:
    response = start_import(client, headers, data, entity, **params)
    assert response.status_code == 202, response.text
    return wait_for(client, response.json()["id"], headers)


def report_rows(client: TestClient, job: dict[str, Any], headers: dict[str, str]) -> list[dict[str, str]]:
    assert job["error_report_url"], job
    response = client.get(job["error_report_url"], headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))
