"""Bulk loading of generated rows, with each database's fast path, inside one transaction.

- SQLite: `executemany` on the raw DBAPI connection in large batches, with a large page cache. Before
  the transaction begins (SQLite allows these only outside one): foreign keys off — the whole load is
  checked with `PRAGMA foreign_key_check` before commit, so rows may reference rows written later —, a
  rollback journal instead of WAL when no other connection has the file open (pages appended to a
  rollback-journal database need no journal, while WAL writes each of them twice: into the log, then
  into the database at the checkpoint), and `synchronous=OFF`; all restored afterwards and the file
  synced. Secondary indexes of the loaded tables are dropped first and rebuilt at the end (one sort per
  index instead of millions of random B-tree insertions). Deferred foreign keys would also allow
  forward references, but each parent row written while a child waits for it costs a scan of the
  child table, which is quadratic without the dropped indexes.
- PostgreSQL: `COPY … FROM STDIN` through psycopg 3; foreign keys and secondary indexes of the loaded
  tables are dropped and re-created after the load (PostgreSQL's own advice for populating a
  database), which also lets tables that reference each other load in any order; the id sequences are
  moved past the ids the caller assigned.

Unique indexes and constraints stay in place during the load, so a duplicate is refused as it is
written. Everything happens in the caller's transaction: an error leaves the database as it was.

    loader = BulkLoader(connection, tables)
    loader.prepare()              # outside the transaction
    try:
        with connection.begin():
            loader.open()
            loader.insert(table, columns, rows) …
            loader.close()        # indexes, checks, sequences
    finally:
        loader.restore()          # connection settings back

Rows are tuples of plain values: str, int, float, bytes, None; dates as ISO strings (both databases
parse them), booleans as 0/1 (PostgreSQL's boolean input accepts both), timestamps via `timestamp()`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, text

Row = tuple[Any, ...]


class BulkLoadError(RuntimeError):
    """The loaded rows break a constraint (the transaction is rolled back)."""


class BulkLoader:
    """Writes rows into tables with the database's bulk path; `open` before, `close` after (same transaction)."""

    def __init__(self, connection: Connection, tables: Sequence[Table], *, rebuild_indexes: bool = True) -> None:
        self.connection = connection
        self.tables = list(tables)
        self.dialect = connection.dialect.name
        self.rebuild_indexes = rebuild_indexes
        self.driver: Any = connection.connection.driver_connection
        self._saved_pragmas: dict[str, Any] = {}
        self._foreign_keys: int | None = None
        self._synchronous = 1
        self._journal_mode: str | None = None
        self._dropped_indexes: list[str] = []  # CREATE INDEX statements to run at the end
        self._dropped_constraints: list[str] = []  # ALTER TABLE … ADD CONSTRAINT statements
        self._sql: dict[tuple[str, tuple[str, ...]], str] = {}
        self.rows_written: dict[str, int] = {}

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    # -- values ----------------------------------------------------------------------------------------

    def timestamp(self, value: datetime) -> str:
        """A UTC timestamp as the column type stores it (SQLite: naive text; PostgreSQL: with offset)."""
        text_value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return text_value if self.is_sqlite else text_value + "+00"

    @staticmethod
    def json(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    # -- lifecycle -------------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Connection settings that must be made outside a transaction.

        SQLite: foreign keys off (checked in `close`); a rollback journal instead of WAL when this is the
        only connection to the file (WAL would write every new page twice: into the log, then into the
        database at the checkpoint, while pages appended to a rollback-journal database need no journal);
        `synchronous=OFF` (the file is synced once in `restore`).
        """
        if not self.is_sqlite:
            return
        driver = self.driver
        self._foreign_keys = driver.execute("PRAGMA foreign_keys").fetchone()[0]
        driver.execute("PRAGMA foreign_keys=OFF")
        self._synchronous = driver.execute("PRAGMA synchronous").fetchone()[0]
        self._journal_mode = driver.execute("PRAGMA journal_mode").fetchone()[0]
        if self._journal_mode == "wal":
            timeout = driver.execute("PRAGMA busy_timeout").fetchone()[0]
            driver.execute("PRAGMA busy_timeout=0")
            try:
                changed = driver.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            except sqlite3.OperationalError:  # another connection has the database open
                changed = "wal"
            finally:
                driver.execute(f"PRAGMA busy_timeout={int(timeout)}")
            if changed == "wal":
                self._journal_mode = None  # nothing to restore
        else:
            self._journal_mode = None
        driver.execute("PRAGMA synchronous=OFF")

    def restore(self) -> None:
        """Undo `prepare` (after commit or rollback) and sync the database file."""
        if not self.is_sqlite or self._foreign_keys is None:
            return
        driver = self.driver
        driver.execute(f"PRAGMA synchronous={int(self._synchronous)}")
        if self._journal_mode is not None:
            driver.execute(f"PRAGMA journal_mode={self._journal_mode}")
        driver.execute(f"PRAGMA foreign_keys={int(self._foreign_keys)}")
        for _, name, path in driver.execute("PRAGMA database_list").fetchall():
            if name == "main" and path:
                descriptor = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)

    def open(self) -> None:
        if self.is_sqlite:
            self._open_sqlite()
        else:
            self._open_postgres()

    def close(self) -> None:
        """Rebuild what `open` dropped, restore settings, fix sequences (still inside the transaction)."""
        if self.is_sqlite:
            cursor = self.driver.cursor()
            for statement in self._dropped_indexes:
                cursor.execute(statement)
            if self._foreign_keys:
                for table in self.tables:
                    problem = cursor.execute(f'PRAGMA foreign_key_check("{table.name}")').fetchone()
                    if problem is not None:
                        cursor.close()
                        raise BulkLoadError(
                            f"{problem[0]} row {problem[1]} refers to a missing row of {problem[2]} "
                            f"(foreign key {problem[3]})"
                        )
            # Statistics for the planner, as on PostgreSQL: without them SQLite may pick a poor index.
            for table in self.tables:
                cursor.execute(f'ANALYZE "{table.name}"')
            for name, value in self._saved_pragmas.items():
                cursor.execute(f"PRAGMA {name}={value}")
            cursor.close()
        else:
            with self.driver.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                for statement in self._dropped_indexes + self._dropped_constraints:
                    cursor.execute(statement)
                for table in self.tables:
                    if "id" in table.c and table.c.id.primary_key:
                        cursor.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608 - table names of the metadata
                            f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                        )
                for table in self.tables:
                    cursor.execute(f"ANALYZE {table.name}")
        self._dropped_indexes = []
        self._dropped_constraints = []

    def _open_sqlite(self) -> None:
        cursor = self.driver.cursor()
        self._saved_pragmas["cache_size"] = cursor.execute("PRAGMA cache_size").fetchone()[0]
        cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
        if self.rebuild_indexes:
            names = [t.name for t in self.tables]
            marks = ",".join("?" * len(names))
            rows = cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
                f"AND tbl_name IN ({marks}) AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
                names,
            ).fetchall()
            for name, sql in rows:
                cursor.execute(f'DROP INDEX "{name}"')
                self._dropped_indexes.append(sql)
        cursor.close()

    def _open_postgres(self) -> None:
        names = [t.name for t in self.tables]
        with self.driver.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            # Foreign keys of the loaded tables, and foreign keys elsewhere that point into them.
            constraints = cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "WHERE c.contype = 'f' "
                "AND (c.conrelid::regclass::text = ANY(%s) OR c.confrelid::regclass::text = ANY(%s)) "
                "ORDER BY 1, 2",
                (names, names),
            ).fetchall()
            for table, name, definition in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                self._dropped_constraints.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            if self.rebuild_indexes:
                indexes = cursor.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary "
                    "ORDER BY 1",
                    (names,),
                ).fetchall()
                for name, definition in indexes:
                    cursor.execute(f"DROP INDEX {name}")
                    self._dropped_indexes.append(definition)

    # -- rows ------------------------------------------------------------------------------------------

    def insert(self, table: Table, columns: Sequence[str], rows: Iterable[Row], *, batch: int = 50_000) -> int:
        """Write rows (tuples in the order of `columns`); returns how many."""
        count = 0
        if self.is_sqlite:
            sql = self._insert_sql(table, columns)
            cursor = self.driver.cursor()
            pending: list[Row] = []
            for row in rows:
                pending.append(row)
                if len(pending) >= batch:
                    cursor.executemany(sql, pending)
                    count += len(pending)
                    pending = []
            if pending:
                cursor.executemany(sql, pending)
                count += len(pending)
            cursor.close()
        else:
            names = ", ".join(f'"{c}"' for c in columns)
            with self.driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        self.rows_written[table.name] = self.rows_written.get(table.name, 0) + count
        return count

    def _insert_sql(self, table: Table, columns: Sequence[str]) -> str:
        key = (table.name, tuple(columns))
        sql = self._sql.get(key)
        if sql is None:
            names = ", ".join(f'"{c}"' for c in columns)
            sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
            self._sql[key] = sql
        return sql

    def count(self, table: Table) -> int:
        return int(self.connection.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one())  # noqa: S608
