"""Scope enforcement through every route, generated from the app's own route table.

For each perspective (a grid worker of grid A1; a district operator of the other district) every
API route is called with path parameters and bodies that point at objects outside the caller's scope.
Reads of such objects answer 403 or 404; lists answer only what is inside the scope; writes change
nothing. A route with a path parameter this table does not know fails the test, so new routes must be
added here — that is the point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.api import auth_headers
from tests.support.city import (
    COMMUNITY_A,
    COMMUNITY_B,
    DISTRICT,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    GRID_B2,
    OTHER_DISTRICT,
    STREET_A,
    STREET_B,
    TinyCity,
)
from tests.support.registry import A_ID_NUMBER, B_ID_NUMBER, TinyRegistry

# Routes every signed-in account may call about itself, and public routes.
SELF_OR_PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/auth/roles"),
    ("GET", "/api/v1/meta"),
    ("POST", "/api/v1/notifications/read-all"),  # only ever the caller's own notifications
    ("POST", "/api/v1/stream/ticket"),  # a ticket for the caller's own live stream
    ("GET", "/api/v1/public/map/areas"),  # public: administrative boundaries, code and name only
    # The caller's own position while on duty: shared wherever in the city the worker is (shown to the centres
    # whose area holds the point), and withdrawn by its owner at any time (tests/command/test_positions.py).
    ("PUT", "/api/v1/command/positions/me"),
    ("DELETE", "/api/v1/command/positions/me"),
}

# Reads that take their question in a POST body (too large for a query string).
READS_BY_POST = {("POST", "/api/v1/geo/lookup/batch"), ("POST", "/api/v1/registry/people/lookup")}


@dataclass(frozen=True)
class Perspective:
    username: str
    foreign_division: str  # a division outside the caller's scope
    foreign_user: str  # an account outside the caller's scope
    foreign_codes: tuple[str, ...]  # codes that must never appear in what the caller reads
    point_outside: tuple[float, float]  # a point in the city but outside the caller's scope
    foreign_registry: str  # the key ("a" or "b") of the tiny registry's objects outside the scope
    foreign_names: tuple[str, ...]  # residents' names (plain or masked) that must never appear


PERSPECTIVES = {
    "grid_worker_A1": Perspective(
        "worker.a1",
        GRID_B1,
        "worker.b1",
        (GRID_A2, GRID_B1, GRID_B2, COMMUNITY_B, STREET_B, OTHER_DISTRICT),
        (117.1, 32.7),
        "b",
        ("李四红", "李*红"),
    ),
    "other_district_operator": Perspective(
        "other.operator",
        GRID_A1,
        "worker.a1",
        (DISTRICT, STREET_A, STREET_B, COMMUNITY_A, COMMUNITY_B, GRID_A1, GRID_A2, GRID_B1, GRID_B2),
        (117.1, 32.2),
        "a",
        ("张三明", "张*明", "李四红", "李*红"),
    ),
}


def _api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every operation of the API, read from the app's OpenAPI document (so nothing can hide)."""
    paths: dict[str, dict[str, Any]] = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1")
        for method in operations
        if (method.upper(), path) not in SELF_OR_PUBLIC
    ]
    return sorted(routes)


def _path_values(city: TinyCity, registry: TinyRegistry, p: Perspective) -> dict[str, str]:
    key = p.foreign_registry
    return {
        "code": p.foreign_division,
        "area_code": p.foreign_division,
        # Index configurations are platform-wide; only safety administrators activate them (none here).
        "config_id": "1",
        "user_id": str(city.users[p.foreign_user]),
        "key_id": "1",
        "unit_id": str(city.units["committee-b" if p.username == "worker.a1" else "committee-a"]),
        "person_id": str(registry.people[key]),
        "house_id": str(registry.houses[key]),
        "care_id": str(registry.care[key]),
        "obj_id": str(registry.organisations[key]),
        "household_id": str(registry.households[key]),
        "line_id": str(registry.road_lines["b" if p.username == "worker.a1" else "a"]),
        # Mappings and jobs of other users do not exist for the caller (404 either way).
        "mapping_id": "1",
        "job_id": "1",
        "entity": "people",
        "table": "sex",
        "day": "2026-10-01",
        # Photos and tracking tokens: 404 unless bound to a case the caller may see, or issued to them.
        "attachment_id": "1",
        "token": "no-such-tracking-token",
        "case_id": str(registry.cases[key]),
        # SLA rules are platform-wide; only case administrators change them (nobody in these perspectives).
        "rule_id": "1",
        # Warnings: the tiny registry holds none, so any id is outside every scope (tests/safety checks scope).
        "warning_id": "1",
        # Analysis reports: the tiny registry holds none, so any id is outside every scope (tests/command checks it).
        "report_id": "1",
        # The tiny registry holds no disputes: any id is outside every scope (tests/disputes checks scope).
        "dispute_id": str(registry.disputes[key]),
    }


