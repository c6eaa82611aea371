"""The warning lifecycle as one explicit transition table (like the case workflow in cases/flows.py).

    open ──acknowledge──▶ acknowledged ──close (note)──▶ closed
      │                        ▲
      ├──to_case───────────────┘   (a case is created and linked; once per warning)
      └──close (note)──────────────────────────────────▶ closed

Every action needs `safety:warn` and the warning inside the actor's scope. Anything not in the table is
refused with 409 `action_not_allowed` and the actions that are possible now, so a client can offer the
right buttons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from civicgrid.core.errors import Conflict

PERMISSION = "safety:warn"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str | None  # None keeps the status
    label_zh: str
    note_required: bool = False
    needs_no_case: bool = False  # only while no case is linked yet


def _t(
    action: str,
    sources: Iterable[str],
    target: str | None,
    label_zh: str,
    *,
    note: bool = False,
    needs_no_case: bool = False,
) -> Transition:
    return Transition(action, frozenset(sources), target, label_zh, note, needs_no_case)


TRANSITIONS: tuple[Transition, ...] = (
    _t("acknowledge", ["open"], "acknowledged", "确认"),
    _t("to_case", ["open", "acknowledged"], "acknowledged", "转为案件", needs_no_case=True),
    _t("close", ["open", "acknowledged"], "closed", "关闭", note=True),
)
BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}
ACTIONS: tuple[str, ...] = tuple(BY_ACTION)


class NotAllowed(Conflict):
    """409 with the actions possible now."""

    code = "action_not_allowed"


def allowed_actions(status: str, has_case: bool) -> list[str]:
    return [t.action for t in TRANSITIONS if status in t.sources and not (t.needs_no_case and has_case)]


def check(status: str, action: str, has_case: bool) -> Transition:
    """The transition for `action` from `status`, or `NotAllowed` saying why and what is possible."""
    allowed = allowed_actions(status, has_case)
    details = {"status": status, "allowed_actions": allowed}
    later = f"; you may now: {', '.join(allowed)}" if allowed else "; nothing more can be done with it"
    transition = BY_ACTION.get(action)
    if transition is None:
        raise NotAllowed(f"there is no action '{action}'; the actions are {', '.join(ACTIONS)}", details=details)
    if status not in transition.sources:
        raise NotAllowed(f"'{action}' is not possible while the warning is {status}{later}", details=details)
    if transition.needs_no_case and has_case:
        raise NotAllowed(f"the warning has been turned into a case already{later}", details=details)
    return transition
