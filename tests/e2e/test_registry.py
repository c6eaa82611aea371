"""The registry UI in Chromium against the demo city (fixtures in conftest.py, data from registry_seed.py).

Scenarios: a grid worker filters people, opens one and reveals the full data with a purpose (audited); an
exact lookup; registering a person and a house on the phone pages (390×844); an operator's special-care
dashboard and recording a visit; the house layer of the map.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.e2e.conftest import screenshot
from tests.e2e.registry_seed import PASSWORD, Api, Seeded, seed

from civicgrid.core.idnumber import Sex, make_id_number

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def registry(server_url: str) -> Seeded:
    return seed(server_url)


def log_in(page: Page, username: str, landing: str = "/map") -> None:
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"**{landing}")


@pytest.fixture
def phone(browser: Browser, server_url: str) -> Iterator[Page]:
    """A phone-sized page that may read its position (a point in the grid worker's grid)."""
    context: BrowserContext = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="zh-CN",
        base_url=server_url,
        geolocation={"latitude": 32.93703, "longitude": 117.47148, "accuracy": 15},
        permissions=["geolocation"],
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def audit_record(server_url: str, seq: int) -> dict[str, Any]:
    auditor = Api(server_url, "auditor")
    try:
        items: list[dict[str, Any]] = auditor.get(
            "/api/v1/audit/records", action="person.reveal", page_size=200, sort="-seq"
        )["items"]
    finally:
        auditor.close()
    return next(r for r in items if r["seq"] == seq)


def test_grid_worker_filters_people_and_reveals_with_a_purpose(page: Page, server_url: str, registry: Seeded) -> None:
    person = registry.people[0]
    plain = registry.plain[person["id"]]
    log_in(page, "gridworker")
    page.get_by_test_id("menu-people").click()
    page.wait_for_url("**/registry/people")
    names = page.locator("[data-testid=people-table] [data-testid=person-row-name]")
    expect(names.first).to_be_visible()
    # Masked everywhere: 340303********1234, 139****5678.
    expect(page.get_by_test_id("people-table")).to_contain_text(re.compile(r"340303\*{8}\d{3}[\dX]"))
    expect(page.get_by_test_id("people-table")).not_to_contain_text(plain["id_number"])

    page.get_by_test_id("people-filter-name").fill(plain["name"][0])
    page.get_by_test_id("people-search").click()
    expect(names.first).to_have_text(re.compile("^" + plain["name"][0]))
    for text in names.all_inner_texts():
        assert text.startswith(plain["name"][0])
    screenshot(page, "registry-people-filtered")

    page.locator(f"[data-testid=person-row-name][data-id='{person['id']}']").click()
    page.wait_for_url(f"**/registry/people/{person['id']}")
    expect(page.get_by_test_id("person-field-id_number")).to_contain_text("********")
    expect(page.get_by_test_id("residence-timeline")).to_be_visible()
    screenshot(page, "registry-person-detail")

    page.get_by_test_id("person-reveal").click()
    dialog = page.get_by_test_id("reveal-dialog")
    page.get_by_test_id("reveal-submit").click()
    expect(dialog).to_contain_text("请填写查看目的")
    purpose = "核实身份办理低保申请（端到端测试）"
    page.get_by_test_id("reveal-purpose").fill(purpose)
    page.get_by_test_id("reveal-submit").click()
    audited = page.get_by_test_id("reveal-audited")
    expect(audited).to_contain_text("本次查看已记入审计日志")
    expect(page.get_by_test_id("reveal-name")).to_have_text(plain["name"])
    expect(page.get_by_test_id("reveal-id-number")).to_have_text(plain["id_number"])
    expect(page.get_by_test_id("reveal-phone")).to_have_text(plain["phone"])
    seq = int(audited.get_attribute("data-seq") or "0")
    expect(audited).to_contain_text(f"审计编号 {seq}")
    screenshot(page, "registry-person-revealed")

    record = audit_record(server_url, seq)
    assert record["purpose"] == purpose
    assert str(record["object_id"]) == str(person["id"])

    # Closing forgets the values.
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("reveal-name")).to_have_count(0)


