"""`civicgrid cases import-hotline FILE --mapping NAME [--all-or-nothing]`: the API's hotline import from the
command line, with a progress bar.

Like `civicgrid registry import`, the command acts as an account (`--user`) or, by default, as the
machine's operator (a city-wide centre operator); the import is recorded as a job and audited as an API
import is; the file is left where it is. Exit status: 0 when the import ran (tickets that failed in
apply_valid mode are in the error report), 1 when tickets failed in all-or-nothing mode (nothing was
written), 2 when the file or the mapping was refused before any ticket was read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from civicgrid.cases import hotline_import as importer
from civicgrid.cases import hotline_mappings
from civicgrid.config import get_settings
from civicgrid.core.db import Database
from civicgrid.core.errors import AppError
from civicgrid.registry.import_cli import (
    ImportJob,
    _print_error,
    command_database,
    command_principal,
    run_import_job,
)


def run(
    file: Path,
    mapping_name: str,
    mode: str,
    errors: Path | None,
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
            with database.unit_of_work(write=False) as session:
                saved = hotline_mappings.find_mapping(session, principal, mapping_name)
                columns, categories = dict(saved.columns), dict(saved.categories)
            fmt = importer.sniff(file, file.name)
            importer.check_file(file, fmt, columns)
        except AppError as exc:
            _print_error(exc)
            return 2
        spec = importer.HotlineSpec(
            path=str(file.resolve()),
            format=fmt,
            mode=mode,
            columns=columns,
            categories=categories,
            mapping_name=mapping_name,
            batch_size=min(settings.import_batch_size, 500),
            report_dir=str(settings.data_dir / "imports"),
            timezone=settings.timezone,
            duplicate_metres=settings.case_duplicate_metres,
            duplicate_hours=settings.case_duplicate_hours,
        )
        import_job = ImportJob(importer.JOB_KIND, "case:import", spec, importer.run_import)
        return run_import_job(database, principal, import_job, errors, _summary)


def _summary(job_id: int, result: dict[str, Any]) -> list[str]:
    return [
        f"job {job_id}: {result.get('rows', 0):,} tickets — {result.get('created', 0):,} new cases, "
        f"{result.get('merged', 0):,} merged into open cases (+1), {result.get('unchanged', 0):,} taken in "
        f"already, {result.get('failed', 0):,} failed"
    ]


def import_hotline(
    file: Annotated[Path, typer.Argument(help="the 12345 export: CSV (UTF-8 or GBK), XLSX, JSON or JSON Lines")],
    mapping: Annotated[str, typer.Option("--mapping", help="the saved hotline mapping's name")],
    all_or_nothing: Annotated[
        bool, typer.Option("--all-or-nothing", help="write nothing unless every ticket is good")
    ] = False,
    errors: Annotated[Path | None, typer.Option("--errors", help="write the per-row error report here")] = None,
    user: Annotated[str | None, typer.Option("--user", help="act as this account (default: city operator)")] = None,
) -> None:
    """Import 12345 hotline tickets as cases; a ticket imported again changes nothing (matched by number)."""
    raise typer.Exit(run(file, mapping, "all_or_nothing" if all_or_nothing else "apply_valid", errors, user))
