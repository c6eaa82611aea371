"""The desktop case pages in Chromium against the demo city (with its case history; fixtures in conftest.py).

Scenarios: an operator filters and sorts the case list; a grid worker reports a case on the small map and
takes it through escalation, dispatch (lead and co-handler), signing, an extension asked and granted, a red
card, completion, verification and rating, each by the person whose turn it is; a report of the same problem
nearby offers the open case to follow (+1) or to report anyway; a stale page is refused and reloaded; a
photo in the timeline; hand-down to a lower rung; the supervision board; the case layer of the map.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.e2e.conftest import screenshot
from tests.e2e.registry_seed import PASSWORD, Api
from tests.support.photos import gps_jpeg

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def grid(server_url: str) -> dict[str, Any]:
    """The demo grid worker's grid, with its centre and extent."""
    worker = Api(server_url, "gridworker")
    try:
        division: dict[str, Any] = worker.get(f"/api/v1/geo/divisions/{worker.me['scope']['division_code']}")
        return division
    finally:
        worker.close()


def point(grid: dict[str, Any], fx: float, fy: float) -> tuple[float, float]:
    """A point of the grid: the centre moved by fractions of its extent (within ±0.15, inside the demo's grids)."""
    dx, dy = grid["max_lon"] - grid["min_lon"], grid["max_lat"] - grid["min_lat"]
    return round(grid["centroid_lon"] + fx * dx, 6), round(grid["centroid_lat"] + fy * dy, 6)


@pytest.fixture
def as_user(browser: Browser, server_url: str) -> Iterator[Callable[[str], Page]]:
    """A signed-in page per demo user (each in its own browser context)."""
    contexts = []

    def open_as(username: str) -> Page:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", base_url=server_url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_test_id("login-username").fill(username)
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    yield open_as
    for context in contexts:
        context.close()


def api_report(server_url: str, username: str, category: str, at: tuple[float, float], **extra: Any) -> dict[str, Any]:
    api = Api(server_url, username)
    try:
        body = {"category_code": category, "lon": at[0], "lat": at[1], "description": "e2e", "force_new": True, **extra}
        case: dict[str, Any] = api.post("/api/v1/cases", body)["case"]
        return case
    finally:
        api.close()


def api_act(server_url: str, username: str, case_id: int, action: str, **extra: Any) -> dict[str, Any]:
    api = Api(server_url, username)
    try:
        case: dict[str, Any] = api.post(f"/api/v1/cases/{case_id}/actions", {"action": action, **extra})["case"]
        return case
    finally:
        api.close()


def field(page: Page, testid: str) -> Locator:
    """The native input or textarea of an Element Plus field carrying `testid` (on itself or its wrapper)."""
    return page.locator(
        f"input[data-testid={testid}], textarea[data-testid={testid}], [data-testid={testid}] input"
    ).first


def choose(page: Page, testid: str, option: str) -> None:
    page.get_by_test_id(testid).click()
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def pick_category(page: Page, scope: Locator, name: str) -> None:
    scope.get_by_test_id("case-category").locator("input").first.fill(name)
    page.locator(".el-cascader__suggestion-item:visible", has_text=name).first.click()


def open_case(page: Page, case_id: int, status: str | None = None) -> Locator:
    page.goto(f"/cases/{case_id}")
    detail = page.get_by_test_id("case-detail")
    expect(detail).to_have_attribute("data-status", status or re.compile(".+"))
    return detail


def act(page: Page, action: str, note: str | None = None, fill: Callable[[Locator], None] | None = None) -> None:
    """Click the action's button, fill its small form and send it; wait for the dialog to close."""
    page.get_by_test_id(f"case-action-{action}").click()
    dialog = page.locator(f"[data-testid=case-action-dialog][data-action={action}]")
    expect(dialog).to_be_visible()
    if fill:
        fill(dialog)
    if note:
        dialog.locator("textarea").fill(note)
    dialog.get_by_test_id("case-action-submit").click()
    try:
        expect(dialog).to_be_hidden(timeout=30_000)
    except AssertionError as error:
        screenshot(page, f"failed-{action}")
        raise AssertionError(f"{action} was refused: {page.locator('.el-message').all_inner_texts()}") from error


