"""Grid staffing (一格一员) and organisation units, through the service and the HTTP API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from civicgrid.audit.models import AuditRecord
from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.core.db import Database
from civicgrid.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from civicgrid.org import service
from civicgrid.org.models import GridAssignment
from tests.support.api import assert_error, auth_headers
from tests.support.city import (
    COMMUNITY_A,
    COMMUNITY_B,
    GRID_A1,
    GRID_B1,
    GRID_B2,
    OTHER_DISTRICT,
    TinyCity,
)


def _principal(role: Role = Role.admin, code: str = "340300", level: Level = Level.city) -> Principal:
    return Principal(None, f"t-{role.value}", role.value, ROLE_PERMISSIONS[role], Scope(code, level))


def test_assign_replace_and_unassign_are_audited(db: Database, tiny_city: TinyCity) -> None:
    admin = _principal()
    with db.unit_of_work() as session:
        service.assign(session, admin, GRID_B2, "grid_worker", tiny_city.users["operator"])
        assert service.staff_of(session, GRID_B2, "grid_worker") == (tiny_city.users["operator"], "Operator")
        service.assign(session, admin, COMMUNITY_A, "grid_leader", tiny_city.users["community.a"])
        service.assign(session, admin, GRID_B2, "grid_worker", None)
        assert service.staff_of(session, GRID_B2, "grid_worker") is None
        actions = session.scalars(select(AuditRecord.action).order_by(AuditRecord.seq)).all()
        assert actions == ["org.assign", "org.assign", "org.unassign"]


def test_one_worker_per_grid_and_one_grid_per_worker(db: Database, tiny_city: TinyCity) -> None:
    admin = _principal()
    with db.unit_of_work() as session:
        # Replacing the holder keeps one row per grid and duty.
        service.assign(session, admin, GRID_B1, "grid_worker", tiny_city.users["operator"])
        rows = session.scalars(select(GridAssignment).where(GridAssignment.division_code == GRID_B1)).all()
        assert [r.user_id for r in rows] == [tiny_city.users["operator"]]
        with pytest.raises(Conflict):
            service.assign(session, admin, GRID_B2, "grid_worker", tiny_city.users["worker.a1"])


@pytest.mark.parametrize(
    ("division", "duty", "error"),
    [
        (COMMUNITY_A, "grid_worker", InvalidInput),  # a worker needs a grid
        (GRID_A1, "grid_leader", InvalidInput),  # a leader needs a community
        (GRID_A1, "captain", InvalidInput),
        ("340303001001999", "grid_worker", NotFound),
    ],
)
def test_assign_refuses_wrong_targets(db: Database, tiny_city: TinyCity, division: str, duty: str, error: type) -> None:
    with db.unit_of_work() as session, pytest.raises(error):
        service.assign(session, _principal(), division, duty, tiny_city.users["operator"])


def test_assign_needs_permission_and_scope(db: Database, tiny_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        with pytest.raises(Forbidden):
            service.assign(session, _principal(Role.center_operator), GRID_B2, "grid_worker", None)
        other = _principal(Role.admin, OTHER_DISTRICT, Level.district)
        with pytest.raises(NotFound):
            service.assign(session, other, GRID_B2, "grid_worker", tiny_city.users["operator"])


def test_units_and_assignments_over_http(client: TestClient, tiny_city: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    units = client.get("/api/v1/org/units", params={"kind": "committee", "sort": "code"}, headers=admin).json()
    assert [u["code"] for u in units["items"]] == ["committee-a", "committee-b"]
    police = client.get("/api/v1/org/units", params={"department_type": "police"}, headers=admin).json()
    assert police["total"] == 1
    unit = client.get(f"/api/v1/org/units/{tiny_city.units['committee-a']}", headers=admin).json()
    assert unit["division_code"] == COMMUNITY_A
    worker = auth_headers(client, "worker.a1")
    assert_error(client.get(f"/api/v1/org/units/{tiny_city.units['committee-b']}", headers=worker), 404)
    listed = client.get("/api/v1/org/assignments", params={"division_code": COMMUNITY_B}, headers=admin).json()
    assert [a["division_code"] for a in listed["items"]] == [GRID_B1]
    put = client.put(
        "/api/v1/org/assignments",
        json={"division_code": GRID_B2, "duty": "grid_worker", "user_id": tiny_city.users["operator"]},
        headers=admin,
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"division_code": GRID_B2, "duty": "grid_worker", "user_id": tiny_city.users["operator"]}
    conflict = client.put(
        "/api/v1/org/assignments",
        json={"division_code": GRID_B2, "duty": "grid_worker", "user_id": tiny_city.users["worker.a1"]},
        headers=admin,
    )
    assert_error(conflict, 409, "conflict")
    forbidden = client.put(
        "/api/v1/org/assignments",
        json={"division_code": GRID_B2, "duty": "grid_worker", "user_id": None},
        headers=auth_headers(client, "operator"),
    )
    assert_error(forbidden, 403)
    mine = client.get("/api/v1/org/assignments", headers=worker).json()
    assert [a["division_code"] for a in mine["items"]] == [GRID_A1]
