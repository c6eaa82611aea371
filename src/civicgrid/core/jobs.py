"""Background jobs: one `core_job` row per job, which the UI polls, and an in-process runner.

A request queues a job with `enqueue`: the row is written in the request's transaction and the runner
is handed the job only after that transaction committed (`core.db.after_commit`, DESIGN.md §3), so a
job never starts for a request that rolled back. The runner is a small thread pool. It claims a job with
one conditional UPDATE (`status = 'queued'` → `'running'`), so two runners — threads or processes, on
SQLite or PostgreSQL — never run the same job twice. A running job reports progress in its own short
transactions, so pollers see it move; progress is also kept in memory, so pollers in the same process
see it even while the job holds SQLite's write lock in one long transaction.

Handlers are registered per kind with `@handler("kind")`; they receive a `JobContext` (the database,
the job's parameters, the principal that queued it) and return the job's result (JSON). Raising
`JobFailed` ends the job as failed with a message a person can act on (and optionally a result).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicgrid.authz.policy import area_codes_of, in_scope
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Base, Database, after_commit
from civicgrid.core.errors import AppError, NotFound
from civicgrid.core.types import UTCDateTime

log = logging.getLogger(__name__)

JOB_STATUSES = ("queued", "running", "succeeded", "failed")
# A running job that has not reported for this long is taken to have died with its process.
STALE_AFTER = timedelta(minutes=30)
_PROGRESS_INTERVAL_SECONDS = 0.5


class Job(Base):
    """A unit of background work and its progress: queued → running → succeeded | failed."""

    __tablename__ = "core_job"
    __table_args__ = (CheckConstraint("status IN ('queued','running','succeeded','failed')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    permission: Mapped[str] = mapped_column(String(60))  # the permission that started it
    scope_code: Mapped[str] = mapped_column(String(15))  # the division its creator worked over
    created_by: Mapped[int | None] = mapped_column(ForeignKey("auth_user.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(60))  # user:1, apikey:3, system:cli
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total: Mapped[int | None] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    succeeded_rows: Mapped[int] = mapped_column(Integer, default=0)
    failed_rows: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(String(1000))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_report: Mapped[str | None] = mapped_column(String(500))  # path of the per-row error report


class JobFailed(Exception):
    """End the job as failed with `message` (shown to the user) and an optional result."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


# -- principals travel with the job ----------------------------------------------------------------------


def principal_to_json(principal: Principal) -> dict[str, Any]:
    return {
        "user_id": principal.user_id,
        "username": principal.username,
        "role": principal.role,
        "permissions": sorted(principal.permissions),
        "scope": {
            "division_code": principal.scope.division_code,
            "level": principal.scope.level.value,
            "department_id": principal.scope.department_id,
        },
        "api_key_id": principal.api_key_id,
        "unit_id": principal.unit_id,
    }


def principal_from_json(data: dict[str, Any]) -> Principal:
    scope = data["scope"]
    return Principal(
        user_id=data["user_id"],
        username=data["username"],
        role=data["role"],
        permissions=frozenset(data["permissions"]),
        scope=Scope(scope["division_code"], Level(scope["level"]), scope.get("department_id")),
        api_key_id=data.get("api_key_id"),
        unit_id=data.get("unit_id"),
    )


# -- handlers ----------------------------------------------------------------------------------------------


@dataclass
class Progress:
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    total: int | None = None
    message: str | None = None


ProgressHook = Callable[[Progress], None]


