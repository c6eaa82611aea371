"""Dispute records (矛盾纠纷) for the demo city's class-01 cases: one dispute per case, its parties and its
mediation sessions, written with the bulk loader after `demo.cases.build_cases`.

`build_disputes(database, seed=…, keyring=…, now=…)` reads every case under class 01 in one query and
draws, per case:

- the dispute category: the inverse of the categories' default mapping (0101 → 04 邻里纠纷, 0102 → 03
  婚姻家庭, …), spread over the other categories that plausibly end up under that case category
  (`dispute_mix.CATEGORY_MIX`: 邻里 also 房屋宅基地, 环境生态, 医患 …; 征地拆迁 also 山林土地, 农村"三资", 信访 …);
- people involved (mostly 2–9; a tail of tens to a few hundred for wages, land and restructuring) and the
  scale they imply (`disputes.service.SCALE_BY_PEOPLE`), a summary and sometimes the units involved;
- the resolution deadline (report date + 15–60 days) and the outcome agreeing with the case: open cases
  pending; closed cases ≈ 90 % resolved (on the day the case was handled, so before it closed), the rest
  partly resolved or failed; rejected cases failed (not taken up), without mediation;
- 2–4 parties (applicant, respondent, sometimes others; a company or office as respondent where the
  dispute is with one), about half of the people with a valid GB 11643 ID number stored encrypted beside
  its blind index (as the registry's are);
- 1–3 mediation sessions between the report and the outcome (the last one with the agreement when one
  was reached), by the rung the case reached: the community's 人民调解委员会, the street's 司法所 or police
  station, the district's court, petition bureau or lawyers; open cases in handling sometimes one so far.

Deterministic for a seed and `now`, except the ciphertexts (random nonces; the blind indexes repeat).
The figures and the words are in `demo.dispute_mix`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from rich.progress import Progress as RichProgress
from sqlalchemy import Connection, Table, select

from civicgrid.cases.models import Case, CaseCategory
from civicgrid.config import get_settings
from civicgrid.core.clock import utcnow
from civicgrid.core.crypto import Keyring
from civicgrid.core.db import Database
from civicgrid.core.idnumber import make_id_number, regions
from civicgrid.demo import dispute_mix as mix
from civicgrid.demo import vocab
from civicgrid.demo.bulk import BulkLoader, Row
from civicgrid.demo.city import Progress, _reporter, short_name
from civicgrid.demo.population.identifiers import _encrypted
from civicgrid.demo.population.model import BENGBU_ID_REGIONS, FLOATING_ORIGINS, Arr, IntArr
from civicgrid.demo.population.sampling import _categorical_rows, _dates, _weights
from civicgrid.demo.population.texts import _random_names, _Texts
from civicgrid.disputes.models import PARTY_ID_CONTEXT, Dispute, DisputeCategory, DisputeMediation, DisputeParty
from civicgrid.disputes.service import DISPUTE_CLASS, SCALE_BY_PEOPLE
from civicgrid.geo.models import Division


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


TABLES: tuple[Table, ...] = tuple(_table(m) for m in (Dispute, DisputeParty, DisputeMediation))
AREA = ("district_code", "street_code", "community_code", "grid_code")
DISPUTE_COLUMNS = (
    "id", "case_id", "dispute_category", "scale", "people_count", "summary", "units_involved",
    "resolution_deadline", "outcome", "success", "resolved_on", "resolution", "evaluated_on", "evaluation",
    "follow_up_on", "follow_up_note", "created_at", "updated_at", *AREA,
)  # fmt: skip
PARTY_COLUMNS = (
    "id", "dispute_id", "role", "name", "id_number_enc", "id_number_index", "sex", "ethnicity", "education",
    "person_category", "address", "created_at", *AREA,
)  # fmt: skip
MEDIATION_COLUMNS = (
    "id", "dispute_id", "session_no", "mediated_on", "method", "organisation", "mediator", "result", "agreement",
    "agreement_reached", "created_at", *AREA,
)  # fmt: skip

GENERATION_BOUNDS = np.array([date(y, 1, 1).toordinal() for y in vocab.GENERATION_BOUNDS])


class DisputesExist(RuntimeError):
    """The dispute table is not empty; the demo disputes go into an empty one."""


@dataclass
class DisputeStats:
    seed: int
    counts: dict[str, int]
    outcomes: dict[str, int]
    categories: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _Cases:
    """The class-01 cases, one entry per case (dates as proleptic ordinals in local time; 0: none)."""

    id: list[int]
    leaf: list[str]
    status: Arr
    rung: IntArr
    reported: list[datetime]
    updated: list[datetime]
    reported_day: IntArr
    handled_day: IntArr
    closed_day: IntArr
    area: list[tuple[str, str, str, str]]


def _read_cases(connection: Connection, tz: ZoneInfo) -> _Cases:
    rows = connection.execute(
        select(
            Case.id, Case.category_code, Case.status, Case.max_level, Case.reported_at, Case.handled_at,
            Case.closed_at, Case.district_code, Case.street_code, Case.community_code, Case.grid_code,
        )
        .join(CaseCategory, CaseCategory.code == Case.category_code)
        .where(CaseCategory.parent_code == DISPUTE_CLASS)
        .order_by(Case.id)
    ).all()  # fmt: skip

    def day(moment: datetime | None) -> int:
        return moment.astimezone(tz).date().toordinal() if moment is not None else 0

    return _Cases(
        id=[r.id for r in rows],
        leaf=[r.category_code for r in rows],
        status=np.array([r.status for r in rows], dtype=object),
        rung=np.array([mix.RUNG.get(r.max_level, 0) for r in rows], dtype=np.int64),
        reported=[r.reported_at.astimezone(UTC) for r in rows],
        updated=[(r.closed_at or r.handled_at or r.reported_at).astimezone(UTC) for r in rows],
        reported_day=np.array([day(r.reported_at) for r in rows], dtype=np.int64),
        handled_day=np.array([day(r.handled_at) for r in rows], dtype=np.int64),
        closed_day=np.array([day(r.closed_at) for r in rows], dtype=np.int64),
        area=[(r.district_code, r.street_code, r.community_code, r.grid_code) for r in rows],
    )


def _floating_regions() -> tuple[list[str], Arr]:
    """County codes of the floating population's places of origin (no development zones), by weight."""
    codes: list[str] = []
    weights: list[float] = []
    counties = [c for c, r in regions().items() if r.level == "county" and c[4] != "7"]
    for prefix, weight in FLOATING_ORIGINS.items():
        members = [c for c in counties if c.startswith(prefix) and not c.startswith("3403")]
        codes += members
        weights += [weight / len(members)] * len(members)
    p = np.array(weights)
    return codes, p / p.sum()


