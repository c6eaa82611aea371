"""A hotline system pushing tickets one at a time (API key with case:import), and the saved mappings."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case
from civicgrid.core.db import Database
from tests.cases.conftest import IN_A1, IN_A2, IN_B2, OUTSIDE
from tests.support.api import assert_error, auth_headers
from tests.support.city import CITY, DISTRICT, STREET_A, TinyCity
from tests.support.hotline import CATEGORIES, COLUMNS, HOTLINE, MAPPING, local_time, save_mapping


def _api_key(client: TestClient, scope: str = CITY) -> dict[str, str]:
    created = client.post(
        "/api/v1/api-keys",
        json={"name": "12345 platform", "role": "center_operator", "scope_division_code": scope},
        headers=auth_headers(client, "admin"),
    )
    assert created.status_code == 201, created.text
    return {"X-API-Key": created.json()["key"]}


@pytest.fixture
def hotline(client: TestClient, cases_city: TinyCity) -> dict[str, str]:
    save_mapping(client, auth_headers(client, "operator"))
    return _api_key(client)


def body(number: str, point: tuple[float, float] | None = IN_A1, **extra: Any) -> dict[str, Any]:
    lon, lat = point if point is not None else (None, None)
    return {
        "ticket_no": number,
        "received_at": local_time(1),
        "category": "井盖问题",
        "description": "来电反映井盖缺失",
        "lon": lon,
        "lat": lat,
        "caller_phone": "13900001111",
        **extra,
    }


def push(client: TestClient, headers: dict[str, str], data: dict[str, Any], mapping: str | None = MAPPING) -> Any:
    params = {"mapping": mapping} if mapping else {}
    return client.post(f"{HOTLINE}/tickets", json=data, params=params, headers=headers)


def _cases(db: Database) -> int:
    with db.unit_of_work(write=False) as s:
        return s.scalar(select(func.count()).select_from(Case)) or 0


def test_a_pushed_ticket_becomes_a_case_once(client: TestClient, hotline: dict[str, str], db: Database) -> None:
    first = push(client, hotline, body("P001"))
    assert first.status_code == 201, first.text
    made = first.json()
    assert made["status"] == "created" and made["code"].startswith("SJ")
    again = push(client, hotline, body("P001", description="重复推送"))
    assert again.status_code == 200 and again.json() == {**made, "status": "unchanged"}
    same_problem = push(client, hotline, body("P002", (IN_A1[0] + 0.0002, IN_A1[1])))
    assert same_problem.status_code == 200 and same_problem.json()["status"] == "merged"
    assert same_problem.json()["id"] == made["id"]
    # The code table itself may be named instead of the hotline's category.
    direct = push(client, hotline, body("P003", IN_A2, category=None, category_code="0502"), mapping=None)
    assert direct.status_code == 201 and direct.json()["status"] == "created"
    detail = client.get(f"/api/v1/cases/{made['id']}", headers=auth_headers(client, "operator")).json()
    assert detail["source"] == "hotline_12345" and detail["followers"] == 1
    assert detail["reporter_phone"] != "13900001111"  # masked
    assert _cases(db) == 2
    with db.unit_of_work(write=False) as s:
        actors = set(s.scalars(select(AuditRecord.actor).where(AuditRecord.action == "case.report")))
    assert actors == {"apikey:1"}


def test_a_refused_ticket_says_why_and_leaves_nothing(
    client: TestClient, hotline: dict[str, str], db: Database
) -> None:
    refusals = [
        (body("R1", None), "location", "no location"),
        (body("R2", OUTSIDE), "location", "outside the city"),
        (body("R3", category="宠物扰民"), "category", "category table"),
        (body("R4", received_at="上周三"), "received_at", "not a time"),
        (body("R5", caller_phone="12345"), "caller_phone", ""),
        (body("R6", priority="十万火急"), "priority", "not a priority"),
    ]
    for data, field, words in refusals:
        error = assert_error(push(client, hotline, data), 422)
        assert error["details"][0]["field"] == field and words in error["message"], error
    assert_error(push(client, hotline, body("R7", category=None), mapping=None), 422)
    assert_error(push(client, hotline, body("R8"), mapping="没有的映射"), 422)
    assert_error(push(client, hotline, {**body("R9"), "unexpected": 1}), 422)
    assert _cases(db) == 0


def test_only_importers_may_push(client: TestClient, hotline: dict[str, str], db: Database) -> None:
    for username in ("worker.a1", "resident", "auditor"):
        assert_error(push(client, auth_headers(client, username), body("X1")), 403)
    assert_error(push(client, {}, body("X1")), 401)
    district_key = _api_key(client, DISTRICT)
    assert push(client, district_key, body("X2")).status_code == 201  # inside its district
    street_key = _api_key(client, STREET_A)
    assert_error(push(client, street_key, body("X3", IN_B2)), 404)  # another street's grid: not its area
    assert _cases(db) == 1


def test_mappings_are_checked_saved_changed_and_removed(client: TestClient, cases_city: TinyCity) -> None:
    operator = auth_headers(client, "operator")
    saved = save_mapping(client, operator)
    assert saved["columns"] == COLUMNS and saved["categories"] == CATEGORIES
    url = f"{HOTLINE}/mappings"
    assert_error(
        client.post(url, json={"name": MAPPING, "columns": {}, "categories": CATEGORIES}, headers=operator), 409
    )
    wrong = [
        ({"columns": {"工单编号": "ticket"}, "categories": CATEGORIES}, "columns.工单编号"),
        ({"columns": {"a": "lon", "b": "lon"}, "categories": CATEGORIES}, "columns.b"),
        ({"columns": {}, "categories": {"井盖": "9999"}}, "categories.井盖"),
        ({"columns": {}, "categories": {"市容": "05"}}, "categories.市容"),
    ]
    for fields, where in wrong:
        error = assert_error(client.post(url, json={"name": "另一个", **fields}, headers=operator), 422)
        assert error["details"][0]["field"] == where, error
    assert_error(client.post(url, json={"name": "空", "columns": {}, "categories": {}}, headers=operator), 422)
    changed = client.patch(
        f"{url}/{saved['id']}", json={"name": "新名字", "categories": {"路灯": "0505"}}, headers=operator
    )
    assert changed.status_code == 200 and changed.json()["categories"] == {"路灯": "0505"}
    assert [m["name"] for m in client.get(url, headers=operator).json()] == ["新名字"]
    fields = client.get(f"{HOTLINE}/fields", headers=operator).json()
    by_name = {f["name"]: f for f in fields}
    assert by_name["lon"]["required"] and not by_name["address"]["required"]
    assert by_name["caller_phone"]["masked_in_reports"] and "工单编号" in by_name["ticket_no"]["aliases"]
    assert client.delete(f"{url}/{saved['id']}", headers=operator).status_code == 204
    assert_error(client.get(f"{url}/{saved['id']}", headers=operator), 404)
    assert_error(client.get(f"{HOTLINE}/fields", headers=auth_headers(client, "worker.a1")), 403)