@dataclass
class JobContext:
    job_id: int
    kind: str
    database: Database
    params: dict[str, Any]
    principal: Principal
    hook: ProgressHook | None = None
    state: Progress = field(default_factory=Progress)
    _last_write: float = 0.0

    def progress(
        self,
        *,
        processed: int | None = None,
        succeeded: int | None = None,
        failed: int | None = None,
        total: int | None = None,
        message: str | None = None,
        in_session: Session | None = None,
        force: bool = False,
    ) -> None:
        """Record progress: in memory at once, in the job's row at most twice a second (or `force`).

        `in_session`: the caller holds a write transaction on SQLite (another connection would wait for
        it); the row is then updated inside that transaction, and pollers of this process read memory.
        """
        import time

        s = self.state
        if processed is not None:
            s.processed = processed
        if succeeded is not None:
            s.succeeded = succeeded
        if failed is not None:
            s.failed = failed
        if total is not None:
            s.total = total
        if message is not None:
            s.message = message
        _live_set(self.job_id, s)
        if self.hook is not None:
            self.hook(s)
        now = time.monotonic()
        if not force and now - self._last_write < _PROGRESS_INTERVAL_SECONDS:
            return
        self._last_write = now
        values = {
            "processed": s.processed,
            "succeeded_rows": s.succeeded,
            "failed_rows": s.failed,
            "total": s.total,
            "message": s.message,
            "heartbeat_at": utcnow(),
        }
        statement = update(Job).where(Job.id == self.job_id).values(**values)
        if in_session is not None and in_session.get_bind().dialect.name == "sqlite":
            in_session.execute(statement)
            return
        with self.database.unit_of_work() as session:
            session.execute(statement)

    def set_error_report(self, path: str | None) -> None:
        with self.database.unit_of_work() as session:
            session.execute(update(Job).where(Job.id == self.job_id).values(error_report=path))


