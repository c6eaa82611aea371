"""discovery, services and service definitions, in JSON and XML; errors in the spec's shape."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.cases.categories import DEFAULT_CATEGORIES
from civicgrid.core.db import Database
from tests.open311.conftest import V2, assert_spec_error
from tests.support.city import CITY, TinyCity

LEAVES = [row for row in DEFAULT_CATEGORIES if len(row[0]) == 4]


def test_discovery_in_json_and_xml(client: TestClient) -> None:
    body = client.get(f"{V2}/discovery.json").json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "test"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    response = client.get(f"{V2}/discovery.xml")
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "discovery"
    assert root.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_services_one_per_active_leaf_category(client: TestClient, o311_city: TinyCity) -> None:
    services = client.get(f"{V2}/services.json").json()
    assert [s["service_code"] for s in services] == [row[0] for row in LEAVES]
    by_code = {s["service_code"]: s for s in services}
    manhole = by_code["0501"]
    assert manhole == {
        "service_code": "0501",
        "service_name": "井盖缺失破损",
        "description": "井盖缺失破损 (Missing or broken manhole cover)",
        "metadata": True,
        "type": "realtime",
        "keywords": "井盖缺失破损,Missing or broken manhole cover,市容环境,City appearance and environment",
        "group": "市容环境",
    }
    assert by_code["0701"]["metadata"] is False  # 其他 asks nothing more
    assert by_code["0301"]["metadata"] is True
    assert "不公开" in by_code["0101"]["description"]  # disputes are taken, never published
    root = ET.fromstring(client.get(f"{V2}/services.xml").content)
    assert root.tag == "services"
    assert {child.tag for child in root} == {"service"}
    first = root[0]
    assert first.findtext("service_code") == "0101"
    assert first.findtext("metadata") == "false"
    assert first.findtext("group") == "矛盾纠纷"


def test_retired_category_is_not_offered(client: TestClient, db: Database, o311_city: TinyCity) -> None:
    from civicgrid.cases.categories import update_category

    editor = Principal(None, "editor", "admin", frozenset({"case:admin"}), Scope(CITY, Level.city))
    with db.unit_of_work() as session:
        update_category(session, editor, "0504", {"active": False})
        update_category(session, editor, "07", {"active": False})  # a retired class takes its categories along
    codes = [s["service_code"] for s in client.get(f"{V2}/services.json").json()]
    assert "0504" not in codes
    assert "0701" not in codes
    assert len(codes) == len(LEAVES) - 3
    assert_spec_error(client.get(f"{V2}/services/0504.json"), 404)


def test_service_definition_lists_its_attributes(client: TestClient, o311_city: TinyCity) -> None:
    body = client.get(f"{V2}/services/0501.json").json()
    assert body["service_code"] == "0501"
    codes = [(a["code"], a["datatype"], a["required"], a["order"]) for a in body["attributes"]]
    assert codes == [("severity", "singlevaluelist", True, 1), ("affects", "multivaluelist", False, 2)]
    severity = body["attributes"][0]
    assert severity["variable"] is True
    assert [v["key"] for v in severity["values"]] == ["minor", "moderate", "severe"]
    # A category adds its own to its class's.
    utility = client.get(f"{V2}/services/0401.json").json()["attributes"]
    assert [a["code"] for a in utility] == ["utility", "households_affected"]
    hazard = client.get(f"{V2}/services/0305.json").json()["attributes"]
    assert ("people_at_risk", "number") in [(a["code"], a["datatype"]) for a in hazard]
    assert client.get(f"{V2}/services/0701.json").json()["attributes"] == []
    root = ET.fromstring(client.get(f"{V2}/services/0501.xml").content)
    assert root.tag == "service_definition"
    assert root.findtext("attributes/attribute/code") == "severity"
    assert [v.findtext("key") for v in root.findall("attributes/attribute/values/value")][:3] == [
        "minor",
        "moderate",
        "severe",
    ]


def test_unknown_service_is_a_spec_404(client: TestClient, o311_city: TinyCity) -> None:
    assert_spec_error(client.get(f"{V2}/services/9999.json"), 404, "9999")
    assert_spec_error(client.get(f"{V2}/services/05.xml"), 404, fmt="xml")  # a class is not a service


def test_unknown_format_and_endpoint_answer_in_the_spec_shape(client: TestClient, o311_city: TinyCity) -> None:
    assert_spec_error(client.get(f"{V2}/services.csv"), 400, ".json or .xml")
    assert_spec_error(client.get(f"{V2}/nothing.json"), 404, "discovery.json")
    assert_spec_error(client.get(f"{V2}/nothing.xml"), 404, fmt="xml")
    assert_spec_error(client.delete(f"{V2}/requests.json"), 404)
    # FastAPI's own validation (a photo id that is not a number) answers 400 in the spec's shape too.
    assert_spec_error(client.get(f"{V2}/media/abc.jpg"), 400)
    # The platform API keeps its own error shape.
    platform = client.get("/api/v1/cases/abc")
    assert set(platform.json()) == {"error"}


def test_open311_is_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/open311")]
