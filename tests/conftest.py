"""Test fixtures shared by every module.

The suite runs against one database per run: SQLite by default, PostgreSQL when
CIVICGRID_TEST_DATABASE=postgres (URL from CIVICGRID_TEST_POSTGRES_URL). `make test` runs both halves.
Each test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from civicgrid.config import Settings
from civicgrid.core import clock
from civicgrid.core.db import Base, Database

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from civicgrid.core.crypto import Keyring
    from tests.support.city import TinyCity
    from tests.support.registry import TinyRegistry

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/civicgrid_test"


def _test_database_url(tmp_dir: Path, worker: str) -> str:
    kind = os.environ.get("CIVICGRID_TEST_DATABASE", "sqlite")
    if kind == "sqlite":
        return f"sqlite:///{tmp_dir / 'test.db'}"
    if kind != "postgres":
        raise pytest.UsageError(f"CIVICGRID_TEST_DATABASE must be sqlite or postgres, not {kind!r}")
    base = os.environ.get("CIVICGRID_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    return base if worker == "master" else f"{base}_{worker}"


def _ensure_postgres_database(url: str) -> None:
    from civicgrid.core.pgcheck import ensure_database

    ensure_database(url)


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Database]:
    url = _test_database_url(tmp_path_factory.mktemp("db"), worker_id)
    if url.startswith("postgresql"):
        _ensure_postgres_database(url)
    db = Database(url)
    import civicgrid.models  # noqa: F401

    Base.metadata.drop_all(db.engine)
    db.create_all()
    yield db
    db.dispose()


def _empty_all_tables(db: Database) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    if db.is_sqlite:
        raw = db.engine.raw_connection()
        try:
            raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[attr-defined]
            for table in tables:
                raw.execute(f'DELETE FROM "{table.name}"')  # type: ignore[attr-defined]
            raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[attr-defined]
        finally:
            raw.close()
        return
    with db.engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    """The test database with every table empty; the platform clock reset."""
    _empty_all_tables(database)
    clock.reset()
    yield database
    clock.reset()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session for service-level tests; the test decides when to commit."""
    with db.sessions() as s:
        yield s
        s.rollback()


@pytest.fixture
def settings() -> Settings:
    from civicgrid.config import random_secret

    return Settings(mode="test", secret_key=random_secret(), serve_frontend=False)


@pytest.fixture
def tiny_city(db: Database) -> TinyCity:
    from tests.support.city import build_tiny_city

    with db.unit_of_work() as s:
        return build_tiny_city(s)


@pytest.fixture
def keyring(settings: Settings) -> Keyring:
    """The keyring the app under test uses (derived from the test settings' secret)."""
    from civicgrid.core.crypto import Keyring

    return Keyring.from_settings(settings)


@pytest.fixture
def tiny_registry(db: Database, tiny_city: TinyCity, keyring: Keyring) -> TinyRegistry:
    from tests.support.registry import build_tiny_registry

    with db.unit_of_work() as s:
        return build_tiny_registry(s, keyring, tiny_city)


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    from fastapi.testclient import TestClient

    from civicgrid.app import create_app

    with TestClient(create_app(settings, db)) as test_client:
        yield test_client
