"""People (实有人口): register, correct, review, move, deregister, search, and reveal with a purpose.

Writes go through `check_person`, which refuses bad input whole: codes, GB 11643 ID numbers (and
their agreement with birth date and sex), phones, duplicates in the city, houses and grids outside the
caller's scope. Nothing is deleted: people who leave or die are deregistered and their residence
history is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import area_codes_of, get_in_scope, require, require_area, restrict
from civicgrid.authz.scope import Principal
from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import Keyring
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import Conflict, InvalidInput
from civicgrid.core.idnumber import InvalidIdNumber, InvalidPhone, normalise_phone, parse_id_number
from civicgrid.geo.area import area_values
from civicgrid.geo.models import Division
from civicgrid.registry import codes
from civicgrid.registry.models import House, Household, Person, Residence

ID_CONTEXT = "person.id_number"
PHONE_CONTEXT = "person.phone"
DOCUMENT_CONTEXT = "person.document_no"
CODED_FIELDS = {
    "sex": "sex",
    "ethnicity": "ethnicity",
    "marital_status": "marital_status",
    "political_status": "political_status",
    "education": "education",
    "religion": "religion",
    "relation_to_head": "relation",
    "move_in_reason": "move_in_reason",
    "permit_type": "permit_type",
    "residence_type": "residence_type",
    "document_type": "document_type",
}


def today() -> date:
    from civicgrid.config import get_settings

    return utcnow().astimezone(get_settings().tz).date()


def _encrypt(keyring: Keyring, value: str, context: str) -> tuple[bytes, str]:
    return keyring.encrypt(value, context=context), keyring.blind_index(value, context=context)


@dataclass
class PersonCheck:
    """What `validate_person` found: the plain columns, the normalised identifiers and every problem.

    `id_problems_end` is where a duplicate-ID problem belongs in `problems` (after the ID number's own).
    """

    columns: dict[str, Any]
    id_number: str | None
    phone: str | None
    document_no: str | None
    problems: list[dict[str, str]]
    id_problems_end: int


def validate_person(
    session: Session, fields: dict[str, Any], *, current: Person | None = None, on: date | None = None
) -> PersonCheck:
    """The rules of `check_person` that need neither keys nor a query per person (imports call it per row).

    Codes, GB 11643 ID numbers and their agreement with birth date and sex, phones, what foreigners need,
    birth dates in the future; identifiers come back normalised, not yet encrypted.
    """
    on = on or today()
    merged: dict[str, Any] = {}
    if current is not None:
        merged.update({c: getattr(current, c) for c in ("person_type", "sex", "birth_date")})
    merged.update({k: v for k, v in fields.items() if v is not None})
    found = codes.problems(session, {f: (t, merged.get(f)) for f, t in CODED_FIELDS.items() if f in fields})
    columns: dict[str, Any] = {k: v for k, v in fields.items() if k not in ("id_number", "phone", "document_no")}
    person_type = merged.get("person_type")
    number: str | None = None
    phone: str | None = None
    document_no: str | None = None

    id_number = fields.get("id_number")
    if id_number:
        try:
            parsed = parse_id_number(id_number, today=on)
        except InvalidIdNumber as exc:
            found.append({"field": "id_number", "problem": exc.message, "reason": exc.reason.value})
        else:
            birth = merged.get("birth_date")
            if birth is not None and birth != parsed.birth_date:
                found.append(
                    {
                        "field": "birth_date",
                        "problem": f"the ID number says the person was born on "
                        f"{parsed.birth_date.isoformat()}, not {birth.isoformat()}",
                    }
                )
            sex = merged.get("sex")
            if sex in ("1", "2") and sex != parsed.sex.value:
                found.append({"field": "sex", "problem": "the ID number's sex digit does not match the sex given"})
            number = parsed.number
    elif person_type in ("registered", "floating") and (current is None or current.id_number_enc is None):
        found.append({"field": "id_number", "problem": "registered and floating residents need a citizen ID number"})
    id_problems_end = len(found)

    if fields.get("phone"):
        try:
            phone = normalise_phone(fields["phone"])
        except InvalidPhone as exc:
            found.append({"field": "phone", "problem": exc.message})

    if person_type == "foreign":
        for field in ("nationality", "document_type"):
            if not merged.get(field) and (current is None or getattr(current, field) is None):
                found.append({"field": field, "problem": "required for foreign residents"})
        if fields.get("document_no"):
            document_no = normalise_document_no(fields["document_no"])
        elif current is None:
            found.append({"field": "document_no", "problem": "required for foreign residents"})
    birth = merged.get("birth_date")
    if birth is not None and birth > on:
        found.append({"field": "birth_date", "problem": "the birth date is in the future"})
    return PersonCheck(columns, number, phone, document_no, found, id_problems_end)


def normalise_document_no(value: str) -> str:
    return value.strip().upper()


DUPLICATE_ID_PROBLEM = {
    "field": "id_number",
    "problem": "a person with this ID number is already registered "
    "in the city; find them with the exact ID lookup instead of registering again",
    "reason": "duplicate",
}


def check_person(
    session: Session,
    keyring: Keyring,
    fields: dict[str, Any],
    *,
    current: Person | None = None,
) -> dict[str, Any]:
    """Validate a new person or the changed fields of `current`; return the column values to write.

    Every problem is collected and reported at once (422, `details` = [{field, problem}]).
    """
    checked = validate_person(session, fields, current=current)
    found, columns = checked.problems, checked.columns
    if checked.id_number is not None:
        enc, index = _encrypt(keyring, checked.id_number, ID_CONTEXT)
        columns["id_number_enc"], columns["id_number_index"] = enc, index
        clash = session.scalar(select(Person.id).where(Person.id_number_index == index))
        if clash is not None and (current is None or clash != current.id):
            found.insert(checked.id_problems_end, dict(DUPLICATE_ID_PROBLEM))
    if checked.phone is not None:
        columns["phone_enc"], columns["phone_index"] = _encrypt(keyring, checked.phone, PHONE_CONTEXT)
    if checked.document_no is not None:
        columns["document_no_enc"], columns["document_no_index"] = _encrypt(
            keyring, checked.document_no, DOCUMENT_CONTEXT
        )
    if found:
        raise InvalidInput("; ".join(f"{p['field']}: {p['problem']}" for p in found), details=found)
    return columns


def _place(
    session: Session, principal: Principal, house_id: int | None, grid_code: str | None
) -> tuple[House | None, Division]:
    """The house (if any) and grid a person is placed in, both inside the caller's scope."""
    if house_id is not None:
        house = session.get(House, house_id)
        if house is None:
            raise InvalidInput(f"there is no house {house_id}", details=[{"field": "house_id", "problem": "not found"}])
        require_area(principal, "person:write", area_codes_of(house))
        grid = session.get(Division, house.grid_code)
        assert grid is not None
        return house, grid
    if grid_code is None:
        raise InvalidInput(
            "give the house the person lives in, or at least the grid",
            details=[{"field": "house_id", "problem": "house_id or grid_code is required"}],
        )
    grid = session.get(Division, grid_code)
    if grid is None or grid.level != "grid":
        raise InvalidInput(f"{grid_code} is not a grid", details=[{"field": "grid_code", "problem": "not a grid"}])
    require_area(principal, "person:write", area_codes_of(grid))
    return None, grid


def _household_in(session: Session, household_id: int | None, grid: Division) -> None:
    if household_id is None:
        return
    household = session.get(Household, household_id)
    if household is None:
        raise InvalidInput(
            f"there is no household {household_id}", details=[{"field": "household_id", "problem": "not found"}]
        )
    if household.community_code != grid.community_code:
        raise InvalidInput(
            "the household is registered in another community",
            details=[{"field": "household_id", "problem": "another community"}],
        )


def _review_status(principal: Principal) -> str:
    """Grid workers collect; what they write waits for review by the community or higher."""
    return "approved" if principal.can("person:review") else "pending"


def create_person(session: Session, principal: Principal, keyring: Keyring, data: dict[str, Any]) -> Person:
    require(principal, "person:write")
    house, grid = _place(session, principal, data.pop("house_id", None), data.pop("grid_code", None))
    _household_in(session, data.get("household_id"), grid)
    columns = check_person(session, keyring, data)
    person = Person(
        **columns,
        **area_values(grid),
        house_id=house.id if house else None,
        review_status=_review_status(principal),
        created_by=principal.user_id,
    )
    session.add(person)
    session.flush()
    if house is not None:
        session.add(
            Residence(
                person_id=person.id, house_id=house.id, grid_code=grid.code, from_date=today(), reason="registered"
            )
        )
    audit.record(
        session,
        principal,
        "person.create",
        "person",
        person.id,
        details={"grid": grid.code, "type": person.person_type},
    )
    return person


def get_person(session: Session, principal: Principal, person_id: int, permission: str = "person:read") -> Person:
    return get_in_scope(session, Person, person_id, principal, permission)


def update_person(
    session: Session, principal: Principal, keyring: Keyring, person_id: int, changes: dict[str, Any]
) -> Person:
    person = get_person(session, principal, person_id, "person:write")
    if person.status != "active":
        raise Conflict(f"person {person_id} is deregistered ({person.status}); re-register them instead")
    if "household_id" in changes:
        grid = session.get(Division, person.grid_code)
        assert grid is not None
        _household_in(session, changes["household_id"], grid)
    columns = check_person(session, keyring, changes, current=person)
    changed = sorted(k for k, v in columns.items() if getattr(person, k) != v)
    for key in changed:
        setattr(person, key, columns[key])
    if changed:
        person.review_status = _review_status(principal)
    session.flush()
    audit.record(
        session,
        principal,
        "person.update",
        "person",
        person.id,
        details={"fields": [c.removesuffix("_enc").removesuffix("_index") for c in changed]},
    )
    return person


def review_person(session: Session, principal: Principal, person_id: int) -> Person:
    person = get_person(session, principal, person_id, "person:review")
    person.review_status = "approved"
    audit.record(session, principal, "person.approve", "person", person.id)
    return person


def move_person(
    session: Session, principal: Principal, person_id: int, house_id: int, moved_on: date, reason: str | None
) -> Person:
    """Move someone to another house, keeping where they lived before."""
    person = get_person(session, principal, person_id, "person:write")
    if person.status != "active":
        raise Conflict(f"person {person_id} is deregistered ({person.status})")
    if person.house_id == house_id:
        raise Conflict("the person already lives in this house")
    house, grid = _place(session, principal, house_id, None)
    assert house is not None
    current = session.scalar(select(Residence).where(Residence.person_id == person.id, Residence.to_date.is_(None)))
    if current is not None:
        if moved_on < current.from_date:
            raise InvalidInput(
                "the move is dated before the person moved into the current house",
                details=[{"field": "moved_on", "problem": f"before {current.from_date.isoformat()}"}],
            )
        current.to_date = moved_on
    session.add(
        Residence(person_id=person.id, house_id=house.id, grid_code=grid.code, from_date=moved_on, reason=reason)
    )
    person.house_id = house.id
    for column, value in area_values(grid).items():
        setattr(person, column, value)
    session.flush()
    audit.record(
        session, principal, "person.move", "person", person.id, details={"to_grid": grid.code, "to_house": house.id}
    )
    return person


def deregister_person(session: Session, principal: Principal, person_id: int, reason: str, on: date) -> Person:
    person = get_person(session, principal, person_id, "person:write")
    if person.status != "active":
        raise Conflict(f"person {person_id} is already deregistered ({person.status})")
    if on > today():
        raise InvalidInput("the date is in the future", details=[{"field": "on", "problem": "in the future"}])
    person.status = reason
    person.status_changed_on = on
    current = session.scalar(select(Residence).where(Residence.person_id == person.id, Residence.to_date.is_(None)))
    if current is not None:
        current.to_date = max(on, current.from_date)
    audit.record(session, principal, "person.deregister", "person", person.id, details={"reason": reason})
    return person


def residences(session: Session, principal: Principal, person_id: int) -> list[tuple[Residence, str | None]]:
    """Where the person lived when, with each house's address."""
    person = get_person(session, principal, person_id)
    rows = session.execute(
        select(Residence, House.address)
        .outerjoin(House, House.id == Residence.house_id)
        .where(Residence.person_id == person.id)
        .order_by(Residence.from_date, Residence.id)
    )
    return [(residence, address) for residence, address in rows]


def reveal(
    session: Session, principal: Principal, keyring: Keyring, person_id: int, purpose: str
) -> tuple[Person, dict[str, str | None], int]:
    """The unmasked identifiers of one person, for a stated purpose; the read is audited."""
    require(principal, "person:pii")
    person = get_person(session, principal, person_id)
    values = {
        "id_number": keyring.decrypt(person.id_number_enc, context=ID_CONTEXT) if person.id_number_enc else None,
        "phone": keyring.decrypt(person.phone_enc, context=PHONE_CONTEXT) if person.phone_enc else None,
        "document_no": keyring.decrypt(person.document_no_enc, context=DOCUMENT_CONTEXT)
        if person.document_no_enc
        else None,
    }
    entry = audit.record(
        session,
        principal,
        "person.reveal",
        "person",
        person.id,
        purpose=purpose,
        details={"fields": ["name", "birth_date", *[k for k, v in values.items() if v]]},
    )
    return person, values, entry.seq


@dataclass(frozen=True)
class PersonFilter:
    name: str | None = None
    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    person_type: str | None = None
    status: str | None = "active"
    review_status: str | None = None
    key_attention: bool | None = None
    house_id: int | None = None
    household_id: int | None = None
    address: str | None = None


def query_people(principal: Principal, filters: PersonFilter) -> AnySelect:
    query: Select[Any] = restrict(select(Person), principal, "person:read", Person)
    if filters.name:
        # Prefix match keeps the name index usable at 3.4 million rows.
        query = query.where(Person.name.like(f"{_escape_like(filters.name)}%", escape="\\"))
    for column, value in (
        (Person.grid_code, filters.grid_code),
        (Person.community_code, filters.community_code),
        (Person.street_code, filters.street_code),
        (Person.person_type, filters.person_type),
        (Person.status, filters.status),
        (Person.review_status, filters.review_status),
        (Person.key_attention, filters.key_attention),
        (Person.house_id, filters.house_id),
        (Person.household_id, filters.household_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.address:
        houses = select(House.id).where(House.address.like(f"%{_escape_like(filters.address)}%", escape="\\"))
        query = query.where(Person.house_id.in_(houses))
    return query


def lookup(
    session: Session, principal: Principal, keyring: Keyring, *, id_number: str | None, phone: str | None
) -> list[Person]:
    """Exact lookup by ID number or phone through the blind index — the table is never decrypted."""
    require(principal, "person:read")
    if bool(id_number) == bool(phone):
        raise InvalidInput(
            "give exactly one of id_number or phone", details=[{"field": "id_number", "problem": "give one identifier"}]
        )
    if id_number:
        try:
            parsed = parse_id_number(id_number, today=today())
        except InvalidIdNumber as exc:
            raise InvalidInput(exc.message, details=[{"field": "id_number", "problem": exc.message}]) from exc
        condition = Person.id_number_index == keyring.blind_index(parsed.number, context=ID_CONTEXT)
    else:
        try:
            normalised = normalise_phone(phone or "")
        except InvalidPhone as exc:
            raise InvalidInput(exc.message, details=[{"field": "phone", "problem": exc.message}]) from exc
        condition = Person.phone_index == keyring.blind_index(normalised, context=PHONE_CONTEXT)
    query = restrict(select(Person).where(condition), principal, "person:read", Person).order_by(Person.id).limit(50)
    found = list(session.scalars(query))
    audit.record(
        session,
        principal,
        "person.lookup",
        "person",
        None,
        details={"by": "id_number" if id_number else "phone", "found": len(found)},
    )
    return found


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def resident_population_by_grid(session: Session) -> dict[str, int]:
    """Active registered and floating residents per grid: the denominator of per-10,000 rates."""
    rows = session.execute(
        select(Person.grid_code, func.count())
        .where(Person.status == "active", Person.person_type.in_(("registered", "floating")))
        .group_by(Person.grid_code)
    ).all()
    return {code: int(n) for code, n in rows}
