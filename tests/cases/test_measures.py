"""Case measures: the figures per area, unit, category and local period, scope, the 90th percentile computed
in SQL and in Python alike, and today's key figures."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.cases import measures
from civicgrid.cases.measures_sql import grouped_percentile, offset_segments
from civicgrid.cases.models import Case, CaseCard
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from tests.support.api import assert_error, auth_headers
from tests.support.city import (
    COMMUNITY_A,
    COMMUNITY_B,
    DISTRICT,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    STREET_A,
    STREET_B,
    TinyCity,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
AREAS = {
    GRID_A1: (STREET_A, COMMUNITY_A, DISTRICT),
    GRID_A2: (STREET_A, COMMUNITY_A, DISTRICT),
    GRID_B1: (STREET_B, COMMUNITY_B, DISTRICT),
    "340304001001001": ("340304001", "340304001001", "340304"),  # the other district (no divisions needed)
}
_serial = itertools.count(1)


def add_case(
    session: Session,
    *,
    grid: str = GRID_A1,
    status: str = "closed",
    reported: datetime = T0,
    hours: float | None = None,
    due_hours: float = 120.0,
    accept_due: datetime | None = None,
    level: str | None = None,
    category: str = "0501",
    unit_id: int | None = None,
    satisfaction: int | None = None,
    cards: tuple[str, ...] = (),
    card: str | None = None,
) -> Case:
    street, community, district = AREAS[grid]
    n = next(_serial)
    closed = reported + timedelta(hours=hours) if hours is not None else None
    case = Case(
        code=f"SJTEST{n:08d}",
        title="test",
        category_code=category,
        source="grid_worker",
        priority="normal",
        status=status,
        level=level or "grid",
        max_level=level or "grid",
        closure_level=(level or "grid") if status == "closed" else None,
        lead_unit_id=unit_id,
        lon=117.1,
        lat=32.2,
        reported_at=reported,
        closed_at=closed,
        accept_due=accept_due or reported + timedelta(days=1),
        handle_due=reported + timedelta(hours=due_hours),
        card=card,
        satisfaction=satisfaction,
        grid_code=grid,
        community_code=community,
        street_code=street,
        district_code=district,
    )
    session.add(case)
    session.flush()
    for serial, colour in enumerate(cards):
        session.add(CaseCard(case_id=case.id, stage="manual", colour=colour, serial=serial + 1))
    session.flush()
    return case


@pytest.fixture
def ladder(db: Database, cases_city: TinyCity) -> TinyCity:
    """Street A: seven cases, four closed at three rungs; street B: two; one in the other district."""
    past = utcnow() - timedelta(days=2)
    with db.unit_of_work() as s:
        add_case(s, hours=2, satisfaction=5)
        add_case(s, grid=GRID_A2, hours=10, due_hours=5, level="community", satisfaction=3, cards=("yellow",))
        add_case(s, hours=4, category="0101")
        add_case(
            s, hours=30, due_hours=20, level="street", cards=("yellow", "red"), unit_id=cases_city.units["dept-police"]
        )
        add_case(s, status="in_progress", reported=past - timedelta(days=9), due_hours=24, card="red")
        add_case(s, status="rejected", hours=1)
        add_case(s, status="reported", reported=utcnow(), accept_due=utcnow() + timedelta(days=1))
        add_case(s, grid=GRID_B1, hours=1)
        add_case(s, grid=GRID_B1, status="escalated", accept_due=past, reported=past - timedelta(days=1))
        add_case(s, grid="340304001001001", hours=3)
    return cases_city


def _get(client: TestClient, user: str, path: str = "/cases/measures", status: int = 200, **params: Any) -> Any:
    response = client.get(f"/api/v1{path}", params=params, headers=auth_headers(client, user))
    assert response.status_code == status, response.text
    return response.json()


def test_by_area_gives_every_figure_per_street(client: TestClient, ladder: TinyCity) -> None:
    body = _get(client, "district.operator")
    assert body["group_by"] == "area"
    assert body["area_code"] == DISTRICT
    a, b = body["groups"]
    assert (a["key"], b["key"]) == (STREET_A, STREET_B)
    assert a["name"] == "天桥街道"
    assert (a["reported"], a["closed"], a["on_time"], a["on_time_rate"]) == (7, 4, 2, 0.5)
    assert a["closure_shares"] == {"grid": 0.5, "community": 0.25, "street": 0.25, "district": 0.0, "city": 0.0}
    assert a["mean_hours"] == pytest.approx(11.5)
    assert a["p90_hours"] == pytest.approx(24.0)  # [2, 4, 10, 30] at position 2.7
    assert (a["open_overdue"], a["yellow_cards"], a["red_cards"]) == (1, 2, 1)
    assert (a["satisfaction_mean"], a["satisfaction_count"]) == (4.0, 2)
    assert (b["reported"], b["closed"], b["open_overdue"], b["p90_hours"]) == (2, 1, 1, pytest.approx(1.0))
    total = body["total"]
    assert (total["reported"], total["closed"], total["on_time"]) == (9, 5, 3)
    assert total["p90_hours"] == pytest.approx(22.0)  # [1, 2, 4, 10, 30] at position 3.6
    assert total["mean_hours"] == pytest.approx(47 / 5)
    assert total["closure_shares"]["grid"] == pytest.approx(0.6)


def test_city_sees_districts_and_a_grid_worker_only_the_own_grid(client: TestClient, ladder: TinyCity) -> None:
    city = _get(client, "operator")
    assert [(g["key"], g["reported"]) for g in city["groups"]] == [(DISTRICT, 9), ("340304", 1)]
    worker = _get(client, "worker.a1")
    assert [(g["key"], g["reported"]) for g in worker["groups"]] == [(GRID_A1, 6)]
    assert worker["total"]["reported"] == 6
    # A street inside the district; the other district and a street outside a worker's grid are not found.
    street = _get(client, "district.operator", area_code=STREET_A)
    assert [g["key"] for g in street["groups"]] == [COMMUNITY_A]
    assert_error(client.get("/api/v1/cases/measures", params={"area_code": "340304"},
                            headers=auth_headers(client, "district.operator")), 404, "not_found")  # fmt: skip
    _get(client, "worker.a1", status=404, area_code=STREET_A)
    _get(client, "resident", status=403)
    _get(client, "operator", status=422, group_by="person")


def test_by_unit_and_by_category(client: TestClient, ladder: TinyCity) -> None:
    units = _get(client, "district.operator", group_by="unit")["groups"]
    assert [(g["key"], g["name"], g["reported"]) for g in units] == [
        (None, None, 8),
        (str(ladder.units["dept-police"]), "蚌埠市公安局", 1),
    ]
    classes = _get(client, "district.operator", group_by="category")["groups"]
    assert [g["key"] for g in classes] == ["01", "02", "03", "04", "05", "06", "07"]
    assert {g["key"]: g["reported"] for g in classes if g["reported"]} == {"01": 1, "05": 8}
    leaves = _get(client, "district.operator", group_by="category", category_level="leaf", category_code="05")
    assert leaves["groups"][0]["key"] == "0501"
    assert {g["key"]: g["reported"] for g in leaves["groups"] if g["reported"]} == {"0501": 8}
    one = _get(client, "district.operator", group_by="category", category_level="leaf", category_code="0101")
    assert [(g["key"], g["reported"]) for g in one["groups"]] == [("0101", 1)]


def test_periods_are_local_days_weeks_and_months(client: TestClient, cases_city: TinyCity, db: Database) -> None:
    with db.unit_of_work() as s:
        add_case(s, reported=datetime(2026, 3, 31, 15, 30, tzinfo=UTC), hours=1)  # 23:30 on 31 March in Bengbu
        add_case(s, reported=datetime(2026, 3, 31, 16, 30, tzinfo=UTC), hours=1)  # 00:30 on 1 April
        add_case(s, reported=datetime(2026, 1, 10, 4, 0, tzinfo=UTC), hours=1)
        add_case(s, reported=datetime(2026, 6, 1, 4, 0, tzinfo=UTC), hours=1)  # outside the window
    window = {"since": "2026-01-01T00:00:00+08:00", "until": "2026-05-01T00:00:00+08:00"}
    months = _get(client, "operator", group_by="period", **window)
    assert months["period"] == "month"
    assert [(g["key"], g["reported"]) for g in months["groups"]] == [
        ("2026-01", 1),
        ("2026-02", 0),
        ("2026-03", 1),
        ("2026-04", 1),
    ]
    days = _get(client, "operator", group_by="period", period="day", since="2026-03-31T00:00:00", until="2026-04-02")
    assert [(g["key"], g["reported"]) for g in days["groups"]] == [("2026-03-31", 1), ("2026-04-01", 1)]
    weeks = _get(client, "operator", group_by="period", period="week", **window)
    keyed = {g["key"]: g["reported"] for g in weeks["groups"]}
    assert keyed["2026-03-30"] == 2  # Tuesday 31 March and Wednesday 1 April: the week of Monday 30 March
    assert keyed["2026-01-05"] == 1  # Saturday 10 January
    assert all(datetime.fromisoformat(k).weekday() == 0 for k in keyed)
    assert len(keyed) == 13  # every week from the first to the last, empty ones included
    _get(client, "operator", status=422, since="2026-05-01T00:00:00+08:00", until="2026-01-01T00:00:00+08:00")


def test_the_percentile_agrees_in_sql_and_in_python(ladder: TinyCity, db: Database) -> None:
    rng = np.random.default_rng(7)
    grids = [GRID_A1, GRID_A2, GRID_B1]
    durations: dict[str, list[float]] = {STREET_A: [2, 10, 4, 30], STREET_B: [1]}
    with db.unit_of_work() as s:
        for i in range(240):
            grid = grids[i % 3]
            hours = float(np.round(rng.lognormal(2.0, 1.2), 3))
            add_case(s, grid=grid, hours=hours, reported=T0 + timedelta(minutes=int(rng.integers(0, 100_000))))
            durations[AREAS[grid][0]].append(hours)
    principal = Principal(
        1, "district.operator", "center_operator", frozenset({"case:read"}), Scope(DISTRICT, Level.district)
    )
    with db.sessions() as s:
        in_python = measures.measures(s, principal, measures.MeasureQuery(), percentile_in_sql=False)
        results = [in_python]
        if not db.is_sqlite:
            results.append(measures.measures(s, principal, measures.MeasureQuery(), percentile_in_sql=True))
    for result in results:
        for group in result.groups:
            assert group.p90_hours == pytest.approx(np.percentile(durations[group.key or ""], 90), rel=1e-6)
        everything = [h for values in durations.values() for h in values]
        assert result.total.p90_hours == pytest.approx(np.percentile(everything, 90), rel=1e-6)
        assert result.total.reported == 9 + 240


def test_grouped_percentile_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    values = rng.lognormal(1, 1, 1000)
    groups = rng.integers(0, 7, 1000)
    found = grouped_percentile(groups.tolist(), values.tolist(), 0.9)
    for g in range(7):
        assert found[g] == pytest.approx(np.percentile(values[groups == g], 90))
    assert grouped_percentile(["x"], [5.0]) == {"x": 5.0}
    assert grouped_percentile([], []) == {}


def test_offsets_follow_daylight_saving() -> None:
    assert offset_segments("Asia/Shanghai", datetime(2020, 1, 1).date(), datetime(2030, 1, 1).date()) == ((None, 480),)
    berlin = offset_segments("Europe/Berlin", datetime(2026, 1, 1).date(), datetime(2026, 12, 31).date())
    assert [minutes for _, minutes in berlin] == [60, 120, 60]
    assert berlin[0][0] == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert berlin[1][0] == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)


def test_summary_of_today(client: TestClient, cases_city: TinyCity, db: Database) -> None:
    now = utcnow()
    midnight = measures.local_midnight(now, SHANGHAI)
    with db.unit_of_work() as s:
        add_case(s, status="reported", reported=midnight + timedelta(seconds=1), accept_due=now + timedelta(days=1))
        add_case(s, status="in_progress", reported=midnight - timedelta(days=20), due_hours=1, card="red")
        add_case(s, status="accepted", reported=midnight - timedelta(days=3), due_hours=2000, card="yellow")
        add_case(s, reported=midnight - timedelta(hours=5), hours=5.5, satisfaction=4)  # closed today
        add_case(s, reported=midnight - timedelta(days=10), hours=1, satisfaction=2)  # closed 10 days ago
        add_case(s, reported=midnight - timedelta(days=60), hours=1, satisfaction=5)  # too long ago
        add_case(s, grid=GRID_B1, status="reported", reported=midnight + timedelta(seconds=2))
    body = _get(client, "worker.a1", path="/cases/measures/summary")
    assert body["area_code"] == GRID_A1
    assert (body["new_today"], body["closed_today"], body["open"], body["overdue"]) == (1, 1, 3, 1)
    assert (body["yellow_cards"], body["red_cards"]) == (1, 1)
    assert (body["satisfaction_mean_30d"], body["satisfaction_count_30d"]) == (3.0, 2)
    district = _get(client, "district.operator", path="/cases/measures/summary")
    assert (district["new_today"], district["open"]) == (2, 4)
    assert _get(client, "district.operator", path="/cases/measures/summary", area_code=STREET_B)["open"] == 1
    _get(client, "worker.a1", path="/cases/measures/summary", status=404, area_code=DISTRICT)
