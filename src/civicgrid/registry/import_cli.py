"""`civicgrid registry import people|houses FILE …`: the API's import, from the command line, with a progress bar.

The command acts as an account (`--user`, with its role and scope) or, by default, as the machine's
operator: a city-wide principal with a centre operator's permissions. The import is recorded as a job
and audited exactly as an API import is; the file itself is left where it is.

Exit status: 0 when the import ran (rows that failed in apply_valid mode are in the error report),
1 when rows failed in all_or_nothing mode (nothing was written), 2 when the file or the mapping was
refused before any row was read.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Generic

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import select

from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.config import get_settings
from civicgrid.core import jobs
from civicgrid.core.db import Database
from civicgrid.core.errors import AppError
from civicgrid.registry import import_mappings
from civicgrid.registry import imports as importers
from civicgrid.registry.imports.pipeline import RunImport, SpecT
from civicgrid.registry.sources import sniff_format

registry_cli = typer.Typer(no_args_is_help=True, help="The registry: bulk import of people and houses")
import_cli = typer.Typer(no_args_is_help=True, help="Import people or houses from CSV (UTF-8 or GBK) or XLSX")
registry_cli.add_typer(import_cli, name="import")
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)


def _principal(database: Database, username: str | None) -> Principal:
    from civicgrid.auth.models import User
    from civicgrid.auth.service import load_principal
    from civicgrid.geo.models import Division

    with database.unit_of_work(write=False) as session:
        if username is not None:
            user_id = session.scalar(select(User.id).where(User.username == username))
            principal = load_principal(session, user_id) if user_id is not None else None
            if principal is None:
                err.print(f"[red]error:[/red] there is no active account {username!r}")
                raise typer.Exit(2)
            return principal
        cities = list(session.scalars(select(Division.code).where(Division.level == Level.city.value)))
    if len(cities) != 1:
        err.print(f"[red]error:[/red] expected one city in the database, found {len(cities)}; pass --user")
        raise typer.Exit(2)
    return Principal(
        user_id=None,
        username="cli",
        role=Role.center_operator.value,
        permissions=ROLE_PERMISSIONS[Role.center_operator],
        scope=Scope(division_code=cities[0], level=Level.city),
    )


def _mapping(
    database: Database, principal: Principal, entity: str, name: str | None, pairs: list[str]
) -> dict[str, str] | None:
    if name is not None and pairs:
        err.print("[red]error:[/red] give --mapping or --map, not both")
        raise typer.Exit(2)
    if name is not None:
        with database.unit_of_work(write=False) as session:
            return dict(import_mappings.find_mapping(session, principal, entity, name).mapping)
    if not pairs:
        return None
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, equals, target = pair.rpartition("=")
        if not equals or not column:
            err.print(f"[red]error:[/red] --map takes column=field, not {pair!r}")
            raise typer.Exit(2)
        mapping[column] = target
    return import_mappings.check_mapping(entity, mapping)


def run(
    entity: str,
    file: Path,
    mapping_name: str | None,
    pairs: list[str],
    mode: str,
    errors: Path | None,
    sheet: str | None,
    username: str | None,
    database: Database | None = None,
) -> int:
    """Import `file`; the exit status (see the module's docstring)."""
    settings = get_settings()
    with command_database(database) as database:
        principal = command_principal(database, file, mode, username)
        if principal is None:
            return 2
        try:
            importers.require_import(principal, entity)
            mapping = _mapping(database, principal, entity, mapping_name, pairs)
            fmt = sniff_format(file, file.name)
            used = importers.check_file(file, entity, fmt, mapping, sheet)
        except AppError as exc:
            _print_error(exc)
            return 2
        spec = importers.ImportSpec(
            entity=entity,
            mode=mode,
            path=str(file.resolve()),
            format=fmt,
            mapping=used,
            mapping_name=mapping_name,
            sheet=sheet,
            batch_size=settings.import_batch_size,
            report_dir=str(settings.data_dir / "imports"),
        )
        return run_import_job(
            database,
            principal,
            ImportJob(f"registry.import.{entity}", "registry:import", spec, importers.run_import),
            errors,
            lambda job_id, result: [
                f"job {job_id}: {result.get('rows', 0):,} rows — {result.get('created', 0):,} created, "
                f"{result.get('updated', 0):,} updated, {result.get('unchanged', 0):,} unchanged, "
                f"{result.get('failed', 0):,} failed"
            ],
        )


# -- what every import command shares (the registry's, the hotline's, the safety feeds') -----------------


@contextmanager
def command_database(database: Database | None) -> Iterator[Database]:
    """`database`, or one of the settings' made for the command and disposed of after it."""
    if database is not None:
        yield database
        return
    own = Database(get_settings().resolved_database_url)
    try:
        yield own
    finally:
        own.dispose()


def command_principal(database: Database, file: Path, mode: str, username: str | None) -> Principal | None:
    """Who the import acts as, once the mode and the file are good; None when they are not (printed: the
    exit status is then 2)."""
    if mode not in importers.MODES:
        err.print(f"[red]error:[/red] --mode is apply_valid or all_or_nothing, not {mode!r}")
        return None
    if not file.is_file():
        err.print(f"[red]error:[/red] no such file: {file}")
        return None
    return _principal(database, username)


@dataclass
class ImportJob(Generic[SpecT]):
    """An import to run as a job: its kind and permission, the spec and the import's `run_import`."""

    kind: str
    permission: str
    spec: SpecT
    run_import: RunImport[SpecT]


def run_import_job(
    database: Database,
    principal: Principal,
    import_job: ImportJob[SpecT],
    errors: Path | None,
    summary: Callable[[int, dict[str, Any]], list[str]],
    refused_label: str | None = None,
) -> int:
    """Run the import now as a job with a progress bar, copy its error report to `errors`, print the
    summary's lines; the exit status: 0 when it ran, 1 when it failed, 2 when the file was refused."""
    spec = import_job.spec
    with _bar() as bar:
        task = bar.add_task("reading the file", total=None)

        def hook(progress: jobs.Progress) -> None:
            bar.update(
                task,
                completed=progress.processed,
                total=progress.total,
                description=f"{progress.message or 'importing'} ({progress.failed:,} failed)",
            )

        def work(context: jobs.JobContext) -> dict[str, Any]:
            return import_job.run_import(database, principal, context.job_id, spec, context.progress)

        params = {k: v for k, v in spec.params().items() if k != "path"}  # the file stays where it is
        try:
            job, status, message = jobs.run_inline(
                database, principal, import_job.kind, import_job.permission, params, work, hook
            )
        except AppError as exc:
            _print_error(exc)
            return 2
    result = job.result or {}
    report = result.get("error_report")
    if errors is not None:
        if report:
            shutil.copyfile(report, errors)
        else:
            errors.write_text(",".join(importers.REPORT_HEADER) + "\n", encoding="utf-8-sig")
    for line in summary(job.id, result):
        console.print(line)
    if report:
        console.print(f"error report: {errors or report}")
    if status == "failed":
        err.print(f"[red]{refused_label}[/red] {message}" if refused_label else f"[red]{message}[/red]")
        return 1
    return 0


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def _print_error(exc: AppError) -> None:
    err.print(f"[red]error ({exc.code}):[/red] {exc.message}")
    if isinstance(exc.details, list):
        for item in exc.details[:20]:
            if isinstance(item, dict) and item.get("problem") and item.get("problem") != exc.message:
                err.print(f"  - {item.get('field')}: {item.get('problem')}")


MappingOpt = Annotated[str | None, typer.Option("--mapping", help="a saved mapping's name")]
MapOpt = Annotated[list[str] | None, typer.Option("--map", help="column=field (repeat); default: by the header")]
ModeOpt = Annotated[str, typer.Option("--mode", help="apply_valid or all_or_nothing")]
ErrorsOpt = Annotated[Path | None, typer.Option("--errors", help="write the per-row error report (CSV) here")]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="XLSX: the worksheet (default: the first)")]
UserOpt = Annotated[str | None, typer.Option("--user", help="act as this account (default: city-wide operator)")]


@import_cli.command("people")
def import_people(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file")],
    mapping: MappingOpt = None,
    map_: MapOpt = None,
    mode: ModeOpt = "apply_valid",
    errors: ErrorsOpt = None,
    sheet: SheetOpt = None,
    user: UserOpt = None,
) -> None:
    """Import people (实有人口); re-importing updates them (matched by ID number)."""
    raise typer.Exit(run("people", file, mapping, map_ or [], mode, errors, sheet, user))


@import_cli.command("houses")
def import_houses(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file")],
    mapping: MappingOpt = None,
    map_: MapOpt = None,
    mode: ModeOpt = "apply_valid",
    errors: ErrorsOpt = None,
    sheet: SheetOpt = None,
    user: UserOpt = None,
) -> None:
    """Import houses (房屋); re-importing updates them (matched by grid and full address)."""
    raise typer.Exit(run("houses", file, mapping, map_ or [], mode, errors, sheet, user))
