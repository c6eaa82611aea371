"""`civicgrid …`: set up, load the demo city, serve, administer accounts, verify the audit trail."""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from civicgrid.authz.permissions import Role
from civicgrid.config import Settings, get_settings
from civicgrid.core.db import Database
from civicgrid.core.errors import AppError

app = typer.Typer(help="civicgrid — municipal social governance platform", no_args_is_help=True)
users_cli = typer.Typer(help="User accounts", no_args_is_help=True)
audit_cli = typer.Typer(help="The audit trail", no_args_is_help=True)
app.add_typer(users_cli, name="users")
app.add_typer(audit_cli, name="audit")
cases_cli = typer.Typer(help="Cases: supervision, the 12345 hotline import", no_args_is_help=True)
app.add_typer(cases_cli, name="cases")
# Piped output (CI logs, `make demo | tee`) gets a readable width instead of Rich's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError, wrapping UnsafeConfigError among others
        err.print(f"[red]refusing to start — invalid configuration:[/red] {exc}")
        raise typer.Exit(2) from exc


def _database(settings: Settings) -> Database:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(settings.resolved_database_url)


def _fail(exc: AppError) -> None:
    err.print(f"[red]error:[/red] {exc.message}")
    if exc.details:
        problems = exc.details if isinstance(exc.details, list) else [exc.details]
        for problem in problems[:50]:
            err.print(f"  - {json.dumps(problem, ensure_ascii=False)}")
        if isinstance(exc.details, list) and len(exc.details) > 50:
            err.print(f"  … and {len(exc.details) - 50} more")
    raise typer.Exit(1)