def _pick_text(rng: np.random.Generator, options: list[tuple[str, ...]]) -> list[str]:
    u = rng.random(len(options)).tolist()
    return [o[int(x * len(o))] for o, x in zip(options, u, strict=True)]


def _names(rng: np.random.Generator, sex: IntArr, birth: IntArr, texts: _Texts) -> list[str]:
    """Chinese names that fit each person's sex (1, 2) and birth year."""
    surnames, weights = _weights(vocab.SURNAMES)
    s = rng.choice(len(surnames), size=len(sex), p=weights)
    generation = np.searchsorted(GENERATION_BOUNDS, birth, side="right")
    one = rng.random(len(sex)) < np.array(vocab.ONE_CHARACTER_SHARE)[generation]
    u1, u2 = rng.random(len(sex)).tolist(), rng.random(len(sex)).tolist()
    out = []
    for si, g, x, o, a, b in zip(s.tolist(), generation.tolist(), sex.tolist(), one.tolist(), u1, u2, strict=True):
        first, second, single = texts.given[2 * g + x - 1]
        given = single[int(a * len(single))] if o else first[int(a * len(first))] + second[int(b * len(second))]
        out.append(texts.surnames[si] + given)
    return out


def _people(rng: np.random.Generator, category: list[str]) -> IntArr:
    """People involved: mostly 2–9; for crowds (wages, land, …) sometimes tens to a few hundred."""
    n = len(category)
    few = 2 + np.minimum(rng.geometric(0.5, n) - 1, 7)
    share = np.array([mix.CROWDS.get(c, (0.0, 10))[0] for c in category])
    cap = np.array([mix.CROWDS.get(c, (0.0, 10))[1] for c in category])
    many = np.clip(np.round(np.exp(np.log(18) + 1.0 * rng.standard_normal(n))), 10, cap)
    result: IntArr = np.where(rng.random(n) < share, many, few).astype(np.int64)
    return result


