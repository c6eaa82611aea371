"""The daily counts (`SafetyDailyCount`) every index, warning and forecast reads, kept up to date as
records arrive, and the marks of the days whose indices must be recomputed.

Incidents are counted when they are stored (`count_incidents`); the platform's cases are read from the
cases service past a watermark (`sync_cases`), so the case module does not know about this one. Counts
are incremented with one upsert per (division, day, kind), the same statement on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import String, case, delete, func, literal, or_, select
from sqlalchemy.orm import Session

from civicgrid.cases import service as cases_service
from civicgrid.core.db import dialect_insert
from civicgrid.geo.models import Division
from civicgrid.safety.categories import RECORDS_SOURCE, kind_of
from civicgrid.safety.models import SafetyDailyCount, SafetyDirtyDay, SafetyFeedState, SafetyIncident

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
CASES_FEED = "cases"
CASE_BATCH = 20_000


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


def case_kind(category_code: str) -> str:
    return f"case:{category_code[:2]}"


@dataclass(frozen=True)
class CountKey:
    division_code: str
    day: date
    kind: str


@dataclass
class Tally:
    count: int = 0
    deaths: int = 0
    injuries: int = 0


def add_counts(session: Session, tallies: dict[CountKey, Tally]) -> None:
    """Add to the daily counts (rows created as needed) and mark their days for recomputation."""
    if not tallies:
        return
    rows = [
        {
            "division_code": k.division_code,
            "day": k.day,
            "kind": k.kind,
            "count": t.count,
            "deaths": t.deaths,
            "injuries": t.injuries,
        }
        for k, t in sorted(tallies.items(), key=lambda item: (item[0].division_code, item[0].day, item[0].kind))
    ]
    # One statement, executed for many rows: a multi-row VALUES statement would be compiled again for every
    # batch, which took minutes for a million rows.
    statement = dialect_insert(session, SafetyDailyCount)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["division_code", "day", "kind"],
        set_={
            "count": SafetyDailyCount.count + excluded.count,
            "deaths": SafetyDailyCount.deaths + excluded.deaths,
            "injuries": SafetyDailyCount.injuries + excluded.injuries,
        },
    )
    connection = session.connection()
    for start in range(0, len(rows), 50_000):
        connection.execute(statement, rows[start : start + 50_000])
    mark_dirty(session, {k.day for k in tallies})


def mark_dirty(session: Session, days: Iterable[date]) -> None:
    statement = dialect_insert(session, SafetyDirtyDay)
    values = [{"day": d} for d in sorted(set(days))]
    for start in range(0, len(values), 5_000):
        session.execute(statement.values(values[start : start + 5_000]).on_conflict_do_nothing())


def take_dirty_days(session: Session) -> list[date]:
    """The days marked since the last call, unmarked (the caller recomputes them in the same transaction)."""
    days = sorted(session.scalars(select(SafetyDirtyDay.day)))
    if days:
        session.execute(delete(SafetyDirtyDay).where(SafetyDirtyDay.day.in_(days)))
    return days


def tally_incidents(incidents: Iterable[SafetyIncident]) -> dict[CountKey, Tally]:
    tallies: dict[CountKey, Tally] = {}
    for incident in incidents:
        key = CountKey(incident.division_code, incident.day, kind_of(incident.category_code, incident.source))
        tally = tallies.setdefault(key, Tally())
        tally.count += 1
        tally.deaths += incident.deaths
        tally.injuries += incident.injuries
    return tallies


def count_incidents(session: Session, incidents: Iterable[SafetyIncident]) -> None:
    """Count newly stored incidents (call in the transaction that stores them)."""
    add_counts(session, tally_incidents(incidents))


def sync_cases(session: Session, *, limit: int | None = None) -> int:
    """Count the cases reported since the last sync; returns how many were counted."""
    state = session.get(SafetyFeedState, CASES_FEED, with_for_update=True)
    if state is None:
        state = SafetyFeedState(feed=CASES_FEED, last_id=0)
        session.add(state)
        session.flush()
    counted = 0
    while limit is None or counted < limit:
        batch = cases_service.reported_since(session, state.last_id, CASE_BATCH)
        if not batch:
            break
        tallies: Counter[CountKey] = Counter()
        for _id, grid_code, reported_at, category_code in batch:
            tallies[CountKey(grid_code, local_day(reported_at), case_kind(category_code))] += 1
        add_counts(session, {k: Tally(count=n) for k, n in tallies.items()})
        state.last_id = batch[-1][0]
        counted += len(batch)
    session.flush()
    return counted


def rebuild_incident_counts(session: Session) -> int:
    """Recount every incident from the incident table (after a bulk load or a repair); returns the rows.

    One INSERT … SELECT … GROUP BY in the database, without bringing the incidents into Python (1.4 million
    demo incidents: tens of seconds and no memory, where tallies in Python took minutes and a gigabyte).
    """
    incident_kinds = or_(SafetyDailyCount.kind.like("inc:%"), SafetyDailyCount.kind.like("rec:%"))
    session.execute(delete(SafetyDailyCount).where(incident_kinds).execution_options(synchronize_session=False))
    klass = func.substr(SafetyIncident.category_code, 1, 2)
    prefix = case((SafetyIncident.source == RECORDS_SOURCE, literal("rec:", String)), else_=literal("inc:", String))
    grouped = select(
        SafetyIncident.division_code,
        SafetyIncident.day,
        prefix + klass,
        func.count(),
        func.coalesce(func.sum(SafetyIncident.deaths), 0),
        func.coalesce(func.sum(SafetyIncident.injuries), 0),
    ).group_by(SafetyIncident.division_code, SafetyIncident.day, prefix, klass)
    columns = ["division_code", "day", "kind", "count", "deaths", "injuries"]
    session.execute(dialect_insert(session, SafetyDailyCount).from_select(columns, grouped))
    mark_dirty(session, session.scalars(select(SafetyIncident.day).distinct()))
    return int(session.scalar(select(func.count()).where(incident_kinds)) or 0)


@dataclass
class CountFrame:
    """Daily counts as parallel arrays (what the index, warnings and back-tests compute with)."""

    division: np.ndarray  # object array of division codes
    day: np.ndarray  # datetime64[D]
    kind: np.ndarray  # object array of kinds
    count: np.ndarray  # int64
    deaths: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.count)


def load_counts(session: Session, first: date, last: date, kinds: Iterable[str] | None = None) -> CountFrame:
    """Every daily count between `first` and `last` (inclusive), optionally only of `kinds`."""
    query = select(
        SafetyDailyCount.division_code,
        SafetyDailyCount.day,
        SafetyDailyCount.kind,
        SafetyDailyCount.count,
        SafetyDailyCount.deaths,
    ).where(SafetyDailyCount.day >= first, SafetyDailyCount.day <= last)
    if kinds is not None:
        query = query.where(SafetyDailyCount.kind.in_(list(kinds)))
    rows = session.execute(query).all()
    if not rows:
        empty = np.array([], dtype=object)
        return CountFrame(
            empty,
            np.array([], dtype="datetime64[D]"),
            empty,
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


def counted_days(session: Session) -> tuple[date, date] | None:
    """The first and last day that has any count."""
    first, last = session.execute(select(func.min(SafetyDailyCount.day), func.max(SafetyDailyCount.day))).one()
    return (first, last) if first is not None else None


def totals(
    session: Session,
    area: tuple[str, str] | None,
    first: date,
    last: date,
    *,
    group_level: str | None = None,
    by_day: bool = True,
    kind_prefix: str = "inc:",
) -> dict[tuple[str | None, date | None, str], int]:
    """Counts of the kinds starting with `kind_prefix` placed in `area` ((level, code); None: everywhere)
    between `first` and `last` inclusive, summed per (division of `group_level` holding the record, day,
    kind). Without `group_level` the first key is None; without `by_day` the day is None. A record placed
    above `group_level` (an address code of a street when grouping by community) has the group None.

    For the command centre's figures: one grouped query joined to the division tree, so a district's
    month is read without loading the city's counts."""
    keys: list[Any] = []
    query = select(SafetyDailyCount.kind, func.sum(SafetyDailyCount.count)).where(
        SafetyDailyCount.day >= first,
        SafetyDailyCount.day <= last,
        SafetyDailyCount.kind.like(f"{kind_prefix}%"),
    )
    if group_level is not None or (area is not None and area[0] != "city"):
        query = query.join(Division, Division.code == SafetyDailyCount.division_code)
        if area is not None and area[0] != "city":
            query = query.where(getattr(Division, f"{area[0]}_code") == area[1])
        if group_level is not None:
            keys.append(getattr(Division, f"{group_level}_code"))
    if by_day:
        keys.append(SafetyDailyCount.day)
    query = query.add_columns(*keys).group_by(SafetyDailyCount.kind, *keys)
    result: dict[tuple[str | None, date | None, str], int] = {}
    for row in session.execute(query):
        kind, count = row[0], row[1]
        rest: list[Any] = list(row[2:])
        group = rest.pop(0) if group_level is not None else None
        day = rest.pop(0) if by_day else None
        result[(group, day, str(kind))] = int(count or 0)
    return result
