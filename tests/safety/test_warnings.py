"""Warnings as a service: detection stores each surge once (a re-run adds nothing, a surge that goes on extends
its warning), the lifecycle with every refused transition, turning a warning into exactly one linked case,
evidence records for those who may read them, scope, and the scheduled task."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.audit.models import AuditRecord
from civicgrid.cases.models import Case, CaseAction
from civicgrid.core.db import Database
from civicgrid.core.errors import Forbidden, InvalidInput, NotFound
from civicgrid.core.scheduler import run_due
from civicgrid.safety import warning_cases, warning_flows, warnings
from civicgrid.safety.models import SafetyFeedState, SafetyWarning
from civicgrid.safety.warning_jobs import SURGE_STATE, TASK_NAME, detect_days
from tests.safety.conftest import index_principal, store_incidents
from tests.support.city import CITY, COMMUNITY_A, COMMUNITY_B, GRID_A1, STREET_A, TinyCity

DAY = date(2025, 3, 10)
IN_A1, IN_A2, IN_B1, IN_B2 = (117.1, 32.2), (117.3, 32.2), (117.1, 32.7), (117.3, 32.7)


def _history(session: Session, last: date, *, days: int = 120, rate: float = 1.5, category: str = "0101") -> None:
    """`days` of ordinary calls up to `last` in every grid of district 340303 (Poisson, fixed seed)."""
    rng = np.random.default_rng(1)
    rows = []
    for offset in range(days, 0, -1):
        day = last - timedelta(days=offset - 1)
        for point in (IN_A1, IN_A2, IN_B1, IN_B2):
            rows += [(category, day, *point)] * int(rng.poisson(rate))
    store_incidents(session, rows)


def _spike(
    session: Session, day: date, n: int = 15, point: tuple[float, float] = IN_A1, category: str = "0101"
) -> None:
    store_incidents(session, [(category, day, *point)] * n)


def _warnings(db: Database) -> list[SafetyWarning]:
    with db.unit_of_work(write=False) as session:
        return list(session.scalars(select(SafetyWarning).order_by(SafetyWarning.id)))


def _new(area: str = COMMUNITY_A, subject: str = "inc:01", day: date = DAY, **extra: Any) -> warnings.NewWarning:
    evidence = {"count_kind": subject, "observed": 9, "expected": 1.5, "summary_zh": "观测9起，预期1.5起。"}
    fields: dict[str, Any] = {
        "kind": "surge",
        "subject": subject,
        "area_code": area,
        "period_start": day,
        "period_end": day,
        "title": f"{area} 激增",
        "evidence": evidence,
    }
    return warnings.NewWarning(**{**fields, **extra})


def _create(db: Database, *new: warnings.NewWarning) -> list[int]:
    with db.unit_of_work() as session:
        result = warnings.create_warnings(session, list(new))
        return [w.id for w in result.created]


def test_detection_stores_each_surge_once_and_extends_one_that_goes_on(db: Database, warnings_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        _history(session, DAY - timedelta(days=1))
        _spike(session, DAY)
    with db.unit_of_work() as session:
        result, surges = detect_days(session, [DAY])
    assert {(s.level, s.area_code, s.kind) for s in surges} >= {("community", COMMUNITY_A, "inc:01")}
    assert result.created == len(surges) >= 1
    stored = {w.area_code: w for w in _warnings(db)}
    warning = stored[COMMUNITY_A]
    assert (warning.kind, warning.subject, warning.level, warning.status) == ("surge", "inc:01", "community", "open")
    assert (warning.period_start, warning.period_end) == (DAY, DAY)
    assert (warning.district_code, warning.street_code, warning.community_code) == ("340303", STREET_A, COMMUNITY_A)
    evidence = warning.evidence
    assert evidence["observed"] >= 15 and 0 < evidence["expected"] < 10
    assert evidence["q"] <= 0.05 and evidence["model"] in ("poisson", "negbin")
    assert {"weekday", "season", "city_expected"} <= set(evidence["factors"])
    assert "预期" in evidence["summary_zh"] and "刑事" in warning.title

    with db.unit_of_work() as session:  # the same day again: nothing new
        again, _ = detect_days(session, [DAY])
    assert (again.created, again.extended, again.unchanged) == (0, 0, again.surges)
    assert len(_warnings(db)) == len(stored)

    with db.unit_of_work() as session:  # the surge goes on the next day: the same warning, one day longer
        _spike(session, DAY + timedelta(days=1))
    with db.unit_of_work() as session:
        following, _ = detect_days(session, [DAY + timedelta(days=1)], with_rules=False)
    assert following.created == 0 and following.extended >= 1
    longer = {w.area_code: w for w in _warnings(db)}[COMMUNITY_A]
    assert (longer.id, longer.period_start, longer.period_end) == (warning.id, DAY, DAY + timedelta(days=1))
    assert [d["first"] for d in longer.evidence["detections"]] == [
        DAY.isoformat(),
        (DAY + timedelta(days=1)).isoformat(),
    ]

    with db.unit_of_work() as session:  # once closed, a surge later on is a new warning
        warnings.close(session, index_principal(session, "operator"), warning.id, "patrols added")
        _spike(session, DAY + timedelta(days=2))
    with db.unit_of_work() as session:
        later, _ = detect_days(session, [DAY + timedelta(days=2)], with_rules=False)
    assert later.created >= 1
    community = [w for w in _warnings(db) if w.area_code == COMMUNITY_A]
    assert [(w.status, w.period_start) for w in community] == [("closed", DAY), ("open", DAY + timedelta(days=2))]


def test_no_history_no_surge(db: Database, warnings_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        _spike(session, DAY)
        result, surges = detect_days(session, [DAY])
    assert surges == [] and result.created == 0
    assert result.skipped["inc:01"] == "no records in the training window"
    with db.unit_of_work() as session:
        _history(session, DAY - timedelta(days=1), days=10)
        result, surges = detect_days(session, [DAY])
    assert surges == [] and result.skipped["inc:01"] == "fewer than 28 days of history before the window"


def test_a_warning_is_stored_once_whatever_runs_it(db: Database, warnings_city: TinyCity) -> None:
    first = _create(db, _new())
    assert len(first) == 1
    assert _create(db, _new()) == []  # the unique key; ON CONFLICT DO NOTHING
    with db.unit_of_work() as session:
        result = warnings.create_warnings(session, [_new(), _new(area=COMMUNITY_B)])
    assert (len(result.created), result.unchanged) == (1, 1)
    assert len(_warnings(db)) == 2
    with db.unit_of_work(write=False) as session:
        audited = session.scalars(select(AuditRecord).where(AuditRecord.action == "safety.warning.detect")).all()
    assert len(audited) == 2 and audited[0].actor_name == "system"


def test_a_sum_of_days_holding_a_closed_warning_raises_nothing(db: Database, warnings_city: TinyCity) -> None:
    """A 3- or 7-day window keeps the records of a surge an operator closed for days after; those days
    were dealt with. A detection clear of them is a new warning."""
    (closed,) = _create(db, _new(merge=True))
    with db.unit_of_work() as session:
        warnings.close(session, index_principal(session, "operator"), closed, "patrols added")
    week = _new(period_start=DAY - timedelta(days=4), period_end=DAY + timedelta(days=2), merge=True)
    with db.unit_of_work() as session:
        held = warnings.create_warnings(session, [week])
    assert (held.created, held.extended, held.unchanged) == ([], [], 1)
    assert _create(db, _new(day=DAY + timedelta(days=3), merge=True)) != []
    assert [w.status for w in _warnings(db)] == ["closed", "open"]


def test_bad_warnings_are_refused_whole(db: Database, warnings_city: TinyCity) -> None:
    bad = [
        _new(kind="storm"),
        _new(area="999999"),
        _new(severity="dire"),
        _new(period_end=DAY - timedelta(days=1)),
        _new(subject=""),
    ]
    with db.unit_of_work() as session, pytest.raises(InvalidInput) as refused:
        warnings.create_warnings(session, [_new(area=COMMUNITY_B), *bad])
    fields = [p["field"] for p in refused.value.details]
    assert fields == ["1.kind", "2.area_code", "3.severity", "4.period_end", "5.subject"]
    assert _warnings(db) == []


def _act(db: Database, username: str, action: str, warning_id: int, **options: Any) -> Any:
    with db.unit_of_work() as session:
        principal = index_principal(session, username)
        if action == "acknowledge":
            return warnings.acknowledge(session, principal, warning_id)
        if action == "close":
            return warnings.close(session, principal, warning_id, options.get("note"))
        request = warning_cases.CaseRequest(**options)
        return warning_cases.to_case(session, principal, warning_id, request)


def _refused(db: Database, username: str, action: str, warning_id: int, **options: Any) -> warning_flows.NotAllowed:
    with pytest.raises(warning_flows.NotAllowed) as refused:
        _act(db, username, action, warning_id, **options)
    assert refused.value.status_code == 409 and refused.value.code == "action_not_allowed"
    return refused.value


def test_the_lifecycle_and_every_refused_transition(db: Database, warnings_city: TinyCity) -> None:
    (warning_id,) = _create(db, _new())
    acknowledged = _act(db, "operator", "acknowledge", warning_id)
    assert acknowledged.status == "acknowledged" and acknowledged.acknowledged_at is not None
    again = _refused(db, "operator", "acknowledge", warning_id)
    assert again.details == {"status": "acknowledged", "allowed_actions": ["to_case", "close"]}

    with pytest.raises(InvalidInput) as no_note:
        _act(db, "operator", "close", warning_id, note="  ")
    assert no_note.value.details == [{"field": "note", "problem": "required"}]
    closed = _act(db, "operator", "close", warning_id, note="patrols added on the estate")
    assert (closed.status, closed.close_note, closed.closed_by is not None) == (
        "closed",
        "patrols added on the estate",
        True,
    )
    for action in ("acknowledge", "close", "to_case"):
        refused = _refused(db, "operator", action, warning_id, **({"note": "x"} if action == "close" else {}))
        assert refused.details == {"status": "closed", "allowed_actions": []}
    with db.unit_of_work(write=False) as session:
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.object_type == "safety_warning").order_by(AuditRecord.seq)
        ).all()
    assert actions == ["safety.warning.detect", "safety.warning.acknowledge", "safety.warning.close"]


def test_an_open_warning_may_be_closed_directly(db: Database, warnings_city: TinyCity) -> None:
    (warning_id,) = _create(db, _new())
    assert _act(db, "community.a", "close", warning_id, note="a wedding, not a brawl").status == "closed"


def test_the_flow_table_answers_what_is_allowed() -> None:
    assert warning_flows.allowed_actions("open", False) == ["acknowledge", "to_case", "close"]
    assert warning_flows.allowed_actions("open", True) == ["acknowledge", "close"]
    assert warning_flows.allowed_actions("acknowledged", True) == ["close"]
    with pytest.raises(warning_flows.NotAllowed, match="there is no action 'reopen'"):
        warning_flows.check("closed", "reopen", False)


def test_to_case_creates_exactly_one_linked_case(db: Database, warnings_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        store_incidents(session, [("0101", DAY, *IN_A1)] * 3 + [("0105", DAY, *IN_A2)] * 2)
    (warning_id,) = _create(db, _new())
    warning, case = _act(db, "operator", "to_case", warning_id)
    assert (warning.status, warning.case_id) == ("acknowledged", case.id)
    assert case.category_code == "0201" and case.source == "centre"
    assert case.community_code == COMMUNITY_A  # the records' centre lies in the warning's area
    assert case.title == f"{COMMUNITY_A} 激增"
    assert f"预警#{warning_id}" in case.description and "观测9起" in case.description
    refused = _refused(db, "operator", "to_case", warning_id)
    assert refused.details == {"status": "acknowledged", "allowed_actions": ["close"]}
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        entry = session.scalar(select(CaseAction).where(CaseAction.case_id == case.id))
        assert entry is not None and entry.data["attributes"] == {"warning_id": warning_id}


def test_to_case_keeps_an_acknowledged_warning_acknowledged_and_takes_overrides(
    db: Database, warnings_city: TinyCity
) -> None:
    (warning_id,) = _create(db, _new(area=GRID_A1))
    _act(db, "operator", "acknowledge", warning_id)
    warning, case = _act(
        db, "operator", "to_case", warning_id, category_code="0202", title="赌博窝点线索", lon=117.2, lat=32.3
    )
    assert warning.status == "acknowledged" and warning.case_id == case.id
    assert (case.category_code, case.title, case.grid_code) == ("0202", "赌博窝点线索", GRID_A1)
    assert (case.lon, case.lat) == (117.2, 32.3)


@pytest.mark.parametrize(
    ("subject", "leaves", "category"),
    [
        ("inc:02", ["0203", "0203", "0201"], "0202"),  # mostly gambling → 黄赌毒线索
        ("inc:02", ["0201", "0201", "0203"], "0201"),
        ("inc:01", ["0105"], "0201"),
        ("inc:04", ["0401"], "0301"),
        ("inc:05", ["0502"], "0304"),
        ("inc:03", ["0301", "0301"], "0102"),
        ("case:03", [], "0301"),
    ],
)
def test_the_case_category_fits_the_warning(
    db: Database, warnings_city: TinyCity, subject: str, leaves: list[str], category: str
) -> None:
    with db.unit_of_work() as session:
        store_incidents(session, [(leaf, DAY, *IN_A2) for leaf in leaves])
    (warning_id,) = _create(db, _new(subject=subject))
    with db.unit_of_work(write=False) as session:
        warning = session.get(SafetyWarning, warning_id)
        assert warning is not None
        assert warning_cases.suggested_category(session, warning) == category


def test_to_case_asks_for_a_category_when_none_fits(db: Database, warnings_city: TinyCity) -> None:
    (warning_id,) = _create(db, _new(subject="inc:06"))
    with pytest.raises(InvalidInput) as refused:
        _act(db, "operator", "to_case", warning_id)
    assert refused.value.details == [{"field": "category_code", "problem": "required for this warning"}]
    with pytest.raises(InvalidInput):
        _act(db, "operator", "to_case", warning_id, category_code="9999")
    with pytest.raises(InvalidInput):
        _act(db, "operator", "to_case", warning_id, category_code="0601", lon=117.2)
    assert _warnings(db)[0].status == "open" and _warnings(db)[0].case_id is None
    _, case = _act(db, "operator", "to_case", warning_id, category_code="0402")
    assert case.category_code == "0402" and case.community_code == COMMUNITY_A  # the area's centroid


def test_evidence_records_only_for_those_who_may_read_single_incidents(db: Database, warnings_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        store_incidents(session, [("0101", DAY, *IN_A1)] * 4 + [("0101", DAY, *IN_B1)] + [("0201", DAY, *IN_A1)])
    (warning_id,) = _create(db, _new())
    with db.unit_of_work(write=False) as session:
        warning = session.get(SafetyWarning, warning_id)
        assert warning is not None
        operator = warnings.contributing_records(session, index_principal(session, "operator"), warning)
        community = warnings.contributing_records(session, index_principal(session, "community.a"), warning)
    assert operator.total == 4 and operator.items is not None and len(operator.items) == 4
    record = operator.items[0]
    assert (record["category_code"], record["category_name"], record["lon"], record["lat"]) == ("0101", "盗窃", *IN_A1)
    assert record["occurred_at"].astimezone(UTC) == datetime(2025, 3, 10, 4, tzinfo=UTC)
    assert (community.total, community.items) == (4, None)


def test_case_kinds_give_the_count_only(db: Database, warnings_city: TinyCity) -> None:
    (warning_id,) = _create(db, _new(subject="case:02"))
    with db.unit_of_work(write=False) as session:
        warning = session.get(SafetyWarning, warning_id)
        assert warning is not None
        records = warnings.contributing_records(session, index_principal(session, "operator"), warning)
    assert (records.total, records.items) == (9, None)


def test_scope_and_permissions(db: Database, warnings_city: TinyCity) -> None:
    in_a, in_b = _create(db, _new(), _new(area=COMMUNITY_B))
    with db.unit_of_work(write=False) as session:
        community = index_principal(session, "community.a")
        seen = session.scalars(warnings.query_warnings(session, community, warnings.WarningFilter())).all()
        assert [w.id for w in seen] == [in_a]
        operator = index_principal(session, "operator")
        both = session.scalars(warnings.query_warnings(session, operator, warnings.WarningFilter())).all()
        assert sorted(w.id for w in both) == [in_a, in_b]
        in_district = warnings.query_warnings(session, operator, warnings.WarningFilter(area_code=STREET_A))
        assert [w.id for w in session.scalars(in_district)] == [in_a]
        in_city = warnings.query_warnings(session, operator, warnings.WarningFilter(area_code=CITY))
        assert sorted(w.id for w in session.scalars(in_city)) == [in_a, in_b]
        with pytest.raises(InvalidInput) as unknown:
            warnings.query_warnings(session, operator, warnings.WarningFilter(area_code="340399999999"))
        assert unknown.value.details == [{"field": "area_code", "problem": "unknown division"}]
        with pytest.raises(NotFound):
            warnings.get_warning(session, community, in_b)
        with pytest.raises(Forbidden):
            warnings.query_warnings(session, index_principal(session, "resident"), warnings.WarningFilter())
    with pytest.raises(NotFound):
        _act(db, "community.a", "acknowledge", in_b)
    with pytest.raises(Forbidden):
        _act(db, "worker.a1", "acknowledge", in_a)  # grid workers read warnings; they do not act on them
    with pytest.raises(NotFound):
        _act(db, "other.operator", "close", in_a, note="not mine")
    assert {w.status for w in _warnings(db)} == {"open"}


def test_bad_filters_are_refused(db: Database, warnings_city: TinyCity) -> None:
    with db.unit_of_work(write=False) as session:
        operator = index_principal(session, "operator")
        with pytest.raises(InvalidInput) as refused:
            warnings.query_warnings(session, operator, warnings.WarningFilter(status="done", level="ward", kind="x"))
    assert [p["field"] for p in refused.value.details] == ["status", "kind", "level"]


def test_the_scheduled_task_detects_yesterday_once(db: Database, warnings_city: TinyCity) -> None:
    with db.unit_of_work() as session:
        _history(session, DAY - timedelta(days=1))
        _spike(session, DAY)
    after_midnight = datetime(2025, 3, 10, 17, 30, tzinfo=UTC)  # 01:30 on 11 March in Shanghai
    (run,) = run_due(db, after_midnight, only=[TASK_NAME])
    assert run.status == "ok" and isinstance(run.result, dict)
    assert run.result["days"] == 1 and run.result["created"] >= 1
    with db.unit_of_work(write=False) as session:
        state = session.get(SafetyFeedState, SURGE_STATE)
        assert state is not None and date.fromordinal(state.last_id) == DAY
    count = len(_warnings(db))
    (later,) = run_due(db, after_midnight + timedelta(hours=2), only=[TASK_NAME])
    assert later.status == "ok" and isinstance(later.result, dict) and later.result["days"] == 0
    assert len(_warnings(db)) == count


def test_the_scheduled_task_fits_its_models_without_holding_the_write_lock(
    db: Database, warnings_city: TinyCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Others write while the surge models are fitted (on SQLite a held write lock would make them wait out
    the busy timeout and fail); the warnings are stored after."""
    from civicgrid.safety import warning_jobs

    with db.unit_of_work() as session:
        _history(session, DAY - timedelta(days=1))
        _spike(session, DAY)
    detect = warning_jobs.SurgeDetector.detect
    writes: list[int] = []

    def detect_while_others_write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with db.unit_of_work() as other:
            other.add(SafetyFeedState(feed=f"test.other-writer.{len(writes)}", last_id=1))
        writes.append(1)
        return detect(self, *args, **kwargs)

    monkeypatch.setattr(warning_jobs.SurgeDetector, "detect", detect_while_others_write)
    result = warning_jobs.run_scheduled(db, datetime(2025, 3, 10, 17, 30, tzinfo=UTC))
    assert writes == [1] and result.days == 1 and result.created >= 1
    assert len(_warnings(db)) == result.created


