"""Recording a dispute with its case, every refusal of bad input (nothing half-written), and who sees what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case
from civicgrid.core.db import Database
from civicgrid.disputes.models import Dispute, DisputeParty
from civicgrid.registry.people import today
from tests.cases.conftest import IN_A2, OUTSIDE
from tests.disputes.conftest import ID_MALE, DisputeApi, dispute_body
from tests.support.city import COMMUNITY_A, GRID_A1, GRID_B1

Users = Callable[[str], DisputeApi]


def _count(db: Database, model: type[Any]) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_centre_records_a_dispute_and_its_case_in_one_go(dispute_api: Users, db: Database) -> None:
    operator = dispute_api("operator")
    dispute = operator.create()
    assert dispute["dispute_category"] == "04" and dispute["dispute_category_name"] == "邻里纠纷"
    assert dispute["scale"] == "general" and dispute["outcome"] == "pending" and not dispute["success"]
    assert dispute["grid_code"] == GRID_A1 and dispute["community_code"] == COMMUNITY_A
    case = dispute["case"]
    # Filed under the dispute category's default case category (邻里纠纷 → 0101), reported by the centre.
    assert case["category_code"] == "0101" and case["status"] == "reported" and case["grid_code"] == GRID_A1
    assert case["code"] == dispute["case_code"] and case["id"] == dispute["case_id"]
    assert dispute["case_visible"] and "accept" in dispute["case_allowed_actions"]
    assert dispute["title"].startswith("邻里纠纷：")
    # Parties are masked: names and ID numbers.
    applicant, respondent = dispute["parties"]
    assert applicant["name"] == "张*明" and applicant["id_number"] == ID_MALE[:6] + "********" + ID_MALE[-4:]
    assert respondent["name"] == "李*红" and respondent["id_number"] is None and respondent["education"] == "60"
    assert dispute["days_left"] == 15 and not dispute["overdue"]
    # Stored encrypted with a blind index, never in plain text.
    with db.sessions() as session:
        party = session.scalars(select(DisputeParty).where(DisputeParty.role == "applicant")).one()
        assert party.id_number_index and party.id_number_enc and ID_MALE.encode() not in party.id_number_enc
        actions = set(session.scalars(select(AuditRecord.action)))
    assert {"case.report", "dispute.create"} <= actions
    assert operator.get(f"/disputes/{dispute['id']}")["parties"][0]["name"] == "张*明"


def test_a_grid_worker_records_one_in_the_own_grid_by_choosing_the_grid(dispute_api: Users) -> None:
    worker = dispute_api("worker.a1")
    dispute = worker.create(point=None, grid_code=GRID_A1, dispute_category="11", people_count=12, parties=[])
    assert dispute["grid_code"] == GRID_A1 and dispute["scale"] == "large"
    # 即报即受: the grid worker's own report starts accepted; 劳资纠纷 → 0103.
    assert dispute["case"]["status"] == "accepted" and dispute["case"]["category_code"] == "0103"
    # Not somewhere else.
    worker.create(status=404, point=None, grid_code=GRID_B1)
    worker.create(status=404, point=(117.1, 32.7))


def test_bad_input_is_refused_whole_with_every_field_and_nothing_is_written(dispute_api: Users, db: Database) -> None:
    operator = dispute_api("operator")
    bad_id = ID_MALE[:17] + ("0" if ID_MALE[17] != "0" else "1")
    error = operator.create(
        status=422,
        dispute_category="99",
        category_code="0501",
        resolution_deadline=(today() - timedelta(days=1)).isoformat(),
        people_count=1,
        parties=[{"role": "applicant", "name": "张三明", "id_number": bad_id}, {"role": "other", "name": "王五"}],
    )["error"]
    fields = {d["field"] for d in error["details"]}
    assert fields == {
        "dispute_category",
        "category_code",
        "resolution_deadline",
        "people_count",
        "parties[0].id_number",
    }
    assert error["code"] == "invalid_input"
    # A case category outside class 01, and one the dispute category does not default.
    error = operator.create(status=422, category_code="0501")["error"]
    assert [d["field"] for d in error["details"]] == ["category_code"]
    error = operator.create(status=422, dispute_category="28")["error"]
    assert [d["field"] for d in error["details"]] == ["category_code"]
    assert operator.create(dispute_category="28", category_code="0102")["case"]["category_code"] == "0102"
    # Codes of the code tables, and a sex that contradicts the ID number.
    error = operator.create(
        status=422, parties=[{"role": "applicant", "name": "张三明", "id_number": ID_MALE, "sex": "2"}]
    )
    assert [d["field"] for d in error["error"]["details"]] == ["parties[0].sex"]
    error = operator.create(status=422, parties=[{"role": "other", "name": "赵六", "ethnicity": "zz"}])
    assert [d["field"] for d in error["error"]["details"]] == ["parties[0].ethnicity"]
    # No location, or one outside the city.
    error = operator.create(status=422, point=None)
    assert [d["field"] for d in error["error"]["details"]] == ["location"]
    error = operator.create(status=422, point=OUTSIDE)
    assert [d["field"] for d in error["error"]["details"]] == ["location"]
    assert _count(db, Dispute) == 1 and _count(db, Case) == 1 and _count(db, DisputeParty) == 2


def test_a_similar_case_nearby_is_offered_and_a_replay_records_one_dispute(dispute_api: Users, db: Database) -> None:
    operator = dispute_api("operator")
    operator.create(force_new=False)
    error = operator.create(status=409, force_new=False)["error"]
    assert error["code"] == "possible_duplicate" and error["details"]["candidates"]
    assert _count(db, Dispute) == 1 and _count(db, Case) == 1
    first = operator.create(point=IN_A2, client_id="offline-0001")
    again = operator.post("/disputes", dispute_body(IN_A2, client_id="offline-0001"), status=201)
    assert again["id"] == first["id"] and _count(db, Dispute) == 2


def test_scope_justice_reads_other_departments_do_not(dispute_api: Users) -> None:
    mine = dispute_api("worker.a1").create(parties=[])
    theirs = dispute_api("operator").create(point=IN_A2, parties=[])
    worker = dispute_api("worker.a1")
    assert [d["id"] for d in worker.get("/disputes")["items"]] == [mine["id"]]
    worker.get(f"/disputes/{theirs['id']}", status=404)
    worker.post(f"/disputes/{theirs['id']}/mediations", _mediation(), status=404)
    assert dispute_api("other.operator").get("/disputes")["total"] == 0
    assert dispute_api("community.a").get("/disputes")["total"] == 2
    justice = dispute_api("justice")
    assert justice.get("/disputes")["total"] == 2
    detail = justice.get(f"/disputes/{mine['id']}")
    # The justice bureau reads the dispute; the case's handling is not theirs.
    assert not detail["case_visible"] and detail["case_allowed_actions"] == []
    justice.post(f"/disputes/{mine['id']}/mediations", _mediation(), status=403)
    justice.post("/disputes", {}, status=422)
    assert justice.create(status=403)["error"]["details"] == {"permission": "dispute:write"}
    police = dispute_api("police")
    police.get("/disputes", status=403)
    police.get(f"/disputes/{mine['id']}", status=403)
    police.get("/disputes/desk", status=403)
    dispute_api("resident").get("/disputes", status=403)
    assert len(dispute_api("resident").get("/disputes/categories")) == 28


def _mediation(**extra: Any) -> dict[str, Any]:
    body = {
        "mediated_on": today().isoformat(),
        "method": "people",
        "organisation": "天桥社区人民调解委员会",
        "mediator": "王调解",
        "result": "双方同意分担维修费用",
        "agreement": "楼上承担七成，楼下承担三成",
        "agreement_reached": True,
    }
    body.update(extra)
    return body
