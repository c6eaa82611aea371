"""HTTP routes of people, households and houses (mounted under /api/v1/registry)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from civicgrid.auth.deps import PrincipalDep
from civicgrid.core.crypto import Keyring
from civicgrid.core.errors import InvalidInput
from civicgrid.core.pagination import ListParams, Page, apply_sort, list_params, paginate
from civicgrid.core.web import SessionDep
from civicgrid.registry import households, houses, people, views
from civicgrid.registry.models import House, Person
from civicgrid.registry.schemas import (
    DeregisterIn,
    HouseholdIn,
    HouseholdOut,
    HouseIn,
    HouseOut,
    HouseUpdate,
    LookupIn,
    MoveIn,
    PersonCreate,
    PersonDetailOut,
    PersonOut,
    PersonRevealedOut,
    PersonUpdate,
    ResidenceOut,
    RevealIn,
    TenancyIn,
    TenancyOut,
)

router = APIRouter(prefix="/registry", tags=["registry"])
ListDep = Annotated[ListParams, Depends(list_params)]


def get_keyring(request: Request) -> Keyring:
    keyring: Keyring = request.app.state.keyring
    return keyring


KeyringDep = Annotated[Keyring, Depends(get_keyring)]
PERSON_SORTS = {"id": Person.id, "name": Person.name, "birth_date": Person.birth_date, "updated_at": Person.updated_at}
HOUSE_SORTS = {"id": House.id, "address": House.address}


@router.get("/people", operation_id="registry_list_people", response_model=Page[PersonOut])
def list_people(
    session: SessionDep,
    principal: PrincipalDep,
    keyring: KeyringDep,
    params: ListDep,
    name: Annotated[str | None, Query(max_length=100, description="name starts with")] = None,
    grid_code: str | None = None,
    community_code: str | None = None,
    street_code: str | None = None,
    person_type: str | None = None,
    status: Annotated[str | None, Query(description="active (default), moved_away, deceased or all")] = "active",
    review_status: str | None = None,
    key_attention: bool | None = None,
    house_id: int | None = None,
    household_id: int | None = None,
    address: Annotated[str | None, Query(max_length=100, description="house address contains")] = None,
) -> Page[PersonOut]:
    """People in your scope, masked; filter by name prefix, area, type, status, flags, house or address."""
    filters = people.PersonFilter(
        name,
        grid_code,
        community_code,
        street_code,
        person_type,
        None if status == "all" else status,
        review_status,
        key_attention,
        house_id,
        household_id,
        address,
    )
    query = apply_sort(people.query_people(principal, filters), params.sort, PERSON_SORTS, [Person.id])
    rows, total = paginate(session, query, params)
    return Page[PersonOut].of(views.people_out(session, keyring, rows), total, params)


@router.post("/people/lookup", operation_id="registry_lookup_person", response_model=list[PersonOut])
def lookup_person(body: LookupIn, session: SessionDep, principal: PrincipalDep, keyring: KeyringDep) -> list[PersonOut]:
    """Exact lookup by ID number or phone (in the body, so it never appears in a URL or log)."""
    found = people.lookup(session, principal, keyring, id_number=body.id_number, phone=body.phone)
    return views.people_out(session, keyring, found)


@router.post("/people", operation_id="registry_create_person", response_model=PersonDetailOut, status_code=201)
def create_person(
    body: PersonCreate, session: SessionDep, principal: PrincipalDep, keyring: KeyringDep
) -> PersonDetailOut:
    """Register a person in a house (or grid) of your scope; grid workers' entries wait for review."""
    person = people.create_person(session, principal, keyring, body.model_dump())
    return views.person_detail(session, keyring, person)


@router.get("/people/{person_id}", operation_id="registry_get_person", response_model=PersonDetailOut)
def get_person(person_id: int, session: SessionDep, principal: PrincipalDep, keyring: KeyringDep) -> PersonDetailOut:
    """One person, masked."""
    return views.person_detail(session, keyring, people.get_person(session, principal, person_id))


