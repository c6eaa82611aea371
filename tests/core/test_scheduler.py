"""The in-process scheduler: periods, leases shared by every process, failures that are logged and survived."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from civicgrid.config import Settings, random_secret
from civicgrid.core import scheduler
from civicgrid.core.db import Database
from civicgrid.core.scheduler import ScheduleLease, claim, periodic, run_due

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
EVERY = timedelta(minutes=5)


@pytest.fixture
def calls() -> Iterator[list[datetime]]:
    """A task `test.tick` that records when it ran (unregistered afterwards)."""
    seen: list[datetime] = []

    @periodic("test.tick", every=EVERY)
    def tick(database: Database, now: datetime) -> int:
        seen.append(now)
        return len(seen)

    yield seen
    scheduler._tasks.pop("test.tick", None)


def _lease(db: Database, name: str) -> ScheduleLease | None:
    with db.unit_of_work(write=False) as session:
        return session.get(ScheduleLease, name)


def test_a_task_runs_once_per_period(db: Database, calls: list[datetime]) -> None:
    runs = run_due(db, T0, only=["test.tick"])
    assert [(r.name, r.status, r.result) for r in runs] == [("test.tick", "ok", 1)]
    assert run_due(db, T0 + timedelta(minutes=1), only=["test.tick"]) == []
    assert run_due(db, T0 + EVERY - timedelta(seconds=1), only=["test.tick"]) == []
    assert [r.name for r in run_due(db, T0 + EVERY, only=["test.tick"])] == ["test.tick"]
    assert calls == [T0, T0 + EVERY]
    lease = _lease(db, "test.tick")
    assert lease is not None and lease.holder is None and lease.lease_until is None
    assert lease.last_run_at == T0 + EVERY and lease.last_status == "ok"


def test_settings_override_the_registered_period(db: Database, calls: list[datetime]) -> None:
    every = {"test.tick": timedelta(minutes=1)}
    run_due(db, T0, only=["test.tick"], every=every)
    run_due(db, T0 + timedelta(minutes=1), only=["test.tick"], every=every)
    assert len(calls) == 2


def test_a_current_lease_keeps_other_processes_off_until_it_ends(db: Database, calls: list[datetime]) -> None:
    task = scheduler.load_tasks()["test.tick"]
    assert claim(db, task, T0, "host-a:1:aaaa")
    # Another process, even once the period has passed, while host A's lease (15 min) runs.
    assert not claim(db, task, T0 + EVERY, "host-b:2:bbbb")
    assert run_due(db, T0 + timedelta(minutes=10), only=["test.tick"], holder="host-b:2:bbbb") == []
    # Host A died without releasing: after its lease the task runs elsewhere.
    runs = run_due(db, T0 + task.lease, only=["test.tick"], holder="host-b:2:bbbb")
    assert [r.status for r in runs] == ["ok"] and calls == [T0 + task.lease]


def test_schedulers_racing_for_a_task_run_it_once(db: Database, calls: list[datetime]) -> None:
    barrier = threading.Barrier(4)
    results: list[int] = []

    def racer(n: int) -> None:
        barrier.wait()
        results.append(len(run_due(db, T0, only=["test.tick"], holder=f"racer-{n}")))

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [0, 0, 0, 1]
    assert calls == [T0]


def test_a_failing_task_is_logged_without_its_message_rolled_back_and_not_fatal(
    db: Database, calls: list[datetime], caplog: pytest.LogCaptureFixture
) -> None:
    @periodic("test.broken", every=EVERY)
    def broken(database: Database, now: datetime) -> None:
        with database.unit_of_work() as session:
            session.add(ScheduleLease(name="test.written-then-failed"))
            session.flush()
            raise ValueError("张三 13800138000 refused")  # a message that quotes personal data

    try:
        with caplog.at_level(logging.INFO, logger="civicgrid.core.scheduler"):
            runs = run_due(db, T0, only=["test.broken", "test.tick"])
    finally:
        scheduler._tasks.pop("test.broken", None)
    assert [(r.name, r.status) for r in runs] == [("test.broken", "failed"), ("test.tick", "ok")]
    assert "test.broken failed: ValueError at test_scheduler.py" in caplog.text
    assert "张三" not in caplog.text and "13800138000" not in caplog.text
    assert _lease(db, "test.written-then-failed") is None  # the task's unit of work rolled back
    failed = _lease(db, "test.broken")
    assert failed is not None and failed.last_status == "failed" and failed.holder is None


def test_the_scheduler_thread_runs_due_tasks_and_stops(db: Database) -> None:
    ran = threading.Event()

    @periodic("test.signal", every=EVERY)
    def signal(database: Database, now: datetime) -> None:
        ran.set()

    runner = scheduler.Scheduler(db, tick=timedelta(hours=1))
    try:
        runner.start()
        assert ran.wait(30), "the scheduler did not run its due task"
        assert runner.running
    finally:
        runner.stop()
        scheduler._tasks.pop("test.signal", None)
    assert not runner.running


def test_the_app_runs_the_scheduler_only_when_enabled(db: Database) -> None:
    from civicgrid.app import create_app

    quiet = Settings(mode="test", secret_key=random_secret(), serve_frontend=False)
    assert not quiet.runs_scheduler
    with TestClient(create_app(quiet, db)) as client:
        assert getattr(client.app.state, "scheduler", None) is None  # type: ignore[attr-defined]

    enabled = quiet.model_copy(update={"scheduler_enabled": True, "sla_scan_seconds": 60})
    with TestClient(create_app(enabled, db)) as client:
        running = client.app.state.scheduler  # type: ignore[attr-defined]
        assert running.running
        assert running.every == {"cases.sla_scan": timedelta(seconds=60)}
    assert not running.running
    with db.unit_of_work(write=False) as session:
        names = set(session.scalars(select(ScheduleLease.name)))
    # The SLA scan, the purge of ended duty positions and the safety index and warning tasks may have run once
    # at start-up (with nothing to do).
    assert names <= {
        "cases.sla_scan",
        "command.position_purge",
        "command.reports",
        "safety.hotspots",
        "safety.index_recompute",
        "safety.warnings",
    }
    assert Settings(mode="demo").runs_scheduler
