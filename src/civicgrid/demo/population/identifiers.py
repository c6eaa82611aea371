"""Identifiers and their encryption: the sequence digits of ID numbers (unique per region, birth date and
sex across the city) and the numbers made from them, unified social credit codes with their check
characters, and the encryption contexts with the (token, blind index) pairs of the encrypted columns.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from civicgrid.core.crypto import Keyring
from civicgrid.core.idnumber import Sex, make_id_number
from civicgrid.demo.population.model import (
    BENGBU_ID_REGIONS,
    DISTRICT_ID_REGION,
    FOREIGN,
    REGISTERED,
    Arr,
    IntArr,
    L,
    S,
    _City,
)
from civicgrid.demo.population.sampling import _rank_within

ID_CONTEXT = "person.id_number"
PHONE_CONTEXT = "person.phone"
DOCUMENT_CONTEXT = "person.document_no"
OWNER_ID_CONTEXT = "house.owner_id_number"
LEGAL_REP_PHONE_CONTEXT = "organisation.legal_rep_phone"
SECURITY_PHONE_CONTEXT = "organisation.security_officer_phone"
PLACE_PHONE_CONTEXT = "place.phone"


CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)])
ORG_CODE_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])


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
