"""Hotspot forecasts and their back-test at the size of the demo city at scale 1: ~1.2 M calls over three
years on ~24,000 cells of 500 m over Bengbu's outline.

Synthetic calls (no database): a background that follows a few urban centres and a thinner rural spread,
150 static hotspots of ~100 m, and self-excitation (every call has on average θ = 0.2 follow-ups, ~10 days
later on average, ~100 m away). Times
  * building the cells and their 100 m raster, and placing the calls in cells,
  * each forecast method per period in a rolling back-test of 12 weeks trained on 365 days each,
  * the self-exciting model's E-step sums: the doubling scan over all units at once against a plain
    Python loop over the events (the floor without vectorising),
and prints the back-test table (hit rate, PAI, PEI* at 1 %, 5 %, 10 % of the area; Jaccard of the 5 % sets).

    uv run python bench/bench_safety_forecast.py [--events 1200000] [--periods 12] [--methods …]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from civicgrid.safety.backtest import Window, replay
from civicgrid.safety.cells import build_cells
from civicgrid.safety.forecast import METHODS, Events, Options, UnitSpace, _Layout


def outline():  # type: ignore[no-untyped-def]
    try:
        from civicgrid.demo.city import load_outline

        return load_outline()
    except Exception:  # without the shared data: a square of Bengbu's area
        from shapely.geometry import box

        return box(116.9, 32.6, 117.73, 33.3)


def synthetic_calls(cells, total: int, days: int, seed: int) -> Events:  # type: ignore[no-untyped-def]
    """Calls in the cells' projected metres: urban centres, rural spread, static hotspots, follow-ups."""
    rng = np.random.default_rng(seed)
    theta, omega, near = 0.2, 0.1, 100.0
    base = int(total * (1 - theta) * 1.08)  # a little extra: calls outside the outline are dropped
    cx, cy = cells.centres_xy()
    centres = rng.choice(len(cells), 10, replace=False)
    weights = rng.dirichlet(np.ones(10) * 2)
    sigma = rng.uniform(1500, 5000, 10)
    n_urban, n_hot = int(base * 0.55), int(base * 0.2)
    n_rural = base - n_urban - n_hot
    which = rng.choice(10, n_urban, p=weights)
    urban_x = cx[centres][which] + rng.normal(0, 1, n_urban) * sigma[which]
    urban_y = cy[centres][which] + rng.normal(0, 1, n_urban) * sigma[which]
    spots = rng.choice(n_urban, 150, replace=False)
    spot_weights = rng.pareto(1.5, 150) + 1
    hot = rng.choice(150, n_hot, p=spot_weights / spot_weights.sum())
    hot_x = urban_x[spots][hot] + rng.normal(0, 100, n_hot)
    hot_y = urban_y[spots][hot] + rng.normal(0, 100, n_hot)
    rural = rng.integers(0, len(cells), n_rural)
    rural_x = cx[rural] + rng.uniform(-250, 250, n_rural)
    rural_y = cy[rural] + rng.uniform(-250, 250, n_rural)
    x = np.concatenate([urban_x, hot_x, rural_x])
    y = np.concatenate([urban_y, hot_y, rural_y])
    t = rng.uniform(0, days, base)
    xs, ys, ts = [x], [y], [t]
    while t.size:  # follow-ups, generation by generation
        children = rng.poisson(theta, t.size)
        x = np.repeat(x, children) + rng.normal(0, near, children.sum())
        y = np.repeat(y, children) + rng.normal(0, near, children.sum())
        t = np.repeat(t, children) + rng.exponential(1 / omega, children.sum())
        keep = t < days
        x, y, t = x[keep], y[keep], t[keep]
        xs.append(x)
        ys.append(y)
        ts.append(t)
    x, y, t = np.concatenate(xs), np.concatenate(ys), np.concatenate(ts)
    unit = cells.locate_xy(x, y)
    inside = np.flatnonzero(unit >= 0)
    keep = np.sort(rng.choice(inside, min(total, inside.size), replace=False))
    return Events.of(x[keep], y[keep], t[keep], unit[keep])


