"""Known figures for the analysis-report tests: police calls, cases and warnings of the tiny city in the last
complete week (W) and the week before (P), whose every count the tests know.

    W: grid A1 six thefts (0101), grid A2 two fights (0201), grid B1 three family disputes (0301);
       cases: three 0501 in A1 and one 0502 in B1, all closed; a surge warning in A1 (closed, with a note,
       linked to a case), a rule warning in street B (open, from P into W), one in the other district.
    P: grid A1 four thefts, A2 two fights, B1 one dispute; two 0501 cases in A1; a warning in A1 (P only).
    Overdue now: one case in A1 (reported 40 days ago, long past due) and one in the other district.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civicgrid.auth.service import load_principal
from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.cases.models import Case
from civicgrid.command import reports
from civicgrid.config import Settings, random_secret
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from civicgrid.core.files import LocalFileStore
from civicgrid.safety import feed_mappings, incidents, index_service
from civicgrid.safety.categories import seed_safety_categories
from civicgrid.safety.counts import LOCAL_TZ
from civicgrid.safety.index_service import seed_index_config
from civicgrid.safety.models import SafetyWarning
from civicgrid.safety.periods import Period, period_of
from tests.cases.conftest import as_user, cases_city  # noqa: F401  (fixtures shared with the case tests)
from tests.cases.test_measures import add_case
from tests.support.city import (
    CITY,
    COMMUNITY_A,
    DISTRICT,
    GRID_A1,
    GRID_B1,
    OTHER_DISTRICT,
    STREET_A,
    STREET_B,
    TinyCity,
)

IN_A1 = (117.1, 32.2)
IN_A2 = (117.3, 32.2)
IN_B1 = (117.1, 32.7)


@dataclass
class ReportCity:
    city: TinyCity
    week: Period  # W: the last complete week
    previous: Period  # P
    today: date
    case_ids: dict[str, int] = field(default_factory=dict)


def local_today() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), LOCAL_TZ)


def _calls(point: tuple[float, float], category: str, day: date, n: int) -> list[dict[str, object]]:
    return [
        {
            "record_id": f"r-{uuid.uuid4().hex[:12]}",
            "occurred_at": noon(day).isoformat(),
            "category": category,
            "lon": point[0],
            "lat": point[1],
        }
        for _ in range(n)
    ]


def _warning(
    session: Session,
    code: str,
    level: str,
    chain: tuple[str | None, ...],
    first: date,
    last: date,
    *,
    kind: str = "surge",
    status: str = "open",
    severity: str = "notice",
    title: str = "警情激增",
    note: str | None = None,
    case_id: int | None = None,
) -> None:
    district, street, community, grid = chain
    session.add(
        SafetyWarning(
            kind=kind,
            subject=f"inc:01:{uuid.uuid4().hex[:6]}",
            area_code=code,
            level=level,
            period_start=first,
            period_end=last,
            severity=severity,
            title=title,
            status=status,
            close_note=note,
            case_id=case_id,
            district_code=district,
            street_code=street,
            community_code=community,
            grid_code=grid,
        )
    )


def operator_principal() -> Principal:
    return Principal(
        None, "tests", Role.center_operator.value, ROLE_PERMISSIONS[Role.center_operator], Scope(CITY, Level.city)
    )


def build_report_data(db: Database, city: TinyCity) -> ReportCity:
    today = local_today()
    week = period_of("week", today - timedelta(days=7))
    previous = week.previous()
    result = ReportCity(city, week, previous, today)
    with db.unit_of_work() as s:
        seed_safety_categories(s)
        seed_index_config(s)
    items = [
        *_calls(IN_A1, "0101", week.start + timedelta(days=1), 6),
        *_calls(IN_A2, "0201", week.start + timedelta(days=2), 2),
        *_calls(IN_B1, "0301", week.start + timedelta(days=3), 3),
        *_calls(IN_A1, "0101", previous.start + timedelta(days=1), 4),
        *_calls(IN_A2, "0201", previous.start + timedelta(days=2), 2),
        *_calls(IN_B1, "0301", previous.start + timedelta(days=3), 1),
    ]
    with db.unit_of_work() as s:
        table = feed_mappings.category_table(s, {}, "report", None)
        incidents.receive(s, operator_principal(), "110", items, table, limit=len(items))
    now = utcnow()
    with db.unit_of_work() as s:
        reported = noon(week.start + timedelta(days=1))
        linked = add_case(s, reported=reported, hours=2)
        add_case(s, reported=reported, hours=2)
        add_case(s, reported=reported, hours=3)
        add_case(s, grid=GRID_B1, category="0502", reported=reported, hours=4)
        for _ in range(2):
            add_case(s, reported=noon(previous.start + timedelta(days=1)), hours=2)
        overdue = add_case(s, status="in_progress", reported=now - timedelta(days=40), due_hours=24, card="red")
        add_case(s, grid="340304001001001", status="in_progress", reported=now - timedelta(days=30), due_hours=24)
        result.case_ids = {"linked": linked.id, "overdue": overdue.id}
        a1 = (DISTRICT, STREET_A, COMMUNITY_A, GRID_A1)
        _warning(
            s, GRID_A1, "grid", a1, week.start + timedelta(days=1), week.start + timedelta(days=1),
            status="closed", severity="serious", title="天桥社区第1网格刑事警情激增：6起（预期0.5起）",
            note="已加强巡逻，警情回落", case_id=linked.id,
        )  # fmt: skip
        _warning(
            s, STREET_B, "street", (DISTRICT, STREET_B, None, None), previous.start + timedelta(days=5),
            week.start + timedelta(days=1), kind="rule", title="青年街道平安指数连续3周红色（警示通报）",
        )  # fmt: skip
        _warning(s, OTHER_DISTRICT, "district", (OTHER_DISTRICT, None, None, None), week.start, week.start)
        _warning(s, GRID_A1, "grid", a1, previous.start, previous.start + timedelta(days=1), title="上周的预警")
    index_service.recompute(db, now, limit=None)
    return result


@pytest.fixture
def report_city(db: Database, cases_city: TinyCity) -> ReportCity:  # noqa: F811
    return build_report_data(db, cases_city)


@pytest.fixture
def principal_of(db: Database, cases_city: TinyCity) -> Callable[[str], Principal]:  # noqa: F811
    def get(username: str) -> Principal:
        with db.unit_of_work(write=False) as session:
            found = load_principal(session, cases_city.users[username])
        assert found is not None
        return found

    return get


@pytest.fixture
def report_settings(tmp_path: Path) -> Settings:
    return Settings(mode="test", secret_key=random_secret(), serve_frontend=False, data_dir=tmp_path / "var")


@pytest.fixture
def report_store(db: Database, report_settings: Settings) -> LocalFileStore:
    """The file store of the tests' reports, registered for the test database."""
    store = LocalFileStore(report_settings.files_dir)
    reports.use_store(db, store)
    return store


@pytest.fixture
def report_client(db: Database, report_settings: Settings) -> Iterator[TestClient]:
    from civicgrid.app import create_app

    with TestClient(create_app(report_settings, db)) as test_client:
        yield test_client


def case_code(db: Database, case_id: int) -> str:
    with db.unit_of_work(write=False) as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case.code
