"""`python -m civicgrid.core.pgcheck URL`: exit 0 when a PostgreSQL server answers at URL's host."""

from __future__ import annotations

import sys

import psycopg
import psycopg.sql
from sqlalchemy.engine import make_url


def reachable(url: str) -> bool:
    parsed = make_url(url)
    try:
        with psycopg.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            dbname="postgres",
            connect_timeout=3,
        ):
            return True
    except psycopg.Error:
        return False


def ensure_database(url: str) -> None:
    """Create the database named in `url` if the server lacks it (tests, benchmarks, first deployments)."""
    parsed = make_url(url)
    name = parsed.database
    if not name:
        raise ValueError(f"the URL names no database: {parsed.render_as_string(hide_password=True)}")
    with psycopg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
        connect_timeout=5,
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


if __name__ == "__main__":
    sys.exit(0 if len(sys.argv) == 2 and reachable(sys.argv[1]) else 1)
