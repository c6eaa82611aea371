"""Rows of a range of cases: the cases, their timeline (steps and cards, in time order), their cards and the
lead departments' assignments, as tuples of plain values for the bulk loader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from civicgrid.demo.bulk import Row
from civicgrid.demo.cases import mix
from civicgrid.demo.cases.draw import LEAVES, Reports
from civicgrid.demo.cases.timeline import (
    ACCEPT,
    DISPATCH,
    ESCALATE,
    GRID_WORKER,
    HANDLE,
    PASS,
    RATE,
    REJECT,
    REPORT,
    SIGN,
    SLOTS,
    STATUS_AFTER,
    History,
)
from civicgrid.demo.population.model import Arr, IntArr

CASE_COLUMNS = (
    "id", "code", "title", "description", "category_code", "source", "priority", "status", "level", "max_level",
    "closure_level", "lead_unit_id", "lon", "lat", "anonymous", "external_id", "followers", "reported_at",
    "accepted_at", "dispatched_at", "handled_at", "closed_at", "accept_due", "accept_red_due", "handle_due",
    "handle_red_due", "card", "cycle", "satisfaction", "version", "updated_at", "district_code", "street_code",
    "community_code", "grid_code",
)  # fmt: skip
ACTION_COLUMNS = (
    "id", "case_id", "action", "from_status", "to_status", "from_level", "to_level", "actor_user_id",
    "actor_label", "unit_id", "note", "data", "created_at",
)  # fmt: skip
CARD_COLUMNS = ("id", "case_id", "cycle", "stage", "colour", "serial", "note", "raised_at")
ASSIGNMENT_COLUMNS = ("id", "case_id", "unit_id", "role", "status", "assigned_at")
LEVELS = ("grid", "community", "street", "district", "city")
CARD = len(SLOTS)  # the timeline rank of a card entry: after a step at the same moment
COLOUR_ZH = {"yellow": "黄牌", "red": "红牌"}
STAGE_ZH = {"accept": "受理超时", "handle": "处置超时"}
REPORTER_LABELS = {
    "resident": "居民",
    "hotline_12345": "12345热线",
    "open311": "open311",
    "iot": "物联感知",
    "video": "视频巡查",
    "volunteer": "志愿者",
    "sos": "一键报警",
    "centre": "综治中心",
}
# Who takes a step: 0 grid worker, 1 community leader, 2–4 street, district, city centre, 5 lead unit,
# 6 the reporter, 7 the SLA scan.
WORKER, LEADER, LEAD_UNIT, REPORTER, SYSTEM = 0, 1, 5, 6, 7


@dataclass
class Context:
    """What the rows need besides the arrays: names, units, actors (per grid), departments (per case)."""

    stamp: Any  # (seconds array) -> list of timestamp values for the loader
    grid_code: list[str]
    grid_district: list[str]
    grid_street: list[str]
    grid_community: list[str]
    grid_name: list[str]
    place: list[str]  # the community's short name
    category_name: list[str]  # per leaf
    priority: list[str]  # per leaf
    actors: list[tuple[list[int | None], list[str], list[int | None]]]  # kind 0–4 → per grid (user, label, unit)
    lead_unit: IntArr  # per case: the department dispatched to (0: none)
    unit_names: dict[int, str]


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def stamps(seconds: Arr, sqlite: bool) -> list[str | None]:
    """UTC seconds (NaN: none) as the timestamp text of each database, vectorised."""
    out = np.full(len(seconds), None, dtype=object)
    known = ~np.isnan(seconds)
    micro = np.round(seconds[known] * 1e6).astype(np.int64).astype("datetime64[us]")
    text = np.ascontiguousarray(np.datetime_as_string(micro, unit="us").astype("U26"))
    chars = text.view("U1").reshape(-1, 26)
    chars[:, 10] = " "
    text = chars.view("U26").ravel()
    out[known] = text if sqlite else np.char.add(text, "+00")
    result: list[str | None] = out.tolist()
    return result


def _level_now(history: History) -> IntArr:
    """The rung holding each case after its last step (the ladder only goes up in the demo's paths)."""
    slot_level = np.array([0, 0, 0, 0, 1, 2, 3, 4, -1, -1, -1, -1, -1])[history.last]
    result: IntArr = np.where(slot_level < 0, history.level, slot_level)
    return result


def _status_now(reports: Reports, history: History) -> Arr:
    status = np.asarray(STATUS_AFTER, dtype=object)[history.last]
    status[(history.last == REPORT) & (reports.source == GRID_WORKER)] = "accepted"
    return status


def case_rows(ctx: Context, reports: Reports, history: History, first: int, rng: np.random.Generator) -> list[Row]:
    n = len(reports)
    ids = list(range(first, first + n))
    t = history.times
    done = ~np.isnan(t)
    status = _status_now(reports, history)
    closed = status == "closed"
    level = np.asarray(LEVELS, dtype=object)[_level_now(history)].tolist()
    by_worker = reports.source == GRID_WORKER
    accepted_at = np.where(done[:, ACCEPT], t[:, ACCEPT], np.where(by_worker, reports.reported, np.nan))
    closed_at = np.where(closed, t[:, PASS], t[:, REJECT])
    updated = np.nanmax(t, axis=1)
    if len(history.cards.case):
        np.fmax.at(updated, history.cards.case, history.cards.time)
    reported = ctx.stamp(reports.reported)
    days = [value[:10].replace("-", "") for value in reported]
    grid = reports.grid.tolist()
    leaf = reports.leaf.tolist()
    sources = np.asarray(mix.SOURCES, dtype=object)[reports.source].tolist()
    variant = rng.integers(0, 1 << 30, n).tolist()
    lead = np.where(done[:, DISPATCH], ctx.lead_unit, 0).tolist()
    columns: list[list[Any]] = [
        ids,
        [f"SJ{day}{case_id:08d}" for day, case_id in zip(days, ids, strict=True)],
        [f"{ctx.category_name[k]}：{ctx.grid_name[g][:80]}" for k, g in zip(leaf, grid, strict=True)],
        [
            mix.DESCRIPTIONS[LEAVES[k][:2]][v % len(mix.DESCRIPTIONS[LEAVES[k][:2]])].format(
                p=ctx.place[g], c=ctx.category_name[k]
            )
            for k, g, v in zip(leaf, grid, variant, strict=True)
        ],
        [LEAVES[k] for k in leaf],
        sources,
        [ctx.priority[k] for k in leaf],
        status.tolist(),
        level,
        level,
        [LEVELS[lv] if c else None for lv, c in zip(history.level.tolist(), closed.tolist(), strict=True)],
        [u or None for u in lead],
        reports.lon.tolist(),
        reports.lat.tolist(),
        [0] * n,
        [
            f"12345-{day}-{case_id:08d}" if source == "hotline_12345" else None
            for day, case_id, source in zip(days, ids, sources, strict=True)
        ],
        [0] * n,
        reported,
        ctx.stamp(accepted_at),
        ctx.stamp(t[:, DISPATCH]),
        ctx.stamp(t[:, HANDLE]),
        ctx.stamp(closed_at),
        ctx.stamp(history.accept_due),
        ctx.stamp(history.accept_red_due),
        ctx.stamp(history.handle_due),
        ctx.stamp(history.handle_red_due),
        history.card,
        [0] * n,
        [s or None for s in history.satisfaction.tolist()],
        done.sum(axis=1).tolist(),
        ctx.stamp(updated),
        [ctx.grid_district[g] for g in grid],
        [ctx.grid_street[g] for g in grid],
        [ctx.grid_community[g] for g in grid],
        [ctx.grid_code[g] for g in grid],
    ]
    return list(zip(*columns, strict=True))


def _actor_kinds(slot: IntArr, level: IntArr, by_worker: Arr) -> IntArr:
    kind = np.full(len(slot), WORKER)  # accept, reject, start, the first escalation, pass
    kind[slot == REPORT] = np.where(by_worker[slot == REPORT], WORKER, REPORTER)
    for k in (2, 3, 4):  # escalating from the community, the street, the district
        kind[slot == ESCALATE + k - 1] = k - 1
    kind[slot == DISPATCH] = level[slot == DISPATCH]  # the rung that holds it dispatches
    kind[slot == SIGN] = LEAD_UNIT
    kind[(slot == HANDLE) & (level > 0)] = LEAD_UNIT
    kind[slot == RATE] = REPORTER
    kind[slot == CARD] = SYSTEM
    result: IntArr = kind
    return result


def timeline_rows(
    ctx: Context, reports: Reports, history: History, first_case: int, first: dict[str, int]
) -> tuple[list[Row], list[Row], list[Row]]:
    """The timeline entries (steps and cards in time order), the card rows and the assignment rows."""
    t = history.times
    done = ~np.isnan(t)
    step_case, step_slot = np.nonzero(done)
    cards = history.cards
    case = np.r_[step_case, cards.case]
    slot = np.r_[step_slot, np.full(len(cards.case), CARD)]
    moment = np.r_[t[step_case, step_slot], cards.time]
    card_index = np.r_[np.full(len(step_case), -1), np.arange(len(cards.case))]
    order = np.lexsort((slot, moment, case))
    case, slot, moment, card_index = case[order], slot[order], moment[order], card_index[order]
    events = len(case)
    by_worker = reports.source == GRID_WORKER
    level = history.level[case]
    to_status = np.asarray((*STATUS_AFTER, None), dtype=object)[slot]
    to_status[(slot == REPORT) & by_worker[case]] = "accepted"
    to_level = np.array([0, 0, 0, 0, 1, 2, 3, 4, -1, -1, -1, -1, -1, -1])[slot]
    to_level = np.where(to_level < 0, level, to_level)
    carry = np.maximum.accumulate(np.where(slot == CARD, 0, np.arange(events)))  # a card keeps the state
    to_status, to_level = to_status[carry], to_level[carry]
    opens = np.r_[True, case[1:] != case[:-1]]  # the case's first entry
    from_status = np.r_[np.array([None], dtype=object), to_status[:-1]]
    from_status[opens] = None
    from_level = np.r_[0, to_level[:-1]]
    kind = _actor_kinds(slot, level, by_worker[case])
    names = (*SLOTS, "card")
    due = [datetime.fromtimestamp(value, UTC).isoformat() for value in cards.due.tolist()]
    created = ctx.stamp(moment)
    grid = reports.grid[case].tolist()
    sources = reports.source[case].tolist()
    lead = ctx.lead_unit[case].tolist()
    satisfaction = history.satisfaction[case].tolist()
    rows: list[Row] = []
    entries = zip(case.tolist(), slot.tolist(), kind.tolist(), grid, card_index.tolist(), strict=True)
    for e, (c, s, k, g, ci) in enumerate(entries):
        action = names[s]
        data: dict[str, Any] = {}
        note = mix.NOTES.get(action) or None
        if k <= 4:
            users, labels, units = ctx.actors[k]
            user, label, unit = users[g], labels[g], units[g]
        elif k == LEAD_UNIT:
            user, label, unit = None, ctx.unit_names[lead[e]], lead[e]
        elif k == REPORTER:
            user, label, unit = None, REPORTER_LABELS.get(mix.SOURCES[sources[e]], "反映人"), None
        else:
            user, label, unit = None, "system", None
        if s == REPORT:
            data = {"source": mix.SOURCES[sources[e]]}
        elif action == "escalate":
            data = {"to_level": LEVELS[s - ESCALATE + 1]}
        elif s == DISPATCH:
            data = {"lead_unit_id": lead[e], "co_unit_ids": []}
        elif s == RATE:
            data = {"satisfaction": satisfaction[e]}
            label = "反映人"
        elif s == CARD:
            stage, colour = cards.stage[ci], cards.colour[ci]
            note = f"{COLOUR_ZH[colour]}督办：{STAGE_ZH[stage]}"
            data = {"stage": stage, "colour": colour, "due": due[ci]}
        rows.append(
            (
                first["action"] + e,
                first_case + c,
                action,
                from_status[e],
                to_status[e],
                None if opens[e] else LEVELS[from_level[e]],
                LEVELS[to_level[e]],
                user,
                label,
                unit,
                note,
                _json(data),
                created[e],
            )
        )
    card_rows: list[Row] = [
        (first["card"] + i, first_case + c, 0, stage, colour, 0, f"{COLOUR_ZH[colour]}督办：{STAGE_ZH[stage]}", at)
        for i, (c, stage, colour, at) in enumerate(
            zip(cards.case.tolist(), cards.stage, cards.colour, ctx.stamp(cards.time), strict=True)
        )
    ]
    dispatched = np.flatnonzero(done[:, DISPATCH])
    signed = done[dispatched, SIGN].tolist()
    assigned = ctx.stamp(t[dispatched, DISPATCH])
    assignment_rows: list[Row] = [
        (first["assignment"] + i, first_case + c, int(ctx.lead_unit[c]), "lead", "signed" if sign else "pending", at)
        for i, (c, sign, at) in enumerate(zip(dispatched.tolist(), signed, assigned, strict=True))
    ]
    return rows, card_rows, assignment_rows
