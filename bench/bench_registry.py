"""Registry search at scale: exact lookup by ID number (blind index) and a grid's residents, p50/p99.

    uv run python bench/bench_registry.py [--scale 1] [--database-url URL] [--reuse]

Builds the demo city with its synthetic population (`civicgrid demo --scale S`) into a scratch
database (or reuses it with --reuse), then times, for random existing people and grids:
- the service path: `people.lookup` (blind index, scope filter, audit record) and `query_people` for one
  grid (page of 50 + count), each in its own transaction as a request would;
- the floor: the same lookups as raw SQL on the DBAPI connection (no ORM, no audit).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="1")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "civicgrid-bench-registry"))
    parser.add_argument("--reuse", action="store_true", help="keep an already built database")
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()

    env = {
        **os.environ,
        "CIVICGRID_MODE": "demo",
        "CIVICGRID_DATA_DIR": args.data_dir,
        "CIVICGRID_LOG_LEVEL": "WARNING",
    }
    if args.database_url:
        from civicgrid.core.pgcheck import ensure_database

        ensure_database(args.database_url)
        env["CIVICGRID_DATABASE_URL"] = args.database_url
    os.environ.update(env)
    if not args.reuse:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "civicgrid", "demo", "--scale", args.scale, "--reset"],
            env=env,
            cwd=REPO,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"built the demo at scale {args.scale} in {time.perf_counter() - started:.0f} s")

    from sqlalchemy import func, select

    from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
    from civicgrid.authz.scope import Level, Principal, Scope
    from civicgrid.config import get_settings
    from civicgrid.core.crypto import Keyring
    from civicgrid.core.db import Database
    from civicgrid.core.pagination import ListParams, paginate
    from civicgrid.registry import people
    from civicgrid.registry.models import Person

    settings = get_settings()
    database = Database(settings.resolved_database_url)
    keyring = Keyring.from_settings(settings)
    operator = Principal(
        user_id=None,
        username="bench",
        role=Role.center_operator.value,
        permissions=ROLE_PERMISSIONS[Role.center_operator],
        scope=Scope("340300", Level.city),
    )
    rng = random.Random(7)
    with database.unit_of_work(write=False) as session:
        total = session.scalar(select(func.count()).select_from(Person)) or 0
        max_id = session.scalar(select(func.max(Person.id))) or 0
        sample_ids = [rng.randint(1, max_id) for _ in range(args.samples)]
        rows = session.execute(
            select(Person.id_number_enc, Person.grid_code).where(
                Person.id.in_(sample_ids), Person.id_number_enc.is_not(None)
            )
        ).all()
        id_numbers = [keyring.decrypt(enc, context=people.ID_CONTEXT) for enc, _ in rows]
        grids = [grid for _, grid in rows]
    print(f"people: {total:,}; samples: {len(id_numbers)} ID numbers, {len(set(grids))} grids")

    ids = iter(id_numbers * 3)
    grid_cycle = iter(grids * 3)

    def service_lookup() -> None:
        with database.unit_of_work() as session:
            found = people.lookup(session, operator, keyring, id_number=next(ids), phone=None)
            assert len(found) == 1

    def service_grid_list() -> None:
        with database.unit_of_work(write=False) as session:
            query = people.query_people(operator, people.PersonFilter(grid_code=next(grid_cycle))).order_by(Person.id)
            paginate(session, query, ListParams(page=1, page_size=50, sort=None))

    raw = database.engine.raw_connection()
    marker = "?" if database.is_sqlite else "%s"
    raw_ids = iter(id_numbers * 3)
    raw_grids = iter(grids * 3)

    def raw_lookup() -> None:
        cursor = raw.cursor()
        index = keyring.blind_index(next(raw_ids), context=people.ID_CONTEXT)
        cursor.execute(f"SELECT * FROM registry_person WHERE id_number_index = {marker}", (index,))
        assert len(cursor.fetchall()) == 1

    def raw_grid_list() -> None:
        cursor = raw.cursor()
        grid = next(raw_grids)
        cursor.execute(
            f"SELECT count(*) FROM registry_person WHERE grid_code = {marker} AND status = 'active'", (grid,)
        )
        cursor.fetchall()
        cursor.execute(
            f"SELECT * FROM registry_person WHERE grid_code = {marker} AND status = 'active' ORDER BY id LIMIT 50",
            (grid,),
        )
        cursor.fetchall()

    n = len(id_numbers)
    results = {
        "lookup by ID number (service, audited)": timed(service_lookup, n),
        "lookup by ID number (raw SQL floor)": timed(raw_lookup, n),
        "grid residents page 1 + count (service)": timed(service_grid_list, n),
        "grid residents page 1 + count (raw SQL floor)": timed(raw_grid_list, n),
    }
    raw.close()
    kind = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{kind}, scale {args.scale}, {n} requests each, one at a time:")
    for name, samples in results.items():
        p50, p99 = percentiles(samples)
        print(f"  {name:<48} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms")


if __name__ == "__main__":
    main()
