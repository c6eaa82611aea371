"""Case photos through the API: upload (raw and multipart), EXIF gone, thumbnails, binding only one's own
unused photos, serving only through a case the caller may see, and the refusals (415, 413)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicgrid.cases.models import Case, CaseAttachment
from civicgrid.config import Settings, random_secret
from civicgrid.core.db import Database
from tests.cases.conftest import IN_A1, IN_A2
from tests.support.api import assert_error
from tests.support.photos import GPS_SECRETS, gps_jpeg, noisy_jpeg, open_image

API = "/api/v1"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(mode="test", secret_key=random_secret(), serve_frontend=False, data_dir=tmp_path / "var")


def upload(api: Any, data: bytes, *, multipart: bool = False, status: int = 201) -> Any:
    client: TestClient = api.client
    if multipart:
        response = client.post(
            f"{API}/cases/attachments", files={"file": ("photo.jpg", data, "image/jpeg")}, headers=api.headers
        )
    else:
        response = client.post(
            f"{API}/cases/attachments", content=data, headers={**api.headers, "Content-Type": "image/jpeg"}
        )
    assert response.status_code == status, response.text
    return response.json()


def _count(db: Database, model: Any) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _stored_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.files_dir.rglob("*") if p.is_file()) if settings.files_dir.exists() else []


def _leftover_uploads(settings: Settings) -> list[Path]:
    directory = settings.data_dir / "uploads"
    return sorted(directory.iterdir()) if directory.exists() else []


def test_a_photo_with_gps_exif_is_served_without_it(as_user: Any, settings: Settings) -> None:
    worker = as_user("worker.a1")
    uploaded = upload(worker, gps_jpeg())
    assert uploaded["content_type"] == "image/jpeg" and (uploaded["width"], uploaded["height"]) == (64, 48)
    via_form = upload(worker, gps_jpeg(), multipart=True)
    case = worker.report(attachment_ids=[uploaded["id"], via_form["id"]])["case"]
    assert [a["id"] for a in case["attachments"]] == [uploaded["id"], via_form["id"]]
    assert case["timeline"][0]["attachment_ids"] == [uploaded["id"], via_form["id"]]

    photo = worker.client.get(case["attachments"][0]["url"], headers=worker.headers)
    assert photo.status_code == 200, photo.text
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"].startswith("private, max-age=")
    for secret in GPS_SECRETS:
        assert secret not in photo.content, secret
    image = open_image(photo.content)
    assert image.format == "JPEG" and not image.getexif() and "exif" not in image.info
    assert len(photo.content) == uploaded["size"]

    thumb = worker.client.get(case["attachments"][0]["thumbnail_url"], headers=worker.headers)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert open_image(thumb.content).format == "JPEG" and b"GPS" not in thumb.content
    assert _leftover_uploads(settings) == []  # the streamed upload is removed once stored


def test_a_text_file_is_refused_whatever_it_claims(as_user: Any, db: Database, settings: Settings) -> None:
    worker = as_user("worker.a1")
    error = upload(worker, "这不是照片，只是文字".encode(), status=415)
    assert error["error"]["code"] == "unsupported_media_type"
    upload(worker, b"", status=415)
    upload(worker, b"not a photo either", multipart=True, status=415)
    assert _count(db, CaseAttachment) == 0
    assert _stored_files(settings) == [] and _leftover_uploads(settings) == []


def test_a_photo_over_the_limit_is_refused_while_streaming(as_user: Any, db: Database, settings: Settings) -> None:
    worker = as_user("worker.a1")
    photo = noisy_jpeg()
    settings.attachment_max_bytes = len(photo) // 2  # the app holds this very settings object
    error = upload(worker, photo, status=413)
    assert error["error"]["code"] == "payload_too_large"
    assert "CIVICGRID_ATTACHMENT_MAX_BYTES" in error["error"]["message"]
    assert error["error"]["details"] == {"limit_bytes": len(photo) // 2}
    upload(worker, photo, multipart=True, status=413)
    assert _count(db, CaseAttachment) == 0
    assert _stored_files(settings) == [] and _leftover_uploads(settings) == []


def test_someone_elses_unused_photo_cannot_be_attached(as_user: Any, db: Database) -> None:
    mine, other = as_user("worker.a1"), as_user("worker.a2")
    photo = upload(mine, gps_jpeg())
    body = {"category_code": "0501", "lon": IN_A2[0], "lat": IN_A2[1], "attachment_ids": [photo["id"]]}
    response = other.client.post(f"{API}/cases", json=body, headers=other.headers)
    error = assert_error(response, 422, "invalid_input")
    assert error["details"] == [{"field": "attachment_ids", "problem": f"{photo['id']} not usable"}]
    assert _count(db, Case) == 0  # nothing of the refused report was written
    # Still unused, so its uploader may attach it — once.
    case = mine.report(attachment_ids=[photo["id"]])["case"]
    assert [a["id"] for a in case["attachments"]] == [photo["id"]]
    again = mine.client.post(
        f"{API}/cases/{case['id']}/actions",
        json={"action": "comment", "note": "再看一次", "attachment_ids": [photo["id"]]},
        headers=mine.headers,
    )
    assert_error(again, 422, "invalid_input")
    missing = {"category_code": "0502", "lon": IN_A1[0], "lat": IN_A1[1], "attachment_ids": [999999]}
    assert_error(mine.client.post(f"{API}/cases", json=missing, headers=mine.headers), 422)


def test_an_action_attaches_photos_too(as_user: Any) -> None:
    worker = as_user("worker.a1")
    case = worker.report()["case"]
    worker.act(case["id"], "start")
    photo = upload(worker, gps_jpeg())
    case = worker.act(case["id"], "handle", note="已更换井盖", attachment_ids=[photo["id"]])["case"]
    handled = next(e for e in case["timeline"] if e["action"] == "handle")
    assert handled["attachment_ids"] == [photo["id"]]


def test_photos_are_served_only_through_a_case_the_caller_may_see(as_user: Any, client: TestClient) -> None:
    worker = as_user("worker.a1")
    photo = upload(worker, gps_jpeg())
    case = worker.report(attachment_ids=[photo["id"]])["case"]
    other_case = worker.report(point=IN_A1, category="0502")["case"]
    unbound = upload(worker, gps_jpeg())
    url = f"{API}/cases/{case['id']}/attachments/{photo['id']}"

    for username in ("district.operator", "community.a", "operator"):
        viewer = as_user(username)
        assert client.get(url, headers=viewer.headers).status_code == 200, username
    for username in ("worker.a2", "other.operator", "worker.b1", "police"):
        outsider = as_user(username)
        assert_error(client.get(url, headers=outsider.headers), 404)
        assert_error(client.get(f"{url}?thumbnail=true", headers=outsider.headers), 404)
    # Another case's path, an unbound photo, a photo that does not exist: all 404, even for its uploader.
    assert_error(client.get(f"{API}/cases/{other_case['id']}/attachments/{photo['id']}", headers=worker.headers), 404)
    assert_error(client.get(f"{API}/cases/{case['id']}/attachments/{unbound['id']}", headers=worker.headers), 404)
    assert_error(client.get(f"{API}/cases/{case['id']}/attachments/999999", headers=worker.headers), 404)
    assert_error(client.get(url), 401)


def test_uploading_needs_the_report_permission(client: TestClient, cases_city: Any) -> None:
    from tests.support.api import auth_headers

    headers = {**auth_headers(client, "auditor"), "Content-Type": "image/jpeg"}
    assert_error(client.post(f"{API}/cases/attachments", content=gps_jpeg(), headers=headers), 403)
    assert_error(client.post(f"{API}/cases/attachments", content=gps_jpeg()), 401)


@pytest.fixture(autouse=True)
def _no_files_outside_tmp(settings: Settings) -> Iterator[None]:
    yield
    assert str(settings.files_dir).startswith(str(settings.data_dir))
