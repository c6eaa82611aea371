"""The index through HTTP: the scores of a level and the ranking, the explanation and the trend, the scope of
each caller (an area outside it answers 404), and the configurations: validation that lists every
problem, creation by administrators only, activation as a job that switches once the scores exist."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from civicgrid.core.db import Database
from civicgrid.safety import index_service
from civicgrid.safety.counts import CountKey, Tally, add_counts
from civicgrid.safety.models import SafetyIndexConfig, SafetyScore
from tests.support.api import auth_headers
from tests.support.city import (
    CITY,
    COMMUNITY_A,
    COMMUNITY_B,
    DISTRICT,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    GRID_B2,
    STREET_A,
    STREET_B,
    TinyCity,
)

NOW = datetime(2024, 3, 20, 4, 0, tzinfo=UTC)
BASE = "/api/v1/safety"


class Api:
    def __init__(self, client: TestClient, username: str) -> None:
        self.client = client
        self.headers = auth_headers(client, username)

    def get(self, path: str, status: int = 200, **params: Any) -> Any:
        response = self.client.get(f"{BASE}{path}", params=params, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()

    def post(self, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.client.post(f"{BASE}{path}", json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def scored(db: Database, index_city: TinyCity) -> TinyCity:
    """Counts in February and March 2024 with March's scores computed: A1 worst, then B1."""
    counts = {
        (GRID_A1, "2024-03-05", "inc:01"): Tally(30, 1),
        (GRID_A2, "2024-03-05", "inc:01"): Tally(2),
        (GRID_B1, "2024-03-06", "inc:01"): Tally(12),
        (GRID_B2, "2024-03-06", "inc:05"): Tally(1),
        (GRID_A1, "2024-02-01", "inc:01"): Tally(3),
    }
    with db.unit_of_work() as session:
        add_counts(session, {CountKey(c, date.fromisoformat(d), k): t for (c, d, k), t in counts.items()})
    index_service.recompute(db, NOW)
    index_service.rebuild(db, first=date(2024, 2, 1), last=date(2024, 3, 20), period_types=["month"], recount=False)
    return index_city


def test_the_scores_of_a_level(client: TestClient, scored: TinyCity) -> None:
    api = Api(client, "operator")
    out = api.get("/index", period="month", date="2024-03-20", level="grid")
    assert out["period"] == {"type": "month", "start": "2024-03-01", "end": "2024-03-31"}
    assert out["config"]["name"] and out["parent_code"] == CITY and out["computed_at"]
    assert [a["code"] for a in out["areas"]] == [GRID_A1, GRID_A2, GRID_B1, GRID_B2]
    a1 = out["areas"][0]
    assert a1["events"] == 30 and a1["deaths"] == 1 and a1["population"] == 300
    assert a1["level"] == "grid" and a1["parent_code"] == COMMUNITY_A and a1["name"] == "天桥社区第1网格"
    assert a1["band"] in ("green", "yellow", "orange", "red") and 0 <= a1["score"] <= 100
    # the default: the level below the caller's area, the newest period with scores
    default = api.get("/index")
    assert default["level"] == "district" and default["period"]["start"] == "2024-03-01"
    assert {a["code"] for a in default["areas"]} == {DISTRICT, "340304"}
    streets = api.get("/index", level="street", parent=DISTRICT, date="2024-03-01")
    assert [a["code"] for a in streets["areas"]] == [STREET_A, STREET_B]


def test_the_worst_areas_of_a_level(client: TestClient, scored: TinyCity) -> None:
    api = Api(client, "operator")
    worst = api.get("/index", level="grid", order="worst", limit=2, date="2024-03-01")["areas"]
    assert [a["code"] for a in worst] == [GRID_A1, GRID_B1]
    assert worst[0]["score"] <= worst[1]["score"]
    best = api.get("/index", level="grid", order="best", limit=1, date="2024-03-01")["areas"]
    assert best[0]["score"] >= worst[-1]["score"]


def test_a_period_without_scores_says_so(client: TestClient, scored: TinyCity) -> None:
    out = Api(client, "operator").get("/index", period="month", date="2023-01-15")
    assert out["areas"] == [] and out["computed_at"] is None
    assert out["period"]["start"] == "2023-01-01"


