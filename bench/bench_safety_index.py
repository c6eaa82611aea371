"""The safety index at scale: one period for every area, and the full three-year daily rebuild, beside the
same aggregation as raw SQL.

    uv run python bench/bench_safety_index.py [--scale 1] [--database-url postgresql://…] [--reuse]

Builds the demo city with its three years of police calls (`civicgrid demo --scale S --no-population
--no-cases`: the divisions' population is the denominator; a demo without calls gets synthetic daily counts
of the same volume) into a scratch database, or reuses it with --reuse, then times:

1. one period for every area and level (the last full month, then yesterday): the division tree, loading the
   daily counts of the period and its baseline windows (same period 1–3 years back, the period before),
   the numpy computation, and replacing the period's stored scores — each in its own transaction;
2. the full daily rebuild over every counted day (`index_service.rebuild(period_types=["day"])`), which
   writes one score per area and day;
3. the floors, in the same run: (a) the month's aggregation — counts of the five windows summed per
   window, area of every level and kind — as one raw SQL GROUP BY (UNION ALL over the levels) on the
   DBAPI connection; (b) the same GROUP BY over every day (the daily rebuild's aggregation); (c) writing
   as many rows of the score table's shape with the driver's bulk path (executemany / COPY) into a
   scratch table. The ratios are ours ÷ floor; the rebuild's floor is (b) + (c).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SEED = 20261129
LEVELS = ("city", "district", "street", "community", "grid")
COUNT_COLUMNS = ("division_code", "day", "kind", "count", "deaths", "injuries")


def python() -> str:
    return sys.executable


def build(args: argparse.Namespace, env: dict[str, str], url: str) -> str:
    started = time.perf_counter()
    done = subprocess.run(
        [python(), "-m", "civicgrid", "demo", "--scale", args.scale, "--reset", "--no-population", "--no-cases"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    calls = next((line.strip() for line in done.stdout.splitlines() if line.startswith("police calls")), "")
    from sqlalchemy import func, select

    from civicgrid.core.db import Database
    from civicgrid.safety.models import SafetyDailyCount

    database = Database(url)
    with database.unit_of_work() as session:
        counted = session.scalar(select(func.count()).select_from(SafetyDailyCount)) or 0
    what = calls or f"{counted:,} daily counts"
    if not counted:  # a demo without police calls: daily counts of the same volume
        what = f"{synthetic_counts(database, float(args.scale)):,} synthetic daily-count rows"
    database.dispose()
    return f"built in {time.perf_counter() - started:.0f} s: {what}"


def synthetic_counts(database: Any, scale: float) -> int:
    """Three years of daily counts per grid and incident class (~400,000 calls a year at scale 1)."""
    import numpy as np
    from sqlalchemy import select

    from civicgrid.core.clock import utcnow
    from civicgrid.demo.bulk import BulkLoader
    from civicgrid.geo.models import Division
    from civicgrid.safety.counts import local_day
    from civicgrid.safety.models import SafetyDailyCount

    rng = np.random.default_rng(SEED)
    with database.unit_of_work() as session:
        grids = list(session.scalars(select(Division.code).where(Division.level == "grid").order_by(Division.code)))
    last = local_day(utcnow()) - timedelta(days=1)
    days = np.arange(np.datetime64(last - timedelta(days=3 * 365 + 1)), np.datetime64(last) + 1)
    kinds = ["inc:01", "inc:02", "inc:03", "inc:04", "inc:05", "inc:06"]
    shares = np.array([0.22, 0.33, 0.15, 0.05, 0.10, 0.15])
    per_day = 400_000 * max(scale, 0.01) / 365
    weight = rng.gamma(0.8, 1.0, len(grids))
    weight /= weight.sum()
    table = SafetyDailyCount.__table__
    rows = 0
    with database.write_engine.connect() as connection:
        loader = BulkLoader(connection, (table,))  # type: ignore[arg-type]
        loader.prepare()
        try:
            with connection.begin():
                loader.open()
                for day in days:
                    season = 1 + 0.15 * np.sin(2 * np.pi * (day.astype(int) % 365) / 365)
                    lam = per_day * season * weight[:, None] * shares[None, :]
                    n = rng.poisson(lam)
                    g, k = np.nonzero(n)
                    deaths = rng.binomial(n[g, k], 0.002)
                    iso = str(day)
                    values = zip(g.tolist(), k.tolist(), n[g, k].tolist(), deaths.tolist(), strict=True)
                    batch = [(grids[gi], iso, kinds[ki], int(c), int(d), 0) for gi, ki, c, d in values]
                    rows += loader.insert(table, COUNT_COLUMNS, batch)  # type: ignore[arg-type]
                loader.close()
        finally:
            loader.restore()
    return rows


def timed(label: str, work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    print(f"  {label:<58} {seconds:8.2f} s")
    return result, seconds


def one_period(database: Any, period_type: str, day: date) -> float:
    from civicgrid.safety import index_service
    from civicgrid.safety.areas import load_tree
    from civicgrid.safety.index import Areas
    from civicgrid.safety.periods import period_of

    period = period_of(period_type, day)
    print(f"one {period_type} ({period.start} … {period.end}), every area:")
    total = 0.0
    with database.unit_of_work() as session:
        areas, s = timed("division tree and population", lambda: Areas.of(load_tree(session)))
        total += s
        config = index_service.active_config(session)
        engine, s = timed(
            "daily counts of the period and its 4 baseline windows",
            lambda: index_service.Engine.load(session, config, [period], areas=areas),
        )
        total += s
        print(f"    ({len(engine.counts.count):,} count rows of indexed kinds, {len(areas):,} areas)")
        _, s = timed("computation (numpy)", lambda: engine.block([period]))
        total += s
        _, s = timed("replace the stored scores", lambda: index_service.store_periods(session, engine, [period]))
        total += s
    print(f"  {'total':<58} {total:8.2f} s")
    return total


def _windows_sql(period_type: str, day: date) -> tuple[str, list[tuple[date, date]]]:
    from civicgrid.safety.index import baseline_windows
    from civicgrid.safety.periods import period_of

    windows = [(w.start, w.end) for w in baseline_windows(period_of(period_type, day))]
    cases = " ".join(f"WHEN day BETWEEN '{s}' AND '{e}' THEN {i}" for i, (s, e) in enumerate(windows))
    where = " OR ".join(f"day BETWEEN '{s}' AND '{e}'" for s, e in windows)
    return f"CASE {cases} END", [(s, e) for s, e in windows] if where else []


def floor_period(database: Any, period_type: str, day: date, kinds: list[str]) -> float:
    """The windows' counts per window, area of every level and kind, as one SQL statement."""
    window, spans = _windows_sql(period_type, day)
    where = " OR ".join(f"c.day BETWEEN '{s}' AND '{e}'" for s, e in spans)
    kind_list = ", ".join(f"'{k}'" for k in kinds)
    parts = [
        f"SELECT w, d.{level}_code AS area, kind, SUM(count) AS n, SUM(deaths) AS dead "
        f"FROM (SELECT {window} AS w, division_code, kind, count, deaths FROM safety_daily_count c "
        f"WHERE ({where}) AND kind IN ({kind_list})) x JOIN geo_division d ON d.code = x.division_code "
        f"WHERE d.{level}_code IS NOT NULL GROUP BY w, d.{level}_code, kind"
        for level in LEVELS
    ]
    return _run_sql(database, " UNION ALL ".join(parts), f"floor: the same {period_type}'s aggregation, raw SQL")


