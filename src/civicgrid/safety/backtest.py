"""Back-tests of the hotspot forecasts (REFERENCE.md §5) and of the surge warnings.

Rolling origin: for each of N consecutive periods, every method is trained on the window before the period,
forecasts it, and is scored against the period's events at 1 %, 5 % and 10 % of the area:

- hit rate: the share of the period's events that fall in the flagged units;
- PAI = hit rate ÷ the flagged share of the area;
- PEI* = events captured ÷ the most any selection of the same area could have captured (0–1).

Units are flagged from the highest expected events per km² down while the flagged area stays within the
coverage (at least one unit), so grids of unequal area are compared fairly; for PEI* the best selection is
the fractional greedy one (the tightest upper bound for unequal areas, exact for equal cells). Stability is
the Jaccard index of consecutive periods' flagged sets at 5 %. The counts method is the baseline.

Surge warnings are replayed day by day over the same periods with `safety.surge` (its default windows, as
the server's task uses them) and compared with the surges planted in the demo data (`demo.safety.surges`):
precision and recall.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicgrid.core.clock import utcnow
from civicgrid.core.errors import InvalidInput
from civicgrid.safety.counts import local_day
from civicgrid.safety.forecast import METHODS, Events, FloatArray, IntArray, Options, UnitSpace, forecast
from civicgrid.safety.forecast_service import (
    DEFAULT_TRAIN_DAYS,
    Selection,
    check_unit,
    data_span,
    day_number,
    load_events,
    select_categories,
    units_for,
)
from civicgrid.safety.models import PERIOD_TYPES
from civicgrid.safety.periods import Period, period_of

COVERAGES: tuple[float, ...] = (0.01, 0.05, 0.10)
STABILITY_COVERAGE = 0.05
DEFAULT_METHODS: tuple[str, ...] = ("counts", "kde", "self_exciting")
DEMO_SEED = 20261129
MAX_PERIODS = 520

ProgressHook = Callable[[int, int, str], None]


def coverage_label(coverage: float) -> str:
    return f"{coverage * 100:g}%"


# --- scoring -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    hit_rate: float | None  # None: the period had no events
    pai: float | None
    pei: float | None
    area_share: float
    flagged: int
    captured: float
    best: float
    events: float


def flag_by_area(density: FloatArray, area: FloatArray, share: float) -> IntArray:
    """Units from the highest density down while their area stays within `share` of the total (≥ 1 unit)."""
    order = np.lexsort((np.arange(density.shape[0]), -density))
    cumulative = np.cumsum(area[order])
    budget = share * float(cumulative[-1]) if cumulative.size else 0.0
    count = max(1, int(np.count_nonzero(cumulative <= budget * (1 + 1e-9)))) if order.size else 0
    flagged: IntArray = order[:count]
    return flagged


def best_capture(actual: FloatArray, area: FloatArray, budget: float) -> float:
    """The most events any selection of `budget` km² could hold (units taken by density, the last in part)."""
    density = actual / np.where(area > 0, area, np.inf)
    order = np.lexsort((np.arange(actual.shape[0]), -density))
    cumulative = np.cumsum(area[order])
    whole = int(np.count_nonzero(cumulative <= budget * (1 + 1e-9)))
    captured = float(actual[order[:whole]].sum())
    if whole < order.shape[0]:
        used = float(cumulative[whole - 1]) if whole else 0.0
        remaining = max(budget - used, 0.0)
        captured += float(density[order[whole]]) * remaining
    return captured


def score_flagged(flagged: IntArray, area: FloatArray, actual: FloatArray) -> Score:
    total_area = float(area.sum())
    flagged_area = float(area[flagged].sum())
    share = flagged_area / total_area if total_area > 0 else 0.0
    events = float(actual.sum())
    captured = float(actual[flagged].sum())
    if events <= 0:
        return Score(None, None, None, share, int(flagged.shape[0]), 0.0, 0.0, 0.0)
    best = best_capture(actual, area, flagged_area)
    hit = captured / events
    return Score(
        hit_rate=hit,
        pai=hit / share if share > 0 else None,
        pei=min(captured / best, 1.0) if best > 0 else None,
        area_share=share,
        flagged=int(flagged.shape[0]),
        captured=captured,
        best=best,
        events=events,
    )


def evaluate(
    density: FloatArray, area: FloatArray, actual: FloatArray, coverages: Sequence[float] = COVERAGES
) -> dict[float, tuple[Score, IntArray]]:
    """The score and the flagged units of a forecast (its density per unit) at each coverage."""
    result: dict[float, tuple[Score, IntArray]] = {}
    for coverage in coverages:
        flagged = flag_by_area(density, area, coverage)
        result[coverage] = (score_flagged(flagged, area, actual), flagged)
    return result


def jaccard(a: IntArray, b: IntArray) -> float | None:
    union = np.union1d(a, b).shape[0]
    return float(np.intersect1d(a, b).shape[0]) / union if union else None


# --- the replay (arrays in, figures out) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    label: str  # the period's first day
    end_label: str  # its last day
    start: float  # day numbers: [start, end)
    end: float


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def replay(
    events: Events,
    space: UnitSpace,
    windows: Sequence[Window],
    methods: Sequence[str],
    *,
    train_days: float,
    data_start: float,
    options: Options | None = None,
    coverages: Sequence[float] = COVERAGES,
    progress: ProgressHook | None = None,
) -> dict[str, Any]:
    """Forecast and score every window with every method; per-period figures and their means."""
    options = options or Options()
    coverages = tuple(sorted(set(coverages) | {STABILITY_COVERAGE}))
    area = space.area_km2
    total_steps = len(windows) * len(methods)
    step = 0
    periods: list[dict[str, Any]] = []
    previous: dict[str, IntArray] = {}
    fits: dict[str, Any] = {}  # the last fit of each method, to start the next period's from
    for window in windows:
        target = events.between(window.start, window.end)
        inside = (target.unit >= 0) & (target.unit < space.n)
        actual = np.bincount(target.unit[inside], minlength=space.n).astype(np.float64)
        row: dict[str, Any] = {
            "start": window.label,
            "end": window.end_label,
            "events": int(actual.sum()),
            "methods": {},
        }
        lookback = min(train_days, window.start - np.floor(data_start))
        for method in methods:
            started = time.perf_counter()
            result = forecast(
                method,
                events,
                space,
                window.start,
                window.end - window.start,
                replace(options, lookback_days=lookback, warm_start=fits.get(method)),
            )
            fits[method] = result.fit
            seconds = time.perf_counter() - started
            scores = evaluate(result.density, area, actual, coverages)
            flagged_stable = scores[STABILITY_COVERAGE][1]
            stability = jaccard(previous[method], flagged_stable) if method in previous else None
            previous[method] = flagged_stable
            row["methods"][method] = {
                "seconds": round(seconds, 4),
                "training_events": result.training_events,
                "expected": round(float(result.expected.sum()), 3),
                "scores": {coverage_label(c): _score_json(s) for c, (s, _f) in scores.items()},
                "jaccard_top5": _round(stability),
                "params": result.params,
            }
            step += 1
            if progress is not None:
                progress(step, total_steps, f"{window.label} {method}")
        periods.append(row)
    return {"periods": periods, "summary": summarise(periods, methods, coverages)}


def _score_json(score: Score) -> dict[str, Any]:
    data = asdict(score)
    for key in ("hit_rate", "pai", "pei", "area_share"):
        data[key] = _round(data[key], 6)
    return data


def summarise(periods: list[dict[str, Any]], methods: Sequence[str], coverages: Sequence[float]) -> dict[str, Any]:
    """Per method and coverage the mean hit rate, PAI and PEI* over the periods (periods without events left
    out), the mean Jaccard stability and the mean seconds per period."""
    summary: dict[str, Any] = {}
    for method in methods:
        figures: dict[str, Any] = {}
        for coverage in coverages:
            label = coverage_label(coverage)
            scores = [p["methods"][method]["scores"][label] for p in periods]
            figures[label] = {
                key: _round(_mean([s[key] for s in scores]), 4) for key in ("hit_rate", "pai", "pei", "area_share")
            }
        figures["jaccard_top5"] = _round(_mean([p["methods"][method]["jaccard_top5"] for p in periods]), 4)
        figures["seconds_per_period"] = _round(_mean([p["methods"][method]["seconds"] for p in periods]), 4)
        summary[method] = figures
    return summary


# --- back-tests of the stored incidents ----------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestSpec:
    unit: str = "cell"
    cell_size: float = 500.0
    period: str = "week"
    periods: int = 12
    train_days: int = DEFAULT_TRAIN_DAYS
    indicator: str | None = None
    categories: tuple[str, ...] = ()
    methods: tuple[str, ...] = DEFAULT_METHODS
    until: date | None = None  # the back-tested periods end on or before this day (default: the data's last)
    bandwidth_m: float = 300.0
    surges: bool = False
    seed: int = DEMO_SEED  # the demo's seed, from which its planted surges are known


@dataclass(frozen=True)
class BacktestPlan:
    spec: BacktestSpec
    selection: Selection
    periods: list[Period]
    first_day: date  # of the usable data
    last_day: date
    events: int

    @property
    def train_first(self) -> date:
        return self.periods[0].start - timedelta(days=self.spec.train_days)


def _spec_problems(spec: BacktestSpec) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    unknown = [m for m in spec.methods if m not in METHODS]
    if unknown or not spec.methods:
        problems.append(
            {
                "field": "methods",
                "problem": f"unknown method(s) {', '.join(unknown) or '(none given)'}; "
                f"the methods are {', '.join(METHODS)}",
                "methods": list(METHODS),
            }
        )
    if spec.period not in PERIOD_TYPES:
        problems.append({"field": "period", "problem": f"must be one of {', '.join(PERIOD_TYPES)}"})
    if not 1 <= spec.periods <= MAX_PERIODS:
        problems.append({"field": "periods", "problem": f"must be between 1 and {MAX_PERIODS}"})
    if not 7 <= spec.train_days <= 3 * 366:
        problems.append({"field": "train_days", "problem": "must be between 7 and 1098 days"})
    if not 50 <= spec.bandwidth_m <= 5_000:
        problems.append({"field": "bandwidth_m", "problem": "must be between 50 and 5000 metres"})
    return problems


def plan_backtest(session: Session, spec: BacktestSpec) -> BacktestPlan:
    """Check the back-test before anything runs or is written: the settings, then that the data cover it."""
    problems = _spec_problems(spec)
    if problems:
        raise InvalidInput(
            "the back-test settings are not valid: " + "; ".join(f"{p['field']}: {p['problem']}" for p in problems),
            details=problems,
        )
    check_unit(spec.unit, spec.cell_size)
    selection = select_categories(session, spec.indicator, list(spec.categories) or None)
    span = data_span(session, selection)
    what = f"{selection.label} incidents with coordinates"
    if span is None:
        raise InvalidInput(
            f"there are no {what} to back-test on; import a feed first",
            details=[{"field": "data", "problem": "no usable incidents"}],
        )
    first_day, last_day, count = span
    data_words = f"the data ({what}) run from {first_day.isoformat()} to {last_day.isoformat()}"
    # By default the periods end with the data's last day — or yesterday, when the data reach today (a day
    # still under way would score its period against a part of its incidents).
    today = local_day(utcnow())
    until = spec.until or (last_day if last_day < today or first_day >= today else today - timedelta(days=1))
    if not first_day <= until <= last_day:
        raise InvalidInput(
            f"--until {until.isoformat()} lies outside the data: {data_words}",
            details=[
                {
                    "field": "until",
                    "problem": "outside the data",
                    "first_day": first_day.isoformat(),
                    "last_day": last_day.isoformat(),
                }
            ],
        )
    last = period_of(spec.period, until)
    if last.end > until:
        last = last.previous()
    periods = [last]
    while len(periods) < spec.periods:
        periods.insert(0, periods[0].previous())
    train_first = periods[0].start - timedelta(days=spec.train_days)
    in_window = session.scalar(_count_between(selection, train_first, periods[0].start - timedelta(days=1)))
    if periods[0].start <= first_day or not in_window:
        raise InvalidInput(
            f"the training window of the first back-tested period ({train_first.isoformat()} to "
            f"{(periods[0].start - timedelta(days=1)).isoformat()}, before the {spec.period} of "
            f"{periods[0].start.isoformat()}) is empty: {data_words}. The first period must start after "
            f"{first_day.isoformat()}: ask for fewer --periods or a later --until, or load older data",
            details=[
                {
                    "field": "periods",
                    "problem": "empty training window",
                    "first_day": first_day.isoformat(),
                    "last_day": last_day.isoformat(),
                    "first_period": periods[0].start.isoformat(),
                }
            ],
        )
    return BacktestPlan(spec, selection, periods, first_day, last_day, count)


def _count_between(selection: Selection, first: date, last: date) -> Any:
    from civicgrid.safety.forecast_service import _usable
    from civicgrid.safety.models import SafetyIncident

    return select(func.count()).where(
        *_usable(selection.codes), SafetyIncident.day >= first, SafetyIncident.day <= last
    )


def run_backtest(session: Session, plan: BacktestPlan, progress: ProgressHook | None = None) -> dict[str, Any]:
    """Replay the plan's periods; the figures as JSON (what the CLI prints and the job keeps)."""
    spec = plan.spec
    started = time.perf_counter()
    steps = len(plan.periods) * len(spec.methods)
    if progress is not None:
        progress(0, steps, "loading the incidents")
    units = units_for(session, spec.unit, spec.cell_size)
    first = max(plan.train_first, plan.first_day)
    events = load_events(session, units, plan.selection, first, plan.periods[-1].end)
    loaded = time.perf_counter() - started
    windows = [
        Window(p.start.isoformat(), p.end.isoformat(), day_number(p.start), day_number(p.end) + 1) for p in plan.periods
    ]
    figures = replay(
        events,
        units.space,
        windows,
        spec.methods,
        train_days=float(spec.train_days),
        data_start=day_number(plan.first_day),
        options=Options(bandwidth_m=spec.bandwidth_m),
        progress=progress,
    )
    if spec.surges and progress is not None:
        progress(steps, steps, "surge warnings, day by day")
    surges = surge_backtest(session, plan) if spec.surges else None
    spec_json = {
        k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
        for k, v in asdict(spec).items()
    }
    return {
        "spec": {**spec_json, "selection": plan.selection.label},
        "data": {"first_day": plan.first_day.isoformat(), "last_day": plan.last_day.isoformat(), "events": plan.events},
        "units": {
            "kind": units.kind,
            "count": len(units),
            "cell_size": units.cell_size,
            "area_km2": round(float(units.area_km2.sum()), 3),
        },
        "events_loaded": len(events),
        "coverages": [coverage_label(c) for c in COVERAGES],
        **figures,
        "surges": surges,
        "seconds": {"load": round(loaded, 3), "total": round(time.perf_counter() - started, 3)},
    }


