"""`civicgrid command …`: analysis reports (研判报告) from the command line — one report now, or the scheduled
reports that are due — made like the server makes them (a job row the UI shows, the files in the file
store), as the machine's operator over the city."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

command_cli = typer.Typer(help="The command centre: analysis reports (研判报告)", no_args_is_help=True)


@command_cli.command("report")
def report(
    area: Annotated[str, typer.Argument(help="a city, district, street or community code (default: the city)")] = "",
    period: Annotated[str, typer.Option(help="week or month")] = "month",
    day: Annotated[
        str | None, typer.Option("--date", help="any day of the period, YYYY-MM-DD (default: the last whole one)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="also write the PDF and the XLSX into this directory")] = None,
) -> None:
    """Make the report of an area for a week or month now: it is listed with the others (GET
    /api/v1/command/reports) and its files are in the file store."""
    from sqlalchemy import select

    import civicgrid.models  # noqa: F401 - every table the writes refer to
    from civicgrid.cli import _database, _fail, _settings, console, parse_day, progress_bar
    from civicgrid.command import report_data, reports
    from civicgrid.command.models import CommandReport
    from civicgrid.command.report_schedule import system_principal
    from civicgrid.core import jobs
    from civicgrid.core.clock import utcnow
    from civicgrid.core.errors import AppError
    from civicgrid.core.files import file_store_from_settings
    from civicgrid.geo.models import Division

    settings = _settings()
    database = _database(settings)
    store = file_store_from_settings(settings)
    today = utcnow().astimezone(settings.tz).date()
    chosen = parse_day(day, "--date")
    if chosen is None:
        chosen = today.replace(day=1) - timedelta(days=1) if period == "month" else today - timedelta(days=7)
    try:
        with database.unit_of_work() as session:
            city = session.scalar(select(Division.code).where(Division.level == "city"))
            if city is None:
                console.print("[red]error:[/red] no city in the database; import the divisions or build the demo")
                raise typer.Exit(1)
            principal = dataclasses.replace(system_principal(city), username="cli")
            report_data.check_period_type(period)
            span = report_data.report_period(period, chosen, today)
            division, place = report_data.report_area(session, principal, area or city)
            row = CommandReport(
                **reports.new_row(division, report_data.report_title(place, span), span, "request", None)
            )
            session.add(row)
            session.flush()
            report_id, title = row.id, row.title
        with progress_bar() as bar:
            bar.add_task(f"{title}: gathering and drawing", total=None)
            job, status, message = jobs.run_inline(
                database,
                principal,
                reports.JOB_KIND,
                reports.PERMISSION,
                {"report_id": report_id},
                lambda _context: reports.produce(database, store, report_id, principal, tz=settings.tz),
            )
        with database.unit_of_work() as session:
            made = session.get(CommandReport, report_id)
            assert made is not None
            made.job_id = job.id
            files = {"pdf": made.pdf_key, "xlsx": made.xlsx_key}
            sizes = (made.pages, made.pdf_size, made.xlsx_size, made.render_seconds)
    except AppError as exc:
        _fail(exc)
    finally:
        database.dispose()
    if status != "succeeded":
        console.print(f"[red]report {report_id} failed:[/red] {message}")
        raise typer.Exit(1)
    pages, pdf_size, xlsx_size, seconds = sizes
    console.print(
        f"report {report_id} ready in {seconds or 0:.1f} s: {title}; PDF {pages} pages, "
        f"{(pdf_size or 0) / 1024:.1f} KiB; XLSX {(xlsx_size or 0) / 1024:.1f} KiB"
    )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for fmt, key in files.items():
            if key:
                target = out / f"{title}.{fmt}"
                target.write_bytes(store.get(key))
                console.print(f"  {target}")


@command_cli.command("reports-due")
def reports_due() -> None:
    """Make the scheduled reports that are due now and missing (what the server's `command.reports` task
    does every 30 minutes), one after the other."""
    from sqlalchemy import select

    import civicgrid.models  # noqa: F401 - every table the writes refer to
    from civicgrid.cli import _database, _settings, console, progress_bar
    from civicgrid.command import report_schedule, reports
    from civicgrid.command.models import CommandReport
    from civicgrid.core import jobs
    from civicgrid.core.clock import utcnow
    from civicgrid.core.files import file_store_from_settings

    settings = _settings()
    database = _database(settings)
    reports.use_store(database, file_store_from_settings(settings))
    try:
        with database.unit_of_work() as session:
            job_ids = report_schedule.schedule_due(session, utcnow(), settings.tz)
        with progress_bar() as bar:
            task = bar.add_task("scheduled reports", total=len(job_ids))
            for job_id in job_ids:
                jobs.run_job(database, job_id)
                bar.advance(task)
        with database.unit_of_work(write=False) as session:
            rows = list(session.scalars(select(CommandReport).where(CommandReport.job_id.in_(job_ids))))
    finally:
        database.dispose()
    failed = [r for r in rows if r.status != "succeeded"]
    console.print(f"{len(job_ids)} scheduled report(s) made, {len(failed)} failed")
    for row in failed:
        console.print(f"  [red]{row.title}[/red]: {row.error}")
    if failed:
        raise typer.Exit(1)
