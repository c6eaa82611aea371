"""The synthetic population of the demo city: houses, households, people, residence history, tenancies,
organisations, places, schools and special-care records with their visits.

`build_population(database, scale=…, seed=…, keyring=…)` runs after `build_city` and
`create_demo_accounts` have been committed. It fills each grid with its `households` houses and its
`population` residents (both already follow the urban/rural density of the city) and writes everything
in one transaction with the database's bulk path (`demo.bulk`).

How it is made (bench/bench_population.py measures it):

1. Demographics of the whole city as numpy arrays, vectorised: house use and address parts per house,
   households placed in the occupied houses, household sizes (every household gets one person, the rest
   of the grid's residents go to households in proportion to a gamma-distributed weight, which gives the
   census's spread of sizes around a mean of ≈2.8), a household template per size (couple, couple with
   children, three generations, grandparents with left-behind grandchildren, …) that fixes each member's
   relation to the head, ages relative to the head's, sexes, surnames (children take the father's), given
   names after the fashion of their birth years, ethnicity, religion, education, marital and political
   status consistent with age, and the sequence digits of every ID number (unique per region, birth date
   and sex across the city).
2. Then chunk by chunk of grids (~40,000 people): text columns, ID numbers (`core.idnumber.make_id_number`),
   phone numbers, encryption and blind indexes (`core.crypto.Keyring`), rows, bulk write — so memory stays
   flat whatever the scale (the columns of step 1 are ~80 bytes a person).
3. Organisations, places, schools, special-care records and visits.

Deterministic for a seed (and a reference date): the same seed gives the same people, except the
ciphertexts, whose nonces are random by design (the blind indexes are the same).
"""

from __future__ import annotations

import itertools
import multiprocessing
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import shapely
from rich.progress import Progress as RichProgress
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Table, func, select

from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import Keyring
from civicgrid.core.db import Database
from civicgrid.core.idnumber import Sex, make_id_number, regions
from civicgrid.demo import vocab
from civicgrid.demo.bulk import BulkLoader, Row
from civicgrid.demo.city import Progress, _reporter, short_name
from civicgrid.geo.models import Division
from civicgrid.org.models import GridAssignment
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

Arr = npt.NDArray[Any]
IntArr = npt.NDArray[np.int64]

ID_CONTEXT = "person.id_number"
PHONE_CONTEXT = "person.phone"
DOCUMENT_CONTEXT = "person.document_no"
OWNER_ID_CONTEXT = "house.owner_id_number"
LEGAL_REP_PHONE_CONTEXT = "organisation.legal_rep_phone"
SECURITY_PHONE_CONTEXT = "organisation.security_officer_phone"
PLACE_PHONE_CONTEXT = "place.phone"

# Reference figures at scale 1 (DESIGN.md, top).
ECONOMIC_ORGANISATIONS = 40_000
SOCIAL_ORGANISATIONS = 3_000
PLACES = 8_000
SCHOOLS = 1_200
# Special-care prevalence per 10,000 residents.
CARE_PREVALENCE: dict[str, float] = {
    "mental_disorder": 40,
    "released_prisoner": 15,
    "community_correction": 8,
    "drug_user": 10,
    "hiv_aids": 2,
    "key_youth": 20,
}
CHUNK_PEOPLE = 40_000
TZ = ZoneInfo("Asia/Shanghai")

# House use: self 自住, rented 出租, vacant 闲置, business 经营.
USES = ("self", "rented", "vacant", "business")
SELF, RENTED, VACANT, BUSINESS = range(4)
USE_SHARES = {True: (0.695, 0.205, 0.07, 0.03), False: (0.84, 0.06, 0.07, 0.03)}  # urban, rural
# Person kinds.
REGISTERED, FLOATING, FOREIGN = range(3)
PERSON_TYPES = ("registered", "floating", "foreign")

# Roles in a household and their relation codes (code table `relation`).
H, S, C, P, L, G, B = range(7)
ROLE_LETTERS = "HSCPLGB"
# Kinds of head: the age band of the head follows from what the household looks like.
SINGLE, COUPLE, FAMILY, PARENT1, WITH_PARENT, YOUNG, OLD = range(7)
# roles, kind of head, weight in towns, weight in villages
TEMPLATES: tuple[tuple[str, int, float, float], ...] = (
    ("H", SINGLE, 1, 1),
    ("HS", COUPLE, 62, 58),
    ("HC", PARENT1, 15, 10),
    ("HP", WITH_PARENT, 10, 8),
    ("HB", YOUNG, 8, 4),
    ("HG", OLD, 5, 20),
    ("HSC", FAMILY, 78, 56),
    ("HSP", WITH_PARENT, 8, 8),
    ("HCC", PARENT1, 4, 4),
    ("HSG", OLD, 4, 24),
    ("HCL", OLD, 6, 8),
    ("HSCC", FAMILY, 45, 33),
    ("HSCP", FAMILY, 30, 20),
    ("HSGG", OLD, 8, 27),
    ("HSCL", OLD, 17, 20),
    ("HSCCP", FAMILY, 35, 25),
    ("HSCPP", FAMILY, 25, 20),
    ("HSCLG", OLD, 40, 55),
    ("HSCCPP", FAMILY, 30, 20),
    ("HSCCCP", FAMILY, 20, 25),
    ("HSCLGG", OLD, 50, 55),
    ("HSCLGGG", OLD, 1, 1),
)
MAX_TEMPLATE = max(len(t[0]) for t in TEMPLATES)
# Share of heads that are men, by kind of head.
MALE_HEAD = (0.5, 0.85, 0.85, 0.3, 0.8, 0.55, 0.8)

# Region codes of ID numbers for people registered in each district (development zones issue none).
DISTRICT_ID_REGION = {"340371": "340304", "340372": "340302"}
BENGBU_ID_REGIONS = ("340302", "340303", "340304", "340311", "340321", "340322", "340323")
# Where the floating population comes from: province prefix → weight; prefixes of Anhui cities near Bengbu
# weigh more.
FLOATING_ORIGINS: dict[str, float] = {
    "3413": 14,
    "3412": 12,
    "3404": 9,
    "3411": 8,
    "3416": 8,
    "3401": 5,
    "3415": 3,
    "3406": 3,
    "3408": 2,
    "3402": 2,
    "3405": 1,
    "3407": 1,
    "3410": 1,
    "3417": 1,
    "3418": 1,
    "32": 12,
    "41": 12,
    "37": 7,
    "33": 4,
    "42": 2,
    "36": 2,
    "35": 1,
    "44": 1,
    "51": 1,
}

SCHOOL_SHARES = {"kindergarten": 0.46, "primary": 0.3, "junior": 0.12, "senior": 0.05, "vocational": 0.03}
SCHOOL_SIZES = {  # students (low, high), students per staff member
    "kindergarten": ((60, 400), 9),
    "primary": ((300, 2500), 17),
    "junior": ((500, 2500), 13),
    "senior": ((1000, 3500), 12),
    "vocational": ((800, 4000), 15),
    "university": ((5000, 20000), 16),
}
PLACE_SHARES = {
    "catering": 0.34,
    "entertainment": 0.1,
    "hotel": 0.12,
    "education": 0.1,
    "finance": 0.08,
    "hospital": 0.13,
    "hazardous": 0.04,
    "religious": 0.03,
    "scenic": 0.02,
    "transport": 0.04,
}
ATTENTION_INTERVAL = {"high": 14, "medium": 30, "low": 90}  # days between visits
VISIT_FORMS = (("home", 0.6), ("phone", 0.25), ("video", 0.05), ("office", 0.1))
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)])
ORG_CODE_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])


@dataclass
class PopulationStats:
    scale: float
    seed: int
    counts: dict[str, int]
    people_by_type: dict[str, int]
    house_uses: dict[str, int]
    encrypted_values: int
    timings: dict[str, float] = field(default_factory=dict)


class PopulationExists(RuntimeError):
    """The registry already holds people or houses; the demo population goes into an empty registry."""


# -- small vectorised helpers --------------------------------------------------------------------------


def _weights(pairs: Sequence[tuple[Any, float]]) -> tuple[list[Any], Arr]:
    labels = [label for label, _ in pairs]
    weights = np.array([w for _, w in pairs], dtype=float)
    return labels, weights / weights.sum()


def _pick(rng: np.random.Generator, pairs: Sequence[tuple[Any, float]], size: int) -> Arr:
    """Indices into `pairs`, drawn by weight."""
    _, p = _weights(pairs)
    return rng.choice(len(p), size=size, p=p)


def _categorical_rows(rng: np.random.Generator, table: Arr, rows: IntArr) -> IntArr:
    """For each item, a category drawn from the probabilities of its row of `table` (rows sum to 1)."""
    cumulative = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    cumulative[:, -1] = 1.0 + 1e-9
    k = table.shape[1]
    flat = (cumulative + np.arange(table.shape[0])[:, None] * 2.0).ravel()
    found = np.searchsorted(flat, rows * 2.0 + rng.random(len(rows)), side="right")
    result: IntArr = np.minimum(found - rows * k, k - 1).astype(np.int64)
    return result


def _allocate(rng: np.random.Generator, groups: IntArr, weights: Arr, extra: IntArr) -> IntArr:
    """Distribute extra[g] units among the items of each group g (items sorted by group) by weight."""
    counts = np.zeros(len(groups), dtype=np.int64)
    total = int(extra.sum())
    if total == 0:
        return counts
    cw = np.cumsum(weights)
    n_groups = len(extra)
    first = np.searchsorted(groups, np.arange(n_groups), side="left")
    last = np.searchsorted(groups, np.arange(n_groups), side="right")
    lo = np.where(first > 0, cw[np.maximum(first - 1, 0)], 0.0)
    hi = cw[np.maximum(last - 1, 0)]
    which = np.repeat(np.arange(n_groups), extra)
    u = lo[which] + rng.random(total) * (hi - lo)[which]
    items = np.searchsorted(cw, u, side="right")
    items = np.clip(items, first[which], last[which] - 1)
    np.add.at(counts, items, 1)
    return counts


def _rank_within(keys: IntArr, rng: np.random.Generator) -> IntArr:
    """0, 1, 2, … within each group of equal keys, in a random order inside the group."""
    order = np.lexsort((rng.random(len(keys)), keys))
    sorted_keys = keys[order]
    starts = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    start_pos = np.maximum.accumulate(np.where(starts, np.arange(len(keys)), 0))
    ranks = np.empty(len(keys), dtype=np.int64)
    ranks[order] = np.arange(len(keys)) - start_pos
    return ranks


def _dates(ordinals: IntArr) -> Arr:
    """Proleptic ordinals → 'YYYY-MM-DD' strings."""
    epoch = date(1970, 1, 1).toordinal()
    return np.datetime_as_string((ordinals - epoch).astype("datetime64[D]"), unit="D")


