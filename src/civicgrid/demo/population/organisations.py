"""Organisations, places and schools: how many at a scale, spread over the grids in proportion to
households (towns weighing more), located inside their grid, named after the city's vocabulary, with
credit codes and encrypted contact phones.
"""

from __future__ import annotations

import numpy as np

from civicgrid.core.crypto import Keyring
from civicgrid.demo import vocab
from civicgrid.demo.bulk import Row
from civicgrid.demo.population.identifiers import (
    LEGAL_REP_PHONE_CONTEXT,
    PLACE_PHONE_CONTEXT,
    SECURITY_PHONE_CONTEXT,
    credit_codes,
)
from civicgrid.demo.population.model import DISTRICT_ID_REGION, Arr, IntArr, _City
from civicgrid.demo.population.sampling import _dates, _pick, points_in_polygon
from civicgrid.demo.population.texts import _phones, _random_names, _Texts

# Reference figures at scale 1 (DESIGN.md, top).
ECONOMIC_ORGANISATIONS = 40_000
SOCIAL_ORGANISATIONS = 3_000
PLACES = 8_000
SCHOOLS = 1_200


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
