"""The command centre's big screen (/command, 一张图) in Chromium against the demo city, as the city's operator.

At the wall's 1920×1080 and a laptop's 1366×768: today's figures are numbers, the map draws the districts
coloured by the safety index, nothing scrolls, and every panel lies inside the window. At the wall: a click
on a district goes down to its streets and the breadcrumb back up; a case reported through the API while the
screen is open appears in the live feed, and a grid worker who shares a position shows on the map and in the
"on duty" figure. Screenshots: command-wall, command-wall-district, command-laptop.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.e2e.conftest import screenshot
from tests.e2e.registry_seed import PASSWORD, Api

pytestmark = pytest.mark.e2e

# The index is computed by the server's scheduled recompute (every few minutes), so a fresh demo server may
# need a while before the first scores exist; the page re-reads its data every minute.
INDEX_WAIT_S = 420
# Waits on the server (data, boundaries, the stream) and on lazy chunks: a busy machine takes more than the
# 5 s that `expect` allows by default.
WAIT = 30_000


@pytest.fixture
def screen(browser: Browser, server_url: str) -> Iterator[Callable[[int, int], Page]]:
    """The big screen opened by the demo operator in a window of the given size."""
    contexts = []

    def open_at(width: int, height: int) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", base_url=server_url)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.get_by_test_id("login-username").fill("operator")
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto("/command")
        expect(page.get_by_test_id("command-page")).to_be_visible(timeout=WAIT)
        return page

    yield open_at
    for context in contexts:
        context.close()


def figures(page: Page) -> dict[str, str]:
    values: dict[str, str] = page.get_by_test_id("command-figure").evaluate_all(
        "els => Object.fromEntries(els.map(e => [e.dataset.key, e.dataset.value]))"
    )
    return values


def expect_figures_are_numbers(page: Page) -> None:
    tiles = page.get_by_test_id("command-figure")
    expect(tiles).to_have_count(8, timeout=WAIT)
    # Filled once the overview has loaded.
    expect(page.locator("[data-testid=command-figure][data-key=new]")).to_have_attribute(
        "data-value", re.compile(r"^\d+$"), timeout=WAIT
    )
    for key, value in figures(page).items():
        assert re.fullmatch(r"\d+", value), f"figure {key} is {value!r}, not a number"
    for text in tiles.locator(".figure-value").all_inner_texts():
        assert re.fullmatch(r"[\d,]+", text.strip()), f"a figure reads {text!r}"


def map_of(page: Page) -> Locator:
    return page.get_by_test_id("command-map")


def expect_coloured_districts(page: Page) -> None:
    """The districts are drawn and some carry an index band (waiting for the first computed scores)."""
    area_map = map_of(page)
    expect(area_map).to_have_attribute("data-level", "district", timeout=WAIT)
    expect(area_map).to_have_attribute("data-loading", "false", timeout=WAIT)
    assert int(area_map.get_attribute("data-feature-count") or 0) > 0
    deadline = time.monotonic() + INDEX_WAIT_S
    while area_map.get_attribute("data-banded-count") in (None, "0"):
        if time.monotonic() > deadline:
            raise AssertionError(f"no district got an index band within {INDEX_WAIT_S} s")
        page.wait_for_timeout(15_000)
        if area_map.get_attribute("data-banded-count") in (None, "0"):
            page.reload()
            expect(area_map).to_have_attribute("data-loading", "false", timeout=WAIT)
    assert int(area_map.get_attribute("data-banded-count") or 0) <= int(
        area_map.get_attribute("data-feature-count") or 0
    )


def expect_no_scrollbars_and_panels_inside(page: Page) -> None:
    size = page.evaluate(
        "() => ({w: innerWidth, h: innerHeight, sw: document.documentElement.scrollWidth,"
        " sh: document.documentElement.scrollHeight})"
    )
    assert size["sw"] <= size["w"] and size["sh"] <= size["h"], f"the page scrolls: {size}"
    boxes: list[dict[str, Any]] = page.locator(".cmd-panel").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return {id: e.dataset.testid, x: r.left, y: r.top, r: r.right, b: r.bottom} })"
    )
    assert len(boxes) >= 9
    for box in boxes:
        assert box["x"] >= 0 and box["y"] >= 0, box
        assert box["r"] <= size["w"] + 0.5 and box["b"] <= size["h"] + 0.5, f"{box} leaves the {size} window"
        assert box["b"] - box["y"] > 60, f"{box} is squeezed flat"
    # No two panels overlap.
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            overlap = min(a["r"], b["r"]) - max(a["x"], b["x"]) > 1 and min(a["b"], b["b"]) - max(a["y"], b["y"]) > 1
            assert not overlap, f"{a['id']} overlaps {b['id']}"


def click_area(page: Page, code: str) -> None:
    point = page.evaluate("code => window.__civicgridCommandMap.screenPoint(code)", code)
    assert point, f"{code} is not drawn"
    box = map_of(page).bounding_box()
    assert box
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])


def a_report_category(api: Api) -> str:
    """A leaf category the case tests do not report near the grid centre (no 'same problem' offered)."""
    categories: list[dict[str, Any]] = api.get("/api/v1/cases/categories")
    leaves = [c["code"] for c in categories if c.get("depth") == 2 and not c["code"].startswith("05")]
    assert leaves
    return leaves[len(leaves) // 2]


def test_the_wall_shows_the_city_live_and_drills_down(screen: Callable[[int, int], Page], server_url: str) -> None:
    page = screen(1920, 1080)
    operator_city = page.get_by_test_id("command-page").get_attribute("data-area")
    assert operator_city
    expect_figures_are_numbers(page)
    expect_coloured_districts(page)
    expect(page.get_by_test_id("command-live")).to_have_attribute("data-state", "open", timeout=WAIT)
    expect(page.get_by_test_id("command-clock")).to_have_text(re.compile(r"^\d{2}:\d{2}:\d{2}$"), timeout=WAIT)
    expect(page.get_by_test_id("command-as-of")).to_contain_text("数据截至", timeout=WAIT)
    expect(page.get_by_test_id("command-feed-item").first).to_be_visible(timeout=WAIT)
    expect_no_scrollbars_and_panels_inside(page)

    # A case reported now, in the grid worker's grid, appears at the top of the feed through the stream.
    worker = Api(server_url, "gridworker")
    try:
        grid = worker.get(f"/api/v1/geo/divisions/{worker.me['scope']['division_code']}")
        at = (round(grid["centroid_lon"] - 0.12 * (grid["max_lon"] - grid["min_lon"]), 6), grid["centroid_lat"])
        body = {
            "category_code": a_report_category(worker),
            "lon": at[0],
            "lat": at[1],
            "description": "e2e 指挥中心",
            "force_new": True,
        }
        case = worker.post("/api/v1/cases", body)["case"]
        # On duty and sharing: the worker is counted (and drawn on the map).
        worker.client.put(
            "/api/v1/command/positions/me", json={"lon": at[0], "lat": at[1], "duty_minutes": 60}
        ).raise_for_status()
        item = page.locator(f"[data-testid=command-feed-item][data-key='case:{case['id']}']")
        expect(item).to_be_visible(timeout=WAIT)
        expect(item).to_have_attribute("data-kind", "case", timeout=WAIT)
        expect(page.locator("[data-testid=command-figure][data-key=onDuty]")).not_to_have_attribute(
            "data-value", "0", timeout=WAIT
        )
        expect(map_of(page)).not_to_have_attribute("data-worker-count", "0", timeout=WAIT)
        screenshot(page, "command-wall")
    finally:
        worker.client.delete("/api/v1/command/positions/me")
        worker.close()

    # Down into a district: its streets, the trail, every panel for the district; back up by the breadcrumb.
    codes: list[str] = page.evaluate("() => window.__civicgridCommandMap.codes()")
    district = grid["code"][:6] if grid["code"][:6] in codes else codes[0]
    click_area(page, district)
    expect(page.get_by_test_id("command-page")).to_have_attribute("data-area", district, timeout=WAIT)
    expect(map_of(page)).to_have_attribute("data-level", "street", timeout=WAIT)
    expect(map_of(page)).to_have_attribute("data-loading", "false", timeout=WAIT)
    assert int(map_of(page).get_attribute("data-feature-count") or 0) > 0
    expect(page.get_by_test_id("command-trail-step")).to_have_count(2, timeout=WAIT)
    expect(page.get_by_test_id("command-area-name")).not_to_be_empty(timeout=WAIT)
    expect_figures_are_numbers(page)
    page.wait_for_timeout(1500)  # the map's fly-to ends
    screenshot(page, "command-wall-district")
    page.get_by_test_id("command-trail-step").first.click()
    expect(page.get_by_test_id("command-page")).to_have_attribute("data-area", operator_city, timeout=WAIT)
    expect(map_of(page)).to_have_attribute("data-level", "district", timeout=WAIT)


def test_the_screen_fits_a_laptop(screen: Callable[[int, int], Page]) -> None:
    page = screen(1366, 768)
    expect_figures_are_numbers(page)
    expect_coloured_districts(page)
    expect_no_scrollbars_and_panels_inside(page)
    page.wait_for_timeout(1000)
    screenshot(page, "command-laptop")
