"""`build_cases`: read the demo city (grids, staff, units, categories, calendar), draw the reports and their
paths, and write cases, timeline entries, cards and assignments with the bulk loader in one transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
from rich.progress import Progress as RichProgress
from sqlalchemy import Connection, Table, func, select
from sqlalchemy.orm import Session

from civicgrid.auth.models import User
from civicgrid.cases import sla
from civicgrid.cases.models import Case, CaseAction, CaseAssignment, CaseCard, CaseCategory
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database
from civicgrid.core.workcalendar import load_calendar
from civicgrid.demo.bulk import BulkLoader
from civicgrid.demo.cases import rows as case_rows
from civicgrid.demo.cases.draw import LEAVES, Reports, draw_reports, hotspot_communities
from civicgrid.demo.cases.timeline import Cards, History, Limits, make_history
from civicgrid.demo.cases.workdays import VectorCalendar
from civicgrid.demo.city import Progress, _reporter
from civicgrid.demo.population.model import IntArr, _Grids, _load_grids
from civicgrid.geo.models import Division
from civicgrid.org.models import GridAssignment, OrgUnit

TOTAL_CASES = 1_039_000  # handled events of the reference city (DESIGN.md), over YEARS
YEARS = 3
CHUNK_CASES = 100_000
LEVEL_NAMES = ("grid", "community", "street", "district", "city")


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


TABLES: tuple[Table, ...] = tuple(_table(m) for m in (Case, CaseAction, CaseCard, CaseAssignment))


class CasesExist(RuntimeError):
    """The case table is not empty; the demo history goes into an empty one."""


@dataclass
class CaseStats:
    scale: float
    seed: int
    counts: dict[str, int]
    statuses: dict[str, int]
    closure_levels: dict[str, float]  # shares of the closed cases
    settled_older: float  # closed or rejected, among cases reported more than 30 days ago
    hotspots: list[tuple[str, float]]
    timings: dict[str, float] = field(default_factory=dict)


def case_count(scale: float) -> int:
    return round(TOTAL_CASES * scale)


def _limits(session: Session) -> tuple[Limits, list[str], list[str], list[str]]:
    categories = {c.code: c for c in session.scalars(select(CaseCategory))}
    missing = [code for code in LEAVES if code not in categories]
    if missing:
        raise RuntimeError(f"case categories {', '.join(missing)} are missing; load the reference data first")
    found = [sla.limits_for(session, categories[code], categories[code].default_priority) for code in LEAVES]
    limits = Limits(
        accept=np.array([x.accept_days for x in found]),
        accept_red=np.array([x.red_accept_days for x in found]),
        handle=np.array([x.handle_days for x in found]),
        handle_red=np.array([x.red_handle_days for x in found]),
    )
    names = [categories[code].name_zh for code in LEAVES]
    priorities = [categories[code].default_priority for code in LEAVES]
    departments = [
        categories[code].department_type or categories[code[:2]].department_type or "government_services"
        for code in LEAVES
    ]
    return limits, names, priorities, departments


def _context(connection: Connection, session: Session, grids: _Grids) -> dict[str, Any]:
    """Actors per grid (worker, leader, centres), units and their names."""
    users = dict(session.execute(select(User.id, User.username)).all())
    leaders = dict(
        session.execute(
            select(GridAssignment.division_code, func.min(GridAssignment.user_id))
            .where(GridAssignment.duty == "grid_leader")
            .group_by(GridAssignment.division_code)
        ).all()
    )
    units = session.execute(
        select(OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.department_type, OrgUnit.division_code)
    ).all()
    names = {u.id: u.name for u in units}
    centre = {u.division_code: u.id for u in units if u.kind == "center"}
    committee = {u.division_code: u.id for u in units if u.kind == "committee"}
    city = session.scalar(select(Division.code).where(Division.level == "city"))
    grid_names = dict(session.execute(select(Division.code, Division.name).where(Division.level == "grid")).all())
    worker: list[tuple[int | None, str, int | None]] = []
    leader: list[tuple[int | None, str, int | None]] = []
    for g in range(len(grids)):
        community = grids.community[g]
        unit = committee.get(community)
        boss = leaders.get(community)
        leader.append((boss, users.get(boss, f"gl{community}") if boss else names.get(unit or 0, "社区"), unit))
        own = int(grids.worker[g]) or None
        worker.append((own, users[own], unit) if own else leader[-1])
    actors: list[tuple[list[int | None], list[str], list[int | None]]] = []
    for kind in (worker, leader):
        actors.append(([a[0] for a in kind], [a[1] for a in kind], [a[2] for a in kind]))
    for codes in (grids.street, grids.district, [city or ""] * len(grids)):
        ids = [centre.get(code) for code in codes]
        actors.append(([None] * len(ids), [names.get(i or 0, "综治中心") for i in ids], ids))
    departments = {
        (u.department_type, u.division_code): u.id for u in units if u.kind == "department" and u.department_type
    }
    return {
        "actors": actors,
        "unit_names": names,
        "grid_names": [grid_names.get(code, code) for code in grids.code],
        "departments": departments,
        "city": city,
    }


def _lead_units(
    reports: Reports, grids: _Grids, departments: dict[tuple[str, str], int], city: str, kinds: list[str]
) -> IntArr:
    """The department a dispatched case goes to: the district's branch of its kind, else the city's."""
    district = np.array([grids.district[g] for g in range(len(grids))], dtype=object)[reports.grid]
    result = np.zeros(len(reports), dtype=np.int64)
    pairs: dict[tuple[int, str], int] = {}
    for i, (k, d) in enumerate(zip(reports.leaf.tolist(), district.tolist(), strict=True)):
        unit = pairs.get((k, d))
        if unit is None:
            kind = kinds[k] or "government_services"
            unit = (
                departments.get((kind, d))
                or departments.get((kind, city))
                or departments.get(("hotline_12345", city))
                or 0
            )
            pairs[(k, d)] = unit
        result[i] = unit
    return result


def _slice(history: History, start: int, end: int) -> History:
    mine = (history.cards.case >= start) & (history.cards.case < end)
    picked = np.flatnonzero(mine)
    cards = Cards(
        history.cards.case[picked] - start,
        [history.cards.stage[i] for i in picked.tolist()],
        [history.cards.colour[i] for i in picked.tolist()],
        history.cards.time[picked],
        history.cards.due[picked],
    )
    part = slice(start, end)
    return History(
        history.times[part], history.level[part], history.last[part], history.accept_due[part],
        history.accept_red_due[part], history.handle_due[part], history.handle_red_due[part],
        history.satisfaction[part], cards, history.card[part],
    )  # fmt: skip


def _stats(reports: Reports, history: History, now: float) -> tuple[dict[str, int], dict[str, float], float]:
    status = case_rows._status_now(reports, history)
    values, counts = np.unique(status.astype(str), return_counts=True)
    statuses = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
    closed = status == "closed"
    shares = np.bincount(history.level[closed], minlength=5) / max(int(closed.sum()), 1)
    older = reports.reported < now - 30 * 86400
    settled = (closed | (status == "rejected"))[older]
    return (
        statuses,
        dict(zip(LEVEL_NAMES, shares.round(4).tolist(), strict=True)),
        float(settled.mean() if len(settled) else 1.0),
    )


def build_cases(
    database: Database,
    *,
    scale: float,
    seed: int,
    now: datetime | None = None,
    progress: Progress | RichProgress | None = None,
    chunk_cases: int = CHUNK_CASES,
    rebuild_indexes: bool = True,
) -> CaseStats:
    """Write the demo city's case history: `case_count(scale)` cases reported over the `YEARS` before `now`.

    Runs after the city, its accounts and the reference data (categories, calendar) are committed.
    Deterministic for a seed and `now`. Raises CasesExist when the case table is not empty.
    """
    report = _reporter(progress) or (lambda _stage, _done, _total: None)
    now = now or utcnow()
    started = time.perf_counter()
    timings: dict[str, float] = {}
    counts: dict[str, int] = {}
    if database.is_sqlite:  # idle pooled connections would keep SQLite in WAL mode (see BulkLoader.prepare)
        database.engine.dispose()
        database.write_engine.dispose()
    with database.write_engine.connect() as connection:
        loader = BulkLoader(connection, TABLES, rebuild_indexes=rebuild_indexes)
        loader.prepare()
        try:
            with connection.begin():
                if connection.execute(select(Case.id).limit(1)).first() is not None:
                    raise CasesExist("the case table is not empty; the demo history goes into an empty one")
                with Session(bind=connection) as session:
                    limits, names, priorities, kinds = _limits(session)
                    calendar = load_calendar(session)
                    grids = _load_grids(connection)
                    context = _context(connection, session, grids)
                first_day = (now.astimezone(calendar.tz) - timedelta(days=round(365.25 * YEARS))).date()
                vector = VectorCalendar(calendar, first_day, now.astimezone(calendar.tz).date())
                holidays = {day for day, (kind, _) in calendar.days.items() if kind == "holiday"}
                moment = now.astimezone(UTC).timestamp()
                reports = draw_reports(
                    grids, vector, holidays, n=case_count(scale), first_day=first_day, now=moment, seed=seed,
                    rng=np.random.default_rng([seed, 10]),
                )  # fmt: skip
                history = make_history(reports, limits, vector, moment, np.random.default_rng([seed, 11]))
                lead = _lead_units(reports, grids, context["departments"], context["city"], kinds)
                timings["generate"] = time.perf_counter() - started
                report("case history", 0, len(reports))
                ctx = case_rows.Context(
                    stamp=partial(case_rows.stamps, sqlite=loader.is_sqlite),
                    grid_code=grids.code,
                    grid_district=grids.district,
                    grid_street=grids.street,
                    grid_community=grids.community,
                    grid_name=context["grid_names"],
                    place=grids.place,
                    category_name=names,
                    priority=priorities,
                    actors=context["actors"],
                    lead_unit=lead,
                    unit_names=context["unit_names"],
                )
                loader.open()
                mark = time.perf_counter()
                first = {"action": 1, "card": 1, "assignment": 1}
                write = 0.0
                for number, start in enumerate(range(0, len(reports), chunk_cases)):
                    end = min(start + chunk_cases, len(reports))
                    part = reports.take(np.arange(start, end))
                    ctx.lead_unit = lead[start:end]
                    piece = _slice(history, start, end)
                    cases = case_rows.case_rows(ctx, part, piece, start + 1, np.random.default_rng([seed, 12, number]))
                    actions, cards, assignments = case_rows.timeline_rows(ctx, part, piece, start + 1, first)
                    write_mark = time.perf_counter()
                    for model, columns, rows in (
                        (Case, case_rows.CASE_COLUMNS, cases),
                        (CaseAction, case_rows.ACTION_COLUMNS, actions),
                        (CaseCard, case_rows.CARD_COLUMNS, cards),
                        (CaseAssignment, case_rows.ASSIGNMENT_COLUMNS, assignments),
                    ):
                        loader.insert(_table(model), columns, rows)
                        counts[_table(model).name] = counts.get(_table(model).name, 0) + len(rows)
                    write += time.perf_counter() - write_mark
                    first["action"] += len(actions)
                    first["card"] += len(cards)
                    first["assignment"] += len(assignments)
                    report("case history", end, len(reports))
                timings["rows"] = time.perf_counter() - mark - write
                timings["write"] = write
                mark = time.perf_counter()
                loader.close()
                timings["indexes_and_checks"] = time.perf_counter() - mark
                mark = time.perf_counter()
            timings["commit"] = time.perf_counter() - mark
        finally:
            loader.restore()
    timings["total"] = time.perf_counter() - started
    statuses, shares, settled = _stats(reports, history, moment)
    hotspots = hotspot_communities(grids.community, grids.urban.tolist(), seed)
    return CaseStats(scale, seed, counts, statuses, shares, settled, hotspots, timings)
