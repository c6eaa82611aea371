"""The feeds through the HTTP interface: the category tree, saved mappings, file imports as jobs (both modes,
every bad input of issue 5 reported row by row, idempotent re-imports, unknown categories under each
policy, files refused before any row), calls pushed by a police system with an API key (all or nothing,
duplicates, live events), the scoped list, and the import command."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicgrid.audit.models import AuditRecord
from civicgrid.auth.service import load_principal
from civicgrid.authz.scope import Principal
from civicgrid.config import Settings, random_secret
from civicgrid.core.broadcast import Broadcaster, Event
from civicgrid.core.db import Database
from civicgrid.safety.models import SafetyDailyCount, SafetyDirtyDay, SafetyIncident
from tests.safety.conftest import FEED_IN_A1, FEED_IN_A2, FEED_IN_B2, FEED_NO_GRID, FEED_OUTSIDE
from tests.support import aio
from tests.support.api import assert_error, auth_headers
from tests.support.city import (
    CITY,
    COMMUNITY_A,
    DISTRICT,
    GRID_A1,
    GRID_A2,
    GRID_B2,
    OTHER_DISTRICT,
    STREET_A,
    TinyCity,
)
from tests.support.imports import make_client, report_rows, wait_for

SAFETY = "/api/v1/safety"
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
HEADER = [
    "接警单编号",
    "报警时间",
    "警情类别",
    "简要案情",
    "发案地址",
    "经度",
    "纬度",
    "行政区划代码",
    "死亡人数",
    "受伤人数",
]
COLUMNS = {
    "接警单编号": "record_id",
    "报警时间": "occurred_at",
    "警情类别": "category",
    "发案地址": "address",
    "经度": "lon",
    "纬度": "lat",
    "行政区划代码": "address_code",
    "死亡人数": "deaths",
    "受伤人数": "injuries",
}
CATEGORIES = {"盗窃": "0101", "殴打他人": "0104", "噪音扰民": "0204", "火灾": "0401"}
SUMMARY = "报警人张三称其手机被盗"  # a call summary names people: never stored


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(mode="test", secret_key=random_secret(), serve_frontend=False, data_dir=tmp_path / "var")


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    yield from make_client(settings, db)


@pytest.fixture
def operator(client: TestClient, feeds_city: TinyCity) -> dict[str, str]:
    return auth_headers(client, "operator")


def call(
    rid: str,
    point: tuple[float, float] | None = FEED_IN_A1,
    category: str = "盗窃",
    when: str = "2025-03-01 09:30:00",
    code: str = "",
    deaths: str = "0",
    injuries: str = "0",
) -> list[Any]:
    lon, lat = point if point is not None else ("", "")
    return [rid, when, category, SUMMARY, "天桥路1号", lon, lat, code, deaths, injuries]


def feed(rows: list[list[Any]], header: list[str] = HEADER, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    return buffer.getvalue().encode(encoding)


def save_mapping(client: TestClient, headers: dict[str, str], **changes: Any) -> int:
    body = {"name": "110 接处警", "source": "110", "columns": COLUMNS, "categories": CATEGORIES, **changes}
    response = client.post(f"{SAFETY}/feed-mappings", json=body, headers=headers)
    assert response.status_code == 201, response.text
    mapping_id: int = response.json()["id"]
    return mapping_id


def upload(
    client: TestClient,
    headers: dict[str, str],
    data: bytes,
    mapping_id: int | None,
    mode: str | None = None,
    query: dict[str, Any] | None = None,
) -> Any:
    form = {k: str(v) for k, v in (("mapping_id", mapping_id), ("mode", mode)) if v is not None}
    return client.post(
        f"{SAFETY}/imports", headers=headers, files={"file": ("calls.csv", data)}, data=form, params=query
    )


def run(client: TestClient, headers: dict[str, str], data: bytes, mapping_id: int, mode: str = "apply_valid") -> Any:
    response = upload(client, headers, data, mapping_id, mode)
    assert response.status_code == 202, response.text
    assert response.json()["kind"] == "safety.feed.import"
    return wait_for(client, response.json()["id"], headers)


def count_of(db: Database, model: Any) -> int:
    with db.unit_of_work(write=False) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def daily(db: Database) -> dict[tuple[str, date, str], int]:
    with db.unit_of_work(write=False) as s:
        rows = s.execute(
            select(SafetyDailyCount.division_code, SafetyDailyCount.day, SafetyDailyCount.kind, SafetyDailyCount.count)
        )
        return {(r[0], r[1], r[2]): r[3] for r in rows}


def incidents_of(db: Database) -> dict[str, SafetyIncident]:
    with db.unit_of_work(write=False) as s:
        return {i.record_id: i for i in s.scalars(select(SafetyIncident))}


# -- categories and mappings -----------------------------------------------------------------------------


def test_the_category_tree_carries_the_indicators(client: TestClient, feeds_city: TinyCity) -> None:
    tree = client.get(f"{SAFETY}/categories", headers=auth_headers(client, "worker.a1"))
    assert tree.status_code == 200, tree.text
    classes = {c["code"]: c for c in tree.json()}
    assert classes["01"]["indicator"] == "crime_order" and classes["04"]["indicator"] == "fire"
    assert classes["06"]["indicator"] is None
    assert [c["code"] for c in classes["05"]["children"]] == ["0501", "0502"]
    assert_error(client.get(f"{SAFETY}/categories", headers=auth_headers(client, "resident")), 403)


def test_mappings_are_saved_checked_and_audited(client: TestClient, operator: dict[str, str], db: Database) -> None:
    mapping_id = save_mapping(client, operator)
    listed = client.get(f"{SAFETY}/feed-mappings", headers=operator).json()
    assert [(m["name"], m["source"], m["unknown_category"]) for m in listed] == [("110 接处警", "110", "report")]
    got = client.get(f"{SAFETY}/feed-mappings/{mapping_id}", headers=operator).json()
    assert got["columns"] == COLUMNS and got["categories"] == CATEGORIES
    body = {
        **got,
        "categories": {**CATEGORIES, "其他": "0999"},
        "unknown_category": "fallback",
        "fallback_category": "0999",
    }
    for key in ("id", "created_by", "created_at", "updated_at"):
        body.pop(key)
    changed = client.put(f"{SAFETY}/feed-mappings/{mapping_id}", json=body, headers=operator)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["unknown_category"], changed.json()["fallback_category"]) == ("fallback", "0999")

    bad = {
        "name": "bad",
        "source": "110",
        "columns": {"简要案情": "summary", "编号": "record_id", "另一编号": "record_id", "": "lon"},
        "categories": {"刑事": "01", "猜的": "0808", "": "0101"},
    }
    error = assert_error(client.post(f"{SAFETY}/feed-mappings", json=bad, headers=operator), 422, "invalid_input")
    problems = {d["field"]: d["problem"] for d in error["details"]}
    assert "free text such as a call summary is never imported" in problems["columns.简要案情"]
    assert "already mapped" in problems["columns.另一编号"] and "empty" in problems["columns"]
    error = assert_error(
        client.post(f"{SAFETY}/feed-mappings", json={**bad, "columns": {}}, headers=operator), 422, "invalid_input"
    )
    problems = {d["field"]: d["problem"] for d in error["details"]}
    assert "is a class; name one of its categories" in problems["categories.刑事"]
    assert "not an active incident category" in problems["categories.猜的"]
    for policy, fallback, words in (
        ("fallback", None, "required"),
        ("reject", "0999", "only with"),
        ("fallback", "09", "class"),
    ):
        body = {"name": "p", "source": "110", "unknown_category": policy, "fallback_category": fallback}
        error = assert_error(client.post(f"{SAFETY}/feed-mappings", json=body, headers=operator), 422)
        assert error["details"][0]["field"] == "fallback_category" and words in error["details"][0]["problem"]
    assert_error(client.post(f"{SAFETY}/feed-mappings", json={**bad, "source": "12345"}, headers=operator), 422)
    same = {"name": "110 接处警", "source": "119", "columns": {}, "categories": {}}
    assert_error(client.post(f"{SAFETY}/feed-mappings", json=same, headers=operator), 409, "conflict")

    for username in ("community.a", "worker.a1", "police"):
        headers = auth_headers(client, username)
        assert_error(client.get(f"{SAFETY}/feed-mappings", headers=headers), 403)
        assert_error(client.post(f"{SAFETY}/feed-mappings", json=same, headers=headers), 403)
    assert client.delete(f"{SAFETY}/feed-mappings/{mapping_id}", headers=operator).status_code == 204
    assert_error(client.get(f"{SAFETY}/feed-mappings/{mapping_id}", headers=operator), 404)
    with db.unit_of_work(write=False) as s:
        actions = list(
            s.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.action.like("safety.feed_mapping%"))
                .order_by(AuditRecord.seq)
            )
        )
    assert actions == ["safety.feed_mapping_create", "safety.feed_mapping_update", "safety.feed_mapping_delete"]


# -- file imports ----------------------------------------------------------------------------------------


def test_the_example_file_imports_with_its_mapping(client: TestClient, operator: dict[str, str], db: Database) -> None:
    mapping = json.loads((EXAMPLES / "police-calls-110.mapping.json").read_text(encoding="utf-8"))
    created = client.post(f"{SAFETY}/feed-mappings", json=mapping, headers=operator)
    assert created.status_code == 201, created.text
    data = (EXAMPLES / "police-calls-110.csv").read_bytes()
    job = run(client, operator, data, created.json()["id"])
    assert job["status"] == "succeeded", job
    assert (job["result"]["rows"], job["result"]["created"], job["result"]["failed"]) == (12, 12, 0)
    assert job["error_report_url"] is None
    stored = incidents_of(db)
    assert stored["J3403002025030200031"].division_code == COMMUNITY_A
    assert stored["J3403002025030300026"].division_code == STREET_A
    assert stored["J3403002025030100017"].grid_code == GRID_B2  # (117.39, 32.91): the tiny city's grid B2
    assert stored["J3403002025030100058"].injuries == 2 and stored["J3403002025030100058"].severity == "较大"
    assert stored["J3403002025030200003"].time_precision == "second"
    listed = client.get(f"{SAFETY}/incidents", params={"page_size": 50}, headers=operator).text
    assert "简要案情" not in listed and "不导入" not in listed


def test_bad_rows_are_reported_row_by_row_and_the_good_ones_stored(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    mapping_id = save_mapping(client, operator)
    rows = [
        call("J01", FEED_IN_A1, deaths="1"),  # 2: good
        call("J02", FEED_IN_A2, "殴打他人", when="2025/03/01 22:10", injuries="2"),  # 3: good
        call("J03", None, "噪音扰民", when="20250302", code=COMMUNITY_A),  # 4: good, a day, at the community
        call("J04", FEED_IN_A1, when="2025年3月"),  # 5: good, a month
        call("J05", FEED_IN_A1, when="昨天晚上"),  # 6: a time in a wrong format
        call("J06", (FEED_IN_A1[1], FEED_IN_A1[0])),  # 7: swapped
        call("J07", FEED_OUTSIDE),  # 8: outside the city
        call("J08", None),  # 9: no location
        call("J09", FEED_IN_A1, "宠物扰民"),  # 10: unknown category (report)
        call("J01", FEED_IN_B2),  # 11: the id of row 2 again
        call("J10", FEED_IN_A1, deaths="-1"),  # 12: negative deaths
        call("J11", FEED_NO_GRID),  # 13: in the city, in no grid
        call("J12", None, code="340399"),  # 14: no such division
    ]
    job = run(client, operator, feed(rows), mapping_id)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert (result["rows"], result["created"], result["duplicates"], result["failed"]) == (13, 4, 0, 9)
    assert (job["succeeded_rows"], job["failed_rows"]) == (4, 9)
    assert result["unknown_categories"] == [{"label": "宠物扰民", "rows": 1, "action": "rows refused"}]
    by_row = {int(line["row"]): line for line in report_rows(client, job, operator)}
    assert set(by_row) == {6, 7, 8, 9, 10, 11, 12, 13, 14}
    assert (by_row[6]["field"], by_row[6]["column"], by_row[6]["value"]) == ("occurred_at", "报警时间", "昨天晚上")
    assert "accepted format" in by_row[6]["reason"] and "20250301093000" in by_row[6]["reason"]
    assert (by_row[7]["field"], by_row[7]["column"], by_row[7]["value"]) == ("location", "经度, 纬度", "32.2, 117.1")
    assert by_row[7]["reason"].startswith("coordinates look swapped")
    assert by_row[8]["reason"] == "(119.0, 30.0) lies outside the city"
    assert by_row[9]["field"] == "location" and by_row[9]["reason"].startswith("no location")
    assert (by_row[10]["field"], by_row[10]["value"]) == ("category", "宠物扰民")
    assert "category table" in by_row[10]["reason"]
    assert by_row[11]["field"] == "record_id" and "row 2 has it already" in by_row[11]["reason"]
    assert by_row[12]["field"] == "deaths"
    assert "no grid covers it" in by_row[13]["reason"]
    assert by_row[14]["field"] == "address_code" and "not a division" in by_row[14]["reason"]
    report_text = "".join(str(line) for line in by_row.values())
    assert SUMMARY not in report_text

    stored = incidents_of(db)
    assert sorted(stored) == ["J01", "J02", "J03", "J04"]
    assert (stored["J03"].division_code, stored["J03"].time_precision) == (COMMUNITY_A, "day")
    assert (stored["J04"].day, stored["J04"].time_precision) == (date(2025, 3, 1), "month")
    assert all(i.job_id == job["id"] for i in stored.values())
    assert daily(db) == {
        (GRID_A1, date(2025, 3, 1), "inc:01"): 2,  # J01 and J04 (a month, counted on the first)
        (GRID_A2, date(2025, 3, 1), "inc:01"): 1,
        (COMMUNITY_A, date(2025, 3, 2), "inc:02"): 1,
    }


def test_importing_again_changes_nothing(client: TestClient, operator: dict[str, str], db: Database) -> None:
    mapping_id = save_mapping(client, operator)
    rows = [call(f"J{i:02}", FEED_IN_A1 if i % 2 else FEED_IN_B2) for i in range(10)]
    first = run(client, operator, feed(rows), mapping_id)
    assert first["result"]["created"] == 10
    before = daily(db)
    again = run(client, operator, feed([*rows, call("J99", FEED_IN_A2)]), mapping_id)
    assert again["status"] == "succeeded"
    result = again["result"]
    assert (result["created"], result["duplicates"], result["failed"]) == (1, 10, 0)
    assert result["duplicate_examples"][:3] == ["J00", "J01", "J02"]
    assert count_of(db, SafetyIncident) == 11
    after = daily(db)
    assert after.pop((GRID_A2, date(2025, 3, 1), "inc:01")) == 1
    assert after == before
    all_again = run(client, operator, feed(rows), mapping_id, "all_or_nothing")  # duplicates are no problem
    assert all_again["status"] == "succeeded" and all_again["result"]["duplicates"] == 10


def test_all_or_nothing_writes_nothing_when_a_row_fails(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    mapping_id = save_mapping(client, operator)
    rows = [call(f"J{i:02}") for i in range(6)] + [call("J99", when="2025-02-30 10:00")]
    job = run(client, operator, feed(rows), mapping_id, "all_or_nothing")
    assert job["status"] == "failed"
    assert "1 of 7 rows have problems, so nothing was written" in job["message"]
    assert job["result"]["written"] is False
    (line,) = report_rows(client, job, operator)
    assert (line["row"], line["field"]) == ("8", "occurred_at") and "day is out of range" in line["reason"]
    assert count_of(db, SafetyIncident) == 0 and count_of(db, SafetyDailyCount) == 0
    assert count_of(db, SafetyDirtyDay) == 0
    with db.unit_of_work(write=False) as s:
        audited = s.scalar(select(AuditRecord).where(AuditRecord.action == "safety.feed_import"))
        assert audited is not None and audited.details["written"] is False
        assert SUMMARY not in json.dumps(audited.details, ensure_ascii=False)
    good = run(client, operator, feed(rows[:-1]), mapping_id, "all_or_nothing")
    assert good["status"] == "succeeded" and good["result"]["created"] == 6


@pytest.mark.parametrize("mode", ["apply_valid", "all_or_nothing"])
def test_unknown_categories_under_reject_refuse_the_whole_file(
    client: TestClient, operator: dict[str, str], db: Database, mode: str
) -> None:
    mapping_id = save_mapping(client, operator, unknown_category="reject")
    rows = [call(f"J{i:02}") for i in range(5)] + [call("J90", category="宠物扰民"), call("J91", category="宠物扰民")]
    rows += [call("J92", category="醉酒"), call("J93", category="0502")]  # a leaf code is known
    job = run(client, operator, feed(rows), mapping_id, mode)
    assert job["status"] == "failed", job
    assert "2 categories the mapping's table lacks, so nothing was imported" in job["message"]
    assert "'宠物扰民' (2 rows), '醉酒' (1 rows)" in job["message"]
    assert job["result"]["unknown_categories"] == [
        {"label": "宠物扰民", "rows": 2, "action": "file refused"},
        {"label": "醉酒", "rows": 1, "action": "file refused"},
    ]
    assert job["result"]["written"] is False and job["error_report_url"] is None
    assert count_of(db, SafetyIncident) == 0 and count_of(db, SafetyDailyCount) == 0


def test_unknown_categories_under_fallback_are_kept_with_their_label(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    mapping_id = save_mapping(client, operator, unknown_category="fallback", fallback_category="0999")
    job = run(
        client,
        operator,
        feed([call("J01"), call("J02", category="宠物扰民"), call("J03", category="宠物扰民")]),
        mapping_id,
    )
    assert job["status"] == "succeeded" and job["result"]["created"] == 3
    assert job["result"]["unknown_categories"] == [{"label": "宠物扰民", "rows": 2, "action": "counted as 0999"}]
    stored = incidents_of(db)
    assert (stored["J02"].category_code, stored["J02"].raw_category) == ("0999", "宠物扰民")
    assert (stored["J01"].category_code, stored["J01"].raw_category) == ("0101", "盗窃")


def test_json_json_lines_and_gbk_files(client: TestClient, operator: dict[str, str], db: Database) -> None:
    mapping_id = save_mapping(client, operator)
    objects = [dict(zip(HEADER, call(f"A{i}"), strict=True)) for i in range(3)]
    objects[0]["经度"], objects[0]["纬度"] = FEED_IN_A1  # numbers, as JSON has them
    objects[1]["报警时间"] = 20250301093000
    array = json.dumps(objects, ensure_ascii=False).encode()
    job = run(client, operator, array, mapping_id)
    assert (job["result"]["format"], job["result"]["created"]) == ("json", 3), job
    lines = "\n".join(json.dumps(dict(zip(HEADER, call(f"L{i}"), strict=True)), ensure_ascii=False) for i in range(2))
    response = client.post(
        f"{SAFETY}/imports",
        params={"mapping_id": mapping_id, "mode": "all_or_nothing", "filename": "calls.jsonl"},
        headers={**operator, "Content-Type": "application/octet-stream"},
        content=lines.encode(),
    )
    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["id"], operator)
    assert (job["result"]["format"], job["result"]["mode"], job["result"]["created"]) == ("json", "all_or_nothing", 2)
    job = run(client, operator, feed([call("G1"), call("G2", category="殴打他人")], encoding="gbk"), mapping_id)
    assert (job["result"]["encoding"], job["result"]["created"]) == ("gb18030", 2)
    assert count_of(db, SafetyIncident) == 7


def test_files_are_refused_before_any_row_is_read(
    client: TestClient, operator: dict[str, str], db: Database, settings: Settings
) -> None:
    mapping_id = save_mapping(client, operator)
    good = feed([call("J01")])
    error = assert_error(upload(client, operator, feed([["x"]], header=["编号"]), mapping_id), 422, "import_rejected")
    assert "missing required columns" in error["message"]
    assert {d["field"] for d in error["details"]} >= {"mapping", "occurred_at"}  # and the mapped columns it lacks
    no_place = feed([["J1", "2025-03-01", "盗窃"]], header=["接警单编号", "报警时间", "警情类别"])
    plain = save_mapping(client, operator, name="plain", columns={})
    error = assert_error(upload(client, operator, no_place, plain), 422, "import_rejected")
    assert "lon and lat columns, or an address code column" in error["message"]
    error = assert_error(upload(client, operator, good, None), 422)
    assert error["details"] == [
        {"field": "mapping_id", "problem": "required: the saved feed mapping to read the file with"}
    ]
    assert_error(upload(client, operator, good, 999), 404)
    assert_error(upload(client, operator, good, mapping_id, "some"), 422)
    assert (
        "longer than 4,096 bytes"
        in assert_error(upload(client, operator, good, mapping_id, "x" * 5000), 422)["message"]
    )
    assert_error(upload(client, operator, good, mapping_id, query={"mapping_id": mapping_id + 1}), 422)
    xlsx = client.post(
        f"{SAFETY}/imports",
        headers=operator,
        files={"file": ("calls.xlsx", b"PK\x03\x04rest")},
        data={"mapping_id": str(mapping_id)},
    )
    assert "save the sheet as CSV" in assert_error(xlsx, 422)["message"]
    assert_error(upload(client, operator, b"\xff\xfe\x00\x01broken", mapping_id), 422, "import_rejected")
    assert_error(upload(client, auth_headers(client, "community.a"), good, mapping_id), 403)
    assert not list((settings.data_dir / "imports").glob("upload-*"))  # refused uploads are removed
    assert count_of(db, SafetyIncident) == 0


def test_an_importer_imports_only_records_of_the_own_area(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    mapping_id = save_mapping(client, operator)
    district = auth_headers(client, "other.operator")  # a centre operator of the other district
    job = run(client, district, feed([call("J01"), call("J02", None, code=OTHER_DISTRICT)]), mapping_id)
    assert (job["result"]["created"], job["result"]["failed"]) == (1, 1)
    (line,) = report_rows(client, job, district)
    assert line["row"] == "2" and "outside your area" in line["reason"]
    assert list(incidents_of(db)) == ["J02"]


# -- pushed calls ----------------------------------------------------------------------------------------


def _api_key(client: TestClient, scope: str = CITY, role: str = "center_operator") -> dict[str, str]:
    created = client.post(
        "/api/v1/api-keys",
        json={"name": "110 接处警平台", "role": role, "scope_division_code": scope},
        headers=auth_headers(client, "admin"),
    )
    assert created.status_code == 201, created.text
    return {"X-API-Key": created.json()["key"]}


def pushed(rid: str, point: tuple[float, float] | None = FEED_IN_A1, **extra: Any) -> dict[str, Any]:
    lon, lat = point if point is not None else (None, None)
    return {
        "record_id": rid,
        "occurred_at": "2025-03-01T09:30:00+08:00",
        "category": "0101",
        "lon": lon,
        "lat": lat,
        **extra,
    }


def test_a_police_system_pushes_calls_with_an_api_key(client: TestClient, feeds_city: TinyCity, db: Database) -> None:
    key = _api_key(client)
    body = {"source": "110", "incidents": [pushed("P1", deaths=1), pushed("P2", None, address_code=STREET_A)]}
    first = client.post(f"{SAFETY}/incidents", json=body, headers=key)
    assert first.status_code == 201, first.text
    assert first.json() == {"created": 2, "created_ids": ["P1", "P2"], "duplicates": []}
    again = client.post(f"{SAFETY}/incidents", json=body, headers=key)
    assert again.status_code == 200 and again.json() == {"created": 0, "created_ids": [], "duplicates": ["P1", "P2"]}
    assert daily(db) == {(GRID_A1, date(2025, 3, 1), "inc:01"): 1, (STREET_A, date(2025, 3, 1), "inc:01"): 1}

    bad = {
        "source": "110",
        "incidents": [
            pushed("P3"),
            pushed("P4", occurred_at="2025-13-01"),
            pushed("P5", (FEED_IN_A1[1], FEED_IN_A1[0])),
            pushed("P6", FEED_OUTSIDE),
            pushed("P7", category="盗窃"),
            pushed("P3"),
        ],
    }
    error = assert_error(client.post(f"{SAFETY}/incidents", json=bad, headers=key), 422, "invalid_input")
    assert "5 of 6 incidents have problems, so none was stored" in error["message"]
    assert [(d["index"], d["field"]) for d in error["details"]] == [
        (1, "occurred_at"),
        (2, "location"),
        (3, "location"),
        (4, "category"),
        (5, "record_id"),
    ]
    assert count_of(db, SafetyIncident) == 2

    summary = {"source": "110", "incidents": [pushed("P8", summary=SUMMARY)]}
    assert_error(client.post(f"{SAFETY}/incidents", json=summary, headers=key), 422)
    too_many = {"source": "110", "incidents": [pushed(f"M{i}") for i in range(1001)]}
    assert_error(client.post(f"{SAFETY}/incidents", json=too_many, headers=key), 422)
    assert_error(client.post(f"{SAFETY}/incidents", json={"incidents": [pushed("P9")]}, headers=key), 422)
    assert_error(client.post(f"{SAFETY}/incidents", json={"source": "110", "incidents": []}, headers=key), 422)
    assert count_of(db, SafetyIncident) == 2

    watcher = _api_key(client, role="grid_worker", scope=GRID_A1)
    assert_error(client.post(f"{SAFETY}/incidents", json=body, headers=watcher), 403)
    district_key = _api_key(client, DISTRICT)
    error = assert_error(
        client.post(
            f"{SAFETY}/incidents",
            json={"source": "110", "incidents": [pushed("D1", None, address_code=OTHER_DISTRICT)]},
            headers=district_key,
        ),
        422,
    )
    assert "outside your area" in error["details"][0]["problem"]


def test_pushed_labels_go_through_a_mapping(client: TestClient, operator: dict[str, str], db: Database) -> None:
    mapping_id = save_mapping(client, operator, unknown_category="fallback", fallback_category="0999")
    body = {"mapping_id": mapping_id, "incidents": [pushed("P1", category="殴打他人"), pushed("P2", category="新类别")]}
    created = client.post(f"{SAFETY}/incidents", json=body, headers=operator)
    assert created.status_code == 201, created.text
    stored = incidents_of(db)
    assert (stored["P1"].source, stored["P1"].category_code) == ("110", "0104")
    assert (stored["P2"].category_code, stored["P2"].raw_category) == ("0999", "新类别")
    other = client.post(f"{SAFETY}/incidents", json={**body, "source": "119"}, headers=operator)
    assert "of source 110, not 119" in assert_error(other, 422)["message"]
    assert_error(client.post(f"{SAFETY}/incidents", json={**body, "mapping_id": 999}, headers=operator), 404)


def _principals(db: Database, city: TinyCity, *usernames: str) -> dict[str, Principal]:
    with db.unit_of_work(write=False) as session:
        found = {name: load_principal(session, city.users[name]) for name in usernames}
    return {name: p for name, p in found.items() if p is not None}


def test_pushed_calls_appear_live_in_their_area_only(client: TestClient, feeds_city: TinyCity, db: Database) -> None:
    key = _api_key(client)
    watchers = _principals(db, feeds_city, "operator", "district.operator", "other.operator", "worker.a1")
    broadcaster: Broadcaster = client.app.state.broadcaster  # type: ignore[attr-defined]

    def push() -> None:
        body = {"source": "110", "incidents": [pushed("P1"), pushed("P2", None, address_code=OTHER_DISTRICT)]}
        assert client.post(f"{SAFETY}/incidents", json=body, headers=key).status_code == 201

    async def scenario() -> dict[str, list[Event]]:
        subscriptions = {
            name: broadcaster.subscribe(lambda e, p=p: e.topic == "safety.incident" and e.audience.includes(p))  # type: ignore[misc]
            for name, p in watchers.items()
        }
        await asyncio.to_thread(push)
        seen: dict[str, list[Event]] = {}
        for name, subscription in subscriptions.items():
            seen[name] = []
            while (event := await subscription.next(0.3)) is not None:
                seen[name].append(event)
            subscription.unsubscribe()
        return seen

    seen = aio.run(scenario(), 30)
    divisions = {name: sorted(e.payload["division_code"] for e in events) for name, events in seen.items()}
    assert divisions == {
        "operator": [GRID_A1, OTHER_DISTRICT],
        "district.operator": [GRID_A1],
        "other.operator": [OTHER_DISTRICT],
        "worker.a1": [],  # a grid worker does not read single calls
    }
    payload = seen["district.operator"][0].payload
    assert payload == {
        "source": "110",
        "category_code": "0101",
        "occurred_at": "2025-03-01T01:30:00+00:00",
        "time_precision": "second",
        "division_code": GRID_A1,
        "lon": FEED_IN_A1[0],
        "lat": FEED_IN_A1[1],
    }


# -- the list --------------------------------------------------------------------------------------------


def test_the_incident_list_is_scoped_filtered_and_paged(
    client: TestClient, operator: dict[str, str], add_incidents: Callable[..., list[str]]
) -> None:
    add_incidents([pushed(f"A{i}", occurred_at=f"2025-03-0{i + 1} 10:00") for i in range(5)])
    add_incidents(
        [pushed("B1", FEED_IN_B2, category="0201"), pushed("O1", None, address_code=OTHER_DISTRICT)], source="119"
    )
    page = client.get(f"{SAFETY}/incidents", params={"page_size": 3}, headers=operator).json()
    assert page["total"] == 7 and len(page["items"]) == 3
    assert page["items"][0]["record_id"] == "A4"  # newest first
    first = next(
        i
        for i in client.get(f"{SAFETY}/incidents", params={"page_size": 10}, headers=operator).json()["items"]
        if i["record_id"] == "A0"
    )
    assert (first["category_name"], first["grid_code"], first["day"]) == ("盗窃", GRID_A1, "2025-03-01")
    assert {k for k in first} >= {
        "id",
        "source",
        "record_id",
        "occurred_at",
        "time_precision",
        "division_code",
        "raw_category",
    }

    def ids(headers: dict[str, str] = operator, **params: Any) -> list[str]:
        response = client.get(
            f"{SAFETY}/incidents", params={"page_size": 50, "sort": "occurred_at", **params}, headers=headers
        )
        assert response.status_code == 200, response.text
        return [i["record_id"] for i in response.json()["items"]]

    assert sorted(ids(source="119")) == ["B1", "O1"]
    assert ids(category="02") == ["B1"]
    assert ids(area_code=GRID_B2) == ["B1"]
    assert ids(since="2025-03-02T00:00:00+08:00", until="2025-03-04T00:00:00+08:00") == ["A1", "A2"]
    assert ids(bbox="117.2,32.5,117.5,33.0") == ["B1"]
    assert set(ids(auth_headers(client, "district.operator"))) == {"A0", "A1", "A2", "A3", "A4", "B1"}
    assert ids(auth_headers(client, "other.operator")) == ["O1"]
    assert_error(client.get(f"{SAFETY}/incidents", headers=auth_headers(client, "worker.a1")), 403)
    assert_error(client.get(f"{SAFETY}/incidents", headers=auth_headers(client, "community.a")), 403)
    assert_error(client.get(f"{SAFETY}/incidents", params={"bbox": "1,2,3"}, headers=operator), 422)
    assert_error(client.get(f"{SAFETY}/incidents", params={"sort": "address"}, headers=operator), 422)
    assert_error(client.get(f"{SAFETY}/incidents", params={"since": "2025-03-01T00:00:00"}, headers=operator), 422)


# -- the command -----------------------------------------------------------------------------------------


def test_the_command_imports_with_a_progress_bar_and_a_summary(
    db: Database, tmp_path: Path, feeds_city: TinyCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from civicgrid.cli import app
    from civicgrid.config import get_settings

    monkeypatch.setenv("CIVICGRID_DATABASE_URL", db.url)
    monkeypatch.setenv("CIVICGRID_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        saved = runner.invoke(app, ["safety", "save-mapping", str(EXAMPLES / "police-calls-110.mapping.json")])
        assert saved.exit_code == 0 and "saved feed mapping" in saved.output, saved.output
        again = runner.invoke(app, ["safety", "save-mapping", str(EXAMPLES / "police-calls-110.mapping.json")])
        assert again.exit_code == 2 and "exists already" in again.output
        replaced = runner.invoke(
            app, ["safety", "save-mapping", "--replace", str(EXAMPLES / "police-calls-110.mapping.json")]
        )
        assert replaced.exit_code == 0, replaced.output

        example = EXAMPLES / "police-calls-110.csv"
        done = runner.invoke(app, ["safety", "import", str(example), "--mapping", "蚌埠110接处警"])
        assert done.exit_code == 0, done.output
        assert "12 rows — 12 stored, 0 stored before (duplicates), 0 failed" in done.output
        repeat = runner.invoke(
            app, ["safety", "import", str(example), "--mapping", "蚌埠110接处警", "--mode", "all_or_nothing"]
        )
        assert repeat.exit_code == 0 and "0 stored, 12 stored before" in repeat.output, repeat.output

        bad = tmp_path / "bad.csv"
        header = example.read_text(encoding="utf-8").splitlines()[0]
        bad.write_text(
            f"{header}\nX1,2025-03-01 09:30,宠物扰民,,,,,117.1,32.2,,,0,0\nX2,later,盗窃,,,,,117.1,32.2,,,0,0\n",
            encoding="utf-8",
        )
        errors = tmp_path / "errors.csv"
        failed = runner.invoke(
            app,
            [
                "safety",
                "import",
                str(bad),
                "--mapping",
                "蚌埠110接处警",
                "--mode",
                "all_or_nothing",
                "--errors",
                str(errors),
            ],
        )
        assert failed.exit_code == 1 and "nothing was written" in failed.output, failed.output
        assert len(errors.read_text(encoding="utf-8-sig").splitlines()) == 3
        assert "宠物扰民 (1)" in failed.output

        unknown = runner.invoke(app, ["safety", "import", str(example), "--mapping", "nope"])
        assert unknown.exit_code == 2 and "no saved feed mapping named 'nope'" in unknown.output
        header = tmp_path / "header.csv"
        header.write_bytes(feed([["1"]], header=["编号"]))
        refused = runner.invoke(app, ["safety", "import", str(header), "--mapping", "蚌埠110接处警"])
        assert refused.exit_code == 2 and "missing required columns" in refused.output
        mode = runner.invoke(app, ["safety", "import", str(example), "--mapping", "蚌埠110接处警", "--mode", "some"])
        assert mode.exit_code == 2
    finally:
        get_settings.cache_clear()
    assert count_of(db, SafetyIncident) == 12
