"""docs/cases.md lists every transition of the table, so the documentation cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

from civicgrid.cases.flows import TRANSITIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "cases.md"


def test_every_transition_is_documented_with_its_rule() -> None:
    text = DOC.read_text(encoding="utf-8")
    for transition in TRANSITIONS:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{transition.action}` |")), None)
        assert row is not None, f"docs/cases.md lacks the action {transition.action}"
        assert transition.label_zh in row and (transition.target or "(unchanged)") in row, row
        for capacity in transition.who:
            assert capacity in row, (capacity, row)
