"""GET requests: which cases anyone may read, and how they read — filters, paging, extensions, XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from civicgrid.cases.models import Case
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from tests.open311.conftest import IN_A1, IN_A2, V2, assert_spec_error, created
from tests.support.api import auth_headers
from tests.support.city import TinyCity

FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
}  # fmt: skip


class Staff:
    def __init__(self, client: TestClient, db: Database, username: str) -> None:
        self.client, self.db = client, db
        self.headers = auth_headers(client, username)

    def act(self, code: str, action: str, **extra: Any) -> dict[str, Any]:
        with self.db.sessions() as session:
            case_id = session.scalars(select(Case.id).where(Case.code == code)).one()
        response = self.client.post(
            f"/api/v1/cases/{case_id}/actions", json={"action": action, **extra}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def listed(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{V2}/requests.json", params=params)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def test_only_public_categories_are_listed_and_never_the_reporter(client: TestClient, api_key: str) -> None:
    public = created(client, api_key, first_name="三", last_name="张", phone="13800138000", account_id="u-1")
    dispute = created(client, api_key, code="0101", description="邻居噪音纠纷")
    lead = created(client, api_key, code="0202", description="某出租屋疑似赌博", at=IN_A2)
    items = listed(client)
    assert [i["service_request_id"] for i in items] == [public["service_request_id"]]
    (item,) = items
    assert set(item) == FIELDS
    assert item["status"] == "open"
    assert item["service_code"] == "0304" and item["service_name"] == "道路交通隐患"
    assert (item["lat"], item["long"]) == IN_A1
    assert item["requested_datetime"].endswith("+08:00")
    assert item["agency_responsible"] == "天桥社区第1网格"
    assert item["expected_datetime"] is None  # not accepted yet: no handling deadline
    assert item["status_notes"] is None
    everything = client.get(f"{V2}/requests.json", params={"extensions": "true"}).text
    for secret in ("张三", "13800138000", "u-1", "街道通"):
        assert secret not in everything
    # Hidden classes answer as if they did not exist, however they are asked for.
    for code in (dispute["service_request_id"], lead["service_request_id"]):
        assert_spec_error(client.get(f"{V2}/requests/{code}.json"), 404, code)
    assert listed(client, service_request_id=dispute["service_request_id"]) == []
    assert listed(client, service_code="0101") == []
    # …though their reporter can still follow them by token.
    assert client.get(f"{V2}/tokens/{dispute['token']}.json").status_code == 200


def test_one_request_is_a_one_element_list_in_json_and_xml(client: TestClient, api_key: str) -> None:
    code = created(client, api_key, address_string="天桥路 12 号")["service_request_id"]
    body = client.get(f"{V2}/requests/{code}.json").json()
    assert isinstance(body, list) and len(body) == 1 and body[0]["address"] == "天桥路 12 号"
    response = client.get(f"{V2}/requests/{code}.xml")
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests" and [child.tag for child in root] == ["request"]
    request = root[0]
    assert request.findtext("service_request_id") == code
    assert request.findtext("long") == "117.1"
    assert request.find("zipcode") is not None and request.findtext("zipcode") == ""
    assert_spec_error(client.get(f"{V2}/requests/SJ2000010100000001.xml"), 404, fmt="xml")


def test_the_case_loop_shows_through(client: TestClient, db: Database, api_key: str, o311_city: TinyCity) -> None:
    worker = Staff(client, db, "worker.a1")
    handled = created(client, api_key)["service_request_id"]
    rejected = created(client, api_key, code="0305", at=IN_A2)["service_request_id"]
    dispatched = created(client, api_key, code="0303")["service_request_id"]
    worker.act(handled, "accept")
    worker.act(handled, "comment", note="内部：联系交警中队")  # a handler's own note stays inside
    worker.act(handled, "start")
    worker.act(handled, "handle", note="信号灯已修复")
    Staff(client, db, "worker.a2").act(rejected, "reject", note="经核实不属实")
    worker.act(dispatched, "accept")
    worker.act(dispatched, "dispatch", lead_unit_id=o311_city.units["dept-police"])
    by_code = {i["service_request_id"]: i for i in listed(client, extensions="true")}
    item = by_code[handled]
    assert item["status"] == "open" and item["status_notes"] == "信号灯已修复"
    assert item["expected_datetime"] is not None and item["expected_datetime"].endswith("+08:00")
    assert [n["type"] for n in item["notes"]] == ["opened", "status_change", "status_change", "status_change"]
    assert "内部" not in str(item)
    worker.act(handled, "pass")
    assert listed(client, service_request_id=handled)[0]["status"] == "closed"
    assert by_code[rejected]["status"] == "closed" and by_code[rejected]["status_notes"] == "经核实不属实"
    assert by_code[rejected]["notes"][-1] == {
        "datetime": by_code[rejected]["notes"][-1]["datetime"],
        "summary": "不予受理 (not accepted)",
        "description": "经核实不属实",
        "type": "closed",
    }
    assert by_code[dispatched]["agency_responsible"] == "蚌埠市公安局"
    assert by_code[dispatched]["extended_attributes"] == {
        "channel": "open311",
        "district_code": "340303",
        "street_code": "340303001",
        "community_code": "340303001001",
        "grid_code": "340303001001001",
        "duplicate_of": None,
        "followers": 0,
        "attributes": {},
    }
    closed = listed(client, status="closed")
    assert {i["service_request_id"] for i in closed} == {handled, rejected}
    assert {i["service_request_id"] for i in listed(client, status="open")} == {dispatched}
    assert len(listed(client, status="open,closed")) == 3
    assert_spec_error(client.get(f"{V2}/requests.json", params={"status": "pending"}), 400, "status")


def test_filters_dates_and_the_90_day_default(client: TestClient, db: Database, api_key: str) -> None:
    from civicgrid.cases import intake

    recent = created(client, api_key)["service_request_id"]
    lamp = created(client, api_key, code="0505", at=IN_A2, **{"attribute[severity]": "minor"})["service_request_id"]
    with db.unit_of_work() as session:
        long_ago = intake.Report("0304", 117.3, 32.7, reported_at=utcnow() - timedelta(days=120))
        old = intake.report(session, None, long_ago, source="open311").case.code
    assert {i["service_request_id"] for i in listed(client)} == {recent, lamp}
    assert [i["service_request_id"] for i in listed(client, service_code="0505")] == [lamp]
    assert len(listed(client, service_code="0505,0304")) == 2
    since = (utcnow() - timedelta(days=200)).date().isoformat()
    assert {i["service_request_id"] for i in listed(client, start_date=since)} == {recent, lamp, old}
    until = (utcnow() - timedelta(days=100)).isoformat()
    assert [i["service_request_id"] for i in listed(client, start_date=since, end_date=until)] == [old]
    # service_request_id overrides every other filter (the old one is outside the default window).
    both = listed(client, service_request_id=f"{old},{recent}", service_code="0505", status="closed")
    assert {i["service_request_id"] for i in both} == {old, recent}
    # Updated since: the old case was touched today, so it shows although reported long ago.
    assert len(listed(client, updated_after=(utcnow() - timedelta(hours=1)).isoformat())) == 3
    assert listed(client, updated_before=(utcnow() - timedelta(hours=1)).isoformat()) == []
    # An empty parameter equals an absent one; a bad one is a 400 that says why.
    assert len(listed(client, start_date="", service_code="", page="", page_size="")) == 2
    assert_spec_error(client.get(f"{V2}/requests.json", params={"start_date": "last week"}), 400, "ISO 8601")
    # A + of an offset left unencoded arrives as a space; it is read as meant.
    assert len(listed(client, start_date=f"{since}T00:00:00 08:00")) == 3


def test_paging(client: TestClient, api_key: str) -> None:
    codes = [
        created(client, api_key, code=code, at=at)["service_request_id"]
        for code in ("0304", "0305", "0303")
        for at in (IN_A1, IN_A2)
    ]
    newest_first = list(reversed(codes))
    assert [i["service_request_id"] for i in listed(client)] == newest_first
    assert [i["service_request_id"] for i in listed(client, page_size=4)] == newest_first[:4]
    assert [i["service_request_id"] for i in listed(client, page_size=4, page=2)] == newest_first[4:]
    assert listed(client, page_size=4, page=3) == []
    for bad in ({"page_size": 501}, {"page_size": 0}, {"page": 0}, {"page": "two"}):
        assert_spec_error(client.get(f"{V2}/requests.json", params=bad), 400)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_list_in_both_formats(client: TestClient, api_key: str, fmt: str) -> None:
    created(client, api_key)
    created(client, api_key, code="0305")
    response = client.get(f"{V2}/requests.{fmt}", params={"extensions": "true"})
    assert response.status_code == 200
    if fmt == "xml":
        root = ET.fromstring(response.content)
        assert root.tag == "service_requests" and [c.tag for c in root] == ["request", "request"]
        assert root.findtext("request/extended_attributes/channel") == "open311"
        assert root.findtext("request/notes/note/type") == "opened"
        assert {child.tag for child in root[0]} >= FIELDS
    else:
        assert len(response.json()) == 2
