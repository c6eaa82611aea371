"""Cases at scale: reporting through the API on top of N existing cases, the scoped list, the measures, the SLA scan.

    uv run python bench/bench_cases.py [--scale 0.05] [--database-url postgresql://…] [--reuse]
        [--reports 3000] [--concurrency 50]

Builds the demo city with its case history (`civicgrid demo --scale S --no-population`: 1,039,000 cases at
scale 1) into a scratch database (or reuses it with --reuse), then:

1. starts `civicgrid serve` (one worker, no scheduler; `--write-concurrency` sets its write gate, see
   `core/writegate.py`, added after this benchmark found concurrent writers deadlocking the server) and
   drives `POST /cases` with `--concurrency` closed-loop clients over HTTP (the city centre's operator,
   real points and categories of existing cases, `force_new`), beside a bare FastAPI POST route
   (`bench/bare_app.py`) driven the same way in the same run; then counts the cases: every 201 must be a
   case in the database (no accepted report lost);
2. drives the scoped, filtered case list (a district's open cases, page of 50 + count) and the measures
   endpoints (by area for the city and a district, by month, today's summary) and reports p50/p99; the
   floor is the measures' own SQL run on the raw DBAPI connection (and, on SQLite, the read of durations
   and numpy's percentile) — the work without FastAPI, auth and serialisation;
3. times `cases.supervision.scan` over every open case at the build's moment (nothing left to raise) and a
   week later (cards to raise on the overdue ones), each rolled back; the floor is reading the columns the
   scan reads with raw SQL.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _load import LoadResult, free_port, python, run_load, serve

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "Bengbu-2026!"
MONTH = 30 * 86400


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def build(args: argparse.Namespace, env: dict[str, str]) -> str:
    started = time.perf_counter()
    done = subprocess.run(
        [python(), "-m", "civicgrid", "demo", "--scale", args.scale, "--reset", "--no-population"],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("case history")), "")
    shown = re.sub(r"\s+", " ", line)
    return f"built in {time.perf_counter() - started:.0f} s; {shown}"


def login(base: str, username: str) -> dict[str, str]:
    import httpx

    token = httpx.post(f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=60)
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def samples(database: Any) -> list[dict[str, Any]]:
    """Real report bodies: points and categories of existing cases."""
    from sqlalchemy import func, select

    from civicgrid.cases.models import Case

    with database.sessions() as s:
        top = s.execute(select(func.max(Case.id))).scalar_one()
        ids = random.Random(7).sample(range(1, top + 1), min(5000, top))
        rows = s.execute(select(Case.lon, Case.lat, Case.category_code).where(Case.id.in_(ids))).all()
    bodies = [
        {"category_code": c, "lon": lon, "lat": lat, "description": "压测上报", "force_new": True}
        for lon, lat, c in rows
    ]
    return bodies


def count_cases(database: Any) -> int:
    from sqlalchemy import func, select

    from civicgrid.cases.models import Case

    with database.sessions() as s:
        return int(s.execute(select(func.count()).select_from(Case)).scalar_one())


class Failed:
    status_code = 599


def safely(request: Callable[[Any, int], Any]) -> Callable[[Any, int], Any]:
    """A request whose transport errors (the 30 s client timeout) count as failures instead of ending the run."""
    import httpx

    async def run(client: Any, i: int) -> Any:
        try:
            return await request(client, i)
        except httpx.HTTPError:
            return Failed()

    return run


def creation(
    base: str, headers: dict[str, str], bodies: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[LoadResult, list[int]]:
    import httpx

    created: list[int] = []

    async def report(client: Any, i: int) -> Any:
        try:
            response = await client.post(f"{base}/api/v1/cases", json=bodies[i % len(bodies)], headers=headers)
        except httpx.HTTPError:  # a client timeout (30 s) counts as a failed request
            return Failed()
        if response.status_code == 201:
            created.append(response.json()["id"])
        return response

    result = run_load("POST /cases (report, audited)", args.concurrency, args.reports, report)
    print(result.line(), flush=True)
    return result, created


def reads(base: str, args: argparse.Namespace) -> list[LoadResult]:
    city = login(base, "operator")
    area = login(base, "operator.district")
    n = args.reads
    month_ago = time.strftime("%Y-%m-%dT00:00:00", time.gmtime(time.time() - MONTH))

    def get(path: str, headers: dict[str, str], **query: Any) -> Callable[[Any, int], Any]:
        return safely(lambda c, i: c.get(f"{base}{path}", params=query, headers=headers))

    def page(c: Any, i: int) -> Any:
        query = {"open_only": "true", "page": 1 + i % 10, "category_code": "05"}
        return c.get(f"{base}/api/v1/cases", params=query, headers=area)

    plan: list[tuple[str, int, int, Callable[[Any, int], Any]]] = [
        ("GET /cases (district, open, 50+count)", args.list_clients, n * 5, safely(page)),
        ("GET /cases/measures (city by district)", 2, n, get("/api/v1/cases/measures", city)),
        ("GET /cases/measures (district by street)", 2, n, get("/api/v1/cases/measures", area)),
        ("GET /cases/measures (city by month)", 2, n, get("/api/v1/cases/measures", city, group_by="period")),
        ("GET /cases/measures (city, last 30 d)", 2, n, get("/api/v1/cases/measures", city, since=month_ago)),
        ("GET /cases/measures/summary (city)", 2, n, get("/api/v1/cases/measures/summary", city)),
    ]
    results = []
    for name, clients, total, request in plan:
        results.append(run_load(name, clients, total, request))
        print(results[-1].line(), flush=True)
    return results


# -- floors and the scan (in this process) -------------------------------------------------------------------


def measures_floor(database: Any, n: int) -> list[float]:
    """The SQL the measures service runs for the city by district, on the raw DBAPI connection."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from civicgrid.authz.scope import Level, Principal, Scope
    from civicgrid.cases import measures as m
    from civicgrid.cases import measures_sql as ms
    from civicgrid.core.clock import utcnow
    from civicgrid.geo.models import Division

    dialect = database.engine.dialect
    with database.sessions() as s:
        city = s.execute(select(Division.code).where(Division.level == "city")).scalar_one()
        principal = Principal(None, "bench", "center_operator", frozenset({"case:read"}), Scope(city, Level.city))
        q = m.MeasureQuery()
        query, division = m._filtered(s, principal, q)
        key = ms.scan_key(m._group_key(q, division, dialect.name, ZoneInfo("Asia/Shanghai"), utcnow()))
        inner = ms.per_case(query, key, dialect.name, utcnow())
    sqlite = database.is_sqlite
    grouped = select(inner.c.key, *ms.aggregates(inner)).group_by(inner.c.key)
    second = ms.durations(query, key, dialect.name) if sqlite else ms.percentiles(query, key, dialect.name)
    literal = {"literal_binds": True}
    sql = [str(stmt.compile(dialect=dialect, compile_kwargs=literal)) for stmt in (grouped, second)]
    raw = database.engine.raw_connection()

    def run() -> None:
        cursor = raw.cursor()
        cursor.execute(sql[0])
        cursor.fetchall()
        cursor.execute(sql[1])
        rows = cursor.fetchall()
        if sqlite:
            ms.grouped_percentile([r[0] for r in rows], [r[1] for r in rows])
        cursor.close()

    try:
        return timed(run, n)
    finally:
        raw.close()


