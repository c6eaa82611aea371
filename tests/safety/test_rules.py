"""Warning rules: consecutive red periods (notice at 3, interview at 4, once per streak), deaths, thresholds
kept by safety administrators (validated whole), and their evaluation through the stored warnings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from civicgrid.core.db import Database
from civicgrid.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from civicgrid.safety import rules, warnings
from civicgrid.safety.models import SafetyIndexConfig, SafetyRule, SafetyScore, SafetyWarning
from civicgrid.safety.warning_jobs import run_rules
from tests.safety.conftest import index_principal, store_incidents
from tests.support.city import COMMUNITY_A, COMMUNITY_B, GRID_A1, STREET_A, TinyCity

DAY = date(2025, 3, 10)
IN_A1, IN_B1 = (117.1, 32.2), (117.1, 32.7)


def _warnings(db: Database) -> list[SafetyWarning]:
    with db.unit_of_work(write=False) as session:
        return list(session.scalars(select(SafetyWarning).order_by(SafetyWarning.id)))


def _store(db: Database, found: list[warnings.NewWarning]) -> warnings.CreateResult:
    with db.unit_of_work() as session:
        return warnings.create_warnings(session, found)


# -- consecutive reds -------------------------------------------------------------------------------------


def _scores(db: Database, streaks: dict[date, int], *, area: str = COMMUNITY_A, period_type: str = "month") -> None:
    with db.unit_of_work() as session:
        config = session.scalar(select(SafetyIndexConfig).where(SafetyIndexConfig.active.is_(True)))
        if config is None:
            config = SafetyIndexConfig(
                name="test", active=True, definition={"escalation": {"notice": 3, "interview": 4}}
            )
            session.add(config)
            session.flush()
        for start, streak in streaks.items():
            session.add(
                SafetyScore(
                    config_id=config.id,
                    period_type=period_type,
                    period_start=start,
                    area_code=area,
                    level="community",
                    score=55.0 if streak else 92.0,
                    band="red" if streak else "green",
                    red_streak=streak,
                    events=12,
                )
            )


def _streaks(db: Database, through: date, **options: Any) -> list[warnings.NewWarning]:
    with db.unit_of_work(write=False) as session:
        return rules.red_streak_warnings(session, through, **options)


def test_three_reds_in_a_row_give_a_notice_and_four_an_interview_once_each(
    db: Database, warnings_city: TinyCity
) -> None:
    _scores(db, {date(2025, 1, 1): 1, date(2025, 2, 1): 2, date(2025, 3, 1): 3})
    assert _streaks(db, date(2025, 3, 30)) == []  # March is not over yet
    (notice,) = _streaks(db, date(2025, 3, 31))
    assert (notice.kind, notice.subject, notice.severity) == ("rule", "red_streak:month:notice", "notice")
    assert (notice.area_code, notice.period_start, notice.period_end) == (
        COMMUNITY_A,
        date(2025, 1, 1),
        date(2025, 3, 31),
    )
    assert notice.evidence["streak"] == 3 and "连续3月红色" in notice.title and "警示通报" in notice.title
    assert len(_store(db, [notice]).created) == 1
    assert _store(db, _streaks(db, date(2025, 4, 2))).created == []  # evaluated again in the days after: once

    _scores(db, {date(2025, 4, 1): 4, date(2025, 5, 1): 5})
    (interview,) = _streaks(db, date(2025, 4, 30))
    assert (interview.subject, interview.severity, interview.period_start) == (
        "red_streak:month:interview",
        "interview",
        date(2025, 1, 1),
    )
    assert len(_store(db, [interview]).created) == 1
    assert _store(db, _streaks(db, date(2025, 5, 31))).created == []  # the fifth red: already interviewed
    assert [(w.subject, w.severity) for w in _warnings(db)] == [
        ("red_streak:month:notice", "notice"),
        ("red_streak:month:interview", "interview"),
    ]


def test_a_new_streak_warns_again_and_other_period_types_count(db: Database, warnings_city: TinyCity) -> None:
    _scores(db, {date(2025, 1, 1): 3, date(2025, 2, 1): 0, date(2025, 5, 1): 3})
    _store(db, _streaks(db, date(2025, 1, 31)))
    _store(db, _streaks(db, date(2025, 5, 31)))
    assert [w.period_start for w in _warnings(db)] == [date(2024, 11, 1), date(2025, 3, 1)]
    _scores(db, {date(2025, 3, 21): 4}, area=COMMUNITY_B, period_type="dekad")  # 21–31 March
    (dekad,) = _streaks(db, date(2025, 3, 31), period_types=("dekad",))
    assert (dekad.subject, dekad.period_start, dekad.period_end) == (
        "red_streak:dekad:interview",
        date(2025, 2, 21),
        date(2025, 3, 31),
    )


def test_no_active_configuration_no_streaks(db: Database, warnings_city: TinyCity) -> None:
    assert _streaks(db, date(2025, 3, 31)) == []


# -- deaths -----------------------------------------------------------------------------------------------


def test_a_death_raises_a_fatal_warning_with_its_records(db: Database, warnings_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        store_incidents(session, [("0501", DAY, *IN_A1)], deaths=2)
        store_incidents(session, [("0502", DAY, *IN_A1)] * 3)
        store_incidents(session, [("0501", DAY - timedelta(days=30), *IN_B1)], deaths=1)
    with db.unit_of_work(write=False) as session:
        (fatal,) = rules.fatal_warnings(session, DAY - timedelta(days=6), DAY)
    assert (fatal.subject, fatal.severity, fatal.area_code) == ("fatal:inc:05", "fatal", GRID_A1)
    assert fatal.evidence["deaths"] == 2 and fatal.evidence["observed"] == 4
    assert "死亡2人" in fatal.title and "交通事故" in fatal.title
    (warning_id,) = [w.id for w in _store(db, [fatal]).created]
    with db.unit_of_work(write=False) as session:
        warning = session.get(SafetyWarning, warning_id)
        assert warning is not None and warning.level == "grid"
        records = warnings.contributing_records(session, index_principal(session, "operator"), warning)
    assert records.total == 1 and records.items is not None and records.items[0]["deaths"] == 2


# -- thresholds -------------------------------------------------------------------------------------------


def _rule(db: Database, username: str = "admin", **fields: Any) -> SafetyRule:
    body = {"name": "盗窃三日五起", "kind": "inc:01", "level": "community", "window_days": 3, "threshold": 5, **fields}
    with db.unit_of_work() as session:
        rule = rules.create_rule(session, index_principal(session, username), body)
        session.expunge(rule)
        return rule


def test_a_threshold_rule_warns_and_a_continuing_excess_extends_the_warning(
    db: Database, warnings_city: TinyCity
) -> None:
    rule = _rule(db)
    with db.unit_of_work() as session:
        for offset in (2, 1, 0):
            store_incidents(session, [("0101", DAY - timedelta(days=offset), *IN_A1)] * 2)
        store_incidents(session, [("0101", DAY, *IN_B1)] * 4)
        store_incidents(session, [("0101", DAY - timedelta(days=3), *IN_B1)] * 4)  # before the window
    with db.unit_of_work(write=False) as session:
        (hit,) = rules.threshold_warnings(session, DAY)
    assert (hit.subject, hit.area_code, hit.severity, hit.merge) == (
        f"threshold:{rule.id}",
        COMMUNITY_A,
        "notice",
        True,
    )
    assert (hit.period_start, hit.period_end) == (DAY - timedelta(days=2), DAY)
    assert hit.evidence["observed"] == 6 and hit.evidence["threshold"] == 5
    _store(db, [hit])
    with db.unit_of_work() as session:
        store_incidents(session, [("0101", DAY + timedelta(days=1), *IN_A1)] * 2)
        next_day = rules.threshold_warnings(session, DAY + timedelta(days=1))
    result = _store(db, next_day)
    assert (len(result.created), len(result.extended)) == (0, 1)
    (warning,) = _warnings(db)
    assert (warning.period_start, warning.period_end) == (DAY - timedelta(days=2), DAY + timedelta(days=1))
    assert len(warning.evidence["detections"]) == 2


def test_inactive_rules_and_other_levels(db: Database, warnings_city: TinyCity) -> None:
    _rule(db, active=False)
    _rule(db, name="街道单日", level="street", window_days=1, threshold=2, severity="serious")
    with db.unit_of_work() as session:
        store_incidents(session, [("0101", DAY, *IN_A1)] * 3)
        found = rules.threshold_warnings(session, DAY)
    assert [(w.area_code, w.severity) for w in found] == [(STREET_A, "serious")]


def test_run_rules_stores_every_kind_of_rule_once(db: Database, warnings_city: TinyCity) -> None:
    _rule(db, window_days=1, threshold=2)
    _scores(db, {date(2025, 1, 1): 1, date(2025, 2, 1): 2})
    with db.unit_of_work() as session:
        store_incidents(session, [("0101", DAY, *IN_A1)] * 2)
        store_incidents(session, [("0401", DAY - timedelta(days=2), *IN_B1)], deaths=1)
    with db.unit_of_work() as session:
        first = run_rules(session, DAY)
    assert (first.rule_hits, first.created) == (2, 2)
    with db.unit_of_work() as session:
        again = run_rules(session, DAY)
    assert (again.created, again.unchanged) == (0, 2)
    assert sorted(w.subject for w in _warnings(db)) == ["fatal:inc:04", "threshold:1"]


# -- keeping the rules ------------------------------------------------------------------------------------


def test_rules_are_validated_whole(db: Database, warnings_city: TinyCity) -> None:
    bad = {
        "name": " ",
        "kind": "inc:77",
        "level": "ward",
        "window_days": 0,
        "threshold": 2.5,
        "severity": "fatal",
        "active": "yes",
    }
    with db.unit_of_work() as session, pytest.raises(InvalidInput) as refused:
        rules.create_rule(session, index_principal(session, "admin"), bad)
    fields = [p["field"] for p in refused.value.details]
    assert fields == ["name", "kind", "level", "window_days", "threshold", "severity", "active"]
    with db.unit_of_work(write=False) as session:
        assert session.scalars(select(SafetyRule)).all() == []
        assert {"inc:01", "inc:05", "case:02", "case:07", "dispute"} <= set(rules.known_kinds(session))


def test_rules_are_kept_by_safety_administrators(db: Database, warnings_city: TinyCity) -> None:
    with pytest.raises(Forbidden):
        _rule(db, "operator")
    rule = _rule(db)
    with pytest.raises(Conflict) as duplicate:
        _rule(db, kind="case:02")
    assert duplicate.value.code == "duplicate_rule"
    with db.unit_of_work() as session:
        admin = index_principal(session, "admin")
        changed = rules.replace_rule(
            session,
            admin,
            rule.id,
            {"name": "火灾一日三起", "kind": "inc:04", "level": "street", "window_days": 1, "threshold": 3},
        )
        assert (changed.name, changed.kind, changed.level, changed.severity, changed.active) == (
            "火灾一日三起",
            "inc:04",
            "street",
            "notice",
            True,
        )
        readable = session.scalars(rules.list_rules(index_principal(session, "community.a"))).all()
        assert [r.id for r in readable] == [rule.id]
        with pytest.raises(Forbidden):
            rules.list_rules(index_principal(session, "resident"))
        with pytest.raises(Forbidden):
            rules.delete_rule(session, index_principal(session, "operator"), rule.id)
        rules.delete_rule(session, admin, rule.id)
        with pytest.raises(NotFound):
            rules.replace_rule(session, admin, rule.id, {"name": "x"})
