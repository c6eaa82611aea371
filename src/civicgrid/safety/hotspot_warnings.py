"""Hotspot warnings (DESIGN.md §8): once a week, the grids forecast to be hot in the coming week beyond their
own usual level, raised as warnings of kind `hotspot`.

For each incident indicator (crime_order, fire, traffic) the self-exciting model (`safety.forecast`, the
one that follows recent bursts) forecasts the week on grids from the year before it. A grid is warned of
when it is among the hottest 1 % of the city's area by expected calls per km² (where the back-tests find
the forecasts most concentrated) *and* its forecast is at least 1.5 times its usual week (the
retrospective counts of the same year) with at least two calls expected. Grids that are always hot are
therefore not warned of every week (they are on the hotspot map); a grid heating up is. A grid hot again
the next week extends its open warning instead of opening another.

Scheduled (`core.scheduler`, task `safety.hotspots`, every six hours, one process at a time): the
forecasts run once per week, in the first run after the week began; `civicgrid safety detect` does not
run them (they are forecasts, not detections of what happened). The fitting reads in a read session; the
warnings are written in one short transaction after.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.authz.scope import Level
from civicgrid.core.db import Database
from civicgrid.core.errors import InvalidInput
from civicgrid.core.scheduler import periodic
from civicgrid.safety.counts import local_day
from civicgrid.safety.forecast_service import HotspotQuery, period_forecast, select_categories, units_for
from civicgrid.safety.models import INDICATOR_NAMES_ZH, SafetyCategory
from civicgrid.safety.periods import Period, period_of
from civicgrid.safety.warnings import NewWarning, StoredTally, create_warnings, day_done, mark_day_done

TASK_NAME = "safety.hotspots"
DEFAULT_EVERY = timedelta(hours=6)
STATE = "warnings.hotspots"
METHOD = "self_exciting"
BASELINE_METHOD = "counts"
COVERAGE = 0.01
MIN_RATIO = 1.5
MIN_EXPECTED = 2.0
# The index's police-call indicators hotspot warnings are raised for.
CALL_INDICATORS = ("crime_order", "fire", "traffic")


def calls_of(indicator: str) -> str:
    """What a hotspot warning is about, in words: 刑事治安警情, 火灾警情, 交通事故警情."""
    return f"{INDICATOR_NAMES_ZH.get(indicator, indicator)}警情"


@dataclass
class HotspotResult(StoredTally):
    week: date | None = None
    indicators: dict[str, int] = field(default_factory=dict)  # indicator → grids warned of

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week.isoformat() if self.week else None, "indicators": self.indicators, **self.stored()}


def _indicators(session: Session) -> list[str]:
    """Those of CALL_INDICATORS some incident category counts towards (the city's categories decide)."""
    present = set(session.scalars(select(SafetyCategory.indicator).where(SafetyCategory.depth == 2)))
    return [i for i in CALL_INDICATORS if i in present]


def hotspot_warnings(session: Session, week: Period, indicator: str) -> list[NewWarning]:
    """The grids of one indicator warned of for `week` (reads only)."""
    selection = select_categories(session, indicator, None)
    units = units_for(session, "grid", 0.0)
    if not len(units):
        return []
    query = HotspotQuery(method=METHOD, unit="grid", period=week.type, start=week.start, indicator=indicator)
    predicted, meta, recent = period_forecast(session, query, selection, units, week)
    usual, _, _ = period_forecast(session, replace(query, method=BASELINE_METHOD), selection, units, week)
    order = predicted.order()
    area = units.area_km2[order]
    within = np.cumsum(area) <= COVERAGE * float(area.sum()) * (1 + 1e-9)
    top = order[: max(1, int(within.sum()))]
    found = []
    for rank, i in enumerate(top.tolist(), start=1):
        expected, baseline = float(predicted.expected[i]), float(usual.expected[i])
        if expected < MIN_EXPECTED or expected < MIN_RATIO * baseline:
            continue
        grid = units.area_codes[i].get(Level.grid)
        if grid is None:
            continue
        found.append(_warning(week, indicator, grid, units.names[i] or grid, rank, len(units), expected, baseline,
                              int(recent[i]), meta))  # fmt: skip
    return found


def _warning(
    week: Period,
    indicator: str,
    grid: str,
    name: str,
    rank: int,
    n_units: int,
    expected: float,
    usual: float,
    training_events: int,
    meta: dict[str, Any],
) -> NewWarning:
    what = calls_of(indicator)
    ratio = expected / usual if usual > 0 else None
    usual_text = f"平时每周{usual:.1f}起" if usual > 0 else "过去一年几乎没有"
    return NewWarning(
        kind="hotspot",
        subject=f"hotspot:{indicator}",
        area_code=grid,
        period_start=week.start,
        period_end=week.end,
        severity="notice",
        title=f"{name}本周{what}可能高发：预计{expected:.1f}起（{usual_text}）",
        evidence={
            "indicator": indicator,
            "method": METHOD,
            "expected": round(expected, 3),
            "usual": round(usual, 3),
            "ratio": round(ratio, 3) if ratio is not None else None,
            "rank": rank,
            "units": n_units,
            "coverage": COVERAGE,
            "training_events": training_events,
            "training": meta.get("training"),
            "detections": [{"first": week.start.isoformat(), "last": week.end.isoformat(), "expected": expected}],
            "summary_zh": (
                f"自激点过程模型预测{week.start.isoformat()}至{week.end.isoformat()}{what}{expected:.1f}起，"
                f"{usual_text}；按每平方公里预期警情排在全市网格第{rank}位（前{COVERAGE:.0%}面积）。"
                f"训练期内该网格有{training_events}起。"
            ),
        },
        merge=True,
    )


def run_week(database: Database, week: Period) -> HotspotResult:
    """Forecast `week` for every incident indicator and store its warnings (once: a second run changes nothing)."""
    result = HotspotResult(week=week.start)
    new: list[NewWarning] = []
    with database.unit_of_work(write=False) as session:
        for indicator in _indicators(session):
            try:
                found = hotspot_warnings(session, week, indicator)
            except InvalidInput:  # no usable calls of this indicator yet
                continue
            result.indicators[indicator] = len(found)
            new += found
    with database.unit_of_work() as session:
        result.add(create_warnings(session, new))
        mark_day_done(session, STATE, week.start)
    return result


def run_scheduled(database: Database, now: datetime) -> HotspotResult:
    """The current week's hotspot warnings, if not made yet."""
    week = period_of("week", local_day(now))
    with database.unit_of_work(write=False) as session:
        done = day_done(session, STATE)
    if done is not None and done >= week.start:
        return HotspotResult()
    return run_week(database, week)


@periodic(TASK_NAME, every=DEFAULT_EVERY, lease=timedelta(minutes=30))
def hotspots_task(database: Database, now: datetime) -> dict[str, Any]:
    return run_scheduled(database, now).as_dict()
