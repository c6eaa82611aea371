"""The incident store: records placed, inserted and counted in one transaction; records stored before are
duplicates (idempotent, counts unchanged); nothing is written when any record cannot be placed; pushed
calls all or nothing; the scoped, filtered list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.core.db import Database
from civicgrid.core.errors import Forbidden, InvalidInput
from civicgrid.safety import feed_mappings, incidents
from civicgrid.safety.feeds import Record
from civicgrid.safety.models import SafetyDailyCount, SafetyDirtyDay, SafetyIncident
from tests.safety.conftest import FEED_IN_A1, FEED_IN_A2, FEED_IN_B2, FEED_OUTSIDE
from tests.support.city import (
    CITY,
    COMMUNITY_A,
    DISTRICT,
    GRID_A1,
    GRID_A2,
    GRID_B2,
    OTHER_DISTRICT,
    STREET_A,
    TinyCity,
)


def principal(role: Role, code: str = CITY, level: Level = Level.city) -> Principal:
    return Principal(None, role.value, role.value, ROLE_PERMISSIONS[role], Scope(code, level))


OPERATOR = principal(Role.center_operator)


def record(rid: str, point: tuple[float, float] | None = FEED_IN_A1, **extra: Any) -> Record:
    lon, lat = point if point is not None else (None, None)
    values: dict[str, Any] = {
        "source": "110",
        "record_id": rid,
        "occurred_at": datetime(2025, 3, 1, 1, 30, tzinfo=UTC),
        "time_precision": "second",
        "day": date(2025, 3, 1),
        "category_code": "0101",
        "lon": lon,
        "lat": lat,
        **extra,
    }
    return Record(**values)


def counts(db: Database) -> dict[tuple[str, date, str], tuple[int, int, int]]:
    with db.unit_of_work(write=False) as s:
        rows = s.execute(
            select(
                SafetyDailyCount.division_code,
                SafetyDailyCount.day,
                SafetyDailyCount.kind,
                SafetyDailyCount.count,
                SafetyDailyCount.deaths,
                SafetyDailyCount.injuries,
            )
        ).all()
    return {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in rows}


def stored(db: Database) -> int:
    with db.unit_of_work(write=False) as s:
        return s.scalar(select(func.count()).select_from(SafetyIncident)) or 0


def test_store_places_inserts_and_counts(db: Database, feeds_city: TinyCity) -> None:
    batch = [
        record("a", deaths=1, injuries=2),
        record("b", FEED_IN_A2, category_code="0104"),
        record("c", None, address_code=COMMUNITY_A, category_code="0401", day=date(2025, 3, 2)),
        record("d", FEED_IN_A1, source="122", category_code="0501", injuries=3),
    ]
    with db.unit_of_work() as s:
        result = incidents.store(s, batch, job_id=None)
    assert [r.record_id for r in result.created] == ["a", "b", "c", "d"] and result.duplicates == []
    assert counts(db) == {
        (GRID_A1, date(2025, 3, 1), "inc:01"): (1, 1, 2),
        (GRID_A2, date(2025, 3, 1), "inc:01"): (1, 0, 0),
        (COMMUNITY_A, date(2025, 3, 2), "inc:04"): (1, 0, 0),
        (GRID_A1, date(2025, 3, 1), "inc:05"): (1, 0, 3),
    }
    with db.unit_of_work(write=False) as s:
        assert sorted(s.scalars(select(SafetyDirtyDay.day))) == [date(2025, 3, 1), date(2025, 3, 2)]
        row = s.scalar(select(SafetyIncident).where(SafetyIncident.record_id == "c"))
        assert row is not None
        assert (row.division_code, row.district_code, row.street_code, row.community_code, row.grid_code) == (
            COMMUNITY_A,
            DISTRICT,
            STREET_A,
            COMMUNITY_A,
            None,
        )


def test_storing_again_changes_nothing(db: Database, feeds_city: TinyCity) -> None:
    with db.unit_of_work() as s:
        incidents.store(s, [record("a"), record("b")])
    before = counts(db)
    with db.unit_of_work() as s:
        again = incidents.store(s, [record("a"), record("c"), record("b", FEED_IN_B2)])  # b moved: still b
    assert [r.record_id for r in again.created] == ["c"] and again.duplicates == ["a", "b"]
    assert stored(db) == 3
    after = counts(db)
    assert after[(GRID_A1, date(2025, 3, 1), "inc:01")] == (before[(GRID_A1, date(2025, 3, 1), "inc:01")][0] + 1, 0, 0)
    assert (GRID_B2, date(2025, 3, 1), "inc:01") not in after
    with db.unit_of_work() as s:  # the same id from another source is another record
        other = incidents.store(s, [record("a", source="119", category_code="0401")])
    assert len(other.created) == 1


def test_nothing_is_written_when_a_record_cannot_be_placed(db: Database, feeds_city: TinyCity) -> None:
    with db.unit_of_work() as s, pytest.raises(InvalidInput) as refused:
        incidents.store(s, [record("a"), record("b", FEED_OUTSIDE), record("a")])
    details = refused.value.details
    assert [(d["record_id"], d["field"]) for d in details] == [("b", "location"), ("a", "record_id")]
    assert stored(db) == 0 and counts(db) == {}


def _items(*items: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"occurred_at": "2025-03-01 09:30", "category": "0101", "lon": FEED_IN_A1[0], "lat": FEED_IN_A1[1]}
    return [{**base, **item} for item in items]


def _table(db: Database, labels: dict[str, str] | None = None, policy: str = "report", fallback: str | None = None):  # type: ignore[no-untyped-def]
    with db.unit_of_work(write=False) as s:
        return feed_mappings.category_table(s, labels or {}, policy, fallback)


def test_pushed_calls_are_all_or_nothing(db: Database, feeds_city: TinyCity) -> None:
    bad = _items(
        {"record_id": "P1"},
        {"record_id": "P2", "occurred_at": "yesterday"},
        {"record_id": "P3", "lon": FEED_IN_A1[1], "lat": FEED_IN_A1[0]},
        {"record_id": "P1", "category": "0104"},
        {"record_id": "P5", "category": "盗窃"},
    )
    with db.unit_of_work() as s, pytest.raises(InvalidInput) as refused:
        incidents.receive(s, OPERATOR, "110", bad, _table(db))
    assert "4 of 5 incidents have problems, so none was stored" in refused.value.message
    listed = [(d["index"], d["record_id"], d["field"]) for d in refused.value.details]
    assert listed == [(1, "P2", "occurred_at"), (2, "P3", "location"), (3, "P1", "record_id"), (4, "P5", "category")]
    assert "coordinates look swapped" in refused.value.details[1]["problem"]
    assert stored(db) == 0 and counts(db) == {}


def test_pushed_calls_with_a_mapping_and_duplicates(db: Database, feeds_city: TinyCity) -> None:
    table = _table(db, {"盗窃": "0101"}, "fallback", "0999")
    with db.unit_of_work() as s:
        first = incidents.receive(s, OPERATOR, "110", _items({"record_id": "P1", "category": "盗窃"}), table)
    with db.unit_of_work() as s:
        second = incidents.receive(
            s, OPERATOR, "110", _items({"record_id": "P1"}, {"record_id": "P2", "category": "宠物扰民"}), table
        )
    assert [r.record_id for r in first.created] == ["P1"]
    assert [r.record_id for r in second.created] == ["P2"] and second.duplicates == ["P1"]
    with db.unit_of_work(write=False) as s:
        fallback = s.scalar(select(SafetyIncident).where(SafetyIncident.record_id == "P2"))
        assert fallback is not None and (fallback.category_code, fallback.raw_category) == ("0999", "宠物扰民")


def test_pushing_needs_the_permission_and_keeps_to_the_area(db: Database, feeds_city: TinyCity) -> None:
    with db.unit_of_work() as s, pytest.raises(Forbidden):
        incidents.receive(
            s, principal(Role.grid_worker, GRID_A1, Level.grid), "110", _items({"record_id": "P"}), _table(db)
        )
    district = principal(Role.center_operator, OTHER_DISTRICT, Level.district)
    with db.unit_of_work() as s, pytest.raises(InvalidInput) as refused:
        incidents.receive(s, district, "110", _items({"record_id": "P"}), _table(db))
    assert "outside your area" in refused.value.details[0]["problem"]
    with db.unit_of_work() as s, pytest.raises(InvalidInput) as refused:
        incidents.receive(s, OPERATOR, "110", _items(*({"record_id": f"P{i}"} for i in range(1001))), _table(db))
    assert "at most 1,000 incidents per call" in refused.value.message
    assert stored(db) == 0


def test_a_backlog_is_one_live_event_telling_screens_to_re_read(
    db: Database, feeds_city: TinyCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[Any] = []
    monkeypatch.setattr(incidents, "publish_after_commit", lambda session, event: published.append(event))
    with db.unit_of_work() as s:
        incidents.receive(s, OPERATOR, "110", _items(*({"record_id": f"P{i}"} for i in range(3))), _table(db))
    assert len(published) == 3 and published[0].topic == "safety.incident"
    assert set(published[0].payload) == {
        "source",
        "category_code",
        "occurred_at",
        "time_precision",
        "division_code",
        "lon",
        "lat",
    }
    published.clear()
    with db.unit_of_work() as s:
        incidents.receive(s, OPERATOR, "110", _items(*({"record_id": f"Q{i}"} for i in range(150))), _table(db))
    (summary,) = published
    assert summary.payload == {"count": 150, "sources": ["110"], "resync": True}
    assert summary.audience.permission == "safety:incidents"


# -- the list ----------------------------------------------------------------------------------------------


@pytest.fixture
def listed(add_incidents: Callable[..., list[str]]) -> None:
    add_incidents(
        [
            {"record_id": "L1", "occurred_at": "2025-03-01 09:00", "category": "0101", "lon": 117.1, "lat": 32.2},
            {"record_id": "L2", "occurred_at": "2025-03-02 09:00", "category": "0104", "lon": 117.3, "lat": 32.2},
            {"record_id": "L3", "occurred_at": "2025-03-03", "category": "0201", "lon": 117.3, "lat": 32.7},
            {"record_id": "L4", "occurred_at": "2025-03", "category": "0101", "address_code": OTHER_DISTRICT},
        ]
    )
    add_incidents(
        [{"record_id": "F1", "occurred_at": "2025-03-04 20:00", "category": "0401", "lon": 117.1, "lat": 32.7}],
        source="119",
    )


def _ids(db: Database, who: Principal, **filters: Any) -> list[str]:
    with db.unit_of_work(write=False) as s:
        query = incidents.query(s, who, incidents.IncidentFilter(**filters)).order_by(SafetyIncident.record_id)
        return [r.record_id for r in s.scalars(query)]


def test_the_list_filters_and_keeps_to_the_area(db: Database, listed: None) -> None:
    assert _ids(db, OPERATOR) == ["F1", "L1", "L2", "L3", "L4"]
    assert _ids(db, OPERATOR, source="119") == ["F1"]
    assert _ids(db, OPERATOR, category="01") == ["L1", "L2", "L4"]
    assert _ids(db, OPERATOR, category="0101") == ["L1", "L4"]
    assert _ids(db, OPERATOR, area_code=STREET_A) == ["L1", "L2"]
    assert _ids(db, OPERATOR, area_code=GRID_B2) == ["L3"]
    assert _ids(db, OPERATOR, area_code=OTHER_DISTRICT) == ["L4"]
    assert _ids(db, OPERATOR, area_code=CITY) == ["F1", "L1", "L2", "L3", "L4"]
    assert _ids(db, OPERATOR, since=datetime(2025, 3, 2, tzinfo=UTC), until=datetime(2025, 3, 4, tzinfo=UTC)) == [
        "L2",
        "L3",
    ]
    assert _ids(db, OPERATOR, bbox=(117.0, 32.0, 117.2, 33.0)) == ["F1", "L1"]
    assert _ids(db, principal(Role.center_operator, DISTRICT, Level.district)) == ["F1", "L1", "L2", "L3"]
    assert _ids(db, principal(Role.center_operator, OTHER_DISTRICT, Level.district)) == ["L4"]
    with pytest.raises(Forbidden):
        _ids(db, principal(Role.grid_worker, GRID_A1, Level.grid))
    for bad in ({"source": "12345"}, {"category": "盗窃"}, {"area_code": "999"}):
        with pytest.raises(InvalidInput):
            _ids(db, OPERATOR, **bad)


def test_two_stores_of_the_same_record_at_once_store_and_count_it_once(db: Database, feeds_city: TinyCity) -> None:
    """The second transaction waits for the first's write lock (SQLite's, or the source's advisory lock on
    PostgreSQL) and then finds the record stored: a duplicate, counted once."""
    import threading
    import time

    outcome: dict[str, Any] = {}

    def second() -> None:
        with db.unit_of_work() as s:
            outcome["second"] = incidents.store(s, [record("a"), record("c")])

    with db.unit_of_work() as s:
        first = incidents.store(s, [record("a"), record("b")])
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # let the second transaction reach the lock (the outcome is the same if it has not)
    thread.join(timeout=60)
    assert [r.record_id for r in first.created] == ["a", "b"]
    assert [r.record_id for r in outcome["second"].created] == ["c"] and outcome["second"].duplicates == ["a"]
    assert stored(db) == 3 and counts(db)[(GRID_A1, date(2025, 3, 1), "inc:01")] == (3, 0, 0)


def test_a_key_slipping_past_the_lookup_is_refused_not_counted_twice(
    db: Database, feeds_city: TinyCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    with db.unit_of_work() as s:
        incidents.store(s, [record("a")])
    before = counts(db)
    monkeypatch.setattr(incidents, "_known", lambda session, records: set())
    with db.unit_of_work() as s, pytest.raises(IntegrityError):
        incidents.store(s, [record("a"), record("b")])
    assert stored(db) == 1 and counts(db) == before
