"""研判报告 in Chromium: the city centre asks for a district's weekly report on the reports page, waits for it,
downloads the PDF and the Excel workbook, and both files are whole and carry the district's figures."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from tests.e2e.conftest import SCREENSHOTS, screenshot
from tests.e2e.test_ui import PASSWORD
from tests.support.pdf import all_text, is_pdf, page_count

pytestmark = pytest.mark.e2e

DISTRICT = "340303"  # 蚌山区 in the demo city
SHEETS = ["摘要", "1 平安指数", "2 趋势", "3 主要类别", "4 热点", "5 超期事件", "6 预警处置"]
# Right after start-up the server runs its scheduled tasks (the index, the warnings, the reports due): run
# alone, this test may meet them, so it allows for a busy server.
PATIENCE_S = 90


def api_get(server_url: str, username: str, path: str) -> Any:
    with httpx.Client(base_url=server_url, timeout=PATIENCE_S) as client:
        login = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        answer = client.get(path, headers=headers)
        answer.raise_for_status()
        return answer.json()


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/map", timeout=PATIENCE_S * 1000)


def test_a_district_report_is_asked_for_and_downloaded(page: Page, server_url: str, tmp_path: Path) -> None:
    district = api_get(server_url, "operator", f"/api/v1/geo/divisions/{DISTRICT}")
    name = district["name"]
    log_in(page, "operator")
    page.get_by_test_id("menu-reports").click()
    page.wait_for_url("**/reports")
    expect(page.get_by_test_id("report-form")).to_be_visible()

    # The area: the cascader starts at the user's own city; open it and choose the district.
    page.get_by_test_id("report-area").click()
    city = page.locator(".el-cascader-panel .el-cascader-node").first
    city.click()
    node = page.locator(".el-cascader-panel .el-cascader-menu").nth(1).locator(".el-cascader-node", has_text=name)
    node.locator(".el-radio").click()
    page.keyboard.press("Escape")
    page.get_by_test_id("report-period-week").click()
    page.get_by_test_id("report-submit").click()

    # The scheduler makes the due reports of every district when the server starts: pick the row of the week
    # asked for (the page's default, the last complete week), so the list's refreshes cannot swap it.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    week = (today - timedelta(days=today.weekday() + 1)).isocalendar()
    title_start = f"蚌埠市{name} {week.year}年第{week.week}周"
    row = page.locator(".el-table__row", has=page.get_by_test_id("report-row").filter(has_text=title_start)).first
    expect(row).to_be_visible()
    expect(row.get_by_test_id("report-status")).to_have_attribute("data-status", "succeeded", timeout=120_000)
    title = row.get_by_test_id("report-row").inner_text().strip()
    assert title.startswith(title_start) and title.endswith("社会治安形势研判报告")
    row.locator(".el-table__expand-icon").click()
    expect(page.locator(".summary").first).to_contain_text("接报警情")
    screenshot(page, "reports-page")

    with page.expect_download() as pdf_info:
        row.get_by_test_id("report-download-pdf").click()
    pdf_download = pdf_info.value
    assert pdf_download.suggested_filename == f"{title}.pdf"
    pdf = Path(pdf_download.path()).read_bytes()
    assert is_pdf(pdf) and page_count(pdf) >= 3 and len(pdf) > 10_000
    text = all_text(pdf)
    assert name in text and title in text and "一、平安指数" in text

    with page.expect_download() as xlsx_info:
        row.get_by_test_id("report-download-xlsx").click()
    xlsx_download = xlsx_info.value
    assert xlsx_download.suggested_filename == f"{title}.xlsx"
    book = load_workbook(io.BytesIO(Path(xlsx_download.path()).read_bytes()))
    assert book.sheetnames == SHEETS
    assert book["摘要"]["A1"].value == title
    assert sum(len(book[sheet]._charts) for sheet in SHEETS) >= 3  # line and bar charts

    # Keep the PDF beside the screenshots (CI keeps them as artefacts).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "report-district-week.pdf").write_bytes(pdf)
