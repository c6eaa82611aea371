"""The case loop through the HTTP API: report, escalate, dispatch, handle, verify, close, rate —
and every refusal on the way."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicgrid.cases.models import Case, CaseAction
from civicgrid.core.db import Database
from tests.cases.conftest import IN_A1, IN_A2, IN_B2, OUTSIDE
from tests.support.api import assert_error
from tests.support.city import COMMUNITY_A, GRID_A1, TinyCity


def test_a_grid_worker_closes_a_small_matter_inside_the_grid(as_user: Any) -> None:
    worker = as_user("worker.a1")
    report = worker.report()
    case = report["case"]
    assert report["created"] and case["status"] == "accepted" and case["level"] == "grid"
    assert case["grid_code"] == GRID_A1 and case["community_code"] == COMMUNITY_A
    assert case["code"].startswith("SJ") and case["accept_due"] and case["handle_due"]
    assert set(case["allowed_actions"]) >= {"start", "escalate", "comment"}
    case = worker.act(case["id"], "start")["case"]
    case = worker.act(case["id"], "handle", note="已更换井盖")["case"]
    assert case["status"] == "handled"
    case = worker.act(case["id"], "pass")["case"]
    assert case["status"] == "closed" and case["closure_level"] == "grid"
    assert [e["action"] for e in case["timeline"]] == ["report", "start", "handle", "pass"]


def test_escalation_dispatch_co_handling_verification_and_rating(as_user: Any, cases_city: TinyCity) -> None:
    resident, worker, community, police = (as_user(u) for u in ("resident", "worker.a1", "community.a", "police"))
    case = resident.report(category="0201", description="小区门口有可疑车辆")["case"]
    assert case["status"] == "reported" and case["allowed_actions"] == ["comment"]
    worker.act(case["id"], "accept")
    case = worker.act(case["id"], "escalate", note="需要公安处置")["case"]
    assert case["status"] == "escalated" and case["level"] == "community"
    # The grid worker no longer holds it.
    error = worker.act(case["id"], "dispatch", status=409, lead_unit_id=cases_city.units["dept-police"])
    assert "allowed_actions" in error["error"]["details"]
    options = community.get(f"/cases/{case['id']}/dispatch-options")
    assert options[0]["suggested"] and options[0]["department_type"] == "police"
    case = community.act(case["id"], "dispatch", lead_unit_id=cases_city.units["dept-police"])["case"]
    assert case["status"] == "dispatched" and case["assignments"][0]["role"] == "lead"
    # The department sees the case now, signs for it and completes it.
    assert police.get("/cases")["total"] == 1
    police.act(case["id"], "sign")
    case = police.act(case["id"], "handle", note="已核查车辆，无异常")["case"]
    assert case["status"] == "handled"
    # Verification is for the grid worker of the place only.
    error = community.act(case["id"], "pass", status=409)
    assert error["error"]["code"] == "action_not_allowed"
    other_worker = as_user("worker.a2")
    other_worker.get(f"/cases/{case['id']}", status=404)
    case = worker.act(case["id"], "return", note="车辆仍在")["case"]
    assert case["status"] == "returned"
    police.act(case["id"], "start")
    police.act(case["id"], "handle", note="车辆已移走")
    worker.act(case["id"], "start_verification")
    case = worker.act(case["id"], "pass")["case"]
    assert case["status"] == "closed" and case["closure_level"] == "community"
    case = resident.act(case["id"], "rate", satisfaction=5, note="很快")["case"]
    assert case["satisfaction"] == 5 and "rate" not in case["allowed_actions"]
    resident.act(case["id"], "rate", satisfaction=4, status=409)


def test_co_handlers_must_report_before_the_lead_completes(as_user: Any, cases_city: TinyCity, db: Database) -> None:
    from civicgrid.org.models import OrgUnit

    with db.unit_of_work() as session:
        unit = OrgUnit(
            code="dept-urban", name="市城市管理局", kind="department", department_type="urban_management",
            division_code="340300", city_code="340300",
        )  # fmt: skip
        session.add(unit)
        session.flush()
        urban_id = unit.id
    community, police = as_user("community.a"), as_user("police")
    case = as_user("worker.a1").report()["case"]
    community.act(case["id"], "dispatch", lead_unit_id=cases_city.units["dept-police"], co_unit_ids=[urban_id])
    police.act(case["id"], "sign")
    error = police.act(case["id"], "handle", note="done", status=409)
    assert error["error"]["code"] == "co_handlers_pending" and error["error"]["details"]["pending_unit_ids"] == [
        urban_id
    ]


def test_refusals_name_what_is_allowed_and_change_nothing(as_user: Any, db: Database) -> None:
    worker = as_user("worker.a1")
    case = worker.report()["case"]
    error = worker.act(case["id"], "pass", status=409)["error"]
    assert error["code"] == "action_not_allowed" and "start" in error["details"]["allowed_actions"]
    assert "you may now" in error["message"]
    error = worker.act(case["id"], "escalate", status=422)["error"]  # a note is required
    assert error["details"][0]["field"] == "note"
    with db.unit_of_work() as session:
        stored = session.get(Case, case["id"])
        assert stored is not None and stored.status == "accepted" and stored.version == 1
        assert session.scalar(select(func.count()).select_from(CaseAction)) == 1


def test_bad_reports_are_refused_whole(as_user: Any, client: TestClient, db: Database) -> None:
    worker = as_user("worker.a1")
    response = client.post(
        "/api/v1/cases",
        json={"category_code": "9999", "lon": IN_A1[0], "lat": IN_A1[1]},
        headers=worker.headers,
    )
    assert assert_error(response, 422)["details"][0]["field"] == "category_code"
    response = client.post(
        "/api/v1/cases", json={"category_code": "05", "lon": IN_A1[0], "lat": IN_A1[1]}, headers=worker.headers
    )
    assert "class" in assert_error(response, 422)["message"]
    response = client.post(
        "/api/v1/cases", json={"category_code": "0501", "lon": OUTSIDE[0], "lat": OUTSIDE[1]}, headers=worker.headers
    )
    error = assert_error(response, 422)
    assert "outside the city" in error["message"] and error["details"][0]["field"] == "location"
    response = client.post(
        "/api/v1/cases",
        json={"category_code": "0501", "lon": IN_A1[0], "lat": IN_A1[1], "reporter_phone": "12345"},
        headers=worker.headers,
    )
    assert_error(response, 422)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_the_same_problem_nearby_is_offered_to_follow(as_user: Any) -> None:
    worker, resident = as_user("worker.a1"), as_user("resident")
    first = worker.report()["case"]
    body = {"category_code": "0501", "lon": IN_A1[0] + 0.0003, "lat": IN_A1[1], "description": "井盖没了"}
    response = resident.client.post("/api/v1/cases", json=body, headers=resident.headers)
    error = assert_error(response, 409, "possible_duplicate")
    candidate = error["details"]["candidates"][0]
    assert candidate["id"] == first["id"] and 20 < candidate["distance_m"] < 40
    followed = resident.post(f"/cases/{first['id']}/follow", {})
    assert followed["followed"] and followed["id"] == first["id"]
    assert worker.get(f"/cases/{first['id']}")["followers"] == 1
    # Far enough away, or insisted on, it is a new case.
    assert resident.report(point=IN_A2)["created"]
    assert resident.report(force_new=True, description="另一个井盖")["created"]


def test_offline_replays_apply_once_and_stale_versions_are_explained(as_user: Any) -> None:
    worker = as_user("worker.a1")
    client_id = uuid.uuid4().hex
    first = worker.report(client_id=client_id)
    again = worker.report(client_id=client_id)
    assert again["id"] == first["id"] and not again["created"]
    case_id = first["id"]
    key = uuid.uuid4().hex
    one = worker.act(case_id, "start", idempotency_key=key, expected_version=1)
    two = worker.act(case_id, "start", idempotency_key=key, expected_version=1)
    assert two["replayed"] and two["action_id"] == one["action_id"] and two["case"]["version"] == 2
    error = worker.act(case_id, "handle", note="x", expected_version=1, status=409)["error"]
    assert error["code"] == "stale_version" and error["details"]["status"] == "in_progress"
    assert "worker.a1 did 'start'" in error["message"]
    error = worker.act(case_id, "comment", note="x", idempotency_key=key, status=409)["error"]
    assert "another action" in error["message"]


def test_area_staff_report_only_inside_their_area(as_user: Any, client: TestClient) -> None:
    worker = as_user("worker.a1")
    body = {"category_code": "0501", "lon": IN_A2[0], "lat": IN_A2[1]}
    error = assert_error(client.post("/api/v1/cases", json=body, headers=worker.headers), 404)
    assert "not found in your scope" in error["message"]
    # Residents report anywhere in the city.
    assert as_user("resident").report(point=IN_A2)["created"]


def test_scope_hides_other_areas_cases(as_user: Any) -> None:
    case = as_user("worker.a1").report()["case"]
    as_user("other.operator").get(f"/cases/{case['id']}", status=404)
    assert as_user("other.operator").get("/cases")["total"] == 0
    assert as_user("district.operator").get("/cases")["total"] == 1
    assert as_user("police").get("/cases")["total"] == 0  # not dispatched to them
    as_user("police").act(case["id"], "comment", note="?", status=404)


def test_a_grid_without_worker_is_verified_by_its_community(as_user: Any) -> None:
    community = as_user("community.a")
    operator = as_user("operator")
    case = operator.report(point=IN_B2)["case"]
    assert case["status"] == "reported"
    # The city centre acts for the missing grid worker and so takes the case up to the city.
    case = operator.act(case["id"], "accept")["case"]
    assert case["level"] == "city"
    operator.act(case["id"], "hand_down", level="grid")
    community.get(f"/cases/{case['id']}", status=404)  # community B's case, not community A's


def test_supervision_extension_and_reopen(as_user: Any) -> None:
    worker, community = as_user("worker.a1"), as_user("community.a")
    case = worker.report()["case"]
    case = community.act(case["id"], "supervise", colour="yellow", note="请尽快处理")["case"]
    assert case["card"] == "yellow" and case["cards"][0]["stage"] == "manual"
    worker.act(case["id"], "start")
    due_before = case["handle_due"]
    extension = worker.act(case["id"], "request_extension", days=2, note="等待配件")["case"]["extensions"][0]
    worker.act(case["id"], "request_extension", days=1, note="again", status=409)
    case = community.act(case["id"], "decide_extension", extension_id=extension["id"], grant=True)["case"]
    assert case["extensions"][0]["status"] == "granted" and case["handle_due"] > due_before
    worker.act(case["id"], "handle", note="修好了")
    worker.act(case["id"], "pass")
    case = community.act(case["id"], "reopen", note="又坏了")["case"]
    assert case["status"] == "accepted" and case["card"] is None and case["closure_level"] is None


def test_list_filters(as_user: Any) -> None:
    worker, operator = as_user("worker.a1"), as_user("operator")
    worker.report()
    operator.report(category="0302", point=IN_A2, description="燃气味")
    assert operator.get("/cases", category_code="03")["total"] == 1
    assert operator.get("/cases", priority="urgent")["items"][0]["category_code"] == "0302"
    assert operator.get("/cases", q="燃气")["total"] == 1  # default titles are category + place
    page: dict[str, Any] = operator.get("/cases", open_only=True, sort="reported_at")
    assert page["total"] == 2
    assert_error(operator.client.get("/api/v1/cases?sort=nope", headers=operator.headers), 422)


def test_mine_lists_the_cases_one_reported(as_user: Any) -> None:
    worker, operator = as_user("worker.a1"), as_user("operator")
    own = worker.report()["case"]
    operator.report(point=IN_A2, category="0502", description="垃圾")
    assert [c["id"] for c in worker.get("/cases", mine=True)["items"]] == [own["id"]]
    assert operator.get("/cases", mine=True)["total"] == 1
    assert operator.get("/cases")["total"] == 2
