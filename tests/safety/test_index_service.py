"""The index service on the tiny city: stored scores for every area and level, the incremental recompute
as counts arrive (and the scheduled task), red streaks across periods (also when an earlier period
changes), the explanation adding up to the stored score, and the rebuild."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from civicgrid.core.db import Database
from civicgrid.core.scheduler import run_due
from civicgrid.safety import index_service
from civicgrid.safety.counts import CountKey, Tally, add_counts
from civicgrid.safety.index_config import IndexDefinition
from civicgrid.safety.jobs import TASK_NAME
from civicgrid.safety.models import SafetyDirtyDay, SafetyIndexConfig, SafetyScore
from civicgrid.safety.periods import Period
from tests.safety.conftest import index_principal
from tests.support.city import (
    CITY,
    COMMUNITY_A,
    DISTRICT,
    GRID_A1,
    GRID_A2,
    GRID_B1,
    OTHER_DISTRICT,
    STREET_A,
    TinyCity,
)

AREAS = 11  # divisions of the tiny city
NOW = datetime(2024, 3, 20, 4, 0, tzinfo=UTC)  # noon in Shanghai, 2024-03-20


def add(session: Session, code: str, day: str, kind: str, n: int, deaths: int = 0) -> None:
    add_counts(session, {CountKey(code, date.fromisoformat(day), kind): Tally(n, deaths)})


def scores(session: Session, period: Period) -> dict[str, SafetyScore]:
    config = index_service.active_config(session)
    rows = session.scalars(
        select(SafetyScore).where(
            SafetyScore.config_id == config.id,
            SafetyScore.period_type == period.type,
            SafetyScore.period_start == period.start,
        )
    )
    return {r.area_code: r for r in rows}


def use_definition(db: Database, **settings: Any) -> int:
    """Make a configuration with these settings the active one; its id."""
    definition = IndexDefinition.model_validate(settings).model_dump(mode="json")
    with db.unit_of_work() as session:
        session.execute(update(SafetyIndexConfig).values(active=False))
        config = SafetyIndexConfig(name="test", active=True, definition=definition)
        session.add(config)
        session.flush()
        return config.id


def test_the_default_configuration_is_seeded_once(db: Database, index_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        assert index_service.seed_index_config(session) == 0
        config = index_service.active_config(session)
        assert config.definition["indicators"] == {"crime_order": 0.6, "fire": 0.2, "traffic": 0.2}
        assert config.definition["baseline"] == "three_year"


def test_every_area_and_level_is_scored_and_stored(db: Database, index_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        add(session, GRID_A1, "2024-03-05", "inc:01", 6)
        add(session, GRID_A2, "2024-03-06", "inc:05", 2, deaths=1)
        add(session, GRID_B1, "2024-03-07", "inc:04", 1)
        add(session, STREET_A, "2024-03-08", "inc:02", 3)  # placed only down to a street
        add(session, GRID_A1, "2024-03-09", "case:01", 5)  # disputes: not in the default index
    result = index_service.recompute(db, NOW)
    assert result.dirty_days == 5
    assert set(result.periods) == {"day", "dekad", "week", "month"}
    with db.unit_of_work() as session:
        month = scores(session, Period("month", date(2024, 3, 1)))
        assert len(month) == AREAS
        events = {code: s.events for code, s in month.items()}
        assert events[GRID_A1] == 6 and events[GRID_A2] == 2 and events[GRID_B1] == 1
        assert events[STREET_A] == 6 + 2 + 3 and events[DISTRICT] == 12 and events[CITY] == 12
        assert events[OTHER_DISTRICT] == 0
        assert month[GRID_A2].deaths == 1 and month[CITY].deaths == 1
        assert month[GRID_A1].population == 300 and month[CITY].population == 1200
        assert month[OTHER_DISTRICT].population == 0
        assert {s.level for s in month.values()} == {"city", "district", "street", "community", "grid"}
        assert all(0 <= s.score <= 100 for s in month.values())
        # the 19 days from 2024-03-01 to today, and the dekads and weeks containing a count or today
        assert session.scalar(select(func.count()).select_from(SafetyDirtyDay)) == 0


def test_the_incremental_recompute_follows_new_counts(db: Database, index_city: TinyCity) -> None:
    march = Period("month", date(2024, 3, 1))
    with db.unit_of_work() as session:
        add(session, GRID_A1, "2024-03-05", "inc:01", 2)
        add(session, GRID_A2, "2024-03-05", "inc:01", 2)
    index_service.recompute(db, NOW)
    with db.unit_of_work() as session:
        before = scores(session, march)[GRID_A1]
        assert before.events == 2 and before.band == "green"
    # nothing changed: only what is not stored yet would be computed
    again = index_service.recompute(db, NOW)
    assert again.dirty_days == 0 and again.rows == 0
    with db.unit_of_work() as session:
        add(session, GRID_A1, "2024-03-18", "inc:01", 30, deaths=2)
    result = index_service.recompute(db, NOW)
    assert result.dirty_days == 1
    with db.unit_of_work() as session:
        after = scores(session, march)[GRID_A1]
        assert after.events == 32 and after.deaths == 2
        assert after.score < before.score
        day = scores(session, Period("day", date(2024, 3, 18)))[GRID_A1]
        assert day.events == 30


def test_the_scheduled_task_recomputes(db: Database, index_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        add(session, GRID_A1, "2024-03-05", "inc:01", 4)
    (run,) = run_due(db, NOW, only=[TASK_NAME])
    assert run.status == "ok" and run.result["dirty_days"] == 1
    with db.unit_of_work() as session:
        assert scores(session, Period("week", date(2024, 3, 4)))[GRID_A1].events == 4
    assert run_due(db, NOW + timedelta(minutes=1), only=[TASK_NAME]) == []  # not before five minutes


def test_the_recompute_computes_without_holding_the_write_lock(
    db: Database, index_city: TinyCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the counts are read and the scores computed, others write (on SQLite a held write lock would
    make this write wait out the busy timeout and fail); a day marked meanwhile waits for the next run."""
    with db.unit_of_work() as session:
        add(session, GRID_A1, "2024-03-05", "inc:01", 4)
    load = index_service.Engine.load.__func__  # type: ignore[attr-defined]

    def load_while_others_write(cls: type[index_service.Engine], *args: Any, **kwargs: Any) -> Any:
        with db.unit_of_work() as other:
            add(other, GRID_A2, "2024-03-06", "inc:01", 7)
        return load(cls, *args, **kwargs)

    monkeypatch.setattr(index_service.Engine, "load", classmethod(load_while_others_write))
    first = index_service.recompute(db, NOW)
    assert first.dirty_days == 1
    monkeypatch.undo()
    second = index_service.recompute(db, NOW)
    assert second.dirty_days == 1
    with db.unit_of_work() as session:
        week = scores(session, Period("week", date(2024, 3, 4)))
        assert week[GRID_A1].events == 4 and week[GRID_A2].events == 7