def test_exact_lookup_sends_the_number_in_the_body(page: Page, registry: Seeded) -> None:
    person = registry.people[1]
    phone_number = registry.plain[person["id"]]["phone"]
    log_in(page, "gridworker")
    page.goto("/registry/people")
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.get_by_test_id("people-lookup").fill(phone_number)
    page.get_by_test_id("people-lookup-submit").click()
    expect(page.get_by_test_id("people-lookup-banner")).to_contain_text("1 人")
    expect(page.locator("[data-testid=person-row-name]")).to_have_count(1)
    # Found by the number, which went in the POST body: no URL carried it.
    assert any(url.endswith("/registry/people/lookup") for url in urls)
    assert all(phone_number not in url for url in urls)


def test_grid_worker_registers_a_person_on_the_phone(phone: Page, server_url: str, registry: Seeded) -> None:
    phone.goto("/m/person")
    expect(phone).to_have_url(re.compile(r"/login\?redirect=%2Fm%2Fperson|/login\?redirect=/m/person"))
    phone.get_by_test_id("login-username").fill("gridworker")
    phone.get_by_test_id("login-password").fill(PASSWORD)
    phone.get_by_test_id("login-submit").click()
    phone.wait_for_url("**/m/person")
    expect(phone.get_by_test_id("m-person")).to_be_visible()

    id_number = make_id_number("340303", date(1992, 3, 14), 357, Sex.male)
    phone.locator("[data-testid=m-person-name] input").fill("端木新民")
    # A typo first: the check character is caught before anything is sent.
    wrong = id_number[:17] + ("0" if id_number[17] != "0" else "1")
    phone.locator("[data-testid=m-person-id] input").fill(wrong)
    expect(phone.get_by_test_id("m-person-id")).to_contain_text("校验位应为")
    phone.locator("[data-testid=m-person-id] input").fill(id_number)
    phone.locator("[data-testid=m-person-phone] input").click()  # leaving the field fills sex and birth date
    expect(phone.locator("[data-testid=m-person-birth] input")).to_have_value("1992-03-14")
    expect(phone.locator("[data-testid=m-person-sex] input")).to_have_value("男")
    phone.locator("[data-testid=m-person-phone] input").fill("13955501234")
    phone.get_by_test_id("m-person-house").click()
    phone.locator(".van-picker__confirm").click()  # the first entry: no house, the worker's own grid
    screenshot(phone, "mobile-register-person")
    phone.get_by_test_id("m-person-submit").click()

    expect(phone.get_by_test_id("m-person-done")).to_contain_text("等待社区审核")
    expect(phone.get_by_test_id("m-person-done-name")).to_contain_text("端**民")
    screenshot(phone, "mobile-register-person-done")

    worker = Api(server_url, "gridworker")
    try:
        found = worker.client.post("/api/v1/registry/people/lookup", json={"id_number": id_number}).json()
    finally:
        worker.close()
    assert len(found) == 1 and found[0]["review_status"] == "pending"
    assert found[0]["grid_code"] == registry.grid_code


def test_grid_worker_registers_a_house_with_the_phone_location(phone: Page, server_url: str) -> None:
    phone.goto("/m/")
    phone.get_by_test_id("login-username").fill("gridworker")
    phone.get_by_test_id("login-password").fill(PASSWORD)
    phone.get_by_test_id("login-submit").click()
    phone.wait_for_url("**/m/")
    expect(phone.get_by_test_id("m-overdue")).to_be_visible()
    screenshot(phone, "mobile-home")
    phone.get_by_test_id("m-register-house").click()
    phone.wait_for_url("**/m/house")

    phone.locator("[data-testid=m-house-street] input").fill("胜利路88号")
    phone.locator("[data-testid=m-house-room] input").fill("1502")
    phone.get_by_test_id("m-house-locate").click()
    expect(phone.get_by_test_id("m-house-location-note")).to_contain_text("已定位")
    expect(phone.locator("[data-testid=m-house-lon] input")).to_have_value("117.47148")
    expect(phone.locator("[data-testid=m-house-lat] input")).to_have_value("32.93703")
    screenshot(phone, "mobile-register-house")
    phone.get_by_test_id("m-house-submit").click()
    expect(phone.get_by_test_id("m-house-done")).to_contain_text("胜利路88号")
    screenshot(phone, "mobile-register-house-done")

    worker = Api(server_url, "gridworker")
    try:
        houses = worker.get("/api/v1/registry/houses", address="胜利路88号")["items"]
    finally:
        worker.close()
    assert [(h["room"], h["lon"], h["lat"]) for h in houses] == [("1502", 117.47148, 32.93703)]


