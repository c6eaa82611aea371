"""Key rotation: re-encrypt every stored token under the active data key, while the platform runs.

`rotate` walks each registered encrypted column (`core.crypto.register_encrypted`) in primary-key
order, in batches, one short transaction per batch: it reads the rows whose token names another key,
decrypts and re-encrypts them, and writes each back only if it still holds the token it read
(compare-and-set), so a value the application changed in the meantime is never overwritten. Readers
decrypt old and new tokens alike, so nothing waits for the rotation.

Progress is a checkpoint row per (column, target key id) in `core_key_rotation`, advanced in the same
transaction as its batch: an interrupted run resumes after the last committed batch. Batches lock the
checkpoint row (SELECT … FOR UPDATE on PostgreSQL; SQLite's write transactions are serial anyway), so
two rotations at once take turns batch by batch instead of doing the same work twice.

Once a column's pass has finished, a later run makes one read-only pass looking for stragglers (tokens
written under an old key after the pass went by, e.g. by a server that had not yet been given the new
active key) and re-encrypts those; when there are none it changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    UniqueConstraint,
    and_,
    bindparam,
    func,
    select,
    true,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import DecryptionError, EncryptedColumn, Keyring, encrypted_columns
from civicgrid.core.db import Base, Database
from civicgrid.core.types import UTCDateTime

# (column name, rows handled so far in this column, rows to handle in this column)
RotationProgress = Callable[[str, int, int], None]


class KeyRotation(Base):
    """How far the re-encryption of one column under one key has got."""

    __tablename__ = "core_key_rotation"
    __table_args__ = (UniqueConstraint("column_name", "target_key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    column_name: Mapped[str] = mapped_column(String(120))  # table.column
    target_key_id: Mapped[str] = mapped_column(String(32))
    last_pk: Mapped[int | None] = mapped_column(BigInteger)  # the last primary key of the last committed batch
    rows_done: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RotationError(Exception):
    """A stored value could not be re-encrypted (unknown key, damaged token); the run stopped there."""


@dataclass
class ColumnRotation:
    column: str
    target_key_id: str
    to_do: int = 0  # rows under another key when this run looked
    reencrypted: int = 0
    skipped: int = 0  # changed by someone else between our read and our write (they wrote a fresh token)
    resumed_after: int | None = None  # primary key an interrupted run had reached
    verification: bool = False  # a previous run had finished this column; this one looked for stragglers


@dataclass
class RotationReport:
    target_key_id: str
    columns: list[ColumnRotation] = field(default_factory=list)

    @property
    def reencrypted(self) -> int:
        return sum(c.reencrypted for c in self.columns)

    @property
    def skipped(self) -> int:
        return sum(c.skipped for c in self.columns)


def _stale(column: EncryptedColumn, keyring: Keyring) -> ColumnElement[bool]:
    """Tokens that do not start with the active key's header (version, key-id length, key id)."""
    value = column.table.c[column.column]
    header = keyring.header()
    return and_(value.is_not(None), func.substr(value, 1, len(header)) != header)


def _after(column: EncryptedColumn, last_pk: int | None) -> ColumnElement[bool]:
    pk = column.table.c[column.pk]
    return true() if last_pk is None else pk > last_pk


def _checkpoint(session: Session, name: str, target: str, *, lock: bool = False) -> KeyRotation | None:
    query = select(KeyRotation).where(KeyRotation.column_name == name, KeyRotation.target_key_id == target)
    return session.scalar(query.with_for_update() if lock else query)


def _open_checkpoint(database: Database, name: str, target: str) -> tuple[int | None, bool]:
    """(the primary key to resume after, whether a previous run had finished), creating the row if new."""
    for attempt in range(2):
        try:
            with database.unit_of_work() as session:
                checkpoint = _checkpoint(session, name, target)
                if checkpoint is None:
                    session.add(KeyRotation(column_name=name, target_key_id=target, started_at=utcnow()))
                    return None, False
                if checkpoint.finished_at is not None:
                    return None, True
                return checkpoint.last_pk, False
        except IntegrityError:  # another rotation created it at the same moment (PostgreSQL)
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def pending(database: Database, keyring: Keyring, column: EncryptedColumn, *, after: int | None = None) -> int:
    """How many rows of the column hold a token under a key other than the active one."""
    with database.unit_of_work(write=False) as session:
        query = select(func.count()).select_from(column.table).where(_stale(column, keyring), _after(column, after))
        return int(session.scalar(query) or 0)


