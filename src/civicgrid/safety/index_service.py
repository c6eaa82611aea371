"""The safety index service: computing and storing scores (incrementally as data arrives, or rebuilt for a
range), explaining one score, and the lists, trends and configurations the API serves.

Scores are kept per configuration; exactly one configuration is active. Computing reads the daily counts
once for every period asked for and their baseline windows (`safety.index.compute`), then replaces the
stored rows of those periods (`safety.index_store`). The explanation recomputes the one period with the
same function, so it always adds up to the score shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Date, bindparam, delete, func, select, text, update
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.core import jobs
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from civicgrid.core.errors import Conflict, InvalidInput, NotFound
from civicgrid.safety import counts as count_store
from civicgrid.safety import index_store
from civicgrid.safety.areas import load_tree
from civicgrid.safety.categories import kind_indicators
from civicgrid.safety.counts import CountFrame, local_day
from civicgrid.safety.index import Areas, Block, Counts, Rules, baseline_windows, chunk_size, compute, streaks
from civicgrid.safety.index_config import IndexDefinition, default_definition, parse_definition
from civicgrid.safety.models import PERIOD_TYPES, SafetyDailyCount, SafetyDirtyDay, SafetyIndexConfig, SafetyScore
from civicgrid.safety.periods import Period, period_of, periods_between

Progress = Callable[[int, int], None]  # (periods done, periods in all)
DEFAULT_NAME = "默认平安指数 (default)"
ACTIVATION_JOB = "safety.index.activate"
# Changed days one scheduled run recomputes at most (newest first); the rest wait for the next run.
DIRTY_DAYS_PER_RUN = 31


# -- configurations --------------------------------------------------------------------------------------


def active_config(session: Session) -> SafetyIndexConfig:
    config = session.scalars(
        select(SafetyIndexConfig).where(SafetyIndexConfig.active).order_by(SafetyIndexConfig.id.desc())
    ).first()
    if config is None:
        raise Conflict(
            "no index configuration is active; `civicgrid init` seeds the default one, "
            "POST /api/v1/safety/index-configs/{id}/activate activates another",
            details={"config": None},
        )
    return config


def current_config(session: Session) -> SafetyIndexConfig:
    """The active configuration; before any is stored (an installation that skipped `civicgrid init`), the
    default definition as an unsaved configuration with id 0, for which nothing is stored yet."""
    config = session.scalars(
        select(SafetyIndexConfig).where(SafetyIndexConfig.active).order_by(SafetyIndexConfig.id.desc())
    ).first()
    if config is not None:
        return config
    return SafetyIndexConfig(
        id=0, name=f"{DEFAULT_NAME}, not saved", active=True, definition=default_definition().model_dump(mode="json")
    )


def definition_of(config: SafetyIndexConfig) -> IndexDefinition:
    return parse_definition(config.definition)


def seed_index_config(session: Session) -> int:
    """The default configuration, active, when there is none at all; returns how many were added."""
    if session.scalar(select(func.count()).select_from(SafetyIndexConfig)):
        return 0
    session.add(
        SafetyIndexConfig(name=DEFAULT_NAME, active=True, definition=default_definition().model_dump(mode="json"))
    )
    session.flush()
    return 1


def list_configs(session: Session, principal: Principal) -> list[SafetyIndexConfig]:
    require(principal, "safety:read")
    return list(session.scalars(select(SafetyIndexConfig).order_by(SafetyIndexConfig.id)))


def create_config(session: Session, principal: Principal, name: str, raw: dict[str, Any]) -> SafetyIndexConfig:
    """A new, inactive configuration (every problem of the definition reported at once; nothing stored)."""
    require(principal, "safety:admin")
    definition = parse_definition(raw)
    config = SafetyIndexConfig(
        name=name, active=False, definition=definition.model_dump(mode="json"), created_by=principal.user_id
    )
    session.add(config)
    session.flush()
    audit.record(
        session,
        principal,
        "safety_index_config.create",
        "safety_index_config",
        config.id,
        details={"name": name, "indicators": definition.indicators, "baseline": definition.baseline},
    )
    return config


def request_activation(session: Session, principal: Principal, config_id: int) -> SafetyIndexConfig:
    """Check that a configuration may be activated (its scores are then computed by the activation job)."""
    require(principal, "safety:admin")
    config = session.get(SafetyIndexConfig, config_id)
    if config is None:
        raise NotFound(
            f"index configuration {config_id} not found; GET /api/v1/safety/index-configs lists them",
            details={"id": config_id},
        )
    if config.active:
        raise Conflict(
            f"index configuration {config_id} is already active; `civicgrid safety rebuild` recomputes its scores",
            details={"id": config_id},
        )
    definition_of(config)  # a stored definition that no longer parses is refused here, not in the job
    audit.record(session, principal, "safety_index_config.activate", "safety_index_config", config.id)
    return config


def activate(session: Session, config_id: int) -> None:
    """Make `config_id` the one active configuration."""
    session.execute(update(SafetyIndexConfig).where(SafetyIndexConfig.id != config_id).values(active=False))
    session.execute(update(SafetyIndexConfig).where(SafetyIndexConfig.id == config_id).values(active=True))


@jobs.handler(ACTIVATION_JOB)
def _activation_job(context: jobs.JobContext) -> dict[str, Any]:
    """Compute every period of the new configuration over the counted days, then switch to it: the index
    shown stays the old one until the new one has its scores."""
    config_id = int(context.params["config_id"])

    def report(period_type: str, done: int, total: int) -> None:
        context.progress(processed=done, total=total, message=f"computing {period_type} scores")

    result = rebuild(context.database, config_id=config_id, recount=False, progress=report)
    with context.database.unit_of_work() as session:
        activate(session, config_id)
        config = session.get(SafetyIndexConfig, config_id)
        assert config is not None
        # Days counted while the job ran were recomputed for the old configuration only: catch up.
        today = local_day(utcnow())
        engine = Engine.load(session, config, [period_of(t, today) for t in PERIOD_TYPES])
        for period_type in PERIOD_TYPES:
            store_periods(session, engine, [period_of(period_type, today)])
    return {
        "message": f"index configuration {config_id} is active; {result.rows:,} scores computed",
        "rows": result.rows,
        "periods": result.periods,
    }


# -- loading ---------------------------------------------------------------------------------------------


def first_days(session: Session, kinds: dict[str, str]) -> dict[str, date | None]:
    """Per indicator, the first day any of its kinds has a count (where its history starts)."""
    out: dict[str, date | None] = {}
    for kind, indicator in sorted(kinds.items()):
        first = session.scalar(select(func.min(SafetyDailyCount.day)).where(SafetyDailyCount.kind == kind))
        current = out.get(indicator)
        if first is not None and (current is None or first < current):
            out[indicator] = first
        else:
            out.setdefault(indicator, current)
    return out


# Beyond this many days SQLite reads the daily counts faster by scanning the table than through the day
# index (a lookup per row: 5x slower for three years); PostgreSQL's planner makes that choice itself.
WIDE_SPAN_DAYS = 300


def _load_frame(
    session: Session, first: date, last: date, kinds: Iterable[str], divisions: list[str] | None
) -> CountFrame:
    """The daily counts of `kinds` between two days (of `divisions` only, when given), read as the driver
    returns them (no per-row type conversion: days come as ISO text on SQLite, as dates on PostgreSQL)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    table = SafetyDailyCount.__tablename__
    hint = " NOT INDEXED" if sqlite and divisions is None and (last - first).days > WIDE_SPAN_DAYS else ""
    sql = (
        f"SELECT division_code, day, kind, count, deaths FROM {table}{hint} "  # noqa: S608 - names from the model
        "WHERE day >= :first AND day <= :last AND kind IN :kinds"
    )
    params: dict[str, Any] = {"first": first, "last": last, "kinds": list(kinds)}
    binds = [bindparam("first", type_=Date), bindparam("last", type_=Date), bindparam("kinds", expanding=True)]
    if divisions is not None:
        sql += " AND division_code IN :divisions"
        params["divisions"] = divisions
        binds.append(bindparam("divisions", expanding=True))
    rows = session.execute(text(sql).bindparams(*binds), params).fetchall()
    if not rows:
        return CountFrame(
            np.array([], dtype=object),
            np.array([], dtype="datetime64[D]"),
            np.array([], dtype=object),
            np.array([], dtype=np.int64),
            np.array([], dtype=np.int64),
        )
    division, day, kind, count, deaths = zip(*rows, strict=True)
    return CountFrame(
        np.array(division, dtype=object),
        np.array(day, dtype="datetime64[D]"),
        np.array(kind, dtype=object),
        np.array(count, dtype=np.int64),
        np.array(deaths, dtype=np.int64),
    )


