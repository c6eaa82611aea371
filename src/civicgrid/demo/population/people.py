"""The people of every household: a household template per size that fixes each member's relation to the
head, ages, sexes, surnames and given names, ethnicity, religion, education, marital and political status
consistent with age, occupations, ID regions, phones, residence history and foreigners' nationalities.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from civicgrid.demo import vocab
from civicgrid.demo.population.identifiers import _id_regions
from civicgrid.demo.population.model import (
    FLOATING,
    FOREIGN,
    REGISTERED,
    Arr,
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
from civicgrid.demo.population.sampling import _categorical_rows, _pick, _weights

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
