"""Surge detection at the size of the demo city: ~4,800 grids in ~960 communities and 80 streets, 12 kinds
(6 incident classes, 6 case classes), three years of daily counts placed in grids (synthetic: seasonal
city rates, weekday rhythm, a trend, over-dispersed area counts; no database).

Times
  * indexing the count frame once (`SurgeDetector`),
  * one day at the default levels (community, street) and at every level from the grid up, with the
    default windows (the day, the last 3 and the last 7 days; `--windows 1` for the day alone),
  * a single 7-day window,
  * a replay of 90 days (what the back-test and `civicgrid safety detect --from --to` do),
  * the 12 city-wide GLM fits of one day on their own (the part that does not grow with the areas),
and counts the (area, kind) pairs tested and the false alarms (nothing is planted: every surge is one).

    uv run python bench/bench_safety_surge.py [--districts 10] [--days 1095] [--windows 1,3,7]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.safety.synthetic import Series, Synthetic, build_tree

from civicgrid.safety.surge import DEFAULT_WINDOWS, SurgeDetector
from civicgrid.safety.surge_model import day_number, fit_city

KINDS = {
    **{
        f"inc:0{i}": Series(rate, area_alpha=0.3)
        for i, rate in zip(range(1, 7), (260, 420, 160, 20, 90, 130), strict=True)
    },
    **{
        f"case:0{i}": Series(rate, area_alpha=0.2)
        for i, rate in zip(range(1, 7), (60, 30, 30, 90, 160, 10), strict=True)
    },
}


def timed(label: str, work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    print(f"{label:<58} {time.perf_counter() - started:8.3f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--districts", type=int, default=10)
    parser.add_argument("--days", type=int, default=3 * 365)
    parser.add_argument("--windows", default=",".join(map(str, DEFAULT_WINDOWS)), help="window lengths tested")
    args = parser.parse_args()
    windows = tuple(int(n) for n in args.windows.split(","))
    tree = build_tree(args.districts, 8, 12, grids=5)
    levels = {level: sum(1 for v in tree.levels if v == level) for level in ("street", "community", "grid")}
    last = date(2025, 12, 31)
    synthetic = Synthetic(tree, last - timedelta(days=args.days - 1), last, KINDS, seed=3)
    frame = timed("synthetic counts (not part of detection)", lambda: synthetic.frame("grid"))
    print(f"areas {levels}, kinds {len(KINDS)}, daily-count rows {len(frame):,}")
    detector = timed("index the count frame (SurgeDetector)", lambda: SurgeDetector(frame, tree))
    day = last - timedelta(days=90)
    detector.detect(day - timedelta(days=1), window_days=windows)  # warm up imports and caches
    print(f"windows {windows} days")
    one = timed("one day, community + street", lambda: detector.detect(day, window_days=windows))
    print(f"  tested {one.tested}, surges (all false alarms) {len(one.surges)}")
    every = timed(
        "one day, grid + community + street",
        lambda: detector.detect(day, levels=("grid", "community", "street"), window_days=windows),
    )
    print(f"  tested {every.tested}, surges (all false alarms) {len(every.surges)}")
    timed("one day, 7-day window, community + street", lambda: detector.detect(day, window_days=7))
    days = [day + timedelta(days=i) for i in range(90)]
    replay = timed(
        "replay 90 days, community + street", lambda: [detector.detect(d, window_days=windows) for d in days]
    )
    alarms = sum(len({s.level for s in r.surges}) for r in replay)
    print(f"  level-days with any (false) alarm: {alarms} of {2 * len(days)} ({alarms / (2 * len(days)):.1%})")
    models = {k: (f.model, round(f.alpha, 4)) for k, f in one.fits.items()}
    print(f"  city models: {models}")
    area_models = {f"{k}@{lv}": f.model for (k, lv), f in one.levels.items() if lv == "community"}
    print(f"  community-level models: {area_models}")

    import numpy as np

    rows = detector._rows
    first = day_number(day) - 365

    def fits() -> None:
        for kind, r in rows.items():
            chosen = (r.days >= first) & (r.days < day_number(day))
            y = np.bincount(r.days[chosen] - first, weights=r.count[chosen], minlength=365)
            fit_city(kind, y, np.arange(first, first + 365), np.array([day_number(day)]))

    timed("the 12 city-wide GLM fits alone", fits)


if __name__ == "__main__":
    main()