def python_recursion(layout: _Layout, omega: float) -> float:
    """The same sums in a plain Python loop over the events (seconds): the floor without vectorising."""
    units, times = layout.unit.tolist(), layout.t.tolist()
    started = time.perf_counter()
    a = b = 0.0
    previous_unit, previous_t = -1, 0.0
    for u, t in zip(units, times, strict=True):
        if u != previous_unit:
            a = b = 0.0
        else:
            lag = t - previous_t
            d = math.exp(-omega * lag)
            a, b = d * (1.0 + a), d * (b + lag * (1.0 + a))
        previous_unit, previous_t = u, t
    return time.perf_counter() - started


def _timed(work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_200_000)
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--cell-size", type=float, default=500)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--period-days", type=int, default=7)
    parser.add_argument("--train-days", type=int, default=365)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m]

    started = time.perf_counter()
    cells = build_cells(outline(), args.cell_size)
    raster = cells.raster()
    space = UnitSpace(cells.area_km2, raster)
    print(
        f"cells: {len(cells):,} of {args.cell_size:g} m ({cells.area_km2.sum():,.0f} km²) and a raster of "
        f"{raster.ncols}×{raster.nrows} pixels of {raster.pixel:g} m in {time.perf_counter() - started:.2f} s"
    )
    started = time.perf_counter()
    events = synthetic_calls(cells, args.events, args.days, args.seed)
    generated = time.perf_counter() - started
    lon, lat = cells.projection.inverse(events.x, events.y)
    started = time.perf_counter()
    cells.locate(lon, lat)
    located = time.perf_counter() - started
    print(
        f"calls: {len(events):,} over {args.days} days generated in {generated:.1f} s; "
        f"lon/lat → cell for all in {located:.2f} s ({len(events) / located / 1e6:.1f} M/s)"
    )

    end = float(args.days)
    step = args.period_days
    windows = [
        Window(f"P{k + 1}", f"P{k + 1}", end - (args.periods - k) * step, end - (args.periods - k - 1) * step)
        for k in range(args.periods)
    ]
    per_window = len(events.between(windows[0].start - args.train_days, windows[0].start))
    print(
        f"back-test: {args.periods} periods of {args.period_days} days, each trained on {args.train_days} days "
        f"(~{per_window:,} calls per training window), methods {', '.join(methods)}"
    )
    started = time.perf_counter()
    figures = replay(events, space, windows, methods, train_days=args.train_days, data_start=0.0, options=Options())
    total = time.perf_counter() - started
    print(f"\nseconds per period (forecast only; scoring adds ~{0.01:.2f} s)")
    print(f"{'method':<15}{'mean':>8}{'max':>8}{'total':>9}   fitted")
    for method in methods:
        seconds = [p["methods"][method]["seconds"] for p in figures["periods"]]
        params = figures["periods"][-1]["methods"][method]["params"]
        fitted = ""
        if method == "self_exciting":
            fitted = (
                f"θ={params['theta']:.3f} ω={params['omega_per_day']:.3f}/day ({params['iterations']} EM iterations)"
            )
        print(f"{method:<15}{np.mean(seconds):>8.2f}{np.max(seconds):>8.2f}{np.sum(seconds):>9.1f}   {fitted}")
    print(f"whole back-test: {total:.1f} s")

    window = events.between(windows[0].start - args.train_days, windows[0].start)
    layout = _Layout(window.t, window.unit, len(cells))
    vector = min(_timed(lambda: layout.sums(0.1)) for _ in range(3))
    loop = python_recursion(layout, 0.1)
    print(
        f"\nE-step sums A and B over {len(window):,} calls (max {int(layout.counts.max()):,} in one cell): "
        f"doubling scan {vector:.3f} s, plain Python loop {loop:.3f} s (×{loop / vector:.1f})"
    )

    print(f"\n{'method':<15}{'coverage':>9}{'hit rate':>10}{'PAI':>8}{'PEI*':>8}{'Jaccard':>9}")
    for method in methods:
        summary = figures["summary"][method]
        for i, label in enumerate(("1%", "5%", "10%")):
            f = summary[label]
            jac = f"{summary['jaccard_top5']:.3f}" if i == 0 and summary["jaccard_top5"] is not None else ""
            name = method if i == 0 else ""
            print(f"{name:<15}{label:>9}{f['hit_rate']:>10.3f}{f['pai']:>8.2f}{f['pei']:>8.3f}{jac:>9}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
