"""The demo police calls and recorded incidents: volumes by scale and line, rows as the feed would store them,
every incident inside its grid and the city, daily counts equal to the incident table, the planted surges
standing out in the daily counts, determinism, and — on a larger draw kept in memory — the category mix,
the hour, weekday and season rhythms, hotspots a forecast can find and near-repeats.

One city (the default scale 0.05, every grid of the reference city) with a small case history (scale 0.002) is
built once for the module, and calls at scale 0.005 (~6,000 calls) are written into it.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
import shapely
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from civicgrid.cases.models import Case
from civicgrid.core import clock
from civicgrid.core.db import Database
from civicgrid.core.workcalendar import load_calendar
from civicgrid.demo.accounts import create_demo_accounts
from civicgrid.demo.cases import build_cases, hotspot_communities
from civicgrid.demo.city import build_city
from civicgrid.demo.population.model import _Grids, _load_grids
from civicgrid.demo.safety import (
    IncidentsExist,
    SafetyStats,
    build_safety,
    call_counts,
    call_hotspots,
    draw_incidents,
    mix,
    planted_surges,
)
from civicgrid.demo.safety.draw import CLASSES, DAY, LEAVES, RHYTHMS, SOURCE_INDEX, Drawn
from civicgrid.geo.models import Division
from civicgrid.safety.counts import LOCAL_TZ
from civicgrid.safety.models import SafetyCategory, SafetyDailyCount, SafetyDirtyDay, SafetyFeedState, SafetyIncident
from civicgrid.seeds import load_reference_data
from tests.conftest import _empty_all_tables

pytestmark = pytest.mark.slow

CITY_SCALE = 0.05  # households as in `make demo`: the grid weights; the city takes as long at any scale
CASES_SCALE = 0.002
SCALE = 0.005
SEED = 20261129
NOW = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
FIRST_DAY = date(2023, 5, 1)  # three years (1,096 days) before the local day of NOW
LAST_DAY = date(2026, 5, 1)
SAFETY_TABLES = (SafetyIncident, SafetyDailyCount, SafetyDirtyDay, SafetyFeedState)


@dataclass
class Built:
    db: Database
    stats: SafetyStats
    grids: _Grids
    holidays: set[date]
    stages: dict[str, tuple[int, int]]


def _empty_safety(db: Database) -> None:
    with db.unit_of_work() as session:
        for model in SAFETY_TABLES:
            session.execute(delete(model))


@pytest.fixture(scope="module")
def built(database: Database) -> Built:
    _empty_all_tables(database)
    clock.reset()
    with database.unit_of_work() as session:
        load_reference_data(session)
        build_city(session, scale=CITY_SCALE, seed=SEED)
        create_demo_accounts(session, seed=SEED)
    build_cases(database, scale=CASES_SCALE, seed=SEED, now=NOW)
    stages: dict[str, tuple[int, int]] = {}
    stats = build_safety(
        database,
        scale=SCALE,
        seed=SEED,
        now=NOW,
        progress=lambda stage, done, total: stages.update({stage: (done, total)}),
    )
    with database.engine.connect() as connection, Session(bind=connection) as session:
        grids = _load_grids(connection)
        holidays = {d for d, (kind, _) in load_calendar(session).days.items() if kind == "holiday"}
    return Built(database, stats, grids, holidays, stages)


@pytest.fixture
def s(built: Built) -> Iterator[Session]:
    with built.db.sessions() as session:
        yield session
        session.rollback()


@pytest.fixture(scope="module")
def large(built: Built) -> Drawn:
    """Calls at scale 0.05 (~72,000 with the records), drawn in memory on the same grids."""
    return draw_incidents(built.grids, built.holidays, scale=0.05, seed=SEED, first_day=FIRST_DAY, now=NOW)


def _calls(drawn: Drawn) -> np.ndarray:
    return drawn.incidents.source != SOURCE_INDEX["records"]


# -- volumes and rows ----------------------------------------------------------------------------------------


def test_volumes_follow_the_scale_and_the_lines(built: Built, s: Session) -> None:
    expected = call_counts(SCALE)
    assert expected == {"110": 5100, "119": 300, "122": 600}
    assert call_counts(1) == {"110": 1_020_000, "119": 60_000, "122": 120_000}
    counts = built.stats.counts
    planted = defaultdict(int)
    for plan in built.stats.surges:
        planted[mix.SURGE_SOURCE[plan.surge.klass]] += plan.planted
    for source, n in expected.items():
        # the surges come on top; near-repeat follow-ups replace calls of the base draw (a few cut off by NOW)
        assert n * 0.98 <= counts[source] - planted[source] <= n * 1.01, source
    calls = sum(counts[source] for source in expected)
    assert 0.18 * calls <= counts["records"] <= 0.22 * calls
    by_source = dict(s.execute(select(SafetyIncident.source, func.count()).group_by(SafetyIncident.source)).all())
    assert by_source == counts
    assert built.stats.first_day == FIRST_DAY and built.stats.last_day == LAST_DAY
    assert built.stages["police calls"] == (built.stats.incidents, built.stats.incidents)
    assert built.stages["safety daily counts"] == (2, 2)


def test_rows_are_stored_as_the_feeds_store_them(built: Built, s: Session) -> None:
    rows = s.execute(
        select(
            SafetyIncident.source,
            SafetyIncident.record_id,
            SafetyIncident.occurred_at,
            SafetyIncident.time_precision,
            SafetyIncident.day,
            SafetyIncident.category_code,
            SafetyIncident.raw_category,
            SafetyIncident.division_code,
            SafetyIncident.district_code,
            SafetyIncident.street_code,
            SafetyIncident.community_code,
            SafetyIncident.grid_code,
            SafetyIncident.address,
        )
    ).all()
    names = dict(s.execute(select(SafetyCategory.code, SafetyCategory.name_zh)).all())
    prefixes = {"110": "110", "119": "119", "122": "122", "records": "AJ"}
    pattern = {source: re.compile(rf"^{prefix}-(\d{{4}})-\d{{6}}$") for source, prefix in prefixes.items()}
    numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
    day_only = 0
    for r in rows:
        match = pattern[r.source].match(r.record_id)
        assert match, r.record_id
        numbers[(r.source, match.group(1))].append(int(r.record_id[-6:]))
        local = r.occurred_at.astimezone(LOCAL_TZ)
        assert int(match.group(1)) == r.day.year
        assert r.day == local.date()
        assert FIRST_DAY <= r.day <= LAST_DAY and r.occurred_at <= NOW
        if r.time_precision == "day":
            assert r.source == "records" and local.time() == time(0)
            day_only += 1
        else:
            assert r.time_precision == "second"
        assert r.category_code in names and r.raw_category == names[r.category_code]
        assert r.division_code == r.grid_code
        assert r.grid_code.startswith(r.community_code) and r.community_code.startswith(r.street_code)
        assert r.street_code.startswith(r.district_code) and r.address.startswith("蚌埠市")
    for key, seen in numbers.items():  # numbered from 1 per line and year, no gaps
        assert sorted(seen) == list(range(1, len(seen) + 1)), key
    records = built.stats.counts["records"]
    assert 0.3 * records <= day_only <= 0.5 * records


def test_every_incident_lies_inside_its_grid_and_the_city(s: Session) -> None:
    shapes = {
        code: shapely.from_wkb(wkb)
        for code, wkb in s.execute(select(Division.code, Division.geometry).where(Division.level == "grid"))
    }
    city = shapely.union_all(list(shapes.values()))
    by_grid: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for grid, lon, lat in s.execute(select(SafetyIncident.grid_code, SafetyIncident.lon, SafetyIncident.lat)):
        by_grid[grid].append((lon, lat))
    everything = []
    for grid, points in by_grid.items():
        xy = np.array(points)
        assert shapely.contains_xy(shapes[grid], xy[:, 0], xy[:, 1]).all(), grid
        everything.append(xy)
    xy = np.concatenate(everything)
    assert shapely.contains_xy(city.buffer(1e-9), xy[:, 0], xy[:, 1]).all()


def test_daily_counts_equal_the_incident_table_and_the_cases(built: Built, s: Session) -> None:
    klass = func.substr(SafetyIncident.category_code, 1, 2)
    tallies: dict[tuple[str, date, str], list[int]] = {}
    for code, day, source, k, n, deaths, injuries in s.execute(
        select(
            SafetyIncident.division_code,
            SafetyIncident.day,
            SafetyIncident.source,
            klass,
            func.count(),
            func.sum(SafetyIncident.deaths),
            func.sum(SafetyIncident.injuries),
        ).group_by(SafetyIncident.division_code, SafetyIncident.day, SafetyIncident.source, klass)
    ):
        tally = tallies.setdefault((code, day, f"{'rec' if source == 'records' else 'inc'}:{k}"), [0, 0, 0])
        tally[0] += n
        tally[1] += deaths
        tally[2] += injuries
    expected = {key: (n, deaths, injuries) for key, (n, deaths, injuries) in tallies.items()}
    counted = {
        (r.division_code, r.day, r.kind): (r.count, r.deaths, r.injuries)
        for r in s.scalars(
            select(SafetyDailyCount).where(SafetyDailyCount.kind.like("inc:%") | SafetyDailyCount.kind.like("rec:%"))
        )
    }
    assert counted == expected
    assert built.stats.daily_counts == len(counted)
    cases = s.scalar(select(func.count()).select_from(Case))
    assert cases and built.stats.cases_counted == cases
    assert s.scalar(select(func.sum(SafetyDailyCount.count)).where(SafetyDailyCount.kind.like("case:%"))) == cases
    assert s.get(SafetyFeedState, "cases").last_id == s.scalar(select(func.max(Case.id)))  # type: ignore[union-attr]
    dirty = set(s.scalars(select(SafetyDirtyDay.day)))
    assert {day for _, day, _ in counted} <= dirty


def test_casualties_where_they_belong(s: Session) -> None:
    rows = s.execute(
        select(
            SafetyIncident.category_code,
            func.count(),
            func.sum(SafetyIncident.deaths),
            func.sum(SafetyIncident.injuries),
            func.min(SafetyIncident.injuries),
        ).group_by(SafetyIncident.category_code)
    ).all()
    for code, _n, deaths, injuries, _least in rows:
        if code not in mix.CASUALTIES:
            assert deaths == injuries == 0, code
    by_code = {r[0]: r for r in rows}
    assert by_code["0501"][4] >= 1  # every accident with casualties has an injured person
    assert by_code["0502"][2] == by_code["0502"][3] == 0
    assert by_code["0401"][2] <= 0.02 * by_code["0401"][1]


# -- planted surges ------------------------------------------------------------------------------------------


def test_planted_surges_are_fixed_by_the_seed(built: Built) -> None:
    grids = built.grids
    surges = planted_surges(grids.community, grids.urban.tolist(), SEED, FIRST_DAY, LAST_DAY)
    assert surges == [plan.surge for plan in built.stats.surges]
    # the communities alone decide: one entry per community gives the same list as one per grid
    flags: dict[str, bool] = {}
    for community, is_urban in zip(grids.community, grids.urban.tolist(), strict=True):
        flags[community] = flags.get(community, False) or is_urban
    assert planted_surges(list(flags), list(flags.values()), SEED, FIRST_DAY, LAST_DAY) == surges
    assert planted_surges(grids.community, grids.urban.tolist(), SEED + 1, FIRST_DAY, LAST_DAY) != surges
    assert len(surges) == mix.SURGES == 24
    assert len({x.area_code for x in surges}) == len(surges)
    assert sum(flags[x.area_code] for x in surges) == 18
    for x in surges:
        assert 3 <= x.days <= 10 and 3.0 <= x.factor <= 6.0
        assert x.kind in {f"inc:{c}" for c in mix.SURGE_CLASSES}
        assert FIRST_DAY + timedelta(days=90) <= x.first_day and x.last_day < LAST_DAY
    recent = [x for x in surges if x.first_day > LAST_DAY - timedelta(days=mix.RECENT_DAYS)]
    assert len(recent) == mix.RECENT_SURGES
    assert sorted(x.last_day for x in recent)[-2:] == [LAST_DAY - timedelta(days=3), LAST_DAY - timedelta(days=1)]


def test_planted_surges_refuse_a_short_span(built: Built) -> None:
    with pytest.raises(ValueError, match="six months"):
        planted_surges(
            built.grids.community, built.grids.urban.tolist(), SEED, LAST_DAY - timedelta(days=100), LAST_DAY
        )


def test_planted_surges_stand_out_in_the_daily_counts(built: Built, s: Session) -> None:
    for plan in built.stats.surges:
        surge = plan.surge
        assert plan.planted >= round(mix.SURGE_MIN_EXTRA * surge.days)
        rows = s.execute(
            select(SafetyDailyCount.day, func.sum(SafetyDailyCount.count))
            .where(SafetyDailyCount.kind == surge.kind, SafetyDailyCount.division_code.like(f"{surge.area_code}%"))
            .group_by(SafetyDailyCount.day)
        ).all()
        inside = sum(n for day, n in rows if surge.first_day <= day <= surge.last_day)
        before = sum(n for day, n in rows if surge.first_day - timedelta(days=90) <= day < surge.first_day)
        usual = before / 90
        assert inside >= plan.planted, surge
        assert inside / surge.days >= max(3 * usual, usual + 1), (surge, inside, usual)


# -- determinism and bad input -------------------------------------------------------------------------------


def _fingerprint(s: Session) -> str:
    digest = hashlib.sha256()
    for row in s.execute(
        select(
            SafetyIncident.id,
            SafetyIncident.source,
            SafetyIncident.record_id,
            SafetyIncident.occurred_at,
            SafetyIncident.category_code,
            SafetyIncident.grid_code,
            SafetyIncident.lon,
            SafetyIncident.lat,
            SafetyIncident.deaths,
            SafetyIncident.injuries,
        ).order_by(SafetyIncident.id)
    ):
        digest.update(
            repr((*row[:3], row[3].isoformat(), *row[4:6], round(row[6], 9), round(row[7], 9), *row[8:])).encode()
        )
    return digest.hexdigest()


def test_refusals_change_nothing(built: Built, s: Session) -> None:
    before = (_fingerprint(s), s.scalar(select(func.count()).select_from(SafetyDailyCount)))
    s.rollback()
    with pytest.raises(IncidentsExist):
        build_safety(built.db, scale=SCALE, seed=SEED, now=NOW)
    with built.db.unit_of_work() as session:
        session.execute(update(SafetyCategory).where(SafetyCategory.code == "0106").values(active=False))
    try:
        with pytest.raises(RuntimeError, match="0106"):
            build_safety(built.db, scale=SCALE, seed=SEED, now=NOW)
    finally:
        with built.db.unit_of_work() as session:
            session.execute(update(SafetyCategory).where(SafetyCategory.code == "0106").values(active=True))
    s.rollback()
    assert (_fingerprint(s), s.scalar(select(func.count()).select_from(SafetyDailyCount))) == before


def test_the_same_seed_gives_the_same_calls(built: Built, s: Session) -> None:
    first = _fingerprint(s)
    counts = s.scalar(select(func.sum(SafetyDailyCount.count)))
    s.rollback()
    _empty_safety(built.db)
    again = build_safety(built.db, scale=SCALE, seed=SEED, now=NOW)
    assert again.counts == built.stats.counts and again.surges == built.stats.surges
    assert _fingerprint(s) == first
    assert s.scalar(select(func.sum(SafetyDailyCount.count))) == counts
    other = draw_incidents(built.grids, built.holidays, scale=SCALE, seed=SEED + 1, first_day=FIRST_DAY, now=NOW)
    same = draw_incidents(built.grids, built.holidays, scale=SCALE, seed=SEED, first_day=FIRST_DAY, now=NOW)
    assert len(same.incidents) == again.incidents
    assert len(other.incidents) != len(same.incidents) or not np.array_equal(other.incidents.grid, same.incidents.grid)


# -- the make-up, on a larger draw in memory -----------------------------------------------------------------


def test_volumes_are_proportional_to_the_scale(built: Built, large: Drawn) -> None:
    small = draw_incidents(built.grids, built.holidays, scale=0.0125, seed=SEED, first_day=FIRST_DAY, now=NOW)
    assert [p.surge for p in small.surges] == [p.surge for p in large.surges]
    extra = {source: 0 for source in mix.SOURCES}
    for drawn in (small, large):
        for plan in drawn.surges:
            extra[mix.SURGE_SOURCE[plan.surge.klass]] += plan.planted
    for source in mix.SOURCES:
        n_small = int((small.incidents.source == SOURCE_INDEX[source]).sum())
        n_large = int((large.incidents.source == SOURCE_INDEX[source]).sum())
        assert n_large / n_small == pytest.approx(4, rel=0.06), source


def test_category_mix_per_line(large: Drawn) -> None:
    incidents = large.incidents
    for source in mix.CALL_SOURCES:
        mine = incidents.source == SOURCE_INDEX[source]
        share = np.bincount(incidents.leaf[mine], minlength=len(LEAVES)) / mine.sum()
        total = sum(mix.SOURCE_MIX[source].values())
        for k, leaf in enumerate(LEAVES):
            assert share[k] == pytest.approx(mix.SOURCE_MIX[source].get(leaf, 0) / total, abs=0.015), (source, leaf)
    records = incidents.leaf[incidents.source == SOURCE_INDEX["records"]]
    assert {LEAVES[k][:2] for k in np.unique(records).tolist()} == {"01", "02"}


def test_hours_weekdays_and_seasons(large: Drawn) -> None:
    incidents = large.incidents
    calls = _calls(large)
    hour = ((incidents.local % DAY) // 3600).astype(int)
    rhythm = np.array([RHYTHMS.index(mix.RHYTHM[leaf]) for leaf in LEAVES])[incidents.leaf]
    for r, name in enumerate(RHYTHMS):
        mine = calls & (rhythm == r)
        shares = np.bincount(hour[mine], minlength=24) / mine.sum()
        expected = np.asarray(mix.HOURS[name]) / sum(mix.HOURS[name])
        assert np.abs(shares - expected).max() < 0.03, name

    def hours_share(leaf: str, hours: list[int]) -> float:
        mine = calls & (incidents.leaf == LEAVES.index(leaf))
        return float(np.isin(hour[mine], hours).mean())

    assert hours_share("0201", [20, 21, 22, 23, 0, 1, 2]) > 0.45  # fights at night
    assert hours_share("0101", list(range(8, 18))) > 0.6  # thefts by day
    assert hours_share("0502", [7, 8, 17, 18]) > 2.5 * hours_share("0502", [2, 3, 4, 5])  # rush hours
    day = np.floor(incidents.local / DAY).astype("datetime64[D]")
    weekday = (day.astype(np.int64) + 3) % 7
    month = day.astype("datetime64[M]").astype(np.int64) % 12 + 1

    def count(leaf: str, where: np.ndarray) -> int:
        return int((calls & (incidents.leaf == LEAVES.index(leaf)) & where).sum())

    assert count("0201", weekday == 5) > 1.3 * count("0201", weekday == 1)  # Saturdays, Tuesdays
    assert count("0201", month == 7) > 1.6 * count("0201", month == 1)
    assert count("0401", month == 1) > 1.6 * count("0401", month == 7)
    assert count("0502", weekday == 0) > 1.15 * count("0502", weekday == 6)


def test_hotspots_make_forecasts_beat_chance(built: Built, large: Drawn) -> None:
    incidents = large.incidents
    grids = built.grids
    crime = _calls(large) & np.isin(np.array([leaf[:2] for leaf in LEAVES])[incidents.leaf], ["01", "02"])
    day = np.floor(incidents.local / DAY)
    test = day > day.max() - 365
    area = np.array([g.area for g in grids.geometry])
    density = np.bincount(incidents.grid[crime & ~test], minlength=len(grids)) / area
    order = np.argsort(-density)
    top = order[: np.searchsorted(np.cumsum(area[order]) / area.sum(), 0.05) + 1]
    hits = np.isin(incidents.grid[crime & test], top).mean()
    assert hits / 0.05 > 3  # PAI at 5 % of the area, from past counts alone
    # call hotspots: their leaves far more often than in the community's other grids, half round one spot
    first: dict[str, int] = {}
    for index, community in enumerate(grids.community):
        first.setdefault(community, index)
    spots = call_hotspots(grids.community, grids.urban.tolist(), SEED)
    assert len(spots) == sum(n for _, n, _, _ in mix.CALL_HOTSPOTS.values())
    assert not {h.community for h in spots} & {
        c for c, _ in hotspot_communities(grids.community, grids.urban.tolist(), SEED)
    }
    households = grids.households.astype(float)
    for name, (leaves, _, _, _) in mix.CALL_HOTSPOTS.items():
        mine = np.isin(incidents.leaf, [LEAVES.index(leaf) for leaf in leaves]) & _calls(large)
        per_grid = np.bincount(incidents.grid[mine], minlength=len(grids))
        hot = [first[h.community] for h in spots if h.name == name]
        others = np.setdiff1d(np.arange(len(grids)), hot)
        rate_hot = per_grid[hot].sum() / households[hot].sum()
        rate_others = per_grid[others].sum() / households[others].sum()
        assert rate_hot > 3 * rate_others, name


def test_near_repeats_cluster_in_space_and_time(large: Drawn) -> None:
    incidents = large.incidents
    calls = np.flatnonzero(_calls(large) & (incidents.leaf == LEAVES.index("0105")))
    t = incidents.local[calls] / DAY
    shuffled = np.random.default_rng(1).permutation(t)
    x = incidents.lon[calls] * 111_320 * np.cos(np.radians(incidents.lat[calls]))
    y = incidents.lat[calls] * 111_320
    close = close_shuffled = 0
    grid = incidents.grid[calls]
    for g in np.unique(grid).tolist():
        j = np.flatnonzero(grid == g)
        if len(j) < 2:
            continue
        upper = np.triu_indices(len(j), 1)
        near = (np.hypot(x[j][:, None] - x[j][None, :], y[j][:, None] - y[j][None, :]) < 150)[upper]
        close += int((near & (np.abs(t[j][:, None] - t[j][None, :]) < 14)[upper]).sum())
        close_shuffled += int((near & (np.abs(shuffled[j][:, None] - shuffled[j][None, :]) < 14)[upper]).sum())
    assert close > 5 * max(close_shuffled, 1)


def test_classes_cover_the_categories() -> None:
    assert set(CLASSES) == {"01", "02", "03", "04", "05", "06", "09"}
    for source, shares in mix.SOURCE_MIX.items():
        assert set(shares) <= set(LEAVES), source
    assert set(mix.RHYTHM) == set(LEAVES)
