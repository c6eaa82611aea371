"""Surge detection on synthetic seasonal counts: planted surges found, chance alarms held near the nominal
rate by the false-discovery control, the negative binomial chosen for over-dispersed counts, and the
precision/recall the back-tests report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pytest

from civicgrid.core.errors import InvalidInput
from civicgrid.safety.counts import CountFrame
from civicgrid.safety.surge import SurgeDetector, detect_surges, surge_precision_recall
from civicgrid.safety.surge_model import fit_city, moment_alpha, sparse_moment_alpha
from tests.safety.synthetic import Planted, Series, Synthetic, build_tree, days_between

FIRST, LAST = date(2024, 1, 1), date(2025, 3, 31)
TREE = build_tree(2, 4, 10)  # 80 communities in 8 streets


def _communities() -> list[str]:
    return [c for c, level in zip(TREE.codes, TREE.levels, strict=True) if level == "community"]


def _frame(kinds: dict[str, Series], planted: Sequence[Planted] = (), seed: int = 7) -> CountFrame:
    return Synthetic(TREE, FIRST, LAST, kinds, seed=seed, planted=list(planted)).frame()


def test_planted_surges_are_found_with_their_evidence() -> None:
    communities = _communities()
    planted = [
        Planted(communities[3], "inc:01", date(2025, 3, 10), date(2025, 3, 10), 12),
        Planted(communities[40], "inc:04", date(2025, 3, 12), date(2025, 3, 12), 6),
    ]
    frame = _frame({"inc:01": Series(120), "inc:04": Series(8)}, planted)
    detector = SurgeDetector(frame, TREE)
    found = [s for day in days_between(date(2025, 3, 8), date(2025, 3, 14)) for s in detector.detect(day).surges]
    hits = {(s.area_code, s.kind, s.first_day) for s in found if s.level == "community"}
    assert (communities[3], "inc:01", date(2025, 3, 10)) in hits
    assert (communities[40], "inc:04", date(2025, 3, 12)) in hits
    surge = next(s for s in found if s.area_code == communities[3])
    assert surge.window == (date(2025, 3, 10), date(2025, 3, 10))
    assert surge.observed >= 12 and 0 < surge.expected < surge.observed
    assert 0 <= surge.p <= surge.q <= 0.05
    assert surge.model in ("poisson", "negbin") and surge.alpha >= 0
    assert {"weekday", "season", "trend", "city_expected", "city_model", "share"} <= set(surge.factors)
    assert surge.area_name == f"area {communities[3]}"
    figures = surge_precision_recall(found, planted, tree=TREE)
    assert figures["planted"] == 2 and figures["found"] == 2 and figures["recall"] == 1.0


def test_a_child_and_its_parent_may_both_alert() -> None:
    community = _communities()[5]
    planted = [Planted(community, "inc:02", date(2025, 3, 20), date(2025, 3, 20), 40)]
    frame = _frame({"inc:02": Series(150)}, planted)
    surges = detect_surges(frame, TREE, date(2025, 3, 20))
    areas = {(s.level, s.area_code) for s in surges}
    assert ("community", community) in areas
    assert ("street", community[:9]) in areas


def test_without_surges_false_alarms_stay_near_the_nominal_rate() -> None:
    """No surge planted: over 120 days at two levels (80 and 8 areas, 3 kinds) a day with any alarm at a
    level comes at most at the FDR (5 %): under the global null, Benjamini–Hochberg holds the chance of any
    alarm to it."""
    frame = _frame({"inc:01": Series(120), "inc:04": Series(10), "case:02": Series(30)}, seed=11)
    detector = SurgeDetector(frame, TREE)
    days = days_between(date(2024, 12, 1), date(2025, 3, 30))
    alarm_days = 0
    for day in days:
        detection = detector.detect(day)
        alarm_days += len({s.level for s in detection.surges})
    assert alarm_days / (2 * len(days)) <= 0.05 + 0.02
    # Every (area, kind) once per window: the day, the last 3 days, the last 7.
    assert detector.detect(days[-1]).tested == {"community": 80 * 3 * 3, "street": 8 * 3 * 3}
    assert detector.detect(days[-1], window_days=1).tested == {"community": 80 * 3, "street": 8 * 3}


def test_p_values_are_calibrated_under_the_null() -> None:
    frame = _frame({"inc:01": Series(400)}, seed=5)
    detector = SurgeDetector(frame, TREE)
    p = np.concatenate(
        [
            detector.detect(day, levels=("community",)).p_values["community"]
            for day in days_between(date(2025, 2, 1), date(2025, 3, 31))
        ]
    )
    assert len(p) == 80 * 59 * 3  # three windows a day
    # Discrete counts: P(p ≤ 5 %) is at most 5 %, and not much below with a few records expected per area.
    assert 0.025 <= (p <= 0.05).mean() <= 0.06
    assert (p <= 0.01).mean() <= 0.015


def test_over_dispersed_counts_choose_the_negative_binomial() -> None:
    frame = _frame({"inc:01": Series(120, area_alpha=0.6), "inc:02": Series(120)}, seed=3)
    detection = SurgeDetector(frame, TREE).detect(date(2025, 3, 15))
    assert detection.levels[("inc:01", "community")].model == "negbin"
    assert 0.3 < detection.levels[("inc:01", "community")].alpha < 1.0
    assert detection.levels[("inc:02", "community")].model == "poisson"
    assert detection.levels[("inc:02", "community")].alpha == 0


def test_the_city_series_is_negative_binomial_only_when_over_dispersed() -> None:
    rng = np.random.default_rng(2)
    days = np.arange(19_000, 19_365, dtype=np.int64)
    mu = 50 * (1 + 0.3 * np.sin(2 * np.pi * days / 365.25)) * np.where((days + 3) % 7 >= 5, 1.4, 1.0)
    window = np.arange(19_365, 19_366, dtype=np.int64)
    poisson = fit_city("inc:01", rng.poisson(mu).astype(float), days, window)
    assert poisson.model == "poisson" and poisson.alpha == 0
    assert 0.8 < poisson.dispersion < 1.25
    assert set(poisson.terms) >= {"weekday5", "sin1", "cos2", "trend"}
    assert poisson.factors["weekday"] == pytest.approx(1.4, abs=0.1)  # day 19365 is a Sunday
    gamma = rng.gamma(1 / 0.2, 0.2, len(days))
    negbin = fit_city("inc:01", rng.poisson(mu * gamma).astype(float), days, window)
    assert negbin.model == "negbin" and 0.1 < negbin.alpha < 0.35
    assert negbin.predicted[0] == pytest.approx(mu[0], rel=0.3)


def test_sparse_and_short_series_are_handled() -> None:
    days = np.arange(19_000, 19_100, dtype=np.int64)
    window = np.array([19_100], dtype=np.int64)
    sparse = fit_city("inc:04", np.r_[np.zeros(95), np.ones(5)], days, window)
    assert sparse.model == "mean" and sparse.predicted[0] == pytest.approx(0.05)
    frame = _frame({"inc:01": Series(50)})
    early = SurgeDetector(frame, TREE).detect(FIRST + timedelta(days=10))
    assert early.surges == [] and "history" in early.skipped["inc:01"]


def test_moments_agree_dense_and_sparse() -> None:
    rng = np.random.default_rng(4)
    share = rng.dirichlet(np.ones(30))
    city = rng.uniform(50, 80, 40)
    mu = np.outer(share, city)
    y = rng.poisson(mu * rng.gamma(2.0, 0.5, mu.shape)).astype(float)
    area, block = np.nonzero(y)
    dense = moment_alpha(y, mu)
    sparse = sparse_moment_alpha(area.astype(np.int64), block.astype(np.int64), y[area, block], share, city)
    assert sparse == pytest.approx(dense, rel=1e-9)
    assert dense[0] == pytest.approx(0.5, abs=0.15) and dense[1] > 3


def test_a_quiet_area_keeps_a_small_expectation() -> None:
    communities = _communities()
    frame = _frame({"inc:05": Series(30)})
    quiet = communities[7]
    keep = frame.division != quiet
    frame = CountFrame(frame.division[keep], frame.day[keep], frame.kind[keep], frame.count[keep], frame.deaths[keep])
    day = date(2025, 3, 3)
    burst = CountFrame(
        np.array([quiet], dtype=object),
        np.array([day], dtype="datetime64[D]"),
        np.array(["inc:05"], dtype=object),
        np.array([5]),
        np.array([0]),
    )
    joined = CountFrame(*(np.concatenate([getattr(frame, f), getattr(burst, f)]) for f in frame.__dataclass_fields__))
    surges = [s for s in detect_surges(joined, TREE, day) if s.area_code == quiet]
    assert len(surges) == 1
    assert 0 < surges[0].expected < 0.5 and surges[0].p > 0


def test_records_placed_above_a_level_count_for_the_city_and_their_own_area() -> None:
    street = next(c for c, level in zip(TREE.codes, TREE.levels, strict=True) if level == "street")
    frame = _frame({"inc:03": Series(40)})
    day = date(2025, 3, 5)
    extra = CountFrame(
        np.array([street], dtype=object),
        np.array([day], dtype="datetime64[D]"),
        np.array(["inc:03"], dtype=object),
        np.array([60]),
        np.array([0]),
    )
    joined = CountFrame(*(np.concatenate([getattr(frame, f), getattr(extra, f)]) for f in frame.__dataclass_fields__))
    surges = detect_surges(joined, TREE, day)
    assert [(s.level, s.area_code) for s in surges] == [("street", street)]


def test_a_longer_window_sums_its_days() -> None:
    community = _communities()[12]
    planted = [Planted(community, "inc:01", date(2025, 3, 1), date(2025, 3, 7), 2)]
    frame = _frame({"inc:01": Series(120)}, planted)
    surges = detect_surges(frame, TREE, date(2025, 3, 7), window_days=7, levels=("community",))
    (surge,) = [s for s in surges if s.area_code == community]
    assert surge.window == (date(2025, 3, 1), date(2025, 3, 7))
    assert surge.observed >= 14


def test_a_surge_of_a_few_extra_records_a_day_shows_in_the_sums_of_days() -> None:
    """Three extra records a day for a week where about one is usual: no single day stands out among the
    80 communities, the sums of 3 and 7 days do; an area reports one window a day, the shortest over the bar."""
    community = _communities()[33]
    planted = [Planted(community, "inc:01", date(2025, 3, 1), date(2025, 3, 7), 3)]
    detector = SurgeDetector(_frame({"inc:01": Series(120)}, planted), TREE)
    days = days_between(date(2025, 3, 1), date(2025, 3, 9))
    alone = [s for day in days for s in detector.detect(day, window_days=1, levels=("community",)).surges]
    assert [s for s in alone if s.area_code == community] == []
    found = [s for day in days for s in detector.detect(day, levels=("community",)).surges if s.area_code == community]
    assert len({s.last_day for s in found}) == len(found) >= 3
    assert {(s.last_day - s.first_day).days + 1 for s in found} <= {3, 7}
    assert all(s.first_day <= date(2025, 3, 7) and s.last_day >= date(2025, 3, 1) for s in found)
    figures = surge_precision_recall(found, planted, tree=TREE)
    assert figures["recall"] == 1.0 and figures["precision"] == 1.0


def test_kinds_can_be_chosen_and_unknown_ones_are_ignored() -> None:
    community = _communities()[3]
    planted = [Planted(community, "inc:01", date(2025, 3, 10), date(2025, 3, 10), 15)]
    frame = _frame({"inc:01": Series(120), "inc:02": Series(60)}, planted)
    detection = SurgeDetector(frame, TREE).detect(date(2025, 3, 10), kinds=["inc:02", "inc:99"])
    assert set(detection.fits) == {"inc:02"}
    assert all(s.kind == "inc:02" for s in detection.surges)


def test_empty_counts_detect_nothing() -> None:
    empty = CountFrame(
        np.array([], dtype=object),
        np.array([], dtype="datetime64[D]"),
        np.array([], dtype=object),
        np.array([], dtype=np.int64),
        np.array([], dtype=np.int64),
    )
    assert detect_surges(empty, TREE, date(2025, 1, 1)) == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"levels": ("ward",)}, "levels"),
        ({"levels": ()}, "levels"),
        ({"window_days": 0}, "window_days"),
        ({"window_days": 400}, "window_days"),
        ({"window_days": ()}, "window_days"),
        ({"window_days": (1, 7, 93)}, "window_days"),
        ({"training_days": 7}, "training_days"),
        ({"fdr": 0.0}, "fdr"),
        ({"fdr": 1.5}, "fdr"),
        ({"min_observed": 0}, "min_observed"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(options: dict[str, object], field: str) -> None:
    frame = _frame({"inc:01": Series(20)})
    with pytest.raises(InvalidInput) as refused:
        detect_surges(frame, TREE, date(2025, 3, 1), **options)  # type: ignore[arg-type]
    assert [p["field"] for p in refused.value.details] == [field]


def test_precision_and_recall() -> None:
    d = date(2025, 3, 10)
    community = "340301001003"
    street, grid = community[:9], community + "001"
    planted = [(community, "inc:01", d, d + timedelta(days=2)), ("340302004001", "inc:04", d, d)]
    detected = [
        (community, "inc:01", d + timedelta(days=2), d + timedelta(days=2)),  # overlaps the first
        (street, "inc:01", d, d),  # its parent: also a true positive
        (grid, "inc:01", d - timedelta(days=1), d),  # its child (by code)
        (community, "inc:02", d, d),  # another kind
        (community, "inc:01", d + timedelta(days=3), d + timedelta(days=3)),  # after it
        (community[:6], "inc:01", d, d),  # the district: two levels up, not related
    ]
    figures = surge_precision_recall(detected, planted)
    assert figures == {
        "planted": 2,
        "found": 1,
        "recall": 0.5,
        "detected": 6,
        "true_positives": 3,
        "false_positives": 3,
        "precision": 0.5,
    }
    with_tree = surge_precision_recall([("340301001", "inc:01", d, d)], [("340301001003", "inc:01", d, d)], tree=TREE)
    assert with_tree["found"] == 1 and with_tree["true_positives"] == 1
    nothing = surge_precision_recall([], [])
    assert nothing["recall"] is None and nothing["precision"] is None