# --- surge warnings against planted surges -------------------------------------------------------------------


def surge_backtest(session: Session, plan: BacktestPlan) -> dict[str, Any]:
    """Detect surges day by day over the back-tested periods and compare them with the demo's planted ones.

    Needs `safety.surge` (the detector) and `demo.safety.surges` (the plan the demo drew its calls from,
    known from the seed and the first and last day of the data); says so when either is missing.
    """
    try:
        from civicgrid.safety import surge
    except ImportError:
        return {"available": False, "reason": "the surge detector (safety.surge) is not installed"}
    try:
        from civicgrid.demo.safety.surges import planted_surges
    except ImportError:
        return {"available": False, "reason": "the demo's planted surges (demo.safety.surges) are not installed"}
    from civicgrid.geo.models import Division
    from civicgrid.safety.areas import load_tree
    from civicgrid.safety.counts import load_counts
    from civicgrid.safety.models import SafetyIncident

    first, last = session.execute(select(func.min(SafetyIncident.day), func.max(SafetyIncident.day))).one()
    grids = session.execute(
        select(Division.community_code, Division.is_urban).where(Division.level == "grid").order_by(Division.code)
    ).all()
    try:
        planted = planted_surges([str(c) for c, _ in grids], [bool(u) for _, u in grids], plan.spec.seed, first, last)
    except ValueError as exc:
        return {"available": False, "reason": f"no planted surges: {exc}"}
    span_first, span_last = plan.periods[0].start, plan.periods[-1].end
    planted = [p for p in planted if p.first_day <= span_last and p.last_day >= span_first]
    kinds = sorted({p.kind for p in planted}) or None
    training = 365
    counts = load_counts(session, span_first - timedelta(days=training), span_last, kinds)
    tree = load_tree(session)
    detector = surge.SurgeDetector(counts, tree)
    detected: list[Any] = []
    day = span_first
    started = time.perf_counter()
    while day <= span_last:
        detection = detector.detect(day, window_days=surge.DEFAULT_WINDOWS, training_days=training, kinds=kinds)
        detected.extend(detection.surges)
        day += timedelta(days=1)
    spans = [(p.area_code, p.kind, p.first_day, p.last_day) for p in planted]
    figures = surge.surge_precision_recall(detected, spans, tree=tree)
    return {
        "available": True,
        "first_day": span_first.isoformat(),
        "last_day": span_last.isoformat(),
        "seed": plan.spec.seed,
        "kinds": kinds,
        "window_days": list(surge.DEFAULT_WINDOWS),
        **figures,
        "seconds": round(time.perf_counter() - started, 3),
    }
