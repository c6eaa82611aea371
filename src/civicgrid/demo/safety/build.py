"""`build_safety`: draw the demo city's police calls and recorded incidents, write them with the bulk loader,
then count them and the platform's cases into the daily counts — all in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from rich.progress import Progress as RichProgress
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from civicgrid.core.workcalendar import load_calendar
from civicgrid.demo.bulk import BulkLoader, Row
from civicgrid.demo.cases.rows import stamps
from civicgrid.demo.city import Progress, _reporter
from civicgrid.demo.population.model import Arr, _Grids, _load_grids
from civicgrid.demo.safety import mix
from civicgrid.demo.safety.draw import DAY, LEAVES, CallHotspot, Drawn, Incidents, SurgePlan, draw_incidents
from civicgrid.safety.categories import DEFAULT_LEAVES, leaf_categories
from civicgrid.safety.counts import LOCAL_TZ, rebuild_incident_counts, sync_cases
from civicgrid.safety.models import SafetyIncident

CHUNK = 200_000
INCIDENT_COLUMNS = (
    "id", "source", "record_id", "occurred_at", "time_precision", "day", "category_code", "raw_category",
    "division_code", "lon", "lat", "address", "deaths", "injuries", "imported_at", "district_code",
    "street_code", "community_code", "grid_code",
)  # fmt: skip
# The prefix of each line's record ids: 110-2025-000123; recorded incidents AJ-2025-000123 (案件).
RECORD_PREFIX = {"110": "110", "119": "119", "122": "122", "records": "AJ"}
_NAMES = {code: name_zh for code, name_zh, _ in DEFAULT_LEAVES}


def _incident_table() -> Table:
    table = SafetyIncident.__table__
    assert isinstance(table, Table)
    return table


class IncidentsExist(RuntimeError):
    """The incident table is not empty; the demo calls go into an empty one."""


@dataclass
class SafetyStats:
    scale: float
    seed: int
    first_day: date
    last_day: date
    counts: dict[str, int]  # incidents per source
    daily_counts: int  # daily-count rows of the incidents
    cases_counted: int  # cases counted by the cases feed
    surges: list[SurgePlan]
    call_hotspots: list[CallHotspot]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def incidents(self) -> int:
        return sum(self.counts.values())


def _utc_seconds(local: Arr) -> Arr:
    """Local wall-clock seconds → UTC seconds, with the zone's offset at noon of each day."""
    days = np.floor(local / DAY).astype(np.int64)
    if not len(days):
        return local
    first = int(days.min())
    offsets = np.array(
        [
            (LOCAL_TZ.utcoffset(datetime(1970, 1, 1, 12) + timedelta(days=d)) or timedelta()).total_seconds()
            for d in range(first, int(days.max()) + 1)
        ]
    )
    result: Arr = local - offsets[days - first]
    return result


def _record_numbers(incidents: Incidents) -> tuple[Arr, Arr]:
    """Each incident's local year and its number within its line and year, in time order (from 1)."""
    year = np.floor(incidents.local / DAY).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    key = incidents.source * 10_000 + year
    order = np.argsort(key, kind="stable")  # incidents are in time order already
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    sizes = np.diff(np.r_[starts, len(key)])
    rank = np.arange(len(key)) - np.repeat(starts, sizes)
    number = np.empty(len(key), dtype=np.int64)
    number[order] = rank + 1
    return year, number


def _rows(
    drawn: Drawn, grids: _Grids, start: int, end: int, sqlite: bool, now: str, year: Arr, number: Arr
) -> list[Row]:
    part = drawn.incidents.take(np.arange(start, end))
    utc = _utc_seconds(part.local)
    sources = np.asarray(mix.SOURCES, dtype=object)[part.source].tolist()
    prefixes = [RECORD_PREFIX[s] for s in sources]
    record_ids = [
        f"{p}-{y}-{n:06d}"
        for p, y, n in zip(prefixes, year[start:end].tolist(), number[start:end].tolist(), strict=True)
    ]
    days = np.floor(part.local / DAY).astype("datetime64[D]").astype(str).tolist()
    codes = np.asarray(LEAVES, dtype=object)[part.leaf].tolist()
    names = [_NAMES[c] for c in codes]
    precision = np.where(part.day_only, "day", "second").tolist()
    g = part.grid
    code = np.asarray(grids.code, dtype=object)
    return list(
        zip(
            range(start + 1, end + 1),
            sources,
            record_ids,
            stamps(utc, sqlite),
            precision,
            days,
            codes,
            names,
            code[g].tolist(),
            part.lon.tolist(),
            part.lat.tolist(),
            np.asarray(grids.prefix, dtype=object)[g].tolist(),
            part.deaths.tolist(),
            part.injuries.tolist(),
            [now] * len(g),
            np.asarray(grids.district, dtype=object)[g].tolist(),
            np.asarray(grids.street, dtype=object)[g].tolist(),
            np.asarray(grids.community, dtype=object)[g].tolist(),
            code[g].tolist(),
            strict=True,
        )
    )


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(start + size, total)


