"""Importing a police-call feed: N generated 110 rows (CSV with Chinese headings) through the import job.

Builds the demo city's map (about 4,000 grids at any scale) in a scratch database, writes a CSV of
`--rows` calls (points jittered around random grids' centres, 5 % given only a community's code, times
over three years in three spellings, twelve category labels, a call-summary column that is never read),
saves the feed mapping and then times:

1. `feed_import.run_import` in apply_valid mode — read, check, place (batch grid lookup), insert, count;
2. the floor: a raw DBAPI `executemany` INSERT of the very rows stored in (1), in one transaction, into
   the same empty table (SQLite: a copy of the database taken before (1); PostgreSQL: the table emptied)
   — the work without reading, checking, placing, deduplicating and counting;
3. the same file again: every row a duplicate (the idempotent re-import);
4. all_or_nothing into the emptied tables (one transaction).

    uv run python bench/bench_safety_feeds.py [--rows 100000] [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import csv
import platform
import random
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from sqlalchemy import delete, func, select

from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.core import jobs
from civicgrid.core.db import Base, Database
from civicgrid.demo.city import build_city
from civicgrid.geo import lookup
from civicgrid.geo.models import Division
from civicgrid.safety import feed_import, feed_mappings
from civicgrid.safety.categories import seed_safety_categories
from civicgrid.safety.models import SafetyDailyCount, SafetyDirtyDay, SafetyIncident

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = [
    "接警单编号",
    "报警时间",
    "警情类别",
    "简要案情",
    "发案地址",
    "经度",
    "纬度",
    "行政区划代码",
    "死亡人数",
    "受伤人数",
]
COLUMNS = {
    "接警单编号": "record_id",
    "报警时间": "occurred_at",
    "警情类别": "category",
    "发案地址": "address",
    "经度": "lon",
    "纬度": "lat",
    "行政区划代码": "address_code",
    "死亡人数": "deaths",
    "受伤人数": "injuries",
}
CATEGORIES = {
    "盗窃": "0101",
    "电动车被盗": "0106",
    "电信诈骗": "0102",
    "打架斗殴": "0201",
    "噪音扰民": "0204",
    "家庭纠纷": "0301",
    "邻里纠纷": "0302",
    "火灾": "0401",
    "交通事故": "0502",
    "群众求助": "0601",
    "人员走失": "0602",
    "咨询": "0901",
}
SPELLINGS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S")


def write_feed(path: Path, db: Database, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with db.unit_of_work(write=False) as session:
        index = lookup.get_index(session)
        communities = list(session.scalars(select(Division.code).where(Division.level == "community")))
    inside = shapely.point_on_surface(index.geometries)  # a point surely in each grid
    anchors = np.column_stack([shapely.get_x(inside), shapely.get_y(inside)])
    picked = np.array([rng.randrange(len(anchors)) for _ in range(rows)])
    jitter = np.array([[rng.gauss(0, 0.0005), rng.gauss(0, 0.0005)] for _ in range(rows)])
    points = anchors[picked] + jitter
    missed = index.locate_many(points[:, 0], points[:, 1]) < 0  # jittered over a grid's edge out of the city
    points[missed] = anchors[picked[missed]]
    labels = list(CATEGORIES)
    start = datetime(2023, 1, 1, tzinfo=SHANGHAI)
    span = 3 * 365 * 86400
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(rows):
            when = (start + timedelta(seconds=rng.randrange(span))).strftime(SPELLINGS[i % 3])
            if rng.random() < 0.05:
                lon, lat, code = "", "", rng.choice(communities)
            else:
                lon, lat, code = f"{points[i, 0]:.6f}", f"{points[i, 1]:.6f}", ""
            injured = "1" if rng.random() < 0.02 else "0"
            summary = "报警人称……（不导入）"
            writer.writerow([f"J{i:09d}", when, rng.choice(labels), summary, "某路某号", lon, lat, code, "0", injured])


def operator(db: Database) -> Principal:
    with db.unit_of_work(write=False) as session:
        city = session.scalar(select(Division.code).where(Division.level == "city"))
    assert city is not None
    role = Role.center_operator
    return Principal(None, "bench", role.value, ROLE_PERMISSIONS[role], Scope(city, Level.city))


class Timer:
    """Wall time, and this process's CPU time (on a shared machine the wall time includes waiting for a core)."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def rate(self, rows: int) -> str:
        per_cpu = rows / self.cpu
        return (
            f"{self.wall:.2f} s wall, {self.cpu:.2f} s CPU — {rows / self.wall:,.0f} rows/s ({per_cpu:,.0f} per CPU s)"
        )