def points_in_polygon(geometry: BaseGeometry, n: int, rng: np.random.Generator) -> tuple[Arr, Arr]:
    """n points inside a polygon: rejection sampling in its bounding box with `shapely.contains_xy`."""
    xs: list[Arr] = []
    ys: list[Arr] = []
    have = 0
    min_x, min_y, max_x, max_y = geometry.bounds
    shapely.prepare(geometry)
    ratio = max(geometry.area / max((max_x - min_x) * (max_y - min_y), 1e-18), 0.05)
    attempts = 0
    while have < n and attempts < 50:
        m = int((n - have) / ratio * 1.2) + 8
        x = rng.uniform(min_x, max_x, m)
        y = rng.uniform(min_y, max_y, m)
        inside = shapely.contains_xy(geometry, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
        attempts += 1
    if have < n:  # pragma: no cover - slivers: fall back to a point on the surface
        point = geometry.representative_point()
        xs.append(np.full(n - have, point.x))
        ys.append(np.full(n - have, point.y))
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def credit_codes(authority: Arr, kind: Arr, region: Arr, serial: IntArr) -> list[str]:
    """Unified social credit codes (GB 32100-2015): authority, kind, 6-digit region, a 9-character
    organisation code (8 digits + the GB 11714 check character) and the check character over all 17."""
    body = np.array([[int(c) for c in f"{s:08d}"] for s in serial.tolist()], dtype=np.int64).reshape(-1, 8)
    check9 = (11 - (body * ORG_CODE_WEIGHTS).sum(axis=1) % 11) % 11
    org_check = np.where(check9 == 10, "X", check9.astype(str))
    first17 = [
        f"{a}{k}{r}{''.join(map(str, b))}{c}"
        for a, k, r, b, c in zip(
            authority.tolist(), kind.tolist(), region.tolist(), body.tolist(), org_check.tolist(), strict=True
        )
    ]
    values = np.array([[CREDIT_CHARS.index(ch) for ch in code] for code in first17], dtype=np.int64).reshape(-1, 17)
    check = (31 - (values * CREDIT_WEIGHTS).sum(axis=1) % 31) % 31
    return [code + CREDIT_CHARS[c] for code, c in zip(first17, check.tolist(), strict=True)]


def credit_code_valid(code: str) -> bool:
    """The check characters of a unified social credit code (both its own and the organisation code's)."""
    if len(code) != 18 or any(ch not in CREDIT_CHARS for ch in code):
        return False
    values = [CREDIT_CHARS.index(ch) for ch in code]
    if (
        CREDIT_CHARS[(31 - sum(v * int(w) for v, w in zip(values[:17], CREDIT_WEIGHTS, strict=True)) % 31) % 31]
        != code[17]
    ):
        return False
    org = code[8:17]
    if not org[:8].isdigit():
        return True
    c9 = (11 - sum(int(ch) * int(w) for ch, w in zip(org[:8], ORG_CODE_WEIGHTS, strict=True)) % 11) % 11
    return org[8] == ("X" if c9 == 10 else str(c9))


# -- inputs ----------------------------------------------------------------------------------------------


@dataclass
class _Grids:
    code: list[str]
    district: list[str]
    street: list[str]
    community: list[str]
    households: IntArr
    population: IntArr
    urban: Arr
    geometry: list[BaseGeometry]
    prefix: list[str]  # 蚌埠市 + district + street + community (the start of every address)
    place: list[str]  # the community's short name (勤俭里社区, 张庄村)
    district_name: list[str]
    worker: IntArr  # the grid worker's user id, 0 when none

    def __len__(self) -> int:
        return len(self.code)


def _load_grids(connection: Connection) -> _Grids:
    names = dict(connection.execute(select(Division.code, Division.name).where(Division.level != "grid")).all())
    rows = connection.execute(
        select(
            Division.code,
            Division.district_code,
            Division.street_code,
            Division.community_code,
            Division.households,
            Division.population,
            Division.is_urban,
            Division.geometry,
        )
        .where(Division.level == "grid")
        .order_by(Division.code)
    ).all()
    workers = dict(
        connection.execute(
            select(GridAssignment.division_code, func.min(GridAssignment.user_id))
            .where(GridAssignment.duty == "grid_worker")
            .group_by(GridAssignment.division_code)
        ).all()
    )
    city = "蚌埠市"
    names = {code: name.removeprefix(city) if code != "340300" else name for code, name in names.items()}
    return _Grids(
        code=[r.code for r in rows],
        district=[r.district_code for r in rows],
        street=[r.street_code for r in rows],
        community=[r.community_code for r in rows],
        households=np.array([r.households or 0 for r in rows], dtype=np.int64),
        population=np.array([r.population or 0 for r in rows], dtype=np.int64),
        urban=np.array([bool(r.is_urban) for r in rows]),
        geometry=[shapely.from_wkb(r.geometry) for r in rows],
        prefix=[
            city
            + names.get(r.district_code, "")
            + names.get(r.street_code, "")
            + short_name(names.get(r.community_code, ""))
            for r in rows
        ],
        place=[short_name(names.get(r.community_code, "")) for r in rows],
        district_name=[names.get(r.district_code, "") for r in rows],
        worker=np.array([workers.get(r.code) or 0 for r in rows], dtype=np.int64),
    )


@dataclass
class _Regions:
    code: list[str]
    full_name: list[str]
    origin_weights: Arr  # probability of being a floating resident's origin


def _regions() -> _Regions:
    """County-level codes that ID numbers may carry: Bengbu's and those of the provinces migrants come from."""
    table = regions()
    provinces = tuple({prefix[:2] for prefix in FLOATING_ORIGINS})
    counties = {
        r.code
        for r in table.values()
        if r.level == "county" and r.code.startswith(provinces) and int(r.code[4:]) < 70 and "市辖区" not in r.name
    }
    codes = sorted(counties | set(BENGBU_ID_REGIONS))
    weights = np.zeros(len(codes))
    for prefix, weight in FLOATING_ORIGINS.items():
        members = [i for i, c in enumerate(codes) if c.startswith(prefix) and not c.startswith("3403")]
        weights[members] += weight / len(members)
    names = []
    for code in codes:
        province = table.get(code[:2] + "0000")
        city = table.get(code[:4] + "00")
        names.append((province.name if province else "") + (city.name if city else "") + table[code].name)
    return _Regions(codes, names, weights / weights.sum())


# -- the model: every house, household and person of the city as arrays -----------------------------------


_I32, _I16, _I8 = np.int32, np.int16, np.int8
_COLUMN_TYPES: dict[str, Any] = {
    **dict.fromkeys(
        ("h_grid", "h_owner", "u_house", "u_start", "u_move_in", "u_number", "p_household", "p_birth"), _I32
    ),
    **dict.fromkeys(("p_region", "p_previous", "p_previous_from", "p_from", "p_foreign", "p_grid", "p_surname"), _I32),
    **dict.fromkeys(("h_a", "h_b", "h_c", "u_size", "p_sequence", "p_occupation", "p_given"), _I16),
    **dict.fromkeys(("h_use", "u_kind", "p_role", "p_sex", "p_kind"), _I8),
}


@dataclass
class _City:
    """Columns of the whole population (numbers only; text is made chunk by chunk)."""

    grids: _Grids
    regions: _Regions
    today: date
    # houses
    h_grid: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    h_use: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    h_area: Arr = field(default_factory=lambda: np.zeros(0))
    h_lon: Arr = field(default_factory=lambda: np.zeros(0))
    h_lat: Arr = field(default_factory=lambda: np.zeros(0))
    h_a: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # building / 组
    h_b: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # unit / house number
    h_c: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # room (urban)
    g_road: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    g_road_no: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    g_estate: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    h_owner: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # person index
    # households
    u_house: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    u_kind: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    u_size: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    u_start: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # first person
    u_move_in: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # ordinal
    u_number: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # within the grid
    # persons
    p_household: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    p_role: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    p_sex: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # 1 male, 2 female
    p_birth: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # ordinal
    p_kind: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    p_surname: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    p_given: IntArr = field(default_factory=lambda: np.zeros((0, 3), np.int64))  # pool, first, second (-1: one char)
    p_region: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    p_ethnicity: Arr = field(default_factory=lambda: np.zeros(0, "U2"))
    p_religion: Arr = field(default_factory=lambda: np.zeros(0, "U2"))
    p_education: Arr = field(default_factory=lambda: np.zeros(0, "U2"))
    p_marital: Arr = field(default_factory=lambda: np.zeros(0, "U2"))
    p_political: Arr = field(default_factory=lambda: np.zeros(0, "U2"))
    p_occupation: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    p_sequence: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    p_phone: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # 0: none
    p_consistent: Arr = field(default_factory=lambda: np.zeros(0, bool))
    p_previous: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # house index or -1
    p_previous_from: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))
    p_from: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # ordinal of moving into the house
    p_foreign: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))  # foreign table index or -1
    p_grid: IntArr = field(default_factory=lambda: np.zeros(0, np.int64))

    def __setattr__(self, name: str, value: Any) -> None:
        # Columns are stored in the narrowest type that holds them (3.4 million people at scale 1).
        dtype = _COLUMN_TYPES.get(name)
        if dtype is not None:
            value = np.asarray(value).astype(dtype, copy=False)
        object.__setattr__(self, name, value)

    def compact(self) -> None:
        """Code columns as 2-byte strings once they are complete (read back with `codes`)."""
        for name in ("p_ethnicity", "p_religion", "p_education", "p_marital", "p_political"):
            setattr(self, name, getattr(self, name).astype("S2"))

    def codes(self, name: str, index: IntArr) -> list[str | None]:
        return [value.decode() or None for value in getattr(self, name)[index].tolist()]

    def age(self, index: IntArr | slice | None = None) -> Arr:
        birth = self.p_birth if index is None else self.p_birth[index]
        return (self.today.toordinal() - birth) / 365.2425


def _pools(grids: _Grids) -> IntArr:
    """The grid whose figures each grid's residents are counted in: itself, or — when a small scale leaves
    some grid of a community with residents but no households (or fewer residents than households) — the
    community's first grid, so that the community's households and people are placed together."""
    codes = grids.community
    first: dict[str, int] = {}
    consistent: dict[str, bool] = {}
    for g, community in enumerate(codes):
        first.setdefault(community, g)
        ok = grids.households[g] >= 1 and grids.population[g] >= grids.households[g]
        consistent[community] = consistent.get(community, True) and bool(ok)
    return np.array([g if consistent[c] else first[c] for g, c in enumerate(codes)], dtype=np.int64)


