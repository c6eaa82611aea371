"""Appending to and verifying the hash-chained audit trail.

Each record's hash covers its content and the previous record's hash, so altering, removing or
reordering any record breaks the chain from that point. Appends first update the single `audit_head`
row, which takes a row lock on PostgreSQL and the write lock on SQLite, so concurrent transactions
append one after another and never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civicgrid.audit.models import GENESIS_HASH, AuditHead, AuditRecord
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.core.clock import utcnow
from civicgrid.core.db import AnySelect, dialect_insert
from civicgrid.core.observability import client_address_var, request_id_var

HEAD_ID = 1


def record_hash(fields: dict[str, Any], prev_hash: str) -> str:
    canonical = json.dumps(
        {**fields, "prev_hash": prev_hash},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _fields(record: AuditRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "at": record.at.isoformat(),
        "actor": record.actor,
        "actor_name": record.actor_name,
        "action": record.action,
        "object_type": record.object_type,
        "object_id": record.object_id,
        "purpose": record.purpose,
        "request_id": record.request_id,
        "client_address": record.client_address,
        "details": record.details,
    }


def _lock_head(session: Session) -> AuditHead:
    """Take the append lock by writing the head row (created on first use, race-free)."""
    lock = update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq + 0)
    if session.execute(lock).rowcount == 0:  # type: ignore[attr-defined]
        head_row = dialect_insert(session, AuditHead).values(id=HEAD_ID, seq=0, hash=GENESIS_HASH)
        session.execute(head_row.on_conflict_do_nothing())
        session.execute(lock)
    head = session.get(AuditHead, HEAD_ID, populate_existing=True)
    assert head is not None
    return head


def record(
    session: Session,
    actor: Principal | None,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    *,
    purpose: str | None = None,
    details: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> AuditRecord:
    """Append one record. `details` must never hold personal data (names, ID numbers, phones)."""
    head = _lock_head(session)
    entry = AuditRecord(
        seq=head.seq + 1,
        at=utcnow(),
        actor=actor.actor_label if actor else "anonymous",
        actor_name=actor_name or (actor.username if actor else "anonymous"),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        purpose=purpose,
        request_id=request_id_var.get(),
        client_address=client_address_var.get(),
        details=details,
        prev_hash=head.hash,
    )
    entry.hash = record_hash(_fields(entry), head.hash)
    session.add(entry)
    head.seq = entry.seq
    head.hash = entry.hash
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def query_records(principal: Principal, filters: AuditFilter) -> AnySelect:
    require(principal, "audit:read")
    query = select(AuditRecord)
    if filters.actor:
        query = query.where(AuditRecord.actor == filters.actor)
    if filters.action:
        query = query.where(AuditRecord.action == filters.action)
    if filters.object_type:
        query = query.where(AuditRecord.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditRecord.object_id == filters.object_id)
    if filters.since:
        query = query.where(AuditRecord.at >= filters.since)
    if filters.until:
        query = query.where(AuditRecord.at < filters.until)
    return query


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str | None


def _stream(session: Session, batch: int) -> Iterator[AuditRecord]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify_chain(session: Session, *, batch: int = 5000, progress: Any = None) -> VerifyResult:
    """Walk the chain in order; name the first record that was altered, removed or moved."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for entry in _stream(session, batch):
        if entry.seq != expected_seq:
            return VerifyResult(
                False,
                checked,
                expected_seq,
                f"record {expected_seq} is missing (next present is {entry.seq})",
            )
        if entry.prev_hash != prev_hash:
            return VerifyResult(
                False,
                checked,
                entry.seq,
                f"record {entry.seq} does not follow record {entry.seq - 1} (removed or reordered)",
            )
        if record_hash(_fields(entry), prev_hash) != entry.hash:
            return VerifyResult(False, checked, entry.seq, f"record {entry.seq} was altered after it was written")
        prev_hash = entry.hash
        expected_seq += 1
        checked += 1
        if progress is not None:
            progress(1)
    head = session.get(AuditHead, HEAD_ID)
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return VerifyResult(
            False,
            checked,
            checked + 1,
            f"the chain ends at record {checked} but {head.seq} were written (tail removed)",
        )
    return VerifyResult(True, checked, None, None)


def count(session: Session) -> int:
    head = session.get(AuditHead, HEAD_ID)
    return head.seq if head else 0
