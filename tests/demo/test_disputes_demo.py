"""The demo city's dispute records: one per class-01 case, categories that fit the case's, outcomes that agree
with the case's status, mediation inside the case's life, parties with valid encrypted ID numbers, the
one-stop desk filled, determinism.

One small city (scale 0.002: ~2,100 cases, ~300 of them disputes) is built once for the module, as in
test_cases_history.py; the determinism test rebuilds the disputes into the same city.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from civicgrid.app import create_app
from civicgrid.cases.models import Case, CaseCategory
from civicgrid.config import Settings, get_settings, random_secret
from civicgrid.core import clock
from civicgrid.core.crypto import Keyring
from civicgrid.core.db import Database
from civicgrid.core.idnumber import parse_id_number
from civicgrid.demo.accounts import DEMO_PASSWORD, create_demo_accounts
from civicgrid.demo.cases import build_cases
from civicgrid.demo.city import build_city
from civicgrid.demo.dispute_mix import CATEGORY_MIX
from civicgrid.demo.disputes import DisputesExist, DisputeStats, build_disputes
from civicgrid.disputes.categories import DEFAULT_DISPUTE_CATEGORIES
from civicgrid.disputes.models import PARTY_ID_CONTEXT, Dispute, DisputeMediation, DisputeParty
from civicgrid.disputes.service import scale_for
from civicgrid.seeds import load_reference_data
from tests.conftest import _empty_all_tables

pytestmark = pytest.mark.slow

SCALE = 0.002
SEED = 20261129
NOW = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
AREA = ("district_code", "street_code", "community_code", "grid_code")


@dataclass
class Built:
    db: Database
    settings: Settings
    keyring: Keyring
    stats: DisputeStats


@pytest.fixture(scope="module")
def built(database: Database) -> Built:
    _empty_all_tables(database)
    clock.reset()
    with database.unit_of_work() as session:
        load_reference_data(session)
        build_city(session, scale=SCALE, seed=SEED)
        create_demo_accounts(session, seed=SEED)
    build_cases(database, scale=SCALE, seed=SEED, now=NOW)
    settings = Settings(mode="test", secret_key=random_secret(), serve_frontend=False)
    keyring = Keyring.from_settings(settings)  # the app's, so its views decrypt what was written
    return Built(database, settings, keyring, build_disputes(database, seed=SEED, keyring=keyring, now=NOW))


@pytest.fixture
def s(built: Built) -> Iterator[Session]:
    with built.db.sessions() as session:
        yield session
        session.rollback()


def _local(moment: datetime | None) -> date | None:
    return moment.astimezone(get_settings().tz).date() if moment is not None else None


def _cases(s: Session) -> dict[int, Case]:
    query = (
        select(Case).join(CaseCategory, CaseCategory.code == Case.category_code).where(CaseCategory.parent_code == "01")
    )
    return {c.id: c for c in s.scalars(query)}


def test_one_dispute_per_class_01_case_with_a_fitting_category(built: Built, s: Session) -> None:
    cases = _cases(s)
    disputes = s.scalars(select(Dispute)).all()
    assert len(cases) > 150
    assert sorted(d.case_id for d in disputes) == sorted(cases)
    assert built.stats.counts["dispute"] == len(disputes)
    assert built.stats.counts["dispute_party"] == s.scalar(select(func.count()).select_from(DisputeParty))
    assert built.stats.counts["dispute_mediation"] == s.scalar(select(func.count()).select_from(DisputeMediation))
    defaults = {case_category: code for code, _zh, _en, case_category in DEFAULT_DISPUTE_CATEGORIES if case_category}
    by_leaf: dict[str, Counter[str]] = defaultdict(Counter)
    for d in disputes:
        case = cases[d.case_id]
        assert d.dispute_category in CATEGORY_MIX[case.category_code]
        by_leaf[case.category_code][d.dispute_category] += 1
        assert tuple(getattr(d, a) for a in AREA) == tuple(getattr(case, a) for a in AREA)
        assert d.scale == scale_for(d.people_count) and d.people_count >= 2
        assert 15 <= (d.resolution_deadline - _local(case.reported_at)).days <= 60  # type: ignore[operator]
        assert d.summary and d.created_at == case.reported_at
    for leaf, counts in by_leaf.items():
        assert counts.most_common(1)[0][0] == defaults[leaf], leaf  # the default category leads
    assert len({d.dispute_category for d in disputes}) >= 12
    people = [d.people_count for d in disputes]
    assert sum(2 <= n <= 9 for n in people) / len(people) > 0.85
    crowds = [d for d in disputes if d.people_count >= 30]
    assert crowds and {d.dispute_category for d in crowds} <= {"01", "02", "05", "07", "08", "11", "12", "15", "16"}
    assert any(d.units_involved for d in disputes) and any(d.units_involved is None for d in disputes)


def test_outcomes_agree_with_the_case(s: Session) -> None:
    cases = _cases(s)
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    for d in s.scalars(select(Dispute)):
        case = cases[d.case_id]
        outcomes[case.status][d.outcome] += 1
        assert d.success == (d.outcome == "resolved")
        if case.status in ("closed", "rejected"):
            assert d.resolved_on is not None and d.resolution
            assert _local(case.reported_at) <= d.resolved_on <= _local(case.closed_at)  # type: ignore[operator]
        else:
            assert d.outcome == "pending" and d.resolved_on is None and d.resolution is None
        if d.follow_up_on is not None:
            assert d.resolved_on is not None and d.resolved_on <= d.follow_up_on <= NOW.date()
        if d.evaluated_on is not None:
            assert d.outcome == "resolved" and d.evaluation and d.evaluated_on >= d.resolved_on  # type: ignore[operator]
    closed = outcomes["closed"]
    assert 0.8 <= closed["resolved"] / closed.total() <= 0.97
    assert set(closed) <= {"resolved", "partly", "failed"} and closed["resolved"] < closed.total()
    assert set(outcomes.get("rejected", {"failed": 1})) == {"failed"}
    assert any(status not in ("closed", "rejected") for status in outcomes)  # some still pending


def test_mediation_happens_inside_the_case_life(s: Session) -> None:
    cases = _cases(s)
    disputes = {d.id: d for d in s.scalars(select(Dispute))}
    sessions: dict[int, list[DisputeMediation]] = defaultdict(list)
    for m in s.scalars(select(DisputeMediation).order_by(DisputeMediation.dispute_id, DisputeMediation.session_no)):
        sessions[m.dispute_id].append(m)
    for dispute_id, dispute in disputes.items():
        case = cases[dispute.case_id]
        held = sessions.get(dispute_id, [])
        assert [m.session_no for m in held] == list(range(1, len(held) + 1))
        if dispute.outcome in ("resolved", "partly"):
            assert 1 <= len(held) <= 3
            assert held[-1].agreement_reached and held[-1].agreement
            assert held[-1].mediated_on == dispute.resolved_on
        if case.status == "rejected":
            assert not held
        end = _local(case.closed_at) if case.status == "closed" else NOW.date()
        days = [m.mediated_on for m in held]
        assert days == sorted(days)
        for m in held:
            assert _local(case.reported_at) <= m.mediated_on <= end  # type: ignore[operator]
            assert m.organisation and m.mediator and m.result
            assert m.agreement_reached == (m.agreement is not None)
            assert tuple(getattr(m, a) for a in AREA) == tuple(getattr(dispute, a) for a in AREA)
    methods = Counter(m.method for held in sessions.values() for m in held)
    assert methods.most_common(1)[0][0] == "people"
    assert any(m.organisation.endswith("人民调解委员会") for held in sessions.values() for m in held)


def test_parties_and_their_encrypted_id_numbers(built: Built, s: Session) -> None:
    disputes = {d.id: d for d in s.scalars(select(Dispute))}
    parties: dict[int, list[DisputeParty]] = defaultdict(list)
    for p in s.scalars(select(DisputeParty).order_by(DisputeParty.id)):
        parties[p.dispute_id].append(p)
    assert set(parties) == set(disputes)
    people = with_number = 0
    for dispute_id, named in parties.items():
        assert 2 <= len(named) <= min(4, disputes[dispute_id].people_count)
        assert [p.role for p in named[:2]] == ["applicant", "respondent"]
        for p in named:
            assert p.name and tuple(getattr(p, a) for a in AREA) == tuple(
                getattr(disputes[dispute_id], a) for a in AREA
            )
            if p.sex is None:  # a company or an office as the respondent
                assert p.role == "respondent" and p.id_number_enc is None
                continue
            people += 1
            assert p.person_category in ("registered", "floating") and p.ethnicity and p.education
            if p.id_number_enc is None:
                assert p.id_number_index is None
                continue
            with_number += 1
            number = built.keyring.decrypt(p.id_number_enc, context=PARTY_ID_CONTEXT)
            parsed = parse_id_number(number, today=NOW.date(), allow_unknown_region=True)
            assert parsed.number == number and parsed.sex.value == p.sex
            assert p.id_number_index == built.keyring.blind_index(number, context=PARTY_ID_CONTEXT)
    assert 0.4 <= with_number / people <= 0.6


def test_the_desk_shows_the_demo_disputes(built: Built, s: Session) -> None:
    total = s.scalar(select(func.count()).select_from(Dispute))
    with TestClient(create_app(built.settings, built.db)) as client:
        login = client.post("/api/v1/auth/login", json={"username": "operator", "password": DEMO_PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        desk = client.get("/api/v1/disputes/desk", headers=headers)
        assert desk.status_code == 200, desk.text
        body = desk.json()
        assert body["total"] == total and body["open"] > 0
        assert {c["key"] for c in body["by_outcome"]} >= {"pending", "resolved"}
        assert body["overdue"] or body["due_soon"] or body["unaccepted"]
        one = s.scalar(select(Dispute.id).where(Dispute.outcome == "resolved").order_by(Dispute.id).limit(1))
        detail = client.get(f"/api/v1/disputes/{one}", headers=headers)
        assert detail.status_code == 200, detail.text
        shown = detail.json()
        assert shown["parties"] and shown["mediations"] and shown["case"]["status"] == "closed"
        plain = set(s.scalars(select(DisputeParty.name).where(DisputeParty.dispute_id == one)))
        assert not plain & {p["name"] for p in shown["parties"] if p["sex"]}  # people's names masked


def _digest(db: Database) -> str:
    digest = hashlib.sha256()
    with db.engine.connect() as connection:
        for table, skip in (("dispute", ()), ("dispute_party", ("id_number_enc",)), ("dispute_mediation", ())):
            for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY id")):
                digest.update(repr(tuple(v for k, v in row._mapping.items() if k not in skip)).encode())
    return digest.hexdigest()


def test_the_same_seed_gives_the_same_disputes(built: Built) -> None:
    first = _digest(built.db)
    with pytest.raises(DisputesExist):
        build_disputes(built.db, seed=SEED, keyring=built.keyring, now=NOW)
    with built.db.unit_of_work() as session:
        for model in (DisputeMediation, DisputeParty, Dispute):
            session.execute(delete(model))
    again = build_disputes(built.db, seed=SEED, keyring=built.keyring, now=NOW)
    assert again.counts == built.stats.counts and again.outcomes == built.stats.outcomes
    assert _digest(built.db) == first