def _houses(city: _City, rng: np.random.Generator) -> None:
    grids = city.grids
    n_houses = grids.households
    h_grid = np.repeat(np.arange(len(grids)), n_houses)
    urban = grids.urban[h_grid]
    table = np.array([USE_SHARES[False], USE_SHARES[True]])
    use = _categorical_rows(rng, table, urban.astype(np.int64))
    first = np.r_[0, np.cumsum(n_houses)[:-1]]
    k = np.arange(len(h_grid)) - first[h_grid]  # index within the grid
    # Urban: buildings of `floors` floors × `units` units × 2 flats; villages: 组 of 25–60 houses.
    floors = rng.choice([6, 6, 7, 11, 18, 26], size=len(grids))
    units = rng.integers(1, 4, size=len(grids))
    per_building = floors * units * 2
    g = h_grid
    building = k // per_building[g]
    within = k % per_building[g]
    unit = within // (floors[g] * 2)
    floor = (within % (floors[g] * 2)) // 2
    flat = within % 2
    per_group = rng.integers(25, 60, size=len(grids))
    group = k // per_group[g]
    number = k % per_group[g]
    city.h_a = np.where(urban, building + 1, group + 1)
    city.h_b = np.where(urban, unit + 1, number + 1)
    city.h_c = np.where(urban, (floor + 1) * 100 + flat + 1, 0)
    city.g_road = rng.integers(0, len(vocab.ROADS), size=len(grids))
    city.g_road_no = rng.integers(1, 400, size=len(grids))
    city.g_estate = rng.integers(0, len(vocab.ESTATE_HEADS) * len(vocab.ESTATE_KINDS), size=len(grids))
    area = np.where(urban, rng.lognormal(np.log(88), 0.28, len(g)), rng.lognormal(np.log(140), 0.3, len(g)))
    area = np.where(use == BUSINESS, rng.lognormal(np.log(70), 0.6, len(g)), area)
    city.h_area = np.round(np.clip(area, 15, 600), 1)
    # Locations: one point per urban building (its flats share it), one per village house.
    lon = np.zeros(len(g))
    lat = np.zeros(len(g))
    site = np.where(urban, building, k)
    for gi in np.flatnonzero(n_houses).tolist():
        lo, hi = first[gi], first[gi] + n_houses[gi]
        sites = site[lo:hi]
        x, y = points_in_polygon(grids.geometry[gi], int(sites.max()) + 1, rng)
        lon[lo:hi] = x[sites]
        lat[lo:hi] = y[sites]
    city.h_lon, city.h_lat = np.round(lon, 6), np.round(lat, 6)
    city.h_grid, city.h_use = h_grid, use


def _households(city: _City, rng: np.random.Generator) -> None:
    """Households into occupied houses, and sizes that add up to the residents of each pool of grids."""
    grids = city.grids
    h_grid, use = city.h_grid, city.h_use
    n_grids = len(grids)
    pool = _pools(grids)
    h_pool = pool[h_grid]
    houses_per_pool = np.bincount(h_pool, minlength=n_grids)
    people_per_pool = np.bincount(pool, weights=grids.population, minlength=n_grids).astype(np.int64)
    households = np.minimum(houses_per_pool, people_per_pool)
    # Every pool with households has an occupied house.
    occupied_mask = np.isin(use, (SELF, RENTED))
    occupied_per_pool = np.bincount(h_pool, weights=occupied_mask, minlength=n_grids)
    first_house = np.searchsorted(h_pool, np.arange(n_grids), side="left")
    use[first_house[(households > 0) & (occupied_per_pool == 0)]] = SELF
    occupied = np.flatnonzero(np.isin(use, (SELF, RENTED)))
    occ_pool = h_pool[occupied]
    occ_per_pool = np.bincount(occ_pool, minlength=n_grids)
    # One household in each occupied house (while households last), the rest shared: rented houses take
    # most of the extra households (several tenants' households), owner-occupied a few (two generations
    # registered apart).
    rank = np.arange(len(occupied)) - np.r_[0, np.cumsum(occ_per_pool)[:-1]][occ_pool]
    primary = occupied[rank < households[occ_pool]]
    use[occupied[rank >= households[occ_pool]]] = VACANT
    extra = np.maximum(households - occ_per_pool, 0)
    weight = np.where(use[occupied] == RENTED, 3.0, 0.45)
    extra_counts = _allocate(rng, occ_pool, weight, extra)
    u_house = np.sort(np.concatenate([primary, np.repeat(occupied, extra_counts)]))
    n = len(u_house)
    u_grid = h_grid[u_house]
    urban = grids.urban[u_grid]
    rented = use[u_house] == RENTED
    # Who lives there: floating residents rent; a few own; foreigners rent in town.
    r = rng.random(n)
    kind = np.full(n, REGISTERED)
    kind[rented & (r < 0.8)] = FLOATING
    kind[rented & urban & (r > 0.985)] = FOREIGN
    kind[~rented & (r < 0.03)] = FLOATING
    # Sizes: one person each, the rest of the pool's residents by gamma-distributed weights.
    factor = np.select([kind == FLOATING, kind == FOREIGN], [0.6, 0.2], 1.0)
    weights = rng.gamma(7.5, 1.0, n) * factor
    spare = people_per_pool - np.bincount(pool[u_grid], minlength=n_grids)
    sizes = 1 + _allocate(rng, pool[u_grid], weights, np.maximum(spare, 0))
    city.u_house, city.u_kind, city.u_size = u_house, kind, sizes
    city.u_start = np.r_[0, np.cumsum(sizes)[:-1]]
    today = city.today.toordinal()
    years = np.where(kind == REGISTERED, rng.uniform(0, 30, n), rng.uniform(0, 6, n))
    city.u_move_in = (today - years * 365.2425).astype(np.int64)
    city.u_number = np.arange(n) - np.r_[0, np.cumsum(np.bincount(u_grid, minlength=n_grids))[:-1]][u_grid] + 1


def _people(city: _City, rng: np.random.Generator) -> None:
    grids = city.grids
    n_households = len(city.u_house)
    sizes = city.u_size
    urban = grids.urban[city.h_grid[city.u_house]]
    # A template per household, by size (7 and more share the largest) and town/village.
    size_key = np.minimum(sizes, MAX_TEMPLATE)
    template = np.zeros(n_households, dtype=np.int64)
    for size in range(1, MAX_TEMPLATE + 1):
        ids = [i for i, t in enumerate(TEMPLATES) if len(t[0]) == size]
        for is_urban in (False, True):
            mask = (size_key == size) & (urban == is_urban)
            if not mask.any():
                continue
            weights = np.array([TEMPLATES[i][2 if is_urban else 3] for i in ids], dtype=float)
            template[mask] = np.array(ids)[rng.choice(len(ids), size=int(mask.sum()), p=weights / weights.sum())]
    roles_table = np.full((len(TEMPLATES), MAX_TEMPLATE), G, dtype=np.int64)
    for i, (letters, _, _, _) in enumerate(TEMPLATES):
        roles_table[i, : len(letters)] = [ROLE_LETTERS.index(ch) for ch in letters]
    head_kind = np.array([t[1] for t in TEMPLATES])[template]
    # Persons.
    n = int(sizes.sum())
    hh = np.repeat(np.arange(n_households), sizes)
    slot = np.arange(n) - city.u_start[hh]
    role = roles_table[template[hh], np.minimum(slot, MAX_TEMPLATE - 1)]
    kind = city.u_kind[hh]
    # Head ages by kind of head (years).
    u = rng.random(n_households)
    band = rng.random(n_households)
    head_age = np.select(
        [
            head_kind == SINGLE,
            head_kind == COUPLE,
            head_kind == FAMILY,
            head_kind == PARENT1,
            head_kind == WITH_PARENT,
            head_kind == YOUNG,
        ],
        [
            np.select([band < 0.45, band < 0.65], [18 + 22 * u, 40 + 20 * u], 60 + 32 * u**1.3),
            np.where(band < 0.35, 22 + 18 * u, 45 + 43 * u**1.2),
            25 + 31 * u,
            28 + 30 * u,
            25 + 30 * u,
            18 + 17 * u,
        ],
        52 + 30 * u,  # OLD
    )
    floating_household = city.u_kind != REGISTERED
    # Few old migrants: floating heads over 60 are made younger, except in three-generation households.
    head_age = np.where(floating_household & (head_age > 60) & (head_kind != OLD), 25 + 35 * u, head_age)
    head_male = rng.random(n_households) < np.array(MALE_HEAD)[head_kind]
    married_child_age = head_age - (22 + 10 * rng.random(n_households))
    a_head = head_age[hh]
    r = rng.random(n)
    age = np.select(
        [
            role == H,
            role == S,
            role == C,
            role == P,
            role == L,
            role == B,
        ],
        [
            a_head,
            a_head + np.where(head_male[hh], -2.0, 2.0) + rng.normal(0, 3, n),
            np.where(
                head_kind[hh] == OLD,
                married_child_age[hh],
                r * np.minimum(a_head - 21, 30),
            ),
            a_head + 23 + 9 * r,
            married_child_age[hh] + rng.normal(-1, 3, n),
            a_head + rng.normal(0, 5, n),
        ],
        # G: grandchildren; with a married child in the house, younger than that child by 20+ years.
        np.where(
            np.isin(template[hh], [i for i, t in enumerate(TEMPLATES) if "C" in t[0] and "L" in t[0]]),
            r * np.clip(married_child_age[hh] - 20, 1, 25),
            r * np.minimum(16, np.maximum(a_head - 40, 1)),
        ),
    )
    age = np.clip(age, 0, 101)
    age[(role == S) | (role == L) | (role == H)] = np.maximum(age[(role == S) | (role == L) | (role == H)], 18)
    birth = (city.today.toordinal() - age * 365.2425 - rng.uniform(0, 1, n)).astype(np.int64)
    birth = np.minimum(birth, city.today.toordinal() - 1)
    # Sexes.
    head_sex = np.where(head_male, 1, 2)
    # In the templates with a married child (C then L), that child is a son four times in five.
    married_child = (role == C) & np.isin(template[hh], [i for i, t in enumerate(TEMPLATES) if "L" in t[0]])
    married_son = rng.random(n_households) < 0.8
    parent_slot_first = (role == P) & (slot == np.array([t[0].find("P") for t in TEMPLATES])[template[hh]])
    two_parents = np.array([t[0].count("P") == 2 for t in TEMPLATES])[template[hh]]
    sex = np.select(
        [
            role == H,
            role == S,
            married_child,
            role == L,
            (role == P) & two_parents,
            role == P,
        ],
        [
            head_sex[hh],
            3 - head_sex[hh],
            np.where(married_son[hh], 1, 2),
            np.where(married_son[hh], 2, 1),
            np.where(parent_slot_first, 2, 1),
            np.where(r < 0.65, 2, 1),
        ],
        np.where(rng.random(n) < 0.515, 1, 2),
    )
    city.p_household, city.p_role, city.p_sex, city.p_birth, city.p_kind = hh, role, sex, birth, kind
    city.p_grid = city.h_grid[city.u_house[hh]]
    _names(city, rng, head_male, template)
    _attributes(city, rng, head_kind, template)


