"""Registry import, export and households in Chromium against the demo city (fixtures in conftest.py).

Scenarios: an operator imports people from a GBK-encoded CSV with one bad row (the header is read in the
browser, one column mapped by hand, the mapping saved, apply_valid mode), watches the job to its end and
downloads the error report; exports the filtered people as CSV and houses as XLSX; opens a household for
one person and lets another join it.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.conftest import screenshot
from tests.e2e.registry_seed import PASSWORD, Api

from civicgrid.core.idnumber import Sex, make_id_number

pytestmark = pytest.mark.e2e


def log_in(page: Page, username: str, landing: str = "/map") -> None:
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"**{landing}")


def pick(
    page: Page, select_testid: str, option: str | re.Pattern[str], option_selector: str = ".el-select-dropdown__item"
) -> None:
    """Open an Element Plus select and click the visible option with this text."""
    page.get_by_test_id(select_testid).click()
    text = re.compile(f"^{re.escape(option)}$") if isinstance(option, str) else option
    page.locator(f"{option_selector}:visible").filter(has_text=text).first.click()


@dataclass
class Place:
    """A house of the operator's scope, made for these tests, and its grid."""

    house: dict[str, Any]
    grid_code: str


@pytest.fixture(scope="module")
def operator_api(server_url: str) -> Iterator[Api]:
    api = Api(server_url, "operator")
    yield api
    api.close()


@pytest.fixture(scope="module")
def place(operator_api: Api) -> Place:
    grid = operator_api.get("/api/v1/geo/divisions", level="grid", page_size=1)["items"][0]
    detail = operator_api.get(f"/api/v1/geo/divisions/{grid['code']}")
    house = operator_api.post(
        "/api/v1/registry/houses",
        {
            "grid_code": grid["code"],
            "street_address": "导入测试路7号",
            "building": "2栋",
            "unit": "1单元",
            "room": "301",
            "use": "self",
            "lon": detail["centroid_lon"],
            "lat": detail["centroid_lat"],
        },
    )
    return Place(house=house, grid_code=grid["code"])


def _id(rng: random.Random, born: date, sex: Sex) -> str:
    sequence = rng.randrange(0, 998, 2) + (1 if sex == Sex.male else 0)
    return make_id_number("340322", born, sequence, sex)