def test_the_explanation_and_the_trend(client: TestClient, scored: TinyCity) -> None:
    api = Api(client, "operator")
    out = api.get(f"/index/{GRID_A1}", period="month", date="2024-03-05")
    listed = api.get("/index", level="grid", date="2024-03-05")["areas"][0]
    assert out["score"] == listed["score"] and out["band"] == listed["band"] and out["stored"]
    assert out["area"] == {"code": GRID_A1, "name": "天桥社区第1网格", "level": "grid", "parent_code": COMMUNITY_A}
    assert [c["indicator"] for c in out["components"]] == ["crime_order", "fire", "traffic"]
    crime = out["components"][0]
    assert crime["observed"] == 30 and crime["weight"] == 0.6
    assert set(crime["baselines"]) == {"three_year", "year_on_year", "previous", "peers"}
    # history starts in February 2024: no previous year, so peers (A1 and A2: median rate 16/300) are used
    assert crime["baselines"]["three_year"]["available"] is False
    assert crime["baseline_used"] == "peers"
    assert crime["expected"] == pytest.approx(16)
    assert crime["baselines"]["previous"]["count"] == pytest.approx(3 * 31 / 29, abs=1e-3)
    assert out["deaths"] == 1 and out["deduction"] == 5
    assert out["escalation"] == {"notice": 3, "interview": 4}
    trend = api.get(f"/index/{GRID_A1}/trend", period="month", count=3)
    assert [p["start"] for p in trend["points"]] == ["2024-02-01", "2024-03-01"]
    assert trend["points"][1]["events"] == 30 and trend["points"][0]["events"] == 3
    assert trend["points"][1]["score"] == out["score"]


def test_a_community_user_sees_only_their_community(client: TestClient, scored: TinyCity) -> None:
    api = Api(client, "community.a")
    own = api.get("/index", date="2024-03-01")
    assert own["parent_code"] == COMMUNITY_A and own["level"] == "grid"
    assert [a["code"] for a in own["areas"]] == [GRID_A1, GRID_A2]
    assert api.get("/index", level="community", date="2024-03-01")["areas"][0]["code"] == COMMUNITY_A
    api.get(f"/index/{GRID_A2}", date="2024-03-01")
    api.get(f"/index/{COMMUNITY_A}/trend")
    for code in (GRID_B1, COMMUNITY_B, DISTRICT, CITY, "999999"):
        api.get(f"/index/{code}", status=404)
        api.get(f"/index/{code}/trend", status=404)
    api.get("/index", parent=COMMUNITY_B, status=404)
    api.get("/index", parent=DISTRICT, status=404)
    problem = api.get("/index", level="street", status=422)
    assert problem["error"]["details"][0]["field"] == "level"


def test_roles_without_safety_read_are_refused(client: TestClient, scored: TinyCity) -> None:
    Api(client, "resident").get("/index", status=403)
    Api(client, "auditor").get(f"/index/{GRID_A1}", status=403)


def test_bad_parameters_are_refused(client: TestClient, scored: TinyCity) -> None:
    api = Api(client, "operator")
    api.get("/index", period="year", status=422)
    api.get("/index", date="2024-13-01", status=422)
    api.get(f"/index/{GRID_A1}/trend", count=0, status=422)


# -- configurations ------------------------------------------------------------------------------------------


def test_configurations_are_listed(client: TestClient, scored: TinyCity) -> None:
    page = Api(client, "worker.a1").get("/index-configs")
    assert page["total"] == 1 and page["items"][0]["active"]
    assert page["items"][0]["definition"]["scoring"] == {
        "prior": 3.0,
        "slope": 50.0,
        "death_points": 5.0,
        "death_cap": 20.0,
    }


def test_a_definition_with_every_problem_is_refused_whole(client: TestClient, db: Database, scored: TinyCity) -> None:
    api = Api(client, "admin")
    body = {
        "name": "broken",
        "definition": {
            "indicators": {"crime_order": 0.5, "fire": 0.2, "burglary": 0.1, "traffic": -0.1},
            "baseline": "last_decade",
            "bands": {"green": 80, "yellow": 85, "orange": 70},
            "escalation": {"notice": 4, "interview": 3},
            "colour": "blue",
        },
    }
    error = api.post("/index-configs", body, status=422)["error"]
    fields = {d["field"]: d["problem"] for d in error["details"]}
    assert "unknown indicator" in fields["indicators.burglary"]
    assert "crime_order, fire, traffic, disputes, hazards" in fields["indicators.burglary"]
    assert "more than 0" in fields["indicators.traffic"]
    assert fields["indicators"] == "the weights add up to 0.7; they must add up to 1"
    assert "baseline" in fields and "bands" in fields and "escalation.interview" in fields
    assert fields["colour"] == "unknown setting"
    assert error["code"] == "invalid_input"
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(SafetyIndexConfig)) == 1