def _cli(db: Database, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    from typer.testing import CliRunner

    from civicgrid.cli import app
    from civicgrid.config import get_settings

    monkeypatch.setenv("CIVICGRID_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, ["safety", "detect", *args])
    finally:
        get_settings.cache_clear()


def test_the_command_detects_a_day_or_a_range_once(
    db: Database, warnings_city: TinyCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.unit_of_work() as session:
        _history(session, DAY - timedelta(days=1))
        _spike(session, DAY)
    dry = _cli(db, monkeypatch, "--day", DAY.isoformat(), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"{DAY} community {COMMUNITY_A}" in dry.output and _warnings(db) == []
    first = _cli(db, monkeypatch, "--day", DAY.isoformat())
    assert first.exit_code == 0, first.output
    stored = len(_warnings(db))
    assert stored >= 1 and f"warnings {stored} new" in first.output
    again = _cli(db, monkeypatch, "--from", (DAY - timedelta(days=2)).isoformat(), "--to", DAY.isoformat())
    assert again.exit_code == 0, again.output
    assert "3 day(s)" in again.output and "warnings 0 new" in again.output and len(_warnings(db)) == stored

    for args, problem in (
        (["--day", DAY.isoformat(), "--from", DAY.isoformat()], "not both"),
        (["--from", "2025-03-10", "--to", "2025-03-01"], "before --from"),
        (["--day", "10/03/2025"], "YYYY-MM-DD"),
        (["--day", "2999-01-01"], "not over yet"),
        (["--day", DAY.isoformat(), "--levels", "ward"], "use some of"),
        (["--day", DAY.isoformat(), "--window-days", "1,week"], "comma-separated"),
    ):
        refused = _cli(db, monkeypatch, *args)
        assert refused.exit_code == 2 and problem in refused.output, (args, refused.output)
    bad = _cli(db, monkeypatch, "--day", DAY.isoformat(), "--fdr", "2")
    assert bad.exit_code == 1 and "fdr" in bad.output
    too_long = _cli(db, monkeypatch, "--day", DAY.isoformat(), "--window-days", "1,93")
    assert too_long.exit_code == 1 and "window_days" in too_long.output
    one_day = _cli(db, monkeypatch, "--day", DAY.isoformat(), "--window-days", "1", "--dry-run")
    assert one_day.exit_code == 0 and f"{DAY} community {COMMUNITY_A}" in one_day.output
    assert len(_warnings(db)) == stored


def test_an_expected_count_below_a_tenth_is_said_so() -> None:
    from civicgrid.safety.warning_jobs import expected_zh

    assert (expected_zh(0.003), expected_zh(0.05), expected_zh(2.46)) == ("不足0.1起", "0.1起", "2.5起")
