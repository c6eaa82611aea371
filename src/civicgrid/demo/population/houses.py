"""Houses and the households in them: per grid, house use and address parts (urban buildings, units and
rooms; village 组 and numbers), floor areas and locations; households placed in the occupied houses with
sizes that add up to each grid's residents; the owner of every house; the address text, chunk by chunk.
"""

from __future__ import annotations

import numpy as np

from civicgrid.demo import vocab
from civicgrid.demo.population.model import (
    BUSINESS,
    FLOATING,
    FOREIGN,
    REGISTERED,
    RENTED,
    SELF,
    VACANT,
    IntArr,
    _City,
    _Grids,
)
from civicgrid.demo.population.sampling import _allocate, _categorical_rows, points_in_polygon

USE_SHARES = {True: (0.695, 0.205, 0.07, 0.03), False: (0.84, 0.06, 0.07, 0.03)}  # urban, rural


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
