"""The command centre's key figures, trend and rankings, against data whose figures are known."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Principal
from civicgrid.cases import measures
from civicgrid.command import dashboard, positions
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from civicgrid.core.errors import InvalidInput
from civicgrid.safety import counts
from civicgrid.safety.categories import seed_safety_categories
from civicgrid.safety.counts import CountKey, Tally
from civicgrid.safety.models import SafetyWarning
from tests.cases.test_measures import add_case
from tests.command.conftest import IN_A1, IN_B1
from tests.support.api import assert_error, auth_headers
from tests.support.city import (
    CITY,
    COMMUNITY_A,
    DISTRICT,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    OTHER_DISTRICT,
    STREET_A,
    STREET_B,
    TinyCity,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


def _warning(session: Session, code: str, level: str, status: str, chain: tuple[str | None, ...]) -> None:
    district, street, community, grid = chain
    day = _today()
    session.add(
        SafetyWarning(
            kind="surge",
            subject=f"inc:01:{code}:{status}",
            area_code=code,
            level=level,
            period_start=day,
            period_end=day,
            title="警情激增",
            status=status,
            district_code=district,
            street_code=street,
            community_code=community,
            grid_code=grid,
        )
    )


@pytest.fixture
def figures(db: Database, cases_city: TinyCity, principal: Callable[[str], Principal]) -> TinyCity:
    """Cases, police-call counts, warnings and workers on duty whose figures the tests below know."""
    now = utcnow()
    midnight = measures.local_midnight(now, SHANGHAI)
    today = _today()
    with db.unit_of_work() as s:
        seed_safety_categories(s)
        # Cases: street A's grid A1 has one new, one overdue with a red card, one yellow-carded, one closed
        # today (reported yesterday); grid B1 one new; the other district one new.
        add_case(s, status="reported", reported=midnight + timedelta(seconds=1), accept_due=now + timedelta(days=1))
        add_case(s, status="in_progress", reported=midnight - timedelta(days=20), due_hours=1, card="red")
        add_case(s, status="accepted", reported=midnight - timedelta(days=3), due_hours=2000, card="yellow")
        add_case(s, reported=midnight - timedelta(hours=5), hours=5.5)
        add_case(s, grid=GRID_B1, status="reported", reported=midnight + timedelta(seconds=2))
        add_case(s, grid="340304001001001", status="reported", reported=midnight + timedelta(seconds=3))
        # Police calls (daily counts).
        tallies = {
            CountKey(GRID_A1, today, "inc:01"): 3,
            CountKey(GRID_A1, today, "inc:06"): 1,  # a request for help: no indicator ("other")
            CountKey(GRID_B1, today, "inc:03"): 2,
            CountKey(STREET_A, today, "inc:01"): 1,  # placed by an address code of the street only
            CountKey(GRID_A2, today - timedelta(days=1), "inc:02"): 4,
            CountKey(GRID_A1, today - timedelta(days=2), "inc:01"): 10,
            CountKey(GRID_A1, today - timedelta(days=40), "inc:01"): 50,  # outside every window asked
            CountKey(OTHER_DISTRICT, today, "inc:01"): 7,
            CountKey(GRID_A1, today, "case:01"): 5,  # the platform's cases: not police calls
        }
        counts.add_counts(s, {k: Tally(count=n) for k, n in tallies.items()})
        # Warnings.
        _warning(s, GRID_A1, "grid", "open", (DISTRICT, STREET_A, COMMUNITY_A, GRID_A1))
        _warning(s, GRID_A2, "grid", "closed", (DISTRICT, STREET_A, COMMUNITY_A, GRID_A2))
        _warning(s, STREET_B, "street", "acknowledged", (DISTRICT, STREET_B, None, None))
        _warning(s, OTHER_DISTRICT, "district", "open", (OTHER_DISTRICT, None, None, None))
        _warning(s, CITY, "city", "open", (None, None, None, None))
    for username, point in (("worker.a1", IN_A1), ("worker.b1", IN_B1)):
        with db.unit_of_work() as s:
            positions.share(s, principal(username), point[0], point[1], 10.0, 120)
    return cases_city


def _get(client: TestClient, user: str, path: str, status: int = 200, **params: Any) -> Any:
    response = client.get(f"/api/v1/command{path}", params=params, headers=auth_headers(client, user))
    assert response.status_code == status, response.text
    return response.json()


# -- overview ------------------------------------------------------------------------------------------------


def test_the_overview_of_a_district(client: TestClient, figures: TinyCity) -> None:
    body = _get(client, "district.operator", "/overview")
    assert body["area"] == {"code": DISTRICT, "name": "蚌山区", "level": "district"}
    assert body["cases"] == {
        "new_today": 2,
        "closed_today": 1,
        "open": 4,
        "overdue": 1,
        "yellow_cards": 1,
        "red_cards": 1,
    }
    assert (body["calls_today"], body["calls_yesterday"]) == (3 + 1 + 2 + 1, 4)
    assert body["open_warnings"] == 2  # grid A1's open one and street B's acknowledged one
    assert body["workers_on_duty"] == 2
    assert body["as_of"]


def test_the_overview_follows_the_area_asked_and_the_callers_scope(client: TestClient, figures: TinyCity) -> None:
    community = _get(client, "community.a", "/overview")
    assert community["area"]["code"] == COMMUNITY_A
    assert (community["cases"]["new_today"], community["cases"]["open"]) == (1, 3)
    assert (community["calls_today"], community["calls_yesterday"]) == (4, 4)  # the street-level call is above it
    assert (community["open_warnings"], community["workers_on_duty"]) == (1, 1)
    street_b = _get(client, "district.operator", "/overview", area_code=STREET_B)
    assert (street_b["cases"]["new_today"], street_b["calls_today"], street_b["open_warnings"]) == (1, 2, 1)
    city = _get(client, "operator", "/overview")
    assert (city["cases"]["new_today"], city["calls_today"], city["open_warnings"], city["workers_on_duty"]) == (
        3,
        14,
        4,
        2,
    )
    other = _get(client, "other.operator", "/overview")
    assert (other["calls_today"], other["open_warnings"], other["workers_on_duty"]) == (7, 1, 0)
    _get(client, "other.operator", "/overview", status=404, area_code=DISTRICT)
    _get(client, "community.a", "/overview", status=404, area_code=STREET_B)
    _get(client, "operator", "/overview", status=404, area_code="340399")
    for username in ("worker.a1", "police", "resident", "admin"):
        assert_error(client.get("/api/v1/command/overview", headers=auth_headers(client, username)), 403)


def test_the_case_figures_are_those_of_the_case_measures(
    db: Database, figures: TinyCity, principal: Callable[[str], Principal]
) -> None:
    operator = principal("district.operator")
    with db.unit_of_work(write=False) as session:
        now = utcnow()
        overview = dashboard.overview(session, operator, area_code=STREET_A, now=now)
        summary = measures.summary(session, operator, area_code=STREET_A, now=now)
    assert overview.cases == summary


# -- trend ---------------------------------------------------------------------------------------------------


def test_the_trend_lists_every_day_with_calls_per_indicator(client: TestClient, figures: TinyCity) -> None:
    body = _get(client, "district.operator", "/trend", days=3)
    today = _today()
    assert (body["first"], body["last"]) == ((today - timedelta(days=2)).isoformat(), today.isoformat())
    assert body["indicators"] == ["crime_order", "fire", "traffic", "disputes", "other"]
    days = {d["day"]: d for d in body["days"]}
    assert list(days) == [(today - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    zero = dict.fromkeys(body["indicators"], 0)
    assert days[today.isoformat()]["calls"] == {**zero, "crime_order": 4, "disputes": 2, "other": 1}
    assert days[today.isoformat()]["calls_total"] == 7
    assert days[(today - timedelta(days=1)).isoformat()]["calls"] == {**zero, "crime_order": 4}
    assert days[(today - timedelta(days=2)).isoformat()]["calls"] == {**zero, "crime_order": 10}
    assert [(d["cases_reported"], d["cases_closed"]) for d in body["days"]] == [(0, 0), (1, 1), (2, 0)]
    month = _get(client, "district.operator", "/trend")
    assert len(month["days"]) == 30 and sum(d["calls_total"] for d in month["days"]) == 7 + 4 + 10
    assert sum(d["cases_reported"] for d in month["days"]) == 5  # the one of 20 days ago included


@pytest.mark.parametrize("days", [0, -3, 367])
def test_a_trend_of_a_bad_length_is_refused(client: TestClient, figures: TinyCity, days: int) -> None:
    response = client.get(
        "/api/v1/command/trend", params={"days": days}, headers=auth_headers(client, "district.operator")
    )
    assert assert_error(response, 422, "invalid_input")["details"] == [{"field": "days", "problem": "1 to 366"}]


# -- rankings ------------------------------------------------------------------------------------------------------


def test_areas_ranked_by_calls_per_ten_thousand_and_by_overdue(client: TestClient, figures: TinyCity) -> None:
    body = _get(client, "district.operator", "/ranking", by="areas")
    assert body["by"] == "areas" and body["units"] == []
    assert body["population_source"] == "divisions"  # the tiny city has no registry
    rows = {r["code"]: r for r in body["areas"]}
    assert [r["code"] for r in body["areas"]] == [STREET_A, STREET_B]
    a, b = rows[STREET_A], rows[STREET_B]
    assert (a["population"], a["calls"], a["calls_per_10k"]) == (600, 3 + 1 + 1 + 4 + 10, 19 * 10_000 / 600)
    assert (b["population"], b["calls"], b["calls_per_10k"]) == (600, 2, 2 * 10_000 / 600)
    assert (a["rank_calls"], b["rank_calls"]) == (1, 2)
    assert (a["open_overdue"], a["reported"], b["open_overdue"], b["reported"]) == (1, 4, 0, 1)
    assert (a["rank_overdue"], b["rank_overdue"]) == (1, 2)
    week = _get(client, "district.operator", "/ranking", by="areas", days=1)
    assert {r["code"]: r["calls"] for r in week["areas"]} == {STREET_A: 5, STREET_B: 2}
    assert _get(client, "operator", "/ranking", by="areas", area_code=GRID_A1)["areas"] == []
    city = _get(client, "operator", "/ranking", by="areas")
    assert [r["code"] for r in city["areas"]] == [DISTRICT, OTHER_DISTRICT]
    assert city["areas"][1]["calls_per_10k"] is None  # the other district has no grids, so no population


def test_units_ranked_by_on_time_closure(client: TestClient, db: Database, cases_city: TinyCity) -> None:
    police, committee = cases_city.units["dept-police"], cases_city.units["committee-b"]
    recent = utcnow() - timedelta(days=3)
    with db.unit_of_work() as s:
        add_case(s, reported=recent, hours=2, unit_id=police)
        add_case(s, grid=GRID_B1, reported=recent, hours=3, unit_id=police)
        add_case(s, reported=recent, hours=2, unit_id=committee)
        add_case(s, reported=recent, hours=30, due_hours=20, unit_id=committee, cards=("yellow", "red"))
        add_case(s, status="in_progress", reported=recent, due_hours=1, unit_id=committee, card="red")
        add_case(s, reported=recent, hours=1)  # no lead unit: handled on the ladder, not ranked
        add_case(s, reported=utcnow() - timedelta(days=40), hours=90, due_hours=1, unit_id=police)  # too old
    body = _get(client, "district.operator", "/ranking")
    assert body["by"] == "units" and body["areas"] == [] and body["population_source"] is None
    ranks = [(u["rank"], u["unit_id"], u["name"], u["closed"], u["on_time_rate"]) for u in body["units"]]
    assert ranks == [(1, police, "蚌埠市公安局", 2, 1.0), (2, committee, "青年社区居委会", 2, 0.5)]
    second = body["units"][1]
    assert (second["reported"], second["open_overdue"], second["yellow_cards"], second["red_cards"]) == (3, 1, 1, 1)
    assert len(_get(client, "district.operator", "/ranking", days=60)["units"]) == 2
    assert _get(client, "other.operator", "/ranking")["units"] == []


def test_bad_ranking_questions_are_refused(client: TestClient, figures: TinyCity) -> None:
    headers = auth_headers(client, "district.operator")
    bogus = client.get("/api/v1/command/ranking", params={"by": "people"}, headers=headers)
    assert_error(bogus, 422, "invalid_input")
    assert_error(client.get("/api/v1/command/ranking", params={"days": 0}, headers=headers), 422, "invalid_input")
    assert_error(client.get("/api/v1/command/ranking", headers=auth_headers(client, "worker.a1")), 403)
    with pytest.raises(InvalidInput) as refused:
        dashboard.ranking(None, None, by="people", days=0)  # type: ignore[arg-type]  # checked before any read
    assert {d["field"] for d in refused.value.details} == {"by", "days"}


# -- the answers the wall shares -----------------------------------------------------------------------------


def test_figures_are_shared_for_ttl_by_those_who_see_the_same(
    db: Database, figures: TinyCity, principal: Callable[[str], Principal]
) -> None:
    operator, district = principal("operator"), principal("district.operator")
    with db.unit_of_work(write=False) as session:
        first = dashboard.overview(session, operator, area_code=DISTRICT, ttl=60)
        fresh = dashboard.overview(session, district, area_code=DISTRICT, ttl=60)  # another scope: its own answer
    with db.unit_of_work() as s:
        add_case(s, status="reported", reported=utcnow())
    with db.unit_of_work(write=False) as session:
        kept = dashboard.overview(session, operator, area_code=DISTRICT, ttl=60)
        recomputed = dashboard.overview(session, operator, area_code=DISTRICT)  # ttl 0: computed now
        trend_kept = dashboard.trend(session, operator, area_code=DISTRICT, ttl=60)
        trend_again = dashboard.trend(session, operator, area_code=DISTRICT, ttl=60)
    assert first.cases is not None and fresh.cases is not None and kept.cases is not None
    assert kept is first and kept.as_of == first.as_of
    assert fresh is not first and fresh.cases.new_today == first.cases.new_today
    assert recomputed.cases is not None and recomputed.cases.new_today == first.cases.new_today + 1
    assert trend_again is trend_kept
    # A live event reaching the process (here: the case's) starts a new answer.
    from civicgrid.core.broadcast import Broadcaster, Event

    Broadcaster().publish(Event("case.created", {"id": 1}))
    with db.unit_of_work(write=False) as session:
        after_event = dashboard.overview(session, operator, area_code=DISTRICT, ttl=60)
    assert after_event.cases is not None and after_event.cases.new_today == first.cases.new_today + 1


def test_case_visibility_decides_who_shares() -> None:
    from civicgrid.authz.scope import Level, Scope
    from civicgrid.cases.service import visibility_key

    def someone(
        user_id: int, permissions: set[str], unit_id: int | None = None, department: int | None = None
    ) -> Principal:
        scope = Scope(DISTRICT, Level.district, department)
        return Principal(user_id, f"u{user_id}", "x", frozenset(permissions), scope, unit_id=unit_id)

    assert visibility_key(someone(1, {"case:read"})) == visibility_key(someone(2, {"case:read"}))
    liaison_a, liaison_b = someone(3, {"case:read"}, unit_id=7, department=1), someone(4, {"case:read"}, 7, 1)
    assert visibility_key(liaison_a) != visibility_key(liaison_b)  # each also sees the cases they reported
    assert visibility_key(someone(5, {"case:report"})) != visibility_key(someone(6, {"case:report"}))


def test_the_wall_keeps_its_figures_15_seconds_outside_tests() -> None:
    from civicgrid.config import Settings, random_secret

    assert Settings(mode="demo").figures_ttl == 15.0
    assert Settings(mode="test", secret_key=random_secret()).figures_ttl == 0.0
    assert Settings(mode="demo", figures_cache_seconds=0).figures_ttl == 0.0
