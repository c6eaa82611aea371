"""The model of the population: the grids and ID regions it is read from, the codes of house uses,
person kinds and household roles, and `_City`, every house, household and person of the city as numpy
columns (numbers only; text is made chunk by chunk, see `rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, func, select

from civicgrid.core.idnumber import regions
from civicgrid.demo.city import short_name
from civicgrid.geo.models import Division
from civicgrid.org.models import GridAssignment

Arr = npt.NDArray[Any]
IntArr = npt.NDArray[np.int64]

# House use: self 自住, rented 出租, vacant 闲置, business 经营.
USES = ("self", "rented", "vacant", "business")
SELF, RENTED, VACANT, BUSINESS = range(4)
# Person kinds.
REGISTERED, FLOATING, FOREIGN = range(3)
PERSON_TYPES = ("registered", "floating", "foreign")

# Roles in a household and their relation codes (code table `relation`).
H, S, C, P, L, G, B = range(7)


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