def floor_days(database: Any, kinds: list[str]) -> tuple[int, float]:
    kind_list = ", ".join(f"'{k}'" for k in kinds)
    parts = [
        f"SELECT c.day, d.{level}_code AS area, c.kind, SUM(c.count) AS n, SUM(c.deaths) AS dead "
        f"FROM safety_daily_count c JOIN geo_division d ON d.code = c.division_code "
        f"WHERE c.kind IN ({kind_list}) AND d.{level}_code IS NOT NULL GROUP BY c.day, d.{level}_code, c.kind"
        for level in LEVELS
    ]
    raw = database.engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        cursor.execute(" UNION ALL ".join(parts))
        rows = len(cursor.fetchall())
        seconds = time.perf_counter() - started
        cursor.close()
    finally:
        raw.close()
    print(f"  {'floor: every day aggregated, raw SQL GROUP BY':<58} {seconds:8.2f} s   ({rows:,} rows)")
    return rows, seconds


def _run_sql(database: Any, sql: str, label: str) -> float:
    raw = database.engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        cursor.execute(sql)
        rows = len(cursor.fetchall())
        seconds = time.perf_counter() - started
        cursor.close()
    finally:
        raw.close()
    print(f"  {label:<58} {seconds:8.2f} s   ({rows:,} rows)")
    return seconds


