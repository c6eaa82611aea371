"""Positions shared on duty: only while the worker shares them, one row per worker, gone when sharing stops."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from civicgrid.auth.models import User
from civicgrid.authz.scope import Level, Principal
from civicgrid.command import positions
from civicgrid.command.models import CommandPosition
from civicgrid.core import clock, scheduler
from civicgrid.core.broadcast import Event
from civicgrid.core.db import Database
from civicgrid.core.errors import Conflict, Forbidden, InvalidInput
from tests.command.conftest import IN_A1, IN_A2, IN_B1, IN_OTHER_DISTRICT, OUTSIDE
from tests.support.api import assert_error, auth_headers
from tests.support.city import COMMUNITY_A, DISTRICT, GRID_A1, GRID_A2, GRID_B1, STREET_A, TinyCity

ME = "/api/v1/command/positions/me"
ALL = "/api/v1/command/positions"


def _rows(db: Database) -> list[CommandPosition]:
    with db.unit_of_work(write=False) as session:
        rows = list(session.scalars(select(CommandPosition).order_by(CommandPosition.user_id)))
        session.expunge_all()
    return rows


def _share(db: Database, p: Principal, point: tuple[float, float], duty: int | None = 240, **kw: Any) -> None:
    with db.unit_of_work() as session:
        positions.share(session, p, point[0], point[1], kw.pop("accuracy", 12.0), duty, **kw)


def _names(db: Database, p: Principal, **kw: Any) -> list[str]:
    with db.unit_of_work(write=False) as session:
        return [w.display_name for w in positions.on_duty(session, p, **kw)]


# -- sharing -------------------------------------------------------------------------------------------------


def test_a_share_inside_the_city_is_placed_in_its_grid(db: Database, principal: Callable[[str], Principal]) -> None:
    worker = principal("worker.a1")
    start = clock.utcnow()
    _share(db, worker, IN_A2, 120)
    (row,) = _rows(db)
    assert (row.user_id, row.lon, row.lat, row.accuracy_m) == (worker.user_id, IN_A2[0], IN_A2[1], 12.0)
    assert (row.grid_code, row.community_code, row.street_code, row.district_code) == (
        GRID_A2,
        COMMUNITY_A,
        STREET_A,
        DISTRICT,
    )
    assert row.city_code == "340300"
    assert timedelta(minutes=119) < row.on_duty_until - start <= timedelta(minutes=121)
    with db.unit_of_work(write=False) as session:
        status = positions.own_status(session, worker)
    assert status.sharing and status.visible
    assert (status.grid_code, status.grid_name) == (GRID_A2, "天桥社区第2网格")


@pytest.mark.parametrize(
    ("point", "code"),
    [(OUTSIDE, "outside_city"), (IN_OTHER_DISTRICT, "no_grid")],
)
def test_a_point_outside_the_grids_is_refused_and_nothing_is_written(
    db: Database, principal: Callable[[str], Principal], point: tuple[float, float], code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _share(db, principal("worker.a1"), point)
    assert refused.value.code == code
    assert {d["field"] for d in refused.value.details} == {"lon", "lat"}
    assert _rows(db) == []


@pytest.mark.parametrize(
    ("lon", "lat", "accuracy", "duty", "fields"),
    [
        (32.2, 117.1, 10.0, 60, {"lat"}),  # swapped
        (float("nan"), 32.2, 10.0, 60, {"lon"}),
        (181.0, 32.2, 10.0, 60, {"lon"}),
        (117.1, 32.2, 2500.0, 60, {"accuracy_m"}),
        (117.1, 32.2, -1.0, 60, {"accuracy_m"}),
        (117.1, 32.2, 10.0, 0, {"duty_minutes"}),
        (117.1, 32.2, 10.0, 12 * 60 + 1, {"duty_minutes"}),
        (200.0, -95.0, float("inf"), -5, {"lon", "lat", "accuracy_m", "duty_minutes"}),  # every problem at once
    ],
)
def test_bad_input_is_refused_whole(
    db: Database,
    principal: Callable[[str], Principal],
    lon: float,
    lat: float,
    accuracy: float,
    duty: int,
    fields: set[str],
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _share(db, principal("worker.a1"), (lon, lat), duty, accuracy=accuracy)
    assert {d["field"] for d in refused.value.details} == fields
    assert _rows(db) == []


def test_the_duty_period_is_at_most_twelve_hours_and_runs_on_without_a_new_length(
    db: Database, principal: Callable[[str], Principal]
) -> None:
    worker = principal("worker.a1")
    with pytest.raises(Conflict) as not_sharing:
        _share(db, worker, IN_A1, None)  # an update without a running period
    assert not_sharing.value.code == "not_sharing"
    _share(db, worker, IN_A1, 12 * 60)
    (first,) = _rows(db)
    clock.advance(timedelta(minutes=2))
    _share(db, worker, IN_A2, None, accuracy=None)  # the phone's next fix: the period runs on
    (moved,) = _rows(db)
    assert (moved.grid_code, moved.accuracy_m) == (GRID_A2, None)
    assert moved.on_duty_until == first.on_duty_until and moved.started_at == first.started_at
    assert moved.shared_at > first.shared_at
    _share(db, worker, IN_A2, 60)  # switched off and on with a new length: a new period
    (restarted,) = _rows(db)
    assert restarted.on_duty_until < first.on_duty_until
    clock.advance(timedelta(minutes=61))
    with pytest.raises(Conflict):
        _share(db, worker, IN_A1, None)  # the period ended: sharing must be turned on again


def test_only_accounts_allowed_to_share_may_share(db: Database, principal: Callable[[str], Principal]) -> None:
    for username in ("district.operator", "resident", "police"):
        with pytest.raises(Forbidden):
            _share(db, principal(username), IN_A1)
    machine = principal("worker.a1")
    machine = Principal(None, "gateway", machine.role, machine.permissions, machine.scope, api_key_id=7)
    with pytest.raises(Forbidden):
        _share(db, machine, IN_A1)
    assert _rows(db) == []


# -- expiry and stopping ---------------------------------------------------------------------------------------


def test_stale_and_ended_positions_are_not_shown_and_the_purge_deletes_ended_ones(
    db: Database, principal: Callable[[str], Principal]
) -> None:
    operator = principal("operator")
    _share(db, principal("worker.a1"), IN_A1, 30)
    _share(db, principal("worker.a2"), IN_A2, 120)
    assert _names(db, operator) == ["Worker A1", "Worker A2"]
    clock.advance(timedelta(minutes=16))  # nobody sent a fix for 16 minutes: not shown, still sharing
    assert _names(db, operator) == []
    with db.unit_of_work(write=False) as session:
        status = positions.own_status(session, principal("worker.a2"))
    assert status.sharing and not status.visible
    _share(db, principal("worker.a2"), IN_A2, None)
    assert _names(db, operator) == ["Worker A2"]
    clock.advance(timedelta(minutes=15))  # worker A1's 30 minutes ended
    runs = scheduler.run_due(db, clock.utcnow(), only=[positions.PURGE_TASK])
    assert [(r.name, r.status, r.result) for r in runs] == [(positions.PURGE_TASK, "ok", 1)]
    assert [r.user_id for r in _rows(db)] == [principal("worker.a2").user_id]
    with db.unit_of_work(write=False) as session:
        assert not positions.own_status(session, principal("worker.a1")).sharing


def test_an_ended_period_is_not_shown_even_before_the_purge(
    db: Database, principal: Callable[[str], Principal]
) -> None:
    _share(db, principal("worker.a1"), IN_A1, 5)
    clock.advance(timedelta(minutes=5, seconds=1))
    assert _names(db, principal("operator")) == []
    assert len(_rows(db)) == 1  # until the purge runs


def test_stopping_deletes_the_row(db: Database, principal: Callable[[str], Principal], published: list[Event]) -> None:
    worker = principal("worker.a1")
    _share(db, worker, IN_A1)
    with db.unit_of_work() as session:
        assert positions.stop(session, worker)
    assert _rows(db) == []
    with db.unit_of_work() as session:
        assert not positions.stop(session, worker)  # stopping twice is harmless
    assert [e.topic for e in published] == ["command.position", "command.position_removed"]


def test_a_deactivated_account_is_not_shown(db: Database, principal: Callable[[str], Principal]) -> None:
    worker = principal("worker.a1")
    _share(db, worker, IN_A1)
    with db.unit_of_work() as session:
        session.execute(update(User).where(User.id == worker.user_id).values(is_active=False))
    assert _names(db, principal("operator")) == []


def test_deleting_the_account_deletes_its_position(db: Database, principal: Callable[[str], Principal]) -> None:
    worker = principal("worker.b1")
    _share(db, worker, IN_B1)
    with db.unit_of_work() as session:
        session.query(User).filter(User.id == worker.user_id).delete()
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(CommandPosition)) == 0


# -- scope and what is shown -----------------------------------------------------------------------------------


def test_each_centre_sees_the_workers_inside_its_area(db: Database, principal: Callable[[str], Principal]) -> None:
    _share(db, principal("worker.a1"), IN_A1)
    _share(db, principal("worker.a2"), IN_B1)  # on duty in street B, outside the own grid: shown where it is
    assert _names(db, principal("operator")) == ["Worker A1", "Worker A2"]
    assert _names(db, principal("district.operator")) == ["Worker A1", "Worker A2"]
    assert _names(db, principal("community.a")) == ["Worker A1"]
    assert _names(db, principal("other.operator")) == []
    assert _names(db, principal("operator"), area_code=GRID_B1) == ["Worker A2"]
    with pytest.raises(Forbidden):
        _names(db, principal("worker.a1"))  # grid workers cannot read positions, not even their own grid's
    with pytest.raises(Forbidden):
        _names(db, principal("police"))


def test_the_list_shows_name_grid_point_and_age_only(
    client: TestClient, db: Database, principal: Callable[[str], Principal]
) -> None:
    _share(db, principal("worker.a1"), IN_A1)
    clock.advance(timedelta(seconds=90))
    body = client.get(ALL, headers=auth_headers(client, "district.operator")).json()
    assert body["total"] == 1
    (item,) = body["items"]
    assert set(item) == {
        "user_id",
        "display_name",
        "lon",
        "lat",
        "accuracy_m",
        "grid_code",
        "grid_name",
        "shared_at",
        "on_duty_until",
        "age_seconds",
    }
    assert (item["display_name"], item["grid_code"], item["grid_name"]) == ("Worker A1", GRID_A1, "天桥社区第1网格")
    assert 90 <= item["age_seconds"] < 150
    other = client.get(ALL, headers=auth_headers(client, "other.operator")).json()
    assert other == {"as_of": other["as_of"], "total": 0, "items": []}
    assert_error(client.get(ALL, headers=auth_headers(client, "worker.a1")), 403, "forbidden")
    outside = client.get(ALL, params={"area_code": GRID_A1}, headers=auth_headers(client, "other.operator"))
    assert_error(outside, 404)
    assert_error(client.get(ALL, params={"area_code": "999999"}, headers=auth_headers(client, "operator")), 404)


# -- live events -------------------------------------------------------------------------------------------------


def test_events_go_to_the_screens_of_the_area_after_commit(
    db: Database, principal: Callable[[str], Principal], published: list[Event]
) -> None:
    worker = principal("worker.a1")
    _share(db, worker, IN_A1)
    (event,) = published
    assert event.topic == "command.position"
    assert event.payload["user_id"] == worker.user_id and event.payload["grid_code"] == GRID_A1
    assert event.payload["display_name"] == "Worker A1"
    audience = event.audience
    assert audience.includes(principal("district.operator")) and audience.includes(principal("community.a"))
    assert not audience.includes(principal("other.operator"))
    assert not audience.includes(principal("worker.a1"))  # no command:read
    published.clear()
    _share(db, worker, IN_B1, None)  # moved into street B: community A's screen loses the worker
    removed, moved = published
    assert (removed.topic, removed.payload) == ("command.position_removed", {"user_id": worker.user_id})
    assert removed.audience.includes(principal("community.a"))
    assert moved.topic == "command.position" and not moved.audience.includes(principal("community.a"))
    published.clear()
    with pytest.raises(InvalidInput), db.unit_of_work() as session:
        positions.share(session, worker, *OUTSIDE, 5.0, None)
    assert published == []  # nothing leaves a transaction that rolled back


def test_the_purge_tells_the_screens(
    db: Database, principal: Callable[[str], Principal], published: list[Event]
) -> None:
    _share(db, principal("worker.a1"), IN_A1, 10)
    published.clear()
    clock.advance(timedelta(minutes=11))
    with db.unit_of_work() as session:
        assert positions.purge(session) == 1
    (event,) = published
    assert event.topic == "command.position_removed"
    assert event.audience.areas[0][Level.grid] == GRID_A1


# -- the HTTP routes ------------------------------------------------------------------------------------------------


def test_the_field_app_turns_sharing_on_updates_and_off(client: TestClient, tiny_city: TinyCity, db: Database) -> None:
    headers = auth_headers(client, "worker.a1")
    assert client.get(ME, headers=headers).json()["sharing"] is False
    refused = client.put(ME, json={"lon": IN_A1[0], "lat": IN_A1[1], "accuracy_m": 8}, headers=headers)
    assert_error(refused, 409, "not_sharing")
    on = client.put(ME, json={"lon": IN_A1[0], "lat": IN_A1[1], "accuracy_m": 8, "duty_minutes": 240}, headers=headers)
    assert on.status_code == 200, on.text
    assert on.json()["sharing"] and on.json()["visible"] and on.json()["grid_code"] == GRID_A1
    update_ = client.put(ME, json={"lon": IN_A2[0], "lat": IN_A2[1], "accuracy_m": 20}, headers=headers)
    assert update_.json()["grid_code"] == GRID_A2
    assert update_.json()["on_duty_until"] == on.json()["on_duty_until"]
    assert client.get(ME, headers=headers).json()["grid_code"] == GRID_A2
    bad = client.put(ME, json={"lon": OUTSIDE[0], "lat": OUTSIDE[1], "duty_minutes": 60}, headers=headers)
    assert_error(bad, 422, "outside_city")
    too_long = client.put(ME, json={"lon": IN_A1[0], "lat": IN_A1[1], "duty_minutes": 800}, headers=headers)
    assert assert_error(too_long, 422, "invalid_input")["details"] == [
        {"field": "duty_minutes", "problem": "between 1 and 720 (12 hours)"}
    ]
    not_a_number = client.put(ME, json={"lon": "east", "lat": IN_A1[1]}, headers=headers)
    assert_error(not_a_number, 422, "invalid_input")
    assert client.delete(ME, headers=headers).status_code == 204
    assert client.delete(ME, headers=headers).status_code == 204
    assert client.get(ME, headers=headers).json() == {
        "sharing": False,
        "visible": False,
        "lon": None,
        "lat": None,
        "accuracy_m": None,
        "grid_code": None,
        "grid_name": None,
        "started_at": None,
        "shared_at": None,
        "on_duty_until": None,
    }
    assert _rows(db) == []
    resident = auth_headers(client, "resident")
    assert_error(client.put(ME, json={"lon": IN_A1[0], "lat": IN_A1[1], "duty_minutes": 60}, headers=resident), 403)
