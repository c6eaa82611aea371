"""Login, lock-out, token expiry and rotating refresh tokens, through the HTTP interface."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from tests.support.api import assert_error, auth_headers, login
from tests.support.city import PASSWORD, TinyCity

from civicgrid.config import Settings
from civicgrid.core import clock


def test_login_returns_tokens_and_profile(client: TestClient, tiny_city: TinyCity) -> None:
    body = login(client, "worker.a1")
    assert body["token_type"] == "bearer"
    assert 0 < body["expires_in"] <= 15 * 60
    me = body["user"]
    assert me["role"] == "grid_worker"
    assert me["scope"] == {
        "division_code": "340303001001001",
        "level": "grid",
        "name": "天桥社区第1网格",
        "department_id": None,
    }
    assert "geo:read" in me["permissions"]
    assert "user:write" not in me["permissions"]
    profile = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert profile.status_code == 200
    assert profile.json() == me


def test_wrong_password_and_unknown_user_answer_alike(client: TestClient, tiny_city: TinyCity) -> None:
    wrong = client.post("/api/v1/auth/login", json={"username": "worker.a1", "password": "nope-nope-nope"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope-nope-nope"})
    assert assert_error(wrong, 401, "invalid_credentials")["message"] == "wrong username or password"
    assert assert_error(unknown, 401, "invalid_credentials")["message"] == "wrong username or password"


def test_lockout_after_repeated_failures(client: TestClient, tiny_city: TinyCity, settings: Settings) -> None:
    for attempt in range(1, settings.login_max_failures):
        response = client.post("/api/v1/auth/login", json={"username": "operator", "password": f"bad-{attempt}x"})
        error = assert_error(response, 401, "invalid_credentials")
        assert error["details"]["attempts_left"] == settings.login_max_failures - attempt
    locking = client.post("/api/v1/auth/login", json={"username": "operator", "password": "bad-final-x"})
    assert "locked_until" in assert_error(locking, 423, "account_locked")["details"]
    # Even the right password is refused while locked.
    refused = client.post("/api/v1/auth/login", json={"username": "operator", "password": PASSWORD})
    assert_error(refused, 423, "account_locked")
    # The lock lapses by itself.
    clock.advance(timedelta(minutes=settings.login_lockout_minutes, seconds=1))
    assert login(client, "operator")["user"]["username"] == "operator"


def test_admin_unlocks_a_locked_account(client: TestClient, tiny_city: TinyCity, settings: Settings) -> None:
    for attempt in range(settings.login_max_failures):
        client.post("/api/v1/auth/login", json={"username": "worker.a2", "password": f"bad-{attempt}-x"})
    assert_error(client.post("/api/v1/auth/login", json={"username": "worker.a2", "password": PASSWORD}), 423)
    headers = auth_headers(client, "admin")
    unlocked = client.post(f"/api/v1/users/{tiny_city.users['worker.a2']}/unlock", headers=headers)
    assert unlocked.status_code == 200
    assert unlocked.json()["locked_until"] is None
    assert login(client, "worker.a2")["user"]["username"] == "worker.a2"


def test_access_token_expires(client: TestClient, tiny_city: TinyCity, settings: Settings) -> None:
    headers = auth_headers(client, "operator")
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    clock.advance(timedelta(minutes=settings.access_token_minutes, seconds=1))
    assert_error(client.get("/api/v1/auth/me", headers=headers), 401, "invalid_token")


def test_forged_or_missing_token_is_refused(client: TestClient, tiny_city: TinyCity) -> None:
    assert_error(client.get("/api/v1/auth/me"), 401, "unauthenticated")
    token = login(client, "operator")["access_token"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_error(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}), 401, "invalid_token")


def test_refresh_rotates_and_reuse_revokes_the_family(client: TestClient, tiny_city: TinyCity) -> None:
    first = login(client, "operator")
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second_body = second.json()
    assert second_body["refresh_token"] != first["refresh_token"]
    # The spent token presented again (a thief's copy): refused, and the whole family is revoked.
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_error(replay, 401, "invalid_token")
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": second_body["refresh_token"]})
    assert "ended" in assert_error(after, 401, "invalid_token")["message"]


def test_refresh_after_access_expiry_and_refresh_expiry(
    client: TestClient, tiny_city: TinyCity, settings: Settings
) -> None:
    first = login(client, "operator")
    clock.advance(timedelta(minutes=settings.access_token_minutes + 1))
    renewed = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert renewed.status_code == 200
    headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    clock.advance(timedelta(days=settings.refresh_token_days, minutes=1))
    expired = client.post("/api/v1/auth/refresh", json={"refresh_token": renewed.json()["refresh_token"]})
    assert "expired" in assert_error(expired, 401, "invalid_token")["message"]


def test_logout_ends_the_refresh_family(client: TestClient, tiny_city: TinyCity) -> None:
    body = login(client, "operator")
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (
        client.post("/api/v1/auth/logout", json={"refresh_token": body["refresh_token"]}, headers=headers).status_code
        == 204
    )
    assert_error(client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]}), 401)


def test_disabled_account_cannot_log_in_or_use_its_token(client: TestClient, tiny_city: TinyCity) -> None:
    worker_headers = auth_headers(client, "worker.b1")
    admin = auth_headers(client, "admin")
    response = client.patch(f"/api/v1/users/{tiny_city.users['worker.b1']}", json={"is_active": False}, headers=admin)
    assert response.status_code == 200
    assert_error(client.get("/api/v1/auth/me", headers=worker_headers), 401)
    assert_error(client.post("/api/v1/auth/login", json={"username": "worker.b1", "password": PASSWORD}), 401)


def test_login_body_is_validated(client: TestClient, tiny_city: TinyCity) -> None:
    error = assert_error(client.post("/api/v1/auth/login", json={"username": "operator"}), 422, "invalid_input")
    assert error["details"][0]["field"] == "password"
    assert_error(
        client.post("/api/v1/auth/login", content=b"not json", headers={"Content-Type": "application/json"}),
        422,
        "invalid_input",
    )


def test_login_rate_limit_per_address(client: TestClient, tiny_city: TinyCity) -> None:
    limiter = client.app.state.login_limiter  # type: ignore[attr-defined]
    limiter.limit = 3
    for _ in range(3):
        client.post("/api/v1/auth/login", json={"username": f"u{_}x", "password": "whatever-pw"})
    assert_error(client.post("/api/v1/auth/login", json={"username": "operator", "password": PASSWORD}), 429)