def _foreign_body(city: TinyCity, registry: TinyRegistry, p: Perspective) -> dict[str, Any]:
    """A body that would create or change something outside the caller's scope."""
    key = p.foreign_registry
    return {
        "person_id": registry.people[key],
        "house_id": registry.houses[key],
        "grid_code": p.foreign_division if len(p.foreign_division) == 15 else GRID_B1,
        "person_type": "registered",
        "sex": "1",
        "birth_date": "1985-03-14",
        "id_number": A_ID_NUMBER if key == "a" else B_ID_NUMBER,
        "street_address": "入侵路1号",
        "use": "self",
        "kind": "economic",
        "care_group": "mental_disorder",
        "attention_level": "high",
        "purpose": "checking the scope matrix",
        "moved_on": "2024-01-01",
        "reason": "moved_away",
        "on": "2024-01-01",
        "move_in": "2024-01-01",
        "visited_on": "2024-01-01",
        "form": "home",
        "findings": "none",
        "label_zh": "入侵",
        "label_en": "intrusion",
        "username": "intruder.account",
        "display_name": "intruder",
        "password": "Intruder-Pass-123",
        "role": "grid_worker",
        "scope_division_code": p.foreign_division,
        "division_code": p.foreign_division,
        "duty": "grid_worker",
        "user_id": city.users[p.username],
        "name": "intruder key",
        "is_active": False,
        "points": [list(p.point_outside)],
        "category_code": "0501",
        "lon": p.point_outside[0],
        "lat": p.point_outside[1],
        "description": "scope matrix",
    }


def _assert_no_foreign_data(body: str, p: Perspective, where: str) -> None:
    for code in p.foreign_codes:
        assert not re.search(rf"(?<!\d){code}(?!\d)", body), f"{where} leaked {code}"
    assert p.foreign_user not in body, f"{where} leaked account {p.foreign_user}"
    for name in p.foreign_names:
        assert name not in body, f"{where} leaked the resident {name}"


@pytest.mark.parametrize("perspective", sorted(PERSPECTIVES))
def test_every_route_keeps_to_the_callers_scope(
    client: TestClient, tiny_city: TinyCity, tiny_registry: TinyRegistry, perspective: str
) -> None:
    p = PERSPECTIVES[perspective]
    headers = auth_headers(client, p.username)
    values = _path_values(tiny_city, tiny_registry, p)
    checked = 0
    for method, path in _api_routes(client):
        names = re.findall(r"{(\w+)(?::\w+)?}", path)
        unknown = [n for n in names if n not in values]
        assert not unknown, f"add a value for path parameter(s) {unknown} of {method} {path} to this matrix"
        url = path
        for name in names:
            url = re.sub(rf"{{{name}(?::\w+)?}}", values[name], url)
        where = f"{p.username}: {method} {url}"
        if method == "GET":
            params = {
                "lon": p.point_outside[0],
                "lat": p.point_outside[1],
                "parent_code": p.foreign_division,
                "division_code": p.foreign_division,
                "level": "grid",
                "page_size": 500,
            }
            response = client.get(url, headers=headers, params=params)
            if names:
                assert response.status_code in (403, 404), f"{where} answered {response.status_code}"
            else:
                assert response.status_code in (200, 403, 404, 422), f"{where} answered {response.status_code}"
                if response.status_code == 200:
                    _assert_no_foreign_data(response.text, p, where)
        else:
            body = _foreign_body(tiny_city, tiny_registry, p)
            response = client.request(method, url, headers=headers, json=body)
            refused = (400, 403, 404, 409, 415, 422)
            allowed = (200, *refused) if (method, path) in READS_BY_POST else refused
            assert response.status_code in allowed, f"{where} answered {response.status_code}"
            if response.status_code == 200:
                _assert_no_foreign_data(response.text, p, where)
        assert response.status_code == 200 or "error" in response.json(), where
        checked += 1
    assert checked >= 15  # the matrix really walked the API


def test_the_same_routes_answer_inside_the_scope(client: TestClient, tiny_city: TinyCity) -> None:
    """The control: the grid worker reads the own grid, so the refusals above are about scope."""
    headers = auth_headers(client, "worker.a1")
    own = client.get(f"/api/v1/geo/divisions/{GRID_A1}", headers=headers)
    assert own.status_code == 200, own.text
    listed = client.get("/api/v1/geo/divisions", headers=headers).json()
    assert [item["code"] for item in listed["items"]] == [GRID_A1]
    features = client.get("/api/v1/geo/boundaries", params={"level": "grid"}, headers=headers).json()["features"]
    assert [f["properties"]["code"] for f in features] == [GRID_A1]


def test_higher_scope_sees_everything_below(client: TestClient, tiny_city: TinyCity) -> None:
    headers = auth_headers(client, "district.operator")
    grids = client.get("/api/v1/geo/divisions", params={"level": "grid"}, headers=headers).json()
    assert sorted(item["code"] for item in grids["items"]) == [GRID_A1, GRID_A2, GRID_B1, GRID_B2]
    assert client.get(f"/api/v1/geo/divisions/{OTHER_DISTRICT}", headers=headers).status_code == 404