def _names(city: _City, rng: np.random.Generator, head_male: Arr, template: IntArr) -> None:
    hh, role, sex = city.p_household, city.p_role, city.p_sex
    n = len(hh)
    n_households = len(city.u_house)
    surnames, weights = _weights(vocab.SURNAMES)
    hui_names, hui_weights = _weights(vocab.HUI_SURNAMES)
    all_surnames = surnames + [s for s in hui_names if s not in surnames]
    hui_index = np.array([all_surnames.index(s) for s in hui_names])
    # Ethnicity per household (Anhui: Han ≈ 99.3 %, Hui ≈ 0.55 %, a few others).
    ethnic_codes = np.array(["01", "03", "11", "08", "06", "15", "22", "02", "10"])
    ethnic_p = np.array([99.3, 0.55, 0.04, 0.03, 0.02, 0.02, 0.02, 0.01, 0.01])
    household_ethnicity = rng.choice(len(ethnic_codes), size=n_households, p=ethnic_p / ethnic_p.sum())
    hui = household_ethnicity == 1
    family = np.where(
        hui,
        hui_index[rng.choice(len(hui_names), size=n_households, p=hui_weights)],
        rng.choice(len(surnames), size=n_households, p=weights),
    )
    own = rng.choice(len(surnames), size=n, p=weights)
    f = family[hh]
    male = sex == 1
    head_is_male = head_male[hh]
    # The family name is the man's: the male head's, or the husband's when a woman heads the household.
    surname = np.select(
        [
            role == H,
            role == S,
            role == C,
            role == P,
            role == G,
            role == B,
        ],
        [
            np.where(head_is_male | ~np.array([("S" in t[0]) for t in TEMPLATES])[template[hh]], f, own),
            np.where(male, f, own),
            np.where(rng.random(n) < 0.92, f, own),
            np.where(male & head_is_male, f, own),
            np.where(rng.random(n) < 0.85, f, own),
            f,
        ],
        own,  # L: children-in-law keep their own
    )
    city.p_surname = surname
    city.p_ethnicity = ethnic_codes[household_ethnicity][hh]
    # Given names: generation by birth year, sex; one or two characters.
    year = (city.p_birth - date(1970, 1, 1).toordinal()).astype("datetime64[D]").astype("datetime64[Y]").astype(
        int
    ) + 1970
    generation = np.searchsorted(np.array(vocab.GENERATION_BOUNDS), year, side="right")
    pool = generation * 2 + (sex - 1)
    lengths = np.array([[len(vocab.GIVEN[(g, s)][i]) for i in range(3)] for g in range(4) for s in ("1", "2")])
    one = rng.random(n) < np.array(vocab.ONE_CHARACTER_SHARE)[generation]
    first = (rng.random(n) * lengths[pool, 0]).astype(np.int64)
    second = (rng.random(n) * lengths[pool, 1]).astype(np.int64)
    single = (rng.random(n) * lengths[pool, 2]).astype(np.int64)
    city.p_given = np.stack([pool, np.where(one, single, first), np.where(one, -1, second)], axis=1)


def _attributes(city: _City, rng: np.random.Generator, head_kind: IntArr, template: IntArr) -> None:
    hh, role, kind = city.p_household, city.p_role, city.p_kind
    n = len(hh)
    age = city.age()
    urban = city.grids.urban[city.p_grid]
    # Religion: Hui mostly Islam; otherwise mostly none.
    religion = np.array(["00", "10", "50", "40", "20", "99"])[
        rng.choice(6, size=n, p=np.array([94.6, 2.5, 2.0, 0.3, 0.3, 0.3]) / 100)
    ]
    religion = np.where((city.p_ethnicity == "03") & (rng.random(n) < 0.85), "30", religion)
    city.p_religion = np.where(kind == FOREIGN, "", religion)
    # Education by age band (rows) over codes 10 … 90 (columns).
    codes = np.array(["10", "20", "30", "40", "50", "60", "70", "80", "90"])
    table = np.array(
        [
            [0, 0, 0, 0, 0, 0, 0, 100, 0],  # 6–11 in primary school
            [0, 0, 0, 0, 0, 0, 100, 0, 0],  # 12–14
            [0, 0, 0, 20, 8, 62, 10, 0, 0],  # 15–17
            [0, 35, 25, 6, 2, 22, 10, 0, 0],  # 18–22
            [5, 30, 25, 8, 2, 15, 13, 2, 0],  # 23–34
            [3, 18, 20, 8, 3, 18, 25, 5, 0],  # 35–44
            [1, 8, 10, 8, 3, 22, 38, 10, 0],  # 45–54
            [0, 4, 5, 6, 2, 18, 40, 22, 3],  # 55–64
            [0, 2, 3, 4, 0, 12, 30, 37, 12],  # 65–74
            [0, 1, 1, 2, 0, 6, 15, 40, 35],  # 75+
        ],
        dtype=float,
    )
    band = np.searchsorted(np.array([12, 15, 18, 23, 35, 45, 55, 65, 75]), age, side="right")
    education = codes[_categorical_rows(rng, table, band)]
    education = np.where(age < 6, "", education)
    # Village adults one band lower half the time.
    lower = (~urban) & (age >= 18) & (rng.random(n) < 0.5)
    step = {"10": "20", "20": "30", "30": "60", "40": "60", "50": "70", "60": "70", "70": "80", "80": "90", "90": "90"}
    education = np.where(
        lower, np.vectorize(step.get, otypes=["U2"])(np.where(education == "", "90", education)), education
    )
    education = np.where(kind == FOREIGN, np.where(age >= 23, "20", ""), education)
    city.p_education = education
    # Marital status from the household's make-up and age.
    has_spouse = np.array([("S" in t[0]) for t in TEMPLATES])[template]
    two_parents = np.array([t[0].count("P") == 2 for t in TEMPLATES])[template]
    married_child = (role == C) & np.isin(template[hh], [i for i, t in enumerate(TEMPLATES) if "L" in t[0]])
    r = rng.random(n)
    alone = np.select(
        [age < 25, age < 40, age < 60],
        [
            np.full(n, "10"),
            np.select([r < 0.6, r < 0.85], ["10", "40"], "20"),
            np.select([r < 0.35, r < 0.6, r < 0.85], ["40", "30", "20"], "10"),
        ],
        np.select([r < 0.75, r < 0.85, r < 0.95], ["30", "40", "20"], "10"),
    )
    adult_child = np.select(
        [age < 20, age < 30],
        [np.full(n, "10"), np.where(r < 0.85, "10", "40")],
        np.select([r < 0.4, r < 0.7], ["10", "40"], "20"),
    )
    marital = np.select(
        [
            (role == S) | (role == L) | ((role == H) & has_spouse[hh]) | married_child,
            (role == P) & two_parents[hh],
            role == P,
            (role == C) | (role == G),
        ],
        [
            np.where(r < 0.96, "20", "22"),
            np.full(n, "20"),
            np.select([r < 0.8, r < 0.9], ["30", "40"], "20"),
            adult_child,
        ],
        alone,
    )
    city.p_marital = np.where(age < 16, "10", marital)
    # Political status.
    political = np.full(n, "13")
    political = np.where((age >= 14) & (age < 19) & (r < 0.55), "03", political)
    political = np.where((age >= 19) & (age < 29) & (r < 0.3), "03", political)
    p2 = rng.random(n)
    political = np.where((age >= 19) & (p2 < np.where(age < 29, 0.04, 0.085)), "01", political)
    political = np.where((age >= 19) & (age < 40) & (p2 > 0.997), "02", political)
    minor_party = np.array(["04", "05", "06", "07", "08", "09", "10", "12"])
    political = np.where((age >= 30) & (p2 > 0.085) & (p2 < 0.0875), minor_party[rng.integers(0, 8, n)], political)
    city.p_political = np.where(kind == FOREIGN, "", political)
    # Occupation index into the lists of vocab, by group.
    city.p_occupation = _occupations(city, rng, age, urban)
    # ID numbers: region per household (a spouse or child-in-law may come from elsewhere), sequence later.
    _id_regions(city, rng)
    # Phones for most people from 16, fewer of the very old.
    has_phone = rng.random(n) < np.select([age < 12, age < 16, age < 65, age < 80], [0.0, 0.2, 0.96, 0.8], 0.5)
    prefixes = np.array([int(p) for p in vocab.MOBILE_PREFIXES], dtype=np.int64)
    phone = prefixes[rng.integers(0, len(prefixes), n)] * 100_000_000 + rng.integers(0, 100_000_000, n)
    phone = np.where(has_phone, phone, 0)
    while True:  # make them unique
        _, first_seen = np.unique(phone, return_index=True)
        duplicate = np.ones(n, dtype=bool)
        duplicate[first_seen] = False
        duplicate &= phone != 0
        if not duplicate.any():
            break
        phone[duplicate] = prefixes[rng.integers(0, len(prefixes), int(duplicate.sum()))] * 100_000_000 + rng.integers(
            0, 100_000_000, int(duplicate.sum())
        )
    city.p_phone = phone
    # Residence: everyone since the household moved in (or birth); 10 % of adults lived in another house.
    move_in = city.u_move_in[hh]
    joined = np.maximum(move_in, city.p_birth)
    city.p_from = joined
    city.p_consistent = (kind == REGISTERED) & (rng.random(n) < 0.9)


def _occupations(city: _City, rng: np.random.Generator, age: Arr, urban: Arr) -> IntArr:
    """Index into the concatenated lists: students, retired and the group lists (see _OCCUPATION_LABELS)."""
    n = len(age)
    kind = city.p_kind
    labels = _occupation_labels()
    offsets = {}
    start = 2
    for name, pairs in (
        ("urban", vocab.OCCUPATIONS_URBAN),
        ("rural", vocab.OCCUPATIONS_RURAL),
        ("floating", vocab.OCCUPATIONS_FLOATING),
        ("foreign", vocab.OCCUPATIONS_FOREIGN),
    ):
        offsets[name] = (start, pairs)
        start += len(pairs)
    assert start == len(labels)
    occupation = np.full(n, -1, dtype=np.int64)
    for name, mask in (
        ("urban", urban & (kind == REGISTERED)),
        ("rural", ~urban & (kind == REGISTERED)),
        ("floating", kind == FLOATING),
        ("foreign", kind == FOREIGN),
    ):
        offset, pairs = offsets[name]
        occupation[mask] = offset + _pick(rng, pairs, int(mask.sum()))
    occupation = np.where((age >= 6) & (age < 22) & ((age < 18) | (rng.random(n) < 0.6)), 0, occupation)
    retired = (age >= 60) & (urban | (rng.random(n) < 0.2)) & (kind != FOREIGN)
    occupation = np.where(retired, 1, occupation)
    farmer = offsets["rural"][0]
    occupation = np.where((age >= 60) & ~retired & (kind == REGISTERED) & ~urban, farmer, occupation)
    return np.where(age < 6, -1, occupation)


def _occupation_labels() -> list[str]:
    return ["学生", "离退休人员"] + [
        label
        for pairs in (
            vocab.OCCUPATIONS_URBAN,
            vocab.OCCUPATIONS_RURAL,
            vocab.OCCUPATIONS_FLOATING,
            vocab.OCCUPATIONS_FOREIGN,
        )
        for label, _ in pairs
    ]


