"""Periodic tasks run by the application itself (DESIGN.md §3: background timers), safe with many processes.

A task is registered with `@periodic("name", every=timedelta(...))`; it receives the database and the
moment it is run for, and opens its own units of work. That shape is deliberate: on SQLite a write
transaction holds the one write lock of the whole database, so a heavy task (the index recompute, surge
detection) reads and computes in a read session (`unit_of_work(write=False)`, which never blocks writers
under WAL) and writes its results in short write transactions; a light task simply does everything in one
`unit_of_work()`. A failing task is logged — its name, the exception's type and where it was raised, never
its message, which may quote data — and the scheduler goes on.

Any number of API workers (threads or processes, on SQLite or PostgreSQL) may run a scheduler: before a
task runs, its row in `core_schedule_lease` is claimed with one conditional UPDATE (like a job in
`core.jobs`): it succeeds only when the task's period has passed since its last run and no other holder's
lease is current. So a task runs in one process per period; a run that outlives its period keeps others
off with its lease, and a process that dies mid-run blocks the task only until its lease ends.

The app's lifespan starts a `Scheduler` (a daemon thread) when `scheduler_enabled` (not in test mode);
tests and commands call `run_due(database, now)` directly.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, or_, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicgrid.core.clock import utcnow
from civicgrid.core.db import Base, Database, dialect_insert
from civicgrid.core.types import UTCDateTime

log = logging.getLogger(__name__)

# Modules whose import registers their periodic tasks.
TASK_MODULES: tuple[str, ...] = (
    "civicgrid.cases.supervision",
    "civicgrid.command.positions",
    "civicgrid.command.report_schedule",
    "civicgrid.safety.hotspot_warnings",
    "civicgrid.safety.jobs",
    "civicgrid.safety.warning_jobs",
)
DEFAULT_LEASE = timedelta(minutes=15)


class ScheduleLease(Base):
    """Who runs a periodic task now (until when), and when it last started, shared by every process."""

    __tablename__ = "core_schedule_lease"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(10))  # ok | failed


TaskFunction = Callable[[Database, datetime], object]


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    every: timedelta
    function: TaskFunction
    lease: timedelta = DEFAULT_LEASE


_tasks: dict[str, PeriodicTask] = {}


def periodic(
    name: str, *, every: timedelta, lease: timedelta = DEFAULT_LEASE
) -> Callable[[TaskFunction], TaskFunction]:
    """Register `function(database, now)` to run every `every` (in one process per period)."""
    if every <= timedelta(0):
        raise ValueError(f"task {name!r}: the period must be positive")

    def register(function: TaskFunction) -> TaskFunction:
        _tasks[name] = PeriodicTask(name, every, function, max(lease, timedelta(seconds=1)))
        return function

    return register


def load_tasks() -> dict[str, PeriodicTask]:
    """Every registered task (importing the modules that register them, and every table they may touch)."""
    for module in ("civicgrid.models", *TASK_MODULES):
        importlib.import_module(module)
    return dict(_tasks)


def new_holder() -> str:
    """A name for this scheduler in the lease table: host, process and a random suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class TaskRun:
    name: str
    status: str  # ok | failed
    seconds: float
    result: object = None


def _ensure_row(session: Session, name: str) -> None:
    session.execute(dialect_insert(session, ScheduleLease).values(name=name).on_conflict_do_nothing())


def claim(database: Database, task: PeriodicTask, now: datetime, holder: str, every: timedelta | None = None) -> bool:
    """Take the task's lease if its period has passed and nobody holds it (one conditional UPDATE)."""
    period = every or task.every
    with database.unit_of_work() as session:
        _ensure_row(session, task.name)
        claimed = session.execute(
            update(ScheduleLease)
            .where(
                ScheduleLease.name == task.name,
                or_(ScheduleLease.lease_until.is_(None), ScheduleLease.lease_until <= now),
                or_(ScheduleLease.last_run_at.is_(None), ScheduleLease.last_run_at <= now - period),
            )
            .values(holder=holder, lease_until=now + task.lease, last_run_at=now)
        )
        return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def _release(database: Database, name: str, holder: str, status: str) -> None:
    with database.unit_of_work() as session:
        session.execute(
            update(ScheduleLease)
            .where(ScheduleLease.name == name, ScheduleLease.holder == holder)
            .values(holder=None, lease_until=None, last_finished_at=utcnow(), last_status=status)
        )


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno} in {last.name}"


def run_task(database: Database, task: PeriodicTask, now: datetime) -> TaskRun:
    """Run one task now (no lease: callers claim first); the task opens its own units of work."""
    started = time.perf_counter()
    try:
        result = task.function(database, now)
    except Exception as exc:
        # Never the message: database errors quote the rows they refused.
        log.error("scheduled task %s failed: %s at %s", task.name, type(exc).__name__, _where(exc))
        return TaskRun(task.name, "failed", time.perf_counter() - started)
    seconds = time.perf_counter() - started
    log.info("scheduled task %s ran in %.2f s", task.name, seconds)
    return TaskRun(task.name, "ok", seconds, result)


def run_due(
    database: Database,
    now: datetime | None = None,
    *,
    every: Mapping[str, timedelta] | None = None,
    holder: str | None = None,
    only: Iterable[str] | None = None,
) -> list[TaskRun]:
    """Run every task whose period has passed and that this caller could claim; what ran.

    `every` overrides registered periods by name (from settings); `only` limits the tasks considered.
    """
    now = now or utcnow()
    holder = holder or new_holder()
    tasks = load_tasks()
    wanted = set(only) if only is not None else None
    runs = []
    for name in sorted(tasks):
        if wanted is not None and name not in wanted:
            continue
        task = tasks[name]
        if not claim(database, task, now, holder, (every or {}).get(name)):
            continue
        run = run_task(database, task, now)
        try:
            _release(database, name, holder, run.status)
        except Exception as exc:  # the lease then simply runs out
            log.error("could not release the lease of %s: %s", name, type(exc).__name__)
        runs.append(run)
    return runs


class Scheduler:
    """A daemon thread that runs due tasks every `tick` seconds until stopped."""

    def __init__(
        self,
        database: Database,
        *,
        every: Mapping[str, timedelta] | None = None,
        tick: timedelta = timedelta(seconds=15),
    ) -> None:
        self.database = database
        self.every = dict(every or {})
        self.tick = tick
        self.holder = new_holder()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        load_tasks()
        self._halt.clear()
        self._thread = threading.Thread(target=self._loop, name="civicgrid-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop ticking; a task running now finishes first (up to `timeout` seconds)."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_due(self, now: datetime | None = None) -> list[TaskRun]:
        return run_due(self.database, now, every=self.every, holder=self.holder)

    def _loop(self) -> None:
        while not self._halt.is_set():
            try:
                self.run_due()
            except Exception as exc:  # e.g. the database is unreachable: try again next tick
                log.error("the scheduler could not run its tasks: %s at %s", type(exc).__name__, _where(exc))
            self._halt.wait(self.tick.total_seconds())
