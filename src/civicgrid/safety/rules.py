"""Warning rules (DESIGN.md §8; REFERENCE.md §4, Huizhou: 3 reds in a row → warning notice, 4 → interview):

- consecutive red periods, from the stored index (`SafetyScore.red_streak` of the active configuration):
  a streak reaching the configuration's `escalation.notice` (default 3) → a 'notice' warning (警示通报),
  reaching `escalation.interview` (default 4) → an 'interview' warning (约谈); once per streak each;
- a death: any day and area whose daily counts record deaths → a 'fatal' warning;
- thresholds kept by safety administrators (`SafetyRule`): at least `threshold` records of a kind in an
  area of a level over the last `window_days` days → a warning of the rule's severity.

The evaluators only read and return `NewWarning`s; `warnings.create_warnings` stores them once.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.authz.policy import require
from civicgrid.authz.scope import Principal
from civicgrid.cases import categories as case_categories
from civicgrid.core.db import AnySelect
from civicgrid.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from civicgrid.geo.models import LEVELS
from civicgrid.safety.areas import AreaTree, load_tree
from civicgrid.safety.counts import load_counts
from civicgrid.safety.models import (
    SafetyCategory,
    SafetyDailyCount,
    SafetyIndexConfig,
    SafetyRule,
    SafetyScore,
)
from civicgrid.safety.periods import Period, period_of
from civicgrid.safety.warnings import NewWarning, area_names, kind_names

ADMIN = "safety:admin"
RULE_SEVERITIES = ("notice", "serious")
STREAK_PERIODS = ("dekad", "week", "month")
LOOKBACK_DAYS = 7
MAX_WINDOW_DAYS = 92
MAX_THRESHOLD = 1_000_000
FIELDS = ("name", "kind", "level", "window_days", "threshold", "severity", "active")
PERIOD_ZH = {"day": "日", "dekad": "旬", "week": "周", "month": "月"}
SEVERITY_ZH = {"notice": "警示通报", "interview": "约谈", "serious": "严重", "fatal": "死亡"}


# -- consecutive reds -----------------------------------------------------------------------------------


def _escalation(config: SafetyIndexConfig) -> tuple[int, int]:
    raw: Any = (config.definition or {}).get("escalation") or {}
    notice, interview = raw.get("notice", 3), raw.get("interview", 4)
    return (notice if isinstance(notice, int) else 3), (interview if isinstance(interview, int) else 4)


def _periods_ending(period_type: str, first: date, last: date) -> list[Period]:
    """The periods of a type whose last day falls between `first` and `last`."""
    periods = []
    day = first
    while day <= last:
        period = period_of(period_type, day)
        if period.end == day:
            periods.append(period)
        day += timedelta(days=1)
    return periods


def red_streak_warnings(
    session: Session,
    through: date,
    *,
    lookback_days: int = LOOKBACK_DAYS,
    period_types: tuple[str, ...] = STREAK_PERIODS,
) -> list[NewWarning]:
    """Warnings for the streaks of red periods ending in the `lookback_days` up to `through` (periods
    over by then only: a period still running may turn)."""
    config = session.scalar(select(SafetyIndexConfig).where(SafetyIndexConfig.active.is_(True)))
    if config is None:
        return []
    notice, interview = _escalation(config)
    found: list[tuple[SafetyScore, Period]] = []
    for period_type in period_types:
        periods = {
            p.start: p for p in _periods_ending(period_type, through - timedelta(days=lookback_days - 1), through)
        }
        if not periods:
            continue
        scores = session.scalars(
            select(SafetyScore).where(
                SafetyScore.config_id == config.id,
                SafetyScore.period_type == period_type,
                SafetyScore.period_start.in_(list(periods)),
                SafetyScore.red_streak >= notice,
            )
        )
        found += [(score, periods[score.period_start]) for score in scores]
    names = area_names(session, [s.area_code for s, _ in found])
    warnings = []
    for score, period in found:
        severity = "interview" if score.red_streak >= interview else "notice"
        start = period
        for _ in range(score.red_streak - 1):
            start = start.previous()
        unit = PERIOD_ZH.get(period.type, period.type)
        name = names.get(score.area_code, score.area_code)
        warnings.append(
            NewWarning(
                kind="rule",
                subject=f"red_streak:{period.type}:{severity}",
                area_code=score.area_code,
                period_start=start.start,
                period_end=period.end,
                severity=severity,
                title=f"{name}平安指数连续{score.red_streak}{unit}红色（{SEVERITY_ZH[severity]}）",
                evidence={
                    "rule": "red_streak",
                    "period_type": period.type,
                    "streak": score.red_streak,
                    "notice_at": notice,
                    "interview_at": interview,
                    "config_id": config.id,
                    "score": round(score.score, 2),
                    "band": score.band,
                    "events": score.events,
                    "deaths": score.deaths,
                    "last_period_start": period.start.isoformat(),
                    "summary_zh": f"平安指数连续{score.red_streak}个{unit}为红色，最近一期得分{score.score:.1f}。",
                },
            )
        )
    return warnings


# -- deaths ---------------------------------------------------------------------------------------------


def fatal_warnings(session: Session, first: date, last: date) -> list[NewWarning]:
    """One 'fatal' warning per area (where the records were placed), day and kind with deaths."""
    rows = session.execute(
        select(
            SafetyDailyCount.division_code,
            SafetyDailyCount.day,
            SafetyDailyCount.kind,
            SafetyDailyCount.count,
            SafetyDailyCount.deaths,
            SafetyDailyCount.injuries,
        ).where(SafetyDailyCount.day >= first, SafetyDailyCount.day <= last, SafetyDailyCount.deaths > 0)
    ).all()
    names = area_names(session, [r[0] for r in rows])
    kinds = kind_names(session)
    warnings = []
    for code, day, kind, count, deaths, injuries in rows:
        what = kinds.get(kind, kind)
        name = names.get(code, code)
        warnings.append(
            NewWarning(
                kind="rule",
                subject=f"fatal:{kind}",
                area_code=code,
                period_start=day,
                period_end=day,
                severity="fatal",
                title=f"{name}发生{what}死亡事件（死亡{deaths}人）",
                evidence={
                    "rule": "fatal",
                    "count_kind": kind,
                    "observed": count,
                    "deaths": deaths,
                    "injuries": injuries,
                    "summary_zh": f"{day.isoformat()}{what}{count}起，死亡{deaths}人，受伤{injuries}人。",
                },
            )
        )
    return warnings


# -- thresholds -----------------------------------------------------------------------------------------


def threshold_warnings(session: Session, day: date, tree: AreaTree | None = None) -> list[NewWarning]:
    """The active threshold rules over the window ending on `day`."""
    rules = list(session.scalars(select(SafetyRule).where(SafetyRule.active.is_(True)).order_by(SafetyRule.id)))
    if not rules:
        return []
    longest = max(r.window_days for r in rules)
    frame = load_counts(session, day - timedelta(days=longest - 1), day, {r.kind for r in rules})
    if len(frame) == 0:
        return []
    tree = tree or load_tree(session)
    finest = np.array([tree.index.get(str(code), -1) for code in frame.division], dtype=np.int64)
    frame_days = frame.day.astype("datetime64[D]")
    kinds = kind_names(session)
    warnings = []
    for rule in rules:
        first = day - timedelta(days=rule.window_days - 1)
        chosen = (frame.kind == rule.kind) & (frame_days >= np.datetime64(first)) & (finest >= 0)
        if not chosen.any():
            continue
        totals = tree.rollup(finest[chosen], frame.count[chosen].astype(np.float64))
        members = tree.at_level(rule.level)
        what = kinds.get(rule.kind, rule.kind)
        for i in members[totals[members] >= rule.threshold]:
            count = int(totals[i])
            name = tree.names[i]
            warnings.append(
                NewWarning(
                    kind="rule",
                    subject=f"threshold:{rule.id}",
                    area_code=tree.codes[i],
                    period_start=first,
                    period_end=day,
                    severity=rule.severity,
                    title=f"{name}{what}{rule.window_days}天内{count}起，达到阈值{rule.threshold}（{rule.name}）"[:200],
                    evidence={
                        "rule": "threshold",
                        "rule_id": rule.id,
                        "rule_name": rule.name,
                        "count_kind": rule.kind,
                        "window_days": rule.window_days,
                        "threshold": rule.threshold,
                        "observed": count,
                        "detections": [{"first": first.isoformat(), "last": day.isoformat(), "observed": count}],
                        "summary_zh": f"{first.isoformat()}至{day.isoformat()}{what}{count}起，"
                        f"阈值{rule.threshold}起。",
                    },
                    merge=True,
                )
            )
    return warnings


# -- keeping the threshold rules ------------------------------------------------------------------------


def require_read(principal: Principal) -> None:
    if not (principal.can("safety:read") or principal.can(ADMIN)):
        raise Forbidden(
            f"your role ({principal.role}) may not read the warning rules", details={"permission": "safety:read"}
        )


def list_rules(principal: Principal, *, kind: str | None = None, active: bool | None = None) -> AnySelect:
    require_read(principal)
    query = select(SafetyRule)
    if kind is not None:
        query = query.where(SafetyRule.kind == kind)
    if active is not None:
        query = query.where(SafetyRule.active.is_(active))
    return query


def known_kinds(session: Session) -> list[str]:
    """The daily-count kinds a rule may watch: incident classes, case classes, dispute records."""
    classes = list(session.scalars(select(SafetyCategory.code).where(SafetyCategory.depth == 1)))
    incident = [f"{prefix}:{c}" for c in classes for prefix in ("inc", "rec")]
    cases = [f"case:{c.code}" for c in case_categories.list_categories(session) if c.depth == 1]
    return sorted({*incident, *cases, "dispute"})


def _int_problem(value: Any, low: int, high: int) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        return f"must be a whole number from {low} to {high}"
    return None


def _check(session: Session, values: dict[str, Any]) -> None:
    """Refuse the rule whole, listing every problem (422)."""
    problems: list[dict[str, str]] = []
    name = values.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        problems.append({"field": "name", "problem": "1 to 100 characters"})
    kinds = known_kinds(session)
    if values.get("kind") not in kinds:
        shown = ", ".join(kinds[:20])
        problems.append({"field": "kind", "problem": f"unknown kind; use one of {shown}"})
    if values.get("level") not in LEVELS:
        problems.append({"field": "level", "problem": f"must be one of {', '.join(LEVELS)}"})
    if problem := _int_problem(values.get("window_days"), 1, MAX_WINDOW_DAYS):
        problems.append({"field": "window_days", "problem": problem})
    if problem := _int_problem(values.get("threshold"), 1, MAX_THRESHOLD):
        problems.append({"field": "threshold", "problem": problem})
    if values.get("severity") not in RULE_SEVERITIES:
        problems.append({"field": "severity", "problem": f"must be one of {', '.join(RULE_SEVERITIES)}"})
    if not isinstance(values.get("active"), bool):
        problems.append({"field": "active", "problem": "must be true or false"})
    if problems:
        raise InvalidInput(
            "the warning rule is not valid: " + "; ".join(f"{p['field']} {p['problem']}" for p in problems),
            details=problems,
        )


def _refuse_duplicate(session: Session, name: str, rule_id: int | None = None) -> None:
    query = select(SafetyRule.id).where(SafetyRule.name == name)
    if rule_id is not None:
        query = query.where(SafetyRule.id != rule_id)
    existing = session.scalar(query.limit(1))
    if existing is not None:
        raise Conflict(
            f"a warning rule named {name!r} exists already (rule {existing}); choose another name or change that one",
            code="duplicate_rule",
            details={"rule_id": existing},
        )


def get_rule(session: Session, rule_id: int) -> SafetyRule:
    rule = session.get(SafetyRule, rule_id)
    if rule is None:
        raise NotFound(f"warning rule {rule_id} not found", details={"id": str(rule_id)})
    return rule


def _values(data: dict[str, Any]) -> dict[str, Any]:
    values = {f: data.get(f) for f in FIELDS}
    values["severity"] = values["severity"] or "notice"
    values["active"] = True if values["active"] is None else values["active"]
    if isinstance(values["name"], str):
        values["name"] = values["name"].strip()
    return values


def _described(rule: SafetyRule) -> dict[str, Any]:
    return {f: getattr(rule, f) for f in FIELDS}


def create_rule(session: Session, principal: Principal, data: dict[str, Any]) -> SafetyRule:
    require(principal, ADMIN)
    values = _values(data)
    _check(session, values)
    _refuse_duplicate(session, values["name"])
    rule = SafetyRule(**values, created_by=principal.user_id)
    session.add(rule)
    session.flush()
    audit.record(session, principal, "safety_rule.create", "safety_rule", rule.id, details=_described(rule))
    return rule


def replace_rule(session: Session, principal: Principal, rule_id: int, data: dict[str, Any]) -> SafetyRule:
    """PUT: the rule becomes `data` (omitted optional fields take their defaults)."""
    require(principal, ADMIN)
    rule = get_rule(session, rule_id)
    values = _values(data)
    _check(session, values)
    _refuse_duplicate(session, values["name"], rule.id)
    changed = sorted(f for f in FIELDS if getattr(rule, f) != values[f])
    for name, value in values.items():
        setattr(rule, name, value)
    session.flush()
    audit.record(session, principal, "safety_rule.update", "safety_rule", rule.id, details={"changed": changed})
    return rule


def delete_rule(session: Session, principal: Principal, rule_id: int) -> None:
    """Remove a rule; the warnings it raised stay (their evidence names it)."""
    require(principal, ADMIN)
    rule = get_rule(session, rule_id)
    before = _described(rule)
    session.delete(rule)
    session.flush()
    audit.record(session, principal, "safety_rule.delete", "safety_rule", rule_id, details=before)
