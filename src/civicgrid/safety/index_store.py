"""Writing index scores: replace the rows of whole periods in bulk, and keep red streaks consistent.

A period's rows are replaced as a whole (delete the period's rows of the configuration, then insert every
area's), which is the primary-key upsert without a per-row conflict check. Inserts take each database's
bulk path on the session's own connection, inside its transaction: `executemany` on SQLite, `COPY … FROM
STDIN` on PostgreSQL (the full three-year daily rebuild writes millions of rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import repeat
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from civicgrid.safety.index import BAND_NAMES, RED, Areas, Block
from civicgrid.safety.models import SafetyScore
from civicgrid.safety.periods import Period

COLUMNS = (
    "config_id",
    "period_type",
    "period_start",
    "area_code",
    "level",
    "score",
    "band",
    "red_streak",
    "events",
    "deaths",
    "population",
    "computed_at",
)
TAB = "\t"


def stored_streaks(session: Session, config_id: int, period: Period, areas: Areas) -> np.ndarray:
    """Red streaks stored for `period` per area (0 where nothing is stored)."""
    out = np.zeros(len(areas), dtype=np.int64)
    rows = session.execute(
        select(SafetyScore.area_code, SafetyScore.red_streak).where(
            SafetyScore.config_id == config_id,
            SafetyScore.period_type == period.type,
            SafetyScore.period_start == period.start,
        )
    ).all()
    for code, streak in rows:
        i = areas.index.get(code)
        if i is not None:
            out[i] = streak
    return out


def _timestamp(moment: datetime, dialect: str) -> str:
    text = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    return text if dialect == "sqlite" else text + "+00"


def write_block(
    session: Session, config_id: int, block: Block, streak: np.ndarray, areas: Areas, computed_at: datetime
) -> int:
    """Replace the stored scores of the block's periods with its scores; returns the rows written."""
    if not block.periods:
        return 0
    period_type = block.periods[0].type
    starts = [p.start for p in block.periods]
    session.execute(
        delete(SafetyScore).where(
            SafetyScore.config_id == config_id,
            SafetyScore.period_type == period_type,
            # the block's periods are consecutive: a range of the primary key
            SafetyScore.period_start >= starts[0],
            SafetyScore.period_start <= starts[-1],
        )
    )
    dialect = session.get_bind().dialect.name
    n_t, n_a = block.score.shape
    codes: list[str] = list(areas.codes)
    levels: list[str] = list(areas.levels)
    band_names = np.array(BAND_NAMES, dtype=object)[block.band]
    events = np.rint(block.events).astype(np.int64)
    deaths = np.rint(block.deaths).astype(np.int64)
    population: list[int] = np.rint(areas.population).astype(np.int64).tolist()
    stamp = _timestamp(computed_at, dialect)
    periods = [
        _Rows(
            prefix=(config_id, period_type, starts[t].isoformat()),
            columns=(
                codes,
                levels,
                block.score[t].tolist(),
                band_names[t].tolist(),
                streak[t].tolist(),
                events[t].tolist(),
                deaths[t].tolist(),
                population,
            ),
        )
        for t in range(n_t)
    ]
    raw: Any = session.connection().connection.driver_connection
    if dialect == "postgresql":
        _copy(raw, periods, stamp)
    else:
        _executemany(raw, periods, stamp, n_a)
    return int(n_t * n_a)


@dataclass
class _Rows:
    """The rows of one period: the shared leading values, then one list per remaining column (areas order)."""

    prefix: tuple[int, str, str]
    columns: tuple[list[Any], ...]


def _executemany(raw: Any, periods: list[_Rows], stamp: str, n_areas: int) -> None:
    marks = ", ".join("?" * len(COLUMNS))
    sql = f"INSERT INTO {SafetyScore.__tablename__} ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
    cursor = raw.cursor()
    try:
        for rows in periods:
            config_id, period_type, start = rows.prefix
            cursor.executemany(
                sql,
                zip(
                    repeat(config_id, n_areas),
                    repeat(period_type, n_areas),
                    repeat(start, n_areas),
                    *rows.columns,
                    repeat(stamp, n_areas),
                    strict=True,
                ),
            )
    finally:
        cursor.close()


def _copy(raw: Any, periods: list[_Rows], stamp: str) -> None:
    """COPY in PostgreSQL's text format, one string per period (codes, levels and bands need no escaping)."""
    names = ", ".join(COLUMNS)
    with raw.cursor() as cursor, cursor.copy(f"COPY {SafetyScore.__tablename__} ({names}) FROM STDIN") as copy:
        for rows in periods:
            prefix = "\t".join(str(v) for v in rows.prefix) + "\t"
            code, level, score, band, red, events, deaths, population = rows.columns
            lines = zip(
                code,
                level,
                map(repr, score),
                band,
                map(str, red),
                map(str, events),
                map(str, deaths),
                map(str, population),
                strict=True,
            )
            copy.write("".join(f"{prefix}{TAB.join(line)}\t{stamp}\n" for line in lines))


def propagate_streaks(
    session: Session,
    config_id: int,
    last: Period,
    streak: np.ndarray,
    areas: Areas,
    stop_at: set[Period],
) -> int:
    """After `last` was recomputed with final streaks `streak`, fix the streaks of the stored periods that
    follow it (until one is unchanged, not stored, or about to be recomputed); returns the rows changed."""
    changed = 0
    carry = streak.copy()
    period = last.next()
    while period not in stop_at:
        rows = session.execute(
            select(SafetyScore.area_code, SafetyScore.band, SafetyScore.red_streak).where(
                SafetyScore.config_id == config_id,
                SafetyScore.period_type == period.type,
                SafetyScore.period_start == period.start,
            )
        ).all()
        if not rows:
            break
        fixes: dict[int, list[str]] = {}
        following = np.zeros(len(areas), dtype=np.int64)
        for code, band, stored in rows:
            i = areas.index.get(code)
            if i is None:
                continue
            value = int(carry[i]) + 1 if band == BAND_NAMES[RED] else 0
            following[i] = value
            if value != stored:
                fixes.setdefault(value, []).append(code)
        if not fixes:
            break
        for value, codes in fixes.items():
            for offset in range(0, len(codes), 5_000):
                session.execute(
                    update(SafetyScore)
                    .where(
                        SafetyScore.config_id == config_id,
                        SafetyScore.period_type == period.type,
                        SafetyScore.period_start == period.start,
                        SafetyScore.area_code.in_(codes[offset : offset + 5_000]),
                    )
                    .values(red_streak=value)
                )
            changed += len(codes)
        carry = following
        period = period.next()
    return changed


def latest_start(session: Session, config_id: int, period_type: str, on_or_before: date) -> date | None:
    """The newest period of `period_type` with stored scores, up to a day (every area of a period is stored
    together, so this is one primary-key seek)."""
    return session.scalar(
        select(func.max(SafetyScore.period_start)).where(
            SafetyScore.config_id == config_id,
            SafetyScore.period_type == period_type,
            SafetyScore.period_start <= on_or_before,
        )
    )