def test_import_people_from_a_gbk_csv_with_a_bad_row(
    page: Page, operator_api: Api, place: Place, tmp_path: Path
) -> None:
    rng = random.Random(20260501)
    good = [
        ("欧阳明远", Sex.male, date(1984, 5, 6)),
        ("欧阳晓红", Sex.female, date(1986, 9, 17)),
        ("欧阳子轩", Sex.male, date(2012, 2, 29)),
    ]
    rows = [["类别", "姓名", "性别", "出生日期", "身份证号", "联系电话", "房屋编号"]]
    ids = []
    for name, sex, born in good:
        id_number = _id(rng, born, sex)
        ids.append(id_number)
        rows.append(
            [
                "户籍人口",
                name,
                "男" if sex == Sex.male else "女",
                born.isoformat(),
                id_number,
                "",
                str(place.house["id"]),
            ]
        )
    bad_id = _id(rng, date(1990, 1, 1), Sex.female)
    bad_id = bad_id[:17] + ("0" if bad_id[17] != "0" else "1")  # a wrong check character
    rows.append(["户籍人口", "欧阳错号", "女", "1990-01-01", bad_id, "", str(place.house["id"])])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    gbk = buffer.getvalue().encode("gbk")  # Excel's plain "CSV" on Chinese Windows

    log_in(page, "operator")
    page.get_by_test_id("menu-imports").click()
    page.wait_for_url("**/registry/imports")
    page.get_by_test_id("import-entity-people").click()
    page.locator("[data-testid=import-file] input[type=file]").set_input_files(
        files=[{"name": "人口导入.csv", "mimeType": "text/csv", "buffer": gbk}]
    )
    expect(page.get_by_test_id("import-encoding")).to_contain_text("GBK")
    expect(page.get_by_test_id("import-columns")).to_contain_text("房屋编号")
    screenshot(page, "import-1-file")
    page.get_by_test_id("import-next").click()

    # The headings the server knows are mapped already; 类别 is not one of them, so person_type is missing.
    expect(page.get_by_test_id("import-missing")).to_contain_text("人口类型")
    expect(page.get_by_test_id("import-next")).to_be_disabled()
    expect(page.get_by_test_id("import-field-person_type")).to_have_attribute("data-missing", "true")
    expect(page.get_by_test_id("import-field-grid_code")).to_have_attribute(
        "data-missing", "false"
    )  # house_id is mapped
    pick(page, "import-column-person_type", "类别")
    expect(page.get_by_test_id("import-missing")).to_have_count(0)
    expect(page.get_by_test_id("import-field-person_type")).to_have_attribute("data-missing", "false")
    page.get_by_test_id("import-mapping-name").fill("端到端人口模板")
    page.get_by_test_id("import-mapping-save").click()
    expect(page.locator(".el-message--success")).to_contain_text("端到端人口模板")
    screenshot(page, "import-2-mapping")
    page.get_by_test_id("import-next").click()

    expect(page.get_by_test_id("import-mode")).to_contain_text("有问题的行跳过")
    page.get_by_test_id("import-mode-apply_valid").click()
    screenshot(page, "import-3-mode")
    page.get_by_test_id("import-start").click()

    job = page.get_by_test_id("import-job")
    expect(job).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(page.get_by_test_id("import-succeeded")).to_have_text("3")
    expect(page.get_by_test_id("import-failed")).to_have_text("1")
    expect(page.get_by_test_id("import-count-created")).to_have_attribute("data-value", "3")
    expect(page.get_by_test_id("import-problems")).to_contain_text("check character")
    assert re.search(r"[?&]job=\d+", page.url)
    screenshot(page, "import-4-result")

    with page.expect_download() as info:
        page.get_by_test_id("import-error-report").click()
    download = info.value
    assert re.fullmatch(r".*\.csv", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    report = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert report and {r["row"] for r in report} == {"5"}  # the header is row 1
    assert any(r["field"] == "id_number" for r in report)
    assert bad_id not in saved.read_text(encoding="utf-8-sig")  # identifiers masked

    # The three good rows are in the registry, at the house; the saved mapping is there for the next file.
    for id_number in ids:
        found = operator_api.client.post("/api/v1/registry/people/lookup", json={"id_number": id_number}).json()
        assert len(found) == 1 and found[0]["house_id"] == place.house["id"]
    mappings = operator_api.get("/api/v1/registry/import-mappings", entity="people")
    assert any(m["name"] == "端到端人口模板" and m["mapping"].get("类别") == "person_type" for m in mappings)

    # A reload keeps showing the job.
    page.reload()
    expect(page.get_by_test_id("import-job")).to_have_attribute("data-status", "succeeded")


def test_export_the_filtered_people_and_the_houses(page: Page, operator_api: Api, place: Place, tmp_path: Path) -> None:
    rng = random.Random(77)
    for i, name in enumerate(["司徒一", "司徒二"]):
        sex = Sex.male if i % 2 == 0 else Sex.female
        born = date(1970 + i, 3, 3)
        operator_api.post(
            "/api/v1/registry/people",
            {
                "person_type": "registered",
                "name": name,
                "sex": sex.value,
                "birth_date": born.isoformat(),
                "id_number": _id(rng, born, sex),
                "house_id": place.house["id"],
            },
        )
    log_in(page, "operator")
    page.goto("/registry/people")
    page.get_by_test_id("people-filter-name").fill("司徒")
    page.get_by_test_id("people-search").click()
    expect(page.locator("[data-testid=person-row-name]")).to_have_count(2)
    page.get_by_test_id("people-export-button").click()
    expect(page.get_by_test_id("people-export-csv")).to_be_visible()
    screenshot(page, "export-people-menu")
    with page.expect_download() as info:
        page.get_by_test_id("people-export-csv").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / "people.csv"
    download.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == 3, text[:500]  # header and the two people the filter selects
    assert all("司" in "".join(line) for line in lines[1:])
    assert "司徒一" not in text  # masked: 司*一
    expect(page.locator(".el-message--success")).to_contain_text("2")

    page.goto("/registry/houses")
    page.get_by_test_id("houses-filter-address").fill("导入测试路")
    page.get_by_test_id("houses-search").click()
    expect(page.locator("[data-testid=house-row-address]")).to_have_count(1)
    page.get_by_test_id("houses-export-button").click()
    with page.expect_download() as info:
        page.get_by_test_id("houses-export-xlsx").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / "houses.xlsx"
    download.save_as(path)
    assert path.read_bytes()[:2] == b"PK"  # a zip: an XLSX workbook


def test_open_a_household_and_let_a_member_join(page: Page, operator_api: Api, place: Place) -> None:
    rng = random.Random(4242)
    people = []
    for name, sex, born in [("上官建国", Sex.male, date(1975, 7, 1)), ("上官秀兰", Sex.female, date(1977, 8, 8))]:
        people.append(
            operator_api.post(
                "/api/v1/registry/people",
                {
                    "person_type": "registered",
                    "name": name,
                    "sex": sex.value,
                    "birth_date": born.isoformat(),
                    "id_number": _id(rng, born, sex),
                    "house_id": place.house["id"],
                },
            )
        )
    head, spouse = people
    log_in(page, "operator")
    page.goto(f"/registry/people/{head['id']}")
    expect(page.get_by_test_id("household-none")).to_be_visible()
    page.get_by_test_id("household-open").click()
    expect(page.get_by_test_id("household-open-dialog")).to_contain_text("户主")
    page.get_by_test_id("household-open-save").click()
    number = page.get_by_test_id("household-no")
    expect(number).to_have_text(re.compile(r"^\d{12,}$"))
    expect(page.get_by_test_id("household-is-head")).to_be_visible()
    household_no = number.inner_text()
    page.get_by_test_id("household-panel").scroll_into_view_if_needed()
    screenshot(page, "household-opened")

    page.goto(f"/registry/people/{spouse['id']}")
    page.get_by_test_id("household-join").click()
    pick(page, "household-picker", re.compile(re.escape(household_no)))
    pick(page, "household-relation", "配偶")
    screenshot(page, "household-join-dialog")
    page.get_by_test_id("household-save").click()
    expect(page.get_by_test_id("household-dialog")).to_be_hidden()
    expect(page.get_by_test_id("household-no")).to_have_text(household_no)
    members = page.locator("[data-testid=household-members] [data-testid=person-row-name]")
    expect(members).to_have_count(2)
    expect(page.get_by_test_id("person-field-relation_to_head")).to_contain_text("配偶")
    page.get_by_test_id("household-panel").scroll_into_view_if_needed()
    screenshot(page, "household-member-joined")

    after = operator_api.get(f"/api/v1/registry/people/{spouse['id']}")
    assert after["household_id"] is not None and after["relation_to_head"] == "02"
    household = operator_api.get(f"/api/v1/registry/households/{after['household_id']}")
    assert household["household_no"] == household_no and household["head_person_id"] == head["id"]