@router.patch("/people/{person_id}", operation_id="registry_update_person", response_model=PersonDetailOut)
def update_person(
    person_id: int, body: PersonUpdate, session: SessionDep, principal: PrincipalDep, keyring: KeyringDep
) -> PersonDetailOut:
    """Correct a person's data; every change is audited."""
    person = people.update_person(session, principal, keyring, person_id, body.model_dump(exclude_unset=True))
    return views.person_detail(session, keyring, person)


@router.post("/people/{person_id}/approve", operation_id="registry_approve_person", response_model=PersonDetailOut)
def approve_person(
    person_id: int, session: SessionDep, principal: PrincipalDep, keyring: KeyringDep
) -> PersonDetailOut:
    """Approve what a grid worker registered or corrected (community staff and above)."""
    return views.person_detail(session, keyring, people.review_person(session, principal, person_id))


@router.post("/people/{person_id}/move", operation_id="registry_move_person", response_model=PersonDetailOut)
def move_person(
    person_id: int, body: MoveIn, session: SessionDep, principal: PrincipalDep, keyring: KeyringDep
) -> PersonDetailOut:
    """Move a person to another house; where they lived before is kept."""
    person = people.move_person(session, principal, person_id, body.house_id, body.moved_on, body.reason)
    return views.person_detail(session, keyring, person)


@router.post(
    "/people/{person_id}/deregister", operation_id="registry_deregister_person", response_model=PersonDetailOut
)
def deregister_person(
    person_id: int, body: DeregisterIn, session: SessionDep, principal: PrincipalDep, keyring: KeyringDep
) -> PersonDetailOut:
    """Record that a person moved away or died; nothing is deleted."""
    person = people.deregister_person(session, principal, person_id, body.reason, body.on)
    return views.person_detail(session, keyring, person)


@router.get(
    "/people/{person_id}/residences", operation_id="registry_person_residences", response_model=list[ResidenceOut]
)
def person_residences(person_id: int, session: SessionDep, principal: PrincipalDep) -> list[ResidenceOut]:
    """Where the person lived when."""
    return [
        ResidenceOut.model_validate(r).model_copy(update={"address": address})
        for r, address in people.residences(session, principal, person_id)
    ]


@router.post("/people/{person_id}/reveal", operation_id="registry_reveal_person", response_model=PersonRevealedOut)
def reveal_person(
    person_id: int, body: RevealIn, session: SessionDep, principal: PrincipalDep, keyring: KeyringDep
) -> PersonRevealedOut:
    """The unmasked name, birth date and identifiers, for a stated purpose (needs person:pii; audited)."""
    person, values, seq = people.reveal(session, principal, keyring, person_id, body.purpose)
    return PersonRevealedOut(id=person.id, name=person.name, birth_date=person.birth_date, audit_seq=seq, **values)


@router.get("/houses", operation_id="registry_list_houses", response_model=Page[HouseOut])
def list_houses(
    session: SessionDep,
    principal: PrincipalDep,
    params: ListDep,
    address: Annotated[str | None, Query(max_length=100, description="address contains")] = None,
    use: str | None = None,
    grid_code: str | None = None,
    community_code: str | None = None,
) -> Page[HouseOut]:
    """Houses in your scope by address, use and area, with their number of residents."""
    query = houses.query_houses(principal, houses.HouseFilter(address, use, grid_code, community_code))
    rows, total = paginate(session, apply_sort(query, params.sort, HOUSE_SORTS, [House.id]), params)
    counts = houses.residents_count(session, [h.id for h in rows])
    return Page[HouseOut].of([views.house_out(h, counts.get(h.id, 0)) for h in rows], total, params)


