"""Machine API keys: issued once, stored hashed, scoped, revocable."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.support.api import assert_error, auth_headers
from tests.support.city import COMMUNITY_A, GRID_A1, GRID_B1, TinyCity

from civicgrid.auth.models import ApiKey


def test_key_lifecycle(client: TestClient, tiny_city: TinyCity, db: Any) -> None:
    admin = auth_headers(client, "admin")
    created = client.post(
        "/api/v1/api-keys",
        json={"name": "open311 app", "role": "community_staff", "scope_division_code": COMMUNITY_A},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("cgk_")
    with db.unit_of_work() as s:
        stored = s.scalars(select(ApiKey)).one()
        assert key not in (stored.key_hash, stored.prefix)
    machine = {"X-API-Key": key}
    grids = client.get("/api/v1/geo/divisions", params={"level": "grid"}, headers=machine)
    assert grids.status_code == 200
    assert {g["code"] for g in grids.json()["items"]} == {GRID_A1, "340303001001002"}
    assert client.get(f"/api/v1/geo/divisions/{GRID_B1}", headers=machine).status_code == 404
    listed = client.get("/api/v1/api-keys", headers=admin).json()
    assert listed["total"] == 1 and "key" not in listed["items"][0]
    assert client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=admin).status_code == 200
    assert_error(client.get("/api/v1/geo/divisions", headers=machine), 401, "invalid_api_key")


def test_bad_keys_are_refused(client: TestClient, tiny_city: TinyCity) -> None:
    for key in ["", "nonsense", "cgk_unknown.secret", "cgk_.x"]:
        response = client.get("/api/v1/geo/divisions", headers={"X-API-Key": key})
        assert response.status_code == 401, key


def test_key_creation_is_validated(client: TestClient, tiny_city: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    assert_error(
        client.post(
            "/api/v1/api-keys", json={"name": "x", "role": "god", "scope_division_code": GRID_A1}, headers=admin
        ),
        422,
    )
    assert_error(
        client.post(
            "/api/v1/api-keys",
            json={"name": "x", "role": "grid_worker", "scope_division_code": "340399"},
            headers=admin,
        ),
        422,
    )
    assert_error(
        client.post(
            "/api/v1/api-keys",
            json={"name": "x", "role": "grid_worker", "scope_division_code": GRID_A1},
            headers=auth_headers(client, "operator"),
        ),
        403,
    )
