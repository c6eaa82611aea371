"""Turning registry rows into masked responses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.core.crypto import Keyring
from civicgrid.core.masking import mask_id_number, mask_name, mask_phone
from civicgrid.registry.models import House, Person
from civicgrid.registry.people import DOCUMENT_CONTEXT, ID_CONTEXT, PHONE_CONTEXT, today
from civicgrid.registry.schemas import HouseOut, PersonBase, PersonDetailOut, PersonOut


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _masked(keyring: Keyring, token: bytes | None, context: str, mask: Callable[[str], str]) -> str | None:
    return None if token is None else mask(keyring.decrypt(token, context=context))


def mask_document(value: str) -> str:
    return value[:2] + "*" * max(0, len(value) - 4) + value[-2:]


def addresses(session: Session, people: list[Person]) -> dict[int, str]:
    ids = {p.house_id for p in people if p.house_id is not None}
    if not ids:
        return {}
    return {
        house_id: address
        for house_id, address in session.execute(select(House.id, House.address).where(House.id.in_(ids)))
    }


def person_out(keyring: Keyring, person: Person, address: str | None) -> PersonOut:
    on = today()
    return PersonOut(
        id=person.id,
        person_type=person.person_type,
        name=mask_name(person.name),
        sex=person.sex,
        birth_year=person.birth_date.year,
        age=_age(person.birth_date, on),
        id_number=_masked(keyring, person.id_number_enc, ID_CONTEXT, mask_id_number),
        phone=_masked(keyring, person.phone_enc, PHONE_CONTEXT, mask_phone),
        house_id=person.house_id,
        household_id=person.household_id,
        address=address,
        grid_code=person.grid_code,
        community_code=person.community_code,
        status=person.status,
        review_status=person.review_status,
        key_attention=person.key_attention,
    )


def people_out(session: Session, keyring: Keyring, people: list[Person]) -> list[PersonOut]:
    where = addresses(session, people)
    return [person_out(keyring, p, where.get(p.house_id) if p.house_id else None) for p in people]


def person_detail(session: Session, keyring: Keyring, person: Person) -> PersonDetailOut:
    base = person_out(keyring, person, addresses(session, [person]).get(person.house_id or -1))
    extra = {field: getattr(person, field) for field in PersonBase.model_fields if field not in PersonOut.model_fields}
    if extra.get("former_name"):
        extra["former_name"] = mask_name(extra["former_name"])
    return PersonDetailOut(
        **base.model_dump(),
        **extra,
        document_no=_masked(keyring, person.document_no_enc, DOCUMENT_CONTEXT, mask_document),
        status_changed_on=person.status_changed_on,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


def house_out(house: House, residents: int | None = None) -> HouseOut:
    return HouseOut(
        id=house.id,
        address=house.address,
        street_address=house.street_address,
        building=house.building,
        unit=house.unit,
        room=house.room,
        use=house.use,
        owner_name=mask_name(house.owner_name) if house.owner_name else None,
        area_m2=house.area_m2,
        lon=house.lon,
        lat=house.lat,
        grid_code=house.grid_code,
        community_code=house.community_code,
        residents=residents,
    )