class HouseMapOut(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
    truncated: bool = Field(description="more houses than were returned lie in the box; zoom in")


@router.get("/houses/map", operation_id="registry_house_map", response_model=HouseMapOut)
def house_map(
    session: SessionDep,
    principal: PrincipalDep,
    bbox: Annotated[str, Query(description="min_lon,min_lat,max_lon,max_lat")],
    zoom: Annotated[int, Query(ge=0, le=24)],
) -> HouseMapOut:
    """The house layer: houses as points from zoom 14 (at most 20,000), below it house counts per grid."""
    try:
        box = tuple(float(v) for v in bbox.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise InvalidInput(
            "bbox is four numbers: min_lon,min_lat,max_lon,max_lat",
            details=[{"field": "bbox", "problem": "not four numbers"}],
        )
    return HouseMapOut(**houses.map_features(session, principal, (box[0], box[1], box[2], box[3]), zoom))


@router.post("/houses", operation_id="registry_create_house", response_model=HouseOut, status_code=201)
def create_house(body: HouseIn, session: SessionDep, principal: PrincipalDep, keyring: KeyringDep) -> HouseOut:
    """Register a house in a grid of your scope."""
    return views.house_out(houses.create_house(session, principal, keyring, body.model_dump()), 0)


@router.get("/houses/{house_id}", operation_id="registry_get_house", response_model=HouseOut)
def get_house(house_id: int, session: SessionDep, principal: PrincipalDep) -> HouseOut:
    house = houses.get_house(session, principal, house_id)
    return views.house_out(house, houses.residents_count(session, [house.id]).get(house.id, 0))


@router.patch("/houses/{house_id}", operation_id="registry_update_house", response_model=HouseOut)
def update_house(
    house_id: int, body: HouseUpdate, session: SessionDep, principal: PrincipalDep, keyring: KeyringDep
) -> HouseOut:
    house = houses.update_house(session, principal, keyring, house_id, body.model_dump(exclude_unset=True))
    return views.house_out(house, houses.residents_count(session, [house.id]).get(house.id, 0))


@router.get("/houses/{house_id}/tenancies", operation_id="registry_list_tenancies", response_model=list[TenancyOut])
def list_tenancies(house_id: int, session: SessionDep, principal: PrincipalDep) -> list[TenancyOut]:
    """Tenants of a rented house, current and past."""
    from civicgrid.core.masking import mask_name

    return [
        TenancyOut(
            id=t.id,
            house_id=t.house_id,
            person_id=t.person_id,
            person_name=mask_name(name),
            move_in=t.move_in,
            move_out=t.move_out,
        )
        for t, name in houses.tenancies(session, principal, house_id)
    ]


@router.post(
    "/houses/{house_id}/tenancies", operation_id="registry_add_tenancy", response_model=TenancyOut, status_code=201
)
def add_tenancy(house_id: int, body: TenancyIn, session: SessionDep, principal: PrincipalDep) -> TenancyOut:
    from civicgrid.core.masking import mask_name

    tenancy = houses.add_tenant(session, principal, house_id, body.person_id, body.move_in)
    person = session.get(Person, tenancy.person_id)
    assert person is not None
    return TenancyOut(
        id=tenancy.id,
        house_id=house_id,
        person_id=person.id,
        person_name=mask_name(person.name),
        move_in=tenancy.move_in,
        move_out=None,
    )


@router.post("/households", operation_id="registry_create_household", response_model=HouseholdOut, status_code=201)
def create_household(body: HouseholdIn, session: SessionDep, principal: PrincipalDep) -> HouseholdOut:
    """Open a household at a house of your scope, optionally naming its head (members join by PATCHing a
    person's `household_id`)."""
    return HouseholdOut.model_validate(households.create_household(session, principal, body.model_dump()))


@router.get("/households/{household_id}", operation_id="registry_get_household", response_model=HouseholdOut)
def get_household(household_id: int, session: SessionDep, principal: PrincipalDep) -> HouseholdOut:
    """One household; its members are `GET /registry/people?household_id=`."""
    return HouseholdOut.model_validate(households.get_household(session, principal, household_id))
