"""The residents' API without an account: photos with an upload token, a report answering a tracking
token, progress by token, rating once after closure, +1 on the same problem — and the refusals, none of
which leaves anything behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case, CaseAttachment, CaseFollower
from civicgrid.config import Settings, random_secret
from civicgrid.core.db import Database
from tests.cases.conftest import IN_A1, IN_A2, OUTSIDE
from tests.support.api import assert_error, auth_headers
from tests.support.photos import GPS_SECRETS, gps_jpeg, open_image

PUBLIC = "/api/v1/public/cases"
PHONE = "13912345678"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(mode="test", secret_key=random_secret(), serve_frontend=False, data_dir=tmp_path / "var")


def upload(client: TestClient, token: str | None = None, status: int = 201) -> Any:
    headers = {"Content-Type": "image/jpeg", **({"X-Upload-Token": token} if token else {})}
    response = client.post(f"{PUBLIC}/attachments", content=gps_jpeg(), headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def report_body(point: tuple[float, float] = IN_A1, **extra: Any) -> dict[str, Any]:
    return {"category_code": "0501", "lon": point[0], "lat": point[1], "description": "路口井盖没了", **extra}


def counts(db: Database) -> tuple[int, int, int, int]:
    """Cases, bound photos, followers and audit records."""
    with db.unit_of_work(write=False) as s:
        bound = select(func.count()).select_from(CaseAttachment).where(CaseAttachment.case_id.is_not(None))
        return (
            s.scalar(select(func.count()).select_from(Case)) or 0,
            s.scalar(bound) or 0,
            s.scalar(select(func.count()).select_from(CaseFollower)) or 0,
            s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action.like("case.%"))) or 0,
        )


def test_an_anonymous_report_is_tracked_closed_and_rated_once(client: TestClient, as_user: Any, db: Database) -> None:
    first = upload(client)
    second = upload(client, token=first["upload_token"])
    assert second["upload_token"] == first["upload_token"]
    body = report_body(
        attachment_ids=[first["id"], second["id"]],
        upload_token=first["upload_token"],
        anonymous=False,
        reporter_name="王先生",
        reporter_phone=PHONE,
    )
    response = client.post(PUBLIC, json=body)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["code"].startswith("SJ") and made["token"] and made["created"] and not made["followed"]
    token = made["token"]

    tracked = client.get(f"{PUBLIC}/track/{token}")
    assert tracked.status_code == 200, tracked.text
    case = tracked.json()
    assert case["id"] == made["id"] and case["public_status"] == "open" and case["can_rate"] is False
    assert case["attachment_ids"] == [first["id"], second["id"]]
    photo = client.get(f"{PUBLIC}/track/{token}/attachments/{first['id']}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert not any(secret in photo.content for secret in GPS_SECRETS)
    thumb = client.get(f"{PUBLIC}/track/{token}/attachments/{second['id']}", params={"thumbnail": "true"})
    assert thumb.status_code == 200 and open_image(thumb.content).format == "JPEG"

    early = client.post(f"{PUBLIC}/track/{token}/rate", json={"satisfaction": 5})
    error = assert_error(early, 409, "action_not_allowed")
    assert "closed" in error["message"]

    # The grid worker of the place takes it up and closes it; the reporter sees the steps, not the people.
    worker = as_user("worker.a1")
    detail = worker.get(f"/cases/{made['id']}")
    assert detail["reporter_name"] == "王*生" and detail["reporter_phone"] != PHONE and detail["source"] == "resident"
    worker.act(made["id"], "accept")
    worker.act(made["id"], "start")
    worker.act(made["id"], "handle", note="已补装井盖")
    worker.act(made["id"], "pass")
    tracked = client.get(f"{PUBLIC}/track/{token}")
    case = tracked.json()
    assert (case["status"], case["public_status"], case["can_rate"]) == ("closed", "closed", True)
    assert [e["action"] for e in case["timeline"]] == ["report", "accept", "start", "handle", "pass"]
    assert next(e for e in case["timeline"] if e["action"] == "handle")["note"] == "已补装井盖"
    for secret in ("worker.a1", "Worker A1", PHONE, "王先生"):
        assert secret not in tracked.text

    rated = client.post(f"{PUBLIC}/track/{token}/rate", json={"satisfaction": 4, "comment": "修得快"})
    assert rated.status_code == 200, rated.text
    assert rated.json()["satisfaction"] == 4 and rated.json()["can_rate"] is False
    assert_error(client.post(f"{PUBLIC}/track/{token}/rate", json={"satisfaction": 1}), 409)
    assert worker.get(f"/cases/{made['id']}")["satisfaction"] == 4
    assert_error(client.post(f"{PUBLIC}/track/{token}/rate", json={"satisfaction": 6}), 422)


def test_a_bad_token_is_a_clear_404(client: TestClient, cases_city: Any) -> None:
    made = client.post(PUBLIC, json=report_body()).json()
    for response in (
        client.get(f"{PUBLIC}/track/not-the-token"),
        client.get(f"{PUBLIC}/track/{made['token'][:-2]}"),
        client.get(f"{PUBLIC}/track/not-the-token/attachments/1"),
        client.post(f"{PUBLIC}/track/not-the-token/rate", json={"satisfaction": 5}),
    ):
        error = assert_error(response, 404, "unknown_token")
        assert "token" in error["message"] and "copied" in error["message"]


def test_a_token_serves_only_its_own_cases_photos(client: TestClient, cases_city: Any) -> None:
    mine = upload(client)
    theirs = upload(client)
    unused = upload(client, token=mine["upload_token"])
    made = client.post(PUBLIC, json=report_body(attachment_ids=[mine["id"]], upload_token=mine["upload_token"])).json()
    client.post(
        PUBLIC,
        json=report_body(IN_A2, attachment_ids=[theirs["id"]], upload_token=theirs["upload_token"]),
    )
    for photo in (theirs, unused, {"id": 999999}):
        assert_error(client.get(f"{PUBLIC}/track/{made['token']}/attachments/{photo['id']}"), 404)


def test_photos_bind_only_with_their_own_upload_token(client: TestClient, db: Database, cases_city: Any) -> None:
    theirs = upload(client)
    mine = upload(client)
    before = counts(db)
    for token in (mine["upload_token"], None):
        body = report_body(attachment_ids=[theirs["id"]], upload_token=token)
        assert_error(client.post(PUBLIC, json=body), 422, "invalid_input")
    assert counts(db) == before


def test_the_same_problem_offers_a_plus_one_with_its_own_token(client: TestClient, as_user: Any, db: Database) -> None:
    made = client.post(PUBLIC, json=report_body()).json()
    before = counts(db)
    duplicate = client.post(PUBLIC, json=report_body((IN_A1[0] + 0.0003, IN_A1[1])))
    error = assert_error(duplicate, 409, "possible_duplicate")
    assert [c["id"] for c in error["details"]["candidates"]] == [made["id"]]
    assert counts(db) == before

    followed = client.post(f"{PUBLIC}/{made['id']}/follow")
    assert followed.status_code == 200, followed.text
    plus_one = followed.json()
    assert plus_one["followed"] and plus_one["token"] and plus_one["token"] != made["token"]
    tracked = client.get(f"{PUBLIC}/track/{plus_one['token']}").json()
    assert tracked["id"] == made["id"] and tracked["followers"] == 1 and tracked["can_rate"] is False

    worker = as_user("worker.a1")
    for action, note in (("accept", None), ("start", None), ("handle", "已修复"), ("pass", None)):
        worker.act(made["id"], action, **({"note": note} if note else {}))
    assert_error(client.post(f"{PUBLIC}/track/{plus_one['token']}/rate", json={"satisfaction": 5}), 403)
    assert_error(client.post(f"{PUBLIC}/{made['id']}/follow"), 409)  # closed: report it anew
    assert_error(client.post(f"{PUBLIC}/999999/follow"), 404)


def test_refused_reports_leave_nothing_behind(client: TestClient, db: Database, cases_city: Any) -> None:
    photo = upload(client)
    before = counts(db)
    refusals = [
        (report_body(reporter_phone="12345", anonymous=False), 422, "reporter_phone"),
        (report_body(reporter_phone="not a phone"), 422, "reporter_phone"),
        (report_body(OUTSIDE), 422, "location"),
        (report_body(category_code="9999"), 422, "category_code"),
        (report_body(category_code="05"), 422, "category_code"),
        (report_body(description=""), 422, None),
        (report_body(reporter_role="admin"), 422, None),
    ]
    for body, status, field in refusals:
        body.update(attachment_ids=[photo["id"]], upload_token=photo["upload_token"])
        error = assert_error(client.post(PUBLIC, json=body), status)
        if field is not None:
            assert error["details"][0]["field"] == field, error
    assert counts(db) == before
    # The photo is still unused: the next, valid report claims it.
    body = report_body(attachment_ids=[photo["id"]], upload_token=photo["upload_token"])
    assert client.post(PUBLIC, json=body).status_code == 201


def test_a_flood_from_one_address_is_refused(
    client: TestClient, db: Database, settings: Settings, cases_city: Any
) -> None:
    settings.public_rate_per_minute = 3  # read when the app first limits a public write
    for _ in range(3):
        assert_error(client.post(PUBLIC, json=report_body(reporter_phone="12345")), 422)
    before = counts(db)
    flood = client.post(PUBLIC, json=report_body())
    error = assert_error(flood, 429, "too_many_requests")
    assert error["details"] == {"limit_per_minute": 3}
    assert counts(db) == before
    # Uploads are counted on their own.
    tokens = [upload(client)["upload_token"] for _ in range(3)]
    assert len(set(tokens)) == 3
    assert_error(client.post(f"{PUBLIC}/attachments", content=gps_jpeg(), headers={"Content-Type": "image/jpeg"}), 429)
    with db.unit_of_work(write=False) as s:
        assert s.scalar(select(func.count()).select_from(CaseAttachment)) == 3


def test_a_signed_in_resident_reports_as_themself(client: TestClient, as_user: Any, db: Database) -> None:
    resident = as_user("resident")
    response = client.post(PUBLIC, json=report_body(reporter_phone=PHONE), headers=resident.headers)
    assert response.status_code == 201, response.text
    made = response.json()
    mine = resident.get(f"/cases/{made['id']}")
    assert mine["source"] == "resident" and not mine["anonymous"] and mine["reporter_phone"]
    assert client.get(f"{PUBLIC}/track/{made['token']}").status_code == 200
    # Asking for anonymity expressly: the case is not linked to the account, only to the token.
    body = report_body(IN_A2, anonymous=True, reporter_phone=PHONE)
    hidden = client.post(PUBLIC, json=body, headers=resident.headers).json()
    resident.get(f"/cases/{hidden['id']}", status=404)
    with db.unit_of_work(write=False) as s:
        case = s.get(Case, hidden["id"])
        assert case is not None and case.reporter_user_id is None and case.reporter_phone_enc is None
    assert_error(client.post(PUBLIC, json=report_body(), headers={"Authorization": "Bearer nonsense"}), 401)
    assert_error(client.post(PUBLIC, json=report_body(), headers=auth_headers(client, "auditor")), 403)
