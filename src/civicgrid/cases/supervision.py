"""Automatic supervision (督办): the SLA scan that raises yellow and red cards on overdue cases.

Every `sla_scan_seconds` (core.scheduler, one process per period) the open cases are read in batches
of ids. A case waiting for acceptance (reported, escalated) past its `accept_due` gets a yellow
'accept' card, past `accept_red_due` a red one; a case being handled (accepted, dispatched,
in_progress, returned) past `handle_due` a yellow 'handle' card, past `handle_red_due` a red one.
Cases being verified (handled, verifying) wait on the verifier, not the handler, and are not carded.

Cards are `CaseCard` rows with serial 0, unique per (case, cycle, stage, colour, serial): they are
inserted with ON CONFLICT DO NOTHING and only the rows actually inserted count, so scanners running at
once (in several processes, or a command beside the server) raise each card once, and a reopened case
(a new cycle) can be carded again. A raised card sets `Case.card` (red beats yellow), adds a 'card'
entry to the case's timeline by "system" (the case's status and version do not change: a card does
not conflict with what a handler is doing) and notifies the handler and the holder (`events`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, any_, exists, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from civicgrid.audit import service as audit
from civicgrid.cases import events
from civicgrid.cases.models import Case, CaseAction, CaseCard
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database, dialect_insert
from civicgrid.core.scheduler import periodic

TASK_NAME = "cases.sla_scan"
DEFAULT_EVERY = timedelta(seconds=300)
ACCEPT_STAGE = ("reported", "escalated")
HANDLE_STAGE = ("accepted", "dispatched", "in_progress", "returned")
SUPERVISED = ACCEPT_STAGE + HANDLE_STAGE
BATCH_SIZE = 5000
# The cases are re-read right after a set-based UPDATE; no need to search the identity map for them.
_NO_SYNC = {"synchronize_session": False}
_ACTOR = "system"

Progress = Callable[[int, int], None]  # (open cases scanned so far, open cases to scan)
Wanted = tuple[int, int, str, str]  # (case id, cycle, stage, colour)


@dataclass
class ScanResult:
    yellow: int = 0
    red: int = 0
    scanned: int = 0

    @property
    def raised(self) -> int:
        return self.yellow + self.red


def _due_cards(row: Any, now: datetime) -> list[Wanted]:
    if row.status in ACCEPT_STAGE:
        stage, yellow_due, red_due = "accept", row.accept_due, row.accept_red_due
    else:
        stage, yellow_due, red_due = "handle", row.handle_due, row.handle_red_due
    cards: list[Wanted] = []
    if yellow_due is not None and yellow_due <= now:
        cards.append((row.id, row.cycle, stage, "yellow"))
    if red_due is not None and red_due <= now:
        cards.append((row.id, row.cycle, stage, "red"))
    return cards


def _among(session: Session, column: QueryableAttribute[int], ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL as `= ANY(array)`, one parameter instead of thousands."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def _existing(session: Session, case_ids: Sequence[int]) -> set[Wanted]:
    rows = session.execute(
        select(CaseCard.case_id, CaseCard.cycle, CaseCard.stage, CaseCard.colour).where(
            _among(session, CaseCard.case_id, case_ids), CaseCard.serial == 0, CaseCard.stage.in_(("accept", "handle"))
        )
    )
    return {(int(a), int(b), str(c), str(d)) for a, b, c, d in rows}


def insert_cards(session: Session, wanted: Sequence[Wanted], now: datetime) -> list[Wanted]:
    """Insert automatic cards, skipping any that exist (even one another scanner is inserting now);
    the cards this call inserted."""
    if not wanted:
        return []
    statement = (
        dialect_insert(session, CaseCard)
        .on_conflict_do_nothing()
        .returning(CaseCard.case_id, CaseCard.cycle, CaseCard.stage, CaseCard.colour)
    )
    rows = [{"case_id": c, "cycle": y, "stage": s, "colour": k, "serial": 0, "raised_at": now} for c, y, s, k in wanted]
    # One compiled statement, executed as multi-row batches (insertmanyvalues) by the Core connection.
    result = session.connection().execute(statement, rows)
    return [(int(a), int(b), str(c), str(d)) for a, b, c, d in result]


def _record(session: Session, inserted: Sequence[Wanted], now: datetime) -> list[events.RaisedCards]:
    """Set the cases' card, write their timeline entries; the cases with what was raised on them."""
    red_ids = sorted({c for c, _y, _s, k in inserted if k == "red"})
    yellow_ids = sorted({c for c, _y, _s, k in inserted if k == "yellow"} - set(red_ids))
    if red_ids:
        session.execute(
            update(Case).where(_among(session, Case.id, red_ids)).values(card="red"), execution_options=_NO_SYNC
        )
    if yellow_ids:
        session.execute(
            update(Case).where(_among(session, Case.id, yellow_ids), Case.card.is_(None)).values(card="yellow"),
            execution_options=_NO_SYNC,
        )
    ids = sorted({c for c, *_ in inserted})
    cases = {
        case.id: case
        for case in session.scalars(
            select(Case).where(_among(session, Case.id, ids)).execution_options(populate_existing=True)
        )
    }
    raised: dict[int, events.RaisedCards] = {}
    entries = []
    for case_id, _cycle, stage, colour in sorted(inserted, key=lambda w: (w[0], w[3] == "red")):
        case = cases[case_id]
        raised.setdefault(case_id, events.RaisedCards(case)).cards.append((stage, colour))
        due = case.accept_due if stage == "accept" else case.handle_due
        if colour == "red":
            due = case.accept_red_due if stage == "accept" else case.handle_red_due
        entries.append(
            {
                "case_id": case_id,
                "action": "card",
                "from_status": case.status,
                "to_status": case.status,
                "from_level": case.level,
                "to_level": case.level,
                "actor_user_id": None,
                "actor_label": _ACTOR,
                "unit_id": None,
                "note": f"{events.COLOUR_ZH[colour]}督办：{events.STAGE_ZH[stage]}",
                "data": {"stage": stage, "colour": colour, "due": due.isoformat() if due else None},
                "created_at": now,
            }
        )
    session.connection().execute(insert(CaseAction), entries)
    return list(raised.values())


