"""The web UI in Chromium against a freshly built demo city (fixtures in conftest.py).

Scenarios: find a community on the map and read a grid's worker; a grid worker sees only the own grid;
user administration; the audit trail and its verification; the language switch.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

PASSWORD = "Bengbu-2026!"  # the published demo password


def api_get(server_url: str, username: str, path: str, **params: Any) -> Any:
    """Read the API as a demo user (to know what the UI should show)."""
    with httpx.Client(base_url=server_url, timeout=10) as client:
        login = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        login.raise_for_status()
        token = login.json()["access_token"]
        answer = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        answer.raise_for_status()
        return answer.json()


def log_in(page: Page, username: str, landing: str = "/map") -> None:
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"**{landing}")


def wait_for_map(page: Page, level: str | None = None) -> None:
    selector = "[data-testid=map-container][data-loading=false]"
    if level:
        selector += f"[data-level={level}]"
    page.wait_for_selector(selector, timeout=20_000)


def test_login_shows_the_server_message(page: Page) -> None:
    page.goto("/login")
    expect(page.get_by_test_id("login-demo-hint")).to_be_visible()
    page.get_by_test_id("login-username").fill("police")
    page.get_by_test_id("login-password").fill("not the password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    assert page.get_by_test_id("login-error").inner_text().strip()
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    screenshot(page, "login-wrong-password")
    assert page.url.endswith("/login")


def test_lock_out_shows_the_unlock_time_and_an_admin_unlocks(page: Page, server_url: str) -> None:
    with httpx.Client(base_url=server_url, timeout=10) as client:
        for _ in range(10):
            answer = client.post("/api/v1/auth/login", json={"username": "steward", "password": "wrong-password"})
            if answer.status_code == 423:
                break
        assert answer.status_code == 423, answer.text

    page.goto("/login")
    page.get_by_test_id("login-username").fill("steward")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("账号已被锁定")
    unlock_time = re.compile(r"解锁时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
    expect(page.get_by_test_id("login-locked-until")).to_contain_text(unlock_time)
    screenshot(page, "login-locked")

    log_in(page, "admin")
    page.get_by_test_id("menu-users").click()
    page.get_by_test_id("users-filter-q").fill("steward")
    page.get_by_test_id("users-search").click()
    expect(page.locator("[data-testid=user-row-username]")).to_have_count(1)
    page.get_by_test_id("user-unlock").click()
    page.locator(".el-message-box__btns .el-button--primary").click()
    expect(page.get_by_test_id("user-unlock")).to_have_count(0)

    page.get_by_test_id("logout").click()
    log_in(page, "steward")


def test_operator_finds_a_community_and_reads_a_grid_worker(page: Page, server_url: str) -> None:
    community = api_get(server_url, "operator", "/api/v1/geo/divisions", level="community", q="社区", page_size=1)[
        "items"
    ][0]
    grids = api_get(server_url, "operator", f"/api/v1/geo/divisions/{community['code']}/children")["items"]
    grid = grids[0]
    worker = api_get(server_url, "operator", f"/api/v1/geo/divisions/{grid['code']}")["grid_worker"]
    assert worker, "the demo city staffs every grid"

    log_in(page, "operator")
    wait_for_map(page, "district")
    expect(page.get_by_test_id("current-user-name")).to_have_text("市综治中心值班员")
    screenshot(page, "map-city")

    page.get_by_test_id("map-search").fill(community["name"])
    result = page.locator(f"[data-testid=map-search-result][data-code='{community['code']}']")
    result.click()
    expect(page.get_by_test_id("panel-name")).to_have_text(community["name"])
    expect(page.get_by_test_id("panel-code")).to_have_text(community["code"])

    # The map flies to the community and draws its grids.
    wait_for_map(page, "grid")
    page.wait_for_function("code => (window.__civicgridMapDebug?.codes('grid') ?? []).includes(code)", arg=grid["code"])
    page.wait_for_function("() => !window.__civicgridMap.isMoving()")
    point = page.evaluate("code => window.__civicgridMapDebug.screenPoint(code)", grid["code"])
    assert point is not None
    page.get_by_test_id("map-container").click(position={"x": point[0], "y": point[1]})

    expect(page.get_by_test_id("panel-code")).to_have_text(grid["code"])
    expect(page.get_by_test_id("panel-worker")).to_have_text(worker["display_name"])
    expect(page.get_by_test_id("panel-ancestors")).to_contain_text(community["name"])
    screenshot(page, "map-grid-panel")


def test_grid_worker_sees_only_the_own_grid(page: Page, server_url: str) -> None:
    me = api_get(server_url, "gridworker", "/api/v1/auth/me")
    own = me["scope"]["division_code"]
    assert me["scope"]["level"] == "grid"

    log_in(page, "gridworker")
    wait_for_map(page, "grid")
    expect(page.get_by_test_id("map-container")).to_have_attribute("data-feature-count", "1")
    assert page.evaluate("() => window.__civicgridMapDebug.codes('grid')") == [own]
    screenshot(page, "map-grid-worker")

    page.get_by_test_id("menu-divisions").click()
    page.wait_for_url("**/divisions")
    nodes = page.get_by_test_id("division-node")
    expect(nodes).to_have_count(1)
    expect(nodes.first).to_have_attribute("data-code", own)
    nodes.first.click()
    expect(page.get_by_test_id("division-name")).to_contain_text(me["scope"]["name"])
    screenshot(page, "divisions-grid-worker")
    # No administration for a grid worker.
    expect(page.get_by_test_id("menu-users")).to_have_count(0)
    expect(page.get_by_test_id("menu-audit")).to_have_count(0)


def test_admin_lists_and_creates_users(page: Page, server_url: str) -> None:
    log_in(page, "admin")
    page.get_by_test_id("menu-users").click()
    page.wait_for_url("**/users")
    rows = page.locator("[data-testid=users-table] [data-testid=user-row-username]")
    expect(rows.first).to_be_visible()
    screenshot(page, "users-list")

    page.get_by_test_id("users-create").click()
    dialog = page.get_by_test_id("user-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("user-form-username").fill("e2e.worker")
    dialog.get_by_test_id("user-form-display-name").fill("测试网格员")
    dialog.get_by_test_id("user-form-password").fill("Grid-worker-2026")
    dialog.get_by_test_id("user-form-role").click()
    page.get_by_test_id("role-option-grid_worker").click()
    dialog.get_by_test_id("user-form-scope").click()
    page.keyboard.type("龙子湖区")
    page.locator("[data-testid=scope-option]", has_text="龙子湖区").first.click()
    screenshot(page, "users-create-dialog")
    dialog.get_by_test_id("user-form-save").click()
    expect(dialog).to_be_hidden()

    page.get_by_test_id("users-filter-q").fill("e2e.worker")
    page.get_by_test_id("users-search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_text("e2e.worker")
    created = api_get(server_url, "admin", "/api/v1/users", q="e2e.worker")["items"]
    assert [(u["username"], u["role"], u["scope_division_name"]) for u in created] == [
        ("e2e.worker", "grid_worker", "龙子湖区")
    ]


def test_auditor_reads_and_verifies_the_audit_trail(page: Page) -> None:
    log_in(page, "auditor")
    page.get_by_test_id("menu-audit").click()
    page.wait_for_url("**/audit")
    seqs = page.get_by_test_id("audit-row-seq")
    expect(seqs.first).to_be_visible()
    page.get_by_test_id("audit-verify").click()
    result = page.get_by_test_id("audit-verify-result")
    expect(result).to_have_attribute("data-ok", "true")
    expect(result).to_contain_text(re.compile(r"审计链完整"))
    screenshot(page, "audit-verified")

    # user:read without user:write: the list, but no write actions.
    page.get_by_test_id("menu-users").click()
    expect(page.locator("[data-testid=user-row-username]").first).to_be_visible()
    expect(page.get_by_test_id("users-create")).to_have_count(0)
    expect(page.get_by_test_id("user-edit")).to_have_count(0)


def test_language_switch_turns_the_menu_english(page: Page) -> None:
    log_in(page, "operator")
    menu = page.get_by_test_id("menu-map")
    expect(menu).to_contain_text("网格地图")
    page.get_by_test_id("language-switch").click()
    page.locator(".el-select-dropdown__item", has_text="English").click()
    expect(menu).to_contain_text("Grid map")
    expect(page.get_by_test_id("menu-divisions")).to_contain_text("Divisions")
    expect(page.get_by_test_id("brand")).to_contain_text("Municipal Social Governance")
    page.reload()
    expect(page.get_by_test_id("menu-map")).to_contain_text("Grid map")
    wait_for_map(page, "district")
    expect(page.get_by_test_id("map-level")).to_contain_text("Showing: District / county")
    screenshot(page, "english")
