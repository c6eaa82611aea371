"""Running the detectors: surges (safety.surge) and rules (safety.rules) over the stored daily counts, their
findings stored as warnings (safety.warnings).

Scheduled (`core.scheduler`, task `safety.warnings`, hourly, one process at a time): once the local day has
turned, surges are detected for the previous day (and for days missed since the last run, up to a week);
the rules are evaluated every run over the last days (deaths, red streaks of periods just over,
thresholds of the previous day), so a late record or a recomputed index still raises its warning — and
never twice. The task's name sorts after the index recompute (`safety.index_recompute`), so in one
scheduler pass the index is current before the red-streak rule reads it.

`civicgrid safety detect` does the same for a day or a range of days with a progress bar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from civicgrid.core.db import Database
from civicgrid.core.scheduler import periodic
from civicgrid.safety import rules
from civicgrid.safety.areas import load_tree
from civicgrid.safety.counts import load_counts, local_day
from civicgrid.safety.surge import DEFAULT_LEVELS, DEFAULT_WINDOWS, Surge, SurgeDetector
from civicgrid.safety.warnings import (
    NewWarning,
    StoredTally,
    create_warnings,
    day_done,
    kind_names,
    mark_day_done,
)

TASK_NAME = "safety.warnings"
DEFAULT_EVERY = timedelta(hours=1)
SURGE_STATE = "warnings.surges"
MAX_CATCH_UP_DAYS = 7
SERIOUS_Q = 0.001
MODEL_ZH = {"poisson": "泊松", "negbin": "负二项"}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SurgeSettings:
    levels: tuple[str, ...] = DEFAULT_LEVELS
    window_days: tuple[int, ...] = DEFAULT_WINDOWS  # lengths tested together, each ending on the day
    training_days: int = 365
    fdr: float = 0.05
    min_observed: int = 3


@dataclass
class DetectResult(StoredTally):
    days: int = 0
    surges: int = 0
    rule_hits: int = 0
    skipped: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"days": self.days, "surges": self.surges, "rule_hits": self.rule_hits, **self.stored()}


def expected_zh(expected: float) -> str:
    """An expected count in words: "0.3起", and "不足0.1起" where one decimal would print 0.0."""
    return "不足0.1起" if expected < 0.05 else f"{expected:.1f}起"


def surge_warning(surge: Surge, kinds: dict[str, str]) -> NewWarning:
    what = kinds.get(surge.kind, surge.kind)
    window = (
        surge.first_day.isoformat()
        if surge.first_day == surge.last_day
        else f"{surge.first_day.isoformat()}至{surge.last_day.isoformat()}"
    )
    detection = {
        "first": surge.first_day.isoformat(),
        "last": surge.last_day.isoformat(),
        "observed": surge.observed,
        "expected": surge.expected,
        "p": surge.p,
        "q": surge.q,
    }
    return NewWarning(
        kind="surge",
        subject=surge.kind,
        area_code=surge.area_code,
        period_start=surge.first_day,
        period_end=surge.last_day,
        severity="serious" if surge.q <= SERIOUS_Q else "notice",
        title=f"{surge.area_name}{what}激增：{surge.observed}起（预期{expected_zh(surge.expected)}）",
        evidence={
            "count_kind": surge.kind,
            "level": surge.level,
            "observed": surge.observed,
            "expected": surge.expected,
            "ratio": round(surge.ratio, 3) if surge.expected > 0 else None,
            "p": surge.p,
            "q": surge.q,
            "alpha": surge.alpha,
            "model": surge.model,
            "factors": dict(surge.factors),
            "detections": [detection],
            "summary_zh": (
                f"{window}{what}观测{surge.observed}起，按季节模型预期{expected_zh(surge.expected)}"
                f"（{MODEL_ZH.get(surge.model, surge.model)}分布），上尾概率{surge.p:.2g}，"
                f"错误发现率校正后q={surge.q:.2g}。"
            ),
        },
        merge=True,
    )


def detect_days(
    session: Session,
    days: Sequence[date],
    settings: SurgeSettings = SurgeSettings(),
    *,
    with_rules: bool = True,
    store: bool = True,
    progress: Progress | None = None,
    commit: Callable[[], None] | None = None,
) -> tuple[DetectResult, list[Surge]]:
    """Detect surges (and evaluate the rules) for each day, storing warnings unless `store` is False;
    `commit` (a command) is called after each day so a long replay keeps what it did."""
    result = DetectResult()
    found: list[Surge] = []
    if not days:
        return result, found
    ordered = sorted(set(days))
    first = ordered[0] - timedelta(days=settings.training_days + max(settings.window_days))
    frame = load_counts(session, first, ordered[-1])
    tree = load_tree(session)
    detector = SurgeDetector(frame, tree)
    kinds = kind_names(session)
    for n, day in enumerate(ordered, start=1):
        detection = detector.detect(
            day,
            levels=settings.levels,
            window_days=settings.window_days,
            training_days=settings.training_days,
            fdr=settings.fdr,
            min_observed=settings.min_observed,
        )
        result.skipped.update(detection.skipped)
        result.surges += len(detection.surges)
        found += detection.surges
        new = [surge_warning(s, kinds) for s in detection.surges]
        if with_rules:
            hits = rules.threshold_warnings(session, day, tree) + rules.fatal_warnings(session, day, day)
            result.rule_hits += len(hits)
            new += hits
        if store:
            result.add(create_warnings(session, new))
        result.days += 1
        if commit is not None:
            commit()
        if progress is not None:
            progress(n, len(ordered))
    if with_rules:
        streaks = rules.red_streak_warnings(session, ordered[-1], lookback_days=(ordered[-1] - ordered[0]).days + 1)
        result.rule_hits += len(streaks)
        if store:
            result.add(create_warnings(session, streaks))
    return result, found


def rule_warnings(session: Session, day: date, *, lookback_days: int = rules.LOOKBACK_DAYS) -> list[NewWarning]:
    """What the rules raise for `day` (thresholds) and the days before it (deaths, red streaks); reads only."""
    return (
        rules.threshold_warnings(session, day)
        + rules.fatal_warnings(session, day - timedelta(days=lookback_days - 1), day)
        + rules.red_streak_warnings(session, day, lookback_days=lookback_days)
    )


def run_rules(session: Session, day: date, *, lookback_days: int = rules.LOOKBACK_DAYS) -> DetectResult:
    """The rules for `day` and the days before it, their warnings stored."""
    result = DetectResult(days=1)
    new = rule_warnings(session, day, lookback_days=lookback_days)
    result.rule_hits = len(new)
    result.add(create_warnings(session, new))
    return result


def _surge_days_due(session: Session, yesterday: date) -> list[date]:
    """The days not yet tested for surges, up to yesterday (at most a week back; yesterday on a first run)."""
    done = day_done(session, SURGE_STATE) or yesterday - timedelta(days=1)
    first = max(done + timedelta(days=1), yesterday - timedelta(days=MAX_CATCH_UP_DAYS - 1))
    return [first + timedelta(days=i) for i in range((yesterday - first).days + 1)]


def run_scheduled(database: Database, now: datetime) -> DetectResult:
    """What the hourly task does (see the module's docstring). Fitting the models and evaluating the rules
    only read, in a read session; the warnings found are stored in one short write transaction after, so
    on SQLite the database's write lock is not held while the models are fitted. One process runs the task
    at a time (the scheduler's lease), so nothing else moves the surge state between the two."""
    yesterday = local_day(now) - timedelta(days=1)
    result = DetectResult()
    with database.unit_of_work(write=False) as session:
        due = _surge_days_due(session, yesterday)
        new: list[NewWarning] = []
        if due:
            result, surges = detect_days(session, due, with_rules=False, store=False)
            kinds = kind_names(session)
            new = [surge_warning(s, kinds) for s in surges]
        ruled = rule_warnings(session, yesterday)
    result.rule_hits += len(ruled)
    with database.unit_of_work() as session:
        result.add(create_warnings(session, new + ruled))
        if due:
            mark_day_done(session, SURGE_STATE, yesterday)
    return result


@periodic(TASK_NAME, every=DEFAULT_EVERY, lease=timedelta(minutes=30))
def warnings_task(database: Database, now: datetime) -> dict[str, Any]:
    return run_scheduled(database, now).as_dict()
