"""Each case's path through the workflow: the moment of every step, the deadlines the steps set, the
supervision cards the SLA scan would have raised, and the rating — as arrays, one row per case.

The steps follow the transition table (`cases.flows`) and the service's side effects:

- closed at the grid:  report → accept → start → handle → pass (→ rate);
- closed at rung L ≥ 1: report → accept → escalate ×L → dispatch (by the rung, to the lead department)
  → sign → handle → pass (→ rate);
- rejected:            report → reject.

A grid worker's report in the own grid starts accepted (即报即受), so it has no accept step. Steps after
`now` have not happened: those cases are open, in the state of their last step. A share of cases never
finish handling (the long open tail). Acceptance deadlines count from the report; handling deadlines from
acceptance, and anew from dispatch (as `sla.set_handle_deadlines` does). Cards are raised as
`cases.supervision.scan` would have raised them: at the first moment a deadline has passed while the case
is in the stage it supervises (acceptance: reported or escalated; handling: accepted … in progress).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from civicgrid.demo.cases import mix
from civicgrid.demo.cases.draw import LEAVES, Reports
from civicgrid.demo.cases.workdays import VectorCalendar
from civicgrid.demo.population.model import Arr, IntArr
from civicgrid.demo.population.sampling import _categorical_rows

SLOTS: tuple[str, ...] = ("report", "accept", "reject", "start", "escalate", "escalate", "escalate", "escalate")
SLOTS += ("dispatch", "sign", "handle", "pass", "rate")
REPORT, ACCEPT, REJECT, START, ESCALATE, DISPATCH, SIGN, HANDLE, PASS, RATE = 0, 1, 2, 3, 4, 8, 9, 10, 11, 12
STATUS_AFTER: tuple[str, ...] = ("reported", "accepted", "rejected", "in_progress", "escalated", "escalated")
STATUS_AFTER += ("escalated", "escalated", "dispatched", "in_progress", "handled", "closed", "closed")
GRID_WORKER = mix.SOURCES.index("grid_worker")
HOUR = 3600.0


@dataclass(frozen=True)
class Limits:
    """Working-day limits per leaf (index into LEAVES)."""

    accept: Arr
    accept_red: Arr
    handle: Arr
    handle_red: Arr


@dataclass
class Cards:
    case: IntArr
    stage: list[str]
    colour: list[str]
    time: Arr
    due: Arr


@dataclass
class History:
    times: Arr  # (cases, slots): UTC seconds of each step done by now, NaN otherwise
    level: IntArr  # the rung that handles it: 0 grid … 4 city
    last: IntArr  # the last step done by now
    accept_due: Arr
    accept_red_due: Arr
    handle_due: Arr  # the deadline in force now (NaN before acceptance)
    handle_red_due: Arr
    satisfaction: IntArr  # 0: not rated
    cards: Cards
    card: list[str | None]  # the worst card raised


def _lognormal(rng: np.random.Generator, shape: tuple[float, float], n: int) -> Arr:
    median, sigma = shape
    values: Arr = median * np.exp(sigma * rng.standard_normal(n)) * HOUR
    return values


def _first_raise(intervals: list[tuple[Arr, Arr, Arr]], now: float) -> Arr:
    """The first moment a deadline has passed while the case is inside one of the intervals [a, b) (NaN b:
    still inside), or NaN; intervals are (start, end, due) arrays, NaN start: no such interval."""
    raised = np.full(len(intervals[0][0]), np.nan)
    for start, end, due in intervals:
        moment = np.fmax(due, start)
        hit = ~np.isnan(start) & ~np.isnan(due) & (moment < np.where(np.isnan(end), np.inf, end)) & (moment <= now)
        hit &= np.isnan(raised)
        raised[hit] = moment[hit]
    return raised


def make_history(
    reports: Reports, limits: Limits, calendar: VectorCalendar, now: float, rng: np.random.Generator
) -> History:
    n = len(reports)
    r, leaf, source = reports.reported, reports.leaf, reports.source
    closure = np.array([mix.CLOSURE_OVERRIDES.get(lf, mix.CLOSURE_MIX[lf[:2]]) for lf in LEAVES], dtype=float)
    level = _categorical_rows(rng, closure, leaf)
    by_worker = source == GRID_WORKER
    reject_share = np.array([mix.REJECT_SHARE.get(s, mix.DEFAULT_REJECT) for s in mix.SOURCES])[source]
    rejected = ~by_worker & (rng.random(n) < reject_share)
    ok = ~rejected
    up = ok & (level >= 1)
    quick = np.minimum(1.0, limits.accept[leaf] * 24 * mix.ACCEPT_SHARE / mix.ACCEPT_DELAY[0])
    accepted = np.where(by_worker, r, r + _lognormal(rng, mix.ACCEPT_DELAY, n) * quick)

    t = np.full((n, len(SLOTS)), np.nan)
    t[:, REPORT] = r
    t[~by_worker & ok, ACCEPT] = accepted[~by_worker & ok]
    t[rejected, REJECT] = accepted[rejected]
    at_grid = ok & (level == 0)
    t[at_grid, START] = (accepted + _lognormal(rng, mix.START_DELAY, n))[at_grid]
    moment = accepted.copy()
    for k in range(1, 5):
        moment = moment + _lognormal(rng, mix.ESCALATE_DELAY, n)
        has = ok & (level >= k)
        t[has, ESCALATE + k - 1] = moment[has]
    dispatched = moment + _lognormal(rng, mix.ESCALATE_DELAY, n) / 2
    t[up, DISPATCH] = dispatched[up]
    t[up, SIGN] = (dispatched + _lognormal(rng, mix.SIGN_DELAY, n))[up]
    median = np.array([mix.HANDLING[lf][0] for lf in LEAVES])[leaf] * np.asarray(mix.LEVEL_SLOWDOWN)[level]
    sigma = np.array([mix.HANDLING[lf][1] for lf in LEAVES])[leaf]
    handling = median * np.exp(sigma * rng.standard_normal(n)) * HOUR
    stuck = ok & (rng.random(n) < mix.STUCK_SHARE)
    handled = np.where(level == 0, t[:, START], t[:, SIGN]) + handling
    handled[stuck] = np.nan
    t[ok, HANDLE] = handled[ok]
    passed = handled + _lognormal(rng, mix.VERIFY_DELAY, n)
    t[ok, PASS] = passed[ok]
    residents = np.isin(source, [mix.SOURCES.index(s) for s in mix.RESIDENT_SOURCES])
    rated = ok & ~stuck & residents & (rng.random(n) < mix.RATED_SHARE)
    t[rated, RATE] = (passed + _lognormal(rng, mix.RATE_DELAY, n))[rated]

    accept_due = calendar.add_working_days(r, limits.accept[leaf])
    accept_red_due = calendar.add_working_days(r, limits.accept_red[leaf])
    due_1 = np.where(ok, calendar.add_working_days(accepted, limits.handle[leaf]), np.nan)
    red_1 = np.where(ok, calendar.add_working_days(accepted, limits.handle_red[leaf]), np.nan)
    due_2 = np.where(up, calendar.add_working_days(dispatched, limits.handle[leaf]), np.nan)
    red_2 = np.where(up, calendar.add_working_days(dispatched, limits.handle_red[leaf]), np.nan)

    nan = np.full(n, np.nan)
    waiting = np.where(by_worker, np.nan, r)  # reported … accepted (or rejected)
    escalated = np.where(up, t[:, ESCALATE], np.nan)
    handling_1_end = np.where(up, t[:, ESCALATE], handled)
    handling_1 = np.where(ok, accepted, np.nan)
    handling_2 = np.where(up, dispatched, np.nan)
    card_times = {
        ("accept", "yellow"): (
            _first_raise([(waiting, accepted, accept_due), (escalated, dispatched, accept_due)], now),
            accept_due,
        ),
        ("accept", "red"): (
            _first_raise([(waiting, accepted, accept_red_due), (escalated, dispatched, accept_red_due)], now),
            accept_red_due,
        ),
        ("handle", "yellow"): (
            _first_raise([(handling_1, handling_1_end, due_1), (handling_2, handled, due_2)], now),
            np.where(np.isnan(due_2), due_1, due_2),
        ),
        ("handle", "red"): (
            _first_raise([(handling_1, handling_1_end, red_1), (handling_2, handled, red_2)], now),
            np.where(np.isnan(red_2), red_1, red_2),
        ),
    }
    cases, stages, colours, times, dues = [], [], [], [], []
    for (stage, colour), (raised, due) in card_times.items():
        hit = np.flatnonzero(~np.isnan(raised))
        cases.append(hit)
        stages += [stage] * len(hit)
        colours += [colour] * len(hit)
        times.append(raised[hit])
        dues.append(due[hit])
    case_index = np.concatenate(cases)
    any_red = np.zeros(n, bool)
    any_red[np.concatenate(cases[1::2])] = True
    any_card = np.zeros(n, bool)
    any_card[case_index] = True
    card: list[str | None] = [
        ("red" if red else "yellow") if carded else None
        for red, carded in zip(any_red.tolist(), any_card.tolist(), strict=True)
    ]

    t[~(t <= now)] = np.nan
    done = ~np.isnan(t)
    last = len(SLOTS) - 1 - np.argmax(done[:, ::-1], axis=1)
    dispatched_by_now = done[:, DISPATCH]
    accepted_by_now = done[:, ACCEPT] | (by_worker & ok) | done[:, START] | done[:, ESCALATE]
    handle_due = np.where(dispatched_by_now, due_2, np.where(accepted_by_now, due_1, nan))
    handle_red_due = np.where(dispatched_by_now, red_2, np.where(accepted_by_now, red_1, nan))
    on_time = t[:, PASS] <= handle_due
    table = np.array([mix.SATISFACTION_LATE, mix.SATISFACTION_ON_TIME])
    satisfaction = np.where(done[:, RATE], 1 + _categorical_rows(rng, table, on_time.astype(np.int64)), 0)
    return History(
        times=t,
        level=level,
        last=last,
        accept_due=accept_due,
        accept_red_due=accept_red_due,
        handle_due=handle_due,
        handle_red_due=handle_red_due,
        satisfaction=satisfaction,
        cards=Cards(case_index, stages, colours, np.concatenate(times), np.concatenate(dues)),
        card=card,
    )