def list_floor(database: Any, n: int) -> list[float]:
    """A district's open cases of one class, page of 50 newest first + count, as raw SQL."""
    from civicgrid.cases.models import OPEN_STATUSES

    statuses = ", ".join(f"'{x}'" for x in OPEN_STATUSES)
    where = f"district_code = '340303' AND status IN ({statuses}) AND category_code LIKE '05%'"
    page = f"SELECT * FROM case_case WHERE {where} ORDER BY reported_at DESC, id DESC LIMIT 50 OFFSET "
    count = f"SELECT count(*) FROM case_case WHERE {where}"
    raw = database.engine.raw_connection()
    state = {"i": 0}

    def run() -> None:
        cursor = raw.cursor()
        cursor.execute(page + str(50 * (state["i"] % 10)))
        cursor.fetchall()
        cursor.execute(count)
        cursor.fetchall()
        cursor.close()
        state["i"] += 1

    try:
        return timed(run, n)
    finally:
        raw.close()


def scan_times(database: Any) -> list[tuple[str, float, str]]:
    from sqlalchemy import text

    from civicgrid.cases import supervision
    from civicgrid.core.clock import utcnow

    now = utcnow()
    out = []
    for label, moment in (("now (nothing due)", now), ("a week later (cards due)", now + timedelta(days=7))):
        with database.sessions() as s:
            started = time.perf_counter()
            result = supervision.scan(s, moment)
            seconds = time.perf_counter() - started
            s.rollback()
        out.append((f"supervision.scan at {label}", seconds, f"{result.scanned:,} open, {result.raised:,} cards"))
    statuses = ", ".join(f"'{x}'" for x in supervision.SUPERVISED)
    with database.engine.connect() as connection:
        started = time.perf_counter()
        rows = connection.execute(
            text(
                "SELECT id, cycle, status, accept_due, accept_red_due, handle_due, handle_red_due "
                f"FROM case_case WHERE status IN ({statuses}) ORDER BY id"
            )
        ).all()
        out.append(("floor: read the open cases (raw SQL)", time.perf_counter() - started, f"{len(rows):,} rows"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="0.05")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "civicgrid-bench-cases"))
    parser.add_argument("--reuse", action="store_true", help="keep an already built database")
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--reads", type=int, default=40, help="requests per measures endpoint (x5 for the list)")
    parser.add_argument("--floors-only", action="store_true", help="skip the HTTP runs (floors and the scan)")
    parser.add_argument("--list-clients", type=int, default=20, help="concurrent clients of the case list")
    parser.add_argument("--write-concurrency", type=int, default=0, help="CIVICGRID_WRITE_CONCURRENCY of the server")
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
    built = "reused" if args.reuse else build(args, env)
    from civicgrid.core.db import Database

    url = args.database_url or f"sqlite:///{Path(args.data_dir) / 'civicgrid.db'}"
    database = Database(url)
    bodies = samples(database)
    existing = count_cases(database)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}; "
        f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; scale {args.scale}: {existing:,} cases ({built})"
    )
    if args.floors_only:
        floors(database, args)
        return
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server_env = {k: v for k, v in env.items() if k.startswith("CIVICGRID_")}
    server = [python(), "-m", "civicgrid", "serve", "--port", str(port)]
    if args.write_concurrency:
        server_env["CIVICGRID_WRITE_CONCURRENCY"] = str(args.write_concurrency)
    print(f"server: one worker, write gate {server_env.get('CIVICGRID_WRITE_CONCURRENCY', 'default (8)')}")
    with serve(server, server_env, f"{base}/readyz", REPO):
        made, created = creation(base, login(base, "operator"), bodies, args)
        after = count_cases(database)
        reads(base, args)
    lost = existing + len(created) - after
    missing = len(set(created)) - len(created)
    bare_port = free_port()
    bare_url = f"http://127.0.0.1:{bare_port}"
    bare_args = [python(), "-m", "uvicorn", "bare_app:app", "--port", str(bare_port), "--log-level", "warning"]
    with serve([*bare_args, "--no-access-log"], {}, f"{bare_url}/bare", Path(__file__).parent):
        bare = run_load(
            "POST /bare (floor: validate, no db)",
            args.concurrency,
            args.reports,
            lambda c, i: c.post(f"{bare_url}/bare", json=bodies[i % len(bodies)]),
        )
    print(bare.line())
    print(
        f"reports: {len(created):,} accepted (201), {made.errors} refused; cases {existing:,} -> {after:,}: "
        f"{'none lost' if lost == 0 and missing == 0 else f'{lost} LOST'}; "
        f"ratio bare/report: throughput {bare.rps / made.rps:.1f}x, p50 {made.p50_ms / bare.p50_ms:.1f}x"
    )
    floors(database, args)


def floors(database: Any, args: argparse.Namespace) -> None:
    p50, p99 = percentiles(measures_floor(database, args.reads))
    print(f"{'floor: measures SQL, raw DBAPI':<34} p50 {p50:>7.2f} ms   p99 {p99:>7.2f} ms")
    p50, p99 = percentiles(list_floor(database, args.reads * 5))
    print(f"{'floor: list page + count, raw SQL':<34} p50 {p50:>7.2f} ms   p99 {p99:>7.2f} ms")
    for label, seconds, note in scan_times(database):
        print(f"{label:<44} {seconds:>8.2f} s   ({note})")
    database.dispose()


if __name__ == "__main__":
    main()
