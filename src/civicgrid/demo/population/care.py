"""Special care and visits: the people of each care group (by prevalence, age band and sex), attention
levels and visit intervals, the details of each group's record, a guardian from the household, and the
visits of the last twelve months.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np

from civicgrid.demo import vocab
from civicgrid.demo.bulk import BulkLoader, Row
from civicgrid.demo.population.model import FOREIGN, B, C, G, H, IntArr, L, P, S, _City
from civicgrid.demo.population.sampling import _pick
from civicgrid.demo.population.texts import _random_names, _Texts, person_names

# Special-care prevalence per 10,000 residents.
CARE_PREVALENCE: dict[str, float] = {
    "mental_disorder": 40,
    "released_prisoner": 15,
    "community_correction": 8,
    "drug_user": 10,
    "hiv_aids": 2,
    "key_youth": 20,
}


ATTENTION_INTERVAL = {"high": 14, "medium": 30, "low": 90}  # days between visits
VISIT_FORMS = (("home", 0.6), ("phone", 0.25), ("video", 0.05), ("office", 0.1))


def _care(city: _City, texts: _Texts, stamp: str, rng: np.random.Generator) -> tuple[list[Row], list[Row]]:
    grids = city.grids
    n_people = len(city.p_kind)
    age = city.age()
    male = city.p_sex == 1
    eligible = city.p_kind != FOREIGN
    taken = np.zeros(n_people, dtype=bool)
    chosen: list[tuple[str, IntArr]] = []
    bands = {
        "mental_disorder": (18, 80, 0.5),
        "released_prisoner": (22, 65, 0.9),
        "community_correction": (20, 70, 0.8),
        "drug_user": (20, 60, 0.85),
        "hiv_aids": (20, 70, 0.8),
        "key_youth": (12, 25, 0.75),
    }
    for group, per_10k in CARE_PREVALENCE.items():
        low, high, male_share = bands[group]
        count = round(n_people * per_10k / 10_000)
        weight = eligible & ~taken & (age >= low) & (age < high)
        weight = weight * np.where(male, male_share, 1 - male_share)
        if count == 0 or weight.sum() == 0:
            chosen.append((group, np.zeros(0, dtype=np.int64)))
            continue
        picked = rng.choice(n_people, size=min(count, int((weight > 0).sum())), replace=False, p=weight / weight.sum())
        picked.sort()
        taken[picked] = True
        chosen.append((group, picked))
    today = city.today
    t0 = today.toordinal()
    rows: list[Row] = []
    visits: list[Row] = []
    visit_id = 0
    care_id = 0
    forms = [f for f, _ in VISIT_FORMS]
    form_p = np.array([w for _, w in VISIT_FORMS])
    for group, persons in chosen:
        n = len(persons)
        if n == 0:
            continue
        risk: IntArr | None = None
        if group == "mental_disorder":
            risk = rng.choice(6, size=n, p=[0.45, 0.25, 0.15, 0.08, 0.05, 0.02])
            attention = np.where(risk >= 3, "high", np.where(risk >= 1, "medium", "low"))
        else:
            attention = np.array(["high", "medium", "low"])[rng.choice(3, size=n, p=[0.15, 0.55, 0.3])]
        interval = np.array([ATTENTION_INTERVAL[a] for a in attention.tolist()], dtype=np.int64)
        # Last visit: within the interval for most; 8 % overdue by up to a month beyond.
        overdue = rng.random(n) < 0.08
        since = np.where(overdue, interval + rng.integers(1, 31, n), (rng.random(n) * interval).astype(np.int64))
        last = t0 - since
        next_due = last + interval
        # Visits of the last 12 months, every `interval` days back from the last, ± 3 days.
        counts = np.minimum(365 // interval, 60)
        details = _care_details(city, group, persons, texts, rng)
        p_grid = city.p_grid[persons].tolist()
        for i in range(n):
            person = int(persons[i])
            g = p_grid[i]
            care_id += 1
            worker = int(grids.worker[g]) or None
            rows.append(
                (
                    care_id,
                    grids.district[g],
                    grids.street[g],
                    grids.community[g],
                    grids.code[g],
                    person + 1,
                    group,
                    str(attention[i]),
                    int(risk[i]) if risk is not None else None,
                    worker,
                    int(interval[i]),
                    date.fromordinal(int(last[i])).isoformat(),
                    date.fromordinal(int(next_due[i])).isoformat(),
                    BulkLoader.json(details[i]),
                    1,
                    stamp,
                    stamp,
                )
            )
            k = int(counts[i])
            offsets = np.arange(k) * interval[i] + np.r_[0, rng.integers(-3, 4, max(k - 1, 0))]
            when = last[i] - offsets
            when = when[when > t0 - 365]
            when = np.sort(when)
            sentences = vocab.FINDINGS[group]
            picks = [rng.integers(0, len(s), len(when)) for s in sentences]
            form_index = rng.choice(len(forms), size=len(when), p=form_p)
            for j, day in enumerate(when.tolist()):
                visit_id += 1
                findings = "".join(s[int(p[j])] for s, p in zip(sentences, picks, strict=True))
                due = day + int(interval[i])
                visits.append(
                    (
                        visit_id,
                        care_id,
                        date.fromordinal(day).isoformat(),
                        worker,
                        forms[int(form_index[j])],
                        findings,
                        date.fromordinal(due).isoformat(),
                        stamp,
                    )
                )
    return rows, visits


def _care_details(
    city: _City, group: str, persons: IntArr, texts: _Texts, rng: np.random.Generator
) -> list[dict[str, Any]]:
    n = len(persons)
    today = city.today
    t0 = today.toordinal()
    age = city.age(persons)
    out: list[dict[str, Any]] = []
    guardians = _guardians(city, persons, texts)
    for i in range(n):
        a = float(age[i])
        d: dict[str, Any]
        if group == "mental_disorder":
            onset = t0 - int(rng.uniform(1, max(a - 16, 2)) * 365)
            incidents = int(rng.choice(4, p=[0.8, 0.13, 0.05, 0.02]))
            d = {
                "economic_situation": ("贫困", "一般", "一般", "较好")[int(rng.integers(4))],
                "subsistence_allowance": bool(rng.random() < 0.3),
                "first_onset": date.fromordinal(onset).isoformat(),
                "diagnosis": _pick_label(rng, vocab.DIAGNOSES),
                "incident_count": incidents,
                "treatment_status": vocab.TREATMENT[int(rng.integers(len(vocab.TREATMENT)))],
                "hospital": vocab.HOSPITALS[int(rng.integers(len(vocab.HOSPITALS)))],
                "support_measures": vocab.SUPPORT_MENTAL[int(rng.integers(len(vocab.SUPPORT_MENTAL)))],
            }
            if incidents:
                d["last_incident"] = date.fromordinal(int(rng.integers(onset, t0))).isoformat()
            guardian = guardians[i]
            if guardian is not None:
                d["guardian_name"], d["guardian_relation"] = guardian
        elif group == "released_prisoner":
            release = t0 - int(rng.integers(30, 5 * 365))
            years = int(rng.integers(1, 10))
            d = {
                "recidivist": bool(rng.random() < 0.12),
                "original_offence": _pick_label(rng, vocab.OFFENCES_PRISON),
                "sentence": f"有期徒刑{years}年" + (f"{int(rng.integers(1, 12))}个月" if rng.random() < 0.4 else ""),
                "prison": _prison(rng, int(city.p_sex[persons[i]])),
                "release_date": date.fromordinal(release).isoformat(),
                "risk_assessment": ("低风险", "低风险", "中风险", "高风险")[int(rng.integers(4))],
                "settlement_status": vocab.SETTLEMENT[int(rng.integers(len(vocab.SETTLEMENT)))],
                "support_given": "就业帮扶",
            }
        elif group == "community_correction":
            district = city.grids.district[int(city.p_grid[persons[i]])]
            start = t0 - int(rng.integers(10, 700))
            end = max(start + int(rng.integers(180, 1100)), t0 + 30)
            d = {
                "correction_no": f"{district}{date.fromordinal(start).year}{int(rng.integers(1, 9999)):04d}",
                "correction_category": _pick_label(rng, vocab.CORRECTION_CATEGORIES),
                "offence": _pick_label(rng, vocab.OFFENCES_CORRECTION),
                "sentence": f"有期徒刑{int(rng.integers(6, 36))}个月，缓刑{int(rng.integers(1, 4))}年",
                "start_date": date.fromordinal(start).isoformat(),
                "end_date": date.fromordinal(end).isoformat(),
                "reception_method": ("报到接收", "移交接收")[int(rng.random() < 0.2)],
                "group_members": "社区民警、司法所工作人员、网格员",
            }
        elif group == "drug_user":
            d = {
                "first_discovered": date.fromordinal(t0 - int(rng.integers(180, 15 * 365))).isoformat(),
                "control_status": vocab.DRUG_CONTROL[int(rng.integers(len(vocab.DRUG_CONTROL)))],
                "controller": "社区民警",
                "support_given": ("就业帮扶", "心理疏导", "技能培训")[int(rng.integers(3))],
            }
        elif group == "hiv_aids":
            d = {
                "route_of_infection": _pick_label(rng, vocab.HIV_ROUTES),
                "case_category": vocab.HIV_CATEGORIES[int(rng.random() < 0.3)],
                "support_given": "免费抗病毒治疗",
                "attention_type": "定期随访",
            }
        else:
            d = {
                "person_category": _pick_label(rng, vocab.YOUTH_CATEGORIES),
                "family_situation": vocab.FAMILY_SITUATIONS[int(rng.integers(len(vocab.FAMILY_SITUATIONS)))],
                "support_means": vocab.SUPPORT_MEANS[int(rng.integers(len(vocab.SUPPORT_MEANS)))],
                "support_person": _random_names(rng, 1, texts)[0],
            }
            guardian = guardians[i]
            if guardian is not None:
                d["guardian_name"], d["guardian_relation"] = guardian
        out.append(d)
    return out


def _prison(rng: np.random.Generator, sex: int) -> str:
    if sex == 2:
        return vocab.WOMENS_PRISON
    return vocab.PRISONS[int(rng.integers(len(vocab.PRISONS)))]


def _pick_label(rng: np.random.Generator, pairs: Sequence[tuple[str, float]]) -> str:
    return pairs[int(_pick(rng, pairs, 1)[0])][0]


def _guardians(city: _City, persons: IntArr, texts: _Texts) -> list[tuple[str, str] | None]:
    """A household member who can be the guardian: spouse, else a parent, else an adult child (name, relation)."""
    out: list[tuple[str, str] | None] = []
    for person in persons.tolist():
        u = int(city.p_household[person])
        start, size = int(city.u_start[u]), int(city.u_size[u])
        members = range(start, start + size)
        role = int(city.p_role[person])
        best: tuple[int, int, str] | None = None
        for m in members:
            if m == person or city.age(np.array([m]))[0] < 18:
                continue
            other = int(city.p_role[m])
            relation = _relation_between(role, other, int(city.p_sex[m]))
            if relation is None:
                continue
            rank = {"配偶": 0, "父亲": 1, "母亲": 1, "儿子": 2, "女儿": 2}.get(relation, 3)
            if best is None or rank < best[0]:
                best = (rank, m, relation)
        if best is None:
            out.append(None)
        else:
            out.append((person_names(city, np.array([best[1]]), texts)[0], best[2]))
    return out


def _relation_between(role: int, other: int, other_sex: int) -> str | None:
    """What `other` is to the person with `role`, as far as the household template tells."""
    father_mother = "父亲" if other_sex == 1 else "母亲"
    son_daughter = "儿子" if other_sex == 1 else "女儿"
    pairs = {
        (H, S): "配偶",
        (S, H): "配偶",
        (C, L): "配偶",
        (L, C): "配偶",
        (C, H): father_mother,
        (C, S): father_mother,
        (G, C): father_mother,
        (G, L): father_mother,
        (H, P): father_mother,
        (H, C): son_daughter,
        (S, C): son_daughter,
        (P, H): son_daughter,
        (G, H): "祖父母",
        (G, S): "祖父母",
        (H, B): "兄弟姐妹",
        (B, H): "兄弟姐妹",
    }
    return pairs.get((role, other))


CARE_COLUMNS: tuple[str, ...] = (
    "id",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
    "person_id",
    "care_group",
    "attention_level",
    "risk_level",
    "responsible_user_id",
    "visit_interval_days",
    "last_visit_on",
    "next_visit_due",
    "details",
    "active",
    "created_at",
    "updated_at",
)
VISIT_COLUMNS: tuple[str, ...] = (
    "id",
    "special_care_id",
    "visited_on",
    "worker_user_id",
    "form",
    "findings",
    "next_visit_due",
    "created_at",
)