def rotate(
    database: Database,
    keyring: Keyring,
    *,
    batch_size: int = 5000,
    progress: RotationProgress | None = None,
    columns: Sequence[EncryptedColumn] | None = None,
) -> RotationReport:
    """Re-encrypt under `keyring`'s active key every token of every registered column (or of `columns`)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = RotationReport(target_key_id=keyring.active_key_id)
    for column in encrypted_columns() if columns is None else columns:
        report.columns.append(_rotate_column(database, keyring, column, batch_size, progress))
    return report


def _rotate_column(
    database: Database,
    keyring: Keyring,
    column: EncryptedColumn,
    batch_size: int,
    progress: RotationProgress | None,
) -> ColumnRotation:
    target = keyring.active_key_id
    result = ColumnRotation(column=column.name, target_key_id=target)
    resume_after, finished_before = _open_checkpoint(database, column.name, target)
    result.resumed_after = resume_after
    result.verification = finished_before
    result.to_do = pending(database, keyring, column, after=resume_after)
    if progress:
        progress(column.name, 0, result.to_do)
    if finished_before and result.to_do == 0:
        return result  # nothing left: read only, no write at all

    table = column.table
    pk, value = table.c[column.pk], table.c[column.column]
    stale = _stale(column, keyring)
    write_back = (
        update(table).where(pk == bindparam("_pk"), value == bindparam("_old")).values({value: bindparam("_new")})
    )
    cursor = resume_after
    handled = 0
    while True:
        with database.unit_of_work() as session:
            checkpoint = None
            if not finished_before:
                checkpoint = _checkpoint(session, column.name, target, lock=True)
                assert checkpoint is not None
                if checkpoint.finished_at is not None:  # another rotation finished it meanwhile
                    break
                cursor = checkpoint.last_pk
            rows = session.execute(
                select(pk, value).where(stale, _after(column, cursor)).order_by(pk).limit(batch_size)
            ).all()
            if not rows:
                if checkpoint is not None:
                    checkpoint.finished_at = utcnow()
                break
            params = [
                {"_pk": row_pk, "_old": token, "_new": _reencrypt(keyring, column, row_pk, token)}
                for row_pk, token in rows
            ]
            written = cast(CursorResult[Any], session.execute(write_back, params)).rowcount
            cursor = rows[-1][0]
            if checkpoint is not None:
                checkpoint.last_pk = cursor
                checkpoint.rows_done += written
        result.reencrypted += written
        result.skipped += len(rows) - written
        handled += len(rows)
        if progress:
            progress(column.name, handled, max(result.to_do, handled))
    return result


def _reencrypt(keyring: Keyring, column: EncryptedColumn, row_pk: int, token: bytes) -> bytes:
    try:
        return keyring.reencrypt(bytes(token), context=column.context)
    except DecryptionError as exc:
        raise RotationError(
            f"{column.name} of row {column.pk}={row_pk} cannot be re-encrypted: {exc}. Nothing of this batch was "
            "written; fix the cause (e.g. add the missing key to CIVICGRID_DATA_KEYS) and run the rotation again "
            "— it resumes here."
        ) from exc


@dataclass(frozen=True)
class ColumnKeys:
    """How many tokens of a column each key id holds; `other`: tokens naming a key not in the keyring."""

    column: str
    by_key: dict[str, int]
    other: int
    empty: int


def key_usage(
    database: Database, keyring: Keyring, columns: Sequence[EncryptedColumn] | None = None
) -> list[ColumnKeys]:
    """Tokens per key id in each encrypted column: when an old key counts 0 everywhere it can be retired."""
    out = []
    with database.unit_of_work(write=False) as session:
        for column in encrypted_columns() if columns is None else columns:
            value = column.table.c[column.column]
            total = int(session.scalar(select(func.count()).select_from(column.table)) or 0)
            filled = int(session.scalar(select(func.count(value)).select_from(column.table)) or 0)
            by_key = {}
            for kid in keyring.key_ids:
                header = keyring.header(kid)
                query = (
                    select(func.count()).select_from(column.table).where(func.substr(value, 1, len(header)) == header)
                )
                by_key[kid] = int(session.scalar(query) or 0)
            out.append(ColumnKeys(column.name, by_key, other=filled - sum(by_key.values()), empty=total - filled))
    return out
