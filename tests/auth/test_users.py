"""Account administration through the API: good paths, every kind of bad input, scope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.support.api import assert_error, auth_headers, login
from tests.support.city import COMMUNITY_A, DISTRICT, GRID_A2, OTHER_DISTRICT, TinyCity


def _new(**overrides: Any) -> dict[str, Any]:
    body = {
        "username": "li.na",
        "display_name": "李娜",
        "password": "Grid-Worker-2026",
        "role": "grid_worker",
        "scope_division_code": GRID_A2,
    }
    return {**body, **overrides}


def test_admin_creates_lists_and_updates_a_user(client: TestClient, tiny_city: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    created = client.post("/api/v1/users", json=_new(unit_id=tiny_city.units["committee-a"]), headers=admin)
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["username"] == "li.na"
    assert user["scope_division_name"] == "天桥社区第2网格"
    assert user["unit_name"] == "天桥社区居委会"
    assert "password" not in str(user).lower().replace("password_", "")
    assert login(client, "li.na", "Grid-Worker-2026")["user"]["display_name"] == "李娜"
    listed = client.get("/api/v1/users", params={"q": "li.", "role": "grid_worker"}, headers=admin).json()
    assert [u["username"] for u in listed["items"]] == ["li.na"]
    changed = client.patch(
        f"/api/v1/users/{user['id']}",
        json={"role": "community_staff", "scope_division_code": COMMUNITY_A},
        headers=admin,
    )
    assert changed.status_code == 200
    assert (changed.json()["role"], changed.json()["scope_division_code"]) == ("community_staff", COMMUNITY_A)


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"username": "a"}, 422, "username"),
        ({"username": "张三"}, 422, "username"),
        ({"username": "Bad Name!"}, 422, "username"),
        ({"password": "short"}, 422, "password"),
        ({"password": "li.na-is-my-password"}, 422, "password"),
        ({"password": "aaaaaaaaaaaa"}, 422, "password"),
        ({"role": "superuser"}, 422, "role"),
        ({"scope_division_code": "340399999999"}, 422, "scope_division_code"),
        ({"unit_id": 9999}, 422, "unit_id"),
        ({"display_name": "   "}, 422, "display_name"),
        ({"username": "operator"}, 409, "username"),
    ],
)
def test_bad_user_input_is_refused_and_changes_nothing(
    client: TestClient, tiny_city: TinyCity, overrides: dict[str, Any], status: int, field: str
) -> None:
    admin = auth_headers(client, "admin")
    before = client.get("/api/v1/users", headers=admin).json()["total"]
    error = assert_error(client.post("/api/v1/users", json=_new(**overrides), headers=admin), status)
    assert field in str(error["details"]), error
    assert client.get("/api/v1/users", headers=admin).json()["total"] == before


def test_missing_fields_are_listed(client: TestClient, tiny_city: TinyCity) -> None:
    error = assert_error(client.post("/api/v1/users", json={}, headers=auth_headers(client, "admin")), 422)
    fields = {d["field"] for d in error["details"]}
    assert {"username", "display_name", "password", "role", "scope_division_code"} <= fields


def test_operator_reads_users_of_the_scope_only(client: TestClient, tiny_city: TinyCity) -> None:
    district = auth_headers(client, "district.operator")
    names = {
        u["username"] for u in client.get("/api/v1/users", params={"page_size": 100}, headers=district).json()["items"]
    }
    assert "worker.a1" in names and "other.operator" not in names and "admin" not in names
    assert_error(client.post("/api/v1/users", json=_new(), headers=district), 403, "forbidden")


def test_users_cannot_be_created_outside_the_admins_scope(client: TestClient, tiny_city: TinyCity, db: Any) -> None:
    from civicgrid.auth.models import User

    with db.unit_of_work() as s:
        s.get(User, tiny_city.users["district.operator"]).role = "admin"
    district_admin = auth_headers(client, "district.operator")
    assert_error(
        client.post("/api/v1/users", json=_new(scope_division_code=OTHER_DISTRICT), headers=district_admin), 404
    )
    ok = client.post("/api/v1/users", json=_new(scope_division_code=DISTRICT), headers=district_admin)
    assert ok.status_code == 201
    other = tiny_city.users["other.operator"]
    assert_error(client.patch(f"/api/v1/users/{other}", json={"is_active": False}, headers=district_admin), 404)


def test_admin_cannot_disable_itself(client: TestClient, tiny_city: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    assert_error(
        client.patch(f"/api/v1/users/{tiny_city.users['admin']}", json={"is_active": False}, headers=admin), 409
    )


def test_password_reset(client: TestClient, tiny_city: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    worker = tiny_city.users["worker.a1"]
    assert_error(client.post(f"/api/v1/users/{worker}/password", json={"password": "short"}, headers=admin), 422)
    old_session = login(client, "worker.a1")
    reset = client.post(f"/api/v1/users/{worker}/password", json={"password": "Brand-New-Pass-1"}, headers=admin)
    assert reset.status_code == 204
    assert login(client, "worker.a1", "Brand-New-Pass-1")["user"]["username"] == "worker.a1"
    # Sessions opened with the old password end: their refresh tokens no longer work.
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": old_session["refresh_token"]}), 401)


def test_sort_and_pagination_convention(client: TestClient, tiny_city: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    page = client.get("/api/v1/users", params={"sort": "-username", "page": 2, "page_size": 3}, headers=admin).json()
    everyone = sorted(tiny_city.users, reverse=True)
    assert [u["username"] for u in page["items"]] == everyone[3:6]
    assert (page["total"], page["page"], page["page_size"]) == (len(everyone), 2, 3)
    error = assert_error(client.get("/api/v1/users", params={"sort": "password_hash"}, headers=admin), 422)
    assert "username" in error["details"]["allowed"]
    assert_error(client.get("/api/v1/users", params={"page_size": 100000}, headers=admin), 422)


def test_cli_creates_a_user(db: Any, tiny_city: TinyCity, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from civicgrid.cli import app
    from civicgrid.config import get_settings

    monkeypatch.setenv("CIVICGRID_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        args = [
            "users",
            "create",
            "--username",
            "wang.fang",
            "--role",
            "center_operator",
            "--scope",
            DISTRICT,
            "--password",
            "Centre-Pass-2026",
        ]
        ok = CliRunner().invoke(app, args)
        bad = CliRunner().invoke(app, [*args[:-1], "weak"])
        dup = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert ok.exit_code == 0, ok.output
    assert bad.exit_code == 1 and "password" in bad.output
    assert dup.exit_code == 1 and "taken" in dup.output
