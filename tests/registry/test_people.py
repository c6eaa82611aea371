"""People through the API: registration, every kind of bad input, masking, reveal, lookup, lifecycle."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.support.api import assert_error, auth_headers
from tests.support.city import GRID_A1, GRID_B1, TinyCity
from tests.support.registry import A_ID_NUMBER, A_PHONE, TinyRegistry

from civicgrid.core.db import Database
from civicgrid.core.idnumber import Sex, make_id_number
from civicgrid.registry.models import Person, Residence

NEW_ID = make_id_number("340303", date(1992, 5, 20), 135, Sex.male)


def _body(registry: TinyRegistry, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person_type": "registered",
        "name": "王小明",
        "sex": "1",
        "birth_date": "1992-05-20",
        "id_number": NEW_ID,
        "phone": "139 0000 1111",
        "house_id": registry.houses["a"],
        "ethnicity": "01",
        "education": "20",
    }
    return {**body, **overrides}


def _count(db: Database) -> int:
    with db.unit_of_work(write=False) as s:
        return s.scalar(select(func.count()).select_from(Person)) or 0


def test_grid_worker_registers_a_person_masked_and_pending(client: TestClient, tiny_registry: TinyRegistry) -> None:
    created = client.post(
        "/api/v1/registry/people", json=_body(tiny_registry), headers=auth_headers(client, "worker.a1")
    )
    assert created.status_code == 201, created.text
    person = created.json()
    assert person["name"] == "王*明"
    assert person["id_number"] == NEW_ID[:6] + "********" + NEW_ID[-4:]
    assert person["phone"] == "139****1111"
    assert person["review_status"] == "pending"
    assert person["grid_code"] == GRID_A1
    assert "birth_date" not in person and person["birth_year"] == 1992
    assert NEW_ID not in created.text and "13900001111" not in created.text
    approved = client.post(
        f"/api/v1/registry/people/{person['id']}/approve", headers=auth_headers(client, "community.a")
    )
    assert approved.json()["review_status"] == "approved"
    assert_error(
        client.post(f"/api/v1/registry/people/{person['id']}/approve", headers=auth_headers(client, "worker.a1")), 403
    )


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"id_number": NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")}, "id_number", "checksum"),
        ({"id_number": make_id_number("999999", date(1992, 5, 20), 135)}, "id_number", "region"),
        (
            {
                "id_number": make_id_number("340303", date.today() + timedelta(days=400), 135),
                "birth_date": (date.today() + timedelta(days=400)).isoformat(),
            },
            "id_number",
            "birth_date_future",
        ),
        ({"birth_date": "1992-05-21"}, "birth_date", None),
        ({"sex": "2"}, "sex", None),
        ({"id_number": A_ID_NUMBER, "birth_date": "1985-03-14"}, "id_number", "duplicate"),
        ({"id_number": "12345"}, "id_number", "length"),
        ({"id_number": None}, "id_number", None),
        ({"ethnicity": "77"}, "ethnicity", None),
        ({"phone": "12345"}, "phone", None),
        ({"house_id": 999999}, "house_id", None),
    ],
)
def test_bad_person_input_is_refused_and_changes_nothing(
    client: TestClient,
    tiny_registry: TinyRegistry,
    db: Database,
    overrides: dict[str, Any],
    field: str,
    reason: str | None,
) -> None:
    before = _count(db)
    response = client.post(
        "/api/v1/registry/people", json=_body(tiny_registry, **overrides), headers=auth_headers(client, "worker.a1")
    )
    error = assert_error(response, 422)
    problem = next(p for p in error["details"] if p["field"] == field)
    assert problem["problem"]
    if reason:
        assert problem.get("reason") == reason, problem
    assert _count(db) == before


def test_a_house_outside_the_scope_is_not_found(client: TestClient, tiny_registry: TinyRegistry, db: Database) -> None:
    before = _count(db)
    response = client.post(
        "/api/v1/registry/people",
        json=_body(tiny_registry, house_id=tiny_registry.houses["b"]),
        headers=auth_headers(client, "worker.a1"),
    )
    assert_error(response, 404)
    response = client.post(
        "/api/v1/registry/people",
        json=_body(tiny_registry, house_id=None, grid_code=GRID_B1),
        headers=auth_headers(client, "worker.a1"),
    )
    assert_error(response, 404)
    assert _count(db) == before


def test_foreigners_need_a_document_not_an_id(client: TestClient, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "worker.a1")
    body = _body(tiny_registry, person_type="foreign", id_number=None, name="SMITH JOHN")
    error = assert_error(client.post("/api/v1/registry/people", json=body, headers=headers), 422)
    assert {p["field"] for p in error["details"]} == {"nationality", "document_type", "document_no"}
    ok = client.post(
        "/api/v1/registry/people",
        headers=headers,
        json={**body, "nationality": "GBR", "document_type": "P", "document_no": "123456789"},
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["document_no"] == "12*****89"


def test_reveal_needs_a_purpose_and_is_audited(client: TestClient, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "worker.a1")
    person = tiny_registry.people["a"]
    assert_error(client.post(f"/api/v1/registry/people/{person}/reveal", json={}, headers=headers), 422)
    assert_error(client.post(f"/api/v1/registry/people/{person}/reveal", json={"purpose": ""}, headers=headers), 422)
    revealed = client.post(
        f"/api/v1/registry/people/{person}/reveal", json={"purpose": "核实身份 for a home visit"}, headers=headers
    ).json()
    assert (revealed["name"], revealed["id_number"], revealed["phone"]) == ("张三明", A_ID_NUMBER, A_PHONE)
    records = client.get(
        "/api/v1/audit/records", params={"action": "person.reveal"}, headers=auth_headers(client, "auditor")
    ).json()["items"]
    assert records[0]["seq"] == revealed["audit_seq"]
    assert records[0]["purpose"] == "核实身份 for a home visit"
    assert A_ID_NUMBER not in str(records) and "张三明" not in str(records)
    # Roles without person:pii cannot reveal even what they may list.
    assert_error(
        client.post(
            f"/api/v1/registry/people/{person}/reveal",
            json={"purpose": "curiosity"},
            headers=auth_headers(client, "admin"),
        ),
        403,
    )


def test_exact_lookup_by_id_number_and_phone(client: TestClient, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "operator")
    by_id = client.post("/api/v1/registry/people/lookup", json={"id_number": A_ID_NUMBER.lower()}, headers=headers)
    assert [p["id"] for p in by_id.json()] == [tiny_registry.people["a"]]
    by_phone = client.post("/api/v1/registry/people/lookup", json={"phone": "138-1234-5678"}, headers=headers)
    assert [p["id"] for p in by_phone.json()] == [tiny_registry.people["a"]]
    assert_error(client.post("/api/v1/registry/people/lookup", json={}, headers=headers), 422)
    assert_error(client.post("/api/v1/registry/people/lookup", json={"id_number": "123"}, headers=headers), 422)
    # Out of scope: the grid worker of B1 does not find A's resident.
    other = client.post(
        "/api/v1/registry/people/lookup", json={"id_number": A_ID_NUMBER}, headers=auth_headers(client, "worker.b1")
    )
    assert other.json() == []


def test_search_by_name_prefix_area_and_address(client: TestClient, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "operator")
    names = client.get("/api/v1/registry/people", params={"name": "张"}, headers=headers).json()
    assert [p["id"] for p in names["items"]] == [tiny_registry.people["a"]]
    assert names["items"][0]["name"] == "张*明"
    by_grid = client.get("/api/v1/registry/people", params={"grid_code": GRID_B1}, headers=headers).json()
    assert by_grid["total"] == 1
    by_address = client.get("/api/v1/registry/people", params={"address": "幸福路1号"}, headers=headers).json()
    assert by_address["total"] == 1
    like_injection = client.get("/api/v1/registry/people", params={"name": "%"}, headers=headers).json()
    assert like_injection["total"] == 0


def test_move_keeps_history_and_deregister_keeps_the_person(
    client: TestClient, tiny_city: TinyCity, tiny_registry: TinyRegistry, db: Database
) -> None:
    headers = auth_headers(client, "operator")
    person, house_b = tiny_registry.people["a"], tiny_registry.houses["b"]
    moved = client.post(
        f"/api/v1/registry/people/{person}/move",
        headers=headers,
        json={"house_id": house_b, "moved_on": "2024-06-01", "reason": "bought a flat"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["grid_code"] == GRID_B1
    history = client.get(f"/api/v1/registry/people/{person}/residences", headers=headers).json()
    assert [(r["house_id"], r["to_date"]) for r in history] == [
        (tiny_registry.houses["a"], "2024-06-01"),
        (house_b, None),
    ]
    assert_error(
        client.post(
            f"/api/v1/registry/people/{person}/move",
            headers=headers,
            json={"house_id": house_b, "moved_on": "2024-07-01"},
        ),
        409,
    )
    gone = client.post(
        f"/api/v1/registry/people/{person}/deregister", headers=headers, json={"reason": "deceased", "on": "2024-08-01"}
    )
    assert gone.json()["status"] == "deceased"
    assert client.get("/api/v1/registry/people", params={"name": "张"}, headers=headers).json()["total"] == 0
    everyone = client.get("/api/v1/registry/people", params={"name": "张", "status": "all"}, headers=headers).json()
    assert everyone["total"] == 1
    assert_error(client.patch(f"/api/v1/registry/people/{person}", json={"occupation": "教师"}, headers=headers), 409)
    with db.unit_of_work(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Residence).where(Residence.to_date.is_(None))) == 1


def test_corrections_are_validated_and_audited(client: TestClient, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "worker.a1")
    person = tiny_registry.people["a"]
    assert_error(client.patch(f"/api/v1/registry/people/{person}", json={"education": "XX"}, headers=headers), 422)
    fixed = client.patch(
        f"/api/v1/registry/people/{person}", json={"education": "10", "phone": "13700000000"}, headers=headers
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["review_status"] == "pending"
    records = client.get(
        "/api/v1/audit/records", params={"action": "person.update"}, headers=auth_headers(client, "auditor")
    ).json()["items"]
    assert records[0]["details"] == {"fields": ["education", "phone", "phone"]} or set(
        records[0]["details"]["fields"]
    ) == {"education", "phone"}
    assert "13700000000" not in str(records)


def test_households_group_people(client: TestClient, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "worker.a1")
    created = client.post("/api/v1/registry/households", json={"house_id": tiny_registry.houses["a"]}, headers=headers)
    assert created.status_code == 201, created.text
    household = created.json()
    assert household["household_no"].startswith(GRID_A1[:12])
    assert household["head_person_id"] is None
    joined = client.patch(
        f"/api/v1/registry/people/{tiny_registry.people['a']}",
        json={"household_id": household["id"], "relation_to_head": "02"},
        headers=headers,
    )
    assert joined.status_code == 200, joined.text
    members = client.get("/api/v1/registry/people", params={"household_id": household["id"]}, headers=headers).json()
    assert [m["id"] for m in members["items"]] == [tiny_registry.people["a"]]
    assert_error(
        client.post("/api/v1/registry/households", json={"house_id": tiny_registry.houses["b"]}, headers=headers), 404
    )
    assert_error(
        client.post(
            "/api/v1/registry/households",
            json={"house_id": tiny_registry.houses["a"], "head_person_id": tiny_registry.people["b"]},
            headers=headers,
        ),
        422,
    )
    assert_error(
        client.post(
            "/api/v1/registry/households",
            json={"house_id": tiny_registry.houses["a"], "household_no": household["household_no"]},
            headers=headers,
        ),
        409,
    )
    history = client.get(f"/api/v1/registry/people/{tiny_registry.people['a']}/residences", headers=headers).json()
    assert history[0]["address"].startswith("社区 幸福路")