def floor_write(database: Any, rows: int, areas: int, per_commit: int) -> float:
    """`rows` rows of the score table's shape through the driver's bulk path into a scratch table with the
    same primary key, committing every `per_commit` periods as the rebuild does."""
    from civicgrid.safety.index_store import COLUMNS

    codes = [f"{340300000000000 + i}" for i in range(areas)]
    postgres = database.engine.dialect.name == "postgresql"
    stamp = "2026-01-01 00:00:00.000000" + ("+00" if postgres else "")
    key = "config_id, period_type, period_start, area_code"
    raw = database.write_engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("DROP TABLE IF EXISTS bench_score_floor")
        cursor.execute("CREATE TABLE bench_score_floor AS SELECT * FROM safety_score WHERE 1 = 0")
        cursor.execute(
            f"ALTER TABLE bench_score_floor ADD PRIMARY KEY ({key})"
            if postgres
            else f"CREATE UNIQUE INDEX bench_score_floor_pk ON bench_score_floor ({key})"
        )
        raw.commit()
        periods = rows // areas
        start = date(2023, 1, 1)
        marks = ", ".join("?" * len(COLUMNS))
        sql = f"INSERT INTO bench_score_floor ({', '.join(COLUMNS)}) VALUES ({marks})"
        started = time.perf_counter()
        for first in range(0, periods, per_commit):
            days = [(start + timedelta(days=p)).isoformat() for p in range(first, min(first + per_commit, periods))]
            if postgres:
                with cursor.copy(f"COPY bench_score_floor ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                    for day in days:
                        for code in codes:
                            copy.write_row((1, "day", day, code, "grid", 95.5, "green", 0, 3, 0, 300, stamp))
            else:
                cursor.execute("BEGIN")  # the engine's connections leave transactions to SQLAlchemy
                for day in days:
                    cursor.executemany(
                        sql, [(1, "day", day, c, "grid", 95.5, "green", 0, 3, 0, 300, stamp) for c in codes]
                    )
            raw.commit()
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_score_floor")
        raw.commit()
        cursor.close()
    finally:
        raw.close()
    label = "floor: as many score rows, driver bulk insert"
    print(f"  {label:<58} {seconds:8.2f} s   ({periods * areas:,} rows)")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="1")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "civicgrid-bench-safety"))
    parser.add_argument("--reuse", action="store_true", help="keep an already built database")
    parser.add_argument("--skip-rebuild", action="store_true", help="only the one-period figures and floors")
    args = parser.parse_args()
    env = {
        **os.environ,
        "CIVICGRID_MODE": "demo",
        "CIVICGRID_DATA_DIR": args.data_dir,
        "CIVICGRID_LOG_LEVEL": "WARNING",
        "CIVICGRID_SCHEDULER_ENABLED": "false",
    }
    if args.database_url:
        from civicgrid.core.pgcheck import ensure_database

        ensure_database(args.database_url)
        env["CIVICGRID_DATABASE_URL"] = args.database_url
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{Path(args.data_dir) / 'civicgrid.db'}"
    built = "reused" if args.reuse else build(args, env, url)

    from sqlalchemy import func, select, text

    import civicgrid.models  # noqa: F401
    from civicgrid.core.db import Database
    from civicgrid.safety import index_service
    from civicgrid.safety.categories import kind_indicators
    from civicgrid.safety.counts import counted_days
    from civicgrid.safety.index import Rules
    from civicgrid.safety.models import SafetyDailyCount

    database = Database(url)
    with database.unit_of_work() as session:
        # Statistics for the planner, as after any bulk load (the demo writes the counts with one INSERT … SELECT).
        session.execute(text("ANALYZE safety_daily_count"))
        index_service.seed_index_config(session)
        config = index_service.active_config(session)
        rules = Rules.of(index_service.definition_of(config))
        kinds = sorted(k for k, v in kind_indicators(session).items() if v in rules.indicators)
        span = counted_days(session)
        n_counts = session.scalar(select(func.count()).select_from(SafetyDailyCount)) or 0
    assert span is not None, "no daily counts: nothing to index"
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; scale {args.scale} ({built})"
    )
    print(f"daily counts: {n_counts:,} rows, {span[0]} … {span[1]}; indexed kinds {', '.join(kinds)}")
    last_month = span[1].replace(day=1) - timedelta(days=1)
    ours_month = one_period(database, "month", last_month)
    floor_month = floor_period(database, "month", last_month, kinds)
    print(f"  ratio ours / floor: {ours_month / floor_month:.1f}")
    ours_day = one_period(database, "day", span[1])
    floor_day = floor_period(database, "day", span[1], kinds)
    print(f"  ratio ours / floor: {ours_day / floor_day:.1f}")
    if args.skip_rebuild:
        return
    print(f"full daily rebuild, {span[0]} … {span[1]}:")
    started = time.perf_counter()
    result = index_service.rebuild(database, first=span[0], last=span[1], period_types=["day"], recount=False)
    ours = time.perf_counter() - started
    for key, seconds in result.seconds.items():
        print(f"  {key:<58} {seconds:8.2f} s")
    print(f"  {'total':<58} {ours:8.2f} s   ({result.periods['day']:,} days, {result.rows:,} score rows)")
    areas = result.rows // max(result.periods["day"], 1)
    _, read_floor = floor_days(database, kinds)
    from civicgrid.safety.index import CHUNK_CELLS, ROLES

    per_commit = max(1, CHUNK_CELLS // (len(ROLES) * areas * (len(rules.indicators) + 1)))
    write_floor = floor_write(database, result.rows, areas, per_commit)
    print(f"  ratio ours / floor (aggregation + write): {ours / (read_floor + write_floor):.1f}")
    database.dispose()


if __name__ == "__main__":
    main()
