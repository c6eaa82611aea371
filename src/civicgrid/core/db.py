"""Engine, declarative base and the unit of work.

A request (or a command, or a job) gets one session; services add and flush but never commit; the
caller commits once at the end and rolls back on error. Callbacks registered with `after_commit` run
only when that commit succeeded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias

from sqlalchemy import MetaData, Select, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# A SELECT of any row shape (SQLAlchemy 2.1 types Select by its column tuple).
AnySelect: TypeAlias = Select[*tuple[Any, ...]]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# An INSERT with ON CONFLICT support: both dialects share on_conflict_do_nothing/_do_update and `excluded`.
DialectInsert: TypeAlias = postgresql.Insert | sqlite.Insert


def dialect_insert(session_or_bind: Session | Connection | Engine, table: type[Base] | Table) -> DialectInsert:
    """The INSERT of the database behind `session_or_bind` (PostgreSQL or SQLite), for upserts."""
    bind = session_or_bind.get_bind() if isinstance(session_or_bind, Session) else session_or_bind
    name = bind.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database dialect {name!r} (PostgreSQL or SQLite)")


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling is off).
    dbapi_connection.isolation_level = None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Prefix searches (LIKE 'x%') may then use ordinary indexes; ILIKE stays case-insensitive.
    cursor.execute("PRAGMA case_sensitive_like=ON")
    cursor.close()


def make_engine(url: str, *, echo: bool = False, immediate: bool = False) -> Engine:
    """An engine; for SQLite, `immediate` makes every transaction take the write lock at BEGIN.

    SQLite upgrades a deferred read transaction to a write one only if nobody committed since it began
    (otherwise SQLITE_BUSY at once); write transactions therefore start with BEGIN IMMEDIATE and queue
    on the busy timeout instead, while reads stay concurrent.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _sqlite_manual_transactions)
        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql(begin))
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        if self.engine.dialect.name == "sqlite":
            self.write_engine = make_engine(url, immediate=True)
            self.write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        else:
            self.write_engine = self.engine
            self.write_sessions = self.sessions

    def session(self, *, write: bool = True) -> Session:
        return (self.write_sessions if write else self.sessions)()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """A session that commits once at the end, or rolls back on any error."""
        session = self.session(write=write)
        try:
            yield session
            session.commit()
        except BaseException as exc:
            # Errors marked keep_changes (a failed-login counter, a revoked token family) still commit
            # their bookkeeping; everything else leaves no trace.
            if getattr(exc, "keep_changes", False):
                session.commit()
            else:
                session.rollback()
            raise
        finally:
            session.close()
        run_after_commit(session)

    def create_all(self) -> None:
        import civicgrid.models  # noqa: F401 - registers every table

        Base.metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        self.write_engine.dispose()


_AFTER_COMMIT_KEY = "civicgrid_after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (e.g. notify, enqueue a job)."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


def run_after_commit(session: Session) -> None:
    callbacks: list[Callable[[], None]] = session.info.pop(_AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        callback()
