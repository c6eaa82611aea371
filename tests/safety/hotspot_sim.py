"""Synthetic point processes with known hotspots, for the forecast and back-test tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import shapely
from shapely.geometry import box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.core.db import Database
from civicgrid.geo import lookup
from civicgrid.geo.geometry import from_wkb
from civicgrid.geo.models import Division
from civicgrid.safety.cells import CellGrid, build_cells
from civicgrid.safety.counts import local_day
from civicgrid.safety.forecast import Events, FloatArray, IntArray, UnitSpace
from civicgrid.safety.models import SafetyIncident

OUTLINE = box(117.0, 32.0, 117.2, 32.2)  # about 18.9 km × 22.3 km: ~1,680 cells of 500 m


def city(size: float = 500) -> tuple[CellGrid, UnitSpace]:
    cells = build_cells(OUTLINE, size)
    return cells, UnitSpace(cells.area_km2, cells.raster())


def in_cells(rng: np.random.Generator, cells: CellGrid, unit: IntArray) -> tuple[FloatArray, FloatArray]:
    """A point uniformly inside each given cell."""
    left = cells.x0 + cells.cols[unit] * cells.size
    bottom = cells.y0 + cells.rows[unit] * cells.size
    return left + rng.uniform(0, cells.size, unit.shape[0]), bottom + rng.uniform(0, cells.size, unit.shape[0])


def static_hotspot(
    rng: np.random.Generator, cells: CellGrid, hot: int, days: float, background: float, hot_rate: float
) -> Events:
    """Events uniform over the cells at `background` a day, plus `hot_rate` a day in cell `hot`."""
    n_background = rng.poisson(background * days)
    n_hot = rng.poisson(hot_rate * days)
    unit = np.concatenate([rng.integers(0, len(cells), n_background), np.full(n_hot, hot)]).astype(np.int64)
    x, y = in_cells(rng, cells, unit)
    t = rng.uniform(0, days, unit.shape[0])
    return Events.of(x, y, t, cells.locate_xy(x, y))


def self_exciting(
    rng: np.random.Generator, mu: FloatArray, theta: float, omega: float, days: float
) -> tuple[FloatArray, IntArray]:
    """Times and units of the grid-cell self-exciting process, by its branching structure: background
    events at rate μ_n; each event has Poisson(θ) children after Exp(ω) delays, in its own unit."""
    times: list[FloatArray] = []
    units: list[IntArray] = []
    n = mu.shape[0]
    generation_t = rng.uniform(0, days, rng.poisson(mu.sum() * days))
    generation_u = rng.choice(n, generation_t.shape[0], p=mu / mu.sum()).astype(np.int64)
    while generation_t.size:
        times.append(generation_t)
        units.append(generation_u)
        children = rng.poisson(theta, generation_t.shape[0])
        parent_t = np.repeat(generation_t, children)
        generation_u = np.repeat(generation_u, children)
        generation_t = parent_t + rng.exponential(1.0 / omega, parent_t.shape[0])
        keep = generation_t < days
        generation_t, generation_u = generation_t[keep], generation_u[keep]
    return np.concatenate(times), np.concatenate(units)


def add_incidents(
    session: Session,
    points: list[tuple[float, float]],
    times: list[datetime],
    *,
    category: str = "0101",
    precision: str = "second",
    prefix: str = "T",
) -> int:
    """Store incidents at lon/lat points and UTC times, placed in their grid (or district) as a feed would."""
    index = lookup.get_index(session)
    divisions = {d.code: d for d in session.scalars(select(Division))}
    districts = [d for d in divisions.values() if d.level == "district"]
    start = session.scalar(select(func.count()).select_from(SafetyIncident)) or 0
    for number, ((lon, lat), moment) in enumerate(zip(points, times, strict=True), start=start):
        position = index.locate(lon, lat)
        if position >= 0:
            place = divisions[str(index.codes[position])]
        else:
            place = next(d for d in districts if shapely.intersects_xy(from_wkb(d.geometry), lon, lat))  # type: ignore[arg-type]
        session.add(
            SafetyIncident(
                source="110",
                record_id=f"{prefix}{number}",
                occurred_at=moment,
                time_precision=precision,
                day=local_day(moment),
                category_code=category,
                division_code=place.code,
                lon=lon,
                lat=lat,
                district_code=place.district_code,
                street_code=place.street_code,
                community_code=place.community_code,
                grid_code=place.grid_code,
            )
        )
    session.flush()
    return len(points)


HOT_POINT = (117.1, 32.2)  # in grid A1 of the tiny city
OTHER_HOT_POINT = (117.8, 32.4)  # in the other district (no grids)
FIRST_DAY = date(2024, 6, 3)
LAST_DAY = date(2025, 6, 1)  # a Sunday: the week of 2025-06-02 is the next period


def load_hotspot_data(db: Database, seed: int = 5) -> int:
    """The tiny city with a year of theft calls (FIRST_DAY to LAST_DAY): 700 spread over the city, 250 at a
    hot point of grid A1 and 100 at one of the other district. Returns how many were stored."""
    from civicgrid.safety.categories import seed_safety_categories

    rng = np.random.default_rng(seed)
    days = (LAST_DAY - FIRST_DAY).days + 1
    start = datetime.combine(FIRST_DAY, time(), tzinfo=UTC) - timedelta(hours=8)  # local midnight

    def moments(n: int) -> list[datetime]:
        return [start + timedelta(days=float(d)) for d in np.sort(rng.uniform(0, days, n))]

    spread = list(zip(rng.uniform(117.0, 118.0, 700).tolist(), rng.uniform(32.0, 33.0, 700).tolist(), strict=True))
    hot = [(HOT_POINT[0] + dx, HOT_POINT[1] + dy) for dx, dy in rng.normal(0, 0.002, (250, 2)).tolist()]
    other = [(OTHER_HOT_POINT[0] + dx, OTHER_HOT_POINT[1] + dy) for dx, dy in rng.normal(0, 0.002, (100, 2)).tolist()]
    with db.unit_of_work() as session:
        seed_safety_categories(session)
        stored = add_incidents(session, spread, moments(700), prefix="S")
        stored += add_incidents(session, hot, moments(250), prefix="H", category="0201")
        stored += add_incidents(session, other, moments(100), prefix="O", category="0105")
    return stored