def _id_regions(city: _City, rng: np.random.Generator) -> None:
    hh, role, kind = city.p_household, city.p_role, city.p_kind
    n = len(hh)
    codes = city.regions.code
    index = {c: i for i, c in enumerate(codes)}
    grids = city.grids
    district_region = np.array(
        [
            index[DISTRICT_ID_REGION.get(d, d)] if DISTRICT_ID_REGION.get(d, d) in index else index["340302"]
            for d in grids.district
        ]
    )
    bengbu = np.array([index[c] for c in BENGBU_ID_REGIONS])
    n_households = len(city.u_house)
    u_grid = city.h_grid[city.u_house]
    registered_region = np.where(
        rng.random(n_households) < 0.88, district_region[u_grid], bengbu[rng.integers(0, len(bengbu), n_households)]
    )
    origin = rng.choice(len(codes), size=n_households, p=city.regions.origin_weights)
    household_region = np.where(city.u_kind == REGISTERED, registered_region, origin)
    region = household_region[hh]
    # Spouses and children-in-law: a quarter from elsewhere (of the same kind of place).
    other = (role == S) | (role == L)
    elsewhere = other & (rng.random(n) < 0.25)
    alt = np.where(
        kind == REGISTERED,
        bengbu[rng.integers(0, len(bengbu), n)],
        rng.choice(len(codes), size=n, p=city.regions.origin_weights),
    )
    region = np.where(elsewhere, alt, region)
    city.p_region = np.where(kind == FOREIGN, -1, region)
    # Sequence digits: unique per (region, birth date, sex) across the city; odd for men, even for women.
    has_id = kind != FOREIGN
    keys = (region.astype(np.int64) * 100_000 + (city.p_birth - 600_000)) * 2 + (city.p_sex - 1)
    rank = np.full(n, 0, dtype=np.int64)
    rank[has_id] = _rank_within(keys[has_id], rng)
    if rank.max(initial=0) >= 500:
        raise ValueError("more than 500 people share a region, birth date and sex; ID numbers would repeat")
    start = (keys * 2_654_435_761) % 500  # where a group's numbers start (spread, deterministic)
    base = (start + rank) % 500
    city.p_sequence = np.where(city.p_sex == 1, base * 2 + 1, base * 2)


def _residence_history(city: _City, rng: np.random.Generator) -> None:
    """A previous house for ~10 % of adults (in the same part of the city), with the dates."""
    n = len(city.p_household)
    age = city.age()
    years_here = (city.today.toordinal() - city.p_from) / 365.2425
    candidates = (age >= 20) & ((age - years_here) >= 18) & (city.p_kind != FOREIGN) & (rng.random(n) < 0.1)
    # Another house of the same grid chunk: an index offset that stays near (houses are ordered by grid).
    house = city.u_house[city.p_household]
    offset = rng.integers(1, 400, n) * np.where(rng.random(n) < 0.5, -1, 1)
    previous = np.clip(house + offset, 0, len(city.h_grid) - 1)
    previous = np.where(candidates & (previous != house), previous, -1)
    city.p_previous = previous
    span = rng.uniform(1, 8, n) * 365.2425
    earliest = city.p_birth + (18 * 365.2425)
    city.p_previous_from = np.maximum(city.p_from - span, earliest).astype(np.int64)


def _owners(city: _City, rng: np.random.Generator) -> None:
    """Owner of every house: the head of the first household living there when owner-occupied, otherwise a
    registered adult living elsewhere nearby."""
    n_houses = len(city.h_grid)
    owner = np.full(n_houses, -1, dtype=np.int64)
    first_household = np.unique(city.u_house, return_index=True)
    heads = city.u_start[first_household[1]]
    owner[first_household[0]] = heads
    self_used = city.h_use == SELF
    owner = np.where(self_used & (city.p_kind[np.maximum(owner, 0)] != FOREIGN), owner, -1)
    candidates = np.flatnonzero((city.p_kind == REGISTERED) & (city.age() >= 25))
    # Nearby: candidates are ordered like houses; pick around the house's position.
    people_house = city.u_house[city.p_household[candidates]]
    position = np.searchsorted(people_house, np.arange(n_houses))
    jitter = rng.integers(-300, 300, n_houses)
    chosen = (
        candidates[np.clip(position + jitter, 0, len(candidates) - 1)] if len(candidates) else np.full(n_houses, -1)
    )
    city.h_owner = np.where(owner >= 0, owner, chosen)


def generate(connection: Connection, *, seed: int, today: date) -> _City:
    """Every house, household and person of the city (numbers only), deterministic for the seed and date."""
    rng = np.random.default_rng([seed, 1])
    city = _City(grids=_load_grids(connection), regions=_regions(), today=today)
    _houses(city, rng)
    _households(city, rng)
    _people(city, rng)
    _residence_history(city, rng)
    _owners(city, rng)
    _foreigners(city, rng)
    city.compact()
    return city


def _foreigners(city: _City, rng: np.random.Generator) -> None:
    foreign = np.flatnonzero(city.p_kind == FOREIGN)
    city.p_foreign = np.full(len(city.p_kind), -1, dtype=np.int64)
    if not len(foreign):
        return
    options = [(("F", i), w) for i, (_, w, _, _) in enumerate(vocab.FOREIGN)] + [
        (("R", i), w) for i, (_, _, w) in enumerate(vocab.PERMIT_REGIONS)
    ]
    # One nationality per household.
    households = city.p_household[foreign]
    unique, inverse = np.unique(households, return_inverse=True)
    choice = _pick(rng, options, len(unique))[inverse]
    city.p_foreign[foreign] = choice


# -- text, rows and encryption, chunk by chunk -----------------------------------------------------------


@dataclass
class _Texts:
    surnames: list[str]
    given: list[tuple[str, str, str]]
    occupations: list[str]

    @classmethod
    def make(cls) -> _Texts:
        surnames = [s for s, _ in vocab.SURNAMES]
        surnames += [s for s, _ in vocab.HUI_SURNAMES if s not in surnames]
        given = [vocab.GIVEN[(g, s)] for g in range(4) for s in ("1", "2")]
        return cls(surnames, given, _occupation_labels())


def person_names(city: _City, index: IntArr, texts: _Texts) -> list[str]:
    """Chinese names of the people at `index` (foreigners get their Latin names elsewhere)."""
    out = []
    surnames, pools = texts.surnames, texts.given
    for s, (pool, a, b) in zip(city.p_surname[index].tolist(), city.p_given[index].tolist(), strict=True):
        chars = pools[pool]
        out.append(surnames[s] + (chars[2][a] if b < 0 else chars[0][a] + chars[1][b]))
    return out


def _house_addresses(
    city: _City, lo: int, hi: int
) -> tuple[list[str], list[str | None], list[str | None], list[str | None], list[str]]:
    grids = city.grids
    street_address: list[str] = []
    building: list[str | None] = []
    unit: list[str | None] = []
    room: list[str | None] = []
    full: list[str] = []
    kinds = len(vocab.ESTATE_KINDS)
    for g, a, b, c in zip(
        city.h_grid[lo:hi].tolist(),
        city.h_a[lo:hi].tolist(),
        city.h_b[lo:hi].tolist(),
        city.h_c[lo:hi].tolist(),
        strict=True,
    ):
        if grids.urban[g]:
            estate_index = int(city.g_estate[g])
            estate = vocab.ESTATE_HEADS[estate_index // kinds] + vocab.ESTATE_KINDS[estate_index % kinds]
            road = f"{vocab.ROADS[int(city.g_road[g])]}{int(city.g_road_no[g])}号"
            street_address.append(road)
            building.append(f"{a}栋")
            unit.append(f"{b}单元")
            room.append(str(c))
            full.append(f"{grids.prefix[g]}{road}{estate}{a}栋{b}单元{c}室")
        else:
            road = f"{grids.place[g]}{a}组{b}号"
            street_address.append(road)
            building.append(None)
            unit.append(None)
            room.append(None)
            full.append(f"{grids.prefix[g]}{a}组{b}号")
    return street_address, building, unit, room, full


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


@dataclass(frozen=True)
class _Task:
    number: int
    grids: tuple[int, int]
    residence_start: int  # ids before this chunk's first residence row
    tenancy_start: int


def _tasks(city: _City, size: int) -> list[_Task]:
    """The chunks of grids, with the ids their residence and tenancy rows start after."""
    residences = 1 + (city.p_previous >= 0)
    house = city.u_house[city.p_household]
    rented = city.h_use == RENTED
    tenancies = rented[house].astype(np.int64) + ((city.p_previous >= 0) & rented[np.maximum(city.p_previous, 0)])
    residence_before = np.r_[0, np.cumsum(residences)]
    tenancy_before = np.r_[0, np.cumsum(tenancies)]
    first_person = np.searchsorted(city.p_grid, np.arange(len(city.grids) + 1), side="left")
    return [
        _Task(number, (g0, g1), int(residence_before[first_person[g0]]), int(tenancy_before[first_person[g0]]))
        for number, (g0, g1) in enumerate(_chunks(city, size))
    ]


def _chunks(city: _City, size: int) -> Iterator[tuple[int, int]]:
    """Grid ranges holding about `size` people each."""
    people = np.bincount(city.p_grid, minlength=len(city.grids))
    cumulative = np.cumsum(people)
    start = 0
    n = len(city.grids)
    while start < n:
        base = cumulative[start - 1] if start else 0
        end = int(np.searchsorted(cumulative, base + size, side="left")) + 1
        end = min(max(end, start + 1), n)
        yield start, end
        start = end


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


def _encrypted(keyring: Keyring, values: list[str | None], context: str) -> list[tuple[bytes | None, str | None]]:
    """(token, blind index) per value, (None, None) where there is none."""
    present = [i for i, v in enumerate(values) if v is not None]
    plain = [values[i] or "" for i in present]
    out: list[tuple[bytes | None, str | None]] = [(None, None)] * len(values)
    tokens = keyring.encrypt_many(plain, context=context)
    indexes = keyring.blind_index_many(plain, context=context)
    for i, token, index in zip(present, tokens, indexes, strict=True):
        out[i] = (token, index)
    return out


def _id_number_of(city: _City, person: int) -> str | None:
    if city.p_kind[person] == FOREIGN:
        return None
    sex = Sex.male if city.p_sex[person] == 1 else Sex.female
    return make_id_number(
        city.regions.code[int(city.p_region[person])],
        date.fromordinal(int(city.p_birth[person])),
        int(city.p_sequence[person]),
        sex,
    )


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


# -- organisations, places, schools -----------------------------------------------------------------------


def _spread(rng: np.random.Generator, city: _City, total: int, urban_weight: float) -> IntArr:
    """Grid index of each of `total` objects, in proportion to households, towns weighing more; sorted."""
    grids = city.grids
    weights = np.maximum(grids.households, 0) * np.where(grids.urban, urban_weight, 1.0)
    if total <= 0 or weights.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(len(grids), size=total, p=weights / weights.sum()))


