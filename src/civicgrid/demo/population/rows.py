"""Rows of a chunk of grids: the houses, households, people, residence history and tenancies of the
grids, with their text columns, ID numbers, phones and foreigners' documents encrypted, in the column
order of `HOUSE_COLUMNS` … `TENANCY_COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from civicgrid.core.crypto import Keyring
from civicgrid.core.idnumber import Sex, make_id_number
from civicgrid.demo import vocab
from civicgrid.demo.bulk import Row
from civicgrid.demo.population.houses import _house_addresses
from civicgrid.demo.population.identifiers import (
    DOCUMENT_CONTEXT,
    ID_CONTEXT,
    OWNER_ID_CONTEXT,
    PHONE_CONTEXT,
    _encrypted,
    _id_number_of,
)
from civicgrid.demo.population.model import (
    FLOATING,
    FOREIGN,
    PERSON_TYPES,
    REGISTERED,
    RENTED,
    USES,
    B,
    C,
    G,
    H,
    IntArr,
    L,
    P,
    S,
    _City,
)
from civicgrid.demo.population.sampling import _categorical_rows, _dates
from civicgrid.demo.population.texts import _Texts, person_names


@dataclass
class _ChunkOut:
    houses: list[Row]
    households: list[Row]
    people: list[Row]
    residences: list[Row]
    tenancies: list[Row]
    encrypted: int


class _Ids:
    """Ids of a chunk's residence and tenancy rows count on from the ids before the chunk."""

    def __init__(self, residence: int, tenancy: int) -> None:
        self.residence = residence
        self.tenancy = tenancy


def _bounds(sorted_values: IntArr, lo: int, hi: int) -> tuple[int, int]:
    return int(np.searchsorted(sorted_values, lo, side="left")), int(np.searchsorted(sorted_values, hi, side="left"))