def parse_day(value: str | None, option: str) -> date | None:
    """A command's day option (YYYY-MM-DD); a clear usage error otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{option} must be a day as YYYY-MM-DD, not {value!r}") from None


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )


@app.command()
def init() -> None:
    """Create the database (if needed) and bring its schema up to date."""
    from civicgrid.core.migrate import upgrade
    from civicgrid.seeds import load_reference_data

    settings = _settings()
    database = _database(settings)
    upgrade(settings.resolved_database_url)
    with database.unit_of_work() as session:
        loaded = load_reference_data(session)
    database.dispose()
    console.print(f"schema up to date: {settings.resolved_database_url.split('@')[-1]}")
    for table, count in loaded.items():
        if count:
            console.print(f"loaded {count} default entries of the {table}")


@app.command()
def demo(
    scale: Annotated[float, typer.Option(min=0.001, max=1.0, help="share of the reference city's households")] = 0.05,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same city")] = 20261129,
    reset: Annotated[bool, typer.Option(help="delete an existing demo database first")] = False,
    population: Annotated[bool, typer.Option(help="also generate the synthetic registry (people, houses, …)")] = True,
    cases: Annotated[bool, typer.Option(help="also generate three years of cases (1,039,000 at scale 1)")] = True,
    safety: Annotated[bool, typer.Option(help="also generate three years of police calls (1.2 M at scale 1)")] = True,
) -> None:
    """Build the demo city: Bengbu's real divisions, generated boundaries and grids, staff and accounts,
    its synthetic population (people, households, houses, organisations, special care), case history and
    police calls."""
    from civicgrid.core.migrate import upgrade
    from civicgrid.demo.accounts import DEMO_PASSWORD, create_demo_accounts
    from civicgrid.demo.city import build_city
    from civicgrid.seeds import load_reference_data

    settings = _settings()
    if settings.mode == "production":
        err.print("[red]refusing:[/red] the demo city and its published passwords are for demo mode only")
        raise typer.Exit(2)
    database = _database(settings)
    if _holds_a_city(database):
        if not reset:
            err.print("the database already holds a city; pass --reset to delete everything in it and rebuild")
            raise typer.Exit(1)
        database = _wipe(database)
    started = time.perf_counter()
    upgrade(settings.resolved_database_url)
    with progress_bar() as bar, database.unit_of_work() as session:
        load_reference_data(session)
        stats = build_city(session, scale=scale, seed=seed, progress=bar)
        task = bar.add_task("accounts", total=1)
        accounts = create_demo_accounts(session, seed=seed)
        bar.advance(task)
    city_seconds = time.perf_counter() - started
    people = None
    if population:
        from civicgrid.core.crypto import configure_keyring
        from civicgrid.demo.population import build_population

        with progress_bar() as bar:
            people = build_population(
                database, scale=scale, seed=seed, keyring=configure_keyring(settings), progress=bar
            )
    registry_seconds = time.perf_counter() - started - city_seconds
    history = None
    if cases:
        from civicgrid.core.crypto import configure_keyring
        from civicgrid.demo.cases import build_cases
        from civicgrid.demo.disputes import build_disputes

        with progress_bar() as bar:
            history = build_cases(database, scale=scale, seed=seed, progress=bar)
            # Dispute records for the class-01 cases (one "disputes" task on the bar).
            build_disputes(database, seed=seed, keyring=configure_keyring(settings), progress=bar)
    calls = None
    analysis = ""
    if safety:
        from civicgrid.demo.safety import build_safety

        with progress_bar() as bar:  # police calls and recorded incidents, then the daily counts
            calls = build_safety(database, scale=scale, seed=seed, progress=bar)
        analysis = _analyse_safety(database)
    database.dispose()
    counts = stats.counts
    console.print(
        f"demo city built in {city_seconds:.1f} s (scale {stats.scale}, seed {stats.seed}): "
        f"{counts.get('district', 0)} districts, {counts.get('street', 0)} streets, "
        f"{counts.get('community', 0):,} communities, {counts.get('grid', 0):,} grids, "
        f"{stats.households:,} households, {stats.population:,} people, {stats.org_units:,} organisation units"
    )
    if people is not None:
        shown = ", ".join(f"{n:,} {table.removeprefix('registry_')}" for table, n in people.counts.items())
        console.print(f"synthetic registry in {registry_seconds:.1f} s: {shown}")
    if history is not None:
        shown = ", ".join(f"{n:,} {table.removeprefix('case_')}" for table, n in history.counts.items())
        console.print(f"case history in {history.timings['total']:.1f} s: {shown}")
    if calls is not None:
        shown = ", ".join(f"{n:,} {source}" for source, n in calls.counts.items())
        console.print(
            f"police calls and incidents in {calls.timings['total']:.1f} s: {shown}; "
            f"{len(calls.surges)} planted surges, {calls.daily_counts:,} daily counts"
        )
    if calls is not None:
        console.print(analysis)
    table = Table(title=f"Demo accounts — password for all: {DEMO_PASSWORD}")
    for column in ("username", "role", "scope", "what for"):
        table.add_column(column)
    for account in accounts:
        table.add_row(account.username, account.role, f"{account.scope_name} ({account.scope_code})", account.note)
    console.print(table)
    console.print("Every grid also has its worker `gw<grid code>` and every community its leader `gl<code>`.")


DEMO_WARNING_DAYS = 60
DEMO_DAILY_DAYS = 90


def _analyse_safety(database: Database) -> str:
    """The index of every period of the demo's history and the warnings of its last weeks, so the command
    centre and the safety pages open on a city already analysed."""
    from datetime import timedelta

    from civicgrid.core.clock import utcnow
    from civicgrid.safety.counts import local_day
    from civicgrid.safety.hotspot_warnings import run_week
    from civicgrid.safety.index_service import rebuild
    from civicgrid.safety.periods import period_of
    from civicgrid.safety.warning_jobs import detect_days

    started = time.perf_counter()
    with progress_bar() as bar:
        tasks: dict[str, TaskID] = {}

        def report(period_type: str, done: int, total: int) -> None:
            if period_type not in tasks:
                tasks[period_type] = bar.add_task(f"index: {period_type}", total=total)
            bar.update(tasks[period_type], completed=done, total=total)

        # Daily scores for the recent weeks only: three years of them for every grid are millions of rows
        # that nobody browses (`civicgrid safety rebuild --period day` computes them when wanted).
        index = rebuild(database, recount=False, period_types=("dekad", "week", "month"), progress=report)
        yesterday = local_day(utcnow()) - timedelta(days=1)
        recent = rebuild(
            database,
            recount=False,
            first=yesterday - timedelta(days=DEMO_DAILY_DAYS),
            period_types=("day",),
            progress=report,
        )
        days = [yesterday - timedelta(days=n) for n in range(DEMO_WARNING_DAYS - 1, -1, -1)]
        task = bar.add_task("warnings", total=len(days))
        with database.unit_of_work() as session:
            found, _ = detect_days(
                session,
                days,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                commit=session.commit,
            )
        hotspots = run_week(database, period_of("week", local_day(utcnow())))
    return (
        f"safety index and warnings in {time.perf_counter() - started:.1f} s: {index.rows + recent.rows:,} scores; "
        f"{found.created:,} warnings over the last {DEMO_WARNING_DAYS} days, {hotspots.created:,} hotspot warnings "
        "this week"
    )


def _holds_a_city(database: Database) -> bool:
    from sqlalchemy import inspect, select

    from civicgrid.geo.models import Division

    if not inspect(database.engine).has_table(Division.__tablename__):
        return False
    with database.unit_of_work(write=False) as session:
        return session.scalar(select(Division.code).limit(1)) is not None


def _wipe(database: Database) -> Database:
    """Delete every table of the platform (demo --reset): the SQLite files, or the tables on PostgreSQL."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    import civicgrid.models  # noqa: F401 - registers every table
    from civicgrid.core.db import Base

    url = database.url
    database.dispose()
    if database.is_sqlite:
        path = make_url(url).database
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return Database(url)
    Base.metadata.drop_all(database.engine)
    with database.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    return Database(url)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64)] = 1,
    reload: Annotated[bool, typer.Option(help="restart on code changes (development)")] = False,
) -> None:
    """Serve the API and the web UI."""
    import uvicorn

    settings = _settings()
    console.print(f"civicgrid on http://{host}:{port}  (API docs: http://{host}:{port}/api/v1/docs)")
    uvicorn.run(
        "civicgrid.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        access_log=False,
        # Open live streams (SSE) would otherwise hold a restart until every browser disconnects.
        timeout_graceful_shutdown=5,
        log_config=None,  # our JSON logging (configured by the app factory) applies to uvicorn too
    )


