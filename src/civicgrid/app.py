"""create_app(): the API under /api/v1, health and metrics, and the built single-page app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import inspect, text

from civicgrid import __version__
from civicgrid.audit.routes import router as audit_router
from civicgrid.auth.ratelimit import SlidingWindowLimiter
from civicgrid.auth.routes import keys_router, users_router
from civicgrid.auth.routes import router as auth_router
from civicgrid.config import Settings, get_settings
from civicgrid.core import broadcast, handlers
from civicgrid.core.crypto import configure_keyring
from civicgrid.core.db import Database
from civicgrid.core.errors import ERROR_RESPONSES
from civicgrid.core.jobs import runner_for
from civicgrid.core.observability import RequestContextMiddleware, configure_logging
from civicgrid.core.scheduler import ScheduleLease, Scheduler
from civicgrid.core.writegate import WriteGate
from civicgrid.open311.routes import install as install_open311

API_PREFIX = "/api/v1"
FRONTEND_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"


class MetaOut(BaseModel):
    version: str
    map_style_url: str | None
    timezone: str
    demo: bool


def _api_router() -> APIRouter:
    from civicgrid.cases.attachment_routes import router as case_attachments_router
    from civicgrid.cases.hotline_routes import router as hotline_router
    from civicgrid.cases.measures_routes import router as case_measures_router
    from civicgrid.cases.public_routes import router as public_cases_router
    from civicgrid.cases.routes import router as cases_router
    from civicgrid.cases.sla_routes import router as case_supervision_router
    from civicgrid.command.routes import router as command_router
    from civicgrid.core.calendar_routes import router as calendar_router
    from civicgrid.core.job_routes import router as jobs_router
    from civicgrid.disputes.routes import router as disputes_router
    from civicgrid.geo.public_routes import router as public_map_router
    from civicgrid.geo.routes import router as geo_router
    from civicgrid.notifications.routes import router as notifications_router
    from civicgrid.notifications.stream import router as stream_router
    from civicgrid.org.routes import router as org_router
    from civicgrid.registry.care_routes import router as care_router
    from civicgrid.registry.code_routes import router as codes_router
    from civicgrid.registry.entity_routes import router as entities_router
    from civicgrid.registry.import_routes import router as imports_router
    from civicgrid.registry.routes import router as registry_router
    from civicgrid.safety.feed_routes import router as safety_feed_router
    from civicgrid.safety.forecast_routes import router as safety_forecast_router
    from civicgrid.safety.index_routes import router as safety_index_router
    from civicgrid.safety.warning_routes import router as safety_warning_router

    api = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
    routers = (
        auth_router,
        users_router,
        keys_router,
        audit_router,
        geo_router,
        public_map_router,
        org_router,
        codes_router,
        care_router,
        registry_router,
        entities_router,
        imports_router,
        jobs_router,
        notifications_router,
        stream_router,
        calendar_router,
        case_attachments_router,
        hotline_router,
        case_measures_router,  # before cases_router: /cases/measures is not a case id
        case_supervision_router,  # before cases_router: /cases/sla-rules is not a case id
        cases_router,
        public_cases_router,
        disputes_router,
        safety_feed_router,
        safety_index_router,
        safety_warning_router,
        safety_forecast_router,
        command_router,
    )
    for router in routers:
        api.include_router(router)
    return api


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = database or Database(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Resume queued jobs (and fail ones a previous process died running) when the schema exists.
        if inspect(database.engine).has_table("core_job"):
            runner_for(app.state, database, settings.job_workers)
        # Live updates (LISTEN/NOTIFY on PostgreSQL); stopping the broadcaster ends every open stream.
        app.state.broadcaster.start()
        broadcast.install(app.state.broadcaster)
        # Periodic tasks (the SLA scan); every process may run one: a lease table lets one act per period.
        app.state.scheduler = _start_scheduler(database, settings)
        yield
        if app.state.scheduler is not None:
            app.state.scheduler.stop()
        broadcast.uninstall(app.state.broadcaster)
        app.state.broadcaster.stop()
        runner = getattr(app.state, "job_runner", None)
        if runner is not None:
            runner.shutdown(wait=False)

    app = FastAPI(
        lifespan=lifespan,
        title="civicgrid",
        version=__version__,
        summary="Municipal social governance platform (市域社会治理) — API",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database
    # Also installed process-wide, so jobs and commands outside requests use the same keys.
    app.state.keyring = configure_keyring(settings)
    app.state.broadcaster = broadcast.broadcaster_for(database)
    app.state.login_limiter = SlidingWindowLimiter(limit=settings.login_rate_per_minute, window_seconds=60)
    app.add_middleware(WriteGate, limit=settings.write_concurrency)
    app.add_middleware(RequestContextMiddleware)
    handlers.install(app)
    app.include_router(_api_router())
    install_open311(app)  # GeoReport v2 at /open311/v2/: its own error shape, not in the OpenAPI document

    @app.get(f"{API_PREFIX}/meta", operation_id="meta_get", response_model=MetaOut, tags=["meta"])
    def meta() -> MetaOut:
        """Public facts the UI needs before login."""
        return MetaOut(
            version=__version__,
            map_style_url=settings.map_style_url,
            timezone=settings.timezone,
            demo=settings.mode == "demo",
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        try:
            with database.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            return JSONResponse(
                {
                    "error": {
                        "code": "not_ready",
                        "message": f"database unreachable: {type(exc).__name__}",
                        "details": None,
                    }
                },
                status_code=503,
            )
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if settings.serve_frontend:
        _mount_spa(app, FRONTEND_DIST, _content_security_policy(settings))
    return app


def _start_scheduler(database: Database, settings: Settings) -> Scheduler | None:
    if not settings.runs_scheduler or not inspect(database.engine).has_table(ScheduleLease.__tablename__):
        return None
    from civicgrid.cases.supervision import TASK_NAME as SLA_SCAN

    scheduler = Scheduler(database, every={SLA_SCAN: timedelta(seconds=settings.sla_scan_seconds)})
    scheduler.start()
    return scheduler


def _content_security_policy(settings: Settings) -> str:
    """No third-party scripts ever; a configured basemap may load styles, tiles and glyphs over https."""
    remote = " https:" if settings.map_style_url else ""
    return (
        "default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src blob:; "
        f"img-src 'self' data: blob:{remote}; style-src 'self' 'unsafe-inline'; font-src 'self' data:{remote}; "
        f"connect-src 'self'{remote}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )


def _mount_spa(app: FastAPI, dist: Path, csp: str) -> None:
    """Serve the built UI; unknown non-API paths fall back to index.html for client-side routes."""
    index = dist / "index.html"
    html_headers = {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> Any:
        if path.startswith(("api/", "healthz", "readyz", "metrics")):
            return JSONResponse(
                {"error": {"code": "not_found", "message": f"no such endpoint: /{path}", "details": None}},
                status_code=404,
            )
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and dist.resolve() in candidate.parents:
            return FileResponse(candidate)
        if index.is_file():
            return FileResponse(index, headers=html_headers)
        return PlainTextResponse(
            "The web UI is not built. Run `make demo` (or `make frontend`) to build it; the API is at /api/v1/docs.",
            status_code=503,
        )


def serve_app() -> FastAPI:
    """Factory for uvicorn (`civicgrid serve` and `make dev`)."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