def test_operator_opens_the_special_care_dashboard(page: Page, registry: Seeded) -> None:
    log_in(page, "operator")
    page.get_by_test_id("menu-care").click()
    page.wait_for_url("**/registry/care")
    chart = page.get_by_test_id("care-chart")
    expect(chart).to_be_visible()
    assert int(chart.get_attribute("data-bars") or "0") >= 1
    overdue = page.locator("[data-testid=care-grid-table] [data-testid=care-grid-overdue]")
    expect(overdue.first).to_be_visible()
    counts = [int(x) for x in overdue.all_inner_texts()]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    expect(page.locator("[data-testid=care-row-overdue]").first).to_contain_text("天")
    screenshot(page, "registry-care-dashboard")

    page.get_by_test_id("care-filter-overdue").click()
    page.get_by_test_id("care-search").click()
    page.locator("[data-testid=care-row-person]").first.click()
    page.wait_for_url(re.compile(r".*/registry/care/\d+$"))
    expect(page.get_by_test_id("care-items")).to_be_visible()
    visits = page.locator("[data-testid=care-visits] .el-timeline-item")
    before = visits.count()
    page.get_by_test_id("care-record-visit").click()
    page.locator("[data-testid=visit-findings]").fill("入户走访，情况稳定，已按时服药。")
    page.get_by_test_id("visit-save").click()
    expect(visits).to_have_count(before + 1)
    expect(page.get_by_test_id("care-overdue")).to_have_count(0)
    screenshot(page, "registry-care-record")


def test_house_layer_on_the_map(page: Page, registry: Seeded) -> None:
    log_in(page, "gridworker")
    page.wait_for_selector("[data-testid=map-container][data-loading=false]", timeout=20_000)
    page.get_by_test_id("map-house-toggle").click()
    container = page.get_by_test_id("map-container")
    expect(container).to_have_attribute("data-house-layer", "ready")
    expect(container).to_have_attribute("data-house-mode", "houses")
    assert int(container.get_attribute("data-house-count") or "0") >= 12
    screenshot(page, "map-house-layer")

    house = registry.houses[0]
    page.evaluate(
        "([lon, lat]) => window.__civicgridMap.jumpTo({ center: [lon, lat], zoom: 18 })", [house["lon"], house["lat"]]
    )
    page.wait_for_function("() => window.__civicgridMap.loaded() && !window.__civicgridMap.isMoving()")
    page.wait_for_timeout(500)
    point = page.evaluate(
        "([lon, lat]) => { const p = window.__civicgridMap.project([lon, lat]); return [p.x, p.y] }",
        [house["lon"], house["lat"]],
    )
    container.click(position={"x": point[0], "y": point[1]})
    popup = page.get_by_test_id("house-popup")
    expect(popup).to_contain_text(house["street_address"])
    screenshot(page, "map-house-popup")
    page.get_by_test_id("house-popup-link").click()
    page.wait_for_url(f"**/registry/houses/{house['id']}")
    expect(page.get_by_test_id("house-address")).to_contain_text(house["street_address"])


def test_house_layer_counts_per_grid_when_zoomed_out(page: Page, registry: Seeded) -> None:
    log_in(page, "operator")
    page.wait_for_selector("[data-testid=map-container][data-loading=false]", timeout=20_000)
    grid = registry.houses[-1]
    page.evaluate(
        "([lon, lat]) => window.__civicgridMap.jumpTo({ center: [lon, lat], zoom: 12.5 })", [grid["lon"], grid["lat"]]
    )
    page.get_by_test_id("map-house-toggle").click()
    container = page.get_by_test_id("map-container")
    expect(container).to_have_attribute("data-house-mode", "grids")
    expect(container).to_have_attribute("data-house-layer", "ready")
    assert int(container.get_attribute("data-house-count") or "0") >= 3
    expect(page.get_by_test_id("map-house-status")).to_contain_text("各网格房屋数")
    screenshot(page, "map-house-grid-counts")