def _spans(windows: Iterable[Period]) -> list[tuple[date, date]]:
    """The days the windows cover, as sorted disjoint ranges (adjacent ones merged)."""
    spans: list[tuple[date, date]] = []
    for window in sorted(windows, key=lambda w: (w.start, w.end)):
        if spans and window.start <= spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], max(spans[-1][1], window.end))
        else:
            spans.append((window.start, window.end))
    return spans


def _concat(frames: list[CountFrame]) -> CountFrame:
    if len(frames) == 1:
        return frames[0]
    return CountFrame(
        np.concatenate([f.division for f in frames]),
        np.concatenate([f.day for f in frames]),
        np.concatenate([f.kind for f in frames]),
        np.concatenate([f.count for f in frames]),
        np.concatenate([f.deaths for f in frames]),
    )


@dataclass
class Engine:
    """Everything a computation needs: the configuration, the areas and the daily counts of a day range."""

    config_id: int
    definition: IndexDefinition
    rules: Rules
    areas: Areas
    counts: Counts
    first: date
    last: date

    @classmethod
    def load(
        cls,
        session: Session,
        config: SafetyIndexConfig,
        periods: Sequence[Period],
        *,
        areas: Areas | None = None,
        divisions: list[str] | None = None,
    ) -> Engine:
        """Counts covering `periods` and their baseline windows (of the `divisions` only, when given)."""
        definition = definition_of(config)
        rules = Rules.of(definition)
        areas = areas or Areas.of(load_tree(session))
        spans = _spans(w for p in periods for w in baseline_windows(p))
        first, last = spans[0][0], spans[-1][1]
        kinds = {k: v for k, v in kind_indicators(session).items() if v in rules.indicators}
        frame = _concat([_load_frame(session, a, b, kinds, divisions) for a, b in spans])
        counts = Counts.of(frame, kinds, rules, areas, first_days(session, kinds))
        return cls(config.id, definition, rules, areas, counts, first, last)

    def block(self, periods: Sequence[Period]) -> Block:
        return compute(periods, self.counts, self.areas, self.rules)


