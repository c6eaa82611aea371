"""The dialect INSERT chosen for upserts."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, create_mock_engine
from sqlalchemy.dialects import postgresql, sqlite

from civicgrid.audit.models import AuditHead
from civicgrid.core.db import dialect_insert


def test_dialect_insert_follows_the_engine() -> None:
    assert isinstance(dialect_insert(create_engine("sqlite://"), AuditHead), sqlite.Insert)
    # No connection is made: the dialect is known from the URL.
    assert isinstance(dialect_insert(create_engine("postgresql+psycopg://"), AuditHead), postgresql.Insert)


def test_dialect_insert_renders_on_conflict_for_both() -> None:
    for engine in (create_engine("sqlite://"), create_engine("postgresql+psycopg://")):
        statement = dialect_insert(engine, AuditHead).values(id=1, seq=0, hash="x").on_conflict_do_nothing()
        assert "ON CONFLICT DO NOTHING" in str(statement.compile(dialect=engine.dialect))


def test_dialect_insert_refuses_other_databases() -> None:
    engine = create_mock_engine("mysql://", lambda *_args, **_kwargs: None)
    with pytest.raises(ValueError, match="mysql"):
        dialect_insert(engine, AuditHead)  # type: ignore[arg-type]
