"""Background jobs: queued only after commit, claimed once, progress, failures, recovery, visibility."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from tests.support.api import assert_error, auth_headers
from tests.support.city import CITY, COMMUNITY_A, TinyCity
from tests.support.imports import API, make_client

from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.config import Settings, random_secret
from civicgrid.core import clock, jobs
from civicgrid.core.db import Database
from civicgrid.core.errors import InvalidInput

CALLS: list[int] = []


@jobs.handler("test.echo")
def _echo(context: jobs.JobContext) -> dict[str, Any]:
    CALLS.append(context.job_id)
    for done in range(1, 4):
        context.progress(processed=done, succeeded=done, total=3, force=True)
    return {"echo": context.params.get("value"), "by": context.principal.username}


@jobs.handler("test.refuse")
def _refuse(context: jobs.JobContext) -> dict[str, Any]:
    raise jobs.JobFailed("the file was refused", {"rows": 0})


@jobs.handler("test.invalid")
def _invalid(context: jobs.JobContext) -> dict[str, Any]:
    raise InvalidInput("a person can act on this")


@jobs.handler("test.crash")
def _crash(context: jobs.JobContext) -> dict[str, Any]:
    raise RuntimeError("secret 340303198503141234 must not reach the job")


def _principal(username: str = "operator", user_id: int | None = None, code: str = CITY) -> Principal:
    level = Level.city if code == CITY else Level.community
    return Principal(
        user_id, username, Role.center_operator.value, ROLE_PERMISSIONS[Role.center_operator], Scope(code, level)
    )


@pytest.fixture
def runner(db: Database) -> Iterator[jobs.JobRunner]:
    runner = jobs.JobRunner(db, workers=2)
    yield runner
    runner.shutdown()


def _job(db: Database, job_id: int) -> jobs.Job:
    with db.unit_of_work(write=False) as s:
        job = s.get(jobs.Job, job_id)
        assert job is not None
        return job


def test_a_job_runs_only_after_its_transaction_commits(
    db: Database, runner: jobs.JobRunner, tiny_city: TinyCity
) -> None:
    CALLS.clear()
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        jobs.enqueue(s, _principal(), runner, "test.echo", "registry:import", {"value": 1})
        raise RuntimeError("the request failed")
    runner.wait()
    assert CALLS == []

    with db.unit_of_work() as s:
        job_id = jobs.enqueue(s, _principal(), runner, "test.echo", "registry:import", {"value": 2}).id
        with db.unit_of_work(write=False) as other:
            assert other.get(jobs.Job, job_id) is None  # not committed, so not started either
        assert CALLS == []
    runner.wait(job_id)
    job = _job(db, job_id)
    assert [job_id] == CALLS
    assert (job.status, job.processed, job.succeeded_rows, job.total) == ("succeeded", 3, 3, 3)
    assert job.result == {"echo": 2, "by": "operator"}
    assert job.started_at is not None and job.finished_at is not None and job.finished_at >= job.started_at


def test_a_job_is_claimed_once_even_when_submitted_twice(db: Database, tiny_city: TinyCity) -> None:
    CALLS.clear()
    with db.unit_of_work() as s:
        job_id = jobs.create_job(s, _principal(), "test.echo", "registry:import", {}).id
    results: list[str | None] = []
    threads = [threading.Thread(target=lambda: results.append(jobs.run_job(db, job_id))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("succeeded") == 1 and results.count(None) == 3
    assert [job_id] == CALLS


@pytest.mark.parametrize(
    ("kind", "message", "result"),
    [
        ("test.refuse", "the file was refused", {"rows": 0}),
        ("test.invalid", "a person can act on this", None),
        ("test.crash", "the job stopped on an internal error; the server log has the details", None),
    ],
)
def test_failures_end_the_job_with_a_message(
    db: Database, tiny_city: TinyCity, kind: str, message: str, result: dict[str, Any] | None
) -> None:
    with db.unit_of_work() as s:
        job_id = jobs.create_job(s, _principal(), kind, "registry:import", {}).id
    assert jobs.run_job(db, job_id) == "failed"
    job = _job(db, job_id)
    assert (job.status, job.message, job.result) == ("failed", message, result)
    assert "340303" not in (job.message or "")


def test_resume_fails_stale_running_jobs_and_runs_queued_ones(
    db: Database, runner: jobs.JobRunner, tiny_city: TinyCity
) -> None:
    with db.unit_of_work() as s:
        stale = jobs.create_job(s, _principal(), "test.echo", "registry:import", {}).id
        fresh = jobs.create_job(s, _principal(), "test.echo", "registry:import", {}).id
        queued = jobs.create_job(s, _principal(), "test.echo", "registry:import", {}).id
        now = clock.utcnow()
        s.execute(
            update(jobs.Job).where(jobs.Job.id == stale).values(status="running", heartbeat_at=now - timedelta(hours=2))
        )
        s.execute(update(jobs.Job).where(jobs.Job.id == fresh).values(status="running", heartbeat_at=now))
    assert runner.resume() == 1
    runner.wait()
    assert _job(db, stale).status == "failed" and "start it again" in (_job(db, stale).message or "")
    assert _job(db, fresh).status == "running"  # another process may still be on it
    assert _job(db, queued).status == "succeeded"


def test_live_progress_is_seen_while_the_row_lags(db: Database, tiny_city: TinyCity) -> None:
    with db.unit_of_work() as s:
        job = jobs.create_job(s, _principal(), "test.echo", "registry:import", {})
        job.status = "running"
    context = jobs.JobContext(job.id, job.kind, db, {}, _principal())
    context.progress(processed=5, total=10, force=True)
    context.progress(processed=7)  # within half a second: memory only
    stored = _job(db, job.id)
    assert stored.processed == 5
    assert jobs.current_progress(stored).processed == 7
    jobs._live_drop(job.id)


# -- the API -------------------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(mode="test", secret_key=random_secret(), serve_frontend=False, data_dir=tmp_path / "var")


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    yield from make_client(settings, db)


def test_a_job_is_visible_to_its_creator_and_to_holders_of_its_permission_in_scope(
    client: TestClient, db: Database, tiny_city: TinyCity
) -> None:
    creator = tiny_city.users["community.a"]
    with db.unit_of_work() as s:
        job_id = jobs.create_job(
            s, _principal("community.a", creator, COMMUNITY_A), "test.echo", "registry:import", {}
        ).id
    jobs.run_job(db, job_id)
    seen = client.get(f"{API}/jobs/{job_id}", headers=auth_headers(client, "community.a"))
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert (body["status"], body["processed"], body["error_report_url"]) == ("succeeded", 3, None)
    assert "params" not in body  # the stored principal and file paths stay inside
    assert client.get(f"{API}/jobs/{job_id}", headers=auth_headers(client, "district.operator")).status_code == 200
    for username in ("other.operator", "worker.a1", "police", "auditor"):
        assert_error(client.get(f"{API}/jobs/{job_id}", headers=auth_headers(client, username)), 404)
    assert_error(client.get(f"{API}/jobs/999999", headers=auth_headers(client, "operator")), 404)
    assert_error(client.get(f"{API}/jobs/{job_id}/error-report", headers=auth_headers(client, "community.a")), 404)
    assert_error(client.get(f"{API}/jobs/{job_id}"), 401)
