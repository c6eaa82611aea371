"""Login and an authenticated, scoped list endpoint under 20 concurrent local clients, beside a bare route.

    uv run python bench/bench_api.py [--scale 0.05] [--database-url postgresql://…]

Builds a demo city in a temporary directory (or uses the given database after building into it), starts
`civicgrid serve` (one worker) and the bare FastAPI app (one worker), and drives each with the same
closed-loop client. Login is deliberately slow: argon2id costs ~64 MiB and tens of milliseconds a try.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _load import free_port, python, run_load, serve

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "Bengbu-2026!"


def _argon2_rate(threads: int, total: int = 60) -> float:
    """How many password checks per second the machine can do at all (argon2-cffi releases the GIL)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from civicgrid.auth.secrets import hash_password, verify_password

    stored = hash_password(PASSWORD)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: verify_password(stored, PASSWORD), range(total)))
    return total / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="0.05")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--logins", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "CIVICGRID_MODE": "demo",
            "CIVICGRID_DATA_DIR": tmp,
            "CIVICGRID_LOG_LEVEL": "WARNING",
            # measure the login itself, not the per-address rate limiter
            "CIVICGRID_LOGIN_RATE_PER_MINUTE": "100000",
        }
        if args.database_url:
            from civicgrid.core.pgcheck import ensure_database

            ensure_database(args.database_url)
            env["CIVICGRID_DATABASE_URL"] = args.database_url
        import os

        subprocess.run(
            [python(), "-m", "civicgrid", "demo", "--scale", args.scale, "--reset"],
            env={**os.environ, **env},
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        print(
            f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
            f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; demo scale {args.scale}; "
            f"{args.concurrency} concurrent clients"
        )
        with serve([python(), "-m", "civicgrid", "serve", "--port", str(port)], env, f"{base}/readyz", REPO):
            import httpx

            token = httpx.post(f"{base}/api/v1/auth/login", json={"username": "operator", "password": PASSWORD}).json()[
                "access_token"
            ]
            headers = {"Authorization": f"Bearer {token}"}
            login = run_load(
                "POST /auth/login (argon2id)",
                args.concurrency,
                args.logins,
                lambda c, i: c.post(f"{base}/api/v1/auth/login", json={"username": "operator", "password": PASSWORD}),
            )
            listing = run_load(
                "GET /geo/divisions (50 rows, auth)",
                args.concurrency,
                args.requests,
                lambda c, i: c.get(
                    f"{base}/api/v1/geo/divisions", params={"level": "community", "page": 1 + i % 20}, headers=headers
                ),
            )
            users = run_load(
                "GET /users (50 rows, auth, joins)",
                args.concurrency,
                args.requests,
                lambda c, i: c.get(f"{base}/api/v1/users", params={"page": 1 + i % 20}, headers=headers),
            )
        bare_port = free_port()
        bare_url = f"http://127.0.0.1:{bare_port}"
        with serve(
            [
                python(),
                "-m",
                "uvicorn",
                "bare_app:app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            {},
            f"{bare_url}/bare",
            Path(__file__).parent,
        ):
            bare = run_load(
                "GET /bare (floor: 50 rows, no db)",
                args.concurrency,
                args.requests,
                lambda c, i: c.get(f"{bare_url}/bare"),
            )
    for result in (login, listing, users, bare):
        print(result.line())
    print(
        f"floor for login: argon2id verify alone on {args.concurrency} threads: {_argon2_rate(args.concurrency):.1f}/s"
    )
    print(f"ratio list/bare: throughput {bare.rps / listing.rps:.2f}x lower, p50 {listing.p50_ms / bare.p50_ms:.2f}x")


if __name__ == "__main__":
    main()
