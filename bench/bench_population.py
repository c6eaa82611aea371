"""Synthetic population of the demo city: generation and load time, rows/s and peak memory, into SQLite and
into PostgreSQL, beside the floor of the same rows written with the bare bulk path.

    uv run python bench/bench_population.py [--scale 1] [--workers 0 1]
        [--database-url postgresql://postgres@127.0.0.1:5432/civicgrid_bench_population]

For each database the city (`build_city` + `create_demo_accounts`) is built once and not timed. Then:

* ours — `build_population` end to end: generation, ID numbers, encryption (~7 M values at scale 1),
  rows, bulk write, index rebuild, foreign-key validation, commit;
* floor — the same rows, generated and encrypted beforehand (untimed, chunk by chunk), written into the
  same empty tables as they are (indexes in place; foreign-key checks off, since households and people
  refer to each other) with nothing but `executemany` on the raw sqlite3 connection or `COPY … FROM STDIN`
  through psycopg, in one transaction; the time is the writes plus the commit.

Each run is a fresh process, so its peak RSS (`ru_maxrss`, plus any forked workers') is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

from civicgrid.core.crypto import Keyring
from civicgrid.core.db import Base, Database
from civicgrid.demo import population
from civicgrid.demo.accounts import create_demo_accounts
from civicgrid.demo.city import build_city
from civicgrid.demo.population.care import _care
from civicgrid.demo.population.orchestrate import _POPULATION_TABLES, _tasks
from civicgrid.demo.population.organisations import _organisations, _places, _schools
from civicgrid.demo.population.rows import _chunk_rows, _Ids
from civicgrid.demo.population.texts import _Texts

SEED = 20261129
TODAY = date(2026, 5, 1)
RUN_TIMEOUT = 3 * 3600


def _peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


# -- child processes -----------------------------------------------------------------------------------------


def _run_ours(url: str, scale: float, workers: int) -> dict[str, Any]:
    database = Database(url)
    started = time.perf_counter()
    stats = population.build_population(
        database, scale=scale, seed=SEED, keyring=Keyring.generate(), today=TODAY, workers=workers
    )
    seconds = time.perf_counter() - started
    database.dispose()
    return {
        "seconds": seconds,
        "rows": sum(stats.counts.values()),
        "counts": stats.counts,
        "encrypted": stats.encrypted_values,
        "timings": stats.timings,
        "peak_mb": _peak_mb(),
    }


def _run_floor(url: str, scale: float) -> dict[str, Any]:
    """Generate every row first (untimed, chunk by chunk), time only the bare writes and the commit."""
    database = Database(url)
    keyring = Keyring.generate()
    texts = _Texts.make()
    sqlite = database.is_sqlite
    written = 0
    write_seconds = 0.0
    with database.write_engine.connect() as connection:
        city = population.generate(connection, seed=SEED, today=TODAY)
        connection.rollback()
        driver: Any = connection.connection.driver_connection
        if sqlite:
            driver.execute("PRAGMA foreign_keys=OFF")
            driver.execute("BEGIN")
        else:
            driver.execute("SET session_replication_role = replica")  # no foreign-key triggers

        def write(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
            nonlocal written, write_seconds
            mark = time.perf_counter()
            names = ", ".join(f'"{c}"' for c in columns)
            if sqlite:
                marks = ", ".join("?" * len(columns))
                driver.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            else:
                with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            write_seconds += time.perf_counter() - mark
            written += len(rows)

        stamp = "2026-05-01 00:00:00.000000" if sqlite else "2026-05-01 00:00:00.000000+00"
        for task in _tasks(city, population.CHUNK_PEOPLE):
            out = _chunk_rows(
                city,
                task.grids,
                keyring,
                texts,
                _Ids(task.residence_start, task.tenancy_start),
                stamp,
                np.random.default_rng([SEED, 2, task.number]),
            )
            for table, columns, name in _POPULATION_TABLES:
                write(table.name, columns, getattr(out, name))
        rng = np.random.default_rng([SEED, 3])
        organisations, _ = _organisations(city, scale, keyring, texts, stamp, rng)
        places, _ = _places(city, scale, keyring, texts, stamp, rng)
        schools = _schools(city, scale, texts, stamp, rng)
        care, visits = _care(city, texts, stamp, np.random.default_rng([SEED, 4]))
        write("registry_organisation", population.ORGANISATION_COLUMNS, organisations)
        write("registry_place", population.PLACE_COLUMNS, places)
        write("registry_school", population.SCHOOL_COLUMNS, schools)
        write("registry_special_care", population.CARE_COLUMNS, care)
        write("registry_visit", population.VISIT_COLUMNS, visits)
        mark = time.perf_counter()
        driver.commit()
        commit_seconds = time.perf_counter() - mark
        if sqlite:
            driver.execute("PRAGMA foreign_keys=ON")
        else:
            driver.execute("SET session_replication_role = DEFAULT")
    database.dispose()
    return {
        "seconds": write_seconds + commit_seconds,
        "write": write_seconds,
        "commit": commit_seconds,
        "rows": written,
        "peak_mb": _peak_mb(),
    }


# -- the parent ----------------------------------------------------------------------------------------------


def _child(kind: str, url: str, scale: float, workers: int = 0) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        json.dumps({"kind": kind, "url": url, "scale": scale, "workers": workers}),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _build_city(url: str, scale: float) -> float:
    database = Database(url)
    import civicgrid.models  # noqa: F401

    Base.metadata.drop_all(database.engine)
    database.create_all()
    started = time.perf_counter()
    with database.unit_of_work() as session:
        build_city(session, scale=scale, seed=SEED)
        create_demo_accounts(session, seed=SEED)
    database.dispose()
    return time.perf_counter() - started


def _empty_registry(url: str) -> None:
    database = Database(url)
    with database.engine.begin() as connection:
        names = ", ".join(t.name for t in population.TABLES)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    database.dispose()


def _line(label: str, result: dict[str, Any], floor: dict[str, Any] | None) -> None:
    ratio = f"{result['seconds'] / floor['seconds']:5.2f}× floor" if floor else ""
    print(
        f"  {label:<22} {result['seconds']:8.1f} s  {result['rows'] / result['seconds']:>10,.0f} rows/s  "
        f"peak {result['peak_mb']:7,.0f} MB  {ratio}"
    )


def _report(name: str, runs: dict[str, dict[str, Any]]) -> None:
    floor = runs["floor"]
    print(f"{name}: {floor['rows']:,} rows")
    _line("floor (bare bulk write)", floor, None)
    print(f"    writes {floor['write']:.1f} s, commit {floor['commit']:.1f} s")
    for label, result in runs.items():
        if label == "floor":
            continue
        _line(label, result, floor)
        phases = ", ".join(f"{k} {v:.1f} s" for k, v in result["timings"].items() if k != "total")
        print(f"    {phases}; {result['encrypted']:,} values encrypted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[0], help="forked build processes to try")
    parser.add_argument("--database-url", help="a PostgreSQL URL (a scratch database, created if missing)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        if spec["kind"] == "floor":
            result = _run_floor(spec["url"], spec["scale"])
        else:
            result = _run_ours(spec["url"], spec["scale"], spec["workers"])
        print(json.dumps(result))
        return
    load = os.getloadavg()
    print(f"scale {args.scale}, cpus {os.cpu_count()}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            city = Path(tmp) / "city.db"
            seconds = _build_city(f"sqlite:///{city}", args.scale)
            print(f"SQLite city built in {seconds:.1f} s (not timed below)")
            runs: dict[str, dict[str, Any]] = {}
            for label, kind, workers in [("floor", "floor", 0)] + [
                (f"ours, {w} workers", "ours", w) for w in args.workers
            ]:
                work = Path(tmp) / "work.db"
                for stale in Path(tmp).glob("work.db*"):
                    stale.unlink()
                shutil.copy(city, work)
                runs[label] = _child(kind, f"sqlite:///{work}", args.scale, workers)
            _report("SQLite", runs)
    if args.database_url:
        from civicgrid.core.pgcheck import ensure_database

        ensure_database(args.database_url)
        seconds = _build_city(args.database_url, args.scale)
        print(f"PostgreSQL city built in {seconds:.1f} s (not timed below)")
        runs = {}
        for label, kind, workers in [("floor", "floor", 0)] + [(f"ours, {w} workers", "ours", w) for w in args.workers]:
            _empty_registry(args.database_url)
            runs[label] = _child(kind, args.database_url, args.scale, workers)
        _report("PostgreSQL", runs)
        _empty_registry(args.database_url)


if __name__ == "__main__":
    main()
