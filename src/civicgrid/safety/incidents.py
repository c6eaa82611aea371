"""The incident store: police calls and recorded incidents placed in the division tree and counted.

`store` is the one writer of `SafetyIncident`, for file imports and pushed calls alike: it places every
record not yet placed (`feeds.place`), inserts the new ones and skips those already stored — a record is
known by (source, record_id), so importing or pushing it again changes nothing and is reported as a
duplicate, not an error — and counts what it inserted in the daily counts, in the caller's transaction.
Known keys are looked up first (one indexed query per 900 records) under the source's write lock (SQLite's
database lock from BEGIN, a PostgreSQL advisory lock per source), so two imports of one file at once never
store or count a record twice.

Stored calls are shown live (topic `safety.incident`) to accounts that may read single calls in their
area; the event carries only category, source, time, division and point — nothing about people.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, String, Table, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from civicgrid.authz.policy import require, restrict
from civicgrid.authz.scope import Level, Principal
from civicgrid.core.broadcast import Audience, Event, publish_after_commit
from civicgrid.core.clock import utcnow
from civicgrid.core.errors import InvalidInput
from civicgrid.geo import service as geo
from civicgrid.safety import counts
from civicgrid.safety.feeds import CategoryTable, Record, place, read_record
from civicgrid.safety.models import FEED_SOURCES, SafetyIncident

ADVISORY_LOCK_SPACE = 0x5AFE  # pg_advisory_xact_lock(space, source): the incident store's locks
LOOKUP_CHUNK = 900  # ids per IN list (below SQLite's and PostgreSQL's parameter limits)
PERMISSION = "safety:import"
MAX_PUSHED = 1_000  # incidents per pushed call
TOPIC = "safety.incident"
LIVE_PERMISSION = "safety:incidents"
# Up to this many stored calls get a live event each; more (a backlog) get one event telling screens to re-read.
LIVE_EVENTS_PER_CALL = 100


@dataclass
class Stored:
    created: list[Record] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # record ids stored before


def _row(record: Record, job_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "source": record.source,
        "record_id": record.record_id,
        "occurred_at": record.occurred_at,
        "time_precision": record.time_precision,
        "day": record.day,
        "category_code": record.category_code,
        "raw_category": record.raw_category,
        "division_code": record.division_code,
        "district_code": record.district_code,
        "street_code": record.street_code,
        "community_code": record.community_code,
        "grid_code": record.grid_code,
        "lon": record.lon,
        "lat": record.lat,
        "address": record.address,
        "severity": record.severity,
        "deaths": record.deaths,
        "injuries": record.injuries,
        "job_id": job_id,
        "imported_at": now,
    }


def _known(session: Session, records: Sequence[Record]) -> set[tuple[str, str]]:
    """The (source, record_id) of `records` that are stored already."""
    by_source: dict[str, list[str]] = {}
    for record in records:
        by_source.setdefault(record.source, []).append(record.record_id)
    known: set[tuple[str, str]] = set()
    postgres = session.get_bind().dialect.name == "postgresql"
    for source, ids in by_source.items():
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            # PostgreSQL: one array parameter (the driver parses a statement with 900 placeholders slowly).
            matches = (
                SafetyIncident.record_id == any_(bindparam("ids", chunk, type_=ARRAY(String)))
                if postgres
                else SafetyIncident.record_id.in_(chunk)
            )
            found = session.scalars(select(SafetyIncident.record_id).where(SafetyIncident.source == source, matches))
            known.update((source, record_id) for record_id in found)
    return known


def _lock_sources(session: Session, sources: Iterable[str]) -> None:
    """PostgreSQL: serialise the stores of one source until this transaction ends (SQLite's write lock,
    taken at BEGIN, already does), so the keys found missing are still missing when inserted."""
    for source in sorted(set(sources)):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"),
            {"space": ADVISORY_LOCK_SPACE, "key": FEED_SOURCES.index(source)},
        )


def _insert_new(session: Session, records: Sequence[Record], job_id: int | None) -> list[Record]:
    """Insert the records not stored yet (one executemany); the ones inserted.

    The known keys are looked up under the write lock of the source (SQLite: the database's, from BEGIN;
    PostgreSQL: an advisory lock per source), so no other transaction stores one of them meanwhile. A plain
    INSERT, not ON CONFLICT … RETURNING: on PostgreSQL that took six times as long (the driver parses the
    many-row statement SQLAlchemy builds for RETURNING), and a conflict, were one to slip through, is
    refused loudly by the unique index rather than counted twice.
    """
    if session.get_bind().dialect.name == "postgresql":
        _lock_sources(session, (r.source for r in records))
    known = _known(session, records)
    fresh = [r for r in records if (r.source, r.record_id) not in known]
    if fresh:
        now = utcnow()
        session.connection().execute(
            cast(Table, SafetyIncident.__table__).insert(), [_row(r, job_id, now) for r in fresh]
        )
    return fresh


def store(session: Session, records: Sequence[Record], *, job_id: int | None = None) -> Stored:
    """Place, insert and count `records` (never commits). Records already stored are skipped and listed as
    duplicates. InvalidInput, with nothing written, when a record cannot be placed or a key repeats."""
    unplaced = [r for r in records if r.division_code is None]
    problems = [
        {"record_id": unplaced[i].record_id, "field": name, "problem": reason}
        for i, name, reason in place(session, unplaced)
    ]
    seen: set[tuple[str, str]] = set()
    for record in records:
        key = (record.source, record.record_id)
        if record.source not in FEED_SOURCES:
            problems.append({"record_id": record.record_id, "field": "source", "problem": "not a feed source"})
        if key in seen:
            problems.append({"record_id": record.record_id, "field": "record_id", "problem": "given twice"})
        seen.add(key)
    if problems:
        raise InvalidInput(
            f"{len(problems)} problem(s) in the records; nothing was stored: {problems[0]['problem']}",
            details=problems,
        )
    inserted = {(r.source, r.record_id) for r in _insert_new(session, records, job_id)}
    stored = Stored()
    for record in records:
        if (record.source, record.record_id) in inserted:
            stored.created.append(record)
        else:
            stored.duplicates.append(record.record_id)
    # count_incidents reads source, division_code, day, category_code, deaths and injuries, which a Record has.
    counts.count_incidents(session, cast("Iterable[SafetyIncident]", stored.created))
    return stored


def receive(
    session: Session,
    principal: Principal,
    source: str,
    items: Sequence[Mapping[str, Any]],
    table: CategoryTable,
    *,
    limit: int = MAX_PUSHED,
) -> Stored:
    """Store calls pushed by a police system, all or nothing: any problem in any item → InvalidInput
    listing every one (by item index and record id), nothing stored. Records stored before are
    duplicates, not problems. The stored ones are published live once the transaction commits."""
    require(principal, PERMISSION)
    if len(items) > limit:
        raise InvalidInput(
            f"at most {limit:,} incidents per call; split the batch",
            details=[{"field": "incidents", "problem": f"{len(items):,} given"}],
        )
    now = utcnow()
    problems: list[dict[str, Any]] = []
    records: list[Record] = []
    positions: list[int] = []
    seen: dict[str, int] = {}
    for n, item in enumerate(items):
        record, item_problems, _unknown = read_record(item, source, table, now)
        record_id = str(item.get("record_id") or "")
        first = seen.setdefault(record_id, n) if record_id else n
        if first != n:
            item_problems = [*item_problems, ("record_id", f"given again; item {first} has it already")]
            record = None
        problems.extend({"index": n, "record_id": record_id, "field": f, "problem": p} for f, p in item_problems)
        if record is not None and not item_problems:
            records.append(record)
            positions.append(n)
    for i, name, reason in place(session, records, principal):
        n = positions[i]
        problems.append({"index": n, "record_id": records[i].record_id, "field": name, "problem": reason})
    if problems:
        problems.sort(key=lambda p: p["index"])
        failed = len({p["index"] for p in problems})
        raise InvalidInput(
            f"{failed:,} of {len(items):,} incidents have problems, so none was stored; the details list each one "
            f"(first: item {problems[0]['index']}, {problems[0]['field']}: {problems[0]['problem']})",
            details=problems,
        )
    stored = store(session, records)
    publish_stored(session, stored.created)
    return stored


# -- live events -----------------------------------------------------------------------------------------


def live_payload(record: Record) -> dict[str, Any]:
    return {
        "source": record.source,
        "category_code": record.category_code,
        "occurred_at": record.occurred_at.isoformat(),
        "time_precision": record.time_precision,
        "division_code": record.division_code,
        "lon": record.lon,
        "lat": record.lat,
    }


def publish_stored(session: Session, records: Sequence[Record]) -> None:
    """Tell the screens of each record's area, once `session` has committed."""
    if not records:
        return
    if len(records) <= LIVE_EVENTS_PER_CALL:
        for record in records:
            audience = Audience.of(areas=[record.area_codes()], permission=LIVE_PERMISSION)
            publish_after_commit(session, Event(TOPIC, live_payload(record), audience))
        return
    areas = list({r.division_code: r.area_codes() for r in records}.values())
    audience = Audience.of(areas=areas, permission=LIVE_PERMISSION)
    payload = {"count": len(records), "sources": sorted({r.source for r in records}), "resync": True}
    publish_after_commit(session, Event(TOPIC, payload, audience))