def _scales(people: IntArr) -> list[str]:
    bounds = [least for least, _ in SCALE_BY_PEOPLE]
    names = [scale for _, scale in SCALE_BY_PEOPLE]
    result: list[str] = np.select([people >= b for b in bounds], names, default="general").tolist()
    return result


def _amounts(rng: np.random.Generator, n: int) -> tuple[list[int], list[int]]:
    money = (np.round(np.exp(np.log(6000) + 1.1 * rng.standard_normal(n)) / 100) * 100).clip(200, 500_000)
    return money.astype(np.int64).tolist(), rng.integers(3, 31, n).tolist()


def _outcomes(rng: np.random.Generator, cases: _Cases) -> tuple[Arr, IntArr]:
    """Outcome and resolution day per case: open → pending; closed → resolved ≈ 90 %, else partly or
    failed, on the day the case was handled; rejected → failed (not taken up), on the day it was rejected."""
    n = len(cases.id)
    closed = cases.status == "closed"
    rejected = cases.status == "rejected"
    u = rng.random(n)
    outcome = np.full(n, "pending", dtype=object)
    outcome[closed] = np.where(u[closed] < 0.9, "resolved", np.where(u[closed] < 0.95, "partly", "failed"))
    outcome[rejected] = "failed"
    handled = np.where(cases.handled_day > 0, cases.handled_day, cases.closed_day)
    day = np.where(closed, handled, np.where(rejected, cases.closed_day, 0))
    result: IntArr = day.astype(np.int64)
    return outcome, result


