"""Analysis reports through the HTTP interface: asking, the background job, reading, downloading, scopes and
bad input; the service's refusals and failures (figures: reports_fixtures)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from civicgrid.authz.scope import Principal
from civicgrid.command import report_data, reports
from civicgrid.command.models import CommandReport
from civicgrid.core import jobs
from civicgrid.core.db import Database
from civicgrid.core.errors import Conflict
from civicgrid.core.files import LocalFileStore
from tests.command.reports_fixtures import ReportCity
from tests.support.api import assert_error, auth_headers
from tests.support.city import COMMUNITY_A, DISTRICT, GRID_A1, OTHER_DISTRICT, STREET_A
from tests.support.pdf import all_text, is_pdf, page_count

BASE = "/api/v1/command/reports"


class Caller:
    def __init__(self, client: TestClient, username: str) -> None:
        self.client = client
        self.headers = auth_headers(client, username)

    def ask(self, area: str, period: str, day: date | str, status: int = 202) -> dict[str, Any]:
        body = {"area_code": area, "period": period, "date": str(day)}
        response = self.client.post(BASE, json=body, headers=self.headers)
        assert response.status_code == status, response.text
        result: dict[str, Any] = response.json()
        return result

    def get(self, path: str = "", expect: int = 200, **params: Any) -> Any:
        response = self.client.get(f"{BASE}{path}", params=params, headers=self.headers)
        assert response.status_code == expect, response.text
        return response.json()

    def raw(self, path: str, **params: Any) -> Any:
        return self.client.get(f"{BASE}{path}", params=params, headers=self.headers)


def _wait(client: TestClient) -> None:
    runner = getattr(client.app.state, "job_runner")  # noqa: B009
    runner.wait(timeout=120)


def test_a_report_is_asked_for_made_and_downloaded(
    report_client: TestClient, report_city: ReportCity, report_store: LocalFileStore
) -> None:
    district = Caller(report_client, "district.operator")
    day = report_city.week.start + timedelta(days=2)
    asked = district.ask(DISTRICT, "week", day)
    iso = report_city.week.start.isocalendar()
    title = f"蚌埠市蚌山区 {iso.year}年第{iso.week}周 社会治安形势研判报告"
    assert asked["status"] in ("queued", "running", "succeeded")
    assert (asked["area_code"], asked["area_name"], asked["level"], asked["origin"]) == (
        DISTRICT, "蚌山区", "district", "request",
    )  # fmt: skip
    assert (asked["period"], asked["period_start"], asked["period_end"], asked["data_until"], asked["complete"]) == (
        "week", str(report_city.week.start), str(report_city.week.end), str(report_city.week.end), True,
    )  # fmt: skip
    assert asked["title"] == title and asked["job_id"] is not None
    _wait(report_client)

    done = district.get(f"/{asked['id']}")
    assert done["status"] == "succeeded", done
    assert done["pages"] >= 3 and done["pdf_size"] > 5_000 and done["xlsx_size"] > 5_000
    assert "接报警情 11 起" in done["summary"] and done["error"] is None
    assert done["finished_at"] >= done["started_at"] >= done["created_at"]

    pdf = district.raw(f"/{asked['id']}/file", format="pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    disposition = pdf.headers["content-disposition"]
    assert disposition == (
        f"attachment; filename=\"report-{asked['id']}.pdf\"; filename*=UTF-8''{quote(title + '.pdf', safe='')}"
    )
    assert int(pdf.headers["content-length"]) == len(pdf.content) == done["pdf_size"]
    assert is_pdf(pdf.content) and page_count(pdf.content) == done["pages"]
    assert "蚌山区" in all_text(pdf.content)

    xlsx = district.raw(f"/{asked['id']}/file", format="xlsx")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames[0] == "摘要" and book["摘要"]["A1"].value == title
    # Both files are in the store under the row's keys.
    assert len(list(report_store.root.rglob("*.pdf"))) == 1 and len(list(report_store.root.rglob("*.xlsx"))) == 1

    # The job that made it is the requester's, visible to them.
    job = report_client.get(f"/api/v1/jobs/{asked['job_id']}", headers=district.headers)
    assert job.status_code == 200 and job.json()["status"] == "succeeded"


def test_reports_are_listed_and_read_within_scope(
    report_client: TestClient, report_city: ReportCity, report_store: LocalFileStore
) -> None:
    operator = Caller(report_client, "operator")
    ids = {
        "district": operator.ask(DISTRICT, "week", report_city.week.start)["id"],
        "street": operator.ask(STREET_A, "month", report_city.today)["id"],
        "community": operator.ask(COMMUNITY_A, "week", report_city.week.start)["id"],
        "other": operator.ask(OTHER_DISTRICT, "week", report_city.week.start)["id"],
    }
    _wait(report_client)

    def listed(caller: Caller, **params: Any) -> set[int]:
        page = caller.get("", **params)
        assert page["total"] == len(page["items"])
        return {item["id"] for item in page["items"]}

    assert listed(operator) == set(ids.values())
    district = Caller(report_client, "district.operator")
    assert listed(district) == {ids["district"], ids["street"], ids["community"]}
    community = Caller(report_client, "community.a")
    assert listed(community) == {ids["community"]}
    other = Caller(report_client, "other.operator")
    assert listed(other) == {ids["other"]}
    for name in ("district", "street"):
        other.get(f"/{ids[name]}", expect=404)
        assert_error(other.raw(f"/{ids[name]}/file", format="pdf"), 404)
    community.get(f"/{ids['district']}", expect=404)

    # Filters: the area and everything inside it, the period type, the status; sorting.
    assert listed(operator, area_code=STREET_A) == {ids["street"], ids["community"]}
    assert listed(operator, period="month") == {ids["street"]}
    assert listed(operator, status="succeeded") == set(ids.values())
    assert listed(operator, status="failed", origin="schedule") == set()
    page = operator.get("", sort="period_start,area_code", page_size=2)
    assert page["total"] == 4 and len(page["items"]) == 2 and page["page_size"] == 2
    assert_error(operator.raw("", status="finished"), 422)
    assert_error(operator.raw("", sort="title"), 422)

    # Who has no command:read reads no reports at all.
    worker = Caller(report_client, "worker.a1")
    assert_error(worker.raw(""), 403)
    assert_error(worker.raw(f"/{ids['community']}"), 403)


def test_bad_requests_change_nothing(
    db: Database, report_client: TestClient, report_city: ReportCity, report_store: LocalFileStore
) -> None:
    district = Caller(report_client, "district.operator")
    tomorrow = report_city.today + timedelta(days=1)
    error = assert_error(
        district.client.post(
            BASE, json={"area_code": DISTRICT, "period": "week", "date": str(tomorrow)}, headers=district.headers
        ),
        422,
    )
    assert error["details"] == [{"field": "date", "problem": "must not be after today (Asia/Shanghai)"}]
    for period in ("day", "year", ""):
        body = {"area_code": DISTRICT, "period": period, "date": str(report_city.today)}
        assert_error(district.client.post(BASE, json=body, headers=district.headers), 422, "invalid_input")
    for body in (
        {"area_code": DISTRICT, "period": "week"},
        {"area_code": DISTRICT, "period": "week", "date": "2026-13-01"},
        {"period": "week", "date": str(report_city.today)},
    ):
        assert_error(district.client.post(BASE, json=body, headers=district.headers), 422, "invalid_input")
    grid = {"area_code": GRID_A1, "period": "week", "date": str(report_city.today)}
    assert (
        assert_error(district.client.post(BASE, json=grid, headers=district.headers), 422)["details"][0]["field"]
        == "area_code"
    )
    for area in ("999999", OTHER_DISTRICT):  # unknown, and outside the caller's district: both not found
        body = {"area_code": area, "period": "month", "date": str(report_city.today)}
        assert_error(district.client.post(BASE, json=body, headers=district.headers), 404, "not_found")
    worker = Caller(report_client, "worker.a1")
    body = {"area_code": GRID_A1, "period": "week", "date": str(report_city.today)}
    assert_error(worker.client.post(BASE, json=body, headers=worker.headers), 403)
    with db.unit_of_work(write=False) as s:
        assert s.scalar(select(func.count()).select_from(CommandReport)) == 0
        assert s.scalar(select(func.count()).select_from(jobs.Job).where(jobs.Job.kind == reports.JOB_KIND)) == 0
    assert_error(district.raw("/12345"), 404)
    assert_error(district.raw("/12345/file", format="doc"), 422)


class _IdleRunner:
    """A runner that never starts what it is handed: the report stays queued."""

    def start(self, job_id: int) -> None:
        pass


def test_asking_again_while_it_is_made_answers_the_same_report(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal]
) -> None:
    district = principal_of("district.operator")
    runner: Any = _IdleRunner()
    with db.unit_of_work() as s:
        first, new = reports.request_report(s, district, runner, DISTRICT, "week", report_city.week.start)
        assert new and first.status == "queued"
        again, new_again = reports.request_report(s, district, runner, DISTRICT, "week", report_city.week.end)
        assert (again.id, new_again) == (first.id, False)
        other, new_other = reports.request_report(
            s, principal_of("operator"), runner, DISTRICT, "week", report_city.week.start
        )
        assert new_other and other.id != first.id  # someone else's request is their own
        month, _ = reports.request_report(s, district, runner, DISTRICT, "month", report_city.week.start)
        assert month.id not in (first.id, other.id)
        # Not ready yet: no file to download.
        with pytest.raises(Conflict) as refused:
            reports.report_file(s, district, first.id, "pdf")
        assert refused.value.code == "report_not_ready"


def test_a_failed_report_says_why_and_leaves_no_file(
    db: Database,
    report_city: ReportCity,
    principal_of: Callable[[str], Principal],
    report_store: LocalFileStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    district = principal_of("district.operator")
    runner: Any = _IdleRunner()
    with db.unit_of_work() as s:
        report, _ = reports.request_report(s, district, runner, DISTRICT, "week", report_city.week.start)
        job_id = report.job_id
    assert job_id is not None

    def broken(data: Any) -> Any:
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(reports, "render_xlsx", broken)
    assert jobs.run_job(db, job_id) == "failed"
    with db.unit_of_work(write=False) as s:
        row = s.get(CommandReport, report.id)
        assert row is not None
        assert (row.status, row.pdf_key, row.xlsx_key) == ("failed", None, None)
        assert row.error == "the report could not be made (internal error); the server log has the details"
        job = s.get(jobs.Job, job_id)
        assert job is not None and job.status == "failed"
    assert not list(report_store.root.rglob("*.*"))

    # A job that died with its process (failed by the runner's resume) shows its pending report as failed.
    with db.unit_of_work() as s:
        pending, _ = reports.request_report(s, district, runner, DISTRICT, "month", report_city.today)
        s.flush()
        dead = s.get(jobs.Job, pending.job_id)
        assert dead is not None
        dead.status, dead.message = "failed", "the server stopped while the job ran; start it again"
    with db.unit_of_work(write=False) as s:
        row = reports.get_report(s, district, pending.id)
        status = reports.effective_status(row, reports.job_states(s, [row]))
        assert status == ("failed", "the server stopped while the job ran; start it again")


def test_a_report_whose_area_left_the_requesters_rights_fails_with_the_reason(
    db: Database, report_city: ReportCity, principal_of: Callable[[str], Principal], report_store: LocalFileStore
) -> None:
    from dataclasses import replace

    district = principal_of("district.operator")
    runner: Any = _IdleRunner()
    with db.unit_of_work() as s:
        report, _ = reports.request_report(s, district, runner, DISTRICT, "week", report_city.week.start)
    narrowed = replace(district, permissions=district.permissions - {"command:read"})
    with pytest.raises(jobs.JobFailed):
        reports.produce(db, report_store, report.id, narrowed)
    with db.unit_of_work(write=False) as s:
        row = s.get(CommandReport, report.id)
        assert row is not None and row.status == "failed"
        assert row.error == "your role (center_operator) does not allow command:read"


def test_content_disposition_is_ascii_with_the_real_name_encoded() -> None:
    value = reports.content_disposition("蚌埠市 2026年11月 报告.pdf", "report-7.pdf")
    assert value == (
        'attachment; filename="report-7.pdf"; '
        "filename*=UTF-8''%E8%9A%8C%E5%9F%A0%E5%B8%82%202026%E5%B9%B411%E6%9C%88%20%E6%8A%A5%E5%91%8A.pdf"
    )
    value.encode("latin-1")  # a header value HTTP can carry
    assert report_data.PERIOD_TYPES == ("week", "month")
