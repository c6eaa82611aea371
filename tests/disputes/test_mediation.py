"""After recording: changes, more parties, numbered mediation sessions, the outcome beside the case's
own workflow, and the follow-up — with their refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from civicgrid.audit.models import AuditRecord
from civicgrid.core import clock
from civicgrid.core.db import Database
from civicgrid.registry.people import today
from tests.disputes.conftest import ID_FEMALE, DisputeApi
from tests.disputes.test_disputes import _mediation

Users = Callable[[str], DisputeApi]


def test_mediation_sessions_are_numbered_and_checked(dispute_api: Users) -> None:
    worker = dispute_api("worker.a1")
    dispute = worker.create()
    path = f"/disputes/{dispute['id']}/mediations"
    first = worker.post(path, _mediation(agreement_reached=False, agreement=None), status=201)
    second = worker.post(path, _mediation(method="judicial", organisation="蚌山区人民法院"), status=201)
    assert (first["session_no"], second["session_no"]) == (1, 2)
    assert second["agreement_reached"] and second["agreement"] == "楼上承担七成，楼下承担三成"
    error = worker.post(path, _mediation(mediated_on=(today() + timedelta(days=1)).isoformat()), status=422)
    assert [d["field"] for d in error["error"]["details"]] == ["mediated_on"]
    error = worker.post(path, _mediation(agreement=" "), status=422)
    assert [d["field"] for d in error["error"]["details"]] == ["agreement"]
    worker.post(path, _mediation(method="tea"), status=422)
    detail = worker.get(f"/disputes/{dispute['id']}")
    assert [m["session_no"] for m in detail["mediations"]] == [1, 2]
    assert detail["mediations"][1]["method"] == "judicial"


def test_the_outcome_does_not_close_the_case_and_the_follow_up_comes_after(dispute_api: Users, db: Database) -> None:
    worker = dispute_api("worker.a1")
    dispute = worker.create()
    path = f"/disputes/{dispute['id']}"
    worker.post(f"{path}/follow-up", {"follow_up_on": today().isoformat(), "note": "回访"}, status=409)
    worker.post(f"{path}/mediations", _mediation(), status=201)
    error = worker.post(
        f"{path}/outcome",
        {
            "outcome": "resolved",
            "resolution": "调解成功",
            "resolved_on": (today() + timedelta(days=1)).isoformat(),
            "evaluation": "双方满意",
        },
        status=422,
    )
    assert {d["field"] for d in error["error"]["details"]} == {"resolved_on", "evaluated_on"}
    body = {
        "outcome": "resolved",
        "resolution": "双方签订调解协议并履行",
        "evaluated_on": today().isoformat(),
        "evaluation": "化解彻底",
    }
    resolved = worker.post(f"{path}/outcome", body)
    assert resolved["outcome"] == "resolved" and resolved["success"] and resolved["resolved_on"] == today().isoformat()
    # The case goes on by its own workflow: still accepted, and the detail shows both.
    assert resolved["case"]["status"] == "accepted" and "start" in resolved["case_allowed_actions"]
    assert resolved["case"]["closed_at"] is None and resolved["days_left"] is None and not resolved["overdue"]
    worker.post(f"{path}/mediations", _mediation(), status=409)
    error = worker.post(
        f"{path}/follow-up", {"follow_up_on": (today() - timedelta(days=1)).isoformat(), "note": "回访"}, status=422
    )
    assert [d["field"] for d in error["error"]["details"]] == ["follow_up_on"]
    followed = worker.post(f"{path}/follow-up", {"follow_up_on": today().isoformat(), "note": "双方关系恢复正常"})
    assert followed["follow_up_note"] == "双方关系恢复正常"
    failed = worker.post(f"{path}/outcome", {"outcome": "failed", "resolution": "一方反悔，引导诉讼"})
    assert failed["outcome"] == "failed" and not failed["success"]
    with db.sessions() as session:
        actions = list(
            session.scalars(
                select(AuditRecord.action).where(AuditRecord.action.like("dispute.%")).order_by(AuditRecord.seq)
            )
        )
    assert actions == ["dispute.create", "dispute.mediate", "dispute.outcome", "dispute.follow_up", "dispute.outcome"]


def test_changes_and_parties_keep_the_count_and_the_dates_straight(dispute_api: Users) -> None:
    operator = dispute_api("operator")
    dispute = operator.create()
    path = f"/disputes/{dispute['id']}"
    error = operator.post(f"{path}/parties", {"role": "other", "name": "王五"}, status=422)
    assert [d["field"] for d in error["error"]["details"]] == ["people_count"]
    changed = operator.patch(path, {"people_count": 3, "scale": "large", "units_involved": "物业公司"})
    assert (changed["people_count"], changed["scale"]) == (3, "large")
    party = operator.post(
        f"{path}/parties", {"role": "other", "name": "王五", "id_number": ID_FEMALE, "sex": "2"}, status=201
    )
    assert party["name"] == "王*" and party["id_number"].startswith("340302") and "*" in party["id_number"]
    error = operator.post(f"{path}/parties", {"role": "other", "name": "赵六", "id_number": "12345"}, status=422)
    assert [d["field"] for d in error["error"]["details"]] == ["id_number", "people_count"]
    error = operator.patch(path, {"people_count": 2}, status=422)
    assert [d["field"] for d in error["error"]["details"]] == ["people_count"]
    error = operator.patch(path, {"resolution_deadline": (today() - timedelta(days=1)).isoformat()}, status=422)
    assert [d["field"] for d in error["error"]["details"]] == ["resolution_deadline"]
    operator.patch(path, {"dispute_category": "00"}, status=422)
    changed = operator.patch(path, {"dispute_category": "07", "units_involved": None})
    assert changed["dispute_category_name"] == "物业管理" and changed["units_involved"] is None
    assert len(changed["parties"]) == 3


def test_a_dispute_past_its_deadline_is_overdue_until_resolved(dispute_api: Users) -> None:
    operator = dispute_api("operator")
    dispute = operator.create(resolution_deadline=today().isoformat())
    assert dispute["days_left"] == 0 and not dispute["overdue"]
    clock.advance(timedelta(days=3))
    operator.log_in_again()
    late: dict[str, Any] = operator.get(f"/disputes/{dispute['id']}")
    assert late["overdue"] and late["days_left"] == -3
    assert operator.get("/disputes", overdue=True)["total"] == 1
    operator.post(f"/disputes/{dispute['id']}/outcome", {"outcome": "partly", "resolution": "部分达成"})
    assert operator.get("/disputes", overdue=True)["total"] == 1  # partly resolved: still open
    operator.post(f"/disputes/{dispute['id']}/outcome", {"outcome": "resolved", "resolution": "全部达成"})
    assert operator.get("/disputes", overdue=True)["total"] == 0