@app.command()
def openapi(out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None) -> None:
    """Print the OpenAPI document (the front end's client is generated from it)."""
    from civicgrid.app import create_app

    document = create_app(Settings(mode="demo", serve_frontend=False), Database("sqlite://")).openapi()
    text = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


@users_cli.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="login name (a–z, 0–9, . _ -)")],
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(r.value for r in Role)}")],
    scope: Annotated[str, typer.Option(help="division code the account works over")],
    display_name: Annotated[str | None, typer.Option(help="name shown in the UI")] = None,
    unit_id: Annotated[int | None, typer.Option(help="organisation unit id")] = None,
    password: Annotated[str | None, typer.Option(help="omit to be prompted (recommended)")] = None,
) -> None:
    """Create an account (as the local administrator)."""
    from civicgrid.auth.users import create_user

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    database = _database(_settings())
    try:
        with database.unit_of_work() as session:
            user = create_user(
                session,
                None,
                username=username,
                display_name=display_name or username,
                password=password,
                role=role,
                scope_division_code=scope,
                unit_id=unit_id,
            )
            user_id = user.id
    except AppError as exc:
        _fail(exc)
    console.print(f"created user {username} (id {user_id}, role {role}, scope {scope})")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exit 1 and name the first broken record if any was altered, removed or moved."""
    from civicgrid.audit.service import count, verify_chain

    database = _database(_settings())
    with database.unit_of_work(write=False) as session, progress_bar() as bar:
        task = bar.add_task("verifying audit chain", total=count(session))
        result = verify_chain(session, progress=lambda n: bar.advance(task, n))
    if result.ok:
        console.print(f"audit chain intact: {result.checked} records")
        return
    err.print(f"[red]audit chain broken at record {result.first_broken_seq}:[/red] {result.reason}")
    raise typer.Exit(1)


@cases_cli.command("scan-sla")
def cases_scan_sla() -> None:
    """Raise the yellow and red supervision cards due now (servers do it every CIVICGRID_SLA_SCAN_SECONDS)."""
    import civicgrid.models  # noqa: F401 - every table the scan's writes refer to
    from civicgrid.cases.supervision import scan

    database = _database(_settings())
    with progress_bar() as bar, database.unit_of_work() as session:
        task = bar.add_task("scanning open cases", total=None)
        result = scan(session, progress=lambda done, total: bar.update(task, completed=done, total=total))
    database.dispose()
    console.print(
        f"scanned {result.scanned:,} open cases: {result.yellow:,} yellow and {result.red:,} red cards raised"
    )


def _mount_domain_commands() -> None:
    from civicgrid.cases.hotline_cli import import_hotline
    from civicgrid.command.cli import command_cli
    from civicgrid.core.keys_cli import keys_cli
    from civicgrid.geo.cli import geo_cli
    from civicgrid.registry.import_cli import registry_cli
    from civicgrid.safety.cli import mount as mount_safety

    app.add_typer(geo_cli, name="geo", help="The administrative map: imports, grids, lookup")
    app.add_typer(keys_cli, name="keys", help="Data encryption keys: generate, rotate, status")
    app.add_typer(registry_cli, name="registry", help="The registry: bulk import of people and houses")
    cases_cli.command("import-hotline")(import_hotline)
    app.add_typer(mount_safety(), name="safety", help="Safety index, feeds, warnings and back-tests")
    app.add_typer(command_cli, name="command", help="The command centre: analysis reports (研判报告)")


_mount_domain_commands()