def run(db: Database, principal: Principal, spec: feed_import.FeedSpec) -> tuple[Timer, dict[str, Any]]:
    with db.unit_of_work() as session:
        job = jobs.create_job(session, principal, feed_import.JOB_KIND, "safety:import", {})
        job_id = job.id
    with Timer() as timer:
        result = feed_import.run_import(db, principal, job_id, spec, lambda **_: None)
    return timer, result


def empty(db: Database) -> None:
    with db.unit_of_work() as session:
        for model in (SafetyIncident, SafetyDailyCount, SafetyDirtyDay):
            session.execute(delete(model))


def floor(db: Database, rows: list[tuple[Any, ...]], columns: list[str]) -> Timer:
    """A raw executemany of `rows` into the (emptied) incident table, in one transaction."""
    raw = db.engine.raw_connection()
    try:
        mark = "?" if db.is_sqlite else "%s"
        statement = f"INSERT INTO safety_incident ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
        cursor = raw.cursor()
        with Timer() as timer:
            if db.is_sqlite:  # the engine's connections leave transactions to SQLAlchemy: begin one here
                cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(statement, rows)
            raw.commit()
        return timer
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--scale", type=float, default=0.05, help="demo city scale (the grid layout is the same)")
    parser.add_argument("--database-url", default=None, help="default: a scratch SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if url.startswith("postgresql"):
            from civicgrid.core.pgcheck import ensure_database

            ensure_database(url)
        db = Database(url)
        import civicgrid.models  # noqa: F401

        Base.metadata.drop_all(db.engine)
        db.create_all()
        with db.unit_of_work() as session:
            stats = build_city(session, scale=args.scale)
            seed_safety_categories(session)
        principal = operator(db)
        with db.unit_of_work() as session:
            saved = feed_mappings.create_mapping(
                session, principal, name="bench 110", source="110", columns=COLUMNS, categories=CATEGORIES
            )
            mapping_id = saved.id
        path = Path(tmp) / "calls.csv"
        write_feed(path, db, args.rows)
        print(
            f"{platform.platform()}, {platform.processor() or platform.machine()}; {db.engine.dialect.name}; "
            f"{stats.counts['grid']:,} grids; {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB CSV"
        )

        def spec(mode: str) -> feed_import.FeedSpec:
            return feed_import.FeedSpec(
                path=str(path),
                format="csv",
                mode=mode,
                mapping_id=mapping_id,
                mapping_name="bench 110",
                source="110",
                columns=COLUMNS,
                categories=CATEGORIES,
                report_dir=str(Path(tmp) / "imports"),
            )

        pristine = Path(tmp) / "pristine.db"
        if db.is_sqlite:  # the floor's database: this one as it is now, before any import
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            source = sqlite3.connect(str(db.engine.url.database))
            target = sqlite3.connect(pristine)
            source.backup(target)
            source.close()
            target.close()

        ours, result = run(db, principal, spec("apply_valid"))
        assert result["created"] == args.rows and result["failed"] == 0, result
        print(f"import, apply_valid: {ours.rate(args.rows)}")

        columns = [c.name for c in SafetyIncident.__table__.columns if c.name not in ("id", "job_id")]
        with db.unit_of_work(write=False) as session:
            stored = [tuple(r) for r in session.execute(select(*(SafetyIncident.__table__.c[c] for c in columns)))]
            counted = session.scalar(select(func.sum(SafetyDailyCount.count)))
        assert counted == args.rows, counted
        if db.is_sqlite:  # bind what SQLAlchemy binds on SQLite: text for times and days
            floor_db = Database(f"sqlite:///{pristine}")
            raw = floor(floor_db, [tuple(_sqlite_value(v) for v in row) for row in stored], columns)
            floor_db.dispose()
        else:
            empty(db)
            raw = floor(db, stored, columns)
        print(f"floor, raw executemany INSERT of the same {len(stored):,} rows: {raw.rate(len(stored))}")
        print(f"ours / floor: {ours.wall / raw.wall:.2f}× the wall time, {ours.cpu / raw.cpu:.2f}× the CPU time")
        if not db.is_sqlite:  # back to the state after (1)
            with db.unit_of_work() as session:
                session.execute(delete(SafetyIncident))
            run(db, principal, spec("apply_valid"))

        again, result = run(db, principal, spec("apply_valid"))
        assert result["duplicates"] == args.rows, result
        print(f"import again (every row a duplicate): {again.rate(args.rows)}")
        empty(db)
        whole, result = run(db, principal, spec("all_or_nothing"))
        assert result["created"] == args.rows, result
        print(f"import, all_or_nothing (into the emptied tables): {whole.rate(args.rows)}")
        db.dispose()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


if __name__ == "__main__":
    main()
