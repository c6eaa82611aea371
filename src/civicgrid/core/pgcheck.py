"""`python -m civicgrid.core.pgcheck URL`: exit 0 when a PostgreSQL server answers at URL's host."""

from __future__ import annotations

import sys

import psycopg
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


if __name__ == "__main__":
    sys.exit(0 if len(sys.argv) == 2 and reachable(sys.argv[1]) else 1)