def _dispute_rows(
    rng: np.random.Generator, cases: _Cases, ctx: dict[str, Any], stamp: Any, today: int, tz: ZoneInfo
) -> tuple[list[Row], Arr, IntArr, IntArr, list[str | None], list[str]]:
    n = len(cases.id)
    codes = ctx["codes"]
    table = np.array(
        [
            [mix.CATEGORY_MIX.get(leaf, mix.OTHER_MIX).get(code, 0.0) for code in codes]
            for leaf in sorted(set(cases.leaf))
        ]
    )
    leaves = {leaf: i for i, leaf in enumerate(sorted(set(cases.leaf)))}
    drawn = _categorical_rows(rng, table, np.array([leaves[x] for x in cases.leaf], dtype=np.int64))
    category = [codes[i] for i in drawn.tolist()]
    people = _people(rng, category)
    place = [ctx["community"].get(a[2], "") for a in cases.area]
    summaries = [
        t.format(p=p, n=k)
        for t, p, k in zip(_pick_text(rng, [mix.SUMMARIES[c] for c in category]), place, people.tolist(), strict=True)
    ]
    with_unit = (rng.random(n) < mix.UNIT_SHARE).tolist()
    trade, line = rng.integers(0, 1 << 20, n).tolist(), rng.integers(0, 1 << 20, n).tolist()
    units: list[str | None] = [
        mix.UNITS[c].format(
            t=vocab.TRADE_NAMES[t % len(vocab.TRADE_NAMES)], l=vocab.COMPANY_LINES[li % len(vocab.COMPANY_LINES)],
            d=ctx["name"].get(a[0], ""), s=ctx["name"].get(a[1], ""), c=ctx["committee"].get(a[2], ""),
            h=vocab.HOSPITALS[t % len(vocab.HOSPITALS)],
        )
        if c in mix.UNITS and w else None
        for c, w, t, li, a in zip(category, with_unit, trade, line, cases.area, strict=True)
    ]  # fmt: skip
    deadline = cases.reported_day + rng.integers(15, 61, n)
    outcome, resolved = _outcomes(rng, cases)
    money, terms = _amounts(rng, n)
    agreements = [
        (mix.AGREEMENTS.get(c) or (mix.PAYMENT if c in mix.PAYING else mix.DEFAULT_AGREEMENT)).format(
            m=m, k=k, s=max(m // 500, 4) * 50
        )
        for c, m, k in zip(category, money, terms, strict=True)
    ]
    resolution: list[str | None] = []
    for o, status, a in zip(outcome.tolist(), cases.status.tolist(), agreements, strict=True):
        if o == "resolved":
            resolution.append(f"经调解，双方达成协议：{a}。纠纷已化解。")
        elif o == "partly":
            resolution.append(mix.PARTIAL.format(a=a) + "。")
        elif o == "failed":
            resolution.append(mix.NOT_TAKEN if status == "rejected" else mix.FAILED)
        else:
            resolution.append(None)
    resolved_ok = outcome == "resolved"
    evaluated = resolved_ok & (rng.random(n) < 0.7)
    follow_day = cases.closed_day + rng.integers(7, 31, n)
    followed = (resolved_ok | (outcome == "partly")) & (rng.random(n) < 0.6) & (follow_day <= today)
    evaluation = _pick_text(rng, [mix.EVALUATIONS] * n)
    follow_note = _pick_text(rng, [mix.FOLLOW_UPS] * n)
    day_text = _day_texts(resolved)
    eval_text = _day_texts(np.where(evaluated, cases.closed_day, 0))
    follow_text = _day_texts(np.where(followed, follow_day, 0))
    updated = [
        datetime.combine(date.fromordinal(f), clock_time(10), tz).astimezone(UTC) if f else u
        for f, u in zip(np.where(followed, follow_day, 0).tolist(), cases.updated, strict=True)
    ]  # the follow-up is the last change, when there is one
    ids = range(1, n + 1)
    rows: list[Row] = [
        (i, case_id, c, scale, k, summary, unit, dl, o, int(o == "resolved"), rd, res,
         ed, evaluation[j] if ed else None, fd, follow_note[j] if fd else None,
         stamp(cases.reported[j]), stamp(updated[j]), *cases.area[j])
        for j, (i, case_id, c, scale, k, summary, unit, dl, o, rd, res, ed, fd) in enumerate(
            zip(ids, cases.id, category, _scales(people), people.tolist(), summaries, units, _day_texts(deadline),
                outcome.tolist(), day_text, resolution, eval_text, follow_text, strict=True)
        )
    ]  # fmt: skip
    return rows, outcome, resolved, people, units, agreements


def _day_texts(days: IntArr) -> list[str | None]:
    """Ordinals as ISO dates; 0 as None."""
    out = np.full(len(days), None, dtype=object)
    known = days > 0
    out[known] = _dates(days[known])
    result: list[str | None] = out.tolist()
    return result


def _party_rows(
    rng: np.random.Generator,
    cases: _Cases,
    people: IntArr,
    units: list[str | None],
    category: list[str],
    ctx: dict[str, Any],
    keyring: Keyring,
    texts: _Texts,
    stamp: Any,
) -> list[Row]:
    """2–4 parties per dispute (never more than the people involved): applicant, respondent, others."""
    wanted = 2 + rng.choice(3, size=len(people), p=[0.6, 0.28, 0.12])
    count = np.minimum(wanted, people)
    dispute = np.repeat(np.arange(len(people)), count)
    position = np.arange(len(dispute)) - np.repeat(np.cumsum(count) - count, count)
    n = len(dispute)
    role = np.where(position == 0, "applicant", "respondent").astype(object)
    extra = position >= 2
    role[extra] = np.array(["applicant", "respondent", "other"], dtype=object)[
        rng.choice(3, size=int(extra.sum()), p=[0.5, 0.3, 0.2])
    ]
    unit_name = [units[d] for d in dispute.tolist()]
    organisation = np.array([u is not None for u in unit_name]) & (position == 1)
    sex = rng.integers(1, 3, n)
    family = np.array(category, dtype=object)[dispute] == "03"
    couple = family & (position == 1) & (rng.random(n) < 0.9)
    sex[couple] = 3 - sex[np.flatnonzero(couple) - 1]
    reported = cases.reported_day[dispute]
    birth = reported - np.round(rng.uniform(20, 76, n) * 365.25).astype(np.int64)
    workers = np.isin(np.array(category, dtype=object)[dispute], ["11", "08"])
    floating = rng.random(n) < np.where(workers, 0.5, 0.15)
    names = _names(rng, sex, birth, texts)
    has_id = ~organisation & (rng.random(n) < 0.5)
    origin, origin_p = _floating_regions()
    region = np.where(
        floating,
        np.array(origin, dtype=object)[rng.choice(len(origin), size=n, p=origin_p)],
        np.array(BENGBU_ID_REGIONS, dtype=object)[rng.integers(0, len(BENGBU_ID_REGIONS), n)],
    )
    sequence = rng.integers(0, 500, n) * 2 + (sex == 1)
    numbers: list[str | None] = [
        make_id_number(r, date.fromordinal(b), q) if h else None
        for r, b, q, h in zip(region.tolist(), birth.tolist(), sequence.tolist(), has_id.tolist(), strict=True)
    ]
    secret = _encrypted(keyring, numbers, PARTY_ID_CONTEXT)
    ethnicity = np.where(rng.random(n) < 0.98, "01", "03").tolist()
    education_codes, education_p = _weights(mix.EDUCATION)
    education = np.array(education_codes, dtype=object)[rng.choice(len(education_codes), size=n, p=education_p)]
    road, number = rng.integers(0, len(vocab.ROADS), n).tolist(), rng.integers(1, 300, n).tolist()
    addressed = (rng.random(n) < 0.6).tolist()
    rows: list[Row] = []
    for i in range(n):
        d = int(dispute[i])
        area = cases.area[d]
        if organisation[i]:
            person: tuple[Any, ...] = (unit_name[i], None, None, None, None, None, None, None)
        else:
            if not addressed[i]:
                address = None
            elif area[2] in ctx["urban"]:
                address = f"{vocab.ROADS[road[i]]}{number[i]}号"
            else:
                address = f"{ctx['community'].get(area[2], '')}{number[i] % 12 + 1}组"
            person = (names[i], *secret[i], str(sex[i]), ethnicity[i], education[i],
                      "floating" if floating[i] else "registered", address)  # fmt: skip
        rows.append((i + 1, d + 1, role[i], *person, stamp(cases.reported[d]), *area))
    return rows


def _mediation_rows(
    rng: np.random.Generator,
    cases: _Cases,
    outcome: Arr,
    resolved: IntArr,
    agreements: list[str],
    ctx: dict[str, Any],
    texts: _Texts,
    stamp: Any,
    today: int,
    tz: ZoneInfo,
) -> list[Row]:
    """Sessions between the report and the outcome (open disputes in handling: sometimes one so far)."""
    n = len(cases.id)
    settled = (outcome != "pending") & (cases.status != "rejected")
    in_hand = np.isin(cases.status, ["dispatched", "in_progress", "handled"])
    count = np.where(
        np.isin(outcome, ["resolved", "partly"]),
        1 + rng.choice(3, size=n, p=[0.55, 0.3, 0.15]),
        np.where(settled, 1 + rng.choice(2, size=n), (in_hand & (rng.random(n) < 0.4)).astype(np.int64)),
    )
    count[cases.status == "rejected"] = 0
    end = np.where(settled, resolved, today)
    dispute = np.repeat(np.arange(n), count)
    start = cases.reported_day[dispute]
    day = start + np.floor(rng.random(len(dispute)) * (end[dispute] - start + 1)).astype(np.int64)
    order = np.lexsort((day, dispute))
    dispute, day = dispute[order], day[order]
    first = np.cumsum(count) - count
    number = np.arange(len(dispute)) - first[dispute]
    last = number == count[dispute] - 1
    final = last & settled[dispute]
    day[final] = end[dispute[final]]
    # One mediator of one organisation per dispute: the method by the rung the case reached.
    method = np.array(mix.METHODS, dtype=object)[_categorical_rows(rng, mix.METHOD_MIX, cases.rung)][dispute]
    mediators = np.array(_random_names(rng, n, texts), dtype=object)[dispute].tolist()
    rows: list[Row] = []
    for i, (d, no, on, m, is_final) in enumerate(
        zip(dispute.tolist(), number.tolist(), day.tolist(), method.tolist(), final.tolist(), strict=True)
    ):
        area = cases.area[d]
        district, street = ctx["name"].get(area[0], ""), ctx["name"].get(area[1], "")
        if m == "people":
            organisation = f"{ctx['community'].get(area[2], '') if cases.rung[d] == 0 else street}人民调解委员会"
        else:
            organisation = mix.ORGANISATIONS[m].format(d=district, s=street)
        result, agreement = mix.RESULTS["again"], None
        if is_final:
            result = mix.RESULTS["agreed" if outcome[d] == "resolved" else str(outcome[d])]
            if outcome[d] == "resolved":
                agreement = agreements[d]
            elif outcome[d] == "partly":
                agreement = mix.PARTIAL.format(a=agreements[d])
        moment = datetime.combine(date.fromordinal(on), clock_time(10), tz).astimezone(UTC)
        rows.append((i + 1, d + 1, no + 1, date.fromordinal(on).isoformat(), m, organisation, mediators[i], result,
                     agreement, int(agreement is not None), stamp(moment), *area))  # fmt: skip
    return rows


def _context(connection: Connection) -> dict[str, Any]:
    """Dispute category codes, division names, communities' place and committee names, urban communities."""
    codes = list(connection.scalars(select(DisputeCategory.code).order_by(DisputeCategory.code)))
    wanted = {code for weights in (*mix.CATEGORY_MIX.values(), mix.OTHER_MIX) for code in weights}
    missing = sorted(wanted - set(codes))
    if missing:
        raise RuntimeError(f"dispute categories {', '.join(missing)} are missing; load the reference data first")
    divisions = connection.execute(
        select(Division.code, Division.name, Division.level, Division.is_urban).where(
            Division.level.in_(("district", "street", "community"))
        )
    ).all()
    communities = [d for d in divisions if d.level == "community"]
    return {
        "codes": codes,
        "name": {d.code: d.name for d in divisions},
        "community": {d.code: short_name(d.name) for d in communities},
        "committee": {d.code: d.name for d in communities},
        "urban": {d.code for d in communities if d.is_urban},
    }


def build_disputes(
    database: Database,
    *,
    seed: int,
    keyring: Keyring,
    now: datetime | None = None,
    progress: Progress | RichProgress | None = None,
    rebuild_indexes: bool = True,
) -> DisputeStats:
    """Write a dispute, its parties and mediation sessions for every case of class 01 (矛盾纠纷).

    Runs after `build_cases` is committed; `now` is the moment the case history was made (default: now).
    Deterministic for a seed and `now` (but for the ciphertexts). Raises DisputesExist when the dispute
    table is not empty.
    """
    report = _reporter(progress) or (lambda _stage, _done, _total: None)
    now = now or utcnow()
    tz = get_settings().tz
    today = now.astimezone(tz).date().toordinal()
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
                if connection.execute(select(Dispute.id).limit(1)).first() is not None:
                    raise DisputesExist("the dispute table is not empty; the demo disputes go into an empty one")
                cases = _read_cases(connection, tz)
                ctx = _context(connection)
                total = len(cases.id)
                report("disputes", 0, total)
                stamp = loader.timestamp
                texts = _Texts.make()
                disputes: list[Row] = []
                parties: list[Row] = []
                mediations: list[Row] = []
                if total:
                    disputes, outcome, resolved, people, units, agreements = _dispute_rows(
                        np.random.default_rng([seed, 40]), cases, ctx, stamp, today, tz
                    )
                    category = [row[2] for row in disputes]
                    parties = _party_rows(
                        np.random.default_rng([seed, 41]), cases, people, units, category, ctx, keyring, texts, stamp
                    )
                    mediations = _mediation_rows(
                        np.random.default_rng([seed, 42]), cases, outcome, resolved, agreements, ctx, texts, stamp,
                        today, tz,
                    )  # fmt: skip
                timings["generate"] = time.perf_counter() - started
                mark = time.perf_counter()
                loader.open()
                for table, columns, rows in zip(
                    TABLES, (DISPUTE_COLUMNS, PARTY_COLUMNS, MEDIATION_COLUMNS), (disputes, parties, mediations),
                    strict=True,
                ):  # fmt: skip
                    counts[table.name] = loader.insert(table, columns, rows)
                loader.close()
                timings["write"] = time.perf_counter() - mark
                report("disputes", total, total)
        finally:
            loader.restore()
    timings["total"] = time.perf_counter() - started
    return DisputeStats(
        seed,
        counts,
        _tally(row[8] for row in disputes),
        _tally(row[2] for row in disputes),
        timings,
    )


def _tally(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))
