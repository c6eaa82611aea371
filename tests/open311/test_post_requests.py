"""POST requests: a client app's report becomes a case through intake (source open311)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from civicgrid.cases.models import Case, CaseAction
from civicgrid.core.db import Database
from tests.open311.conftest import IN_A1, IN_A2, OUTSIDE, V2, assert_spec_error, case_count, created, post_request
from tests.support.city import GRID_A1, TinyCity


def _case(db: Database, code: str) -> tuple[Case, CaseAction]:
    with db.sessions() as session:
        case = session.scalars(select(Case).where(Case.code == code)).one()
        entry = session.scalars(select(CaseAction).where(CaseAction.case_id == case.id)).first()
        assert entry is not None
        return case, entry


def test_a_report_becomes_a_case_with_its_attributes_and_reporter(
    client: TestClient, db: Database, api_key: str, keyring: object
) -> None:
    response = post_request(
        client,
        api_key,
        code="0501",
        description="人行道井盖缺失",
        first_name="三",
        last_name="张",
        phone="13800138000",
        email="zhang@example.com",
        account_id="app-user-17",
        device_id="device-9",
        address_string="蚌山区天桥路 12 号",
        media_url="https://photos.example.com/a.jpg",
        **{"attribute[severity]": "severe", "attribute[affects][]": ["sidewalk", "roadway"]},
    )
    assert response.status_code == 201, response.text
    (item,) = response.json()
    assert set(item) == {"service_request_id", "token", "service_notice", "account_id"}
    assert item["service_request_id"].startswith("SJ")
    assert item["token"]
    assert item["account_id"] == "app-user-17"
    assert item["service_request_id"] in item["service_notice"]
    case, entry = _case(db, item["service_request_id"])
    assert (case.source, case.category_code, case.grid_code, case.status) == ("open311", "0501", GRID_A1, "reported")
    assert case.address == "蚌山区天桥路 12 号"
    assert case.description == "人行道井盖缺失"
    assert case.reporter_name == "张三"  # family name first, as Chinese names are written
    assert case.reporter_phone_enc is not None and b"13800138000" not in case.reporter_phone_enc
    assert case.reporter_user_id is None
    assert entry.action == "report"
    assert entry.data == {
        "source": "open311",
        "attributes": {
            "severity": "severe",
            "affects": ["sidewalk", "roadway"],
            "media_url": "https://photos.example.com/a.jpg",
        },
    }
    # Tracking by token.
    tokens = client.get(f"{V2}/tokens/{item['token']}.json").json()
    assert tokens == [{"service_request_id": item["service_request_id"], "token": item["token"]}]
    root = ET.fromstring(client.get(f"{V2}/tokens/{item['token']}.xml").content)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == item["service_request_id"]
    assert_spec_error(client.get(f"{V2}/tokens/not-a-token.json"), 404)


def test_western_names_keep_their_order(client: TestClient, db: Database, api_key: str) -> None:
    item = created(client, api_key, first_name="Anna", last_name="Schmidt")
    assert _case(db, item["service_request_id"])[0].reporter_name == "Anna Schmidt"


def test_answer_in_xml(client: TestClient, api_key: str) -> None:
    response = post_request(client, api_key, fmt="xml")
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    (request,) = root
    assert request.tag == "request"
    assert request.findtext("service_request_id", "").startswith("SJ")
    assert request.findtext("token")


def test_the_same_problem_nearby_is_merged(client: TestClient, db: Database, api_key: str) -> None:
    first = created(client, api_key)
    near = (IN_A1[0] + 0.0001, IN_A1[1])  # about 11 m away
    response = post_request(client, api_key, at=near)
    assert response.status_code == 200, response.text
    (second,) = response.json()
    assert second["service_request_id"] == first["service_request_id"]
    assert "合并" in second["service_notice"] and "added to it" in second["service_notice"]
    assert second["token"] and second["token"] != first["token"]
    assert case_count(db) == 1
    assert _case(db, first["service_request_id"])[0].followers == 1
    # The follower tracks it with its own token.
    assert (
        client.get(f"{V2}/tokens/{second['token']}.json").json()[0]["service_request_id"]
        == (first["service_request_id"])
    )
    # Another category at the same place, or the same one elsewhere, is a new case.
    assert created(client, api_key, code="0305")["service_request_id"] != first["service_request_id"]
    assert created(client, api_key, at=IN_A2)["service_request_id"] != first["service_request_id"]
    assert case_count(db) == 3


def test_bad_inputs_are_spec_errors_and_create_nothing(
    client: TestClient, db: Database, api_key: str, make_key: Callable[..., str]
) -> None:
    assert_spec_error(post_request(client, None), 403, "api_key is required")
    assert_spec_error(post_request(client, "cgk_wrong.key"), 403, "not valid")
    assert_spec_error(post_request(client, "something else", fmt="xml"), 403, fmt="xml")
    assert_spec_error(post_request(client, api_key, at=None), 400, "send lat and long")
    assert_spec_error(
        post_request(client, api_key, at=None, address_string="天桥路 12 号"),
        400,
        "address_string alone cannot be placed; send lat and long",
    )
    assert_spec_error(post_request(client, api_key, at=None, address_id="A-1"), 400, "address_id")
    assert_spec_error(post_request(client, api_key, at=None, lat="32.2"), 400, "both lat and long")
    assert_spec_error(post_request(client, api_key, at=None, lat="north", long="117.1"), 400, "lat")
    assert_spec_error(post_request(client, api_key, code="9999"), 400, "9999")
    assert_spec_error(post_request(client, api_key, code=""), 400, "service_code is required")
    assert_spec_error(post_request(client, api_key, description="长" * 5000), 400, "4000")
    assert_spec_error(post_request(client, api_key, at=OUTSIDE), 400, "outside the city")
    assert_spec_error(post_request(client, api_key, phone="12"), 400, "phone")
    assert_spec_error(post_request(client, api_key, media_url="file:///etc/passwd"), 400, "media_url")
    assert_spec_error(post_request(client, api_key, email="not-an-address"), 400, "email")
    # A revoked key, and a key whose role may not report.
    auditor = make_key(role="auditor", name="audit robot")
    assert_spec_error(post_request(client, auditor), 403, "case:report")
    # A JSON body is not what GeoReport v2 sends.
    assert_spec_error(client.post(f"{V2}/requests.json", json={"api_key": api_key}), 403)
    response = client.post(
        f"{V2}/requests.json", json={"service_code": "0304", "lat": 32.2, "long": 117.1}, params={"api_key": api_key}
    )
    assert_spec_error(response, 400, "form-encoded")
    assert case_count(db) == 0


def test_revoked_key_is_refused(client: TestClient, db: Database, api_key: str) -> None:
    from tests.support.api import auth_headers

    headers = auth_headers(client, "admin")
    keys = client.get("/api/v1/api-keys", headers=headers).json()["items"]
    assert client.delete(f"/api/v1/api-keys/{keys[0]['id']}", headers=headers).status_code == 200
    assert_spec_error(post_request(client, api_key), 403, "not valid")
    assert case_count(db) == 0


def test_attributes_are_checked(client: TestClient, db: Database, api_key: str) -> None:
    def refused(code: str, words: str, **attrs: object) -> None:
        fields = {f"attribute[{k.replace('__', '][')}]": v for k, v in attrs.items()}
        assert_spec_error(post_request(client, api_key, code=code, **fields), 400, words)

    refused("0501", "severity is required")
    refused("0501", "no attribute 'colour'", severity="minor", colour="red")
    refused("0501", "one of minor, moderate, severe", severity="awful")
    refused("0501", "takes one value", severity__=["minor", "severe"])
    refused("0501", "one of roadway", severity="minor", affects__=["roadway", "sky"])
    refused("0301", "must be a number", people_at_risk="many")
    refused("0301", "whole number", people_at_risk="2.5")
    refused("0301", "at least 0", people_at_risk="-3")
    refused("0601", "ISO 8601", started_at="yesterday")
    refused("0401", "utility is required")
    refused("0701", "no attribute", anything="x")
    assert case_count(db) == 0
    ok = created(client, api_key, code="0301", **{"attribute[people_at_risk]": "12", "attribute[hazard_state]": ""})
    assert _case(db, ok["service_request_id"])[1].data["attributes"] == {"people_at_risk": 12}
    fire = created(client, api_key, code="0601", **{"attribute[started_at]": "2026-05-01T08:30:00+08:00"})
    assert _case(db, fire["service_request_id"])[1].data["attributes"] == {"started_at": "2026-05-01T08:30:00+08:00"}
    plain = created(client, api_key, code="0701", at=IN_A2)
    assert "attributes" not in _case(db, plain["service_request_id"])[1].data


def test_a_key_scoped_to_one_area_reports_there(
    client: TestClient, db: Database, make_key: Callable[..., str], o311_city: TinyCity
) -> None:
    from tests.support.city import GRID_A2

    worker_key = make_key(role="grid_worker", scope=GRID_A2, name="网格通")
    assert created(client, worker_key, at=IN_A2)["service_request_id"].startswith("SJ")
    assert_spec_error(post_request(client, worker_key, at=IN_A1), 400, "outside the area of this API key")
    assert case_count(db) == 1


def test_a_hidden_class_is_taken_but_said_to_be_unpublished(client: TestClient, db: Database, api_key: str) -> None:
    item = created(client, api_key, code="0101", description="楼上楼下噪音纠纷")
    assert "不公开" in item["service_notice"]
    assert _case(db, item["service_request_id"])[0].category_code == "0101"