def _chunk_rows(
    city: _City,
    grid_range: tuple[int, int],
    keyring: Keyring,
    texts: _Texts,
    ids: _Ids,
    stamp: str,
    rng: np.random.Generator,
) -> _ChunkOut:
    """Rows of the houses, households, people, residences and tenancies of a range of grids."""
    g0, g1 = grid_range
    grids = city.grids
    h0, h1 = _bounds(city.h_grid, g0, g1)
    u_grid = city.h_grid[city.u_house]
    u0, u1 = _bounds(u_grid, g0, g1)
    p0 = int(city.u_start[u0]) if u0 < len(city.u_start) else len(city.p_household)
    p1 = int(city.u_start[u1]) if u1 < len(city.u_start) else len(city.p_household)
    people = np.arange(p0, p1)
    kind = city.p_kind[people]
    sex = city.p_sex[people]
    birth = city.p_birth[people]
    birth_text = _dates(birth)
    has_id = kind != FOREIGN
    # Names, ID numbers, phones.
    names = person_names(city, people, texts)
    foreign_rows = _foreign_texts(city, people, rng)
    for i, values in foreign_rows.items():
        if values["latin"]:
            names[i] = f"{values['surname']} {values['given']}"
    regions = city.regions.code
    region_index = city.p_region[people].tolist()
    sequences = city.p_sequence[people].tolist()
    id_numbers: list[str | None] = [None] * len(people)
    for i in np.flatnonzero(has_id).tolist():
        bd = date.fromordinal(int(birth[i]))
        id_numbers[i] = make_id_number(
            regions[region_index[i]], bd, sequences[i], Sex.male if sex[i] == 1 else Sex.female
        )
    phones = [str(p) if p else None for p in city.p_phone[people].tolist()]
    # Encryption.
    id_columns = _encrypted(keyring, id_numbers, ID_CONTEXT)
    phone_columns = _encrypted(keyring, phones, PHONE_CONTEXT)
    documents: list[str | None] = [None] * len(people)
    for i, values in foreign_rows.items():
        documents[i] = values["document_no"]
    document_columns = _encrypted(keyring, documents, DOCUMENT_CONTEXT)
    encrypted = sum(v is not None for column in (id_numbers, phones, documents) for v in column)
    # Houses.
    street_address, building, unit, room, full_address = _house_addresses(city, h0, h1)
    owners = city.h_owner[h0:h1]
    owner_positions = owners.tolist()
    owner_ids: list[str | None] = []
    owner_names: list[str | None] = []
    for o in owner_positions:
        if o < 0:
            owner_ids.append(None)
            owner_names.append(None)
        elif p0 <= o < p1:
            owner_ids.append(id_numbers[o - p0])
            owner_names.append(names[o - p0])
        else:
            owner_ids.append(_id_number_of(city, o))
            owner_names.append(person_names(city, np.array([o]), texts)[0])
    owner_columns = _encrypted(keyring, owner_ids, OWNER_ID_CONTEXT)
    encrypted += sum(v is not None for v in owner_ids)
    houses: list[Row] = []
    h_grid = city.h_grid[h0:h1].tolist()
    uses = city.h_use[h0:h1].tolist()
    areas = city.h_area[h0:h1].tolist()
    lons = city.h_lon[h0:h1].tolist()
    lats = city.h_lat[h0:h1].tolist()
    for i in range(h1 - h0):
        g = h_grid[i]
        houses.append(
            (
                h0 + i + 1,
                grids.district[g],
                grids.street[g],
                grids.community[g],
                grids.code[g],
                street_address[i],
                building[i],
                unit[i],
                room[i],
                full_address[i],
                USES[uses[i]],
                owner_names[i],
                owner_columns[i][0],
                owner_columns[i][1],
                areas[i],
                lons[i],
                lats[i],
                stamp,
                stamp,
            )
        )
    # Households.
    households: list[Row] = []
    for u in range(u0, u1):
        house = int(city.u_house[u])
        g = int(city.h_grid[house])
        households.append(
            (
                u + 1,
                grids.district[g],
                grids.street[g],
                grids.community[g],
                grids.code[g],
                f"{grids.code[g]}{int(city.u_number[u]):04d}",
                house + 1,
                int(city.u_start[u]) + 1,
                stamp,
                stamp,
            )
        )
    # People.
    hh = city.p_household[people]
    house_of = city.u_house[hh]
    house_local = (house_of - h0).tolist()
    role = city.p_role[people].tolist()
    ethnicity = city.codes("p_ethnicity", people)
    religion = city.codes("p_religion", people)
    education = city.codes("p_education", people)
    marital = city.codes("p_marital", people)
    political = city.codes("p_political", people)
    occupation = city.p_occupation[people].tolist()
    consistent = city.p_consistent[people].tolist()
    u_move_in = city.u_move_in[hh]
    floating = _floating_columns(city, people, u_move_in, rng)
    hukou_other = rng.integers(0, max(h1 - h0, 1), len(people)).tolist()
    relation_codes = _relations(role, sex.tolist())
    p_grid = city.h_grid[house_of].tolist()
    kinds = kind.tolist()
    region_names = city.regions.full_name
    towns = rng.integers(0, len(vocab.TOWNS), len(people)).tolist()
    villages = rng.integers(0, len(vocab.VILLAGES), len(people)).tolist()
    worker = grids.worker[np.array(p_grid, dtype=np.int64)].tolist() if len(people) else []
    house_ids = (house_of + 1).tolist()
    household_ids = (hh + 1).tolist()
    people_rows: list[Row] = []
    for i in range(len(people)):
        g = p_grid[i]
        k = kinds[i]
        current = full_address[house_local[i]]
        if k == REGISTERED:
            hukou = current if consistent[i] else full_address[hukou_other[i]]
            native = regions[region_index[i]]
        elif k == FLOATING:
            hukou = f"{region_names[region_index[i]]}{vocab.TOWNS[towns[i]]}{vocab.VILLAGES[villages[i]]}"
            native = regions[region_index[i]]
        else:
            hukou = None
            native = None
        f = foreign_rows.get(i)
        doc = document_columns[i]
        fl = floating[i]
        occ = occupation[i]
        people_rows.append(
            (
                p0 + i + 1,
                grids.district[g],
                grids.street[g],
                grids.community[g],
                grids.code[g],
                PERSON_TYPES[k],
                names[i],
                None,
                str(sex[i]),
                birth_text[i],
                ethnicity[i] if k != FOREIGN else None,
                native,
                marital[i] or None,
                political[i] or None,
                education[i] or None,
                religion[i] or None,
                texts.occupations[occ] if occ >= 0 else None,
                None,
                hukou,
                current,
                id_columns[i][0],
                id_columns[i][1],
                phone_columns[i][0],
                phone_columns[i][1],
                house_ids[i],
                household_ids[i],
                relation_codes[i],
                (1 if consistent[i] else 0) if k == REGISTERED else None,
                fl[0],
                fl[1],
                fl[2],
                fl[3],
                fl[4],
                f["surname"] if f and f["latin"] else None,
                f["given"] if f and f["latin"] else None,
                f["nationality"] if f else None,
                f["document_type"] if f else None,
                doc[0],
                doc[1],
                f["document_expiry"] if f else None,
                "active",
                None,
                "approved",
                0,
                worker[i] or None,
                stamp,
                stamp,
            )
        )
    # Residence history and tenancies.
    residences: list[Row] = []
    tenancies: list[Row] = []
    from_text = _dates(city.p_from[people])
    previous = city.p_previous[people].tolist()
    previous_from = _dates(city.p_previous_from[people])
    h_use = city.h_use
    born_here = (city.p_from[people] == birth).tolist()
    for i in range(len(people)):
        pid = p0 + i + 1
        house = int(house_of[i])
        if previous[i] >= 0:
            ph = previous[i]
            ids.residence += 1
            residences.append(
                (ids.residence, pid, ph + 1, grids.code[int(city.h_grid[ph])], previous_from[i], from_text[i], "迁出")
            )
            if h_use[ph] == RENTED:
                ids.tenancy += 1
                tenancies.append((ids.tenancy, ph + 1, pid, previous_from[i], from_text[i]))
        ids.residence += 1
        reason = (
            "出生" if born_here[i] and kinds[i] == REGISTERED else ("租房居住" if h_use[house] == RENTED else "迁入")
        )
        residences.append((ids.residence, pid, house + 1, grids.code[p_grid[i]], from_text[i], None, reason))
        if h_use[house] == RENTED:
            ids.tenancy += 1
            tenancies.append((ids.tenancy, house + 1, pid, from_text[i], None))
    return _ChunkOut(houses, households, people_rows, residences, tenancies, encrypted)


