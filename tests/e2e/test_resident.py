"""The resident's 随手拍 page (/r/, public) in a phone-sized Chromium against the demo city.

Scenario: a resident, not signed in, sees the city's districts on the map (no basemap is configured), is
warned off a pin outside the city, reports a problem anonymously with a pin in a named district and a
photo, keeps the tracking code, follows the case while the grid worker takes it to closed through the API, and
rates the result on the page.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from tests.e2e.conftest import screenshot
from tests.e2e.registry_seed import Api

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# In the demo grid worker's grid, so that account can take the case through to closed.
# A category the case e2e tests do not report near this grid's centre, so no "same problem" is offered.
LON, LAT = 117.47148, 32.93703
DISTRICT = "蚌山区"  # the district of that point in the demo city


@pytest.fixture
def resident_phone(browser: Browser, server_url: str) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="zh-CN",
        base_url=server_url,
    )
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"latitude": LAT, "longitude": LON, "accuracy": 20})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (60, 140, 90)).save(out, format="JPEG", quality=85)
    return out.getvalue()


def settled(page: Page) -> Page:
    expect(page.locator(".van-toast")).to_be_hidden()
    return page


def test_resident_reports_anonymously_tracks_and_rates(resident_phone: Page, server_url: str) -> None:
    page = resident_phone
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto("/r/")
    expect(page.get_by_test_id("r-report")).to_be_visible()
    expect(page).to_have_url(f"{server_url}/r/")  # public: no sign-in asked

    # The map opens on the whole city with its districts drawn (public boundaries, no sign-in).
    pin_map = page.get_by_test_id("r-map")
    expect(pin_map).to_have_attribute("data-ready", "true")
    expect(pin_map).to_have_attribute("data-areas", re.compile(r"^[1-9]\d*$"))
    assert any("/api/v1/public/map/areas" in u for u in urls)
    screenshot(page, "resident-map")

    # A tap in the map's margin (left of the city's frame) is outside the city: a clear warning, and the
    # report cannot be sent.
    pin_map.click(position={"x": 6, "y": 120})
    expect(pin_map).to_have_attribute("data-place", "outside")
    expect(page.get_by_test_id("r-outside")).to_contain_text("蚌埠市")
    expect(page.get_by_test_id("r-submit")).to_be_disabled()
    screenshot(page, "resident-outside")

    # The pin: "use my location" centres the map there, then a tap places the pin where the problem is;
    # the text under the map names its district.
    page.get_by_test_id("r-locate").click()
    expect(page.get_by_test_id("r-pin")).to_contain_text("已标记")
    expect(page.get_by_test_id("r-pin")).to_contain_text(DISTRICT)
    pin_map.click()
    expect(pin_map).to_have_attribute("data-pinned", "true")
    expect(pin_map).to_have_attribute("data-place", "area")
    expect(page.get_by_test_id("r-pin")).to_contain_text(DISTRICT)
    expect(page.get_by_test_id("r-outside")).to_have_count(0)
    expect(page.get_by_test_id("r-submit")).to_be_enabled()

    page.get_by_test_id("r-category").click()
    page.locator(".van-cascader__option", has_text="市容环境").click()
    page.locator(".van-cascader__option", has_text="环境污染").click()
    description = f"河边有股刺鼻的气味 {uuid.uuid4().hex[:6]}"
    page.locator("[data-testid=r-description] textarea").fill(description)
    page.locator("[data-testid=r-address] input").fill("小区北门旁")
    page.get_by_test_id("r-photos-input").set_input_files(
        {"name": "rubbish.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}
    )
    expect(page.get_by_test_id("r-photos")).to_have_attribute("data-count", "1")
    expect(page.locator("[data-testid=r-anonymous] .van-switch--on")).to_be_visible()  # anonymous by default
    screenshot(page, "resident-report")
    page.get_by_test_id("r-submit").click()
    if page.get_by_test_id("m-duplicates").is_visible():  # a demo case of the same kind nearby
        page.get_by_test_id("m-duplicate-anyway").click()

    expect(page.get_by_test_id("r-done")).to_contain_text("提交成功")
    token = page.get_by_test_id("r-token").inner_text().strip()
    assert len(token) >= 16
    code = page.get_by_test_id("r-done-code").inner_text().split()[-1]
    screenshot(settled(page), "resident-token")

    page.get_by_test_id("r-track-link").click()
    page.wait_for_url(f"**/r/track/{token}")
    expect(page.get_by_test_id("r-steps")).to_have_attribute("data-active", "0")
    expect(page.get_by_test_id("r-photos-shown").locator("img")).to_have_count(1)
    expect(page.get_by_test_id("r-track")).to_contain_text(description)

    # The grid worker takes the case through to closed.
    worker = Api(server_url, "gridworker")
    try:
        found = worker.get("/api/v1/cases", q=code)["items"]
        assert len(found) == 1
        case = worker.get(f"/api/v1/cases/{found[0]['id']}")
        assert case["anonymous"] is True and case["reporter_name"] is None
        assert abs(case["lon"] - LON) < 1e-3 and abs(case["lat"] - LAT) < 1e-3
        for action in (
            {"action": "accept"},
            {"action": "start"},
            {"action": "handle", "note": "已联系物业清运完毕"},
            {"action": "pass"},
        ):
            worker.post(f"/api/v1/cases/{case['id']}/actions", action)
    finally:
        worker.close()

    page.locator(".van-nav-bar__right").click()  # refresh
    expect(page.get_by_test_id("r-steps")).to_have_attribute("data-active", "4")
    expect(page.get_by_test_id("case-timeline")).to_contain_text("已联系物业清运完毕")
    expect(page.get_by_test_id("r-rate")).to_be_visible()
    page.locator("[data-testid=r-rate-stars] .van-rate__item").nth(3).click()
    page.locator("[data-testid=r-rate-comment] textarea").fill("处理及时")
    screenshot(page, "resident-rate")
    page.get_by_test_id("r-rate-submit").click()
    expect(page.get_by_test_id("r-rated")).to_contain_text("满意")
    expect(page.get_by_test_id("r-rate")).to_have_count(0)
    screenshot(settled(page), "resident-rated")

    worker = Api(server_url, "gridworker")
    try:
        assert worker.get(f"/api/v1/cases/{case['id']}")["satisfaction"] == 4
    finally:
        worker.close()

    # The device remembers the report.
    page.goto("/r/mine")
    expect(page.locator("[data-role=r-mine-item]").first).to_contain_text(code)
    assert not [u for u in urls if "element-plus" in u]  # a resident's phone loads no Element Plus
