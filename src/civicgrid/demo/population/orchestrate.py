"""The whole build: the city's columns (`generate`), chunks of grids built here or by forked workers,
encrypted and written with the bulk loader in one transaction, then organisations, places, schools and
special care (`build_population`).
"""

from __future__ import annotations

import itertools
import multiprocessing
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from rich.progress import Progress as RichProgress
from sqlalchemy import Connection, Table, select

from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import Keyring
from civicgrid.core.db import Database
from civicgrid.demo.bulk import BulkLoader
from civicgrid.demo.city import Progress, _reporter
from civicgrid.demo.population.care import CARE_COLUMNS, VISIT_COLUMNS, _care
from civicgrid.demo.population.houses import _households, _houses, _owners
from civicgrid.demo.population.model import (
    PERSON_TYPES,
    RENTED,
    USES,
    _City,
    _load_grids,
    _regions,
)
from civicgrid.demo.population.organisations import (
    ORGANISATION_COLUMNS,
    PLACE_COLUMNS,
    SCHOOL_COLUMNS,
    _organisations,
    _places,
    _schools,
)
from civicgrid.demo.population.people import _foreigners, _people, _residence_history
from civicgrid.demo.population.rows import (
    HOUSE_COLUMNS,
    HOUSEHOLD_COLUMNS,
    PERSON_COLUMNS,
    RESIDENCE_COLUMNS,
    TENANCY_COLUMNS,
    _chunk_rows,
    _ChunkOut,
    _Ids,
)
from civicgrid.demo.population.texts import _Texts
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

CHUNK_PEOPLE = 40_000
TZ = ZoneInfo("Asia/Shanghai")


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
