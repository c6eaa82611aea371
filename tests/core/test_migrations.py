"""The Alembic history builds exactly the schema the models describe, on the suite's database kind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import civicgrid.models  # noqa: F401
from civicgrid.core.db import Base, Database
from civicgrid.core.migrate import upgrade


@pytest.fixture
def empty_database_url(tmp_path: Path, worker_id: str) -> str:
    if os.environ.get("CIVICGRID_TEST_DATABASE", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    from tests.conftest import DEFAULT_POSTGRES_URL, _ensure_postgres_database

    url = f"{os.environ.get('CIVICGRID_TEST_POSTGRES_URL', DEFAULT_POSTGRES_URL)}_migrations_{worker_id}"
    _ensure_postgres_database(url)
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()
    return url


def test_migrations_build_the_models_schema(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    db = Database(empty_database_url)
    try:
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        db.dispose()
    assert diff == [], f"models and migrations differ; add a migration (alembic revision --autogenerate): {diff}"


def test_migrations_are_idempotent(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)  # a second run is a no-op, as `make demo` relies on