def _located(rng: np.random.Generator, city: _City, grid: IntArr) -> tuple[Arr, Arr, list[str]]:
    lon = np.zeros(len(grid))
    lat = np.zeros(len(grid))
    for g in np.unique(grid).tolist():
        mask = grid == g
        x, y = points_in_polygon(city.grids.geometry[g], int(mask.sum()), rng)
        lon[mask], lat[mask] = x, y
    addresses = [
        f"{city.grids.prefix[g]}{vocab.ROADS[int(r)]}{int(n)}号"
        if city.grids.urban[g]
        else f"{city.grids.prefix[g]}{int(n) % 12 + 1}组"
        for g, r, n in zip(
            grid.tolist(),
            rng.integers(0, len(vocab.ROADS), len(grid)).tolist(),
            rng.integers(1, 500, len(grid)).tolist(),
            strict=True,
        )
    ]
    return np.round(lon, 6), np.round(lat, 6), addresses


def _random_names(rng: np.random.Generator, n: int, texts: _Texts) -> list[str]:
    surnames, weights = _weights(vocab.SURNAMES)
    s = rng.choice(len(surnames), size=n, p=weights)
    pool = rng.integers(2, 6, n)  # adults born 1960–1999
    one = rng.random(n) < 0.3
    out = []
    for si, pi, o, u1, u2 in zip(
        s.tolist(), pool.tolist(), one.tolist(), rng.random(n).tolist(), rng.random(n).tolist(), strict=True
    ):
        chars = texts.given[pi]
        given = (
            chars[2][int(u1 * len(chars[2]))]
            if o
            else chars[0][int(u1 * len(chars[0]))] + chars[1][int(u2 * len(chars[1]))]
        )
        out.append(texts.surnames[si] + given)
    return out


