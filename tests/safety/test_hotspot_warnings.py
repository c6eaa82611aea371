"""Hotspot warnings: a grid forecast hot beyond its usual level is warned of once per week (and extended the
next); a grid that is always hot is not; the scheduled task forecasts once per week."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from civicgrid.core.db import Database
from civicgrid.core.scheduler import run_due
from civicgrid.safety import forecast_service, hotspot_warnings
from civicgrid.safety.models import SafetyWarning
from civicgrid.safety.periods import Period
from tests.safety.hotspot_sim import LAST_DAY, add_incidents, load_hotspot_data
from tests.support.api import auth_headers
from tests.support.city import CITY, GRID_A1, GRID_A2, TinyCity

WEEK = Period("week", LAST_DAY + timedelta(days=1))  # 2025-06-02, the week after the data
A2_POINT = (117.4, 32.1)


@pytest.fixture
def calls(db: Database, tiny_city: TinyCity) -> int:
    """A year of calls, grid A1 hot all year long."""
    forecast_service.clear_cache()
    return load_hotspot_data(db)


def _burst_in_a2(db: Database, n: int = 60, days: int = 5, last: date = LAST_DAY) -> None:
    rng = np.random.default_rng(last.toordinal())
    start = datetime.combine(last - timedelta(days=days - 1), time(), tzinfo=UTC)
    moments = [start + timedelta(days=float(d)) for d in np.sort(rng.uniform(0, days, n))]
    points = [(A2_POINT[0] + dx, A2_POINT[1] + dy) for dx, dy in rng.normal(0, 0.002, (n, 2)).tolist()]
    with db.unit_of_work() as session:
        add_incidents(session, points, moments, prefix=f"B{last}-", category="0201")


def _hotspots(db: Database) -> list[SafetyWarning]:
    with db.unit_of_work(write=False) as session:
        return list(session.scalars(select(SafetyWarning).where(SafetyWarning.kind == "hotspot")))


def test_a_grid_always_hot_is_not_warned_of(db: Database, calls: int) -> None:
    result = hotspot_warnings.run_week(db, WEEK)
    assert result.indicators == {"crime_order": 0, "fire": 0, "traffic": 0}
    assert _hotspots(db) == []


def test_a_grid_heating_up_is_warned_of_once(db: Database, calls: int) -> None:
    _burst_in_a2(db)
    result = hotspot_warnings.run_week(db, WEEK)
    assert result.indicators["crime_order"] == 1 and result.created == 1
    (warning,) = _hotspots(db)
    assert warning.area_code == GRID_A2 and warning.level == "grid" and warning.subject == "hotspot:crime_order"
    assert (warning.period_start, warning.period_end) == (WEEK.start, WEEK.end) and warning.status == "open"
    evidence = warning.evidence
    assert evidence["method"] == "self_exciting" and evidence["rank"] == 1
    assert evidence["expected"] >= hotspot_warnings.MIN_RATIO * evidence["usual"]
    assert evidence["expected"] >= hotspot_warnings.MIN_EXPECTED and evidence["training_events"] > 60
    assert "天桥社区第2网格" in warning.title and "可能高发" in warning.title
    assert GRID_A1 not in {w.area_code for w in _hotspots(db)}
    again = hotspot_warnings.run_week(db, WEEK)
    assert again.created == 0 and again.unchanged == 1 and len(_hotspots(db)) == 1


def test_still_hot_the_next_week_extends_the_warning(db: Database, calls: int) -> None:
    _burst_in_a2(db)
    hotspot_warnings.run_week(db, WEEK)
    forecast_service.clear_cache()
    _burst_in_a2(db, last=WEEK.end)  # the burst goes on through the week
    following = hotspot_warnings.run_week(db, WEEK.next())
    assert following.extended == 1 and following.created == 0
    (warning,) = _hotspots(db)
    assert (warning.period_start, warning.period_end) == (WEEK.start, WEEK.next().end)


def test_the_scheduled_task_forecasts_once_a_week(db: Database, calls: int) -> None:
    _burst_in_a2(db)
    monday = datetime.combine(WEEK.start, time(1), tzinfo=UTC)  # 09:00 on Monday in Shanghai
    (run,) = run_due(db, monday, only=[hotspot_warnings.TASK_NAME])
    assert run.status == "ok" and isinstance(run.result, dict)
    assert run.result["week"] == WEEK.start.isoformat() and run.result["created"] == 1
    (later,) = run_due(db, monday + timedelta(hours=7), only=[hotspot_warnings.TASK_NAME])
    assert later.status == "ok" and isinstance(later.result, dict) and later.result["week"] is None
    assert len(_hotspots(db)) == 1
    assert date.fromisoformat(run.result["week"]).weekday() == 0


def test_the_warning_list_names_it(client: TestClient, db: Database, calls: int) -> None:
    _burst_in_a2(db)
    hotspot_warnings.run_week(db, WEEK)
    response = client.get(
        "/api/v1/safety/warnings",
        params={"kind": "hotspot", "area_code": CITY},
        headers=auth_headers(client, "operator"),
    )
    assert response.status_code == 200, response.text
    (item,) = response.json()["items"]
    assert item["subject_name"] == "刑事治安警情热点预测" and item["area_name"] == "天桥社区第2网格"
