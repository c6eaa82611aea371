"""The JSON and XML writers."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from civicgrid.open311.render import error_response, format_of_path, respond, timestamp, to_xml


def test_lists_nest_under_their_plural_element() -> None:
    body = [{"service_code": "0501", "metadata": True, "group": None, "notes": [{"type": "opened"}], "x": [1, 2]}]
    root = ET.fromstring(to_xml("services", body))
    assert root.tag == "services"
    (service,) = root
    assert service.tag == "service"
    assert service.findtext("metadata") == "true"
    assert service.findtext("group") == ""
    assert service.findtext("notes/note/type") == "opened"
    assert [i.text for i in service.findall("x/item")] == ["1", "2"]


@given(st.text())
def test_any_text_makes_well_formed_xml(text: str) -> None:
    root = ET.fromstring(to_xml("service_requests", [{"description": text}]))
    written = root.findtext("request/description") or ""
    assert len(written) <= len(text) + 1
    assert json.loads(respond("json", "service_requests", [{"description": text}]).body)[0]["description"] == text


def test_errors_and_formats() -> None:
    response = error_response("xml", 403, "api_key is required")
    assert response.status_code == 403
    root = ET.fromstring(response.body)
    assert (root.tag, root.findtext("error/code"), root.findtext("error/description")) == (
        "errors",
        "403",
        "api_key is required",
    )
    assert json.loads(error_response("json", 404, "gone").body) == [{"code": 404, "description": "gone"}]
    assert [format_of_path(p) for p in ("/a.xml", "/a.XML", "/a.json", "/a.csv", "/a")] == [
        "xml",
        "xml",
        "json",
        "json",
        "json",
    ]


def test_times_carry_the_offset() -> None:
    moment = datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
    assert timestamp(moment, ZoneInfo("Asia/Shanghai")) == "2026-05-01T08:30:00+08:00"
    assert timestamp(moment.replace(tzinfo=None), ZoneInfo("UTC")) == "2026-05-01T00:30:00+00:00"
    assert timestamp(None, ZoneInfo("UTC")) is None