def _phones(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = vocab.MOBILE_PREFIXES
    return [
        f"{prefixes[int(p)]}{int(s):08d}"
        for p, s in zip(
            rng.integers(0, len(prefixes), n).tolist(), rng.integers(0, 100_000_000, n).tolist(), strict=True
        )
    ]


def _organisations(
    city: _City, scale: float, keyring: Keyring, texts: _Texts, stamp: str, rng: np.random.Generator
) -> tuple[list[Row], int]:
    grids = city.grids
    economic = round(ECONOMIC_ORGANISATIONS * scale)
    social = round(SOCIAL_ORGANISATIONS * scale)
    grid = np.concatenate([_spread(rng, city, economic, 2.5), _spread(rng, city, social, 2.0)])
    kinds = np.r_[np.zeros(len(grid) - social, dtype=np.int64), np.ones(social, dtype=np.int64)][: len(grid)]
    n = len(grid)
    if n == 0:
        return [], 0
    lon, lat, addresses = _located(rng, city, grid)
    economic_types = (("individual", 60), ("company", 30), ("sole", 5), ("partnership", 3), ("joint_stock", 2))
    social_types = (("social_group", 45), ("non_enterprise", 50), ("foundation", 5))
    org_type = np.where(
        kinds == 0,
        np.array([t for t, _ in economic_types])[_pick(rng, economic_types, n)],
        np.array([t for t, _ in social_types])[_pick(rng, social_types, n)],
    )
    # Credit codes: authority 9 (market regulation) / 5 (civil affairs), kind digit, region, serial.
    kind_digit = {
        "individual": "2",
        "company": "1",
        "sole": "1",
        "partnership": "1",
        "joint_stock": "1",
        "social_group": "1",
        "non_enterprise": "2",
        "foundation": "3",
    }
    authority = np.where(kinds == 0, "9", "5")
    region = np.array([DISTRICT_ID_REGION.get(grids.district[g], grids.district[g]) for g in grid.tolist()])
    serial = rng.choice(100_000_000, size=n, replace=False)
    codes = credit_codes(authority, np.array([kind_digit[t] for t in org_type.tolist()]), region, serial)
    reps = _random_names(rng, n, texts)
    officers = _random_names(rng, n, texts)
    rep_phones = _phones(rng, n)
    officer_phones = _phones(rng, n)
    rep_enc = keyring.encrypt_many(rep_phones, context=LEGAL_REP_PHONE_CONTEXT)
    company = np.isin(org_type, ("company", "joint_stock", "partnership", "sole"))
    officer_positions = np.flatnonzero(company | (kinds == 1)).tolist()
    officer_enc = keyring.encrypt_many([officer_phones[i] for i in officer_positions], context=SECURITY_PHONE_CONTEXT)
    officer_enc_at = dict(zip(officer_positions, officer_enc, strict=True))
    staff = np.where(
        org_type == "individual",
        rng.integers(1, 6, n),
        np.clip(rng.lognormal(np.log(18), 1.1, n), 2, 3000).astype(np.int64),
    )
    hazardous = company & (rng.random(n) < 0.03)
    hazard_types = ("易燃易爆", "有毒有害", "腐蚀性", "压力容器")
    risk = np.array(["low", "medium", "high"])[rng.choice(3, size=n, p=[0.8, 0.16, 0.04])]
    risk = np.where(hazardous, np.where(rng.random(n) < 0.5, "high", "medium"), risk)
    attention = np.where(risk == "high", "high", np.where(risk == "medium", "medium", "low"))
    approval = _dates(city.today.toordinal() - (rng.uniform(0, 25, n) ** 1.0 * 365.2425).astype(np.int64))
    status = np.where(rng.random(n) < 0.96, "存续", "注销")
    trade = rng.integers(0, len(vocab.TRADE_NAMES), n).tolist()
    line = rng.integers(0, len(vocab.COMPANY_LINES), n).tolist()
    shop = rng.integers(0, len(vocab.SHOP_KINDS), n).tolist()
    group = rng.integers(0, len(vocab.SOCIAL_GROUPS), n).tolist()
    nonent = rng.integers(0, len(vocab.NON_ENTERPRISES), n).tolist()
    found = rng.integers(0, len(vocab.FOUNDATIONS), n).tolist()
    rows: list[Row] = []
    for i in range(n):
        g = int(grid[i])
        t = str(org_type[i])
        district_name = grids.district_name[g]
        if t == "individual":
            name = (
                f"{district_name}{reps[i][0]}记{vocab.SHOP_KINDS[shop[i]]}"
                if i % 3 == 0
                else f"{district_name}{vocab.TRADE_NAMES[trade[i]]}{vocab.SHOP_KINDS[shop[i]]}"
            )
        elif t in ("company", "joint_stock", "sole", "partnership"):
            suffix = {
                "company": "有限公司",
                "joint_stock": "股份有限公司",
                "sole": "经营部",
                "partnership": "合伙企业",
            }[t]
            name = f"蚌埠市{vocab.TRADE_NAMES[trade[i]]}{vocab.COMPANY_LINES[line[i]]}{suffix}"
        elif t == "social_group":
            name = (
                f"{district_name}{vocab.SOCIAL_GROUPS[group[i]]}"
                if i % 2
                else f"{grids.place[g]}{vocab.SOCIAL_GROUPS[group[i]]}"
            )
        elif t == "non_enterprise":
            name = f"蚌埠市{vocab.TRADE_NAMES[trade[i]]}{vocab.NON_ENTERPRISES[nonent[i]]}"
        else:
            name = f"蚌埠市{vocab.TRADE_NAMES[trade[i]]}{vocab.FOUNDATIONS[found[i]]}"
        is_social = kinds[i] == 1
        rows.append(
            (
                i + 1,
                grids.district[g],
                grids.street[g],
                grids.community[g],
                grids.code[g],
                "social" if is_social else "economic",
                name,
                codes[i],
                None if is_social else codes[i],
                f"蚌民社登字第{(i * 7919) % 90000 + 10000}号" if is_social else None,
                ("蚌埠市民政局" if is_social else f"{district_name}市场监督管理局"),
                t,
                str(status[i]),
                approval[i],
                addresses[i],
                float(lon[i]),
                float(lat[i]),
                int(staff[i]),
                reps[i],
                rep_enc[i],
                officers[i] if i in officer_enc_at else None,
                officer_enc_at.get(i),
                1 if hazardous[i] else 0,
                hazard_types[i % 4] if hazardous[i] else None,
                str(attention[i]),
                str(risk[i]),
                stamp,
                stamp,
            )
        )
    return rows, n + len(officer_positions)


ORGANISATION_COLUMNS: tuple[str, ...] = (
    "id",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
    "kind",
    "name",
    "credit_code",
    "licence_no",
    "registration_no",
    "registration_authority",
    "org_type",
    "status",
    "approval_date",
    "address",
    "lon",
    "lat",
    "staff_count",
    "legal_rep_name",
    "legal_rep_phone_enc",
    "security_officer_name",
    "security_officer_phone_enc",
    "hazardous_chemicals",
    "hazard_type",
    "attention_level",
    "risk_level",
    "created_at",
    "updated_at",
)


def _places(
    city: _City, scale: float, keyring: Keyring, texts: _Texts, stamp: str, rng: np.random.Generator
) -> tuple[list[Row], int]:
    grids = city.grids
    n = round(PLACES * scale)
    grid = _spread(rng, city, n, 3.0)
    n = len(grid)
    if n == 0:
        return [], 0
    lon, lat, addresses = _located(rng, city, grid)
    types = list(PLACE_SHARES)
    place_type = np.array(types)[
        rng.choice(len(types), size=n, p=np.array(list(PLACE_SHARES.values())) / sum(PLACE_SHARES.values()))
    ]
    people = _random_names(rng, n, texts)
    phones = keyring.encrypt_many(_phones(rng, n), context=PLACE_PHONE_CONTEXT)
    trade = rng.integers(0, len(vocab.TRADE_NAMES), n).tolist()
    road = rng.integers(0, len(vocab.ROADS), n).tolist()
    kind_pick = rng.random(n).tolist()
    attention = np.array(["low", "medium", "high"])[rng.choice(3, size=n, p=[0.7, 0.22, 0.08])]
    area = np.clip(rng.lognormal(np.log(300), 1.0, n), 20, 50_000).round(1)
    staff = np.clip(rng.lognormal(np.log(12), 1.0, n), 1, 2000).astype(np.int64)
    rows: list[Row] = []
    for i in range(n):
        g = int(grid[i])
        t = str(place_type[i])
        if t == "finance":
            name = f"{vocab.BANKS[trade[i] % len(vocab.BANKS)]}蚌埠{vocab.ROADS[road[i]][:-1]}支行"
        else:
            kinds = vocab.PLACE_KINDS[t]
            kind = kinds[int(kind_pick[i] * len(kinds))]
            head = (
                grids.place[g] if t in ("hospital", "religious", "scenic", "transport") else vocab.TRADE_NAMES[trade[i]]
            )
            name = f"{head}{kind}"
        attribute = vocab.PLACE_ATTRIBUTES[
            0
            if t in ("entertainment", "transport", "scenic")
            else 1
            if t == "hazardous"
            else 2
            if t == "finance"
            else 3
        ]
        rows.append(
            (
                i + 1,
                grids.district[g],
                grids.street[g],
                grids.community[g],
                grids.code[g],
                name,
                t,
                attribute,
                addresses[i],
                float(lon[i]),
                float(lat[i]),
                float(area[i]),
                int(staff[i]),
                people[i],
                phones[i],
                f"{grids.district_name[g]}{vocab.PLACE_SUPERVISORS[t]}",
                str(attention[i]),
                stamp,
                stamp,
            )
        )
    return rows, n


PLACE_COLUMNS: tuple[str, ...] = (
    "id",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
    "name",
    "place_type",
    "key_attribute",
    "address",
    "lon",
    "lat",
    "area_m2",
    "staff_count",
    "person_in_charge",
    "phone_enc",
    "supervising_unit",
    "attention_level",
    "created_at",
    "updated_at",
)


def _schools(city: _City, scale: float, texts: _Texts, stamp: str, rng: np.random.Generator) -> list[Row]:
    grids = city.grids
    n = round(SCHOOLS * scale)
    grid = _spread(rng, city, n, 1.5)
    n = len(grid)
    if n == 0:
        return []
    lon, lat, addresses = _located(rng, city, grid)
    types = [*SCHOOL_SHARES, "university"]
    shares = np.array([*SCHOOL_SHARES.values(), 0.005])
    school_type = np.array(types)[rng.choice(len(types), size=n, p=shares / shares.sum())]
    heads = _random_names(rng, n, texts)
    leads = _random_names(rng, n, texts)
    numbers = rng.integers(1, 40, n).tolist()
    trade = rng.integers(0, len(vocab.TRADE_NAMES), n).tolist()
    rows: list[Row] = []
    for i in range(n):
        g = int(grid[i])
        t = str(school_type[i])
        place = grids.place[g]
        street_name = grids.prefix[g].removeprefix("蚌埠市").removeprefix(grids.district_name[g])[: -len(place) or None]
        name = {
            "kindergarten": f"{place}幼儿园" if i % 2 else f"蚌埠市{vocab.TRADE_NAMES[trade[i]]}幼儿园",
            "primary": f"{place}小学" if not grids.urban[g] else f"蚌埠市{grids.district_name[g]}第{numbers[i]}小学",
            "junior": f"{street_name}初级中学" if not grids.urban[g] else f"蚌埠市第{numbers[i]}中学",
            "senior": f"{grids.district_name[g]}第{numbers[i] % 6 + 1}高级中学",
            "vocational": f"{grids.district_name[g]}职业教育中心",
            "university": f"蚌埠{vocab.TRADE_NAMES[trade[i]]}职业技术学院",
        }[t]
        (low, high), ratio = SCHOOL_SIZES[t]
        students = int(rng.integers(low, high))
        staff = max(3, students // ratio)
        authority = (
            "蚌埠市教育局" if t in ("senior", "university", "vocational") else f"{grids.district_name[g]}教育体育局"
        )
        rows.append(
            (
                i + 1,
                grids.district[g],
                grids.street[g],
                grids.community[g],
                grids.code[g],
                name,
                t,
                addresses[i],
                float(lon[i]),
                float(lat[i]),
                authority,
                students,
                staff,
                heads[i],
                leads[i],
                max(1, students // 400 + int(rng.integers(1, 4))),
                stamp,
                stamp,
            )
        )
    return rows


SCHOOL_COLUMNS: tuple[str, ...] = (
    "id",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
    "name",
    "school_type",
    "address",
    "lon",
    "lat",
    "supervising_authority",
    "students",
    "staff",
    "head_name",
    "security_lead",
    "guards",
    "created_at",
    "updated_at",
)


# -- special care and visits -------------------------------------------------------------------------------


def _care(city: _City, texts: _Texts, stamp: str, rng: np.random.Generator) -> tuple[list[Row], list[Row]]:
    grids = city.grids
    n_people = len(city.p_kind)
    age = city.age()
    male = city.p_sex == 1
    eligible = city.p_kind != FOREIGN
    taken = np.zeros(n_people, dtype=bool)
    chosen: list[tuple[str, IntArr]] = []
    bands = {
        "mental_disorder": (18, 80, 0.5),
        "released_prisoner": (22, 65, 0.9),
        "community_correction": (20, 70, 0.8),
        "drug_user": (20, 60, 0.85),
        "hiv_aids": (20, 70, 0.8),
        "key_youth": (12, 25, 0.75),
    }
    for group, per_10k in CARE_PREVALENCE.items():
        low, high, male_share = bands[group]
        count = round(n_people * per_10k / 10_000)
        weight = eligible & ~taken & (age >= low) & (age < high)
        weight = weight * np.where(male, male_share, 1 - male_share)
        if count == 0 or weight.sum() == 0:
            chosen.append((group, np.zeros(0, dtype=np.int64)))
            continue
        picked = rng.choice(n_people, size=min(count, int((weight > 0).sum())), replace=False, p=weight / weight.sum())
        picked.sort()
        taken[picked] = True
        chosen.append((group, picked))
    today = city.today
    t0 = today.toordinal()
    rows: list[Row] = []
    visits: list[Row] = []
    visit_id = 0
    care_id = 0
    forms = [f for f, _ in VISIT_FORMS]
    form_p = np.array([w for _, w in VISIT_FORMS])
    for group, persons in chosen:
        n = len(persons)
        if n == 0:
            continue
        risk: IntArr | None = None
        if group == "mental_disorder":
            risk = rng.choice(6, size=n, p=[0.45, 0.25, 0.15, 0.08, 0.05, 0.02])
            attention = np.where(risk >= 3, "high", np.where(risk >= 1, "medium", "low"))
        else:
            attention = np.array(["high", "medium", "low"])[rng.choice(3, size=n, p=[0.15, 0.55, 0.3])]
        interval = np.array([ATTENTION_INTERVAL[a] for a in attention.tolist()], dtype=np.int64)
        # Last visit: within the interval for most; 8 % overdue by up to a month beyond.
        overdue = rng.random(n) < 0.08
        since = np.where(overdue, interval + rng.integers(1, 31, n), (rng.random(n) * interval).astype(np.int64))
        last = t0 - since
        next_due = last + interval
        # Visits of the last 12 months, every `interval` days back from the last, ± 3 days.
        counts = np.minimum(365 // interval, 60)
        details = _care_details(city, group, persons, texts, rng)
        p_grid = city.p_grid[persons].tolist()
        for i in range(n):
            person = int(persons[i])
            g = p_grid[i]
            care_id += 1
            worker = int(grids.worker[g]) or None
            rows.append(
                (
                    care_id,
                    grids.district[g],
                    grids.street[g],
                    grids.community[g],
                    grids.code[g],
                    person + 1,
                    group,
                    str(attention[i]),
                    int(risk[i]) if risk is not None else None,
                    worker,
                    int(interval[i]),
                    date.fromordinal(int(last[i])).isoformat(),
                    date.fromordinal(int(next_due[i])).isoformat(),
                    BulkLoader.json(details[i]),
                    1,
                    stamp,
                    stamp,
                )
            )
            k = int(counts[i])
            offsets = np.arange(k) * interval[i] + np.r_[0, rng.integers(-3, 4, max(k - 1, 0))]
            when = last[i] - offsets
            when = when[when > t0 - 365]
            when = np.sort(when)
            sentences = vocab.FINDINGS[group]
            picks = [rng.integers(0, len(s), len(when)) for s in sentences]
            form_index = rng.choice(len(forms), size=len(when), p=form_p)
            for j, day in enumerate(when.tolist()):
                visit_id += 1
                findings = "".join(s[int(p[j])] for s, p in zip(sentences, picks, strict=True))
                due = day + int(interval[i])
                visits.append(
                    (
                        visit_id,
                        care_id,
                        date.fromordinal(day).isoformat(),
                        worker,
                        forms[int(form_index[j])],
                        findings,
                        date.fromordinal(due).isoformat(),
                        stamp,
                    )
                )
    return rows, visits


def _care_details(
    city: _City, group: str, persons: IntArr, texts: _Texts, rng: np.random.Generator
) -> list[dict[str, Any]]:
    n = len(persons)
    today = city.today
    t0 = today.toordinal()
    age = city.age(persons)
    out: list[dict[str, Any]] = []
    guardians = _guardians(city, persons, texts)
    for i in range(n):
        a = float(age[i])
        d: dict[str, Any]
        if group == "mental_disorder":
            onset = t0 - int(rng.uniform(1, max(a - 16, 2)) * 365)
            incidents = int(rng.choice(4, p=[0.8, 0.13, 0.05, 0.02]))
            d = {
                "economic_situation": ("贫困", "一般", "一般", "较好")[int(rng.integers(4))],
                "subsistence_allowance": bool(rng.random() < 0.3),
                "first_onset": date.fromordinal(onset).isoformat(),
                "diagnosis": _pick_label(rng, vocab.DIAGNOSES),
                "incident_count": incidents,
                "treatment_status": vocab.TREATMENT[int(rng.integers(len(vocab.TREATMENT)))],
                "hospital": vocab.HOSPITALS[int(rng.integers(len(vocab.HOSPITALS)))],
                "support_measures": vocab.SUPPORT_MENTAL[int(rng.integers(len(vocab.SUPPORT_MENTAL)))],
            }
            if incidents:
                d["last_incident"] = date.fromordinal(int(rng.integers(onset, t0))).isoformat()
            guardian = guardians[i]
            if guardian is not None:
                d["guardian_name"], d["guardian_relation"] = guardian
        elif group == "released_prisoner":
            release = t0 - int(rng.integers(30, 5 * 365))
            years = int(rng.integers(1, 10))
            d = {
                "recidivist": bool(rng.random() < 0.12),
                "original_offence": _pick_label(rng, vocab.OFFENCES_PRISON),
                "sentence": f"有期徒刑{years}年" + (f"{int(rng.integers(1, 12))}个月" if rng.random() < 0.4 else ""),
                "prison": _prison(rng, int(city.p_sex[persons[i]])),
                "release_date": date.fromordinal(release).isoformat(),
                "risk_assessment": ("低风险", "低风险", "中风险", "高风险")[int(rng.integers(4))],
                "settlement_status": vocab.SETTLEMENT[int(rng.integers(len(vocab.SETTLEMENT)))],
                "support_given": "就业帮扶",
            }
        elif group == "community_correction":
            district = city.grids.district[int(city.p_grid[persons[i]])]
            start = t0 - int(rng.integers(10, 700))
            end = max(start + int(rng.integers(180, 1100)), t0 + 30)
            d = {
                "correction_no": f"{district}{date.fromordinal(start).year}{int(rng.integers(1, 9999)):04d}",
                "correction_category": _pick_label(rng, vocab.CORRECTION_CATEGORIES),
                "offence": _pick_label(rng, vocab.OFFENCES_CORRECTION),
                "sentence": f"有期徒刑{int(rng.integers(6, 36))}个月，缓刑{int(rng.integers(1, 4))}年",
                "start_date": date.fromordinal(start).isoformat(),
                "end_date": date.fromordinal(end).isoformat(),
                "reception_method": ("报到接收", "移交接收")[int(rng.random() < 0.2)],
                "group_members": "社区民警、司法所工作人员、网格员",
            }
        elif group == "drug_user":
            d = {
                "first_discovered": date.fromordinal(t0 - int(rng.integers(180, 15 * 365))).isoformat(),
                "control_status": vocab.DRUG_CONTROL[int(rng.integers(len(vocab.DRUG_CONTROL)))],
                "controller": "社区民警",
                "support_given": ("就业帮扶", "心理疏导", "技能培训")[int(rng.integers(3))],
            }
        elif group == "hiv_aids":
            d = {
                "route_of_infection": _pick_label(rng, vocab.HIV_ROUTES),
                "case_category": vocab.HIV_CATEGORIES[int(rng.random() < 0.3)],
                "support_given": "免费抗病毒治疗",
                "attention_type": "定期随访",
            }
        else:
            d = {
                "person_category": _pick_label(rng, vocab.YOUTH_CATEGORIES),
                "family_situation": vocab.FAMILY_SITUATIONS[int(rng.integers(len(vocab.FAMILY_SITUATIONS)))],
                "support_means": vocab.SUPPORT_MEANS[int(rng.integers(len(vocab.SUPPORT_MEANS)))],
                "support_person": _random_names(rng, 1, texts)[0],
            }
            guardian = guardians[i]
            if guardian is not None:
                d["guardian_name"], d["guardian_relation"] = guardian
        out.append(d)
    return out


def _prison(rng: np.random.Generator, sex: int) -> str:
    if sex == 2:
        return vocab.WOMENS_PRISON
    return vocab.PRISONS[int(rng.integers(len(vocab.PRISONS)))]


def _pick_label(rng: np.random.Generator, pairs: Sequence[tuple[str, float]]) -> str:
    return pairs[int(_pick(rng, pairs, 1)[0])][0]


def _guardians(city: _City, persons: IntArr, texts: _Texts) -> list[tuple[str, str] | None]:
    """A household member who can be the guardian: spouse, else a parent, else an adult child (name, relation)."""
    out: list[tuple[str, str] | None] = []
    for person in persons.tolist():
        u = int(city.p_household[person])
        start, size = int(city.u_start[u]), int(city.u_size[u])
        members = range(start, start + size)
        role = int(city.p_role[person])
        best: tuple[int, int, str] | None = None
        for m in members:
            if m == person or city.age(np.array([m]))[0] < 18:
                continue
            other = int(city.p_role[m])
            relation = _relation_between(role, other, int(city.p_sex[m]))
            if relation is None:
                continue
            rank = {"配偶": 0, "父亲": 1, "母亲": 1, "儿子": 2, "女儿": 2}.get(relation, 3)
            if best is None or rank < best[0]:
                best = (rank, m, relation)
        if best is None:
            out.append(None)
        else:
            out.append((person_names(city, np.array([best[1]]), texts)[0], best[2]))
    return out


def _relation_between(role: int, other: int, other_sex: int) -> str | None:
    """What `other` is to the person with `role`, as far as the household template tells."""
    father_mother = "父亲" if other_sex == 1 else "母亲"
    son_daughter = "儿子" if other_sex == 1 else "女儿"
    pairs = {
        (H, S): "配偶",
        (S, H): "配偶",
        (C, L): "配偶",
        (L, C): "配偶",
        (C, H): father_mother,
        (C, S): father_mother,
        (G, C): father_mother,
        (G, L): father_mother,
        (H, P): father_mother,
        (H, C): son_daughter,
        (S, C): son_daughter,
        (P, H): son_daughter,
        (G, H): "祖父母",
        (G, S): "祖父母",
        (H, B): "兄弟姐妹",
        (B, H): "兄弟姐妹",
    }
    return pairs.get((role, other))


CARE_COLUMNS: tuple[str, ...] = (
    "id",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
    "person_id",
    "care_group",
    "attention_level",
    "risk_level",
    "responsible_user_id",
    "visit_interval_days",
    "last_visit_on",
    "next_visit_due",
    "details",
    "active",
    "created_at",
    "updated_at",
)
VISIT_COLUMNS: tuple[str, ...] = (
    "id",
    "special_care_id",
    "visited_on",
    "worker_user_id",
    "form",
    "findings",
    "next_visit_due",
    "created_at",
)


# -- the whole build -----------------------------------------------------------------------------------------


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


TABLES: tuple[Table, ...] = tuple(
    _table(m) for m in (House, Household, Person, Residence, Tenancy, Organisation, Place, School, SpecialCare, Visit)
)
_POPULATION_TABLES: tuple[tuple[Table, tuple[str, ...], str], ...] = (
    (_table(House), HOUSE_COLUMNS, "houses"),
    (_table(Household), HOUSEHOLD_COLUMNS, "households"),
    (_table(Person), PERSON_COLUMNS, "people"),
    (_table(Residence), RESIDENCE_COLUMNS, "residences"),
    (_table(Tenancy), TENANCY_COLUMNS, "tenancies"),
)


def local_today() -> date:
    return utcnow().astimezone(TZ).date()


def default_workers() -> int:
    """Processes that build and encrypt chunks while this one writes, by default none.

    Measured on the 2-vCPU reference machine (bench/bench_population.py), a forked builder made the load
    slower, not faster: the vCPUs are shared, and the writer then competes for the GIL with the thread
    that unpickles the chunks. Pass `workers=` to try it on bigger machines (Linux only: the workers are
    forked so that they inherit the city and the keyring without either travelling through a pipe).
    """
    return 0


def can_fork() -> bool:
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


# What forked workers inherit: the city, the keyring (its keys never travel through a pipe), texts, stamp, seed.
_inherited: tuple[_City, Keyring, _Texts, str, int] | None = None


def _build_chunk(task: _Task) -> _ChunkOut:
    assert _inherited is not None
    city, keyring, texts, stamp, seed = _inherited
    rng = np.random.default_rng([seed, 2, task.number])
    return _chunk_rows(city, task.grids, keyring, texts, _Ids(task.residence_start, task.tenancy_start), stamp, rng)


@contextmanager
def _chunk_results(tasks: list[_Task], workers: int) -> Iterator[Iterator[_ChunkOut]]:
    """Chunk rows in task order, built by `workers` forked processes (at most two chunks in flight per
    worker, so memory stays flat) or, with no workers, here."""
    if workers <= 0 or not can_fork():
        yield (_build_chunk(task) for task in tasks)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:

        def results() -> Iterator[_ChunkOut]:
            pending: deque[Any] = deque()
            queue = iter(tasks)
            for task in itertools.islice(queue, 2 * workers):
                pending.append(pool.apply_async(_build_chunk, (task,)))
            while pending:
                result = pending.popleft().get()
                for task in itertools.islice(queue, 1):
                    pending.append(pool.apply_async(_build_chunk, (task,)))
                yield result

        yield results()


def build_population(
    database: Database,
    *,
    scale: float,
    seed: int,
    keyring: Keyring,
    progress: Progress | RichProgress | None = None,
    today: date | None = None,
    workers: int | None = None,
    chunk_people: int = CHUNK_PEOPLE,
    rebuild_indexes: bool = True,
) -> PopulationStats:
    """Generate the population of the demo city already in `database` and write it in one transaction.

    `scale` sizes the organisations, places and schools (the people follow the grids' figures); `today`
    is the reference date of ages and visits (default: today in Asia/Shanghai); `workers` processes build
    and encrypt chunks while this one writes (default: `default_workers()`, i.e. none: built here).
    Raises PopulationExists when the registry already holds houses or people.
    """
    global _inherited
    report = _reporter(progress) or (lambda _stage, _done, _total: None)
    today = today or local_today()
    workers = default_workers() if workers is None else workers
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    started = time.perf_counter()
    texts = _Texts.make()
    if database.is_sqlite:
        # Idle pooled connections would keep SQLite in WAL mode (see BulkLoader.prepare).
        database.engine.dispose()
        database.write_engine.dispose()
    with database.write_engine.connect() as connection:
        loader = BulkLoader(connection, TABLES, rebuild_indexes=rebuild_indexes)
        loader.prepare()
        try:
            with connection.begin():
                for table in (_table(House), _table(Person)):
                    if connection.execute(select(table.c.id).limit(1)).first() is not None:
                        raise PopulationExists(
                            "the registry already holds houses or people; the demo population goes into an empty one"
                        )
                city = generate(connection, seed=seed, today=today)
                timings["generate"] = time.perf_counter() - started
                report("houses", len(city.h_grid), len(city.h_grid))
                report("people", len(city.p_kind), len(city.p_kind))
                stamp = loader.timestamp(utcnow())
                loader.open()
                mark = time.perf_counter()
                tasks = _tasks(city, chunk_people)
                encrypted = 0
                write_time = 0.0
                total, done = len(city.p_kind), 0
                _inherited = (city, keyring, texts, stamp, seed)
                try:
                    with _chunk_results(tasks, workers) as results:
                        for out in results:
                            encrypted += out.encrypted
                            done += len(out.people)
                            report("encryption", done, total)
                            write_mark = time.perf_counter()
                            for table, columns, name in _POPULATION_TABLES:
                                rows = getattr(out, name)
                                loader.insert(table, columns, rows)
                                counts[name] = counts.get(name, 0) + len(rows)
                            write_time += time.perf_counter() - write_mark
                            report("write", done, total)
                finally:
                    _inherited = None
                timings["people_rows_and_write"] = time.perf_counter() - mark
                mark = time.perf_counter()
                rng = np.random.default_rng([seed, 3])
                organisations, org_encrypted = _organisations(city, scale, keyring, texts, stamp, rng)
                places, place_encrypted = _places(city, scale, keyring, texts, stamp, rng)
                schools = _schools(city, scale, texts, stamp, rng)
                encrypted += org_encrypted + place_encrypted
                report(
                    "organisations",
                    len(organisations) + len(places) + len(schools),
                    len(organisations) + len(places) + len(schools),
                )
                care, visits = _care(city, texts, stamp, np.random.default_rng([seed, 4]))
                report("special care", len(care), len(care))
                timings["organisations_and_care"] = time.perf_counter() - mark
                write_mark = time.perf_counter()
                for model, columns, rows, name in (
                    (Organisation, ORGANISATION_COLUMNS, organisations, "organisations"),
                    (Place, PLACE_COLUMNS, places, "places"),
                    (School, SCHOOL_COLUMNS, schools, "schools"),
                    (SpecialCare, CARE_COLUMNS, care, "special_care"),
                    (Visit, VISIT_COLUMNS, visits, "visits"),
                ):
                    loader.insert(_table(model), columns, rows)
                    counts[name] = len(rows)
                write_time += time.perf_counter() - write_mark
                timings["write"] = write_time
                mark = time.perf_counter()
                loader.close()
                timings["indexes_and_checks"] = time.perf_counter() - mark
                mark = time.perf_counter()
            timings["commit"] = time.perf_counter() - mark
        finally:
            loader.restore()
    timings["total"] = time.perf_counter() - started
    by_type = {name: int((city.p_kind == k).sum()) for k, name in enumerate(PERSON_TYPES)}
    uses = {name: int((city.h_use == k).sum()) for k, name in enumerate(USES)}
    return PopulationStats(scale, seed, counts, by_type, uses, encrypted, timings)