def test_a_failed_recompute_leaves_its_days_marked(
    db: Database, index_city: TinyCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.unit_of_work() as session:
        add(session, GRID_A1, "2024-03-05", "inc:01", 4)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError("the machine ran out of memory")

    monkeypatch.setattr(index_service.Engine, "load", broken)
    with pytest.raises(MemoryError):
        index_service.recompute(db, NOW)
    with db.unit_of_work(write=False) as session:
        assert list(session.scalars(select(SafetyDirtyDay.day))) == [date(2024, 3, 5)]
        assert session.scalar(select(func.count()).select_from(SafetyScore)) == 0


def test_red_streaks_run_across_periods_and_follow_a_changed_period(db: Database, index_city: TinyCity) -> None:
    use_definition(db, baseline="peers", scoring={"slope": 200})
    days = [date(2024, 3, d) for d in range(1, 6)]
    with db.unit_of_work() as session:
        for day in days:  # A1 far above its peer A2 every day: red
            add(session, GRID_A1, day.isoformat(), "inc:01", 20)
    index_service.recompute(db, datetime(2024, 3, 5, 4, tzinfo=UTC))
    with db.unit_of_work() as session:
        streak = [scores(session, Period("day", d))[GRID_A1] for d in days]
        assert [s.band for s in streak] == ["red"] * 5
        assert [s.red_streak for s in streak] == [1, 2, 3, 4, 5]
        assert scores(session, Period("day", days[0]))[GRID_A2].red_streak == 0
    with db.unit_of_work() as session:
        # 2 March turns out not red (the peer had as many): the streak restarts after it
        add(session, GRID_A2, "2024-03-02", "inc:01", 20)
    index_service.recompute(db, datetime(2024, 3, 5, 4, tzinfo=UTC))
    with db.unit_of_work() as session:
        streak = [scores(session, Period("day", d))[GRID_A1] for d in days]
        assert [s.band == "red" for s in streak] == [True, False, True, True, True]
        assert [s.red_streak for s in streak] == [1, 0, 1, 2, 3]


def test_the_explanation_adds_up_to_the_stored_score(db: Database, index_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        for year in (2021, 2022, 2023):
            add(session, GRID_A1, f"{year}-03-01", "inc:01", 10)
            add(session, GRID_A1, f"{year}-03-01", "inc:05", 2)
            add(session, GRID_B1, f"{year}-03-01", "inc:04", 1)
        add(session, GRID_A1, "2024-03-10", "inc:01", 15, deaths=1)
        add(session, GRID_A1, "2024-03-11", "inc:05", 5)
    result = index_service.rebuild(
        db, first=date(2024, 3, 1), last=date(2024, 3, 20), period_types=["month"], recount=False
    )
    assert result.rows == AREAS
    from civicgrid.safety.index_queries import explain

    with db.unit_of_work() as session:
        operator = index_principal(session, "operator")
        out = explain(session, operator, GRID_A1, period_type="month", day=date(2024, 3, 20))
        stored = scores(session, Period("month", date(2024, 3, 1)))[GRID_A1]
    # crime 15 against 10: x = 18/13, c = 80.77; traffic 5 against 2: x = 1.6, c = 70; fire 100; one death
    assert out["score"] == stored.score == pytest.approx(round(0.6 * (100 - 50 * 5 / 13) + 20 + 14 - 5, 1))
    assert out["band"] == stored.band == "orange" and out["stored"]
    crime = next(c for c in out["components"] if c["indicator"] == "crime_order")
    assert crime["observed"] == 15 and crime["baseline_used"] == "three_year"
    assert crime["baselines"]["three_year"]["count"] == pytest.approx(10)
    assert crime["baselines"]["three_year"]["years"] == 3
    assert crime["baselines"]["three_year"]["periods"] == [date(2023, 3, 1), date(2022, 3, 1), date(2021, 3, 1)]
    assert crime["baselines"]["year_on_year"]["count"] == pytest.approx(10)
    assert crime["baselines"]["previous"]["available"]  # February 2024 lies within the history
    assert crime["baselines"]["peers"]["basis"] == "rate"
    assert crime["rate"] == pytest.approx(15 / 300 * 10_000, abs=1e-3)
    assert crime["ratio"] == pytest.approx(18 / 13, abs=1e-4)
    assert out["weighted"] == pytest.approx(sum(c["contribution"] for c in out["components"]), abs=0.02)
    assert out["deaths"] == 1 and out["deduction"] == 5
    assert out["score"] == pytest.approx(round(out["weighted"] - out["deduction"], 1), abs=0.05)
    assert out["population"] == {"residents": 300, "source": "divisions", "per_residents": 10_000}


def test_an_area_without_residents_is_explained_so(db: Database, index_city: TinyCity) -> None:
    from civicgrid.safety.index_queries import explain

    with db.unit_of_work() as session:
        add(session, OTHER_DISTRICT, "2024-03-05", "inc:01", 3)
    index_service.recompute(db, NOW)
    with db.unit_of_work() as session:
        out = explain(session, index_principal(session, "operator"), OTHER_DISTRICT, period_type="month", day=None)
    assert out["population"]["source"] == "none" and out["population"]["residents"] == 0
    assert out["components"][0]["rate"] is None
    assert out["components"][0]["baselines"]["peers"]["basis"] == "count"
    assert any("no residents" in note for note in out["notes"])


def test_the_rebuild_computes_every_period_of_a_range(db: Database, index_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        add(session, GRID_A1, "2024-01-03", "inc:01", 3)
        add(session, GRID_A2, "2024-02-27", "inc:05", 1)
    progress: list[tuple[str, int, int]] = []
    result = index_service.rebuild(
        db, first=date(2024, 1, 1), last=date(2024, 2, 29), recount=False, progress=lambda *a: progress.append(a)
    )
    assert result.periods == {"day": 60, "dekad": 6, "week": 9, "month": 2}
    assert result.rows == AREAS * (60 + 6 + 9 + 2)
    assert progress[-1] == ("month", 2, 2)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(SafetyScore)) == result.rows
        assert session.scalar(select(func.count()).select_from(SafetyDirtyDay)) == 0
        # a second rebuild replaces the rows (no duplicates, same figures)
    again = index_service.rebuild(db, first=date(2024, 1, 1), last=date(2024, 2, 29), recount=False)
    assert again.rows == result.rows
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(SafetyScore)) == result.rows
        assert scores(session, Period("month", date(2024, 1, 1)))[COMMUNITY_A].events == 3


def test_a_backlog_of_changed_days_is_worked_off_newest_first(db: Database, index_city: TinyCity) -> None:
    first = date(2024, 1, 1)
    with db.unit_of_work() as session:
        for n in range(40):  # 40 changed days: more than one run takes
            add(session, GRID_A1, (first + timedelta(days=n)).isoformat(), "inc:01", 1)
    result = index_service.recompute(db, NOW)
    assert result.dirty_days == index_service.DIRTY_DAYS_PER_RUN and result.days_left == 9
    with db.unit_of_work() as session:
        assert scores(session, Period("day", date(2024, 2, 9)))  # the newest day is done
        assert not scores(session, Period("day", date(2024, 1, 1)))
    result = index_service.recompute(db, NOW)
    assert result.dirty_days == 9 and result.days_left == 0
    with db.unit_of_work() as session:
        assert scores(session, Period("day", date(2024, 1, 1)))[GRID_A1].events == 1


def test_a_long_range_is_read_in_one_scan(db: Database, index_city: TinyCity) -> None:
    # more than WIDE_SPAN_DAYS: SQLite scans the table instead of the day index; the figures are the same
    with db.unit_of_work() as session:
        add(session, GRID_A1, "2022-06-30", "inc:01", 2)
        add(session, GRID_A1, "2023-06-30", "inc:01", 4)
        add(session, GRID_B1, "2024-02-29", "inc:05", 1, deaths=1)
    result = index_service.rebuild(
        db, first=date(2023, 1, 1), last=date(2024, 2, 29), period_types=["month"], recount=False
    )
    assert result.periods == {"month": 14}
    with db.unit_of_work() as session:
        june = scores(session, Period("month", date(2023, 6, 1)))
        assert june[GRID_A1].events == 4 and june[CITY].events == 4
        february = scores(session, Period("month", date(2024, 2, 1)))
        assert february[CITY].deaths == 1 and february[GRID_B1].events == 1
