"""PostgreSQL server helpers for tests, benchmarks and first deployments.

`python -m civicgrid.core.pgcheck URL` exits 0 when a server answers at the URL's host.
"""

from __future__ import annotations

import sys

import psycopg
import psycopg.sql
from sqlalchemy.engine import URL, make_url


def _maintenance_connection(parsed: URL, *, timeout: int) -> psycopg.Connection[tuple[object, ...]]:
    """A connection to the server's `postgres` database (the target database may not exist yet)."""
    return psycopg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
        connect_timeout=timeout,
        autocommit=True,
    )


def reachable(url: str) -> bool:
    try:
        with _maintenance_connection(make_url(url), timeout=3):
            return True
    except psycopg.Error:
        return False


def ensure_database(url: str) -> None:
    """Create the database named in `url` if the server lacks it."""
    parsed = make_url(url)
    name = parsed.database
    if not name:
        raise ValueError(f"the URL names no database: {parsed.render_as_string(hide_password=True)}")
    with _maintenance_connection(parsed, timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


if __name__ == "__main__":
    sys.exit(0 if len(sys.argv) == 2 and reachable(sys.argv[1]) else 1)
