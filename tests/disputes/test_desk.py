"""The list's filters and the one-stop acceptance desk (一站式受理) of a centre."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from civicgrid.registry.people import today
from tests.cases.conftest import IN_A1, IN_A2, IN_B2
from tests.disputes.conftest import DisputeApi
from tests.support.city import COMMUNITY_A, GRID_A2, STREET_B

Users = Callable[[str], DisputeApi]


def _days(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


def test_the_list_filters_by_category_scale_outcome_area_and_status(dispute_api: Users) -> None:
    operator = dispute_api("operator")
    neighbours = operator.create(point=IN_A1, resolution_deadline=_days(20))
    wages = operator.create(
        point=IN_A2, dispute_category="11", people_count=40, parties=[], resolution_deadline=_days(3)
    )
    family = operator.create(point=IN_B2, dispute_category="03", parties=[], resolution_deadline=_days(10))
    operator.post(f"/disputes/{family['id']}/outcome", {"outcome": "resolved", "resolution": "和好"})

    def ids(**params: object) -> list[int]:
        params.setdefault("sort", "resolution_deadline")
        return [d["id"] for d in operator.get("/disputes", **params)["items"]]

    newest_first = [d["id"] for d in operator.get("/disputes")["items"]]
    assert newest_first == sorted(newest_first, reverse=True)  # the default: the newest report first
    assert ids() == [wages["id"], family["id"], neighbours["id"]]  # nearest deadline first
    assert ids(sort="-people_count,-id") == [wages["id"], family["id"], neighbours["id"]]
    assert ids(dispute_category="11") == [wages["id"]]
    assert ids(scale="major") == [wages["id"]] and wages["scale"] == "major"
    assert ids(outcome="resolved") == [family["id"]]
    assert ids(open_only=True) == [wages["id"], neighbours["id"]]
    assert ids(area_code=GRID_A2) == [wages["id"]]
    assert ids(area_code=COMMUNITY_A) == [wages["id"], neighbours["id"]]
    assert ids(area_code=STREET_B) == [family["id"]]
    assert ids(case_status="reported") == [wages["id"], family["id"], neighbours["id"]]
    assert ids(q=wages["case_code"]) == [wages["id"]]
    assert ids(overdue=False) == ids()
    operator.get("/disputes", sort="summary", status=422)
    operator.get("/disputes", scale="huge", status=422)


def test_the_desk_counts_and_lists_what_needs_attention(dispute_api: Users) -> None:
    operator = dispute_api("operator")
    worker = dispute_api("worker.a1")
    due = operator.create(point=IN_A2, resolution_deadline=_days(5), parties=[])
    later = operator.create(point=IN_B2, dispute_category="11", resolution_deadline=_days(30), parties=[])
    # Reported 20 days ago with a deadline 10 days ago: overdue. The grid worker's own is accepted at once.
    late = worker.create(
        point=IN_A1,
        reported_at=(today() - timedelta(days=20)).isoformat() + "T08:00:00+08:00",
        resolution_deadline=_days(-10),
        parties=[],
    )
    assert late["case"]["status"] == "accepted"
    desk = operator.get("/disputes/desk")
    assert (desk["total"], desk["open"], desk["overdue_count"], desk["due_soon_count"]) == (3, 3, 1, 1)
    assert {c["key"]: c["count"] for c in desk["by_status"]} == {"reported": 2, "accepted": 1}
    assert desk["by_category"][0] == {"key": "04", "name": "邻里纠纷", "count": 2}
    assert desk["by_category"][1] == {"key": "11", "name": "劳资纠纷", "count": 1}
    assert [d["id"] for d in desk["due_soon"]] == [due["id"]]
    assert [d["id"] for d in desk["overdue"]] == [late["id"]] and desk["overdue"][0]["days_left"] == -10
    assert [d["id"] for d in desk["unaccepted"]] == [later["id"], due["id"]]  # newest first
    # Narrowed to an area, and the grid worker's desk is the own grid's.
    assert operator.get("/disputes/desk", area_code=STREET_B)["total"] == 1
    mine = worker.get("/disputes/desk")
    assert mine["total"] == 1 and mine["unaccepted"] == [] and [d["id"] for d in mine["overdue"]] == [late["id"]]
    assert dispute_api("other.operator").get("/disputes/desk")["total"] == 0
