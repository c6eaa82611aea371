"""A tiny, fully formed city for tests: squares nested down to four grids, staffed, with accounts.

    city 340300 ─ district 340303 ─┬ street 340303001 ─ community 340303001001 ─ grids …001, …002
                                   └ street 340303002 ─ community 340303002001 ─ grids …001, …002
    district 340304 (no streets)

Each division is an axis-aligned square or rectangle; children tile their parent exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely
from shapely.geometry import box
from sqlalchemy.orm import Session

from civicgrid.auth.models import User
from civicgrid.auth.secrets import hash_password
from civicgrid.geo.models import Division
from civicgrid.org.models import GridAssignment, OrgUnit

PASSWORD = "Correct-Horse-42"
_HASH = hash_password(PASSWORD)

CITY = "340300"
DISTRICT = "340303"
OTHER_DISTRICT = "340304"
STREET_A, STREET_B = "340303001", "340303002"
COMMUNITY_A, COMMUNITY_B = "340303001001", "340303002001"
GRID_A1, GRID_A2 = "340303001001001", "340303001001002"
GRID_B1, GRID_B2 = "340303002001001", "340303002001002"

# (code, name, level, parent, (minx, miny, maxx, maxy))
LAYOUT: list[tuple[str, str, str, str | None, tuple[float, float, float, float]]] = [
    (CITY, "蚌埠市", "city", None, (117.0, 32.0, 118.0, 33.0)),
    (DISTRICT, "蚌山区", "district", CITY, (117.0, 32.0, 117.5, 33.0)),
    (OTHER_DISTRICT, "禹会区", "district", CITY, (117.5, 32.0, 118.0, 33.0)),
    (STREET_A, "天桥街道", "street", DISTRICT, (117.0, 32.0, 117.5, 32.5)),
    (STREET_B, "青年街道", "street", DISTRICT, (117.0, 32.5, 117.5, 33.0)),
    (COMMUNITY_A, "天桥社区", "community", STREET_A, (117.0, 32.0, 117.5, 32.5)),
    (COMMUNITY_B, "青年社区", "community", STREET_B, (117.0, 32.5, 117.5, 33.0)),
    (GRID_A1, "天桥社区第1网格", "grid", COMMUNITY_A, (117.0, 32.0, 117.25, 32.5)),
    (GRID_A2, "天桥社区第2网格", "grid", COMMUNITY_A, (117.25, 32.0, 117.5, 32.5)),
    (GRID_B1, "青年社区第1网格", "grid", COMMUNITY_B, (117.0, 32.5, 117.25, 33.0)),
    (GRID_B2, "青年社区第2网格", "grid", COMMUNITY_B, (117.25, 32.5, 117.5, 33.0)),
]
LEVEL_INDEX = {"city": 0, "district": 1, "street": 2, "community": 3, "grid": 4}


@dataclass
class TinyCity:
    users: dict[str, int] = field(default_factory=dict)
    units: dict[str, int] = field(default_factory=dict)


def _ancestors(code: str) -> dict[str, str | None]:
    chain: dict[str, str | None] = {
        "city": None,
        "district": None,
        "street": None,
        "community": None,
        "grid": None,
    }
    by_code = {row[0]: row for row in LAYOUT}
    current: str | None = code
    while current is not None:
        row = by_code[current]
        chain[row[2]] = row[0]
        current = row[3]
    return chain


def build_tiny_city(session: Session) -> TinyCity:
    for code, name, level, parent, bounds in LAYOUT:
        shape = box(*bounds)
        chain = _ancestors(code)
        households = 100 if level == "grid" else 0
        session.add(
            Division(
                code=code,
                name=name,
                level=level,
                parent_code=parent,
                city_code=CITY,
                district_code=chain["district"],
                street_code=chain["street"],
                community_code=chain["community"],
                grid_code=chain["grid"],
                is_urban=True if level in ("community", "grid") else None,
                geometry=shapely.to_wkb(shape),
                min_lon=bounds[0],
                min_lat=bounds[1],
                max_lon=bounds[2],
                max_lat=bounds[3],
                centroid_lon=shape.centroid.x,
                centroid_lat=shape.centroid.y,
                area_km2=1.0,
                households=households,
                population=households * 3,
            )
        )
        session.flush()
    city = TinyCity()
    for code, name, kind, division, dept in [
        ("center-340300", "蚌埠市综治中心", "center", CITY, None),
        ("center-340303", "蚌山区综治中心", "center", DISTRICT, None),
        ("dept-police", "蚌埠市公安局", "department", CITY, "police"),
        ("committee-a", "天桥社区居委会", "committee", COMMUNITY_A, None),
        ("committee-b", "青年社区居委会", "committee", COMMUNITY_B, None),
    ]:
        chain = _ancestors(division)
        unit = OrgUnit(
            code=code,
            name=name,
            kind=kind,
            department_type=dept,
            division_code=division,
            city_code=CITY,
            district_code=chain["district"],
            street_code=chain["street"],
            community_code=chain["community"],
        )
        session.add(unit)
        session.flush()
        city.units[code] = unit.id
    for username, role, scope, unit_code in [
        ("admin", "admin", CITY, "center-340300"),
        ("operator", "center_operator", CITY, "center-340300"),
        ("district.operator", "center_operator", DISTRICT, "center-340303"),
        ("other.operator", "center_operator", OTHER_DISTRICT, None),
        ("police", "department_staff", CITY, "dept-police"),
        ("community.a", "community_staff", COMMUNITY_A, "committee-a"),
        ("worker.a1", "grid_worker", GRID_A1, "committee-a"),
        ("worker.a2", "grid_worker", GRID_A2, "committee-a"),
        ("worker.b1", "grid_worker", GRID_B1, "committee-b"),
        ("auditor", "auditor", CITY, "center-340300"),
        ("resident", "resident", COMMUNITY_A, None),
    ]:
        user = User(
            username=username,
            display_name=username.replace(".", " ").title(),
            password_hash=_HASH,
            role=role,
            scope_division_code=scope,
            unit_id=city.units[unit_code] if unit_code else None,
            scope_department_id=city.units[unit_code] if unit_code == "dept-police" else None,
        )
        session.add(user)
        session.flush()
        city.users[username] = user.id
    for grid, username in [(GRID_A1, "worker.a1"), (GRID_A2, "worker.a2"), (GRID_B1, "worker.b1")]:
        session.add(GridAssignment(division_code=grid, duty="grid_worker", user_id=city.users[username]))
    session.flush()
    return city
