"""The safety pages in Chromium against the demo city with its police calls (fixtures in conftest.py).

Scenarios: the index map colours the districts by band beside the ranking, a click on a district shows its
streets (and the breadcrumb goes back up), the explanation drawer lists the components with their baselines
and draws the contributions and the trend; community staff see the grids of their community; a warning's
evidence is explained and it is acknowledged, turned into a case (with a link to the case page) and closed
with a note; the hotspot forecast flags units on the map; a feed mapping is saved and a file imported with
its problems listed row by row. Screenshots: safety-index, safety-index-streets, safety-explain,
safety-index-community, safety-warnings, safety-warning, safety-warning-case, safety-hotspots,
safety-feeds-mapping, safety-feeds-import, safety-feeds-incidents.

The demo's scores and warnings come from the server's scheduled jobs; so that these tests need not wait for
them, a module fixture computes the monthly index of the last 13 months and detects the surges of the last
60 days with the `civicgrid safety` commands when the demo holds none yet.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.e2e.conftest import REPO, screenshot
from tests.e2e.registry_seed import PASSWORD, Api

pytestmark = pytest.mark.e2e

# Assertions that wait for the server (a page's data, an action's answer) allow for a busy machine.
LOAD_MS = 30_000


# -- data ---------------------------------------------------------------------------------------------------


def _data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo server's data directory (made by the `server_url` fixture under this session's base temp)."""
    found = sorted(p for p in tmp_path_factory.getbasetemp().glob("e2e-city*") if (p / "server.log").exists())
    assert found, "the demo server's data directory was not found"
    return found[-1]


def _command(data_dir: Path, *args: str) -> None:
    env = {
        **os.environ,
        "CIVICGRID_MODE": "demo",
        "CIVICGRID_DATA_DIR": str(data_dir),
        "CIVICGRID_LOG_LEVEL": "WARNING",
    }
    env.pop("CIVICGRID_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "civicgrid", "safety", *args], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, (
        f"civicgrid safety {' '.join(args)} failed: {done.stdout[-1500:]} {done.stderr[-1500:]}"
    )


