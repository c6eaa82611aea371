"""12345 hotline exports imported as cases: formats and encodings, the mapping's columns and categories,
both modes with good and bad rows, merging the same problem, idempotent re-imports, and the command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.hotline_models import HotlineTicket
from civicgrid.cases.models import Case
from civicgrid.config import Settings, random_secret
from civicgrid.core.crypto import Keyring
from civicgrid.core.db import Database
from tests.cases.conftest import IN_A1, IN_A2, IN_B2, OUTSIDE
from tests.support.api import assert_error, auth_headers
from tests.support.city import CITY, TinyCity
from tests.support.hotline import (
    CATEGORIES,
    COLUMNS,
    HEADER,
    HOTLINE,
    MAPPING,
    export,
    local_time,
    report_lines,
    run,
    save_mapping,
    start,
    ticket,
)
from tests.support.imports import make_client

NEAR_A1 = (IN_A1[0] + 0.0003, IN_A1[1])  # about 30 m away: the same problem


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(mode="test", secret_key=random_secret(), serve_frontend=False, data_dir=tmp_path / "var")


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    yield from make_client(settings, db)


@pytest.fixture
def operator(client: TestClient, cases_city: TinyCity) -> dict[str, str]:
    headers = auth_headers(client, "operator")
    save_mapping(client, headers)
    return headers


def _count(db: Database, model: Any) -> int:
    with db.unit_of_work(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def _case_of(db: Database, ticket_no: str) -> Case:
    with db.unit_of_work(write=False) as s:
        row = s.scalar(select(HotlineTicket).where(HotlineTicket.ticket_no == ticket_no))
        assert row is not None, ticket_no
        case = s.get(Case, row.case_id)
        assert case is not None
        return case


MIXED = [
    ticket("T001", IN_A1, received="2025-03-01 09:30:00", priority="紧急"),  # 2: good (older than the window)
    ticket("T002", IN_A2, "垃圾清运", received=local_time(3, "%Y/%m/%d %H:%M")),  # 3: good
    ticket("T003", IN_B2, "可疑人员", received="2025-03-01T11:00:00+08:00"),  # 4: good
    ticket("T004", IN_A1, "宠物扰民"),  # 5: unknown category
    ticket("T005", OUTSIDE),  # 6: outside the city
    ticket("T006", None),  # 7: no location
    ticket("T007", IN_A1, received="昨天下午"),  # 8: not a time
    ticket("T008", IN_A2, phone="12345", name="李四"),  # 9: not a phone
    ticket("T009", IN_A1, "垃圾清运", received=local_time(5)),  # 10: good
    ticket("T010", NEAR_A1, "垃圾清运", received=local_time(1)),  # 11: the same problem as T009 → +1
]


def test_apply_valid_takes_in_the_good_tickets_and_reports_the_rest(
    client: TestClient, operator: dict[str, str], db: Database, settings: Settings, keyring: Keyring
) -> None:
    job = run(client, operator, export(MIXED), mode="apply_valid")
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert (result["rows"], result["created"], result["merged"], result["unchanged"]) == (10, 4, 1, 0)
    assert (result["failed"], job["total"], job["succeeded_rows"], job["failed_rows"]) == (5, 10, 5, 5)
    assert _count(db, Case) == 4 and _count(db, HotlineTicket) == 5

    first = _case_of(db, "T001")
    assert (first.source, first.external_id, first.category_code, first.priority) == (
        "hotline_12345",
        "T001",
        "0501",
        "high",
    )
    assert first.reported_at.astimezone(UTC) == datetime(2025, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    assert first.reporter_user_id is None and first.reporter_name == "张三"
    assert first.reporter_phone_enc is not None and b"13900001111" not in first.reporter_phone_enc
    assert keyring.decrypt(first.reporter_phone_enc, context="case.reporter_phone") == "13900001111"
    assert _case_of(db, "T003").reported_at.astimezone(UTC) == datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
    merged = _case_of(db, "T010")
    assert merged.id == _case_of(db, "T009").id and merged.followers == 1

    by_row = {line["row"]: line for line in report_lines(client, job, operator)}
    assert set(by_row) == {"5", "6", "7", "8", "9"}
    assert (by_row["5"]["field"], by_row["5"]["column"], by_row["5"]["value"]) == ("category", "诉求类别", "宠物扰民")
    assert "category table" in by_row["5"]["reason"]
    assert by_row["6"]["field"] == "location" and "outside the city" in by_row["6"]["reason"]
    assert by_row["7"]["field"] == "location" and by_row["7"]["reason"].startswith("no location")
    assert by_row["7"]["column"] == "经度, 纬度"
    assert by_row["8"]["field"] == "received_at" and "昨天下午" in by_row["8"]["reason"]
    assert by_row["9"]["field"] == "caller_phone" and by_row["9"]["value"] == "*2345"
    text = client.get(job["error_report_url"], headers=operator).content.decode("utf-8-sig")
    assert "李四" not in text and "13900001111" not in text
    assert not list((settings.data_dir / "imports").glob("upload-*"))  # the upload goes with the job
    with db.unit_of_work(write=False) as s:
        audited = s.scalars(select(AuditRecord).where(AuditRecord.action == "case.hotline_import")).one()
        assert audited.details is not None and audited.details["created"] == 4 and audited.details["failed"] == 5
        assert "张三" not in json.dumps(audited.details, ensure_ascii=False)


def test_all_or_nothing_writes_nothing_when_a_ticket_fails(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    job = run(client, operator, export(MIXED), mode="all_or_nothing")
    assert job["status"] == "failed" and "nothing was written" in job["message"]
    assert job["result"]["written"] is False and job["result"]["failed"] == 5
    assert {line["row"] for line in report_lines(client, job, operator)} == {"5", "6", "7", "8", "9"}
    assert _count(db, Case) == 0 and _count(db, HotlineTicket) == 0

    good = [row for row in MIXED if row[0] in ("T001", "T002", "T003", "T009", "T010")]
    job = run(client, operator, export(good), mode="all_or_nothing")
    assert job["status"] == "succeeded", job
    assert (job["result"]["created"], job["result"]["merged"], job["error_report_url"]) == (4, 1, None)
    assert _count(db, Case) == 4


def test_importing_again_changes_nothing(client: TestClient, operator: dict[str, str], db: Database) -> None:
    good = [row for row in MIXED if row[0] in ("T001", "T002", "T009", "T010")]
    first = run(client, operator, export(good))
    assert (first["result"]["created"], first["result"]["merged"]) == (3, 1)
    cases = {number: _case_of(db, number).id for number in ("T001", "T002", "T009", "T010")}
    again = run(client, operator, export([*good, ticket("T011", IN_B2, "可疑人员")]))
    result = again["result"]
    assert (result["created"], result["merged"], result["unchanged"], result["failed"]) == (1, 0, 4, 0)
    assert {number: _case_of(db, number).id for number in cases} == cases
    assert _count(db, Case) == 4 and _case_of(db, "T009").followers == 1  # no second +1


def test_a_file_in_neither_utf8_nor_gbk_is_refused_before_any_row(
    client: TestClient, operator: dict[str, str], db: Database, settings: Settings
) -> None:
    broken = export([ticket("T001", IN_A1)]) + b"\xff\xfe\xfa\x80 bad bytes\n"
    error = assert_error(start(client, operator, broken), 422, "import_rejected")
    assert "neither UTF-8" in error["message"]
    assert assert_error(start(client, operator, b"\xff\xfeT\x00"), 422, "import_rejected")
    assert _count(db, Case) == 0 and not list((settings.data_dir / "imports").glob("upload-*"))
    # GBK, as Excel saves CSV on Chinese Windows, is read as it should be.
    job = run(client, operator, export([ticket("T001", IN_A1, "垃圾清运")], encoding="gbk"))
    assert job["result"]["created"] == 1 and job["result"]["encoding"] == "gb18030"
    assert _case_of(db, "T001").category_code == "0502"


def test_missing_required_columns_are_named(client: TestClient, operator: dict[str, str], db: Database) -> None:
    without_lat = export([row[:6] for row in MIXED[:2]], header=HEADER[:6])
    error = assert_error(start(client, operator, without_lat), 422, "import_rejected")
    assert error["message"].startswith("missing required columns: lat")
    inline = {"columns": {"工单编号": "ticket_no", "没有这列": "received_at"}, "categories": CATEGORIES}
    error = assert_error(start(client, operator, export(MIXED), mapping_name=None, mapping=json.dumps(inline)), 422)
    assert error["message"].startswith("missing required columns: received_at")
    assert any("没有这列" in problem["problem"] for problem in error["details"])
    bad_field = {"columns": {"工单编号": "ticket"}, "categories": CATEGORIES}
    assert_error(start(client, operator, export(MIXED), mapping_name=None, mapping=json.dumps(bad_field)), 422)
    assert_error(start(client, operator, export(MIXED), mapping_name="没有的映射"), 422)
    assert_error(start(client, operator, export(MIXED), mapping_name=None), 422)
    assert _count(db, Case) == 0


def test_json_arrays_and_json_lines(client: TestClient, operator: dict[str, str], db: Database) -> None:
    keys = ["ticket_no", "received_at", "category", "description", "address", "lon", "lat"]
    objects = [dict(zip(keys, row[:7], strict=True)) for row in (ticket("J1", IN_A1), ticket("J2", IN_A2, "垃圾清运"))]
    mapping = json.dumps({"columns": {}, "categories": CATEGORIES})  # keys named like the fields map themselves
    array = json.dumps(objects, ensure_ascii=False).encode()
    job = run(client, operator, array, mapping_name=None, mapping=mapping)
    assert job["result"]["format"] == "json" and job["result"]["created"] == 2
    lines = [
        {**o, "ticket_no": o["ticket_no"] + "L", "lon": None if o["ticket_no"] == "J2" else o["lon"]} for o in objects
    ]
    text = "\n".join(json.dumps(o, ensure_ascii=False) for o in lines).encode()
    job = run(client, operator, text, mapping_name=None, mapping=mapping, filename="tickets.jsonl")
    assert (job["result"]["format"], job["result"]["unchanged"], job["result"]["failed"]) == ("json", 0, 1)
    assert job["result"]["merged"] == 1  # J1L: the same problem as J1
    assert [line["row"] for line in report_lines(client, job, operator)] == ["2"]
    assert_error(start(client, operator, b'[{"ticket_no": 1},', mapping_name=None, mapping=mapping), 422)


def test_only_importers_import(client: TestClient, cases_city: TinyCity) -> None:
    for username in ("worker.a1", "community.a", "resident"):
        headers = auth_headers(client, username)
        assert_error(start(client, headers, export(MIXED)), 403)
        assert_error(client.get(f"{HOTLINE}/mappings", headers=headers), 403)


def test_the_command_imports_with_a_progress_bar(
    db: Database, tmp_path: Path, cases_city: TinyCity, keyring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from civicgrid.authz.scope import Level, Principal, Scope
    from civicgrid.cases.hotline_mappings import create_mapping
    from civicgrid.cli import app
    from civicgrid.config import get_settings
    from civicgrid.core.crypto import use_keyring

    with db.unit_of_work() as s:
        cli = Principal(None, "cli", "center_operator", frozenset({"case:import"}), Scope(CITY, Level.city))
        create_mapping(s, cli, MAPPING, COLUMNS, CATEGORIES)
    monkeypatch.setenv("CIVICGRID_DATABASE_URL", db.url)
    monkeypatch.setenv("CIVICGRID_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    source = tmp_path / "12345.csv"
    source.write_bytes(export(MIXED))
    runner = CliRunner()
    try:
        with use_keyring(keyring):
            errors = tmp_path / "errors.csv"
            args = ["cases", "import-hotline", str(source), "--mapping", MAPPING]
            failed = runner.invoke(app, [*args, "--all-or-nothing", "--errors", str(errors)])
            assert failed.exit_code == 1, failed.output
            assert "nothing was written" in failed.output and errors.is_file()
            assert _count(db, Case) == 0
            unknown = runner.invoke(app, ["cases", "import-hotline", str(source), "--mapping", "nope"])
            assert unknown.exit_code == 2 and "no saved hotline mapping" in unknown.output
            done = runner.invoke(app, args)
            assert done.exit_code == 0, done.output
            assert "4 new cases" in done.output and "1 merged" in done.output and "5 failed" in done.output
            assert source.exists()
    finally:
        get_settings.cache_clear()
    assert _count(db, Case) == 4