# -- reading ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentFilter:
    source: str | None = None
    category: str | None = None  # a leaf code, or a class's two digits for all of it
    area_code: str | None = None  # a division of any level: records placed in it or below
    since: datetime | None = None
    until: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None


_AREA_COLUMNS = {
    Level.district.value: SafetyIncident.district_code,
    Level.street.value: SafetyIncident.street_code,
    Level.community.value: SafetyIncident.community_code,
    Level.grid.value: SafetyIncident.grid_code,
}


def query(session: Session, principal: Principal, filters: IncidentFilter) -> Select[tuple[SafetyIncident]]:
    """The incidents the principal may read (`safety:incidents`, their area), filtered; unordered."""
    statement = restrict(select(SafetyIncident), principal, "safety:incidents", SafetyIncident)
    if filters.source is not None:
        if filters.source not in FEED_SOURCES:
            raise InvalidInput(
                f"source is one of {', '.join(FEED_SOURCES)}", details=[{"field": "source", "problem": "unknown"}]
            )
        statement = statement.where(SafetyIncident.source == filters.source)
    if filters.category:
        if not filters.category.isdigit() or len(filters.category) not in (2, 4):
            raise InvalidInput(
                "category is a leaf code (0101) or a class's two digits (01)",
                details=[{"field": "category", "problem": "not a category code"}],
            )
        column = SafetyIncident.category_code
        statement = statement.where(
            column.like(f"{filters.category}%") if len(filters.category) == 2 else column == filters.category
        )
    if filters.area_code:
        division = geo.divisions_by_codes(session, [filters.area_code]).get(filters.area_code)
        if division is None:
            raise InvalidInput(
                f"{filters.area_code!r} is not a division of the map",
                details=[{"field": "area_code", "problem": "unknown division"}],
            )
        area_column = _AREA_COLUMNS.get(division.level)
        if area_column is not None:
            statement = statement.where(area_column == division.code)
    if filters.since is not None:
        statement = statement.where(SafetyIncident.occurred_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(SafetyIncident.occurred_at < filters.until)
    if filters.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = filters.bbox
        statement = statement.where(
            SafetyIncident.lon.between(min_lon, max_lon), SafetyIncident.lat.between(min_lat, max_lat)
        )
    return statement
