"""The grid worker's field app (/m/cases) in a phone-sized Chromium against the demo city.

Scenarios: report a case with a camera photo and the phone's position, see it in the inbox, take an
action offline (queued, the banner counts it), come back online and see it applied once on the server;
and a conflict: an action queued offline while the case changes on the server is kept with the
server's explanation and discarded by the worker.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.e2e.conftest import screenshot
from tests.e2e.registry_seed import PASSWORD, Api

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# A point in the demo grid worker's own grid (the registry tests use it too).
# A category the case e2e tests do not report near this grid's centre, so no "same problem" is offered.
LON, LAT = 117.47148, 32.93703


@pytest.fixture
def phone(browser: Browser, server_url: str) -> Iterator[tuple[BrowserContext, Page]]:
    """A phone that may read its position."""
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="zh-CN",
        base_url=server_url,
    )
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"latitude": LAT, "longitude": LON, "accuracy": 12})
    context.set_default_timeout(15_000)
    yield context, context.new_page()
    context.close()


@pytest.fixture
def worker(server_url: str) -> Iterator[Api]:
    api = Api(server_url, "gridworker")
    yield api
    api.close()


def jpeg(colour: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(out, format="JPEG", quality=85)
    return out.getvalue()


def sign_in(page: Page, path: str) -> None:
    page.goto(path)
    page.get_by_test_id("login-username").fill("gridworker")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"**{path}")


def case_by_code(worker: Api, code: str) -> dict[str, Any]:
    items = worker.get("/api/v1/cases", q=code)["items"]
    assert len(items) == 1, items
    detail: dict[str, Any] = worker.get(f"/api/v1/cases/{items[0]['id']}")
    return detail


def confirm_dialog(page: Page) -> None:
    page.locator(".van-dialog__confirm").click()


def settled(page: Page) -> Page:
    """The page once its toasts are gone (for screenshots)."""
    expect(page.locator(".van-toast")).to_be_hidden()
    return page


def test_report_with_photo_and_position_then_act_offline(phone: tuple[BrowserContext, Page], worker: Api) -> None:
    context, page = phone
    sign_in(page, "/m/")  # the sign-in page is a desktop page; what follows is the phone's own
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.get_by_test_id("m-report-entry").click()
    page.wait_for_url("**/m/cases/new")
    expect(page.get_by_test_id("m-report-location")).to_contain_text("已定位")

    page.get_by_test_id("m-category").click()
    page.locator(".van-cascader__option", has_text="市容环境").click()
    page.locator(".van-cascader__option", has_text="占道经营").click()
    expect(page.locator("[data-testid=m-category] input")).to_have_value("市容环境 / 占道经营")
    description = f"人行道上有人摆摊 {uuid.uuid4().hex[:6]}"
    page.locator("[data-testid=m-report-description] textarea").fill(description)
    page.locator("[data-testid=m-report-address] input").fill("胜利路与淮河路交口")
    page.get_by_test_id("m-report-photos-input").set_input_files(
        {"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}
    )
    expect(page.get_by_test_id("m-report-photos")).to_have_attribute("data-count", "1")
    screenshot(page, "field-report")
    page.get_by_test_id("m-report-submit").click()
    if page.get_by_test_id("m-duplicates").is_visible():  # a demo case of the same kind nearby
        page.get_by_test_id("m-duplicate-anyway").click()

    expect(page.get_by_test_id("m-report-done")).to_contain_text("已上报")
    code = re.search(r"SJ\d+", page.get_by_test_id("m-report-code").inner_text())
    assert code is not None
    screenshot(page, "field-report-done")
    case = case_by_code(worker, code.group(0))
    assert (case["lon"], case["lat"], case["description"]) == (LON, LAT, description)
    assert case["status"] == "accepted"  # a grid worker's report in the own grid is accepted at once
    assert len(case["attachments"]) == 1 and case["attachments"][0]["content_type"] == "image/jpeg"

    # The inbox lists it under "to do" with its countdown.
    page.goto("/m/cases")
    item = page.get_by_test_id(f"m-case-{case['id']}")
    expect(item).to_contain_text("胜利路与淮河路交口")
    expect(item.locator("[data-role=m-case-status]")).to_have_text("已受理")
    expect(item.locator("[data-role=m-case-due]")).to_contain_text("剩")
    screenshot(page, "field-inbox")
    item.click()
    expect(page.get_by_test_id("m-case-status")).to_have_text("已受理")
    expect(page.get_by_test_id("m-case-photos").locator("img")).to_have_count(1)

    # Offline: the action waits on the phone.
    context.set_offline(True)
    page.get_by_test_id("m-action-start").click()
    confirm_dialog(page)
    expect(page.get_by_test_id("m-sync-banner")).to_contain_text("离线 · 1 项待同步")
    expect(page.get_by_test_id("m-case-waiting")).to_be_visible()
    expect(page.get_by_test_id("m-action-escalate")).to_be_disabled()
    screenshot(settled(page), "field-offline-queued")
    assert worker.get(f"/api/v1/cases/{case['id']}")["status"] == "accepted"
    # The inbox shows the last answer kept on the phone.
    page.locator(".van-nav-bar__left").click()
    page.wait_for_url("**/m/cases*")
    expect(page.get_by_test_id("m-cases-stale")).to_contain_text("离线数据")
    expect(page.get_by_test_id(f"m-case-{case['id']}").locator("[data-role=m-case-queued]")).to_have_text("等待同步")
    screenshot(settled(page), "field-inbox-offline")

    # Back online: the queue replays by itself (or "sync now"), and the server has the action once.
    context.set_offline(False)
    expect(page.get_by_test_id("m-sync-banner")).to_be_hidden()
    page.get_by_test_id(f"m-case-{case['id']}").click()
    expect(page.get_by_test_id("m-case-status")).to_have_text("处置中")
    after = worker.get(f"/api/v1/cases/{case['id']}")
    assert after["status"] == "in_progress"
    assert [e["action"] for e in after["timeline"]] == ["report", "start"]
    screenshot(settled(page), "field-synced")
    assert urls and not [u for u in urls if "element-plus" in u]  # the phone pages load no Element Plus


def test_an_action_queued_offline_conflicts_with_a_change_on_the_server(
    phone: tuple[BrowserContext, Page], worker: Api
) -> None:
    context, page = phone
    made = worker.post(
        "/api/v1/cases",
        {
            "category_code": "0503",
            "lon": LON,
            "lat": LAT,
            "description": f"违章搭建 {uuid.uuid4().hex[:6]}",
            "force_new": True,
        },
    )
    case_id = made["id"]
    sign_in(page, f"/m/cases/{case_id}")
    expect(page.get_by_test_id("m-case-status")).to_have_text("已受理")

    context.set_offline(True)
    page.get_by_test_id("m-action-start").click()
    confirm_dialog(page)
    expect(page.get_by_test_id("m-sync-banner")).to_contain_text("离线 · 1 项待同步")

    # Meanwhile the case moves on on the server.
    worker.post(f"/api/v1/cases/{case_id}/actions", {"action": "escalate", "note": "需社区协调拆除"})

    context.set_offline(False)
    expect(page.get_by_test_id("m-sync-problems")).to_contain_text("1 项未能同步")
    expect(page.get_by_test_id("m-case-status")).to_have_text("已上报")
    page.get_by_test_id("m-sync-text").click()
    page.wait_for_url("**/m/cases/outbox")
    item = page.locator("[data-role=m-outbox-item]")
    expect(item).to_have_attribute("data-state", "conflict")
    problem = item.locator("[data-role=m-outbox-problem]")
    expect(problem).to_contain_text("事件在此期间已有变化：gridworker 执行了「上报上级」")
    expect(problem).to_contain_text("changed since you loaded it")
    expect(item.locator("[data-role=m-outbox-status]")).to_contain_text("已上报")
    screenshot(settled(page), "field-conflict")

    detail = worker.get(f"/api/v1/cases/{case_id}")
    assert [e["action"] for e in detail["timeline"]] == ["report", "escalate"]  # the start was not applied

    item.locator("[data-role=m-outbox-discard]").click()
    confirm_dialog(page)
    expect(page.get_by_test_id("m-outbox-empty")).to_be_visible()
