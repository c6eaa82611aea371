"""Registry exports: masked, scoped, filtered, streamed as CSV or XLSX, audited with filters and count."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.support.api import assert_error, auth_headers
from tests.support.city import GRID_A1
from tests.support.imports import API, make_client
from tests.support.registry import A_ID_NUMBER, A_PHONE, B_ID_NUMBER, TinyRegistry

from civicgrid.audit.models import AuditRecord
from civicgrid.config import Settings, random_secret
from civicgrid.core.db import Database


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(mode="test", secret_key=random_secret(), serve_frontend=False, data_dir=tmp_path / "var")


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    yield from make_client(settings, db)


def _csv(response: object) -> list[dict[str, str]]:
    content: bytes = response.content  # type: ignore[attr-defined]
    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with a BOM
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_people_export_is_masked_and_audited(client: TestClient, db: Database, tiny_registry: TinyRegistry) -> None:
    response = client.get(f"{API}/registry/exports/people", headers=auth_headers(client, "operator"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = {r["id"]: r for r in _csv(response)}
    a = rows[str(tiny_registry.people["a"])]
    assert a["name"] == "张*明"
    assert a["id_number"] == A_ID_NUMBER[:6] + "********" + A_ID_NUMBER[-4:]
    assert a["phone"] == A_PHONE[:3] + "****" + A_PHONE[-4:]
    assert a["birth_year"] == "1985" and "birth_date" not in a
    text = response.content.decode("utf-8-sig")
    for secret in (A_ID_NUMBER, B_ID_NUMBER, A_PHONE, "张三明", "李四红", "1985-03-14"):
        assert secret not in text
    with db.unit_of_work(write=False) as s:
        (record,) = s.scalars(select(AuditRecord).where(AuditRecord.action == "registry.export_people"))
    assert record.details == {"format": "csv", "filters": {"status": "active"}, "rows": 2}


def test_export_follows_scope_filters_and_permission(
    client: TestClient, db: Database, tiny_registry: TinyRegistry
) -> None:
    filtered = client.get(
        f"{API}/registry/exports/people", params={"grid_code": GRID_A1}, headers=auth_headers(client, "operator")
    )
    assert [r["id"] for r in _csv(filtered)] == [str(tiny_registry.people["a"])]
    other = client.get(f"{API}/registry/exports/people", headers=auth_headers(client, "other.operator"))
    assert _csv(other) == []  # district 340304 holds nobody of the tiny registry
    assert other.headers["x-total-count"] == "0"
    for username in ("community.a", "worker.a1", "admin"):  # no registry:export
        assert_error(client.get(f"{API}/registry/exports/people", headers=auth_headers(client, username)), 403)
    with db.unit_of_work(write=False) as s:
        records = list(s.scalars(select(AuditRecord).where(AuditRecord.action == "registry.export_people")))
    assert [r.details["filters"] for r in records] == [{"grid_code": GRID_A1, "status": "active"}, {"status": "active"}]


def test_xlsx_export_of_people_and_houses(client: TestClient, tiny_registry: TinyRegistry) -> None:
    from openpyxl import load_workbook

    headers = auth_headers(client, "operator")
    response = client.get(f"{API}/registry/exports/people", params={"format": "xlsx"}, headers=headers)
    assert response.status_code == 200, response.text
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    header, *data = rows
    assert header[:3] == ("id", "person_type", "name")
    assert sorted(r[2] for r in data) == ["张*明", "李*红"]
    assert A_ID_NUMBER not in str(rows)

    houses = client.get(f"{API}/registry/exports/houses", params={"format": "csv"}, headers=headers)
    lines = _csv(houses)
    assert {r["owner_name"] for r in lines} == {"张*明", "李*红"}
    assert {r["id"] for r in lines} == {str(h) for h in tiny_registry.houses.values()}


def test_an_export_larger_than_one_chunk_streams_every_row(
    client: TestClient, db: Database, tiny_registry: TinyRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civicgrid.registry import exporters

    monkeypatch.setattr(exporters, "CHUNK", 1)
    response = client.get(f"{API}/registry/exports/houses", headers=auth_headers(client, "operator"))
    assert len(_csv(response)) == 2
