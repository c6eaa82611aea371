"""The API's own conventions: operation ids, error shape, request ids, health, metrics."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from tests.support.api import assert_error, auth_headers
from tests.support.city import TinyCity


def test_every_operation_has_an_explicit_unique_id_and_error_shape(client: TestClient) -> None:
    document = client.app.openapi()  # type: ignore[attr-defined]
    ids = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            op_id = operation.get("operationId", "")
            # FastAPI's generated ids look like `list_users_api_v1_users_get`; ours are `<module>_<verb>`.
            assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", op_id), f"{method} {path}: {op_id!r}"
            assert "_api_v1_" not in op_id, f"{method} {path} has a generated operation id"
            ids.append(op_id)
            if path.startswith("/api/v1/") and path != "/api/v1/meta":
                schema = operation["responses"]["422"]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, f"{method} {path}"
    assert len(ids) == len(set(ids))
    assert len(ids) >= 20


def test_unknown_endpoint_and_method_use_the_error_shape(client: TestClient) -> None:
    assert "no such endpoint" in assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")["message"]
    assert_error(client.delete("/api/v1/meta"), 405, "method_not_allowed")


def test_request_ids_are_issued_and_kept(client: TestClient) -> None:
    issued = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", issued)
    assert client.get("/healthz", headers={"X-Request-ID": "trace-123"}).headers["x-request-id"] == "trace-123"
    # An id that could smuggle content into logs is replaced.
    assert client.get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"] != "bad id\n"


def test_health_readiness_and_metrics(client: TestClient, tiny_city: TinyCity) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    client.get("/api/v1/geo/divisions", headers=auth_headers(client, "operator"))
    metrics = client.get("/metrics").text
    assert 'civicgrid_http_requests_total{method="GET",route="/api/v1/geo/divisions",status="200"}' in metrics
    assert "civicgrid_http_request_seconds_bucket" in metrics


def test_meta_is_public(client: TestClient) -> None:
    meta = client.get("/api/v1/meta").json()
    assert meta["timezone"] == "Asia/Shanghai"
    assert meta["demo"] is False
    assert meta["map_style_url"] is None


def test_logs_are_json_and_free_of_request_content(client: TestClient, tiny_city: TinyCity, caplog) -> None:  # type: ignore[no-untyped-def]
    import json
    import logging

    from civicgrid.core.observability import JsonFormatter

    caplog.set_level(logging.INFO, logger="civicgrid.access")
    client.post("/api/v1/auth/login", json={"username": "operator", "password": "Secret-Guess-123"})
    client.get("/api/v1/geo/divisions", params={"q": "天桥"}, headers=auth_headers(client, "operator"))
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "civicgrid.access"]
    assert lines
    for line in lines:
        entry = json.loads(line)
        assert {"time", "level", "message", "method", "route", "status", "ms"} <= set(entry)
        assert "Secret-Guess-123" not in line and "天桥" not in line and "operator" not in line