def steps(page: Page) -> list[str]:
    return page.get_by_test_id("case-step").evaluate_all("els => els.map(e => e.dataset.action)")


def test_operator_filters_and_sorts_the_case_list(as_user: Callable[[str], Page]) -> None:
    page = as_user("operator")
    page.get_by_test_id("menu-cases").click()
    page.wait_for_url("**/cases")
    table = page.get_by_test_id("cases-table")
    expect(table.get_by_test_id("case-row-code").first).to_be_visible()
    expect(page.get_by_test_id("cases-pager")).to_contain_text(re.compile(r"共\s*[\d,]+\s*条"))
    screenshot(page, "cases-list")
    # Open and overdue only: every row is marked overdue.
    page.get_by_test_id("case-filter-open").click()
    page.get_by_test_id("case-filter-overdue").click()
    with page.expect_request(
        lambda r: "/api/v1/cases?" in r.url and "overdue=true" in r.url and "open_only=true" in r.url
    ):
        page.get_by_test_id("case-search").click()
    expect(table.locator("[data-testid=case-due][data-overdue=false]")).to_have_count(0)
    expect(table.locator("[data-testid=case-due][data-overdue=true]").first).to_be_visible()
    screenshot(page, "cases-list-overdue")
    # An area at district level, a category class and a status go to the API as filters.
    page.get_by_test_id("case-reset").click()
    page.get_by_test_id("case-area").click()
    page.locator(".el-cascader-panel:visible .el-cascader-node").first.locator(".el-radio").click()
    choose(page, "case-filter-status", "已结案")
    with page.expect_request(lambda r: "district_code=" in r.url and "status=closed" in r.url):
        page.get_by_test_id("case-search").click()
    expect(table.locator("[data-testid=case-status]:not([data-status=closed])")).to_have_count(0)
    expect(table.locator("[data-testid=case-status][data-status=closed]").first).to_be_visible()
    # Sorting is the server's.
    with page.expect_request(lambda r: "sort=reported_at" in r.url):
        table.locator("th", has_text="上报时间").click()
    # A case code finds its case.
    code = table.get_by_test_id("case-row-code").first.inner_text()
    page.get_by_test_id("case-reset").click()
    field(page, "case-filter-text").fill(code)
    page.get_by_test_id("case-search").click()
    expect(table.get_by_test_id("case-row-code")).to_have_count(1)
    table.get_by_test_id("case-row-code").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(page.get_by_test_id("case-code")).to_have_text(code)


def report_in_dialog(page: Page, category: str, at: tuple[float, float], description: str) -> Locator:
    page.goto("/cases")
    page.get_by_test_id("case-report").click()
    dialog = page.get_by_test_id("case-report-dialog")
    expect(dialog).to_be_visible()
    pick_category(page, dialog, category)
    field(page, "case-report-lon").fill(str(at[0]))
    field(page, "case-report-lat").fill(str(at[1]))
    field(page, "case-report-description").fill(description)
    return dialog


