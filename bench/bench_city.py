"""Demo city build time (geometry, grids, database write) at the default scale and at scale 1.

uv run python bench/bench_city.py [--scales 0.05 1]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from civicgrid.core.db import Database
from civicgrid.demo.city import build_city


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.05, 1.0])
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}")
    for scale in args.scales:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{Path(tmp) / 'city.db'}")
            db.create_all()
            started = time.perf_counter()
            with db.unit_of_work() as session:
                stats = build_city(session, scale=scale)
            total = time.perf_counter() - started
            db.dispose()
        phases = ", ".join(f"{k} {v:.2f} s" for k, v in stats.timings.items())
        print(
            f"scale {scale}: {stats.counts['grid']:,} grids, {stats.households:,} households, "
            f"{stats.org_units:,} units — {phases}; with commit {total:.2f} s"
        )


if __name__ == "__main__":
    main()
