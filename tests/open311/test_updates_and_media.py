"""servicerequestupdates (GET and POST), photos behind media_url, and refusals that leave nothing behind."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from civicgrid.cases.models import Case, CaseAction, CaseAttachment
from civicgrid.config import Settings
from civicgrid.core import clock
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from civicgrid.core.files import LocalFileStore
from tests.open311.conftest import IN_A2, V2, assert_spec_error, case_count, created, post_request
from tests.support.api import auth_headers


def comment(client: TestClient, key: str | None, code: str, fmt: str = "json", **fields: Any) -> Any:
    data = {"service_request_id": code, "description": "今天路过，信号灯还是不亮", **fields}
    if key is not None:
        data["api_key"] = key
    return client.post(f"{V2}/servicerequestupdates.{fmt}", data=data)


def updates(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{V2}/servicerequestupdates.json", params=params)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def _timeline(db: Database, code: str) -> list[CaseAction]:
    with db.sessions() as session:
        case_id = session.scalars(select(Case.id).where(Case.code == code)).one()
        return list(session.scalars(select(CaseAction).where(CaseAction.case_id == case_id).order_by(CaseAction.id)))


def test_the_reporting_app_comments_with_its_token(client: TestClient, db: Database, api_key: str) -> None:
    report = created(client, api_key)
    code = report["service_request_id"]
    response = comment(client, api_key, code, token=report["token"], media_url="https://photos.example.com/b.jpg")
    assert response.status_code == 201, response.text
    (item,) = response.json()
    assert item["service_request_id"] == code and item["status"] == "open"
    assert item["description"].endswith("今天路过，信号灯还是不亮")
    assert item["media_url"] == "https://photos.example.com/b.jpg"
    entry = _timeline(db, code)[-1]
    assert (entry.action, entry.actor_label) == ("comment", "apikey:街道通 app")
    assert entry.note == "今天路过，信号灯还是不亮\nhttps://photos.example.com/b.jpg"
    feed = updates(client)
    assert [(u["service_request_id"], u["update_id"]) for u in feed] == [
        (code, str(_timeline(db, code)[0].id)),
        (code, item["update_id"]),
    ]
    assert set(feed[0]) == {"service_request_id", "update_id", "updated_datetime", "status", "description", "media_url"}
    assert feed[0]["description"] == "上报 (reported)"
    notes = client.get(f"{V2}/requests/{code}.json", params={"extensions": "true"}).json()[0]["notes"]
    assert notes[-1]["type"] == "comment" and notes[-1]["description"].startswith("今天路过")
    root = ET.fromstring(client.get(f"{V2}/servicerequestupdates.xml").content)
    assert root.tag == "service_request_updates"
    assert [child.tag for child in root] == ["request_update", "request_update"]


def test_who_may_comment(
    client: TestClient, db: Database, api_key: str, make_key: Callable[..., str], o311_city: object
) -> None:
    report = created(client, api_key)
    code = report["service_request_id"]
    hidden = created(client, api_key, code="0101", description="邻里纠纷", at=IN_A2)
    assert_spec_error(comment(client, None, code), 403, "api_key is required")
    assert_spec_error(comment(client, "cgk_bad.key", code, fmt="xml"), 403, fmt="xml")
    # Without the token a resident app's key sees nothing to comment on.
    assert_spec_error(comment(client, api_key, code), 403, "may not comment")
    assert_spec_error(comment(client, api_key, code, token="wrong-token"), 403)
    assert_spec_error(comment(client, api_key, "SJ2000010100000001"), 404)
    # A hidden case answers as if it did not exist, unless its own token comes along.
    assert_spec_error(comment(client, api_key, hidden["service_request_id"]), 404)
    assert comment(client, api_key, hidden["service_request_id"], token=hidden["token"]).status_code == 201
    assert_spec_error(comment(client, api_key, code, token=report["token"], description=""), 400, "description")
    assert_spec_error(comment(client, api_key, code, token=report["token"], description="长" * 4001), 400, "4000")
    # A key of the staff whose area holds the case may comment without a token.
    staff = make_key(role="center_operator", name="区中心大屏")
    assert comment(client, staff, code).status_code == 201
    assert [a.action for a in _timeline(db, code)] == ["report", "comment"]


def test_updates_since_and_only_public_steps(client: TestClient, db: Database, api_key: str) -> None:
    code = created(client, api_key)["service_request_id"]
    headers = auth_headers(client, "worker.a1")
    case_id = _timeline(db, code)[0].case_id
    clock.advance(timedelta(minutes=10))
    mark = utcnow() - timedelta(minutes=5)
    for body in ({"action": "accept"}, {"action": "comment", "note": "内部备注"}, {"action": "start"}):
        assert client.post(f"/api/v1/cases/{case_id}/actions", json=body, headers=headers).status_code == 200
    feed = updates(client)
    assert [u["description"] for u in feed] == ["上报 (reported)", "受理 (accepted)", "开始处置 (work started)"]
    assert "内部" not in str(feed)
    later = updates(client, updated_after=mark.isoformat())
    assert [u["description"] for u in later] == ["受理 (accepted)", "开始处置 (work started)"]
    assert [u["update_id"] for u in updates(client, updated_before=mark.isoformat())] == [feed[0]["update_id"]]
    assert updates(client, updated_after=(utcnow() + timedelta(minutes=1)).isoformat()) == []
    assert [u["update_id"] for u in updates(client, page_size=2, page=2)] == [feed[2]["update_id"]]
    assert updates(client, service_request_id="SJ2000010100000001") == []
    assert_spec_error(client.get(f"{V2}/servicerequestupdates.json", params={"page_size": 1000}), 400)


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _attach(db: Database, settings: Settings, code: str, action: str) -> int:
    key = f"attachments/test/{code}-{action}-thumb.jpg"
    LocalFileStore(settings.files_dir).put(key, _photo(), "image/jpeg")
    entry = next(a for a in _timeline(db, code) if a.action == action)
    with db.unit_of_work() as session:
        row = CaseAttachment(
            case_id=entry.case_id, action_id=entry.id, storage_key=key, thumbnail_key=key, content_type="image/jpeg",
            size=100, width=32, height=24, sha256="0" * 64,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def test_media_url_links_the_first_public_photo(
    client: TestClient, db: Database, settings: Settings, api_key: str, tmp_path: Path
) -> None:
    settings.data_dir = tmp_path  # the app reads its settings object at request time
    with_photo = created(client, api_key)["service_request_id"]
    linked = created(client, api_key, code="0305", media_url="https://photos.example.com/c.jpg")["service_request_id"]
    photo_id = _attach(db, settings, with_photo, "report")
    headers = auth_headers(client, "worker.a1")
    case_id = _timeline(db, with_photo)[0].case_id
    client.post(f"/api/v1/cases/{case_id}/actions", json={"action": "comment", "note": "现场照片"}, headers=headers)
    internal_id = _attach(db, settings, with_photo, "comment")
    by_code = {i["service_request_id"]: i for i in client.get(f"{V2}/requests.json").json()}
    assert by_code[with_photo]["media_url"] == f"http://testserver{V2}/media/{photo_id}.jpg"
    assert by_code[linked]["media_url"] == "https://photos.example.com/c.jpg"
    response = client.get(f"{V2}/media/{photo_id}.jpg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content == _photo()
    assert_spec_error(client.get(f"{V2}/media/{internal_id}.jpg"), 404)  # a handler's photo stays inside
    assert_spec_error(client.get(f"{V2}/media/999999.jpg"), 404)
    feed = updates(client, service_request_id=with_photo)
    assert feed[0]["media_url"] == f"http://testserver{V2}/media/{photo_id}.jpg"


def test_a_failure_after_writing_leaves_nothing(
    client: TestClient, db: Database, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error answer is built after the request's unit of work rolled back."""
    from civicgrid.cases import intake

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the audit store is down")

    monkeypatch.setattr(intake.audit, "record", broken)
    assert_spec_error(post_request(client, api_key), 500, "nothing was changed")
    assert case_count(db) == 0
