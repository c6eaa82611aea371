"""Interoperability: the GeoReport v2 client from PyPI (`georeport`) reads this server, JSON and XML.

The client speaks through `requests`; its HTTP layer is pointed at the app's TestClient.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.open311.conftest import IN_A2, V2, created

georeport = pytest.importorskip("georeport", reason="the georeport client (a dev dependency) is not installed")


class _Requests:
    """Stands in for the `requests` module inside georeport: GETs go to the TestClient."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, url: str, params: dict[str, Any] | None = None, **_kwargs: Any) -> Any:
        return self.client.get(url, params=params)


@pytest.fixture
def open311_client(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Any:
    import georeport.georeport as module

    monkeypatch.setattr(module, "requests", _Requests(client))

    def make(output_format: str) -> Any:
        return georeport.GeoReport(f"http://testserver{V2}/", output_format=output_format)

    return make


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_the_pypi_client_reads_services_and_requests(
    open311_client: Any, client: TestClient, api_key: str, output_format: str
) -> None:
    first = created(client, api_key)["service_request_id"]
    second = created(client, api_key, code="0501", at=IN_A2, **{"attribute[severity]": "minor"})["service_request_id"]
    reader = open311_client(output_format)
    services = reader.get_service_list()
    assert len(services) > 20
    manhole = next(s for s in services if s["service_code"] == "0501")
    assert manhole["service_name"] == "井盖缺失破损" and manhole["group"] == "市容环境"
    definition = reader.get_service_definition("0501")
    attributes = definition["attributes"]
    if output_format == "xml":  # xmltodict: <attributes><attribute>…</attribute>…</attributes>
        attributes = attributes["attribute"]
    assert [a["code"] for a in attributes] == ["severity", "affects"]
    requests = reader.get_service_requests(status="open")
    assert [r["service_request_id"] for r in requests] == [second, first]
    one = reader.get_service_request(first)
    assert one["service_request_id"] == first and one["service_code"] == "0304"
    assert float(one["lat"]) == 32.2 and float(one["long"]) == 117.1
    assert reader.get_service_requests(service_request_id=second)