def _relations(role: list[int], sex: list[int]) -> list[str]:
    codes = {H: "01", S: "02", P: "50", L: "40", G: "30", B: "70"}
    return [("10" if s == 1 else "20") if r == C else codes[r] for r, s in zip(role, sex, strict=True)]


def _floating_columns(city: _City, people: IntArr, move_in: IntArr, rng: np.random.Generator) -> list[tuple[Any, ...]]:
    """move-in reason, permit type, permit number, permit expiry, residence type per person (None unless floating)."""
    n = len(people)
    kind = city.p_kind[people]
    role = city.p_role[people]
    age = city.age(people)
    reason_codes = np.array(["01", "02", "03", "04", "05", "99"])
    adult = np.array([65, 18, 4, 3, 3, 7], dtype=float)
    spouse = np.array([50, 12, 20, 2, 10, 6], dtype=float)
    child = np.array([0, 0, 75, 22, 0, 3], dtype=float)
    group = np.where(age < 18, 2, np.where((role == S) | (role == L), 1, 0))
    reason = reason_codes[_categorical_rows(rng, np.stack([adult, spouse, child]), group)]
    permit = np.array(["1", "2", "9"])[rng.choice(3, size=n, p=[0.6, 0.08, 0.32])]
    permit = np.where(age < 16, "9", permit)
    issued = move_in + rng.integers(0, 60, n)
    years = np.maximum((city.today.toordinal() - issued) // 365, 0)
    lapsed = rng.random(n) < 0.15
    expiry = issued + np.where(lapsed & (years >= 1), years, years + 1) * 365
    expiry_text = _dates(expiry)
    issued_year = _dates(issued)
    serial = rng.integers(0, 10_000_000, n)
    house = city.u_house[city.p_household[people]]
    residence = np.where(city.h_use[house] == RENTED, "1", "4")
    district = [city.grids.district[g] for g in city.h_grid[house].tolist()]
    out: list[tuple[Any, ...]] = []
    for i in range(n):
        if kind[i] != FLOATING:
            out.append((None, None, None, None, None))
            continue
        has_permit = permit[i] != "9"
        out.append(
            (
                str(reason[i]),
                str(permit[i]),
                f"{district[i]}{issued_year[i][:4]}{int(serial[i]):07d}" if has_permit else None,
                str(expiry_text[i]) if has_permit else None,
                str(residence[i]),
            )
        )
    return out


def _foreign_texts(city: _City, people: IntArr, rng: np.random.Generator) -> dict[int, dict[str, Any]]:
    """Latin names, nationality and travel document of the foreign residents among `people` (by position)."""
    out: dict[int, dict[str, Any]] = {}
    choice = city.p_foreign[people]
    positions = np.flatnonzero(choice >= 0)
    if not len(positions):
        return out
    options = [("F", i) for i in range(len(vocab.FOREIGN))] + [("R", i) for i in range(len(vocab.PERMIT_REGIONS))]
    head_surname: dict[int, str] = {}
    for i in positions.tolist():
        source, index = options[int(choice[i])]
        household = int(city.p_household[people[i]])
        expiry = city.today + timedelta(days=int(rng.integers(180, 3650)))
        if source == "F":
            nationality, _, surnames, given = vocab.FOREIGN[index]
            surname = head_surname.setdefault(household, surnames[int(rng.integers(len(surnames)))])
            out[i] = {
                "latin": True,
                "surname": surname,
                "given": given[int(rng.integers(len(given)))],
                "nationality": nationality,
                "document_type": "P",
                "document_no": f"{'EGMKP'[int(rng.integers(5))]}{int(rng.integers(10_000_000, 99_999_999))}",
                "document_expiry": expiry.isoformat(),
            }
        else:
            nationality, document_type, _ = vocab.PERMIT_REGIONS[index]
            letter = {"HKG": "H", "MAC": "M"}.get(nationality, "")
            number = f"{letter}{int(rng.integers(10_000_000, 99_999_999))}"
            out[i] = {
                "latin": False,
                "surname": None,
                "given": None,
                "nationality": nationality,
                "document_type": document_type,
                "document_no": number,
                "document_expiry": expiry.isoformat(),
            }
    return out


HOUSE_COLUMNS: tuple[str, ...] = (
    "id",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
    "street_address",
    "building",
    "unit",
    "room",
    "address",
    "use",
    "owner_name",
    "owner_id_number_enc",
    "owner_id_number_index",
    "area_m2",
    "lon",
    "lat",
    "created_at",
    "updated_at",
)
HOUSEHOLD_COLUMNS: tuple[str, ...] = (
    "id",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
    "household_no",
    "house_id",
    "head_person_id",
    "created_at",
    "updated_at",
)
PERSON_COLUMNS: tuple[str, ...] = (
    "id",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
    "person_type",
    "name",
    "former_name",
    "sex",
    "birth_date",
    "ethnicity",
    "native_place",
    "marital_status",
    "political_status",
    "education",
    "religion",
    "occupation",
    "employer",
    "hukou_address",
    "current_address",
    "id_number_enc",
    "id_number_index",
    "phone_enc",
    "phone_index",
    "house_id",
    "household_id",
    "relation_to_head",
    "hukou_consistent",
    "move_in_reason",
    "permit_type",
    "permit_no",
    "permit_expiry",
    "residence_type",
    "foreign_surname",
    "foreign_given_name",
    "nationality",
    "document_type",
    "document_no_enc",
    "document_no_index",
    "document_expiry",
    "status",
    "status_changed_on",
    "review_status",
    "key_attention",
    "created_by",
    "created_at",
    "updated_at",
)
RESIDENCE_COLUMNS: tuple[str, ...] = ("id", "person_id", "house_id", "grid_code", "from_date", "to_date", "reason")
TENANCY_COLUMNS: tuple[str, ...] = ("id", "house_id", "person_id", "move_in", "move_out")
