"""Point → grid lookup: 1,000,000 random points in the city's bounding box, and one-point latency.

Builds the demo city (scale 1 by default, about 4,000 grids) in a temporary SQLite database, then times
  * our batch lookup (`GridIndex.locate_many`),
  * the floor: a raw shapely STRtree `query(points, predicate="within")` over the same polygons,
  * one point at a time: `GridIndex.locate` and `geo.lookup.lookup_point` (index + revision check).

    uv run python bench/bench_lookup.py [--scale 1] [--points 1000000]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from civicgrid.core.db import Database
from civicgrid.core.errors import NotFound
from civicgrid.demo.city import build_city, load_outline
from civicgrid.geo import lookup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.create_all()
        with db.unit_of_work() as session:
            stats = build_city(session, scale=args.scale)
        print(f"city at scale {args.scale}: {stats.counts['grid']} grids")
        rng = np.random.default_rng(1)
        min_x, min_y, max_x, max_y = load_outline().bounds
        xs = rng.uniform(min_x, max_x, args.points)
        ys = rng.uniform(min_y, max_y, args.points)
        with db.unit_of_work(write=False) as session:
            started = time.perf_counter()
            index = lookup.get_index(session)
            print(f"index build: {time.perf_counter() - started:.2f} s")
            started = time.perf_counter()
            ours = index.locate_many(xs, ys)
            ours_s = time.perf_counter() - started
            # Floor: the bare STRtree with a predicate, on the same (prepared) polygons.
            tree = shapely.STRtree(index.geometries)
            started = time.perf_counter()
            points = shapely.points(xs, ys)
            point_idx, grid_idx = tree.query(points, predicate="within")
            floor = np.full(args.points, -1)
            floor[point_idx] = grid_idx
            floor_s = time.perf_counter() - started
            inside = int((ours >= 0).sum())
            agree = float((ours == floor).mean())
            print(
                f"batch {args.points:,} points: ours {ours_s:.2f} s ({args.points / ours_s / 1e6:.2f} M/s), "
                f"raw STRtree floor {floor_s:.2f} s, ratio {ours_s / floor_s:.2f}; "
                f"{inside:,} in a grid; agreement {agree:.6f}"
            )
            n = min(args.single, args.points)
            times = np.empty(n)
            for i in range(n):
                t = time.perf_counter()
                index.locate(float(xs[i]), float(ys[i]))
                times[i] = time.perf_counter() - t
            print(
                f"one point (index): p50 {np.percentile(times, 50) * 1e6:.0f} µs, "
                f"p99 {np.percentile(times, 99) * 1e6:.0f} µs"
            )
            for i in range(n):
                t = time.perf_counter()
                with contextlib.suppress(NotFound):
                    lookup.lookup_point(session, float(xs[i]), float(ys[i]))
                times[i] = time.perf_counter() - t
            print(
                f"one point (service, with revision check): p50 {np.percentile(times, 50) * 1e6:.0f} µs, "
                f"p99 {np.percentile(times, 99) * 1e6:.0f} µs"
            )
        db.dispose()


if __name__ == "__main__":
    main()
