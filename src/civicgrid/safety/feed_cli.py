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
from pathlib import Path
from typing import Annotated, Any

import typer

from civicgrid.config import get_settings
from civicgrid.core.db import Database
from civicgrid.core.errors import AppError
from civicgrid.registry.import_cli import (
    ImportJob,
    _principal,
    _print_error,
    command_database,
    command_principal,
    console,
    err,
    run_import_job,
)
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
    with command_database(database) as database:
        principal = command_principal(database, file, mode, username)
        if principal is None:
            return 2
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
        import_job = ImportJob(feed_import.JOB_KIND, feed_mappings.PERMISSION, spec, feed_import.run_import)
        return run_import_job(database, principal, import_job, errors, _summary, refused_label="refused:")


def _summary(job_id: int, result: dict[str, Any]) -> list[str]:
    lines = [
        f"job {job_id} ({result.get('source', '?')} via {result.get('mapping', '?')}): "
        f"{result.get('rows', 0):,} rows — "
        f"{result.get('created', 0):,} stored, {result.get('duplicates', 0):,} stored before (duplicates), "
        f"{result.get('failed', 0):,} failed"
    ]
    unknown = result.get("unknown_categories") or []
    if unknown:
        listed = ", ".join(f"{u['label']} ({u['rows']:,})" for u in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        lines.append(f"categories the mapping lacks, {unknown[0]['action']}: {listed}{more}")
    return lines


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

    with command_database(None) as database:
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


def register(cli: typer.Typer) -> None:
    """Add this part's commands to `civicgrid safety`."""
    cli.command("import")(import_feed)
    cli.command("save-mapping")(save_mapping)
