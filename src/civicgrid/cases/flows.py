"""The case workflow of DESIGN.md §7 as one explicit transition table.

Each row says: from which states an action may be taken, the state it leads to (None keeps the
state), which capacities may take it, and what it needs (a note, data fields). Anything not in the
table is refused with the actions that are allowed now (`NotAllowed`, 409).

Capacities are what the actor is to this case, worked out by the service from the actor's scope,
unit and the case (see `service.capacities_of`):

- `holder`   — staff of the rung that holds the case now (the grid worker for a grid case, the
               community's staff for a community case, the centre of a street, district or the city);
- `above`    — a centre or community above that rung whose area contains the case (supervision, and
               acting for a lower rung that cannot: they take the case up to their own rung);
- `handler`  — whoever works the case now: the lead department (主办) once dispatched, else the holder;
- `lead`     — the lead department of a dispatched case;
- `co`       — a co-handling department (协办) that has not reported yet;
- `verifier` — the grid worker of the case's grid (or the community's staff where the grid has none);
- `approver` — decides extension requests: the rung above the handler;
- `reporter` — the person who reported the case (account or tracking token);
- `viewer`   — anyone who may see the case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from civicgrid.cases.models import LEVELS, OPEN_STATUSES
from civicgrid.core.errors import Conflict

Capacity = str


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None
    who: frozenset[Capacity]
    note_required: bool = False
    fields: tuple[str, ...] = field(default=())
    label_zh: str = ""


def _t(
    action: str,
    sources: Iterable[str],
    target: str | None,
    who: Iterable[Capacity],
    label_zh: str,
    *,
    note: bool = False,
    fields: tuple[str, ...] = (),
) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(who), note, fields, label_zh)


_OPEN = OPEN_STATUSES
TRANSITIONS: tuple[Transition, ...] = (
    _t("accept", ["reported", "escalated"], "accepted", ["holder", "above"], "受理"),
    _t("reject", ["reported"], "rejected", ["holder", "above"], "不予受理", note=True),
    _t("start", ["accepted", "returned"], "in_progress", ["handler"], "开始处置"),
    _t(
        "dispatch",
        ["accepted", "escalated", "returned"],
        "dispatched",
        ["holder", "above"],
        "派遣",
        fields=("lead_unit_id",),
    ),
    _t("sign", ["dispatched"], "in_progress", ["lead"], "签收"),
    _t("send_back", ["dispatched", "in_progress"], "accepted", ["lead"], "退回", note=True),
    _t("co_report", ["dispatched", "in_progress"], None, ["co"], "协办反馈", note=True),
    _t("handle", ["in_progress"], "handled", ["handler"], "办结", note=True),
    _t("start_verification", ["handled"], "verifying", ["verifier"], "开始核查"),
    _t("pass", ["handled", "verifying"], "closed", ["verifier"], "核查通过"),
    _t("return", ["handled", "verifying"], "returned", ["verifier"], "核查不通过", note=True),
    _t(
        "escalate",
        ["reported", "accepted", "in_progress", "returned", "escalated"],
        "escalated",
        ["holder"],
        "上报",
        note=True,
    ),
    _t("hand_down", ["accepted", "escalated", "returned"], "accepted", ["holder", "above"], "交办", fields=("level",)),
    _t("reopen", ["closed"], "accepted", ["holder", "above"], "重新打开", note=True),
    _t("supervise", _OPEN, None, ["above"], "督办", note=True, fields=("colour",)),
    _t(
        "request_extension",
        ["accepted", "dispatched", "in_progress", "returned"],
        None,
        ["handler"],
        "申请延期",
        note=True,
        fields=("days",),
    ),
    _t("decide_extension", _OPEN, None, ["approver"], "审批延期", fields=("extension_id", "grant")),
    _t("comment", [*_OPEN, "closed", "rejected"], None, ["viewer"], "留言", note=True),
    _t("rate", ["closed"], None, ["reporter"], "评价", fields=("satisfaction",)),
)
BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}
ACTIONS: tuple[str, ...] = tuple(BY_ACTION)


class NotAllowed(Conflict):
    """409 with the actions this actor may take now, so a client can offer the right buttons."""

    code = "action_not_allowed"


def allowed_actions(status: str, capacities: frozenset[Capacity]) -> list[str]:
    return [t.action for t in TRANSITIONS if status in t.sources and t.who & capacities]


def check(status: str, action: str, capacities: frozenset[Capacity]) -> Transition:
    """The transition for `action` from `status`, or `NotAllowed` saying why and what is allowed."""
    transition = BY_ACTION.get(action)
    allowed = allowed_actions(status, capacities)
    if transition is None:
        raise NotAllowed(
            f"there is no action '{action}'; the actions are {', '.join(ACTIONS)}",
            details={"status": status, "allowed_actions": allowed},
        )
    if status not in transition.sources:
        raise NotAllowed(
            f"'{action}' is not possible while the case is {status}"
            + (f"; you may now: {', '.join(allowed)}" if allowed else "; you have no action on it now"),
            details={"status": status, "allowed_actions": allowed},
        )
    if not transition.who & capacities:
        raise NotAllowed(
            f"'{action}' on a {status} case is for {' or '.join(sorted(transition.who))}, which you are not here"
            + (f"; you may now: {', '.join(allowed)}" if allowed else ""),
            details={"status": status, "allowed_actions": allowed},
        )
    return transition


def level_above(level: str) -> str | None:
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def level_rank(level: str) -> int:
    """0 for the grid up to 4 for the city (the ladder's order)."""
    return LEVELS.index(level)
