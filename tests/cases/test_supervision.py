"""The SLA scan: yellow and red cards at the deadlines, raised once however many scanners run."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from civicgrid.cases.models import Case, CaseAction, CaseCard
from civicgrid.cases.supervision import TASK_NAME, ScanResult, insert_cards, scan
from civicgrid.core.clock import as_utc
from civicgrid.core.db import Database
from civicgrid.core.scheduler import run_due
from tests.cases.conftest import IN_A2
from tests.support.city import TinyCity

SECOND = timedelta(seconds=1)


def _case(db: Database, case_id: int) -> Case:
    with db.unit_of_work(write=False) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def _scan(db: Database, now: datetime, **options: Any) -> ScanResult:
    with db.unit_of_work() as session:
        return scan(session, now, **options)


def _cards(db: Database, case_id: int) -> list[tuple[int, str, str, int]]:
    with db.unit_of_work(write=False) as session:
        rows = session.execute(
            select(CaseCard.cycle, CaseCard.stage, CaseCard.colour, CaseCard.serial)
            .where(CaseCard.case_id == case_id)
            .order_by(CaseCard.id)
        )
        return [(a, b, c, d) for a, b, c, d in rows]


def _card_entries(db: Database, case_id: int) -> list[CaseAction]:
    with db.unit_of_work(write=False) as session:
        return list(
            session.scalars(
                select(CaseAction)
                .where(CaseAction.case_id == case_id, CaseAction.action == "card")
                .order_by(CaseAction.id)
            )
        )


def _notifications(api: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get("/notifications")["items"]
    return items


def test_a_case_waiting_for_acceptance_gets_a_yellow_then_a_red_card(db: Database, as_user: Any) -> None:
    resident, worker = as_user("resident"), as_user("worker.a1")
    reported = resident.report()["case"]
    case = _case(db, reported["id"])
    assert case.accept_due is not None and case.accept_red_due is not None

    assert _scan(db, as_utc(case.accept_due) - SECOND) == ScanResult(0, 0, 1)
    assert _scan(db, as_utc(case.accept_due)) == ScanResult(yellow=1, red=0, scanned=1)
    assert _case(db, case.id).card == "yellow"
    assert _scan(db, as_utc(case.accept_due) + timedelta(minutes=5)) == ScanResult(0, 0, 1)  # nothing new
    assert _scan(db, as_utc(case.accept_red_due)) == ScanResult(yellow=0, red=1, scanned=1)
    assert _case(db, case.id).card == "red"
    assert _cards(db, case.id) == [(0, "accept", "yellow", 0), (0, "accept", "red", 0)]

    entries = _card_entries(db, case.id)
    assert [(e.actor_label, e.from_status, e.to_status, e.data["colour"]) for e in entries] == [
        ("system", "reported", "reported", "yellow"),
        ("system", "reported", "reported", "red"),
    ]
    assert _case(db, case.id).version == reported["version"]  # a card does not make a handler's view stale
    # The holder (the grid worker) is told; the timeline shows the cards like any entry.
    titles = [n["title"] for n in _notifications(worker)]
    assert titles == [
        f"红牌督办（受理超时）：{case.code} {case.title}",
        f"黄牌督办（受理超时）：{case.code} {case.title}",
    ]
    detail = worker.get(f"/cases/{case.id}")
    assert [(t["action"], t["actor"]) for t in detail["timeline"]] == [
        ("report", "resident"),
        ("card", "system"),
        ("card", "system"),
    ]
    assert detail["card"] == "red" and [c["colour"] for c in detail["cards"]] == ["yellow", "red"]


def test_handling_cards_follow_the_handling_deadlines_and_tell_the_department(
    db: Database, as_user: Any, cases_city: TinyCity
) -> None:
    worker, police, community = as_user("worker.a1"), as_user("police"), as_user("community.a")
    case_id = worker.report(category="0201")["case"]["id"]
    worker.act(case_id, "dispatch", lead_unit_id=cases_city.units["dept-police"])
    case = _case(db, case_id)
    assert case.status == "dispatched" and case.handle_due and case.handle_red_due
    # Long past both deadlines (the scanner was down): both cards at once, one notification naming the worse.
    assert _scan(db, as_utc(case.handle_red_due) + timedelta(days=1)) == ScanResult(yellow=1, red=1, scanned=1)
    assert _cards(db, case_id) == [(0, "handle", "yellow", 0), (0, "handle", "red", 0)]
    assert [n["title"].split("：")[0] for n in _notifications(police)] == ["红牌督办（处置超时）", "新派遣事件"]
    assert [n["kind"] for n in _notifications(worker)] == ["card"]  # the holder too
    assert _notifications(community) == []


def test_cases_being_verified_or_closed_are_not_carded(db: Database, as_user: Any) -> None:
    worker = as_user("worker.a1")
    handled = worker.report()["case"]["id"]
    worker.act(handled, "start")
    worker.act(handled, "handle", note="已修复")
    other = as_user("worker.a2")
    closed = other.report(point=IN_A2)["case"]["id"]
    other.act(closed, "start")
    other.act(closed, "handle", note="已修复")
    other.act(closed, "pass")
    far = as_utc(_case(db, handled).handle_red_due or datetime.max) + timedelta(days=30)
    assert _scan(db, far) == ScanResult(0, 0, 0)


def test_a_reopened_case_is_carded_again_in_its_new_cycle(db: Database, as_user: Any) -> None:
    worker, community = as_user("worker.a1"), as_user("community.a")
    case_id = worker.report()["case"]["id"]
    first = as_utc(_case(db, case_id).handle_due or datetime.max)
    assert _scan(db, first).yellow == 1
    worker.act(case_id, "start")
    worker.act(case_id, "handle", note="已修复")
    worker.act(case_id, "pass")
    community.act(case_id, "reopen", note="井盖又坏了")
    reopened = _case(db, case_id)
    assert reopened.cycle == 1 and reopened.card is None
    assert _scan(db, as_utc(reopened.handle_due or datetime.max)).yellow == 1
    assert [c[:3] for c in _cards(db, case_id)] == [(0, "handle", "yellow"), (1, "handle", "yellow")]


def test_cases_scanned_in_batches_with_progress_and_one_notification_per_recipient(db: Database, as_user: Any) -> None:
    resident, worker = as_user("resident"), as_user("worker.a1")
    ids = [resident.report(description=f"第{n}处", force_new=True)["case"]["id"] for n in range(3)]
    due = max(as_utc(_case(db, i).accept_due or datetime.min) for i in ids)
    seen: list[tuple[int, int]] = []
    result = _scan(db, due, batch_size=2, progress=lambda done, total: seen.append((done, total)))
    assert result == ScanResult(yellow=3, red=0, scanned=3)
    assert seen == [(2, 3), (3, 3)]
    (summary,) = _notifications(worker)
    assert summary["title"] == "3 件事件超时督办（红牌 0，黄牌 3）"
    assert summary["object_id"] is None and all(_case(db, i).code in summary["body"] for i in ids)


def test_a_card_already_raised_is_never_inserted_twice(db: Database, as_user: Any) -> None:
    case_id = as_user("resident").report()["case"]["id"]
    now = as_utc(_case(db, case_id).accept_due or datetime.max)
    wanted = [(case_id, 0, "accept", "yellow")]
    with db.unit_of_work() as session:
        assert insert_cards(session, wanted, now) == wanted
        assert insert_cards(session, wanted, now) == []  # ON CONFLICT DO NOTHING, and not reported as raised
    with db.unit_of_work() as session:
        assert insert_cards(session, wanted, now) == []
    assert _cards(db, case_id) == [(0, "accept", "yellow", 0)]


def test_two_scanners_one_after_the_other_raise_each_card_once(db: Database, as_user: Any) -> None:
    case_id = as_user("resident").report()["case"]["id"]
    now = as_utc(_case(db, case_id).accept_red_due or datetime.max)
    first, second = db.session(), db.session()
    try:
        assert scan(first, now) == ScanResult(yellow=1, red=1, scanned=1)
        first.commit()
        assert scan(second, now) == ScanResult(yellow=0, red=0, scanned=1)
        second.commit()
    finally:
        first.close()
        second.close()
    assert len(_card_entries(db, case_id)) == 2


def test_concurrent_scanners_on_postgresql_raise_each_card_once(db: Database, as_user: Any) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite serialises writers (the test above covers it); PostgreSQL runs scanners side by side")
    ids = [as_user("resident").report(description=f"第{n}处", force_new=True)["case"]["id"] for n in range(3)]
    now = max(as_utc(_case(db, i).accept_red_due or datetime.min) for i in ids)
    first = db.session()
    results: list[ScanResult] = []
    try:
        # The first scanner inserted its cards but has not committed when the second one scans.
        assert scan(first, now) == ScanResult(yellow=3, red=3, scanned=3)

        def second_scanner() -> None:
            with db.unit_of_work() as session:
                results.append(scan(session, now))

        thread = threading.Thread(target=second_scanner)
        thread.start()
        # The second scanner found no cards (none committed) and its insert waits on the first one's index entries.
        assert _a_session_waits_on_a_lock(db)
        first.commit()
    finally:
        first.close()
    thread.join(30)
    assert results == [ScanResult(yellow=0, red=0, scanned=3)]
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(CaseCard)) == 6
        assert session.scalar(select(func.count()).where(CaseAction.action == "card")) == 6


def _a_session_waits_on_a_lock(db: Database) -> bool:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    pause = threading.Event()
    for _ in range(600):
        with db.engine.connect() as conn:
            if conn.execute(query).scalar():
                return True
        pause.wait(0.05)
    return False


def test_the_scheduler_runs_the_scan(db: Database, as_user: Any) -> None:
    case_id = as_user("resident").report()["case"]["id"]
    now = as_utc(_case(db, case_id).accept_due or datetime.max)
    (run,) = run_due(db, now, only=[TASK_NAME])
    assert run.status == "ok" and run.result == ScanResult(yellow=1, red=0, scanned=1)
    assert run_due(db, now + timedelta(minutes=1), only=[TASK_NAME]) == []  # not before its period


def test_the_command_scans_now(db: Database, as_user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicgrid.cli import app
    from civicgrid.config import get_settings
    from civicgrid.core import clock

    case_id = as_user("resident").report()["case"]["id"]
    clock.advance(as_utc(_case(db, case_id).accept_due or datetime.max) - clock.utcnow() + SECOND)
    monkeypatch.setenv("CIVICGRID_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["cases", "scan-sla"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "scanned 1 open cases: 1 yellow and 0 red cards raised" in result.output
    assert _case(db, case_id).card == "yellow"
