"""The demo city's synthetic population: counts, valid and unique ID numbers, consistent households, houses,
tenancies and residence history, special care with visits, organisations, encryption, determinism.

One small city (scale 0.002: ~2,400 houses, ~6,900 people, every grid of the reference city) is built
once for the module and only read by the tests.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.auth.models import User
from civicgrid.core import clock
from civicgrid.core.crypto import Keyring
from civicgrid.core.db import Database
from civicgrid.core.idnumber import parse_id_number, regions
from civicgrid.demo import population
from civicgrid.demo.accounts import create_demo_accounts
from civicgrid.demo.city import build_city
from civicgrid.demo.population import orchestrate
from civicgrid.demo.population.orchestrate import _chunk_results, _tasks
from civicgrid.demo.population.rows import _chunk_rows, _Ids
from civicgrid.demo.population.texts import _Texts
from civicgrid.geo.models import Division
from civicgrid.org.models import GridAssignment
from civicgrid.registry.care_schemas import ITEMS_BY_GROUP
from civicgrid.registry.models import (
    House,
    Household,
    Organisation,
    Person,
    Place,
    Residence,
    School,
    SpecialCare,
    Tenancy,
    Visit,
)
from tests.conftest import _empty_all_tables

pytestmark = pytest.mark.slow

SCALE = 0.002
SEED = 20261129
TODAY = date(2026, 5, 1)
BENGBU = {"340302", "340303", "340304", "340311", "340321", "340322", "340323"}


@dataclass
class Built:
    db: Database
    keyring: Keyring
    stats: population.PopulationStats


@pytest.fixture(scope="module")
def built(database: Database) -> Built:
    _empty_all_tables(database)
    clock.reset()
    with database.unit_of_work() as session:
        build_city(session, scale=SCALE, seed=SEED)
        create_demo_accounts(session, seed=SEED)
    keyring = Keyring.generate()
    stats = population.build_population(database, scale=SCALE, seed=SEED, keyring=keyring, today=TODAY, workers=0)
    return Built(database, keyring, stats)


@pytest.fixture
def s(built: Built) -> Iterator[Session]:
    """A read session, closed after the test (an open transaction would block the next test's TRUNCATE)."""
    with built.db.sessions() as session:
        yield session
        session.rollback()


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_counts_follow_the_city(built: Built, s: Session) -> None:
    grids = s.execute(
        select(Division.code, Division.community_code, Division.households, Division.population).where(
            Division.level == "grid"
        )
    ).all()
    assert _count(s, House) == sum(g.households for g in grids) == built.stats.counts["houses"]
    assert _count(s, Person) == sum(g.population for g in grids) == built.stats.counts["people"]
    # Every grid has its houses; every community its residents (a small scale pools a community's grids).
    houses = dict(s.execute(select(House.grid_code, func.count()).group_by(House.grid_code)).all())
    assert all(houses.get(g.code, 0) == g.households for g in grids)
    people = dict(s.execute(select(Person.community_code, func.count()).group_by(Person.community_code)).all())
    expected: Counter[str] = Counter()
    for g in grids:
        expected[g.community_code] += g.population
    assert people == {c: n for c, n in expected.items() if n}
    for model, name in (
        (Household, "households"),
        (Residence, "residences"),
        (Tenancy, "tenancies"),
        (Organisation, "organisations"),
        (Place, "places"),
        (School, "schools"),
        (SpecialCare, "special_care"),
        (Visit, "visits"),
    ):
        assert _count(s, model) == built.stats.counts[name], name
    assert _count(s, Organisation) == round(43_000 * SCALE)
    assert _count(s, Place) == round(8_000 * SCALE)
    assert _count(s, School) == round(1_200 * SCALE)
    types = dict(s.execute(select(Person.person_type, func.count()).group_by(Person.person_type)).all())
    total = sum(types.values())
    assert 0.78 < types["registered"] / total < 0.9
    assert 0.1 < types["floating"] / total < 0.18
    assert 0 < types.get("foreign", 0) / total < 0.01
    uses = dict(s.execute(select(House.use, func.count()).group_by(House.use)).all())
    assert set(uses) == {"self", "rented", "vacant", "business"}
    assert uses["self"] > uses["rented"] > uses["vacant"] > uses["business"]


def test_every_id_number_parses_agrees_with_the_person_and_is_unique(built: Built, s: Session) -> None:
    rows = s.execute(
        select(
            Person.person_type,
            Person.birth_date,
            Person.sex,
            Person.native_place,
            Person.id_number_enc,
            Person.id_number_index,
            Person.nationality,
            Person.document_type,
            Person.document_no_enc,
        )
    ).all()
    known = regions()
    numbers = []
    for row in rows:
        if row.person_type == "foreign":
            assert row.id_number_enc is None and row.id_number_index is None
            assert row.document_type in {"P", "H", "T"} and row.document_no_enc is not None
            assert row.nationality is not None and len(row.nationality) == 3
            continue
        number = built.keyring.decrypt(row.id_number_enc, context=population.ID_CONTEXT)
        parsed = parse_id_number(number, today=TODAY)
        assert parsed.region_code in known
        assert parsed.birth_date == row.birth_date
        assert parsed.sex.value == row.sex
        assert parsed.region_code == row.native_place
        if row.person_type == "registered":
            assert parsed.region_code in BENGBU
        else:
            assert not parsed.region_code.startswith("3403")
        assert row.id_number_index == built.keyring.blind_index(number, context=population.ID_CONTEXT)
        numbers.append(number)
    assert len(numbers) == len(set(numbers))
    indexed = s.scalar(select(func.count(func.distinct(Person.id_number_index))))
    assert indexed == len(numbers)


def test_people_live_in_their_house_and_grid(s: Session) -> None:
    mismatched = s.scalar(
        select(func.count())
        .select_from(Person)
        .join(House, House.id == Person.house_id)
        .where(
            (Person.grid_code != House.grid_code)
            | (Person.community_code != House.community_code)
            | (Person.street_code != House.street_code)
            | (Person.district_code != House.district_code)
        )
    )
    assert mismatched == 0
    assert s.scalar(select(func.count()).select_from(Person).where(Person.house_id.is_(None))) == 0
    in_other_house = s.scalar(
        select(func.count())
        .select_from(Person)
        .join(Household, Household.id == Person.household_id)
        .where(Household.house_id != Person.house_id)
    )
    assert in_other_house == 0
    # Nobody lives in a vacant house or a shop.
    uses = set(s.scalars(select(House.use).join(Person, Person.house_id == House.id).distinct()))
    assert uses <= {"self", "rented"}
    # Every grid worker exists and has a grid.
    grid_codes = set(s.scalars(select(Division.code).where(Division.level == "grid")))
    assert set(s.scalars(select(Person.grid_code).distinct())) <= grid_codes


def test_households_have_one_head_and_plausible_members(s: Session) -> None:
    heads = s.execute(
        select(Household.id, Person.id, Person.relation_to_head, Person.household_id, Person.birth_date).join(
            Person, Person.id == Household.head_person_id
        )
    ).all()
    assert len(heads) == s.scalar(select(func.count()).select_from(Household))
    assert all(rel == "01" and hh == household for household, _, rel, hh, _ in heads)
    per_household = Counter(s.scalars(select(Person.household_id).where(Person.relation_to_head == "01")))
    assert set(per_household.values()) == {1}
    ages = {household: (TODAY - born).days / 365.25 for household, _, _, _, born in heads}
    assert all(age >= 18 for age in ages.values())
    # Spouses of similar age and the other sex; children younger than the head.
    members = s.execute(
        select(Person.household_id, Person.relation_to_head, Person.sex, Person.birth_date, Person.name)
    ).all()
    by_household: dict[int, list[tuple[str, str, date, str]]] = defaultdict(list)
    for household, rel, sex, born, name in members:
        by_household[household].append((rel, sex, born, name))
    head_of = {household: next(m for m in ms if m[0] == "01") for household, ms in by_household.items()}
    gaps = []
    same_surname = total_children = 0
    for household, ms in by_household.items():
        head = head_of[household]
        for rel, sex, born, name in ms:
            if rel == "02":
                assert sex != head[1]
                gaps.append(abs((born - head[2]).days) / 365.25)
            if rel in {"10", "20"}:
                assert born > head[2]
                father = head if head[1] == "1" else next((m for m in ms if m[0] == "02"), head)
                total_children += 1
                same_surname += name[0] == father[3][0]
    assert np.median(gaps) < 5
    assert same_surname / total_children > 0.8
    sizes = Counter(by_household[h].__len__() for h in by_household)
    mean = sum(k * v for k, v in sizes.items()) / sum(sizes.values())
    assert 2.5 < mean < 3.1
    assert max(sizes) >= 5 and sizes[1] > 0


def test_tenants_live_in_rented_houses_and_history_is_consistent(s: Session) -> None:
    floating_not_renting = s.scalar(
        select(func.count())
        .select_from(Person)
        .join(House, House.id == Person.house_id)
        .where(Person.person_type == "floating", Person.residence_type == "1", House.use != "rented")
    )
    assert floating_not_renting == 0
    open_tenancies = s.execute(
        select(Tenancy.person_id, Tenancy.house_id, House.use, Person.house_id)
        .join(House, House.id == Tenancy.house_id)
        .join(Person, Person.id == Tenancy.person_id)
        .where(Tenancy.move_out.is_(None))
    ).all()
    assert open_tenancies
    assert all(use == "rented" and house == current for _, house, use, current in open_tenancies)
    renters = set(s.scalars(select(Person.id).join(House, House.id == Person.house_id).where(House.use == "rented")))
    assert {person for person, _, _, _ in open_tenancies} == renters
    closed = s.execute(select(Tenancy.move_in, Tenancy.move_out).where(Tenancy.move_out.is_not(None))).all()
    assert closed and all(move_in <= move_out for move_in, move_out in closed)
    # One open residence per person, in the current house; previous ones closed and earlier.
    residences = s.execute(
        select(Residence.person_id, Residence.house_id, Residence.from_date, Residence.to_date, Person.house_id).join(
            Person, Person.id == Residence.person_id
        )
    ).all()
    current = Counter(person for person, _, _, to_date, _ in residences if to_date is None)
    assert set(current.values()) == {1} and len(current) == s.scalar(select(func.count()).select_from(Person))
    assert all(house == home for _, house, _, to_date, home in residences if to_date is None)
    previous = [r for r in residences if r.to_date is not None]
    assert 0.05 < len(previous) / len(current) < 0.15
    assert all(r.from_date <= r.to_date for r in previous)


def test_owner_of_an_owner_occupied_house_lives_there(built: Built, s: Session) -> None:
    houses = s.execute(
        select(House.id, House.owner_name, House.owner_id_number_enc, House.owner_id_number_index).where(
            House.use == "self"
        )
    ).all()
    residents: dict[int, list[tuple[str, bytes | None]]] = defaultdict(list)
    for house, name, token in s.execute(select(Person.house_id, Person.name, Person.id_number_enc)):
        residents[house].append((name, token))
    for house, owner, token, index in houses[:200]:
        number = built.keyring.decrypt(token, context=population.OWNER_ID_CONTEXT)
        assert index == built.keyring.blind_index(number, context=population.OWNER_ID_CONTEXT)
        living = {(name, built.keyring.decrypt(t, context=population.ID_CONTEXT)) for name, t in residents[house] if t}
        assert (owner, number) in living
    assert s.scalar(select(func.count()).select_from(House).where(House.owner_id_number_enc.is_(None))) == 0


def test_decryption_round_trip_of_phones_and_documents(built: Built, s: Session) -> None:
    rows = s.execute(
        select(Person.birth_date, Person.phone_enc, Person.phone_index).where(Person.phone_enc.is_not(None)).limit(500)
    ).all()
    assert len(rows) == 500
    for _, token, index in rows:
        phone = built.keyring.decrypt(token, context=population.PHONE_CONTEXT)
        assert len(phone) == 11 and phone.startswith("1") and phone.isdigit()
        assert index == built.keyring.blind_index(phone, context=population.PHONE_CONTEXT)
    adults = s.execute(select(Person.birth_date, Person.phone_enc)).all()
    grown = [token for born, token in adults if (TODAY - born).days > 25 * 365]
    assert sum(t is not None for t in grown) / len(grown) > 0.8
    children = [token for born, token in adults if (TODAY - born).days < 10 * 365]
    assert all(t is None for t in children)
    phones = s.scalar(select(func.count(func.distinct(Person.phone_index))))
    assert phones == s.scalar(select(func.count(Person.phone_index)))
    for token, index in s.execute(
        select(Person.document_no_enc, Person.document_no_index).where(Person.document_no_enc.is_not(None))
    ):
        document = built.keyring.decrypt(token, context=population.DOCUMENT_CONTEXT)
        assert index == built.keyring.blind_index(document, context=population.DOCUMENT_CONTEXT)


def test_houses_have_addresses_inside_their_grid(s: Session) -> None:
    grids = {
        code: (shapely.from_wkb(blob), urban, name)
        for code, blob, urban, name in s.execute(
            select(Division.code, Division.geometry, Division.is_urban, Division.name).where(Division.level == "grid")
        )
    }
    rows = s.execute(select(House.grid_code, House.lon, House.lat, House.address, House.building, House.room)).all()
    for grid, lon, lat, address, building, room in rows:
        polygon, urban, _ = grids[grid]
        assert polygon.covers(shapely.Point(lon, lat))
        assert address.startswith("蚌埠市")
        if urban:
            assert building and room and address.endswith("室")
        else:
            assert building is None and "组" in address


def test_special_care_records_link_people_workers_and_visits(built: Built, s: Session) -> None:
    cares = s.execute(
        select(SpecialCare, Person.birth_date, Person.grid_code).join(Person, Person.id == SpecialCare.person_id)
    ).all()
    assert len(cares) == built.stats.counts["special_care"] > 0
    workers = dict(
        s.execute(
            select(GridAssignment.division_code, GridAssignment.user_id).where(GridAssignment.duty == "grid_worker")
        ).all()
    )
    users = set(s.scalars(select(User.id)))
    groups = Counter()
    for care, born, grid in cares:
        groups[care.care_group] += 1
        assert care.grid_code == grid
        assert care.responsible_user_id == workers[grid] and care.responsible_user_id in users
        ITEMS_BY_GROUP[care.care_group].model_validate(care.details)
        age = (TODAY - born).days / 365.25
        assert (care.risk_level is not None) == (care.care_group == "mental_disorder")
        if care.care_group == "key_youth":
            assert 12 <= age < 26
        else:
            assert age >= 18
        assert care.next_visit_due == care.last_visit_on + timedelta(days=care.visit_interval_days)
        assert care.attention_level in {"high", "medium", "low"}
    assert groups["mental_disorder"] == max(groups.values())
    overdue = [care for care, _, _ in cares if care.next_visit_due < TODAY]
    assert 0 < len(overdue) < len(cares) / 3
    visits = s.execute(select(Visit.special_care_id, Visit.visited_on, Visit.worker_user_id, Visit.form)).all()
    by_care: dict[int, list[date]] = defaultdict(list)
    for care_id, visited, worker, form in visits:
        by_care[care_id].append(visited)
        assert TODAY - timedelta(days=366) < visited <= TODAY
        assert form in {"home", "phone", "video", "office"}
        assert worker in users
    for care, _, _ in cares:
        assert max(by_care[care.id]) == care.last_visit_on


def test_organisations_have_valid_unique_credit_codes(s: Session) -> None:
    assert population.credit_code_valid("91110000600037341L")  # python-stdnum's example
    assert not population.credit_code_valid("91110000600037341M")
    codes = list(s.scalars(select(Organisation.credit_code)))
    assert codes and len(codes) == len(set(codes))
    assert all(code is not None and population.credit_code_valid(code) for code in codes)
    kinds = dict(s.execute(select(Organisation.kind, func.count()).group_by(Organisation.kind)).all())
    assert kinds["economic"] > 10 * kinds["social"]
    types = set(s.scalars(select(Organisation.org_type).distinct()))
    assert "individual" in types and "company" in types


def test_determinism_same_seed_same_people(built: Built, s: Session) -> None:
    with built.db.engine.connect() as connection:
        first = population.generate(connection, seed=SEED, today=TODAY)
        again = population.generate(connection, seed=SEED, today=TODAY)
        other = population.generate(connection, seed=SEED + 1, today=TODAY)
    for name in ("h_use", "u_size", "p_birth", "p_sex", "p_surname", "p_given", "p_sequence", "p_phone"):
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
    assert not np.array_equal(first.p_birth, other.p_birth)
    assert len(first.p_kind) == built.stats.counts["people"]
    # The stored first rows are the regenerated ones.
    texts = _Texts.make()
    task = _tasks(first, population.CHUNK_PEOPLE)[0]
    rows = _chunk_rows(first, task.grids, built.keyring, texts, _Ids(0, 0), "", np.random.default_rng([SEED, 2, 0]))
    stored = s.execute(
        select(Person.name, Person.birth_date, Person.sex, Person.id_number_index, Person.current_address)
        .order_by(Person.id)
        .limit(50)
    ).all()
    columns = population.PERSON_COLUMNS
    regenerated = [
        (
            r[columns.index("name")],
            r[columns.index("birth_date")],
            r[columns.index("sex")],
            r[columns.index("id_number_index")],
            r[columns.index("current_address")],
        )
        for r in rows.people[:50]
    ]
    assert [(a, b.isoformat(), c, d, e) for a, b, c, d, e in stored] == regenerated


def test_refuses_to_build_over_a_population(built: Built) -> None:
    with pytest.raises(population.PopulationExists):
        population.build_population(built.db, scale=SCALE, seed=SEED, keyring=built.keyring, today=TODAY, workers=0)
    with built.db.sessions() as session:
        assert _count(session, Person) == built.stats.counts["people"]


def test_forked_workers_build_the_rows_this_process_would(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    if not population.can_fork():
        pytest.skip("no fork on this platform")
    with built.db.engine.connect() as connection:
        city = population.generate(connection, seed=SEED, today=TODAY)
    monkeypatch.setattr(orchestrate, "_inherited", (city, built.keyring, _Texts.make(), "", SEED))
    tasks = _tasks(city, 2_000)[:3]
    with _chunk_results(tasks, 0) as results:
        here = list(results)
    with _chunk_results(tasks, 1) as results:
        forked = list(results)
    tokens = {population.PERSON_COLUMNS.index(c) for c in ("id_number_enc", "phone_enc", "document_no_enc")}

    def plain(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
        return [tuple(v for i, v in enumerate(row) if i not in tokens) for row in rows]

    for a, b in zip(here, forked, strict=True):
        assert plain(a.people) == plain(b.people)
        assert a.residences == b.residences and a.tenancies == b.tenancies


def test_coded_values_are_codes_of_their_tables(s: Session) -> None:
    from civicgrid.registry.codes import default_entries

    tables: dict[str, set[str]] = defaultdict(set)
    for entry in default_entries():
        tables[entry["table"]].add(entry["code"])
    columns = [
        (Person.sex, "sex"),
        (Person.ethnicity, "ethnicity"),
        (Person.marital_status, "marital_status"),
        (Person.political_status, "political_status"),
        (Person.education, "education"),
        (Person.religion, "religion"),
        (Person.relation_to_head, "relation"),
        (Person.person_type, "person_type"),
        (Person.move_in_reason, "move_in_reason"),
        (Person.permit_type, "permit_type"),
        (Person.residence_type, "residence_type"),
        (Person.document_type, "document_type"),
        (House.use, "house_use"),
        (Organisation.org_type, "org_type"),
        (Organisation.attention_level, "attention_level"),
        (Organisation.risk_level, "risk_level"),
        (Place.place_type, "place_type"),
        (Place.attention_level, "attention_level"),
        (School.school_type, "school_type"),
        (SpecialCare.care_group, "care_group"),
        (SpecialCare.attention_level, "attention_level"),
        (Visit.form, "visit_form"),
    ]
    for column, table in columns:
        values = {v for v in s.scalars(select(column).distinct()) if v is not None}
        assert values and values <= tables[table], (column, values - tables[table])
    assert set(s.scalars(select(Person.native_place).distinct())) - {None} <= set(regions())
