"""The index computation on hand-made counts (no database): the formula's exact figures, every baseline with
and without history, leap years, peers (also for an area without residents), bands, streaks, roll-ups."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from civicgrid.safety.areas import AreaTree
from civicgrid.safety.counts import CountFrame
from civicgrid.safety.index import (
    BAND_NAMES,
    NONE_USED,
    Areas,
    Counts,
    Rules,
    compute,
    period_number,
    period_numbers,
    streaks,
)
from civicgrid.safety.index_config import BASELINES, IndexDefinition
from civicgrid.safety.periods import Period, period_of, periods_between

KINDS = {"inc:01": "crime_order", "inc:02": "crime_order", "inc:04": "fire", "inc:05": "traffic", "case:01": "disputes"}
# city C ─ district D1 ─ street S1 ─ community M1 ─ grids G1 (1,000 residents), G2 (500)
#        └ district D2 ─ street S2 ─ community M2 ─ grids G3 (500), G4 (none)
LAYOUT = [
    ("C", "city", None),
    ("D1", "district", "C"),
    ("S1", "street", "D1"),
    ("M1", "community", "S1"),
    ("G1", "grid", "M1"),
    ("G2", "grid", "M1"),
    ("D2", "district", "C"),
    ("S2", "street", "D2"),
    ("M2", "community", "S2"),
    ("G3", "grid", "M2"),
    ("G4", "grid", "M2"),
]
GRID_PEOPLE = {"G1": 1000, "G2": 500, "G3": 500, "G4": 0}
LEVELS = ("city", "district", "street", "community", "grid")


def tree() -> AreaTree:
    codes = [c for c, _, _ in LAYOUT]
    index = {c: i for i, c in enumerate(codes)}
    parents = {c: p for c, _, p in LAYOUT}
    levels = {c: lvl for c, lvl, _ in LAYOUT}
    ancestors = np.full((len(codes), 5), -1, dtype=np.int64)
    for i, code in enumerate(codes):
        current: str | None = code
        while current is not None:
            ancestors[i, LEVELS.index(levels[current])] = index[current]
            current = parents[current]
    t = AreaTree(
        codes=codes,
        names=codes,
        levels=[levels[c] for c in codes],
        parents=[parents[c] for c in codes],
        index=index,
        ancestors=ancestors,
        population=np.zeros(len(codes)),
        population_source="registry",
    )
    grids = t.at_level("grid")
    t.population = t.rollup(grids, np.array([GRID_PEOPLE[codes[g]] for g in grids], dtype=float))
    return t


def frame(rows: list[tuple[str, str, str, int, int]]) -> CountFrame:
    """(division, day, kind, count, deaths) rows."""
    return CountFrame(
        np.array([r[0] for r in rows], dtype=object),
        np.array([r[1] for r in rows], dtype="datetime64[D]"),
        np.array([r[2] for r in rows], dtype=object),
        np.array([r[3] for r in rows], dtype=np.int64),
        np.array([r[4] for r in rows], dtype=np.int64),
    )


def run(
    rows: list[tuple[str, str, str, int, int]],
    periods: list[Period],
    definition: IndexDefinition | None = None,
    first_days: dict[str, date | None] | None = None,
):  # type: ignore[no-untyped-def]
    definition = definition or IndexDefinition()
    rules = Rules.of(definition)
    areas = Areas.of(tree())
    if first_days is None:
        first: dict[str, date | None] = {}
        for division, day, kind, _count, _deaths in rows:
            del division
            indicator = KINDS[kind]
            d = date.fromisoformat(day)
            first[indicator] = min(d, first.get(indicator) or d)
        first_days = first
    counts = Counts.of(frame(rows), KINDS, rules, areas, first_days)
    return compute(periods, counts, areas, rules), areas, rules


def at(areas: Areas, code: str) -> int:
    return areas.index[code]


MARCH_2024 = Period("month", date(2024, 3, 1))
HISTORY = [
    # crime at G1: 10, 12, 14 in the three previous Marches (mean 12); traffic 2 each year; fire history starts
    # too. History starts on the first counted day: a window that begins earlier has no data.
    ("G1", "2021-03-01", "inc:01", 10, 0),
    ("G1", "2022-03-05", "inc:01", 12, 0),
    ("G1", "2023-03-05", "inc:02", 14, 0),
    ("G1", "2021-03-01", "inc:05", 2, 0),
    ("G1", "2022-03-06", "inc:05", 2, 0),
    ("G1", "2023-03-06", "inc:05", 2, 0),
    ("G3", "2021-03-01", "inc:04", 1, 0),
]


def test_the_formula_on_hand_made_counts() -> None:
    rows = [
        *HISTORY,
        ("G1", "2024-03-10", "inc:01", 9, 0),
        ("G1", "2024-03-20", "inc:02", 6, 1),  # 15 crime/public-order records, one death
        ("G1", "2024-03-11", "inc:05", 5, 0),
        ("G1", "2024-03-12", "inc:03", 40, 3),  # dispute calls are not in the default index: not counted
    ]
    rows = [r for r in rows if r[2] in KINDS]
    block, areas, rules = run(rows, [MARCH_2024])
    g1 = at(areas, "G1")
    crime, fire, traffic = (rules.indicators.index(n) for n in ("crime_order", "fire", "traffic"))
    assert block.observed[0, g1].tolist() == [15, 0, 5]
    assert block.used[0, g1, crime] == BASELINES.index("three_year")
    assert block.expected[0, g1, crime] == pytest.approx(12)
    assert block.ratio[0, g1, crime] == pytest.approx(18 / 15)  # (15 + 3) / (12 + 3) = 1.2
    assert block.component[0, g1, crime] == pytest.approx(90)
    assert block.component[0, g1, fire] == pytest.approx(100)  # nothing observed, nothing expected
    assert block.ratio[0, g1, traffic] == pytest.approx(8 / 5)  # (5 + 3) / (2 + 3) = 1.6
    assert block.component[0, g1, traffic] == pytest.approx(70)
    assert block.deaths[0, g1] == 1 and block.deduction[0, g1] == 5
    # 0.6·90 + 0.2·100 + 0.2·70 = 88, minus 5 for the death
    assert block.score[0, g1] == pytest.approx(83.0)
    assert BAND_NAMES[block.band[0, g1]] == "yellow"


def test_ratios_map_to_the_documented_component_scores() -> None:
    # x = 1.2 → 90, 1.4 → 80, 1.6 → 70, x ≤ 1 → 100, x ≥ 3 → 0 (slope 50); prior 3
    for observed, expected_score in [(15, 90), (18, 80), (21, 70), (5, 100), (42, 0)]:
        rows = [*HISTORY, ("G1", "2024-03-02", "inc:01", observed, 0)]
        block, areas, _ = run(rows, [MARCH_2024])
        assert block.component[0, at(areas, "G1"), 0] == pytest.approx(expected_score)


def test_deaths_are_deducted_up_to_the_cap() -> None:
    rows = [*HISTORY, ("G1", "2024-03-02", "inc:05", 2, 7)]
    block, areas, _ = run(rows, [MARCH_2024])
    g1 = at(areas, "G1")
    assert block.deaths[0, g1] == 7 and block.deduction[0, g1] == 20  # 7 × 5 = 35, capped at 20
    assert block.score[0, g1] == pytest.approx(80.0)


def test_the_three_year_baseline_averages_only_years_with_data() -> None:
    # History begins in March 2023: one previous year only; its count is the baseline, not a third of it.
    rows = [
        ("G1", "2023-03-01", "inc:01", 12, 0),
        ("G1", "2024-03-05", "inc:01", 12, 0),
    ]
    block, areas, _ = run(rows, [MARCH_2024])
    g1 = at(areas, "G1")
    assert block.years_used[0, 0] == 1
    assert block.used[0, g1, 0] == BASELINES.index("three_year")
    assert block.expected[0, g1, 0] == pytest.approx(12)
    assert block.component[0, g1, 0] == pytest.approx(100)


def test_a_window_partly_before_the_history_is_scaled_from_the_days_it_covers() -> None:
    # History starts on 2023-03-05: March 2023 has 27 of its 31 days of data (at least half: it counts).
    rows = [("G1", "2023-03-05", "inc:01", 27, 0), ("G1", "2024-03-05", "inc:01", 31, 0)]
    block, areas, _ = run(rows, [MARCH_2024])
    g1 = at(areas, "G1")
    assert block.years_used[0, 0] == 1
    assert block.expected[0, g1, 0] == pytest.approx(31)
    # History from 2023-03-20: 12 days of 31 is too little; no previous year has data
    block, areas, _ = run(rows, [MARCH_2024], first_days={"crime_order": date(2023, 3, 20)})
    assert block.years_used[0, 0] == 0
    assert block.used[0, at(areas, "G1"), 0] == BASELINES.index("peers")


def test_without_history_the_peers_baseline_is_used() -> None:
    # Counts begin in 2024: no previous year; G1 (1,000 residents) 20 records, G2 (500) 5 → rates 0.02, 0.01.
    rows = [("G1", "2024-03-05", "inc:01", 20, 0), ("G2", "2024-03-05", "inc:01", 5, 0)]
    block, areas, _ = run(rows, [MARCH_2024])
    g1, g2 = at(areas, "G1"), at(areas, "G2")
    peers = BASELINES.index("peers")
    assert not block.available[BASELINES.index("three_year"), 0, g1, 0]
    assert block.used[0, g1, 0] == peers and block.used[0, g2, 0] == peers
    # median rate 0.015 per resident: G1 expects 15, G2 7.5
    assert block.expected[0, g1, 0] == pytest.approx(15)
    assert block.expected[0, g2, 0] == pytest.approx(7.5)
    assert block.component[0, g1, 0] == pytest.approx(100 - 50 * (23 / 18 - 1))
    assert block.component[0, g2, 0] == pytest.approx(100)
    # the city has no peers and no history: expected = observed (neutral)
    city = at(areas, "C")
    assert block.used[0, city, 0] == NONE_USED and block.component[0, city, 0] == pytest.approx(100)


def test_an_area_without_residents_is_compared_by_counts() -> None:
    # G4 has no residents: its peers baseline is the median count of its siblings (G3, G4).
    rows = [("G3", "2024-03-05", "inc:01", 4, 0), ("G4", "2024-03-05", "inc:01", 10, 0)]
    block, areas, _ = run(rows, [MARCH_2024])
    g3, g4 = at(areas, "G3"), at(areas, "G4")
    assert areas.population[g4] == 0
    assert block.expected[0, g4, 0] == pytest.approx(7)  # median of 4 and 10
    # G3 is the only sibling with residents: its own rate is the median
    assert block.expected[0, g3, 0] == pytest.approx(4)
    # and G4's own history, once there is some, is used like any area's
    rows += [("G4", "2023-03-01", "inc:01", 10, 0)]
    block, areas, _ = run(rows, [MARCH_2024])
    assert block.used[0, g4, 0] == BASELINES.index("three_year")
    assert block.expected[0, g4, 0] == pytest.approx(10)


def test_baselines_are_scaled_to_the_period_length_in_leap_years() -> None:
    feb = Period("month", date(2024, 2, 1))  # 29 days, the previous Februaries 28
    rows = [("G2", f"{y}-02-01", "inc:01", 28, 0) for y in (2021, 2022, 2023)] + [("G2", "2024-02-10", "inc:01", 29, 0)]
    block, areas, _ = run(rows, [feb])
    g2 = at(areas, "G2")
    assert block.baselines[BASELINES.index("three_year"), 0, g2, 0] == pytest.approx(29)
    assert block.component[0, g2, 0] == pytest.approx(100)
    # month on month: March (31 days) against February (29)
    march = [*rows, ("G2", "2024-03-10", "inc:01", 31, 0)]
    block, areas, _ = run(march, [MARCH_2024], IndexDefinition(baseline="previous"))
    assert block.used[0, g2, 0] == BASELINES.index("previous")
    assert block.expected[0, g2, 0] == pytest.approx(29 * 31 / 29)


def test_a_leap_day_compares_with_the_28th_of_february() -> None:
    leap_day = Period("day", date(2024, 2, 29))
    assert leap_day.years_back(1) == Period("day", date(2023, 2, 28))
    rows = [("G1", "2023-02-28", "inc:01", 6, 0), ("G1", "2024-02-29", "inc:01", 6, 0)]
    block, areas, _ = run(rows, [leap_day], IndexDefinition(baseline="year_on_year"))
    g1 = at(areas, "G1")
    assert block.used[0, g1, 0] == BASELINES.index("year_on_year")
    assert block.expected[0, g1, 0] == pytest.approx(6)


def test_year_on_year_and_previous_fall_back_to_peers_without_data() -> None:
    rows = [("G1", "2024-03-05", "inc:01", 20, 0), ("G2", "2024-03-05", "inc:01", 5, 0)]
    for baseline in ("year_on_year", "previous"):
        block, areas, _ = run(rows, [MARCH_2024], IndexDefinition(baseline=baseline))
        assert block.used[0, at(areas, "G1"), 0] == BASELINES.index("peers")


def test_every_level_is_rolled_up() -> None:
    rows = [
        ("G1", "2024-03-05", "inc:01", 3, 0),
        ("G2", "2024-03-05", "inc:01", 4, 1),
        ("G3", "2024-03-06", "inc:05", 5, 0),
        ("M2", "2024-03-07", "inc:01", 7, 0),  # placed only down to a community
        ("D1", "2024-03-08", "inc:04", 2, 0),  # only to a district
    ]
    block, areas, _ = run(rows, [MARCH_2024])
    events = dict(zip(areas.codes, block.events[0].tolist(), strict=True))
    assert events == {
        "C": 21,
        "D1": 9,
        "S1": 7,
        "M1": 7,
        "G1": 3,
        "G2": 4,
        "D2": 12,
        "S2": 12,
        "M2": 12,
        "G3": 5,
        "G4": 0,
    }
    assert block.deaths[0, at(areas, "C")] == 1 and block.deaths[0, at(areas, "M1")] == 1
    assert areas.population[at(areas, "C")] == 2000 and areas.population[at(areas, "D2")] == 500


def test_many_periods_at_once_equal_one_at_a_time() -> None:
    rng = np.random.default_rng(7)
    rows = []
    for day in np.arange(np.datetime64("2021-01-01"), np.datetime64("2024-04-01"), 3):
        for grid in ("G1", "G2", "G3", "G4"):
            kind = ("inc:01", "inc:04", "inc:05")[int(rng.integers(3))]
            rows.append((grid, str(day), kind, int(rng.poisson(2)), int(rng.random() < 0.01)))
    periods = periods_between("week", date(2023, 12, 1), date(2024, 3, 31))
    together, _, _ = run(rows, periods)
    for t, period in enumerate(periods):
        alone, _, _ = run(rows, [period])
        assert np.allclose(together.score[t], alone.score[0])
        assert np.allclose(together.expected[t], alone.expected[0])


def test_bands_follow_the_thresholds() -> None:
    rules = Rules.of(IndexDefinition())
    scores = np.array([100, 90, 89.9, 80, 79.9, 70, 69.9, 0])
    assert [BAND_NAMES[b] for b in rules.band_of(scores)] == [
        "green",
        "green",
        "yellow",
        "yellow",
        "orange",
        "orange",
        "red",
        "red",
    ]
    custom = Rules.of(IndexDefinition.model_validate({"bands": {"green": 95, "yellow": 85, "orange": 60}}))
    assert [BAND_NAMES[b] for b in custom.band_of(np.array([95, 94.9, 60, 59.9]))] == [
        "green",
        "yellow",
        "orange",
        "red",
    ]


def test_streaks_count_consecutive_reds() -> None:
    red, green = 3, 0
    bands = np.array([[red, red], [red, green], [red, red], [green, red]])
    assert streaks(bands, np.array([2, 0])).tolist() == [[3, 1], [4, 0], [5, 1], [0, 2]]


@pytest.mark.parametrize("period_type", ["day", "dekad", "week", "month"])
def test_period_numbers_match_the_period_arithmetic(period_type: str) -> None:
    days = np.arange(np.datetime64("2023-12-20"), np.datetime64("2024-03-10"))
    numbers = period_numbers(period_type, days)
    for day, number in zip(days.tolist(), numbers.tolist(), strict=True):
        period = period_of(period_type, day)
        assert period_number(period) == number
        assert period_number(period.next()) == number + 1
