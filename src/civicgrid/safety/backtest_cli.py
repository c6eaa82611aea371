"""`civicgrid safety backtest`: replay the stored incidents over rolling periods and print hit rate, PAI and
PEI* at 1 %, 5 % and 10 % of the area for each forecast method beside the counts baseline (and, with
--surges, the precision and recall of surge warnings against the demo's planted surges).

The settings and the data are checked first; a back-test that cannot run (an empty training window, dates
outside the data) exits with status 1 and writes nothing. A back-test that ran is kept as a `safety.backtest`
job, whose figures `GET /api/v1/safety/hotspots/methods` shows.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from civicgrid.config import get_settings
from civicgrid.core import jobs
from civicgrid.core.db import Database
from civicgrid.core.errors import AppError
from civicgrid.safety import backtest
from civicgrid.safety.forecast_service import BACKTEST_JOB


def _format(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def summary_table(result: dict[str, Any]) -> Table:
    """Per method and coverage the mean hit rate, PAI and PEI*; stability and seconds per period."""
    spec = result["spec"]
    units = result["units"]
    size = f" of {units['cell_size']:g} m" if units["kind"] == "cell" else ""
    table = Table(
        title=f"Back-test: {len(result['periods'])} {spec['period']}s, {units['count']:,} {units['kind']}s{size}, "
        f"{spec['selection']}, trained on {spec['train_days']} days",
    )
    for column in ("method", "coverage", "hit rate", "PAI", "PEI*", "Jaccard (5 %)", "s / period"):
        table.add_column(column, justify="left" if column in ("method", "coverage") else "right")
    for method, figures in result["summary"].items():
        for i, label in enumerate(result["coverages"]):
            f = figures[label]
            table.add_row(
                method + (" (baseline)" if method == "counts" else "") if i == 0 else "",
                label,
                _format(f["hit_rate"]),
                _format(f["pai"], 2),
                _format(f["pei"]),
                _format(figures["jaccard_top5"]) if i == 0 else "",
                _format(figures["seconds_per_period"], 2) if i == 0 else "",
            )
        table.add_section()
    return table


def surge_table(surges: dict[str, Any]) -> Table:
    windows = ", ".join(map(str, surges["window_days"]))
    table = Table(
        title=f"Surge warnings against planted surges, {surges['first_day']} to {surges['last_day']} "
        f"(windows of {windows} days)"
    )
    for column in ("planted", "found", "recall", "detected", "true", "false", "precision"):
        table.add_column(column, justify="right")
    table.add_row(
        str(surges["planted"]),
        str(surges["found"]),
        _format(surges["recall"]),
        str(surges["detected"]),
        str(surges["true_positives"]),
        str(surges["false_positives"]),
        _format(surges["precision"]),
    )
    return table


def run(
    spec: backtest.BacktestSpec, json_file: Path | None, username: str | None, database: Database | None = None
) -> int:
    """Run the back-test; the exit status (0 ran, 1 refused: nothing was written)."""
    from civicgrid.registry.import_cli import _bar, _principal, console, err

    own = database is None
    database = database or Database(get_settings().resolved_database_url)
    try:
        principal = _principal(database, username)
        try:
            with database.unit_of_work(write=False) as session:
                plan = backtest.plan_backtest(session, spec)
        except AppError as exc:
            err.print(f"[red]error:[/red] {exc.message}")
            return 1
        if json_file is not None and not json_file.parent.exists():
            err.print(f"[red]error:[/red] the folder of {json_file} does not exist")
            return 1
        with _bar() as bar:
            task = bar.add_task("back-test", total=len(plan.periods) * len(spec.methods))

            def hook(step: int, total: int, message: str) -> None:
                bar.update(task, completed=step, total=total, description=message)

            def work(context: jobs.JobContext) -> dict[str, Any]:
                with database.unit_of_work(write=False) as session:
                    result = backtest.run_backtest(session, plan, hook)
                context.progress(processed=len(plan.periods), total=len(plan.periods), force=True)
                return result

            params = {"periods": spec.periods, "period": spec.period, "unit": spec.unit, "methods": list(spec.methods)}
            try:
                job, status, message = jobs.run_inline(database, principal, BACKTEST_JOB, "safety:read", params, work)
            except AppError as exc:
                err.print(f"[red]error:[/red] {exc.message}")
                return 1
        if status != "succeeded" or job.result is None:
            err.print(f"[red]the back-test failed:[/red] {message}")
            return 1
        result = job.result
        console.print(summary_table(result))
        if result.get("surges"):
            surges = result["surges"]
            if surges.get("available"):
                console.print(surge_table(surges))
            else:
                console.print(f"surge warnings not back-tested: {surges.get('reason')}")
        console.print(
            f"job {job.id}: {result['events_loaded']:,} incidents read, {result['seconds']['total']:.1f} s "
            f"(loading {result['seconds']['load']:.1f} s)"
        )
        if json_file is not None:
            json_file.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
            console.print(f"figures written to {json_file}")
        return 0
    finally:
        if own:
            database.dispose()


def backtest_command(
    unit: Annotated[str, typer.Option("--unit", help="cell or grid")] = "cell",
    cell_size: Annotated[float, typer.Option("--cell-size", help="cell size in metres (100 to 5000)")] = 500,
    period: Annotated[str, typer.Option("--period", help="day, dekad, week or month")] = "week",
    periods: Annotated[int, typer.Option("--periods", help="how many consecutive periods to replay")] = 12,
    train_days: Annotated[int, typer.Option("--train-days", help="days of history before each period")] = 365,
    indicator: Annotated[str, typer.Option("--indicator", help="the incidents to forecast")] = "crime_order",
    categories: Annotated[
        str | None, typer.Option("--categories", help="classes or leaves instead of an indicator, e.g. 01,0201")
    ] = None,
    methods: Annotated[str, typer.Option("--methods", help="comma-separated forecast methods")] = ",".join(
        backtest.DEFAULT_METHODS
    ),
    until: Annotated[
        str | None,
        typer.Option("--until", help="the last period ends on or before this day (default: the data's last)"),
    ] = None,
    bandwidth: Annotated[float, typer.Option("--bandwidth", help="kde bandwidth in metres")] = 300,
    surges: Annotated[bool, typer.Option("--surges", help="also score surge warnings against planted surges")] = False,
    seed: Annotated[int, typer.Option("--seed", help="the demo's seed (for its planted surges)")] = backtest.DEMO_SEED,
    json_file: Annotated[Path | None, typer.Option("--json", help="write every figure to this JSON file")] = None,
    user: Annotated[str | None, typer.Option("--user", help="act as this account (default: city operator)")] = None,
) -> None:
    """Back-test the hotspot forecasts: hit rate, PAI and PEI* at 1 %, 5 % and 10 % of the area, per method."""
    try:
        until_day = date.fromisoformat(until) if until else None
    except ValueError:
        typer.echo(f"error: --until must be a day like 2026-03-01, got {until!r}", err=True)
        raise typer.Exit(1) from None
    spec = backtest.BacktestSpec(
        unit=unit,
        cell_size=cell_size,
        period=period,
        periods=periods,
        train_days=train_days,
        indicator=None if categories else indicator,
        categories=tuple(c.strip() for c in (categories or "").split(",") if c.strip()),
        methods=tuple(m.strip() for m in methods.split(",") if m.strip()),
        until=until_day,
        bandwidth_m=bandwidth,
        surges=surges,
        seed=seed,
    )
    raise typer.Exit(run(spec, json_file, user))


def register(cli: typer.Typer) -> None:
    """Add this part's commands to `civicgrid safety`."""
    cli.command("backtest")(backtest_command)
