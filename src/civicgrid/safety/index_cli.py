"""`civicgrid safety …` commands of the index: `recompute` (what the server's scheduled job does every five
minutes) and `rebuild` (recount and recompute a range of history, with a progress bar)."""

from __future__ import annotations

from typing import Annotated

import typer

from civicgrid.safety.models import PERIOD_TYPES


def _period_types(value: str) -> list[str]:
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in PERIOD_TYPES]
    if unknown or not wanted:
        raise typer.BadParameter(f"use some of {','.join(PERIOD_TYPES)} (comma-separated), not {value!r}")
    return [t for t in PERIOD_TYPES if t in wanted]


def recompute() -> None:
    """Count new cases and recompute the index of every period whose counts changed (and the current ones),
    31 changed days at a time, newest first, until none is left."""
    import civicgrid.models  # noqa: F401 - every table the writes refer to
    from civicgrid.cli import _database, _settings, console, progress_bar
    from civicgrid.safety.index_service import recompute as run

    database = _database(_settings())
    cases = days = rows = 0
    periods: dict[str, int] = {}
    try:
        with progress_bar() as bar:
            task = bar.add_task("changed days", total=None)
            while True:
                result = run(database)
                cases += result.cases_counted
                days += result.dirty_days
                rows += result.rows
                for period_type, n in result.periods.items():
                    periods[period_type] = periods.get(period_type, 0) + n
                bar.update(task, completed=days, total=days + result.days_left)
                if not result.days_left:
                    break
    finally:
        database.dispose()
    shown = ", ".join(f"{n} {t}" for t, n in periods.items()) or "none"
    console.print(
        f"{cases:,} new cases counted, {days:,} changed days; periods recomputed: {shown}; {rows:,} scores written"
    )


def rebuild(
    first: Annotated[str | None, typer.Option("--from", help="first day (default: the first counted day)")] = None,
    last: Annotated[str | None, typer.Option("--to", help="last day (default: today or the last counted day)")] = None,
    period: Annotated[str, typer.Option("--period", help="period types, comma-separated")] = ",".join(PERIOD_TYPES),
    config: Annotated[int | None, typer.Option("--config", help="a configuration id (default: the active one)")] = None,
    recount: Annotated[bool, typer.Option(help="recount the incidents and new cases first")] = True,
) -> None:
    """Recount the daily counts and recompute the index of every period in a range, for every area."""
    import civicgrid.models  # noqa: F401
    from civicgrid.cli import _database, _fail, _settings, console, parse_day, progress_bar
    from civicgrid.core.errors import AppError
    from civicgrid.safety.index_service import rebuild as run

    types = _period_types(period)
    start, end = parse_day(first, "--from"), parse_day(last, "--to")
    database = _database(_settings())
    try:
        with progress_bar() as bar:
            tasks = {t: bar.add_task(f"{t} scores", total=None) for t in types}

            def report(period_type: str, done: int, total: int) -> None:
                bar.update(tasks[period_type], completed=done, total=total)

            result = run(
                database, config_id=config, first=start, last=end, period_types=types, recount=recount, progress=report
            )
    except AppError as exc:
        _fail(exc)
        return
    finally:
        database.dispose()
    if result.first is None:
        console.print("nothing counted yet: no scores computed")
        return
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    periods = ", ".join(f"{n:,} {t}" for t, n in result.periods.items())
    console.print(
        f"{result.first} … {result.last}: {periods} periods, {result.rows:,} scores written "
        f"({result.incident_count_rows:,} incident count rows, {result.cases_counted:,} new cases counted); {timing}"
    )


def register(cli: typer.Typer) -> None:
    """Add this part's commands to `civicgrid safety`."""
    cli.command("recompute")(recompute)
    cli.command("rebuild")(rebuild)
