"""`civicgrid safety detect`: surge detection and the warning rules for a day or a range of days (what the
server's hourly task does for the previous day), with a progress bar. Warnings are stored once however
often a day is detected."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer

from civicgrid.geo.models import LEVELS


def _levels(value: str) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    unknown = [v for v in wanted if v not in LEVELS]
    if unknown or not wanted:
        raise typer.BadParameter(f"use some of {','.join(LEVELS)} (comma-separated), not {value!r}")
    return wanted


def _window_days(value: str) -> tuple[int, ...]:
    try:
        lengths = tuple(dict.fromkeys(int(v) for v in value.split(",") if v.strip()))
    except ValueError:
        lengths = ()
    if not lengths:
        raise typer.BadParameter(f"use day counts (comma-separated, e.g. 1,3,7), not {value!r}")
    return lengths


def days_to_detect(day: date | None, first: date | None, last: date | None, today: date) -> list[date]:
    """--day, or --from/--to (either alone: that day to yesterday, or from a day on), default yesterday."""
    yesterday = today - timedelta(days=1)
    if day is not None and (first is not None or last is not None):
        raise typer.BadParameter("give --day, or --from/--to, not both")
    if day is not None:
        first = last = day
    first = first or last or yesterday
    last = last or (yesterday if first <= yesterday else first)
    if last < first:
        raise typer.BadParameter(f"--to ({last}) is before --from ({first})")
    if last >= today:
        raise typer.BadParameter(f"{last} is not over yet; detect days up to yesterday ({yesterday})")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def detect(
    day: Annotated[str | None, typer.Option("--day", help="one day, YYYY-MM-DD (default: yesterday)")] = None,
    first: Annotated[str | None, typer.Option("--from", help="first day of a range")] = None,
    last: Annotated[str | None, typer.Option("--to", help="last day of a range (default: yesterday)")] = None,
    levels: Annotated[str, typer.Option("--levels", help="area levels tested, comma-separated")] = "community,street",
    window_days: Annotated[
        str | None,
        typer.Option("--window-days", help="window lengths tested together, each ending on the day (default 1,3,7)"),
    ] = None,
    training_days: Annotated[int, typer.Option("--training-days", help="days the seasonal model learns from")] = 365,
    fdr: Annotated[float, typer.Option("--fdr", help="false-discovery rate across areas and kinds")] = 0.05,
    min_observed: Annotated[int, typer.Option("--min-observed", help="fewest records a surge needs")] = 3,
    with_rules: Annotated[bool, typer.Option("--rules/--no-rules", help="also evaluate the warning rules")] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list the surges, store nothing")] = False,
) -> None:
    """Detect surges (and evaluate the rules) and store the warnings; re-running a day adds nothing."""
    import civicgrid.models  # noqa: F401 - every table the writes refer to
    from civicgrid.cli import _database, _fail, _settings, console, parse_day, progress_bar
    from civicgrid.core.clock import utcnow
    from civicgrid.core.errors import AppError
    from civicgrid.safety.counts import local_day
    from civicgrid.safety.surge import DEFAULT_WINDOWS
    from civicgrid.safety.warning_jobs import SurgeSettings, detect_days

    days = days_to_detect(
        parse_day(day, "--day"), parse_day(first, "--from"), parse_day(last, "--to"), local_day(utcnow())
    )
    windows = DEFAULT_WINDOWS if window_days is None else _window_days(window_days)
    settings = SurgeSettings(_levels(levels), windows, training_days, fdr, min_observed)
    database = _database(_settings())
    try:
        with progress_bar() as bar, database.unit_of_work(write=not dry_run) as session:
            task = bar.add_task("detecting", total=len(days))
            result, surges = detect_days(
                session,
                days,
                settings,
                with_rules=with_rules and not dry_run,
                store=not dry_run,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                commit=None if dry_run else session.commit,
            )
    except AppError as exc:
        _fail(exc)
        return
    finally:
        database.dispose()
    if dry_run:
        for s in surges[:200]:
            console.print(
                f"{s.last_day} {s.level:<9} {s.area_code} {s.area_name} {s.kind}: "
                f"{s.observed} vs {s.expected:.1f} expected (p={s.p:.2g}, q={s.q:.2g}, {s.model})"
            )
        if len(surges) > 200:
            console.print(f"… and {len(surges) - 200} more")
    for kind, why in sorted(result.skipped.items()):
        console.print(f"[yellow]not tested[/yellow] {kind}: {why}")
    console.print(
        f"{result.days:,} day(s): {result.surges:,} surges, {result.rule_hits:,} rule hits; warnings "
        f"{result.created:,} new, {result.extended:,} extended, {result.unchanged:,} already known"
    )


def register(cli: typer.Typer) -> None:
    """Add this part's commands to `civicgrid safety`."""
    cli.command("detect")(detect)
