"""`civicgrid safety import FILE --mapping NAME [--mode …]`: the API's feed import from the command line,
with a progress bar and a summary; `civicgrid safety save-mapping FILE.json`: save a feed mapping.

Like `civicgrid registry import`, the commands act as an account (`--user`) or, by default, as the
machine's operator (a city-wide centre operator); the import is recorded as a job and audited as an API
import is; the file is left where it is. Exit status: 0 when the import ran (rows that failed in
apply_valid mode are in the error report), 1 when the file was refused while it was read (a category the
table lacks under `reject`, or any failed row in all_or_nothing: nothing was written), 2 when the file
or the mapping was refused before any row was read.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from civicgrid.config import get_settings
from civicgrid.core import jobs
from civicgrid.core.db import Database
from civicgrid.core.errors import AppError
from civicgrid.registry.import_cli import _bar, _principal, _print_error, console, err
from civicgrid.registry.imports import REPORT_HEADER
from civicgrid.safety import feed_import, feed_mappings


def run(
    file: Path,
    mapping_name: str,
    mode: str,
    errors: Path | None,
    username: str | None,
    database: Database | None = None,
    batch_size: int = feed_import.BATCH_SIZE,
) -> int:
    """Import `file`; the exit status (see the module's docstring)."""
    settings = get_settings()
    own = database is None
    database = database or Database(settings.resolved_database_url)
    try:
        if mode not in feed_import.MODES:
            err.print(f"[red]error:[/red] --mode is apply_valid or all_or_nothing, not {mode!r}")
            return 2
        if not file.is_file():
            err.print(f"[red]error:[/red] no such file: {file}")
            return 2
        principal = _principal(database, username)
        try:
            with database.unit_of_work(write=False) as session:
                saved = feed_mappings.find_mapping(session, principal, mapping_name)
                spec = feed_import.FeedSpec(
                    path=str(file.resolve()),
                    format=feed_import.sniff(file, file.name),
                    mode=mode,
                    mapping_id=saved.id,
                    mapping_name=saved.name,
                    source=saved.source,
                    columns=dict(saved.columns),
                    categories=dict(saved.categories),
                    unknown_category=saved.unknown_category,
                    fallback_category=saved.fallback_category,
                    batch_size=batch_size,
                    report_dir=str(settings.data_dir / "imports"),
                )
            feed_import.check_file(file, spec.format, spec.columns)
        except AppError as exc:
            _print_error(exc)
            return 2
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
                return feed_import.run_import(database, principal, context.job_id, spec, context.progress)

            params = {k: v for k, v in spec.params().items() if k != "path"}
            try:
                job, status, message = jobs.run_inline(
                    database, principal, feed_import.JOB_KIND, feed_mappings.PERMISSION, params, work, hook
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
                errors.write_text(",".join(REPORT_HEADER) + "\n", encoding="utf-8-sig")
        _summary(job.id, result)
        if report:
            console.print(f"error report: {errors or report}")
        if status == "failed":
            err.print(f"[red]refused:[/red] {message}")
            return 1
        return 0
    finally:
        if own:
            database.dispose()


def _summary(job_id: int, result: dict[str, Any]) -> None:
    console.print(
        f"job {job_id} ({result.get('source', '?')} via {result.get('mapping', '?')}): "
        f"{result.get('rows', 0):,} rows — "
        f"{result.get('created', 0):,} stored, {result.get('duplicates', 0):,} stored before (duplicates), "
        f"{result.get('failed', 0):,} failed"
    )
    unknown = result.get("unknown_categories") or []
    if unknown:
        listed = ", ".join(f"{u['label']} ({u['rows']:,})" for u in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        console.print(f"categories the mapping lacks, {unknown[0]['action']}: {listed}{more}")


def import_feed(
    file: Annotated[Path, typer.Argument(help="the feed: CSV (UTF-8 or GBK), a JSON array or JSON Lines")],
    mapping: Annotated[str, typer.Option("--mapping", help="the saved feed mapping's name")],
    mode: Annotated[str, typer.Option("--mode", help="apply_valid or all_or_nothing")] = "apply_valid",
    errors: Annotated[Path | None, typer.Option("--errors", help="write the per-row error report here")] = None,
    user: Annotated[str | None, typer.Option("--user", help="act as this account (default: city operator)")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=100, max=50_000, help="rows per batch")] = 5_000,
) -> None:
    """Import police calls (110), fire (119), traffic (122) or recorded incidents; a record imported again
    changes nothing (matched by source and record id)."""
    raise typer.Exit(run(file, mapping, mode, errors, user, batch_size=batch_size))


def save_mapping(
    file: Annotated[Path, typer.Argument(help="the mapping as JSON: {name, source, columns, categories, …}")],
    replace: Annotated[bool, typer.Option("--replace", help="replace the mapping of the same name")] = False,
    user: Annotated[str | None, typer.Option("--user", help="act as this account (default: city operator)")] = None,
) -> None:
    """Save a feed mapping from a JSON file (the body of POST /api/v1/safety/feed-mappings)."""
    from pydantic import ValidationError

    from civicgrid.safety.feed_schemas import FeedMappingIn

    settings = get_settings()
    database = Database(settings.resolved_database_url)
    try:
        try:
            body = FeedMappingIn.model_validate(json.loads(file.read_text(encoding="utf-8-sig")))
        except (OSError, ValueError, ValidationError) as exc:
            err.print(f"[red]error:[/red] {file} is not a feed mapping: {str(exc).splitlines()[0]}")
            raise typer.Exit(2) from None
        principal = _principal(database, user)
        try:
            with database.unit_of_work() as session:
                existing = next(
                    (m for m in feed_mappings.list_mappings(session, principal) if m.name == body.name), None
                )
                if existing is not None and replace:
                    saved = feed_mappings.update_mapping(session, principal, existing.id, **body.model_dump())
                else:
                    saved = feed_mappings.create_mapping(session, principal, **body.model_dump())
                saved_id, saved_name = saved.id, saved.name
        except AppError as exc:
            _print_error(exc)
            raise typer.Exit(2) from None
        console.print(f"saved feed mapping {saved_id} {saved_name!r}")
    finally:
        database.dispose()


def register(cli: typer.Typer) -> None:
    """Add this part's commands to `civicgrid safety`."""
    cli.command("import")(import_feed)
    cli.command("save-mapping")(save_mapping)