def test_a_case_from_report_to_rating_each_step_by_its_person(
    as_user: Callable[[str], Page], grid: dict[str, Any], server_url: str
) -> None:
    worker = as_user("gridworker")
    worker.goto("/cases")
    worker.get_by_test_id("case-report").click()
    dialog = worker.get_by_test_id("case-report-dialog")
    # Submitting empty says what is missing; a click on the map picks the point.
    dialog.get_by_test_id("case-report-submit").click()
    expect(dialog).to_contain_text("请选择事件类别")
    expect(dialog).to_contain_text("请在地图上选点或填写经纬度")
    small_map = dialog.get_by_test_id("case-map")
    expect(small_map).to_be_visible()
    worker.wait_for_timeout(800)  # the grid outlines load and the map fits them
    small_map.click()
    expect(small_map).to_have_attribute("data-point", re.compile(r"^117\.\d+,3[23]\.\d+$"))
    pick_category(worker, dialog, "井盖缺失破损")
    at = point(grid, 0.1, -0.1)
    field(worker, "case-report-lon").fill(str(at[0]))
    field(worker, "case-report-lat").fill(str(at[1]))
    field(worker, "case-report-description").fill("人行道井盖破损，有行人绊倒的危险")
    field(worker, "case-report-address").fill("胜利路88号东侧")
    screenshot(worker, "case-report-dialog")
    dialog.get_by_test_id("case-report-submit").click()
    if worker.get_by_test_id("case-duplicates").is_visible():  # the demo history may have one open nearby
        worker.get_by_test_id("case-report-anyway").click()
    worker.wait_for_url(re.compile(r"/cases/\d+$"))
    case_id = int(worker.url.rsplit("/", 1)[1])
    detail = worker.get_by_test_id("case-detail")
    expect(detail).to_have_attribute("data-status", "accepted")
    expect(worker.get_by_test_id("case-area-name")).to_contain_text(grid["name"])
    # A note is required to escalate; the form says so before sending.
    worker.get_by_test_id("case-action-escalate").click()
    escalate = worker.locator("[data-testid=case-action-dialog][data-action=escalate]")
    escalate.get_by_test_id("case-action-submit").click()
    expect(escalate).to_contain_text("此操作需要填写说明")
    escalate.locator("textarea").fill("需要城管部门更换井盖")
    escalate.get_by_test_id("case-action-submit").click()
    expect(detail).to_have_attribute("data-status", "escalated")

    community = as_user("community")
    open_case(community, case_id, "escalated")
    community.get_by_test_id("case-action-dispatch").click()
    dispatch = community.locator("[data-testid=case-action-dialog][data-action=dispatch]")
    lead = dispatch.get_by_test_id("case-dispatch-lead")
    expect(lead).to_contain_text("城市管理")
    dispatch.get_by_test_id("case-dispatch-co").locator("input").fill("市公安局")
    community.locator(".el-select-dropdown__item:visible").get_by_text("市公安局", exact=True).click()
    dispatch.locator(".el-dialog__title").click()  # closes the options
    expect(community.locator(".el-select-dropdown__item:visible")).to_have_count(0)
    screenshot(community, "case-dispatch-dialog")
    dispatch.get_by_test_id("case-action-submit").click()
    expect(community.get_by_test_id("case-detail")).to_have_attribute("data-status", "dispatched")
    roles = community.get_by_test_id("case-department").evaluate_all("els => els.map(e => e.dataset.role)")
    assert roles == ["lead", "co"]

    urban = as_user("urban")
    open_case(urban, case_id, "dispatched")
    act(urban, "sign")
    act(urban, "request_extension", "需要采购新井盖", lambda d: field(urban, "case-action-days").fill("2"))
    expect(urban.get_by_test_id("case-extension")).to_have_attribute("data-status", "pending")

    open_case(community, case_id)
    act(community, "decide_extension", "同意", lambda d: d.get_by_text("批准", exact=True).click())
    expect(community.get_by_test_id("case-extension")).to_have_attribute("data-status", "granted")

    district = as_user("operator.district")
    open_case(district, case_id)
    act(district, "supervise", "请加快办理", lambda d: d.get_by_text("红牌", exact=True).click())
    expect(district.get_by_test_id("case-detail").get_by_test_id("case-card").first).to_have_attribute(
        "data-card", "red"
    )

    police = as_user("police")  # the co-handler reports before the lead may complete
    open_case(police, case_id)
    act(police, "co_report", "周边无治安隐患")

    open_case(urban, case_id)
    act(urban, "handle", "已更换新井盖")
    expect(urban.get_by_test_id("case-detail")).to_have_attribute("data-status", "handled")

    open_case(worker, case_id, "handled")
    act(worker, "pass", "现场核查，井盖已更换")
    expect(detail).to_have_attribute("data-status", "closed")
    act(worker, "rate", fill=lambda d: d.get_by_test_id("case-action-stars").locator(".el-rate__item").nth(3).click())
    expect(worker.get_by_test_id("case-facts")).to_contain_text("满意度")
    expected = "report escalate dispatch sign request_extension decide_extension supervise co_report handle pass rate"
    assert steps(worker) == expected.split()
    timeline = worker.get_by_test_id("case-timeline")
    for label in [
        "登记",
        "上报",
        "派遣",
        "签收",
        "申请延期",
        "审批延期",
        "督办",
        "办结",
        "核查通过",
        "评价",
        "层级：网格 → 社区/村",
    ]:
        expect(timeline).to_contain_text(label)
    expect(worker.locator(".el-message")).to_have_count(0, timeout=10_000)  # the toasts have gone
    screenshot(worker, "case-detail-closed")


