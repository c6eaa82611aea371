"""Calls and recorded incidents are counted apart: records repeat calls and feed no indicator."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from civicgrid.safety.categories import kind_indicators, kind_of, seed_safety_categories
from civicgrid.safety.counts import CountKey, tally_incidents
from civicgrid.safety.models import SafetyIncident


def _incident(source: str, category: str, deaths: int = 0) -> SafetyIncident:
    return SafetyIncident(
        source=source,
        record_id="x",
        division_code="g",
        day=date(2026, 5, 1),
        category_code=category,
        deaths=deaths,
        injuries=0,
    )


def test_calls_and_records_of_one_class_are_two_kinds() -> None:
    tallies = tally_incidents(
        [_incident("110", "0101"), _incident("110", "0105"), _incident("records", "0101"), _incident("122", "0501", 1)]
    )
    day = date(2026, 5, 1)
    assert tallies[CountKey("g", day, "inc:01")].count == 2
    assert tallies[CountKey("g", day, "rec:01")].count == 1
    assert tallies[CountKey("g", day, "inc:05")].deaths == 1
    assert kind_of("0203", "records") == "rec:02"
    assert kind_of("0203", "110") == "inc:02"


def test_records_feed_no_indicator(session: Session) -> None:
    seed_safety_categories(session)
    kinds = kind_indicators(session)
    assert kinds["inc:01"] == "crime_order"
    assert not any(kind.startswith("rec:") for kind in kinds)