# -- computing and storing -------------------------------------------------------------------------------


def _runs(periods: Iterable[Period]) -> list[list[Period]]:
    """Sorted periods split into runs of consecutive ones."""
    runs: list[list[Period]] = []
    for period in sorted(set(periods)):
        if runs and runs[-1][-1].next() == period:
            runs[-1].append(period)
        else:
            runs.append([period])
    return runs


def store_periods(
    session: Session,
    engine: Engine,
    periods: Iterable[Period],
    *,
    progress: Progress | None = None,
    commit: Callable[[], None] | None = None,
) -> int:
    """Compute and store the scores of `periods` (one type) for every area; returns the rows written.

    `commit` (optional) is called after each chunk, for long rebuilds that should not hold one transaction.
    """
    runs = _runs(periods)
    targets = {p for run in runs for p in run}
    total, done, written = len(targets), 0, 0
    size = chunk_size(engine.areas, engine.rules)
    now = utcnow()
    for run in runs:
        carry = index_store.stored_streaks(session, engine.config_id, run[0].previous(), engine.areas)
        for offset in range(0, len(run), size):
            chunk = run[offset : offset + size]
            block = engine.block(chunk)
            red = streaks(block.band, carry)
            carry = red[-1]
            written += index_store.write_block(session, engine.config_id, block, red, engine.areas, now)
            done += len(chunk)
            if commit is not None:
                commit()
            if progress is not None:
                progress(done, total)
        index_store.propagate_streaks(session, engine.config_id, run[-1], carry, engine.areas, targets)
    return written


