"""Disputes in Chromium against the demo city (fixtures in conftest.py).

Scenario: the city centre's operator records a dispute through the API (its case is reported with it),
opens its page (facts, masked parties, the case beside it), adds a mediation session through the dialog,
and looks at the one-stop desk with the categories chart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.conftest import screenshot
from tests.e2e.registry_seed import PASSWORD, Api

from civicgrid.core.idnumber import Sex, make_id_number

pytestmark = pytest.mark.e2e
SHANGHAI = timezone(timedelta(hours=8))


def log_in(page: Page, username: str, landing: str = "/map") -> None:
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"**{landing}")


@pytest.fixture(scope="module")
def operator_api(server_url: str) -> Iterator[Api]:
    api = Api(server_url, "operator")
    yield api
    api.close()


@pytest.fixture(scope="module")
def dispute(operator_api: Api) -> dict[str, Any]:
    grid = operator_api.get("/api/v1/geo/divisions", level="grid", page_size=1, sort="-code")["items"][0]
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    created: dict[str, Any] = operator_api.post(
        "/api/v1/disputes",
        {
            "dispute_category": "04",
            "grid_code": grid["code"],
            "address": "纬四路12号2栋",
            "summary": "楼上住户装修渗水至楼下，双方就赔偿金额发生争执",
            "people_count": 3,
            "units_involved": "某物业服务公司",
            "resolution_deadline": (today + timedelta(days=5)).isoformat(),
            "parties": [
                {
                    "role": "applicant",
                    "name": "周明远",
                    "id_number": make_id_number("340302", datetime(1975, 3, 8).date(), 211, Sex.male),
                    "sex": "1",
                },
                {"role": "respondent", "name": "吴晓红", "sex": "2"},
            ],
            "force_new": True,
        },
    )
    return created


def test_open_a_dispute_and_record_a_mediation(page: Page, dispute: dict[str, Any]) -> None:
    assert dispute["case"]["category_code"] == "0101" and dispute["parties"][0]["name"] == "周*远"
    log_in(page, "operator")
    page.goto(f"/disputes/{dispute['id']}")
    expect(page.get_by_test_id("dispute-title")).to_have_text(dispute["title"])
    parties = page.get_by_test_id("dispute-parties")
    expect(parties).to_contain_text("周")
    expect(parties).not_to_contain_text("周明远")  # masked by the server
    expect(page.get_by_test_id("dispute-case-link")).to_have_text(dispute["case_code"])
    expect(page.get_by_test_id("dispute-case-link")).to_have_attribute("href", f"/cases/{dispute['case_id']}")
    expect(page.get_by_test_id("dispute-case")).to_contain_text("待受理")
    screenshot(page, "disputes-detail")

    page.get_by_test_id("dispute-add-mediation").click()
    dialog = page.get_by_test_id("mediation-form")
    expect(dialog).to_be_visible()
    page.get_by_test_id("mediation-organisation").fill("天桥社区人民调解委员会")
    page.get_by_test_id("mediation-mediator").fill("王调解")
    page.get_by_test_id("mediation-result").fill("双方到场，同意先行修复渗水点，赔偿另议")
    page.get_by_test_id("mediation-agreed").click()
    page.get_by_test_id("mediation-agreement").fill("楼上住户三日内修复渗水点并承担维修费用")
    screenshot(page, "disputes-mediation-dialog")
    page.get_by_test_id("mediation-save").click()
    expect(dialog).to_be_hidden()
    mediations = page.get_by_test_id("dispute-mediations")
    expect(mediations).to_contain_text("第 1 次调解")
    expect(mediations).to_contain_text("人民调解")
    expect(mediations).to_contain_text("楼上住户三日内修复渗水点")
    screenshot(page, "disputes-detail-mediated")


def test_the_one_stop_desk_shows_the_new_dispute(page: Page, dispute: dict[str, Any]) -> None:
    log_in(page, "operator")
    page.get_by_test_id("menu-disputeDesk").click()
    page.wait_for_url("**/disputes/desk")
    expect(page.get_by_test_id("dispute-category-chart")).to_be_visible()
    # The demo's own disputes fill the due-soon list; the new one is the newest awaiting acceptance.
    expect(page.get_by_test_id("desk-unaccepted")).to_contain_text(dispute["case_code"])
    total = int(page.get_by_test_id("desk-total").locator(".tile-value").inner_text())
    assert total >= 1
    screenshot(page, "disputes-desk")
    page.get_by_test_id("menu-disputes").click()
    page.wait_for_url(re.compile(r".*/disputes$"))
    expect(page.get_by_test_id("dispute-table")).to_contain_text(dispute["case_code"])
    screenshot(page, "disputes-list")


def test_record_a_dispute_through_the_form(page: Page, operator_api: Api) -> None:
    grid = operator_api.get("/api/v1/geo/divisions", level="grid", page_size=1)["items"][0]
    detail = operator_api.get(f"/api/v1/geo/divisions/{grid['code']}")
    deadline = (datetime.now(UTC).astimezone(SHANGHAI).date() + timedelta(days=10)).isoformat()
    log_in(page, "operator")
    page.goto("/disputes/new")
    page.get_by_test_id("dispute-category").click()
    page.locator(".el-select-dropdown__item:visible").filter(has_text=re.compile("^劳资纠纷$")).first.click()
    # 劳资纠纷 files its case under 0103 by default.
    expect(page.get_by_test_id("dispute-case-category")).to_contain_text("劳资纠纷")
    page.get_by_text("输入经纬度").click()
    page.locator("[data-testid=dispute-lon] input").fill(str(detail["centroid_lon"]))
    page.locator("[data-testid=dispute-lat] input").fill(str(detail["centroid_lat"]))
    page.get_by_test_id("dispute-summary").fill("某工地拖欠十二名工人三个月工资")
    page.locator("[data-testid=dispute-people] input").fill("12")
    page.locator("[data-testid=dispute-deadline] input").fill(deadline)
    page.locator("[data-testid=dispute-deadline] input").press("Enter")
    page.locator("[data-testid=party-0] input").nth(1).fill("郑大力")
    page.locator("[data-testid=party-1] input").nth(1).fill("某建筑劳务公司")
    screenshot(page, "disputes-create")
    page.get_by_test_id("dispute-submit").click()
    page.wait_for_url(re.compile(r".*/disputes/\d+$"))
    expect(page.get_by_test_id("dispute-title")).to_contain_text("劳资纠纷")
    expect(page.get_by_test_id("dispute-facts")).to_contain_text("较大")  # 12 people: the default scale
    expect(page.get_by_test_id("dispute-parties")).to_contain_text("郑*力")
