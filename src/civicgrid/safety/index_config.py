"""The safety index definition (DESIGN.md §8): which indicators and weights, the residents a rate is per,
the baseline a period is compared with, how a ratio becomes a score, the colour bands and when
consecutive red periods escalate.

`parse_definition` checks a whole definition and reports every problem at once (one 422 whose details
list `{field, problem}`), so an administrator fixes a configuration in one go; nothing is stored until
it is valid. The stored JSON is the parsed model's dump, with every default filled in, so a stored
configuration means the same thing after the defaults of this file change.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civicgrid.core.errors import InvalidInput
from civicgrid.safety.models import INDICATORS

BASELINES = ("three_year", "year_on_year", "previous", "peers")
Baseline = Literal["three_year", "year_on_year", "previous", "peers"]
DEFAULT_INDICATORS: dict[str, float] = {"crime_order": 0.6, "fire": 0.2, "traffic": 0.2}
WEIGHT_TOLERANCE = 0.001


class Scoring(BaseModel):
    """Component score c = clip(100 − slope·(x − 1), 0, 100) with x = (observed + prior)/(expected + prior)."""

    model_config = ConfigDict(extra="forbid")

    prior: float = Field(default=3.0, ge=0, le=1000, description="added to observed and expected counts")
    slope: float = Field(default=50.0, gt=0, le=1000, description="points lost per 1.0 of ratio above 1")
    death_points: float = Field(default=5.0, ge=0, le=100, description="points deducted per death")
    death_cap: float = Field(default=20.0, ge=0, le=100, description="at most this many points for deaths")


class Bands(BaseModel):
    """Lowest score of each colour; below `orange` is red. Must decrease from green to orange."""

    model_config = ConfigDict(extra="forbid")

    green: float = Field(default=90.0, gt=0, le=100)
    yellow: float = Field(default=80.0, gt=0, le=100)
    orange: float = Field(default=70.0, gt=0, le=100)


class Escalation(BaseModel):
    """Consecutive red periods after which a warning notice is sent and the leaders are interviewed."""

    model_config = ConfigDict(extra="forbid")

    notice: int = Field(default=3, ge=1, le=100)
    interview: int = Field(default=4, ge=1, le=100)


class IndexDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicators: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_INDICATORS),
        description=f"indicator → weight; indicators among {', '.join(INDICATORS)}; weights > 0 adding up to 1",
    )
    per_residents: int = Field(default=10_000, ge=1, le=10_000_000, description="rates are per this many residents")
    baseline: Baseline = Field(
        default="three_year",
        description="three_year: the same period of up to 3 previous years with data; year_on_year; "
        "previous: the period before; peers: median rate of the areas of the same level under the same parent",
    )
    scoring: Scoring = Field(default_factory=Scoring)
    bands: Bands = Field(default_factory=Bands)
    escalation: Escalation = Field(default_factory=Escalation)

    def weights(self) -> list[tuple[str, float]]:
        """The indicators in the canonical order of INDICATORS, with their weights."""
        return [(name, self.indicators[name]) for name in INDICATORS if name in self.indicators]


def default_definition() -> IndexDefinition:
    return IndexDefinition()


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "definition"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _indicator_problems(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, dict):
        return []  # the type error is reported by the model
    problems: list[dict[str, str]] = []
    known = ", ".join(INDICATORS)
    if not raw:
        problems.append({"field": "indicators", "problem": f"name at least one indicator ({known})"})
    weights: list[float] = []
    for name, value in raw.items():
        if name not in INDICATORS:
            problems.append(
                {"field": f"indicators.{name}", "problem": f"unknown indicator; the known ones are {known}"}
            )
        weight = _number(value)
        if weight is None:
            continue  # reported by the model
        if weight <= 0:
            problems.append({"field": f"indicators.{name}", "problem": f"weight must be more than 0, not {value}"})
        weights.append(weight)
    if raw and len(weights) == len(raw):
        total = sum(weights)
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            problems.append(
                {"field": "indicators", "problem": f"the weights add up to {round(total, 6):g}; they must add up to 1"}
            )
    return problems


def _band_problems(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, dict):
        return []
    defaults = Bands()
    values = {name: _number(raw.get(name, getattr(defaults, name))) for name in ("green", "yellow", "orange")}
    green, yellow, orange = values["green"], values["yellow"], values["orange"]
    if green is None or yellow is None or orange is None:
        return []
    if not green > yellow > orange:
        return [
            {
                "field": "bands",
                "problem": f"thresholds must decrease from green to orange (green {green:g} > yellow {yellow:g} "
                f"> orange {orange:g})",
            }
        ]
    return []


def _escalation_problems(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, dict):
        return []
    defaults = Escalation()
    notice = _number(raw.get("notice", defaults.notice))
    interview = _number(raw.get("interview", defaults.interview))
    if notice is not None and interview is not None and interview <= notice:
        return [
            {
                "field": "escalation.interview",
                "problem": f"the interview must come after the notice: more than {notice:g} red periods",
            }
        ]
    return []


def parse_definition(raw: Any) -> IndexDefinition:
    """A valid definition from JSON, or InvalidInput listing every problem found."""
    problems: list[dict[str, str]] = []
    model: IndexDefinition | None = None
    try:
        model = IndexDefinition.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error.get("loc", ()))
            problem = error.get("msg", "invalid")
            if error.get("type") == "extra_forbidden":
                problem = "unknown setting"
            problems.append({"field": _field(loc), "problem": problem})
    if isinstance(raw, dict):
        problems.extend(_indicator_problems(raw.get("indicators", DEFAULT_INDICATORS)))
        problems.extend(_band_problems(raw.get("bands", {})))
        problems.extend(_escalation_problems(raw.get("escalation", {})))
    else:
        problems = [{"field": "definition", "problem": "must be a JSON object"}]
    if problems or model is None:
        unique = list({(p["field"], p["problem"]): p for p in problems}.values())
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in unique[:5])
        raise InvalidInput(f"the index definition is not valid — {summary}", details=unique)
    return model