def affected_periods(days: Iterable[date], period_type: str, today: date) -> set[Period]:
    """Periods whose score reads any of `days`: their own, the next one (its `previous` baseline) and the
    same period of the three following years (their `three_year` baselines) — none beyond today."""
    out: set[Period] = set()
    for day in days:
        period = period_of(period_type, day)
        out.add(period)
        out.add(period.next())
        for years in (1, 2, 3):
            shifted = day.replace(year=day.year + years, day=min(day.day, 28) if day.month == 2 else day.day)
            out.add(period_of(period_type, shifted))
    return {p for p in out if p.start <= today}


@dataclass
class RecomputeResult:
    cases_counted: int
    dirty_days: int
    periods: dict[str, int]
    rows: int
    days_left: int = 0  # changed days left for the next run

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases_counted": self.cases_counted,
            "dirty_days": self.dirty_days,
            "periods": self.periods,
            "rows": self.rows,
            "days_left": self.days_left,
        }


def take_dirty_days(session: Session, limit: int | None = DIRTY_DAYS_PER_RUN) -> list[date]:
    """Up to `limit` of the days marked as changed, newest first, unmarked (`counts.take_dirty_days` takes
    them all: after a bulk load that is years of days, too much for one scheduled run)."""
    if limit is None:
        return count_store.take_dirty_days(session)
    days = list(session.scalars(select(SafetyDirtyDay.day).order_by(SafetyDirtyDay.day.desc()).limit(limit)))
    if days:
        session.execute(delete(SafetyDirtyDay).where(SafetyDirtyDay.day.in_(days)))
    return sorted(days)


def dirty_days_left(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SafetyDirtyDay)) or 0


def recompute(
    database: Database, now: datetime | None = None, *, limit: int | None = DIRTY_DAYS_PER_RUN
) -> RecomputeResult:
    """The incremental recompute: count new cases, then recompute every period of every type that contains
    one of the (newest `limit`) days whose counts changed, and those reading it as a baseline, plus the
    current periods not yet computed, for the active configuration. Days left over wait for the next run
    (a bulk load marks years of days: `civicgrid safety rebuild` is the faster way through those).

    Only the writes hold a write transaction (on SQLite, the database's one write lock): counting the new
    cases and taking the changed days, then each chunk of scores. Reading the counts and computing happen
    in a read session, so sign-ins and reports go on meanwhile. A day marked again while this runs is
    simply recomputed by the next run; when the computation fails, the days taken are marked again."""
    now = now or utcnow()
    today = local_day(now)
    with database.unit_of_work() as session:
        counted = count_store.sync_cases(session)
        days = take_dirty_days(session, limit)
    try:
        with database.unit_of_work(write=False) as session:
            left = dirty_days_left(session)
            config = session.scalars(select(SafetyIndexConfig).where(SafetyIndexConfig.active)).first()
            if config is None:
                return RecomputeResult(counted, len(days), {}, 0, left)
            wanted = _periods_to_recompute(session, config.id, days, today)
            every = [p for ps in wanted.values() for p in ps]
            if not every:
                return RecomputeResult(counted, len(days), {}, 0, left)
            engine = Engine.load(session, config, every)
        rows = 0
        for period_type in PERIOD_TYPES:
            if wanted[period_type]:
                with database.unit_of_work() as session:
                    rows += store_periods(session, engine, wanted[period_type], commit=session.commit)
    except BaseException:
        if days:
            with database.unit_of_work() as session:
                count_store.mark_dirty(session, days)
        raise
    return RecomputeResult(counted, len(days), {t: len(ps) for t, ps in wanted.items() if ps}, rows, left)


