"""The audit chain detects any altered, removed or reordered record, and survives concurrent appends."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from tests.support.api import assert_error, auth_headers
from tests.support.city import TinyCity
from typer.testing import CliRunner

from civicgrid.audit import service as audit
from civicgrid.audit.models import AuditRecord
from civicgrid.core.db import Database


def _append(db: Database, n: int) -> None:
    with db.unit_of_work() as session:
        for i in range(n):
            audit.record(session, None, "test.event", "thing", i, details={"i": i})


def _verify(db: Database) -> audit.VerifyResult:
    with db.unit_of_work(write=False) as session:
        return audit.verify_chain(session, batch=3)


def test_intact_chain_verifies(db: Database) -> None:
    _append(db, 10)
    assert _verify(db) == audit.VerifyResult(True, 10, None, None)


def test_altered_record_is_named(db: Database) -> None:
    _append(db, 10)
    with db.unit_of_work() as session:
        session.execute(update(AuditRecord).where(AuditRecord.seq == 6).values(action="test.innocent"))
    result = _verify(db)
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 6, 5)
    assert "altered" in (result.reason or "")


def test_altered_details_are_detected(db: Database) -> None:
    _append(db, 5)
    with db.unit_of_work() as session:
        session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(details={"i": 99}))
    assert _verify(db).first_broken_seq == 2


def test_removed_record_is_named(db: Database) -> None:
    _append(db, 10)
    with db.unit_of_work() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq == 4))
    result = _verify(db)
    assert (result.ok, result.first_broken_seq) == (False, 4)
    assert "missing" in (result.reason or "")


def test_removed_tail_is_detected(db: Database) -> None:
    _append(db, 10)
    with db.unit_of_work() as session:
        session.execute(delete(AuditRecord).where(AuditRecord.seq >= 9))
    result = _verify(db)
    assert (result.ok, result.first_broken_seq) == (False, 9)


def test_reordered_records_are_detected(db: Database) -> None:
    _append(db, 10)
    with db.unit_of_work() as session:
        # Swap the contents of records 3 and 7, keeping their positions and hashes.
        three, seven = (session.get(AuditRecord, 3), session.get(AuditRecord, 7))
        assert three is not None
        assert seven is not None
        a, b = (three.details, three.object_id), (seven.details, seven.object_id)
        three.details, three.object_id = b
        seven.details, seven.object_id = a
    assert _verify(db).first_broken_seq == 3


def test_renumbered_records_are_detected(db: Database) -> None:
    _append(db, 6)
    with db.unit_of_work() as session:
        session.execute(update(AuditRecord).where(AuditRecord.seq == 6).values(seq=60))
        session.execute(update(AuditRecord).where(AuditRecord.seq == 5).values(seq=6))
        session.execute(update(AuditRecord).where(AuditRecord.seq == 60).values(seq=5))
    assert _verify(db).first_broken_seq == 5


def test_concurrent_appends_keep_one_chain(db: Database) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                _append(db, 4)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _verify(db) == audit.VerifyResult(True, 80, None, None)
    with db.unit_of_work(write=False) as session:
        assert session.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)).all() == list(range(1, 81))


def test_rolled_back_work_leaves_no_record(db: Database) -> None:
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        audit.record(session, None, "test.event", "thing", 1)
        raise RuntimeError("boom")
    _append(db, 1)
    assert _verify(db) == audit.VerifyResult(True, 1, None, None)


def test_cli_verify_exit_codes(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicgrid.cli import app
    from civicgrid.config import get_settings

    _append(db, 3)
    monkeypatch.setenv("CIVICGRID_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        ok = CliRunner().invoke(app, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "intact: 3 records" in ok.output
        with db.unit_of_work() as session:
            session.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(actor="user:999"))
        broken = CliRunner().invoke(app, ["audit", "verify"])
    finally:
        get_settings.cache_clear()
    assert broken.exit_code == 1
    assert "broken at record 2" in broken.output


def test_writes_and_logins_are_audited(client: TestClient, tiny_city: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    created = client.post(
        "/api/v1/users",
        headers=admin,
        json={
            "username": "new.worker",
            "display_name": "新网格员",
            "password": "Another-Pass-99",
            "role": "grid_worker",
            "scope_division_code": "340303001001002",
        },
    )
    assert created.status_code == 201, created.text
    auditor = auth_headers(client, "auditor")
    records = client.get("/api/v1/audit/records", headers=auditor, params={"action": "user.create"}).json()
    assert records["total"] == 1
    entry = records["items"][0]
    assert entry["actor"] == f"user:{tiny_city.users['admin']}"
    assert entry["object_id"] == str(created.json()["id"])
    assert entry["request_id"]
    assert "Another-Pass-99" not in str(entry)
    logins = client.get("/api/v1/audit/records", headers=auditor, params={"action": "auth.login"}).json()
    assert logins["total"] == 2
    verify = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert verify["ok"] is True
    assert verify["checked"] >= 3


def test_only_auditors_read_the_trail(client: TestClient, tiny_city: TinyCity) -> None:
    assert_error(client.get("/api/v1/audit/records", headers=auth_headers(client, "operator")), 403, "forbidden")
    assert_error(client.get("/api/v1/audit/verify", headers=auth_headers(client, "admin")), 403, "forbidden")