@pytest.mark.parametrize(
    ("indicators", "field", "words"),
    [
        ({"crime_order": 0.6, "fire": 0.2, "traffic": 0.3}, "indicators", "add up to 1.1"),
        ({"crime_order": 0.6, "fire": 0.2, "traffic": 0.198}, "indicators", "add up to 0.998"),
        ({"crime": 1.0}, "indicators.crime", "known ones are crime_order"),
        ({}, "indicators", "at least one"),
        ({"crime_order": "lots"}, "indicators.crime_order", "number"),
    ],
)
def test_weights_must_add_up_and_name_known_indicators(
    client: TestClient, scored: TinyCity, indicators: dict[str, Any], field: str, words: str
) -> None:
    error = Api(client, "admin").post("/index-configs", {"name": "x", "definition": {"indicators": indicators}}, 422)
    problems = {d["field"]: d["problem"] for d in error["error"]["details"]}
    assert words in problems[field], problems


def test_a_sum_within_the_tolerance_is_accepted(client: TestClient, scored: TinyCity) -> None:
    weights = {"crime_order": 0.6, "fire": 0.2, "traffic": 0.1995}
    out = Api(client, "admin").post("/index-configs", {"name": "x", "definition": {"indicators": weights}}, 201)
    assert out["definition"]["indicators"] == weights


def test_only_administrators_create_and_activate(client: TestClient, scored: TinyCity) -> None:
    body = {
        "name": "with disputes",
        "definition": {"indicators": {"crime_order": 0.5, "fire": 0.2, "traffic": 0.2, "disputes": 0.1}},
    }
    for username in ("operator", "community.a", "worker.a1"):
        Api(client, username).post("/index-configs", body, status=403)
        Api(client, username).post("/index-configs/1/activate", status=403)


def test_activation_computes_the_scores_then_switches(client: TestClient, db: Database, scored: TinyCity) -> None:
    api = Api(client, "admin")
    body = {
        "name": "with disputes",
        "definition": {"indicators": {"crime_order": 0.5, "fire": 0.2, "traffic": 0.2, "disputes": 0.1}},
    }
    created = api.post("/index-configs", body, status=201)
    assert created["active"] is False and created["definition"]["baseline"] == "three_year"
    out = api.post(f"/index-configs/{created['id']}/activate")
    assert out["config"]["active"] is False and "job" in out["message"]
    client.app.state.job_runner.wait()  # type: ignore[attr-defined]
    job = client.get(f"/api/v1/jobs/{out['job_id']}", headers=api.headers).json()
    assert job["status"] == "succeeded", job
    with db.unit_of_work() as session:
        active = index_service.active_config(session)
        assert active.id == created["id"]
        assert session.scalar(select(func.count()).select_from(SafetyIndexConfig).where(SafetyIndexConfig.active)) == 1
        rows = session.scalar(select(func.count()).select_from(SafetyScore).where(SafetyScore.config_id == active.id))
        assert rows and rows > 0
    listed = Api(client, "operator").get("/index", level="grid", date="2024-03-01")
    assert listed["config"]["id"] == created["id"] and len(listed["areas"]) == 4
    api.post(f"/index-configs/{created['id']}/activate", status=409)
    api.post("/index-configs/999/activate", status=404)


def test_without_any_configuration_the_default_applies(client: TestClient, db: Database, tiny_city: TinyCity) -> None:
    from civicgrid.safety.categories import seed_safety_categories

    with db.unit_of_work() as session:
        seed_safety_categories(session)
        add_counts(session, {CountKey(GRID_A1, date(2024, 3, 5), "inc:01"): Tally(3)})
    api = Api(client, "operator")
    listed = api.get("/index", date="2024-03-05")
    assert listed["config"]["id"] == 0 and listed["areas"] == [] and listed["computed_at"] is None
    out = api.get(f"/index/{GRID_A1}", date="2024-03-05")
    assert out["stored"] is False and out["components"][0]["observed"] == 3
    assert api.get(f"/index/{GRID_A1}/trend")["points"] == []