def _periods_to_recompute(session: Session, config_id: int, days: list[date], today: date) -> dict[str, set[Period]]:
    """Per period type: the periods reading any of `days`, and the current period when it is not stored."""
    wanted: dict[str, set[Period]] = {}
    for period_type in PERIOD_TYPES:
        periods = affected_periods(days, period_type, today)
        current = period_of(period_type, today)
        stored = session.scalar(
            select(func.count())
            .select_from(SafetyScore)
            .where(
                SafetyScore.config_id == config_id,
                SafetyScore.period_type == period_type,
                SafetyScore.period_start == current.start,
            )
        )
        if not stored:
            periods.add(current)
        wanted[period_type] = periods
    return wanted


@dataclass
class RebuildResult:
    incident_count_rows: int
    cases_counted: int
    first: date | None
    last: date | None
    periods: dict[str, int]
    rows: int
    seconds: dict[str, float]


def default_range(session: Session, today: date) -> tuple[date, date] | None:
    """From the first counted day to today (or the last counted day if it is later)."""
    span = count_store.counted_days(session)
    if span is None:
        return None
    return span[0], max(span[1], today)


def rebuild(
    database: Database,
    *,
    config_id: int | None = None,
    first: date | None = None,
    last: date | None = None,
    period_types: Sequence[str] = PERIOD_TYPES,
    recount: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> RebuildResult:
    """Recount (incidents from the incident table, new cases), then compute every period of `period_types`
    overlapping `first`..`last` (default: all counted days). Each chunk of periods commits on its own."""
    import time

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    incident_rows = cases = 0
    if recount:
        with database.unit_of_work() as session:
            incident_rows = count_store.rebuild_incident_counts(session)
            cases = count_store.sync_cases(session)
            # The table was rewritten: fresh statistics, or the planner reads it through the wrong index.
            session.execute(text(f"ANALYZE {SafetyDailyCount.__tablename__}"))
        seconds["recount"] = time.perf_counter() - started
    with database.unit_of_work() as session:
        span = default_range(session, local_day(utcnow()))
        if span is None and (first is None or last is None):
            return RebuildResult(incident_rows, cases, None, None, {}, 0, seconds)
        assert span is not None or (first is not None and last is not None)
        first = first or (span[0] if span else first)
        last = last or (span[1] if span else last)
        assert first is not None and last is not None
        if first > last:
            raise InvalidInput(
                f"--from {first} is after --to {last}", details=[{"field": "from", "problem": "after to"}]
            )
        config = session.get(SafetyIndexConfig, config_id) if config_id is not None else active_config(session)
        if config is None:
            raise NotFound(f"index configuration {config_id} not found", details={"id": config_id})
        plan = {t: periods_between(t, first, last) for t in period_types}
        every = [p for ps in plan.values() for p in ps]
        loading = time.perf_counter()
        engine = Engine.load(session, config, every)
        seconds["load"] = time.perf_counter() - loading
        # The days now being computed need no incremental pass.
        session.execute(delete(SafetyDirtyDay).where(SafetyDirtyDay.day >= first, SafetyDirtyDay.day <= last))
    rows = 0
    for period_type, periods in plan.items():
        began = time.perf_counter()
        with database.unit_of_work() as session:

            def report(done: int, total: int, kind: str = period_type) -> None:
                if progress is not None:
                    progress(kind, done, total)

            rows += store_periods(session, engine, periods, progress=report, commit=session.commit)
        seconds[period_type] = time.perf_counter() - began
    with database.unit_of_work() as session:  # millions of rows replaced: fresh statistics for the planner
        session.execute(text(f"ANALYZE {SafetyScore.__tablename__}"))
    return RebuildResult(incident_rows, cases, first, last, {t: len(p) for t, p in plan.items()}, rows, seconds)
