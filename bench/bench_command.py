"""The command centre's endpoints under 20 concurrent local clients, on a demo city, beside a bare route.

    uv run python bench/bench_command.py [--data-dir var-scale1] [--database-url postgresql://…]
        [--concurrency 20] [--requests 400] [--workers 1]

Build the city first (`civicgrid demo --scale 1` with `CIVICGRID_DATA_DIR` / `CIVICGRID_DATABASE_URL` set), so
the figures are those of the reference size: a million cases, 1.4 million police calls, the index history
(without `--data-dir`, a scale-0.05 demo is built for the run). The server runs with its scheduler off (a
fresh server would otherwise spend its first minutes on due reports and recomputes); what is measured is
what the wall asks for, as the operator of the city (the widest scope, the most rows):

- each endpoint alone, `--requests` times by `--concurrency` clients;
- "wall refresh": a client loads everything the wall shows at once (the 11 requests of CommandPage), so a
  request-level p50/p99 under a realistic mix;
- `--cache-seconds 0` turns off the short memo of the overview, trend and rankings, so that every request
  computes (the cost of a screen asking for an area nobody else is looking at);
- the floor: a bare FastAPI route (50 rows, no database, no auth) on the same machine and client.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from _load import LoadResult, demo_data_dir, free_port, python, run_load, serve

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "Bengbu-2026!"


def _city_and_district(base: str, headers: dict[str, str]) -> tuple[str, str]:
    cities = httpx.get(f"{base}/api/v1/geo/divisions", params={"level": "city"}, headers=headers).json()["items"]
    districts = httpx.get(
        f"{base}/api/v1/geo/divisions", params={"level": "district", "page_size": 50}, headers=headers
    ).json()["items"]
    return cities[0]["code"], districts[0]["code"]


def _endpoints(city: str, district: str) -> dict[str, tuple[str, dict[str, Any]]]:
    week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat()  # the wall's feeds start a week back
    return {
        "GET /command/overview (city)": ("/api/v1/command/overview", {"area_code": city}),
        "GET /command/trend (city, 30 days)": ("/api/v1/command/trend", {"area_code": city, "days": 30}),
        "GET /command/ranking units": ("/api/v1/command/ranking", {"area_code": city, "by": "units"}),
        "GET /command/ranking areas": ("/api/v1/command/ranking", {"area_code": city, "by": "areas"}),
        "GET /command/positions": ("/api/v1/command/positions", {"area_code": city}),
        "GET /safety/index districts": (
            "/api/v1/safety/index",
            {"level": "district", "parent": city, "period": "month"},
        ),
        "GET /safety/index grids of district": (
            "/api/v1/safety/index",
            {"level": "grid", "parent": district, "period": "month"},
        ),
        "GET /safety/index/{city}/trend": (f"/api/v1/safety/index/{city}/trend", {"period": "day", "count": 30}),
        "GET /safety/warnings open": ("/api/v1/safety/warnings", {"status": "open", "page_size": 20}),
        "GET /safety/incidents latest (week)": (
            "/api/v1/safety/incidents",
            {"area_code": city, "page_size": 20, "since": week_ago},
        ),
        "GET /cases latest (week)": ("/api/v1/cases", {"page_size": 20, "since": week_ago, "sort": "-reported_at"}),
    }


def _check(base: str, headers: dict[str, str], endpoints: dict[str, tuple[str, dict[str, Any]]]) -> None:
    """Every endpoint answers 200 once before it is loaded (a 4xx would measure the error path)."""
    for name, (path, params) in endpoints.items():
        response = httpx.get(f"{base}{path}", params=params, headers=headers, timeout=120)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {response.status_code} {response.text[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--data-dir", type=Path, help="a demo's data directory (default: a scale-0.05 demo built for the run)"
    )
    parser.add_argument("--database-url", default="", help="default: the data directory's SQLite database")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint")
    parser.add_argument("--walls", type=int, default=40, help="wall refreshes (11 requests each)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--cache-seconds", default="", help="CIVICGRID_FIGURES_CACHE_SECONDS (default: the server's, 15; 0: none)"
    )
    args = parser.parse_args()
    with demo_data_dir(args.data_dir) as data_dir:
        run(args, data_dir.resolve())


def run(args: argparse.Namespace, data_dir: Path) -> None:
    url = args.database_url or f"sqlite:///{data_dir / 'civicgrid.db'}"
    env = {
        "CIVICGRID_MODE": "demo",
        "CIVICGRID_DATA_DIR": str(data_dir),
        "CIVICGRID_DATABASE_URL": url,
        "CIVICGRID_LOG_LEVEL": "WARNING",
        "CIVICGRID_SCHEDULER_ENABLED": "false",
        "CIVICGRID_LOGIN_RATE_PER_MINUTE": "100000",
    }
    if args.cache_seconds:
        env["CIVICGRID_FIGURES_CACHE_SECONDS"] = args.cache_seconds
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"database: {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'} ({data_dir.name}); "
        f"{args.concurrency} concurrent clients; {args.workers} server worker(s); "
        f"figures kept {args.cache_seconds or 'the default 15'} s"
    )
    results: list[LoadResult] = []
    serve_args = [python(), "-m", "civicgrid", "serve", "--port", str(port), "--workers", str(args.workers)]
    with serve(serve_args, env, f"{base}/readyz", REPO):
        login = httpx.post(f"{base}/api/v1/auth/login", json={"username": "operator", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        city, district = _city_and_district(base, headers)
        endpoints = _endpoints(city, district)
        _check(base, headers, endpoints)
        for name, (path, params) in endpoints.items():

            def one(client: httpx.AsyncClient, i: int, path: str = path, params: dict[str, Any] = params) -> Any:
                return client.get(f"{base}{path}", params=params, headers=headers)

            results.append(run_load(name, args.concurrency, args.requests, one))
            print(results[-1].line(), flush=True)
        wall = list(endpoints.values())
        pick: Callable[[int], tuple[str, dict[str, Any]]] = lambda i: wall[i % len(wall)]  # noqa: E731
        results.append(
            run_load(
                f"wall refresh mix ({len(wall)} endpoints)",
                args.concurrency,
                args.walls * len(wall),
                lambda c, i: c.get(f"{base}{pick(i)[0]}", params=pick(i)[1], headers=headers),
            )
        )
        print(results[-1].line(), flush=True)

    bare_port = free_port()
    bare_url = f"http://127.0.0.1:{bare_port}"
    bare_args = [python(), "-m", "uvicorn", "bare_app:app", "--port", str(bare_port), "--log-level", "warning"]
    with serve([*bare_args, "--no-access-log"], {}, f"{bare_url}/bare", Path(__file__).parent):
        bare = run_load(
            "GET /bare (floor: 50 rows, no db)", args.concurrency, args.requests, lambda c, i: c.get(f"{bare_url}/bare")
        )
    print(bare.line())
    print()
    print("| endpoint | req/s | p50 ms | p99 ms | p50 / floor |")
    print("|---|---|---|---|---|")
    for result in [*results, bare]:
        print(
            f"| {result.name} | {result.rps:.1f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} | "
            f"{result.p50_ms / bare.p50_ms:.1f}× |" + (f" {result.errors} errors" if result.errors else "")
        )


if __name__ == "__main__":
    main()
