"""The supervision board of each area and the SLA rules kept by case administrators, through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case
from civicgrid.cases.supervision import scan
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from tests.cases.conftest import IN_A2
from tests.support.api import assert_error, auth_headers
from tests.support.city import TinyCity

RULES = "/api/v1/cases/sla-rules"


def _set(db: Database, case_id: int, **values: Any) -> None:
    with db.unit_of_work() as session:
        session.execute(update(Case).where(Case.id == case_id).values(**values))


@pytest.fixture
def supervised(db: Database, as_user: Any, cases_city: TinyCity) -> dict[str, int]:
    """r1 red (waiting for acceptance), r2 yellow (dispatched to the police), r3 due within the day."""
    resident, worker, other = as_user("resident"), as_user("worker.a1"), as_user("worker.a2")
    r1 = resident.report()["case"]["id"]
    r2 = worker.report(category="0201", force_new=True)["case"]["id"]
    worker.act(r2, "dispatch", lead_unit_id=cases_city.units["dept-police"])
    r3 = other.report(point=IN_A2)["case"]["id"]
    now = utcnow()
    _set(db, r1, accept_due=now - timedelta(days=2), accept_red_due=now - timedelta(days=1))
    _set(db, r2, handle_due=now - timedelta(hours=1), handle_red_due=now + timedelta(days=5))
    _set(db, r3, handle_due=now + timedelta(hours=3), handle_red_due=now + timedelta(days=2))
    with db.unit_of_work() as session:
        result = scan(session, now)
    assert (result.yellow, result.red) == (2, 1)  # r1 yellow and red, r2 yellow
    return {"r1": r1, "r2": r2, "r3": r3}


def test_the_board_counts_and_lists_the_area_under_supervision(as_user: Any, supervised: dict[str, int]) -> None:
    board = as_user("district.operator").get("/cases/supervision/board")
    assert board["counts"] == {
        "open": 3,
        "overdue": 2,
        "overdue_accept": 1,
        "overdue_handle": 1,
        "yellow": 1,
        "red": 1,
        "due_soon": 1,
    }
    levels = {row["level"]: row for row in board["by_level"]}
    assert levels["grid"] == {"level": "grid", "open": 3, "overdue": 2, "yellow": 1, "red": 1}
    assert levels["community"]["open"] == 0
    assert board["by_unit"] == [
        {
            "unit_id": board["by_unit"][0]["unit_id"],
            "unit_name": "蚌埠市公安局",
            "open": 1,
            "overdue": 1,
            "yellow": 1,
            "red": 0,
        }
    ]
    assert [c["id"] for c in board["due_soon"]] == [supervised["r3"]]
    assert board["cases"]["total"] == 2 and board["cases"]["page"] == 1
    assert [(c["id"], c["card"]) for c in board["cases"]["items"]] == [
        (supervised["r1"], "red"),
        (supervised["r2"], "yellow"),
    ]
    # Red stays first whatever the sort (newest first would put r2 first).
    newest = as_user("district.operator").get("/cases/supervision/board", sort="-reported_at", page_size=1)
    assert [c["id"] for c in newest["cases"]["items"]] == [supervised["r1"]] and newest["cases"]["total"] == 2


def test_each_caller_sees_the_board_of_their_own_area(as_user: Any, supervised: dict[str, int]) -> None:
    a1 = as_user("worker.a1").get("/cases/supervision/board")
    assert (a1["counts"]["open"], a1["counts"]["due_soon"]) == (2, 0)
    a2 = as_user("worker.a2").get("/cases/supervision/board")
    assert [c["id"] for c in a2["due_soon"]] == [supervised["r3"]] and a2["cases"]["total"] == 0
    police = as_user("police").get("/cases/supervision/board")  # a department: the cases it works
    assert police["counts"]["open"] == 1 and [c["id"] for c in police["cases"]["items"]] == [supervised["r2"]]
    other = as_user("other.operator").get("/cases/supervision/board")
    assert other["counts"] == dict.fromkeys(other["counts"], 0) and other["by_unit"] == []
    as_user("resident").get("/cases/supervision/board", status=403)


def _audited(db: Database, action: str) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).where(AuditRecord.action == action)) or 0


def test_case_administrators_keep_the_sla_rules(client: TestClient, db: Database, cases_city: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    police = cases_city.units["dept-police"]
    body = {"category_code": "0201", "unit_id": police, "accept_days": 0.5, "handle_days": 3}
    created = client.post(RULES, json=body, headers=admin)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["category_name"] == "可疑人员车辆" and rule["unit_name"] == "蚌埠市公安局"
    assert (rule["priority"], rule["red_accept_days"], rule["red_handle_days"]) == (None, None, None)

    error = assert_error(client.post(RULES, json=body, headers=admin), 409, "duplicate_rule")
    assert error["details"] == {"rule_id": rule["id"]}
    other = client.post(RULES, json={**body, "priority": "urgent"}, headers=admin)
    assert other.status_code == 201, other.text  # another priority is another rule

    changed = client.patch(f"{RULES}/{rule['id']}", json={"red_handle_days": 4, "handle_days": 2}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["handle_days"], changed.json()["red_handle_days"]) == (2, 4)
    moved = client.patch(f"{RULES}/{rule['id']}", json={"priority": "urgent"}, headers=admin)
    assert_error(moved, 409, "duplicate_rule")

    listed = client.get(RULES, headers=admin, params={"unit_id": police, "sort": "-id"}).json()
    assert [r["id"] for r in listed["items"]] == [other.json()["id"], rule["id"]] and listed["total"] == 2
    operator = auth_headers(client, "operator")  # supervisors read the rules
    assert client.get(RULES, headers=operator).json()["total"] == 2
    assert_error(client.post(RULES, json={**body, "priority": "low"}, headers=operator), 403)
    assert_error(client.get(RULES, headers=auth_headers(client, "worker.a1")), 403)

    assert client.delete(f"{RULES}/{rule['id']}", headers=admin).status_code == 204
    assert_error(client.delete(f"{RULES}/{rule['id']}", headers=admin), 404)
    assert_error(client.patch(f"{RULES}/{rule['id']}", json={"handle_days": 1}, headers=admin), 404)
    assert (_audited(db, "case_sla_rule.create"), _audited(db, "case_sla_rule.update")) == (2, 1)
    assert _audited(db, "case_sla_rule.delete") == 1


def test_sla_rules_are_refused_whole_with_every_problem(client: TestClient, cases_city: TinyCity) -> None:
    admin = auth_headers(client, "admin")
    bad = {
        "category_code": "9999",
        "unit_id": cases_city.units["committee-a"],
        "accept_days": 0,
        "handle_days": 400,
        "red_accept_days": 2,
    }
    error = assert_error(client.post(RULES, json=bad, headers=admin), 422, "invalid_input")
    assert {(d["field"], d["problem"].split(" ")[0]) for d in error["details"]} == {
        ("accept_days", "must"),
        ("handle_days", "must"),
        ("category_code", "unknown"),
        ("unit_id", "not"),
    }
    red_below = {"category_code": "05", "accept_days": 1, "handle_days": 5, "red_handle_days": 3}
    error = assert_error(client.post(RULES, json=red_below, headers=admin), 422)
    assert error["details"] == [{"field": "red_handle_days", "problem": "must be at least handle_days (5)"}]
    unknown_unit = {"accept_days": 1, "handle_days": 5, "unit_id": 999_999}
    assert assert_error(client.post(RULES, json=unknown_unit, headers=admin), 422)["details"][0]["field"] == "unit_id"
    assert_error(client.post(RULES, json={"accept_days": 1, "handle_days": 5, "priority": "asap"}, headers=admin), 422)

    created = client.post(RULES, json={"category_code": "05", "accept_days": 1, "handle_days": 5}, headers=admin)
    assert created.status_code == 201, created.text
    shrink = client.patch(f"{RULES}/{created.json()['id']}", json={"red_accept_days": 0.5}, headers=admin)
    assert assert_error(shrink, 422)["details"][0]["field"] == "red_accept_days"


def test_a_rule_sets_the_deadlines_of_new_cases(client: TestClient, db: Database, as_user: Any) -> None:
    admin = auth_headers(client, "admin")
    rule = {"category_code": "0501", "accept_days": 3, "handle_days": 7, "red_handle_days": 8}
    assert client.post(RULES, json=rule, headers=admin).status_code == 201
    case = as_user("worker.a1").report()["case"]
    with db.unit_of_work(write=False) as session:
        stored = session.get(Case, case["id"])
        assert stored is not None and stored.handle_due and stored.handle_red_due
        assert stored.handle_red_due - stored.handle_due < timedelta(days=4)  # 1 working day apart (+ a weekend)
        assert stored.handle_due - utcnow() > timedelta(days=6)


def test_administrators_hold_case_admin() -> None:
    """Categories and SLA rules are configuration: the administrators keep them, operators do not."""
    from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role

    holders = sorted(role.value for role, codes in ROLE_PERMISSIONS.items() if "case:admin" in codes)
    assert holders == [Role.admin.value]
