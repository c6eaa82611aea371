"""The calendar API: everyone signed in reads it and computes deadlines; administrators edit it (audited)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.support.api import assert_error, auth_headers
from tests.support.city import TinyCity

from civicgrid.core.db import Database
from civicgrid.core.workcalendar import invalidate, seed_calendar


@pytest.fixture
def seeded(db: Database, tiny_city: TinyCity) -> Iterator[TinyCity]:
    invalidate()
    with db.unit_of_work() as session:
        seed_calendar(session)
    yield tiny_city
    invalidate()


def test_everyone_signed_in_reads_the_days_of_a_year(client: TestClient, seeded: TinyCity) -> None:
    headers = auth_headers(client, "resident")
    days = client.get("/api/v1/calendar/days", params={"year": 2025}, headers=headers)
    assert days.status_code == 200, days.text
    body = days.json()
    assert {d["day"][:4] for d in body} == {"2025"}
    assert body[0] == {"day": "2025-01-01", "kind": "holiday", "name": "元旦", "weekday": 3}
    assert {"day": "2025-01-26", "kind": "workday", "name": "春节调休上班", "weekday": 7} in body
    assert len(client.get("/api/v1/calendar/days", headers=headers).json()) == 72
    assert_error(client.get("/api/v1/calendar/days"), 401)


def test_admin_edits_a_day_and_the_deadline_follows(client: TestClient, seeded: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    params = {"start": "2026-03-13T15:20:00+08:00", "days": 1}  # a Friday
    before = client.get("/api/v1/calendar/working-days", params=params, headers=admin).json()
    assert before["deadline_local"] == "2026-03-16T15:20:00+08:00"
    assert before["deadline"] == "2026-03-16T07:20:00Z"

    put = client.put(
        "/api/v1/calendar/days/2026-03-14", json={"kind": "workday", "name": "调休上班（示例）"}, headers=admin
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"day": "2026-03-14", "kind": "workday", "name": "调休上班（示例）", "weekday": 6}
    after = client.get("/api/v1/calendar/working-days", params=params, headers=admin).json()
    assert after["deadline_local"] == "2026-03-14T15:20:00+08:00"  # the edit is seen at once

    assert client.delete("/api/v1/calendar/days/2026-03-14", headers=admin).status_code == 204
    again = client.get("/api/v1/calendar/working-days", params=params, headers=admin).json()
    assert again["deadline_local"] == "2026-03-16T15:20:00+08:00"

    trail = client.get(
        "/api/v1/audit/records", params={"object_type": "calendar_day"}, headers=auth_headers(client, "auditor")
    )
    assert trail.status_code == 200, trail.text
    records = trail.json()["items"]
    assert sorted((r["action"], r["object_id"]) for r in records) == [
        ("calendar.remove_day", "2026-03-14"),
        ("calendar.set_day", "2026-03-14"),
    ]


def test_only_admins_edit(client: TestClient, seeded: TinyCity) -> None:
    for username in ("operator", "worker.a1", "auditor"):
        headers = auth_headers(client, username)
        put = client.put("/api/v1/calendar/days/2026-03-14", json={"kind": "workday", "name": "x"}, headers=headers)
        assert_error(put, 403, "forbidden")
        assert_error(client.delete("/api/v1/calendar/days/2026-10-01", headers=headers), 403, "forbidden")


def test_edits_are_validated(client: TestClient, seeded: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    weekday = client.put("/api/v1/calendar/days/2026-03-11", json={"kind": "workday", "name": "调休"}, headers=admin)
    error = assert_error(weekday, 422, "invalid_input")
    assert "Saturday or Sunday" in error["message"]
    assert error["details"] == [{"field": "kind", "problem": "2026-03-11 is a Wednesday, already a working day"}]
    bad_kind = client.put("/api/v1/calendar/days/2026-03-14", json={"kind": "festival", "name": "x"}, headers=admin)
    assert_error(bad_kind, 422)
    bad_date = client.put("/api/v1/calendar/days/2026-02-30", json={"kind": "holiday", "name": "x"}, headers=admin)
    assert_error(bad_date, 422)
    holiday_on_weekend = client.put(
        "/api/v1/calendar/days/2026-03-14", json={"kind": "holiday", "name": "节日"}, headers=admin
    )
    assert holiday_on_weekend.status_code == 200  # a weekend day inside a holiday period
    assert_error(client.delete("/api/v1/calendar/days/2026-03-18", headers=admin), 404, "not_found")


def test_deadline_route(client: TestClient, seeded: TinyCity) -> None:
    headers = auth_headers(client, "worker.a1")
    labour_day = client.get(
        "/api/v1/calendar/working-days", params={"start": "2026-04-30T07:20:00Z", "days": 4.5}, headers=headers
    )
    assert labour_day.status_code == 200, labour_day.text
    body = labour_day.json()
    # Thursday 30 April 15:20 + 4 working days → make-up Saturday 9 May 15:20, + 12 h → Monday 11 May 03:20.
    assert body["deadline_local"] == "2026-05-11T03:20:00+08:00"
    assert body["timezone"] == "Asia/Shanghai"
    assert body["calendar_complete"] is True
    far = client.get(
        "/api/v1/calendar/working-days", params={"start": "2026-12-30T09:00:00+08:00", "days": 5}, headers=headers
    )
    assert far.json()["calendar_complete"] is False  # 2027 has no entries yet
    naive = client.get(
        "/api/v1/calendar/working-days", params={"start": "2026-04-30T15:20:00", "days": 1}, headers=headers
    )
    assert_error(naive, 422)
    negative = client.get(
        "/api/v1/calendar/working-days", params={"start": "2026-04-30T15:20:00Z", "days": -1}, headers=headers
    )
    assert_error(negative, 422)