def test_the_same_problem_nearby_is_followed_or_reported_anyway(
    as_user: Callable[[str], Page], grid: dict[str, Any], server_url: str
) -> None:
    at = point(grid, -0.1, 0.1)
    first = api_report(server_url, "gridworker", "0502", at)
    page = as_user("gridworker")
    dialog = report_in_dialog(page, "垃圾堆放", at, "楼下垃圾堆放多日")
    dialog.get_by_test_id("case-report-submit").click()
    duplicates = page.get_by_test_id("case-duplicates")
    expect(duplicates).to_be_visible()
    expect(duplicates.locator(f"[data-testid=case-duplicate][data-id='{first['id']}']")).to_contain_text(first["code"])
    screenshot(page, "case-report-duplicates")
    duplicates.locator(f"[data-testid=case-duplicate][data-id='{first['id']}']").get_by_test_id(
        "case-duplicate-follow"
    ).click()
    page.wait_for_url(f"**/cases/{first['id']}")
    expect(page.get_by_test_id("case-facts")).to_contain_text("附议")
    dialog = report_in_dialog(page, "垃圾堆放", at, "另一堆垃圾，不是同一处")
    dialog.get_by_test_id("case-report-submit").click()
    expect(page.get_by_test_id("case-duplicates")).to_be_visible()
    page.get_by_test_id("case-report-anyway").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    assert int(page.url.rsplit("/", 1)[1]) != first["id"]
    expect(page.get_by_test_id("case-detail")).to_have_attribute("data-status", "accepted")


def test_a_stale_page_is_refused_and_reloaded_and_photos_show(
    as_user: Callable[[str], Page], grid: dict[str, Any], server_url: str
) -> None:
    case = api_report(server_url, "gridworker", "0505", point(grid, 0.1, 0.1))
    page = as_user("gridworker")
    open_case(page, case["id"], "accepted")
    # Meanwhile the case changes elsewhere (a comment with a photo).
    api = Api(server_url, "gridworker")
    try:
        upload = api.client.post(
            "/api/v1/cases/attachments", content=gps_jpeg(), headers={"Content-Type": "image/jpeg"}
        )
        assert upload.status_code == 201, upload.text
    finally:
        api.close()
    api_act(server_url, "gridworker", case["id"], "comment", note="现场照片", attachment_ids=[upload.json()["id"]])
    page.get_by_test_id("case-action-start").click()
    page.locator("[data-testid=case-action-dialog][data-action=start]").get_by_test_id("case-action-submit").click()
    expect(page.locator(".el-message--warning")).to_contain_text("changed since you loaded it")
    expect(page.get_by_test_id("case-detail")).to_have_attribute("data-version", str(case["version"] + 1))
    assert steps(page) == ["report", "comment"]
    photo = page.get_by_test_id("case-timeline").get_by_test_id("case-photo")
    expect(photo).to_have_attribute("data-loaded", "true")
    screenshot(page, "case-stale-reloaded")
    photo.click()
    expect(page.locator(".el-image-viewer__canvas img")).to_be_visible()
    page.keyboard.press("Escape")
    # Now the start goes through.
    act(page, "start")
    expect(page.get_by_test_id("case-detail")).to_have_attribute("data-status", "in_progress")