def _due_without_card(now: datetime) -> ColumnElement[bool]:
    """Open cases past a deadline of their stage whose card for it is missing (decided inside the database,
    so a scan that finds nothing new reads little more than the open cases' index entries)."""

    def missing(stage: str, colour: str) -> ColumnElement[bool]:
        return ~exists().where(
            CaseCard.case_id == Case.id,
            CaseCard.cycle == Case.cycle,
            CaseCard.stage == stage,
            CaseCard.colour == colour,
            CaseCard.serial == 0,
        )

    def stage_due(statuses: tuple[str, ...], stage: str, yellow: Any, red: Any) -> ColumnElement[bool]:
        late = or_(and_(yellow <= now, missing(stage, "yellow")), and_(red <= now, missing(stage, "red")))
        return and_(Case.status.in_(statuses), late)

    # One branch per stage, each led by its statuses, so the database can use the status index for both.
    return or_(
        stage_due(ACCEPT_STAGE, "accept", Case.accept_due, Case.accept_red_due),
        stage_due(HANDLE_STAGE, "handle", Case.handle_due, Case.handle_red_due),
    )


def scan(
    session: Session,
    now: datetime | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> ScanResult:
    """Raise the cards that are due on the open cases (in the caller's unit of work; never commits);
    `progress(scanned, total)` is called after each batch."""
    now = now or utcnow()
    result = ScanResult()
    # The open cases' ids come from the status index alone; each batch is then checked by primary key.
    # (Sorted here: ORDER BY would lead SQLite to walk the whole table in id order instead.)
    ids = sorted(session.scalars(select(Case.id).where(Case.status.in_(SUPERVISED))))
    due = _due_without_card(now)
    columns = (
        Case.id,
        Case.cycle,
        Case.status,
        Case.accept_due,
        Case.accept_red_due,
        Case.handle_due,
        Case.handle_red_due,
    )
    raised: list[events.RaisedCards] = []
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        rows = session.execute(select(*columns).where(_among(session, Case.id, batch), due)).all()
        wanted = [card for row in rows for card in _due_cards(row, now)]
        if wanted:
            have = _existing(session, sorted({w[0] for w in wanted}))
            wanted = [w for w in wanted if w not in have]
        inserted = insert_cards(session, wanted, now)
        if inserted:
            raised.extend(_record(session, inserted, now))
            result.red += sum(1 for w in inserted if w[3] == "red")
            result.yellow += sum(1 for w in inserted if w[3] == "yellow")
        result.scanned += len(batch)
        if progress is not None:
            progress(result.scanned, len(ids))
    if raised:
        events.cards_raised(session, raised)
        audit.record(
            session,
            None,
            "case.sla_scan",
            "case",
            None,
            details={"yellow": result.yellow, "red": result.red, "scanned": result.scanned},
            actor_name=_ACTOR,
        )
    return result


def cards_of(session: Session, case_ids: Sequence[int]) -> set[Wanted]:
    """The automatic cards of these cases (tests, the board)."""
    return _existing(session, case_ids) if case_ids else set()


@periodic(TASK_NAME, every=DEFAULT_EVERY)
def sla_scan_task(database: Database, now: datetime) -> ScanResult:
    with database.unit_of_work() as session:
        return scan(session, now)
