"""Demo accounts: one for each role, plus a grid worker for every grid and a leader per community.

All demo accounts share one published password; its argon2id hash is computed once and reused, so a
city of thousands of grid workers is created in seconds. Never use demo accounts outside demo mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from civicgrid.auth.models import User
from civicgrid.auth.secrets import hash_password
from civicgrid.geo.models import Division
from civicgrid.org.models import GridAssignment, OrgUnit

DEMO_PASSWORD = "Bengbu-2026!"  # noqa: S105 - the published demo password, refused outside demo mode

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力斌宇浩凯秀云飞鹏亮"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    scope_code: str
    scope_name: str
    note: str


def _name(rng: np.random.Generator) -> str:
    surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
    given = "".join(GIVEN[int(i)] for i in rng.integers(len(GIVEN), size=int(rng.integers(1, 3))))
    return surname + given


def _unit(session: Session, kind: str, division_code: str, department_type: str | None = None) -> OrgUnit | None:
    query = select(OrgUnit).where(OrgUnit.kind == kind, OrgUnit.division_code == division_code)
    if department_type:
        query = query.where(OrgUnit.department_type == department_type)
    return session.scalars(query.order_by(OrgUnit.id)).first()


def create_demo_accounts(session: Session, *, seed: int) -> list[DemoAccount]:
    """Create the role accounts and the grid staff of the whole city; return the role accounts."""
    rng = np.random.default_rng(seed + 7)
    password_hash = hash_password(DEMO_PASSWORD)
    city = session.scalars(select(Division).where(Division.level == "city")).one()
    district = (
        session.get(Division, "340303")
        or session.scalars(select(Division).where(Division.level == "district").order_by(Division.code)).first()
    )
    assert district is not None
    community = session.scalars(
        select(Division)
        .where(
            Division.level == "community",
            Division.district_code == district.code,
            Division.is_urban.is_(True),
        )
        .order_by(Division.code)
    ).first()
    assert community is not None
    grid = session.scalars(
        select(Division).where(Division.parent_code == community.code).order_by(Division.code)
    ).first()
    assert grid is not None
    police = _unit(session, "department", city.code, "police")
    urban = _unit(session, "department", district.code, "urban_management")
    city_centre = _unit(session, "center", city.code)
    district_centre = _unit(session, "center", district.code)
    committee = _unit(session, "committee", community.code)

    plan: list[tuple[str, str, str, Division, OrgUnit | None, str]] = [
        ("admin", "平台管理员", "admin", city, city_centre, "users, roles, configuration"),
        ("operator", "市综治中心值班员", "center_operator", city, city_centre, "city centre: whole city"),
        (
            "operator.district",
            f"{district.name}综治中心值班员",
            "center_operator",
            district,
            district_centre,
            f"district centre: {district.name}",
        ),
        ("police", "市公安局联络员", "department_staff", city, police, "police department"),
        (
            "urban",
            f"{district.name}城市管理局联络员",
            "department_staff",
            district,
            urban,
            f"urban management of {district.name}: manhole covers, lamps, rubbish",
        ),
        ("community", f"{community.name}工作人员", "community_staff", community, committee, community.name),
        ("gridworker", _name(rng), "grid_worker", grid, committee, f"grid worker of {grid.name}"),
        ("volunteer", _name(rng), "volunteer", community, committee, f"volunteer in {community.name}"),
        ("resident", _name(rng), "resident", community, None, "resident"),
        ("steward", "公安局数据管理员", "data_steward", city, police, "police data steward"),
        ("auditor", "市纪委审计员", "auditor", city, city_centre, "reads the audit trail"),
    ]
    accounts = []
    for username, display, role, scope, unit, note in plan:
        user = User(
            username=username,
            display_name=display,
            password_hash=password_hash,
            role=role,
            scope_division_code=scope.code,
            unit_id=unit.id if unit else None,
            scope_department_id=unit.id if unit is not None and unit.kind == "department" else None,
        )
        session.add(user)
        accounts.append(DemoAccount(username, role, scope.code, scope.name, note))
    session.flush()
    demo_worker = session.scalar(select(User.id).where(User.username == "gridworker"))
    assert demo_worker is not None
    session.add(GridAssignment(division_code=grid.code, duty="grid_worker", user_id=demo_worker))
    _create_grid_staff(session, rng, password_hash, skip_grid=grid.code)
    return accounts


def _create_grid_staff(session: Session, rng: np.random.Generator, password_hash: str, *, skip_grid: str) -> None:
    """一格一员: a worker account per grid, and a leader (community staff) per community."""
    committees = dict(
        session.execute(select(OrgUnit.division_code, OrgUnit.id).where(OrgUnit.kind == "committee")).all()
    )
    divisions = session.execute(
        select(Division.code, Division.level, Division.parent_code)
        .where(Division.level.in_(("community", "grid")))
        .order_by(Division.code)
    ).all()
    users: list[dict[str, object]] = []
    duties: list[tuple[str, str]] = []
    for code, level, parent in divisions:
        if code == skip_grid:
            continue
        community = code if level == "community" else parent
        users.append(
            {
                "username": f"{'gl' if level == 'community' else 'gw'}{code}",
                "display_name": _name(rng),
                "password_hash": password_hash,
                "role": "community_staff" if level == "community" else "grid_worker",
                "scope_division_code": code,
                "unit_id": committees.get(community or ""),
            }
        )
        duties.append((code, "grid_leader" if level == "community" else "grid_worker"))
    for start in range(0, len(users), 5000):
        session.execute(insert(User), users[start : start + 5000])
    ids = dict(session.execute(select(User.username, User.id).where(User.username.like("g%"))).all())
    assignments = [
        {
            "division_code": code,
            "duty": duty,
            "user_id": ids[f"{'gl' if duty == 'grid_leader' else 'gw'}{code}"],
        }
        for code, duty in duties
    ]
    for start in range(0, len(assignments), 5000):
        session.execute(insert(GridAssignment), assignments[start : start + 5000])
