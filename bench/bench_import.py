"""Registry import: 1,000,000 people from CSV with 1 % bad rows, in both modes; rows/s and peak memory.

Builds a demo city (small scale: all ~4,000 grids, few residents) with the code tables, writes the CSV
lazily into a temporary directory, then imports it in a fresh copy of the database per run — each run in
its own process, so that the peak RSS (resource.getrusage) is that run's:

  * apply_valid                     — 990,000 rows written, 10,000 reported
  * all_or_nothing                  — the check pass finds the 10,000 bad rows; nothing is written
  * all_or_nothing on a clean file  — check pass, then every row written in one transaction
  * the floor: the same rows read with csv and inserted with the driver's executemany (no checks,
    no encryption, no blind indexes) — what the database alone costs

    uv run python bench/bench_import.py [--rows 1000000] [--bad 0.01] [--database-url postgresql://…]

With --database-url the runs go to that (PostgreSQL) database instead; its registry tables are emptied
before each run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国建华文斌海燕小红志强晓东春梅"
REGIONS = ("340302", "340303", "340304", "340311", "340321", "340322", "340323")
HEADER = ["person_type", "name", "sex", "birth_date", "id_number", "phone", "grid_code", "ethnicity"]


def generate(path: Path, rows: int, bad_rate: float, grids: list[str], seed: int = 7) -> int:
    """Write the CSV row by row; the number of bad rows."""
    from civicgrid.core.idnumber import make_id_number

    rng = random.Random(seed)
    bad_every = int(1 / bad_rate) if bad_rate > 0 else 0
    bad = 0
    base = date(1940, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(rows):
            birth = base + timedelta(days=i // 1000 * 7 % 29000)
            seq = i % 1000
            region = REGIONS[(i // 1000) % len(REGIONS)]
            number = make_id_number(region, birth, seq)
            sex = "1" if seq % 2 else "2"
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" if rng.random() < 0.8 else ""
            row = [
                "registered" if rng.random() < 0.8 else "floating",
                name,
                sex,
                birth.isoformat(),
                number,
                phone,
                grids[i % len(grids)],
                "01",
            ]
            if bad_every and i % bad_every == bad_every // 2:
                bad += 1
                kind = (i // bad_every) % 5
                if kind == 0:
                    row[4] = number[:-1] + ("0" if number[-1] != "0" else "1")  # check character
                elif kind == 1:
                    row[3] = (birth + timedelta(days=1)).isoformat()  # birth date disagrees
                elif kind == 2:
                    row[2] = "7"  # not a sex code
                elif kind == 3:
                    row[6] = "340303999999999"  # no such grid
                else:
                    row[5] = "12345"  # not a phone number
            writer.writerow(row)
    return bad


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _empty_registry(url: str) -> None:
    from sqlalchemy import text

    from civicgrid.core.db import Database

    db = Database(url)
    with db.engine.begin() as conn:
        if db.is_sqlite:
            for table in ("registry_residence", "registry_person", "core_job"):
                conn.execute(text(f"DELETE FROM {table}"))
        else:
            conn.execute(text("TRUNCATE registry_residence, registry_person, core_job RESTART IDENTITY CASCADE"))
    db.dispose()


def worker(url: str, csv_path: str, mode: str, work_dir: str) -> dict[str, Any]:
    """One run in this process: the import (or the floor) and its figures."""
    from sqlalchemy import select

    from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
    from civicgrid.authz.scope import Level, Principal, Scope
    from civicgrid.core import jobs
    from civicgrid.core.crypto import Keyring, set_keyring
    from civicgrid.core.db import Database
    from civicgrid.geo.models import Division
    from civicgrid.registry import imports as importers

    set_keyring(Keyring.generate(["bench"]))
    db = Database(url)
    with db.unit_of_work(write=False) as session:
        city = session.scalar(select(Division.code).where(Division.level == "city"))
    assert city is not None
    principal = Principal(
        None, "bench", Role.center_operator.value, ROLE_PERMISSIONS[Role.center_operator], Scope(city, Level.city)
    )
    started = time.perf_counter()
    if mode == "floor":
        rows = _floor(db, Path(csv_path))
        seconds = time.perf_counter() - started
        return {"mode": mode, "rows": rows, "seconds": seconds, "rss_mb": _peak_rss_mb(), "written": rows}
    spec = importers.ImportSpec(
        entity="people",
        mode="apply_valid" if mode == "apply_valid" else "all_or_nothing",
        path=csv_path,
        format="csv",
        mapping={h: h for h in HEADER},
        report_dir=work_dir,
    )
    job, status, _message = jobs.run_inline(
        db,
        principal,
        "registry.import.people",
        "registry:import",
        {},
        lambda context: importers.run_import(db, principal, context.job_id, spec, context.progress),
    )
    seconds = time.perf_counter() - started
    result = job.result or {}
    with db.unit_of_work(write=False) as session:
        written = importers.count_people(session)
    db.dispose()
    return {
        "mode": mode,
        "status": status,
        "rows": result.get("rows", 0),
        "failed": result.get("failed", 0),
        "written": written,
        "seconds": seconds,
        "rss_mb": _peak_rss_mb(),
    }


def _floor(db: Any, path: Path) -> int:
    """csv.reader + one executemany INSERT per 2,000 rows (no checks, no encryption, no HMAC).

    The stored values look like ours — random 32-hex indexes (blake2b) for ID numbers and phones, random
    bytes of a token's length — so the unique index sees the same random inserts.
    """
    import hashlib
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(tzinfo=None)
    columns = (
        "person_type, name, sex, birth_date, ethnicity, id_number_enc, id_number_index, phone_enc, phone_index, "
        "grid_code, community_code, street_code, district_code, status, review_status, key_attention, "
        "created_at, updated_at"
    )
    marker = "?" if db.is_sqlite else "%s"
    sql = f"INSERT INTO registry_person ({columns}) VALUES ({', '.join([marker] * 18)})"
    raw = db.engine.raw_connection()
    count = 0

    def index(value: str) -> str:
        return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()

    try:
        cursor = raw.cursor()
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader)
            batch: list[tuple[Any, ...]] = []
            for row in reader:
                grid, phone = row[6], row[5]
                batch.append(
                    (
                        row[0], row[1], row[2], row[3], row[7],
                        os.urandom(57), index(row[4]),
                        os.urandom(50) if phone else None, index(phone) if phone else None,
                        grid, grid[:12], grid[:9], grid[:6], "active", "approved", False, now, now,
                    )
                )  # fmt: skip
                count += 1
                if len(batch) == 2000:
                    _insert(db, raw, cursor, sql, batch)
                    batch = []
            if batch:
                _insert(db, raw, cursor, sql, batch)
    finally:
        raw.close()
    return count


def _insert(db: Any, raw: Any, cursor: Any, sql: str, batch: list[tuple[Any, ...]]) -> None:
    if db.is_sqlite:
        cursor.execute("BEGIN")  # the engine's connections leave transactions to the caller
    cursor.executemany(sql, batch)
    raw.commit()


def _run_worker(url: str, csv_path: Path, mode: str, work_dir: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            mode,
            "--database-url",
            url,
            "--csv",
            str(csv_path),
            "--work",
            str(work_dir),
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CIVICGRID_MODE": "demo"},
    )
    if out.returncode != 0:
        raise SystemExit(f"the {mode} run failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", type=float, default=0.01)
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--csv", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--work", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--modes", default="apply_valid,all_or_nothing,all_or_nothing_clean,floor")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.database_url, args.csv, args.worker, args.work)))
        return

    from sqlalchemy import select

    from civicgrid.core.db import Database
    from civicgrid.core.migrate import upgrade
    from civicgrid.demo.city import build_city
    from civicgrid.geo.models import Division
    from civicgrid.registry.codes import load_defaults

    with tempfile.TemporaryDirectory(prefix="civicgrid-bench-import-") as tmp_name:
        tmp = Path(tmp_name)
        template_url = args.database_url or f"sqlite:///{tmp / 'template.db'}"
        started = time.perf_counter()
        if args.database_url:
            from civicgrid.core.pgcheck import ensure_database

            ensure_database(args.database_url)
        upgrade(template_url)
        db = Database(template_url)
        with db.unit_of_work() as session:
            if session.scalar(select(Division.code).limit(1)) is None:
                load_defaults(session)
                build_city(session, scale=args.scale)
        with db.unit_of_work(write=False) as session:
            grids = list(session.scalars(select(Division.code).where(Division.level == "grid").order_by(Division.code)))
        db.dispose()
        print(f"demo city (scale {args.scale}): {len(grids):,} grids in {time.perf_counter() - started:.1f} s")

        files: dict[str, Path] = {}
        for name, rate in (("dirty", args.bad), ("clean", 0.0)):
            started = time.perf_counter()
            path = tmp / f"people-{name}.csv"
            bad = generate(path, args.rows, rate, grids)
            files[name] = path
            size = path.stat().st_size / 1e6
            print(
                f"generated {path.name}: {args.rows:,} rows, {bad:,} bad, {size:.0f} MB "
                f"in {time.perf_counter() - started:.1f} s"
            )

        print(f"{'run':<30} {'rows':>10} {'failed':>8} {'written':>10} {'seconds':>8} {'rows/s':>9} {'peak RSS':>9}")
        floor_rate = None
        results = []
        for mode in args.modes.split(","):
            if args.database_url:
                _empty_registry(args.database_url)
                url = args.database_url
            else:
                copy = tmp / f"run-{mode}.db"
                shutil.copyfile(tmp / "template.db", copy)
                url = f"sqlite:///{copy}"
            csv_path = files["clean" if mode in ("all_or_nothing_clean", "floor") else "dirty"]
            work = tmp / f"work-{mode}"
            work.mkdir()
            worker_mode = "all_or_nothing" if mode == "all_or_nothing_clean" else mode
            result = _run_worker(url, csv_path, worker_mode, work)
            rate = result["rows"] / result["seconds"]
            if mode == "floor":
                floor_rate = rate
            results.append((mode, result, rate))
            print(
                f"{mode:<30} {result['rows']:>10,} {result.get('failed', 0):>8,} {result['written']:>10,} "
                f"{result['seconds']:>8.1f} {rate:>9,.0f} {result['rss_mb']:>7.0f} MB"
            )
            if not args.database_url:
                (tmp / f"run-{mode}.db").unlink(missing_ok=True)
        if floor_rate:
            for mode, _, rate in results:
                if mode != "floor":
                    print(f"  {mode}: {rate / floor_rate:.2f} × the floor's rate")


if __name__ == "__main__":
    main()
