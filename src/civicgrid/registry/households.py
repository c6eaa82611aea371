"""Households (户): a household number, the house it is registered at, and its head."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import area_codes_of, get_in_scope, in_scope, require
from civicgrid.authz.scope import Principal
from civicgrid.core.errors import Conflict, InvalidInput
from civicgrid.registry.houses import get_house
from civicgrid.registry.models import Household, Person


def _next_number(session: Session, community_code: str) -> str:
    """Household numbers are the community code and a running number: 340302001001 + 00042."""
    count = (
        session.scalar(select(func.count()).select_from(Household).where(Household.community_code == community_code))
        or 0
    )
    return f"{community_code}{count + 1:05d}"


def create_household(session: Session, principal: Principal, data: dict[str, Any]) -> Household:
    require(principal, "person:write")
    house = get_house(session, principal, data["house_id"], "house:write")
    number = data.get("household_no") or _next_number(session, house.community_code)
    if session.scalar(select(Household.id).where(Household.household_no == number)) is not None:
        raise Conflict(f"household number {number} is taken", details=[{"field": "household_no", "problem": "taken"}])
    household = Household(
        household_no=number,
        house_id=house.id,
        district_code=house.district_code,
        street_code=house.street_code,
        community_code=house.community_code,
        grid_code=house.grid_code,
    )
    session.add(household)
    session.flush()
    head_id = data.get("head_person_id")
    if head_id is not None:
        set_head(session, principal, household, head_id)
    audit.record(session, principal, "household.create", "household", household.id)
    return household


def set_head(session: Session, principal: Principal, household: Household, person_id: int) -> None:
    person = session.get(Person, person_id)
    if person is None or person.status != "active" or not in_scope(principal, area_codes_of(person)):
        raise InvalidInput(
            f"there is no active person {person_id} in your scope",
            details=[{"field": "head_person_id", "problem": "not found"}],
        )
    if person.community_code != household.community_code:
        raise InvalidInput(
            "the head of household lives in another community",
            details=[{"field": "head_person_id", "problem": "another community"}],
        )
    household.head_person_id = person.id
    person.household_id = household.id
    person.relation_to_head = "01"


def get_household(session: Session, principal: Principal, household_id: int) -> Household:
    return get_in_scope(session, Household, household_id, principal, "person:read")