@pytest.fixture(scope="module")
def safety_data(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Monthly scores for every area and open surge warnings (computed here when the demo has none yet)."""
    api = Api(server_url, "operator")
    try:
        index = api.get("/api/v1/safety/index", period="month")
        if not index["areas"]:
            first = (date.today().replace(day=1) - timedelta(days=370)).replace(day=1)
            _command(
                _data_dir(tmp_path_factory), "rebuild", "--from", first.isoformat(), "--period", "month", "--no-recount"
            )
            index = api.get("/api/v1/safety/index", period="month")
        assert index["areas"], "no monthly index for the districts"
        surges = api.get("/api/v1/safety/warnings", status="open", kind="surge", page_size=50)
        if surges["total"] < 4:
            yesterday = date.today() - timedelta(days=1)
            _command(
                _data_dir(tmp_path_factory),
                "detect",
                "--from",
                (yesterday - timedelta(days=60)).isoformat(),
                "--to",
                yesterday.isoformat(),
            )
            surges = api.get("/api/v1/safety/warnings", status="open", kind="surge", page_size=50)
        assert surges["total"] >= 3, "the demo's planted surges raised no warnings"
        return {"index": index, "surges": surges["items"]}
    finally:
        api.close()


@pytest.fixture
def as_user(browser: Browser, server_url: str) -> Iterator[Callable[[str], Page]]:
    """A signed-in page per demo user (each in its own browser context)."""
    contexts = []

    def open_as(username: str) -> Page:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", base_url=server_url)
        context.set_default_timeout(20_000)
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


def field(page: Page | Locator, testid: str) -> Locator:
    """The native input or textarea of an Element Plus field carrying `testid` (on itself or its wrapper)."""
    return page.locator(
        f"input[data-testid={testid}], textarea[data-testid={testid}], [data-testid={testid}] input, "
        f"[data-testid={testid}] textarea"
    ).first


# -- the index ----------------------------------------------------------------------------------------------


def area_map(page: Page) -> Locator:
    return page.get_by_test_id("safety-map")


def expect_map_drawn(page: Page, level: str) -> int:
    """The map shows `level`, every area drawn has a band; returns how many areas it draws."""
    m = area_map(page)
    expect(m).to_have_attribute("data-level", level, timeout=LOAD_MS)
    expect(m).to_have_attribute("data-loading", "false", timeout=LOAD_MS)
    expect(m).not_to_have_attribute("data-feature-count", "0", timeout=LOAD_MS)
    expect(page.get_by_test_id("safety-row-name").first).to_be_visible(timeout=LOAD_MS)
    count = int(m.get_attribute("data-feature-count") or 0)
    expect(m).to_have_attribute("data-coloured", str(count), timeout=LOAD_MS)
    return count


def click_area(page: Page, code: str) -> None:
    point = page.evaluate("code => window.__safetyMapDebug.screenPoint(code)", code)
    assert point, f"{code} is not drawn"
    box = area_map(page).bounding_box()
    assert box
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])


def test_index_map_colours_the_districts_and_drills_down_to_streets(
    safety_data: dict[str, Any], as_user: Callable[[str], Page]
) -> None:
    page = as_user("operator")
    page.get_by_test_id("menu-safety").click()
    page.wait_for_url(re.compile(r"/safety\?period=month&date=\d{4}-\d{2}-01"))
    districts = expect_map_drawn(page, "district")
    assert districts == len(safety_data["index"]["areas"])
    expect(page.get_by_test_id("safety-row-band").first).to_have_attribute(
        "data-band", re.compile("green|yellow|orange|red")
    )
    expect(page.get_by_test_id("period-label")).to_contain_text("月")
    expect(page.get_by_test_id("safety-legend")).to_contain_text("绿色")
    expect(page.get_by_test_id("safety-trail-current")).to_have_text("蚌埠市")
    screenshot(page, "safety-index")

    # A district clicked on the map: its streets, named in the breadcrumb and listed in the ranking.
    codes: list[str] = page.evaluate("() => window.__safetyMapDebug.codes()")
    box = area_map(page).bounding_box()
    assert box
    # One whose name sits clear of the legend in the lower left corner.
    chosen = next(
        c
        for c in codes
        if (p := page.evaluate("code => window.__safetyMapDebug.screenPoint(code)", c))
        and (p[0] > 200 or p[1] < box["height"] - 200)
    )
    name = next(a["name"] for a in safety_data["index"]["areas"] if a["code"] == chosen)
    with page.expect_request(lambda r: "/api/v1/safety/index?" in r.url and f"parent={chosen}" in r.url):
        click_area(page, chosen)
    expect(page.get_by_test_id("safety-trail-current")).to_have_text(name)
    streets = expect_map_drawn(page, "street")
    expect(page.get_by_test_id("safety-row-name")).to_have_count(streets)
    assert re.search(rf"area={chosen}", page.url)
    screenshot(page, "safety-index-streets")

    # The breadcrumb goes back up to the districts.
    page.get_by_test_id("safety-trail-0").click()
    expect(page.get_by_test_id("safety-trail-current")).to_have_text("蚌埠市")
    expect_map_drawn(page, "district")


def test_explanation_drawer_lists_the_components(safety_data: dict[str, Any], as_user: Callable[[str], Page]) -> None:
    page = as_user("operator")
    page.goto("/safety?period=month")
    expect_map_drawn(page, "district")
    worst = page.get_by_test_id("safety-row-explain").first  # the ranking starts with the lowest score
    code = worst.get_attribute("data-code")
    worst.click()
    drawer = page.get_by_test_id("safety-explain")
    expect(drawer).to_have_attribute("data-loaded", "true", timeout=LOAD_MS)
    expect(drawer).to_have_attribute("data-code", code or "")
    components = page.get_by_test_id("safety-component")
    expect(components.first).to_be_visible(timeout=LOAD_MS)
    indicators = components.evaluate_all("els => els.map(e => e.dataset.indicator)")
    assert {"crime_order", "fire", "traffic"} <= set(indicators), indicators
    expect(page.get_by_test_id("safety-components")).to_contain_text("刑事治安")
    expect(page.get_by_test_id("safety-explain-score")).to_have_text(re.compile(r"^\d{1,3}\.\d$"))
    expect(page.get_by_test_id("safety-explain-band")).to_have_attribute(
        "data-band", re.compile("green|yellow|orange|red")
    )
    expect(page.get_by_test_id("safety-explain-formula")).to_contain_text("加权得分")
    expect(page.get_by_test_id("safety-explain-population")).to_contain_text(re.compile(r"[\d,]+"))
    expect(page.get_by_test_id("safety-contribution-chart").locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("safety-trend-chart").locator("canvas")).to_have_count(1)
    page.wait_for_timeout(300)  # the charts' first frame
    screenshot(page, "safety-explain")


def test_community_staff_see_the_grids_of_their_community(
    safety_data: dict[str, Any], as_user: Callable[[str], Page], server_url: str
) -> None:
    api = Api(server_url, "community")
    try:
        community = api.me["scope"]
    finally:
        api.close()
    page = as_user("community")
    page.goto("/safety")
    expect(page.get_by_test_id("safety-trail-current")).to_have_text(community["name"])
    expect_map_drawn(page, "grid")
    expect(page.get_by_test_id("menu-safetyFeeds")).to_have_count(0)  # no safety:import
    screenshot(page, "safety-index-community")


# -- warnings -----------------------------------------------------------------------------------------------


def open_warning(page: Page, warning_id: int) -> Locator:
    page.goto(f"/safety/warnings?id={warning_id}")
    detail = page.get_by_test_id("warning-detail")
    expect(detail).to_have_attribute("data-status", re.compile(".+"), timeout=LOAD_MS)
    return detail


def test_a_warning_is_explained_and_acknowledged(safety_data: dict[str, Any], as_user: Callable[[str], Page]) -> None:
    warning = safety_data["surges"][0]
    page = as_user("operator")
    page.get_by_test_id("menu-safetyWarnings").click()
    page.wait_for_url("**/safety/warnings")
    expect(page.get_by_test_id("warning-row").first).to_be_visible(timeout=LOAD_MS)
    expect(page.locator("[data-testid=warning-row-status]", has_text=re.compile("已确认|已关闭"))).to_have_count(
        0
    )  # open only
    screenshot(page, "safety-warnings")

    detail = open_warning(page, warning["id"])
    expect(detail).to_have_attribute("data-status", "open")
    plain = page.get_by_test_id("warning-plain")
    expect(plain).to_contain_text("预计")
    expect(plain).to_contain_text("概率")
    expect(plain).to_contain_text("误报")
    expect(page.get_by_test_id("warning-chart").locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("warning-records").locator("tbody tr").first).to_be_visible(timeout=LOAD_MS)
    expect(page.get_by_test_id("warning-records-map")).not_to_have_attribute("data-points", "0")
    page.wait_for_timeout(500)  # the small map's first frame
    screenshot(page, "safety-warning")

    page.get_by_test_id("warning-acknowledge").click()
    expect(detail).to_have_attribute("data-status", "acknowledged", timeout=LOAD_MS)
    expect(page.get_by_test_id("warning-acknowledge")).to_have_count(0)
    expect(page.get_by_test_id("warning-actions")).to_contain_text("确认于")


def test_a_warning_becomes_a_case_and_is_closed_with_a_note(
    safety_data: dict[str, Any], as_user: Callable[[str], Page], server_url: str
) -> None:
    warning = safety_data["surges"][1]
    page = as_user("operator")
    detail = open_warning(page, warning["id"])
    page.get_by_test_id("warning-to-case").click()
    page.locator(".el-message-box__btns .el-button--primary").click()
    link = page.get_by_test_id("warning-case-link")
    expect(link).to_contain_text("已转为事件", timeout=LOAD_MS)
    expect(detail).to_have_attribute("data-status", "acknowledged")
    href = link.get_attribute("href") or ""
    assert re.fullmatch(r"/cases/\d+", href), href
    screenshot(page, "safety-warning-case")

    # Closing needs a note: refused empty, done with one.
    page.get_by_test_id("warning-close").click()
    dialog = page.get_by_test_id("warning-close-dialog")
    page.get_by_test_id("warning-close-submit").click()
    expect(page.locator(".note-error")).to_have_text("请填写处理说明")
    expect(detail).to_have_attribute("data-status", "acknowledged")
    field(page, "warning-close-note").fill("已安排夜间巡逻，嫌疑人已抓获")
    page.get_by_test_id("warning-close-submit").click()
    expect(detail).to_have_attribute("data-status", "closed", timeout=LOAD_MS)
    expect(dialog).to_be_hidden(timeout=LOAD_MS)
    expect(page.get_by_test_id("warning-actions")).to_contain_text("已安排夜间巡逻")

    # The case it became opens from the link.
    link.click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    expect(page.get_by_test_id("case-detail")).to_be_visible(timeout=LOAD_MS)
    api = Api(server_url, "operator")
    try:
        closed = api.get(f"/api/v1/safety/warnings/{warning['id']}")
        assert closed["status"] == "closed" and closed["case_id"] == int(href.rsplit("/", 1)[1])
    finally:
        api.close()


def test_a_reader_without_safety_warn_sees_no_actions(
    safety_data: dict[str, Any], as_user: Callable[[str], Page]
) -> None:
    page = as_user("police")  # department staff: safety:read only
    open_warning(page, safety_data["surges"][2]["id"])
    expect(page.get_by_test_id("warning-acknowledge")).to_have_count(0)
    expect(page.get_by_test_id("warning-actions")).to_contain_text("safety:warn")


# -- hotspots -----------------------------------------------------------------------------------------------


def test_hotspot_forecast_flags_units_on_the_map(safety_data: dict[str, Any], as_user: Callable[[str], Page]) -> None:
    page = as_user("operator")
    page.get_by_test_id("menu-safetyHotspots").click()
    page.wait_for_url("**/safety/hotspots")
    ranks = page.get_by_test_id("hotspot-rank")
    expect(ranks.first).to_have_text("1", timeout=60_000)
    expect(page.get_by_test_id("hotspot-map")).not_to_have_attribute("data-flagged", "0")
    expect(page.get_by_test_id("hotspot-summary")).to_contain_text("已标出")
    expect(page.get_by_test_id("hotspot-method-help")).to_contain_text("核密度")
    # Grids instead of cells, by retrospective counts: the units are named grids.
    with page.expect_response(
        lambda r: "/api/v1/safety/hotspots?" in r.url and "unit=grid" in r.url and "method=counts" in r.url,
        timeout=60_000,
    ):
        page.get_by_test_id("hotspot-method-counts").click()
        page.get_by_test_id("hotspot-unit-grid").click()
    expect(page.get_by_test_id("hotspot-table").locator("tbody tr").first).to_contain_text("网格", timeout=60_000)
    expect(page.get_by_test_id("hotspot-method-help")).to_contain_text("比较基线")
    page.get_by_test_id("hotspot-table").locator("tbody tr").first.click()
    expect(page.locator("[data-testid=hotspot-popup]")).to_contain_text("第 1 名")
    screenshot(page, "safety-hotspots")


# -- feeds --------------------------------------------------------------------------------------------------


def test_a_mapping_is_saved_and_a_file_imported_row_by_row(
    safety_data: dict[str, Any], as_user: Callable[[str], Page], server_url: str, tmp_path: Path
) -> None:
    api = Api(server_url, "gridworker")
    try:
        grid: dict[str, Any] = api.get(f"/api/v1/geo/divisions/{api.me['scope']['division_code']}")
    finally:
        api.close()
    lon, lat = round(grid["centroid_lon"], 6), round(grid["centroid_lat"], 6)
    stamp = str(int(time.time()))
    page = as_user("operator")
    page.get_by_test_id("menu-safetyFeeds").click()
    page.wait_for_url("**/safety/feeds")

    # A mapping for a police system's own headings and labels.
    page.get_by_test_id("feed-mapping-create").click()
    dialog = page.get_by_test_id("feed-mapping-dialog")
    expect(dialog).to_be_visible(timeout=LOAD_MS)
    field(page, "feed-mapping-name").fill(f"e2e 110 {stamp}")
    field(page, "feed-mapping-column-record_id").fill("接警单号")
    field(page, "feed-mapping-column-occurred_at").fill("接警时间")
    field(page, "feed-mapping-column-category").fill("警情性质")
    page.get_by_test_id("feed-mapping-add-category").click()
    field(page, "feed-mapping-label").fill("偷东西")
    page.get_by_test_id("feed-mapping-code").click()
    page.locator(".el-select-dropdown__item:visible", has_text="0101").first.click()
    screenshot(page, "safety-feeds-mapping")
    page.get_by_test_id("feed-mapping-save").click()
    expect(dialog).to_be_hidden(timeout=LOAD_MS)
    expect(page.get_by_test_id("feed-mapping-row-name").filter(has_text=f"e2e 110 {stamp}")).to_be_visible(
        timeout=LOAD_MS
    )

    # A file with good rows, a swapped point, a bad time and a label the table lacks.
    path = tmp_path / "calls.csv"
    # A few minutes ago in Beijing time, so the new calls head the list of recent incidents.
    beijing = timezone(timedelta(hours=8))
    minutes_ago = [
        (datetime.now(UTC) - timedelta(minutes=m)).astimezone(beijing).strftime("%Y-%m-%dT%H:%M:%S+08:00")
        for m in (3, 4, 5, 6)
    ]
    rows = [
        [f"E2E-{stamp}-1", minutes_ago[0], "偷东西", lon, lat],
        [f"E2E-{stamp}-2", minutes_ago[1], "0201", lon, lat],
        [f"E2E-{stamp}-3", minutes_ago[2], "偷东西", lat, lon],
        [f"E2E-{stamp}-4", "昨天上午", "偷东西", lon, lat],
        [f"E2E-{stamp}-5", minutes_ago[3], "吵架", lon, lat],
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["接警单号", "接警时间", "警情性质", "经度", "纬度"])
        writer.writerows(rows)
    page.get_by_role("tab", name="文件导入").click()
    page.get_by_test_id("feed-import-mapping").click()
    page.locator(".el-select-dropdown__item:visible", has_text=f"e2e 110 {stamp}").click()
    page.locator("[data-testid=feed-import-file] input[type=file]").set_input_files(str(path))
    expect(page.get_by_test_id("feed-import-file-info")).to_contain_text("calls.csv")
    page.get_by_test_id("feed-import-start").click()
    job = page.get_by_test_id("feed-job")
    expect(job).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(page.get_by_test_id("feed-count-rows")).to_have_attribute("data-value", "5")
    expect(page.get_by_test_id("feed-count-created")).to_have_attribute("data-value", "2")
    expect(page.get_by_test_id("feed-count-failed")).to_have_attribute("data-value", "3")
    problems = page.get_by_test_id("feed-problems")
    expect(problems.locator("tbody tr")).to_have_count(3)
    expect(problems).to_contain_text("swapped")
    expect(page.get_by_test_id("feed-unknown-categories")).to_contain_text("吵架")
    screenshot(page, "safety-feeds-import")

    # The new calls are among the recent incidents.
    page.get_by_role("tab", name="近期警情").click()
    table = page.get_by_test_id("incident-table")
    expect(table).to_contain_text(f"E2E-{stamp}-1", timeout=LOAD_MS)
    expect(table).to_contain_text("盗窃")
    screenshot(page, "safety-feeds-incidents")


# -- settings -----------------------------------------------------------------------------------------------


def test_administrator_keeps_threshold_rules_and_index_weights_must_add_up(as_user: Callable[[str], Page]) -> None:
    page = as_user("admin")
    page.get_by_test_id("menu-safetySettings").click()
    page.wait_for_url("**/safety/settings")

    # A new index configuration whose weights add up to 110 % is refused before it is sent.
    page.get_by_test_id("index-config-new").click()
    form = page.get_by_test_id("index-config-form")
    field(page, "index-config-name").fill("e2e 权重试算")
    weight = field(page, "index-config-weight-fire")
    weight.fill("30")
    weight.blur()
    expect(page.get_by_test_id("index-config-total")).to_have_text("110 %")
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" and "/index-configs" in r.url else None)
    page.get_by_test_id("index-config-save").click()
    expect(page.get_by_test_id("index-config-problems")).to_contain_text("权重合计为 110")
    expect(form).to_be_visible(timeout=LOAD_MS)
    assert not posted, "a configuration whose weights do not add up was sent"

    # A threshold rule on thefts (call class 01) with the defaults: 10 in 7 days in any community.
    name = f"e2e 盗窃阈值 {int(time.time())}"
    page.get_by_test_id("warning-rule-new").click()
    dialog = page.get_by_test_id("warning-rule-dialog")
    expect(dialog).to_be_visible(timeout=LOAD_MS)
    field(page, "warning-rule-name").fill(name)
    kind = page.get_by_test_id("warning-rule-kind")
    kind.click()
    kind.locator("input").fill("inc:01")
    kind.locator("input").press("Enter")
    page.get_by_test_id("warning-rule-save").click()
    expect(dialog).to_be_hidden(timeout=LOAD_MS)
    row = page.get_by_test_id("warning-rule-table").locator("tbody tr", has_text=name)
    expect(row).to_contain_text("每个社区/村 7 天内达到 10 起", timeout=LOAD_MS)
    screenshot(page, "safety-settings")
