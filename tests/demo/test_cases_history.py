"""The demo city's case history: counts, determinism, the closure mix, every case inside its grid, timelines
that follow the transition table, deadlines on the work calendar, and cards as the SLA scan raises them.

One small city (scale 0.002: ~2,100 cases over three years, every grid of the reference city) is built once
for the module; the determinism test rebuilds the history into the same city.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
import shapely
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from civicgrid.cases import supervision
from civicgrid.cases.flows import BY_ACTION
from civicgrid.cases.models import Case, CaseAction, CaseAssignment, CaseCard
from civicgrid.core import clock
from civicgrid.core.db import Database
from civicgrid.core.workcalendar import WorkCalendar, default_days, load_calendar
from civicgrid.demo.accounts import create_demo_accounts
from civicgrid.demo.cases import CaseStats, build_cases, case_count, hotspot_communities
from civicgrid.demo.cases.workdays import VectorCalendar
from civicgrid.demo.city import build_city
from civicgrid.geo.models import Division
from civicgrid.seeds import load_reference_data
from tests.conftest import _empty_all_tables

pytestmark = pytest.mark.slow

SCALE = 0.002
SEED = 20261129
NOW = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)


@dataclass
class Built:
    db: Database
    stats: CaseStats


@pytest.fixture(scope="module")
def built(database: Database) -> Built:
    _empty_all_tables(database)
    clock.reset()
    with database.unit_of_work() as session:
        load_reference_data(session)
        build_city(session, scale=SCALE, seed=SEED)
        create_demo_accounts(session, seed=SEED)
    return Built(database, build_cases(database, scale=SCALE, seed=SEED, now=NOW))


@pytest.fixture
def s(built: Built) -> Iterator[Session]:
    with built.db.sessions() as session:
        yield session
        session.rollback()


def test_counts_match_the_scale_and_the_rows_written(built: Built, s: Session) -> None:
    assert built.stats.counts["case_case"] == case_count(SCALE) == round(1_039_000 * SCALE)
    for model in (Case, CaseAction, CaseCard, CaseAssignment):
        table = model.__tablename__
        assert s.scalar(select(func.count()).select_from(model)) == built.stats.counts[table], table
    assert s.scalar(select(func.max(Case.reported_at))) <= NOW
    assert s.scalar(select(func.min(Case.reported_at))) >= NOW - timedelta(days=3 * 366)
    statuses = dict(s.execute(select(Case.status, func.count()).group_by(Case.status)).all())
    assert statuses == built.stats.statuses
    month_ago = NOW - timedelta(days=30)
    older = dict(
        s.execute(select(Case.status, func.count()).where(Case.reported_at < month_ago).group_by(Case.status)).all()
    )
    settled = (older.get("closed", 0) + older.get("rejected", 0)) / sum(older.values())
    assert 0.95 <= settled <= 0.99
    assert built.stats.settled_older == pytest.approx(settled)
    recent_open = s.scalar(
        select(func.count()).where(
            Case.reported_at >= NOW - timedelta(days=3), Case.status.notin_(("closed", "rejected"))
        )
    )
    assert recent_open > 0  # the open tail of the last days
    # Ids follow the report time, codes carry the date and the id.
    rows = s.execute(select(Case.id, Case.code, Case.reported_at).order_by(Case.id)).all()
    assert [r.reported_at for r in rows] == sorted(r.reported_at for r in rows)
    assert all(r.code == f"SJ{r.reported_at:%Y%m%d}{r.id:08d}" for r in rows)


def test_most_cases_close_within_the_grid(built: Built, s: Session) -> None:
    levels = dict(
        s.execute(
            select(Case.closure_level, func.count()).where(Case.status == "closed").group_by(Case.closure_level)
        ).all()
    )
    closed = sum(levels.values())
    assert 0.80 <= levels["grid"] / closed <= 0.90
    assert 0.06 <= levels["community"] / closed <= 0.14
    assert levels["grid"] + levels["community"] < closed  # some go higher
    assert built.stats.closure_levels["grid"] == pytest.approx(levels["grid"] / closed, abs=1e-4)
    dispatched = set(s.scalars(select(CaseAction.case_id).where(CaseAction.action == "dispatch")))
    above = set(s.scalars(select(Case.id).where(Case.status == "closed", Case.closure_level != "grid")))
    at_grid = set(s.scalars(select(Case.id).where(Case.status == "closed", Case.closure_level == "grid")))
    assert above <= dispatched and not (at_grid & dispatched)
    assert set(s.scalars(select(Case.id).where(Case.lead_unit_id.is_not(None)))) == dispatched
    assert set(s.scalars(select(CaseAssignment.case_id))) == dispatched
    rated = s.execute(select(Case.source, Case.satisfaction).where(Case.satisfaction.is_not(None))).all()
    assert {source for source, _ in rated} <= {"resident", "hotline_12345", "open311"}
    resident_closed = s.scalar(
        select(func.count()).where(Case.status == "closed", Case.source.in_(("resident", "hotline_12345", "open311")))
    )
    assert 0.4 <= len(rated) / resident_closed <= 0.6


def test_every_case_lies_inside_its_grid(s: Session) -> None:
    shapes = {
        code: shapely.from_wkb(wkb)
        for code, wkb in s.execute(select(Division.code, Division.geometry).where(Division.level == "grid"))
    }
    by_grid: dict[str, list[tuple[float, float]]] = defaultdict(list)
    rows = s.execute(select(Case.grid_code, Case.community_code, Case.lon, Case.lat)).all()
    for grid, community, lon, lat in rows:
        assert grid.startswith(community)
        by_grid[grid].append((lon, lat))
    for grid, points in by_grid.items():
        xy = np.array(points)
        assert shapely.contains_xy(shapes[grid], xy[:, 0], xy[:, 1]).all(), grid


def test_timelines_follow_the_transition_table(s: Session) -> None:
    cases = {c.id: c for c in s.execute(select(Case.id, Case.status, Case.level, Case.version, Case.source))}
    entries = s.execute(select(CaseAction).order_by(CaseAction.case_id, CaseAction.id)).scalars().all()
    by_case: dict[int, list[CaseAction]] = defaultdict(list)
    for entry in entries:
        by_case[entry.case_id].append(entry)
    assert set(by_case) == set(cases)
    for case_id, timeline in by_case.items():
        case = cases[case_id]
        first = timeline[0]
        assert first.action == "report" and first.from_status is None
        assert first.to_status == ("accepted" if case.source == "grid_worker" else "reported")
        for before, after in itertools.pairwise(timeline):
            assert after.created_at >= before.created_at
            assert after.from_status == before.to_status and after.from_level == before.to_level
            if after.action == "card":
                assert after.to_status == after.from_status and after.actor_label == "system"
                continue
            transition = BY_ACTION[after.action]
            assert after.from_status in transition.sources, (case_id, after.action, after.from_status)
            assert after.to_status == (transition.target or after.from_status), (case_id, after.action)
            if transition.note_required:
                assert after.note
        assert timeline[-1].to_status == case.status or timeline[-1].action == "card"
        assert sum(1 for e in timeline if e.action != "card") == case.version
    counts = Counter(e.action for e in entries)
    assert counts["report"] == len(cases)
    for action in ("accept", "start", "handle", "pass", "escalate", "dispatch", "sign", "rate", "reject", "card"):
        assert counts[action] > 0, action


def test_deadlines_follow_the_work_calendar(s: Session) -> None:
    from civicgrid.cases import sla
    from civicgrid.cases.models import CaseCategory

    calendar = load_calendar(s)
    categories = {c.code: c for c in s.scalars(select(CaseCategory))}
    sample = s.scalars(select(Case).where(Case.id % 7 == 0)).all()
    for case in sample:
        limits = sla.limits_for(s, categories[case.category_code], case.priority)
        assert case.accept_due == calendar.add_working_days(case.reported_at, limits.accept_days)
        assert case.accept_red_due == calendar.add_working_days(case.reported_at, limits.red_accept_days)
        start = case.dispatched_at or case.accepted_at
        if start is None:
            assert case.handle_due is None
            continue
        assert case.handle_due == calendar.add_working_days(start, limits.handle_days), case.code
        assert case.handle_red_due == calendar.add_working_days(start, limits.red_handle_days)


def test_cards_are_those_the_sla_scan_raises(s: Session) -> None:
    cards = s.execute(select(CaseCard.case_id, CaseCard.stage, CaseCard.colour, CaseCard.raised_at)).all()
    assert cards
    worst: dict[int, str] = {}
    for case_id, _stage, colour, _at in cards:
        worst[case_id] = "red" if colour == "red" or worst.get(case_id) == "red" else "yellow"
    assert dict(s.execute(select(Case.id, Case.card).where(Case.card.is_not(None))).all()) == worst
    assert all(at <= NOW for *_, at in cards)
    # Nothing is left for the scan to raise at the moment the history was made.
    result = supervision.scan(s, NOW)
    assert result.raised == 0
    assert result.scanned == s.scalar(select(func.count()).where(Case.status.in_(supervision.SUPERVISED)))


def test_hotspots_report_more(s: Session) -> None:
    spots = dict(hotspot_communities(*_communities(s), SEED))
    assert len(spots) == 22 and all(3 <= f <= 5 for f in spots.values())
    per_grid = dict(s.execute(select(Case.grid_code, func.count()).group_by(Case.grid_code)).all())
    households = dict(
        s.execute(
            select(Division.code, Division.households).where(Division.level == "grid", Division.is_urban.is_(True))
        ).all()
    )
    hot = [code for code in households if code[:12] in spots and code.endswith("001")]
    hot_rate = sum(per_grid.get(c, 0) for c in hot) / sum(households[c] + 1 for c in hot)
    cold = [c for c in households if c not in hot]
    cold_rate = sum(per_grid.get(c, 0) for c in cold) / sum(households[c] + 1 for c in cold)
    assert hot_rate > 2 * cold_rate


def _communities(s: Session) -> tuple[list[str], list[bool]]:
    rows = s.execute(
        select(Division.community_code, Division.is_urban).where(Division.level == "grid").order_by(Division.code)
    ).all()
    return [r.community_code for r in rows], [bool(r.is_urban) for r in rows]


def _digest(db: Database) -> str:
    digest = hashlib.sha256()
    with db.engine.connect() as connection:
        for table, order in (
            ("case_case", "id"),
            ("case_action", "id"),
            ("case_card", "id"),
            ("case_assignment", "id"),
        ):
            for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}")):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_the_same_seed_gives_the_same_history(built: Built) -> None:
    first = _digest(built.db)
    with built.db.unit_of_work() as session:
        for model in (CaseAction, CaseCard, CaseAssignment, Case):
            session.execute(delete(model))
    again = build_cases(built.db, scale=SCALE, seed=SEED, now=NOW)
    assert again.counts == built.stats.counts
    assert _digest(built.db) == first


def test_the_vectorised_calendar_gives_the_scalar_deadlines() -> None:
    calendar = WorkCalendar.of({d.day: (d.kind, d.name) for d in default_days()})
    vector = VectorCalendar(calendar, date(2024, 11, 1), date(2026, 12, 31))
    rng = np.random.default_rng(5)
    starts = np.round(datetime(2024, 12, 1, tzinfo=UTC).timestamp() + rng.random(3000) * 2 * 365 * 86400)
    days = rng.choice([0, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 20], len(starts))
    found = vector.add_working_days(starts, days)
    for start, n, deadline in zip(starts.tolist(), days.tolist(), found.tolist(), strict=True):
        expected = calendar.add_working_days(datetime.fromtimestamp(start, UTC), n)
        assert deadline == pytest.approx(expected.timestamp(), abs=1e-3), (start, n)