Handler = Callable[[JobContext], dict[str, Any]]
_handlers: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind`."""

    def register(function: Handler) -> Handler:
        _handlers[kind] = function
        return function

    return register


def _handler_for(kind: str) -> Handler:
    if kind not in _handlers and kind.startswith("registry."):
        import civicgrid.registry.imports  # noqa: F401 - registers the registry handlers
    return _handlers[kind]


# -- live progress (this process) -----------------------------------------------------------------------

_live_lock = threading.Lock()
_live: dict[int, Progress] = {}


def _live_set(job_id: int, progress: Progress) -> None:
    with _live_lock:
        _live[job_id] = Progress(
            progress.processed, progress.succeeded, progress.failed, progress.total, progress.message
        )


def _live_drop(job_id: int) -> None:
    with _live_lock:
        _live.pop(job_id, None)


def live_progress(job_id: int) -> Progress | None:
    with _live_lock:
        return _live.get(job_id)


# -- queueing and running --------------------------------------------------------------------------------


def _load_models() -> None:
    """Every table (a job's foreign key names auth_user), for processes that have not loaded them."""
    import civicgrid.models  # noqa: F401


def create_job(session: Session, principal: Principal, kind: str, permission: str, params: dict[str, Any]) -> Job:
    _load_models()
    job = Job(
        kind=kind,
        status="queued",
        permission=permission,
        scope_code=principal.scope.division_code,
        created_by=principal.user_id,
        actor=principal.actor_label,
        params={**params, "principal": principal_to_json(principal)},
    )
    session.add(job)
    session.flush()
    return job


def enqueue(
    session: Session,
    principal: Principal,
    runner: JobRunner,
    kind: str,
    permission: str,
    params: dict[str, Any],
) -> Job:
    """Queue a job; the runner starts it only once `session` has committed."""
    job = create_job(session, principal, kind, permission, params)
    job_id = job.id
    after_commit(session, lambda: runner.start(job_id))
    return job


def _claim(database: Database, job_id: int) -> Job | None:
    now = utcnow()
    with database.unit_of_work() as session:
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return session.get(Job, job_id)


def _finish(
    database: Database,
    job_id: int,
    status: str,
    message: str | None,
    result: dict[str, Any] | None,
    progress: Progress,
) -> None:
    with database.unit_of_work() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status=status,
                finished_at=utcnow(),
                heartbeat_at=utcnow(),
                message=message[:1000] if message else None,
                result=result,
                processed=progress.processed,
                succeeded_rows=progress.succeeded,
                failed_rows=progress.failed,
                total=progress.total if progress.total is not None else Job.total,
            )
        )


def run_job(database: Database, job_id: int, hook: ProgressHook | None = None) -> str | None:
    """Claim and run one queued job in this thread; its final status (None if someone else claimed it)."""
    _load_models()
    job = _claim(database, job_id)
    if job is None:
        return None
    context = JobContext(
        job_id=job.id,
        kind=job.kind,
        database=database,
        params=dict(job.params),
        principal=principal_from_json(job.params["principal"]),
        hook=hook,
    )
    status, message, result = "succeeded", None, None
    try:
        result = _handler_for(job.kind)(context)
        message = result.get("message") if isinstance(result, dict) else None
    except JobFailed as exc:
        status, message, result = "failed", exc.message, exc.result
    except AppError as exc:
        status, message = "failed", exc.message
    except Exception:
        log.exception("job %s (%s) failed", job.id, job.kind)
        status, message = "failed", "the job stopped on an internal error; the server log has the details"
    try:
        _finish(database, job.id, status, message, result, context.state)
    finally:
        _live_drop(job.id)
    return status


def run_inline(
    database: Database,
    principal: Principal,
    kind: str,
    permission: str,
    params: dict[str, Any],
    work: Handler,
    hook: ProgressHook | None = None,
) -> tuple[Job, str, str | None]:
    """Run `work` now, in this thread, as a job the UI can see (commands): (job, status, message).

    The row is created already running, so no runner picks it up.
    """
    with database.unit_of_work() as session:
        job = create_job(session, principal, kind, permission, params)
        job.status, job.started_at, job.heartbeat_at = "running", utcnow(), utcnow()
    context = JobContext(job.id, kind, database, dict(params), principal, hook)
    status, message, result = "succeeded", None, None
    try:
        result = work(context)
    except JobFailed as exc:
        status, message, result = "failed", exc.message, exc.result
    except AppError as exc:
        status, message = "failed", exc.message
        _finish(database, job.id, status, message, result, context.state)
        raise
    finally:
        _live_drop(job.id)
    _finish(database, job.id, status, message, result, context.state)
    with database.unit_of_work(write=False) as session:
        finished = session.get(Job, job.id)
        assert finished is not None
    return finished, status, message


class JobRunner:
    """A small thread pool that runs queued jobs of this process."""

    def __init__(self, database: Database, workers: int = 2) -> None:
        self.database = database
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="civicgrid-job")
        self._lock = threading.Lock()
        self._futures: dict[int, Future[str | None]] = {}

    def submit(self, job_id: int) -> Future[str | None]:
        future = self._pool.submit(run_job, self.database, job_id)
        with self._lock:
            self._futures[job_id] = future
        return future

    def start(self, job_id: int) -> None:
        self.submit(job_id)

    def wait(self, job_id: int | None = None, timeout: float | None = 60.0) -> None:
        """Wait for one submitted job (or every one) to end (tests, shutdown)."""
        with self._lock:
            futures = [self._futures[job_id]] if job_id is not None else list(self._futures.values())
        for future in futures:
            future.result(timeout=timeout)

    def resume(self) -> int:
        """Fail jobs whose process died while running them; submit the queued ones. How many were queued."""
        cutoff = utcnow() - STALE_AFTER
        with self.database.unit_of_work() as session:
            session.execute(
                update(Job)
                .where(Job.status == "running", Job.heartbeat_at < cutoff)
                .values(
                    status="failed",
                    finished_at=utcnow(),
                    message="the server stopped while the job ran; start it again",
                )
            )
            queued = list(session.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.id)))
        for job_id in queued:
            self.submit(job_id)
        return len(queued)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


_runner_lock = threading.Lock()


def runner_for(state: Any, database: Database, workers: int = 2) -> JobRunner:
    """The runner kept on `state` (the app's state), created (and resumed) on first use."""
    with _runner_lock:
        runner: JobRunner | None = getattr(state, "job_runner", None)
        if runner is None or runner.database is not database:
            runner = JobRunner(database, workers)
            state.job_runner = runner
            runner.resume()
        return runner


# -- reading jobs ----------------------------------------------------------------------------------------


def may_see(session: Session, principal: Principal, job: Job) -> bool:
    """Its creator, or someone holding the permission that started it over a scope that contains it."""
    if principal.user_id is not None and job.created_by == principal.user_id:
        return True
    if not principal.can(job.permission):
        return False
    from civicgrid.geo.models import Division

    division = session.get(Division, job.scope_code)
    return division is not None and in_scope(principal, area_codes_of(division))


def get_job(session: Session, principal: Principal, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or not may_see(session, principal, job):
        raise NotFound(f"job {job_id} not found", details={"id": str(job_id)})
    return job


def current_progress(job: Job) -> Progress:
    """The job's progress: this process's live figures while it runs here, else the row's."""
    stored = Progress(job.processed, job.succeeded_rows, job.failed_rows, job.total, job.message)
    if job.status != "running":
        return stored
    live = live_progress(job.id)
    if live is None or live.processed < stored.processed:
        return stored
    return live
