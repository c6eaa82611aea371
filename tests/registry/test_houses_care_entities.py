"""Houses, tenancies, the house layer, special care, organisations and code tables through the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.api import assert_error, auth_headers
from tests.support.city import COMMUNITY_A, GRID_A1, GRID_B1, TinyCity
from tests.support.registry import TinyRegistry


def _house(**overrides: Any) -> dict[str, Any]:
    return {
        "grid_code": GRID_A1,
        "street_address": "和平路8号",
        "building": "2栋",
        "unit": "1单元",
        "room": "302",
        "use": "rented",
        "lon": 117.1,
        "lat": 32.3,
        **overrides,
    }


def test_houses_register_search_and_tenants(client: TestClient, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "worker.a1")
    created = client.post("/api/v1/registry/houses", json=_house(), headers=headers)
    assert created.status_code == 201, created.text
    house = created.json()
    assert house["address"] == "天桥社区 和平路8号 2栋 1单元 302"
    found = client.get("/api/v1/registry/houses", params={"address": "和平路"}, headers=headers).json()
    assert [h["id"] for h in found["items"]] == [house["id"]]
    tenant = client.post(
        f"/api/v1/registry/houses/{house['id']}/tenancies",
        headers=headers,
        json={"person_id": tiny_registry.people["a"], "move_in": "2024-03-01"},
    )
    assert tenant.status_code == 201, tenant.text
    assert tenant.json()["person_name"] == "张*明"
    assert_error(
        client.post(
            f"/api/v1/registry/houses/{house['id']}/tenancies",
            headers=headers,
            json={"person_id": tiny_registry.people["a"], "move_in": "2024-03-01"},
        ),
        409,
    )
    # A house that is not rented has no tenants, and a rented one with tenants keeps its use.
    assert_error(
        client.post(
            f"/api/v1/registry/houses/{tiny_registry.houses['a']}/tenancies",
            headers=headers,
            json={"person_id": tiny_registry.people["a"], "move_in": "2024-03-01"},
        ),
        409,
    )
    assert_error(client.patch(f"/api/v1/registry/houses/{house['id']}", json={"use": "self"}, headers=headers), 409)


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"use": "castle"}, 422, "use"),
        ({"grid_code": GRID_B1}, 404, None),
        ({"grid_code": "340303001001999"}, 422, "grid_code"),
        ({"lon": 117.9, "lat": 32.9}, 422, "lon"),
        ({"lat": None}, 422, "lon"),
        ({"owner_id_number": "340303198503141230"}, 422, "owner_id_number"),
    ],
)
def test_bad_house_input(
    client: TestClient, tiny_registry: TinyRegistry, overrides: dict[str, Any], status: int, field: str | None
) -> None:
    headers = auth_headers(client, "worker.a1")
    before = client.get("/api/v1/registry/houses", headers=headers).json()["total"]
    error = assert_error(client.post("/api/v1/registry/houses", json=_house(**overrides), headers=headers), status)
    if field:
        assert field in {p["field"] for p in error["details"]}
    assert client.get("/api/v1/registry/houses", headers=headers).json()["total"] == before


def test_house_layer_points_and_grid_counts(client: TestClient, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "operator")
    near = client.get("/api/v1/registry/houses/map", params={"bbox": "117,32,118,33", "zoom": 15}, headers=headers)
    assert {f["properties"]["id"] for f in near.json()["features"]} == set(tiny_registry.houses.values())
    far = client.get("/api/v1/registry/houses/map", params={"bbox": "117,32,118,33", "zoom": 10}, headers=headers)
    assert {f["properties"]["grid_code"]: f["properties"]["houses"] for f in far.json()["features"]} == {
        GRID_A1: 1,
        GRID_B1: 1,
    }
    worker = client.get(
        "/api/v1/registry/houses/map",
        params={"bbox": "117,32,118,33", "zoom": 15},
        headers=auth_headers(client, "worker.a1"),
    ).json()
    assert [f["properties"]["id"] for f in worker["features"]] == [tiny_registry.houses["a"]]
    assert_error(client.get("/api/v1/registry/houses/map", params={"bbox": "1,2,3", "zoom": 15}, headers=headers), 422)
    assert_error(
        client.get("/api/v1/registry/houses/map", params={"bbox": "3,3,1,1", "zoom": 15}, headers=headers), 422
    )


def test_special_care_visits_overdue_and_audit(
    client: TestClient, tiny_city: TinyCity, tiny_registry: TinyRegistry
) -> None:
    headers = auth_headers(client, "worker.a1")
    care_id = tiny_registry.care["a"]
    listed = client.get("/api/v1/registry/care", params={"overdue": True}, headers=headers).json()
    assert [c["id"] for c in listed["items"]] == [care_id]
    assert listed["items"][0]["person_name"] == "张*明" and listed["items"][0]["overdue_days"] > 0
    visited_on = (date.today() - timedelta(days=1)).isoformat()
    visit = client.post(
        f"/api/v1/registry/care/{care_id}/visits",
        headers=headers,
        json={"visited_on": visited_on, "form": "home", "findings": "情绪稳定，按时服药"},
    )
    assert visit.status_code == 201, visit.text
    assert client.get("/api/v1/registry/care", params={"overdue": True}, headers=headers).json()["total"] == 0
    board = client.get("/api/v1/registry/care/overdue-by-grid", headers=auth_headers(client, "operator")).json()
    assert {b["grid_code"]: b["overdue"] for b in board} == {GRID_A1: 0, GRID_B1: 1}
    actions = {
        r["action"]
        for r in client.get(
            "/api/v1/audit/records", params={"page_size": 100}, headers=auth_headers(client, "auditor")
        ).json()["items"]
    }
    assert {"care.list", "care.visit", "care.overdue_summary"} <= actions
    # Bad input: a future visit, an unknown form, a risk level for a group without one, unknown data items.
    future = (date.today() + timedelta(days=2)).isoformat()
    assert_error(
        client.post(
            f"/api/v1/registry/care/{care_id}/visits",
            headers=headers,
            json={"visited_on": future, "form": "home", "findings": "x" * 10},
        ),
        422,
    )
    assert_error(
        client.post(
            f"/api/v1/registry/care/{care_id}/visits",
            headers=headers,
            json={"visited_on": visited_on, "form": "telepathy", "findings": "x" * 10},
        ),
        422,
    )
    assert_error(
        client.post(
            "/api/v1/registry/care",
            headers=headers,
            json={
                "person_id": tiny_registry.people["a"],
                "care_group": "drug_user",
                "attention_level": "high",
                "risk_level": 3,
            },
        ),
        422,
    )
    error = assert_error(
        client.post(
            "/api/v1/registry/care",
            headers=headers,
            json={
                "person_id": tiny_registry.people["a"],
                "care_group": "drug_user",
                "attention_level": "high",
                "details": {"favourite_colour": "blue"},
            },
        ),
        422,
    )
    assert error["details"][0]["field"] == "details.favourite_colour"
    assert_error(
        client.post(
            "/api/v1/registry/care",
            headers=headers,
            json={"person_id": tiny_registry.people["a"], "care_group": "mental_disorder", "attention_level": "high"},
        ),
        409,
    )
    # Department staff may read people but not special-care records.
    assert_error(client.get("/api/v1/registry/care", headers=auth_headers(client, "police")), 403)


def test_organisations_with_credit_codes(client: TestClient, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "worker.a1")
    body = {
        "grid_code": GRID_A1,
        "kind": "economic",
        "name": "天桥五金店",
        "credit_code": "91340300MA2N0CBT4X",
        "org_type": "individual",
        "staff_count": 3,
    }
    bad = assert_error(client.post("/api/v1/registry/organisations", json=body, headers=headers), 422)
    assert "check character" in bad["details"][0]["problem"]
    from civicgrid.registry.entities import credit_code_problem

    valid = next(
        body["credit_code"][:17] + c
        for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"
        if credit_code_problem(body["credit_code"][:17] + c) is None
    )
    created = client.post("/api/v1/registry/organisations", json={**body, "credit_code": valid}, headers=headers)
    assert created.status_code == 201, created.text
    assert_error(
        client.post("/api/v1/registry/organisations", json={**body, "credit_code": valid}, headers=headers), 409
    )
    changed = client.patch(
        f"/api/v1/registry/organisations/{created.json()['id']}", json={"staff_count": 5}, headers=headers
    )
    assert changed.json()["staff_count"] == 5
    assert_error(
        client.patch(f"/api/v1/registry/organisations/{created.json()['id']}", json={"org_type": "x"}, headers=headers),
        422,
    )
    listed = client.get("/api/v1/registry/organisations", params={"q": "五金"}, headers=headers).json()
    assert listed["total"] == 1


def test_code_tables_are_data(client: TestClient, tiny_registry: TinyRegistry) -> None:
    admin = auth_headers(client, "admin")
    sexes = client.get("/api/v1/registry/codes", params={"table": "sex"}, headers=admin).json()
    assert [c["code"] for c in sexes] == ["1", "2", "0", "9"]
    assert (
        client.put(
            "/api/v1/registry/codes/education/95",
            json={"label_zh": "扫盲班", "label_en": "Literacy class"},
            headers=admin,
        ).status_code
        == 200
    )
    worker = auth_headers(client, "worker.a1")
    fixed = client.patch(
        f"/api/v1/registry/people/{tiny_registry.people['a']}", json={"education": "95"}, headers=worker
    )
    assert fixed.status_code == 200, fixed.text
    assert_error(
        client.put("/api/v1/registry/codes/sex/123", json={"label_zh": "x", "label_en": "x"}, headers=admin), 422
    )
    assert_error(
        client.put("/api/v1/registry/codes/nonsense/1", json={"label_zh": "x", "label_en": "x"}, headers=admin), 422
    )
    assert_error(
        client.put("/api/v1/registry/codes/education/96", json={"label_zh": "x", "label_en": "x"}, headers=worker), 403
    )
    assert COMMUNITY_A  # the codes apply city-wide


def test_road_lines_with_their_course(client: TestClient, tiny_registry: TinyRegistry) -> None:
    headers = auth_headers(client, "district.operator")
    course = {"type": "LineString", "coordinates": [[117.05, 32.1], [117.4, 32.9]]}
    body = {
        "name": "京沪铁路蚌山段",
        "line_type": "railway",
        "area_code": "340303",
        "hazard_level": "1",
        "hazard_situation": "沿线违章建筑两处",
        "course": course,
    }
    created = client.post("/api/v1/registry/road-lines", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["course"]["type"] == "LineString"
    listed = client.get("/api/v1/registry/road-lines", params={"hazard_level": "1"}, headers=headers).json()
    assert [line["name"] for line in listed["items"]] == ["京沪铁路蚌山段"]
    outside = {**course, "coordinates": [[117.05, 32.1], [117.9, 32.9]]}
    assert_error(client.post("/api/v1/registry/road-lines", json={**body, "course": outside}, headers=headers), 422)
    assert_error(
        client.post(
            "/api/v1/registry/road-lines",
            json={**body, "course": {"type": "Point", "coordinates": [117.1, 32.2]}},
            headers=headers,
        ),
        422,
    )
    assert_error(client.post("/api/v1/registry/road-lines", json={**body, "line_type": "canal"}, headers=headers), 422)
    assert_error(client.post("/api/v1/registry/road-lines", json={**body, "area_code": "340304"}, headers=headers), 404)
    # A grid worker's scope is finer than a line's placement: no lines.
    assert client.get("/api/v1/registry/road-lines", headers=auth_headers(client, "worker.a1")).json()["total"] == 0
