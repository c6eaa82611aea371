"""`civicgrid safety rebuild` and `civicgrid safety recompute` on the tiny city: incidents recounted from the
incident table, every period of a range scored, bad options refused before anything is written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from civicgrid.core.db import Database
from civicgrid.safety.models import SafetyDailyCount, SafetyIncident, SafetyScore
from tests.support.city import CITY, COMMUNITY_A, DISTRICT, GRID_A1, GRID_B1, STREET_A, STREET_B, TinyCity

AREAS = 11


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    from civicgrid.config import get_settings

    monkeypatch.setenv("CIVICGRID_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def invoke(runner: CliRunner, *args: str) -> Result:
    from civicgrid.cli import app

    return runner.invoke(app, ["safety", *args])


def incident(n: int, grid: str, day: str, category: str, deaths: int = 0) -> SafetyIncident:
    codes = {
        GRID_A1: (DISTRICT, STREET_A, COMMUNITY_A),
        GRID_B1: (DISTRICT, STREET_B, "340303002001"),
    }[grid]
    return SafetyIncident(
        source="110",
        record_id=f"R{n}",
        occurred_at=datetime.fromisoformat(f"{day}T02:00:00+00:00").astimezone(UTC),
        day=date.fromisoformat(day),
        category_code=category,
        division_code=grid,
        district_code=codes[0],
        street_code=codes[1],
        community_code=codes[2],
        grid_code=grid,
        deaths=deaths,
    )


@pytest.fixture
def incidents(db: Database, index_city: TinyCity) -> int:
    rows = [
        incident(1, GRID_A1, "2024-01-05", "0101"),
        incident(2, GRID_A1, "2024-01-06", "0201"),
        incident(3, GRID_B1, "2024-02-07", "0401"),
        incident(4, GRID_B1, "2024-02-07", "0501", deaths=1),
        incident(5, GRID_A1, "2024-02-28", "0601"),  # a help request: counted, not indexed
    ]
    with db.unit_of_work() as session:
        session.add_all(rows)
    return len(rows)


def test_the_rebuild_recounts_and_scores_every_period(cli: CliRunner, db: Database, incidents: int) -> None:
    result = invoke(cli, "rebuild", "--from", "2024-01-01", "--to", "2024-02-29", "--period", "month,week")
    assert result.exit_code == 0, result.output
    assert "2024-01-01 … 2024-02-29: 9 week, 2 month periods" in result.output
    assert f"{AREAS * 11} scores written" in result.output
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(SafetyDailyCount)) == 5
        events = dict(
            session.execute(
                select(SafetyScore.area_code, SafetyScore.events).where(
                    SafetyScore.period_type == "month", SafetyScore.period_start == date(2024, 2, 1)
                )
            ).all()
        )
        deaths = session.scalar(
            select(SafetyScore.deaths).where(
                SafetyScore.period_type == "month",
                SafetyScore.period_start == date(2024, 2, 1),
                SafetyScore.area_code == CITY,
            )
        )
    assert events[GRID_B1] == 2 and events[GRID_A1] == 0 and events[CITY] == 2 and deaths == 1


def test_the_rebuild_refuses_bad_options(cli: CliRunner, db: Database, incidents: int) -> None:
    for args in (["--period", "year"], ["--from", "2024-02-30"], ["--period", ""]):
        result = invoke(cli, "rebuild", *args)
        assert result.exit_code == 2, result.output
    result = invoke(cli, "rebuild", "--from", "2024-03-01", "--to", "2024-02-01")
    assert result.exit_code == 1 and "after" in result.output
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(SafetyScore)) == 0


def test_recompute_scores_the_changed_days(cli: CliRunner, db: Database, index_city: TinyCity) -> None:
    from civicgrid.safety.counts import count_incidents

    with db.unit_of_work() as session:
        stored = [incident(1, GRID_A1, "2024-01-05", "0101")]
        session.add_all(stored)
        session.flush()
        count_incidents(session, stored)
    result = invoke(cli, "recompute")
    assert result.exit_code == 0, result.output
    assert "1 changed days" in result.output
    with db.unit_of_work() as session:
        day = session.scalar(
            select(SafetyScore.events).where(
                SafetyScore.period_type == "day",
                SafetyScore.period_start == date(2024, 1, 5),
                SafetyScore.area_code == GRID_A1,
            )
        )
    assert day == 1