def build_safety(
    database: Database,
    *,
    scale: float,
    seed: int,
    now: datetime | None = None,
    progress: Progress | RichProgress | None = None,
    chunk: int = CHUNK,
    rebuild_indexes: bool = True,
) -> SafetyStats:
    """Write three years of demo calls and recorded incidents before `now`, then the daily counts of the
    incidents (rebuilt from the table) and of the platform's cases (the cases feed, from its watermark).

    Runs after the city and the reference data (the incident categories) are committed, and after the case
    history when there is one. Deterministic for a seed and `now`. Raises IncidentsExist when the incident
    table is not empty.
    """
    report = _reporter(progress) or (lambda _stage, _done, _total: None)
    now = now or utcnow()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    table = _incident_table()
    if database.is_sqlite:  # idle pooled connections would keep SQLite in WAL mode (see BulkLoader.prepare)
        database.engine.dispose()
        database.write_engine.dispose()
    with database.write_engine.connect() as connection:
        loader = BulkLoader(connection, (table,), rebuild_indexes=rebuild_indexes)
        loader.prepare()
        try:
            with connection.begin():
                with Session(bind=connection) as session:
                    missing = sorted(set(LEAVES) - set(leaf_categories(session)))
                    if missing:
                        raise RuntimeError(
                            f"incident categories {', '.join(missing)} are missing or inactive; "
                            "load the reference data first"
                        )
                    calendar = load_calendar(session)
                if connection.execute(select(SafetyIncident.id).limit(1)).first() is not None:
                    raise IncidentsExist("the incident table is not empty; the demo calls go into an empty one")
                grids = _load_grids(connection)
                holidays = {day for day, (kind, _) in calendar.days.items() if kind == "holiday"}
                first_day = (now.astimezone(LOCAL_TZ) - timedelta(days=round(365.25 * mix.YEARS))).date()
                drawn = draw_incidents(grids, holidays, scale=scale, seed=seed, first_day=first_day, now=now)
                timings["generate"] = time.perf_counter() - started
                total = len(drawn.incidents)
                report("police calls", 0, total)
                year, number = _record_numbers(drawn.incidents)
                stamp = loader.timestamp(now.astimezone(UTC))
                loader.open()
                write = rows_time = 0.0
                for start, end in _chunks(total, chunk):
                    mark = time.perf_counter()
                    rows = _rows(drawn, grids, start, end, loader.is_sqlite, stamp, year, number)
                    rows_time += time.perf_counter() - mark
                    mark = time.perf_counter()
                    loader.insert(table, INCIDENT_COLUMNS, rows)
                    write += time.perf_counter() - mark
                    report("police calls", end, total)
                timings["rows"] = rows_time
                timings["write"] = write
                mark = time.perf_counter()
                loader.close()
                timings["indexes_and_checks"] = time.perf_counter() - mark
                report("safety daily counts", 0, 2)
                with Session(bind=connection) as session:
                    mark = time.perf_counter()
                    daily = rebuild_incident_counts(session)
                    timings["incident_counts"] = time.perf_counter() - mark
                    report("safety daily counts", 1, 2)
                    mark = time.perf_counter()
                    cases = sync_cases(session)
                    session.flush()
                    timings["case_counts"] = time.perf_counter() - mark
                    report("safety daily counts", 2, 2)
                mark = time.perf_counter()
            timings["commit"] = time.perf_counter() - mark
        finally:
            loader.restore()
    timings["total"] = time.perf_counter() - started
    sources, sizes = np.unique(drawn.incidents.source, return_counts=True)
    counts = {mix.SOURCES[s]: int(n) for s, n in zip(sources.tolist(), sizes.tolist(), strict=True)}
    return SafetyStats(
        scale, seed, drawn.first_day, drawn.last_day, counts, daily, cases, drawn.surges, drawn.call_hotspots, timings
    )