def test_a_district_centre_hands_a_case_down(
    as_user: Callable[[str], Page], grid: dict[str, Any], server_url: str
) -> None:
    case = api_report(server_url, "gridworker", "0503", point(grid, -0.1, -0.1))
    api_act(server_url, "gridworker", case["id"], "escalate", note="需街道协调")
    api_act(server_url, "community", case["id"], "escalate", note="社区无法处理")
    page = as_user("operator.district")
    open_case(page, case["id"], "escalated")
    page.get_by_test_id("case-action-hand_down").click()
    dialog = page.locator("[data-testid=case-action-dialog][data-action=hand_down]")
    dialog.get_by_test_id("case-action-level").click()
    options = page.locator(".el-select-dropdown__item:visible")
    expect(options).to_have_text(["社区/村", "网格"])
    options.first.click()
    dialog.get_by_test_id("case-action-submit").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("case-facts")).to_contain_text("社区/村")
    expect(page.get_by_test_id("case-timeline")).to_contain_text("层级：街道/乡镇 → 社区/村")


def test_the_supervision_board(as_user: Callable[[str], Page]) -> None:
    page = as_user("operator")
    page.get_by_test_id("menu-supervision").click()
    page.wait_for_url("**/cases/supervision")
    board = page.get_by_test_id("supervision-board")
    expect(page.get_by_test_id("board-open")).to_have_attribute("data-value", re.compile(r"^[1-9]\d*$"))
    expect(board.get_by_test_id("board-by-level")).to_contain_text("网格")
    expect(board.get_by_test_id("board-carded").get_by_test_id("case-row-code").first).to_be_visible()
    screenshot(page, "cases-supervision-board")


def test_the_case_layer_on_the_map(as_user: Callable[[str], Page], server_url: str) -> None:
    page = as_user("operator.district")
    page.goto("/map")
    page.wait_for_selector("[data-testid=map-container][data-loading=false]", timeout=20_000)
    layer = page.get_by_test_id("map-case-layer")
    page.get_by_test_id("map-case-toggle").click()
    expect(layer).to_have_attribute("data-state", "ready")
    shown, total = int(layer.get_attribute("data-shown") or 0), int(layer.get_attribute("data-total") or 0)
    assert 0 < shown <= 500
    status = page.get_by_test_id("map-case-status")
    expect(status).to_contain_text(f"共 {total} 个" if total > shown else f"显示 {shown} 个")
    screenshot(page, "map-case-layer")
    api = Api(server_url, "operator.district")
    try:
        case = api.get("/api/v1/cases", open_only=True, page_size=1)["items"][0]
    finally:
        api.close()
    page.evaluate(
        "([lon, lat]) => window.__civicgridMap.jumpTo({ center: [lon, lat], zoom: 18 })", [case["lon"], case["lat"]]
    )
    expect(layer).to_have_attribute("data-state", "ready")
    page.wait_for_timeout(500)
    box = page.get_by_test_id("map-container").bounding_box()
    assert box is not None
    xy = page.evaluate(
        "([lon, lat]) => { const p = window.__civicgridMap.project([lon, lat]); return [p.x, p.y] }",
        [case["lon"], case["lat"]],
    )
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    popup = page.get_by_test_id("case-popup")
    expect(popup).to_be_visible()
    screenshot(page, "map-case-popup")
    code = popup.locator("div").first.inner_text()
    popup.get_by_test_id("case-popup-link").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    expect(page.get_by_test_id("case-code")).to_have_text(code)
