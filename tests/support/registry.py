"""Registry data in the tiny city: a house, a person, a special-care record and an organisation in grids
A1 and B1 (so that scope tests have something to be refused), and the default code tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from civicgrid.core.crypto import Keyring
from civicgrid.core.idnumber import Sex, make_id_number
from civicgrid.registry import codes
from civicgrid.registry.models import House, Household, Organisation, Person, Residence, RoadLine, SpecialCare
from tests.support.city import GRID_A1, GRID_B1, OTHER_DISTRICT, TinyCity

A_ID_NUMBER = make_id_number("340303", date(1985, 3, 14), 123, Sex.male)
B_ID_NUMBER = make_id_number("340303", date(1990, 7, 2), 246, Sex.female)
A_PHONE = "13812345678"


@dataclass
class TinyRegistry:
    houses: dict[str, int] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    care: dict[str, int] = field(default_factory=dict)
    organisations: dict[str, int] = field(default_factory=dict)
    households: dict[str, int] = field(default_factory=dict)
    road_lines: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)
    disputes: dict[str, int] = field(default_factory=dict)


def _area(grid: str) -> dict[str, str]:
    return {"district_code": grid[:6], "street_code": grid[:9], "community_code": grid[:12], "grid_code": grid}


def build_tiny_registry(session: Session, keyring: Keyring, city: TinyCity) -> TinyRegistry:
    codes.invalidate()
    codes.load_defaults(session)
    registry = TinyRegistry()
    for key, grid, name, id_number, birth, sex, phone in (
        ("a", GRID_A1, "张三明", A_ID_NUMBER, date(1985, 3, 14), "1", A_PHONE),
        ("b", GRID_B1, "李四红", B_ID_NUMBER, date(1990, 7, 2), "2", None),
    ):
        house = House(
            street_address=f"幸福路{len(registry.houses) + 1}号",
            building="1栋",
            unit="1单元",
            room="101",
            address=f"社区 幸福路{len(registry.houses) + 1}号 1栋 1单元 101",
            use="self",
            owner_name=name,
            lon=117.1,
            lat=32.2 if grid == GRID_A1 else 32.7,
            **_area(grid),
        )
        session.add(house)
        session.flush()
        person = Person(
            person_type="registered",
            name=name,
            sex=sex,
            birth_date=birth,
            ethnicity="01",
            id_number_enc=keyring.encrypt(id_number, context="person.id_number"),
            id_number_index=keyring.blind_index(id_number, context="person.id_number"),
            phone_enc=keyring.encrypt(phone, context="person.phone") if phone else None,
            phone_index=keyring.blind_index(phone, context="person.phone") if phone else None,
            house_id=house.id,
            **_area(grid),
        )
        session.add(person)
        session.flush()
        session.add(Residence(person_id=person.id, house_id=house.id, grid_code=grid, from_date=date(2020, 1, 1)))
        household = Household(
            household_no=f"{grid[:12]}0000{len(registry.houses) + 1}",
            house_id=house.id,
            head_person_id=person.id,
            **_area(grid),
        )
        session.add(household)
        session.flush()
        person.household_id = household.id
        registry.households[key] = household.id
        care = SpecialCare(
            person_id=person.id,
            care_group="mental_disorder",
            attention_level="high",
            risk_level=2,
            responsible_user_id=city.users["worker.a1" if key == "a" else "worker.b1"],
            details={"guardian_name": "王五"},
            next_visit_due=date(2020, 2, 1),
            **_area(grid),
        )
        organisation = Organisation(kind="economic", name=f"{name}小卖部", **_area(grid))
        session.add_all([care, organisation])
        session.flush()
        registry.houses[key], registry.people[key] = house.id, person.id
        registry.care[key], registry.organisations[key] = care.id, organisation.id
    for key, district, street in (("a", "340303", "340303001"), ("b", OTHER_DISTRICT, None)):
        line = RoadLine(
            name=f"淮南铁路{key}段", line_type="railway", district_code=district, street_code=street, hazard_level="2"
        )
        session.add(line)
        session.flush()
        registry.road_lines[key] = line.id
    _add_cases(session, registry)
    return registry


def _add_cases(session: Session, registry: TinyRegistry) -> None:
    """One open case in grid A1 ("a") and one in grid B1 ("b"), reported by the city centre."""
    from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
    from civicgrid.authz.scope import Level, Principal, Scope
    from civicgrid.cases.categories import seed_categories
    from civicgrid.cases.intake import Report, report
    from civicgrid.core.workcalendar import seed_calendar

    seed_categories(session)
    seed_calendar(session)
    centre = Principal(
        None, "tests", "center_operator", ROLE_PERMISSIONS[Role.center_operator], Scope("340300", Level.city)
    )
    for key, point in (("a", (117.1, 32.2)), ("b", (117.1, 32.7))):
        outcome = report(session, centre, Report("0501", *point, description=f"井盖{key}"), source="centre")
        registry.cases[key] = outcome.case.id
    _add_disputes(session, registry, centre)


def _add_disputes(session: Session, registry: TinyRegistry, centre: Any) -> None:
    """One dispute in grid A1 ("a") and one in grid B1 ("b")."""

    from civicgrid.disputes.categories import seed_dispute_categories
    from civicgrid.disputes.service import create_dispute

    seed_dispute_categories(session)
    for key, point in (("a", (117.12, 32.21)), ("b", (117.12, 32.71))):
        dispute = create_dispute(
            session,
            centre,
            {
                "dispute_category": "04",
                "lon": point[0],
                "lat": point[1],
                "summary": f"邻里纠纷{key}",
                "people_count": 2,
                "resolution_deadline": date(2099, 1, 1),
                "parties": [],
            },
        )
        registry.disputes[key] = dispute.id
