"""Back-tests: hit rate, PAI and PEI* on hand-made examples, the rolling replay, the refusals (an empty
training window, dates outside the data) and the command."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from civicgrid.core.db import Database
from civicgrid.core.errors import InvalidInput
from civicgrid.core.jobs import Job
from civicgrid.safety import backtest_cli
from civicgrid.safety.backtest import (
    BacktestSpec,
    best_capture,
    evaluate,
    flag_by_area,
    jaccard,
    plan_backtest,
    run_backtest,
    score_flagged,
)
from tests.safety.hotspot_sim import FIRST_DAY, LAST_DAY, load_hotspot_data
from tests.support.city import TinyCity

EQUAL = np.ones(10)


def test_hit_rate_pai_and_pei_on_a_hand_made_example() -> None:
    # Ten cells of 1 km²; the period's events: 5 in cell 0, 3 in cell 1, 2 in cell 2 (10 in all).
    actual = np.array([5, 3, 2, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    # The forecast ranks cell 1 first, then cell 3, then cell 0.
    density = np.array([0.5, 0.9, 0.1, 0.8, 0, 0, 0, 0, 0, 0])
    scores = evaluate(density, EQUAL, actual, (0.1, 0.2, 0.3))
    ten, flagged = scores[0.1]
    assert flagged.tolist() == [1]
    assert ten.hit_rate == pytest.approx(0.3)  # 3 of 10 events
    assert ten.area_share == pytest.approx(0.1)
    assert ten.pai == pytest.approx(3.0)  # 0.3 / 0.1
    assert ten.best == 5 and ten.pei == pytest.approx(0.6)  # the best single cell holds 5
    twenty = scores[0.2][0]
    assert scores[0.2][1].tolist() == [1, 3]
    assert (twenty.hit_rate, twenty.pai, twenty.pei) == pytest.approx((0.3, 1.5, 3 / 8))
    thirty = scores[0.3][0]
    assert (thirty.hit_rate, thirty.pai, thirty.pei) == pytest.approx((0.8, 0.8 / 0.3, 8 / 10))


def test_a_perfect_forecast_has_pei_one() -> None:
    rng = np.random.default_rng(1)
    actual = rng.poisson(rng.gamma(0.5, 2.0, 500)).astype(float)
    for coverage, (score, _) in evaluate(actual + 1e-9 * np.arange(500)[::-1], np.ones(500), actual).items():
        assert score.pei == pytest.approx(1.0), coverage
        assert score.pai is not None and score.pai >= 1
    # … and on grids of unequal area, a forecast of the true density is perfect too.
    area = rng.uniform(0.2, 3.0, 500)
    for score, _ in evaluate(actual / area, area, actual).values():
        assert score.pei == pytest.approx(1.0)


def test_units_of_unequal_area_are_flagged_by_density_until_the_area_share() -> None:
    area = np.array([4.0, 1.0, 2.0, 3.0])  # 10 km²
    density = np.array([1.0, 5.0, 3.0, 0.5])
    assert flag_by_area(density, area, 0.1).tolist() == [1]
    assert flag_by_area(density, area, 0.3).tolist() == [1, 2]
    assert flag_by_area(density, area, 0.5).tolist() == [1, 2]  # the next (4 km²) would pass 50 %
    assert flag_by_area(density, area, 0.05).tolist() == [1]  # at least one unit
    actual = np.array([8.0, 1.0, 2.0, 3.0])
    # The best 3 km²: unit 0 has 2 events per km², unit 3 one, unit 2 one, unit 1 one → 3 km² of unit 0 = 6.
    assert best_capture(actual, area, 3.0) == pytest.approx(6.0)
    assert best_capture(actual, area, 5.0) == pytest.approx(9.0)  # all of unit 0, then 1 km² more at 1 / km²
    score = score_flagged(np.array([1, 2]), area, actual)
    assert score.hit_rate == pytest.approx(3 / 14)
    assert score.pai == pytest.approx((3 / 14) / 0.3)
    assert score.pei == pytest.approx(3 / 6)


def test_a_period_without_events_has_no_rates() -> None:
    score = score_flagged(np.array([0]), EQUAL, np.zeros(10))
    assert score.hit_rate is None and score.pai is None and score.pei is None and score.area_share == 0.1


def test_jaccard_of_flagged_sets() -> None:
    assert jaccard(np.array([1, 2, 3]), np.array([2, 3, 4])) == pytest.approx(0.5)
    assert jaccard(np.array([1]), np.array([1])) == 1.0
    assert jaccard(np.array([], dtype=np.int64), np.array([], dtype=np.int64)) is None


# --- from the database ----------------------------------------------------------------------------------------


@pytest.fixture
def hotspot_data(db: Database, tiny_city: TinyCity) -> int:
    return load_hotspot_data(db)


SPEC = BacktestSpec(cell_size=5000, periods=4, train_days=180, methods=("counts", "kde", "self_exciting"))


def test_a_back_test_of_the_stored_incidents(db: Database, hotspot_data: int) -> None:
    with db.sessions() as session:
        plan = plan_backtest(session, SPEC)
        assert [p.start for p in plan.periods] == [
            date(2025, 5, 5),
            date(2025, 5, 12),
            date(2025, 5, 19),
            date(2025, 5, 26),
        ]
        assert plan.first_day == FIRST_DAY and plan.last_day == LAST_DAY and plan.events == hotspot_data
        steps: list[tuple[int, int]] = []
        result = run_backtest(session, plan, lambda step, total, _message: steps.append((step, total)))
    assert steps[-1] == (12, 12)
    assert result["units"]["kind"] == "cell" and result["units"]["count"] > 300
    assert len(result["periods"]) == 4 and result["periods"][0]["start"] == "2025-05-05"
    for method in SPEC.methods:
        figures = result["summary"][method]
        assert set(figures) >= {"1%", "5%", "10%", "jaccard_top5", "seconds_per_period"}
        assert figures["1%"]["pai"] > 5, method  # the hot points are found
        assert 0 < figures["10%"]["pei"] <= 1
        assert figures["10%"]["hit_rate"] >= figures["1%"]["hit_rate"]
    assert result["surges"] is None
    json.dumps(result)  # JSON all the way down


def test_a_back_test_on_grids(db: Database, hotspot_data: int) -> None:
    with db.sessions() as session:
        result = run_backtest(session, plan_backtest(session, replace(SPEC, unit="grid", methods=("counts", "kde"))))
    assert result["units"] == {"kind": "grid", "count": 4, "cell_size": None, "area_km2": pytest.approx(5240, rel=0.01)}
    # One grid in four is a quarter of the area: at 10 % the smallest unit is still flagged.
    assert result["summary"]["counts"]["10%"]["area_share"] == pytest.approx(0.25, abs=0.01)


def test_an_empty_training_window_names_the_first_and_last_day_of_data(db: Database, hotspot_data: int) -> None:
    with db.sessions() as session:
        with pytest.raises(InvalidInput) as refused:
            plan_backtest(session, replace(SPEC, periods=60))  # the first period would start before the data
        assert "2024-06-03" in refused.value.message and "2025-06-01" in refused.value.message
        assert "training window" in refused.value.message
        with pytest.raises(InvalidInput) as outside:
            plan_backtest(session, replace(SPEC, until=date(2026, 3, 1)))
        assert "outside the data" in outside.value.message and "2024-06-03 to 2025-06-01" in outside.value.message
        with pytest.raises(InvalidInput):
            plan_backtest(session, replace(SPEC, until=date(2024, 1, 1)))


def test_a_day_under_way_is_not_back_tested(db: Database, hotspot_data: int) -> None:
    from datetime import timedelta

    from civicgrid.core.clock import utcnow
    from civicgrid.safety.counts import local_day
    from tests.safety.hotspot_sim import HOT_POINT, add_incidents

    now = utcnow()
    with db.unit_of_work() as session:
        add_incidents(session, [HOT_POINT], [now], prefix="NOW")
    today = local_day(now)
    with db.sessions() as session:
        plan = plan_backtest(session, replace(SPEC, period="day", periods=3, train_days=1000))
    assert plan.last_day == today
    assert [p.start for p in plan.periods] == [today - timedelta(days=n) for n in (3, 2, 1)]


def test_no_data_at_all_is_refused(db: Database, tiny_city: TinyCity) -> None:
    from civicgrid.safety.categories import seed_safety_categories

    with db.unit_of_work() as session:
        seed_safety_categories(session)
    with db.sessions() as session, pytest.raises(InvalidInput) as refused:
        plan_backtest(session, SPEC)
    assert "no crime_order incidents" in refused.value.message


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"methods": ("counts", "magic")}, "counts, kde, self_exciting, near_repeat"),
        ({"methods": ()}, "(none given)"),
        ({"period": "year"}, "period"),
        ({"periods": 0}, "periods"),
        ({"train_days": 3}, "train_days"),
        ({"cell_size": 50}, "between 100 m and 5 km"),
        ({"cell_size": 6000}, "between 100 m and 5 km"),
        ({"unit": "hexagon"}, "cell or grid"),
        ({"indicator": "weather"}, "unknown indicator"),
        ({"indicator": "hazards"}, "no incident category counts towards"),
        ({"indicator": None, "categories": ("0101", "7777")}, "unknown incident categories: 7777"),
    ],
)
def test_bad_settings_are_refused(db: Database, hotspot_data: int, change: dict[str, object], words: str) -> None:
    with db.sessions() as session, pytest.raises(InvalidInput) as refused:
        plan_backtest(session, replace(SPEC, **change))  # type: ignore[arg-type]
    assert words in refused.value.message


def test_categories_instead_of_an_indicator(db: Database, hotspot_data: int) -> None:
    with db.sessions() as session:
        plan = plan_backtest(session, replace(SPEC, indicator=None, categories=("02",)))
    assert plan.selection.codes == ("0201", "0202", "0203", "0204", "0299") and plan.events == 250


def _jobs(db: Database) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


def test_the_command_refuses_an_empty_window_and_writes_nothing(
    db: Database, hotspot_data: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "figures.json"
    status = backtest_cli.run(replace(SPEC, periods=60), target, None, database=db)
    assert status == 1
    assert "2024-06-03" in capsys.readouterr().err
    assert not target.exists() and _jobs(db) == 0


def test_the_command_prints_the_table_and_keeps_the_figures(
    db: Database, hotspot_data: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "figures.json"
    status = backtest_cli.run(replace(SPEC, periods=2, methods=("counts", "kde")), target, None, database=db)
    assert status == 0
    out = capsys.readouterr().out
    assert "hit rate" in out and "PAI" in out and "PEI*" in out and "counts (baseline)" in out
    saved = json.loads(target.read_text(encoding="utf-8"))
    assert set(saved["summary"]) == {"counts", "kde"} and len(saved["periods"]) == 2
    with db.sessions() as session:
        job = session.scalars(select(Job)).one()
        assert job.kind == "safety.backtest" and job.status == "succeeded"
        assert job.result is not None and job.result["summary"] == saved["summary"]


def test_the_command_line(db: Database, hotspot_data: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """`civicgrid safety backtest` parses its options into the spec (the run itself is tested above)."""
    from typer.testing import CliRunner

    from civicgrid.cli import app

    seen: list[BacktestSpec] = []
    monkeypatch.setattr(backtest_cli, "run", lambda spec, json_file, user: seen.append(spec) or 0)
    result = CliRunner().invoke(
        app,
        ["safety", "backtest", "--unit", "grid", "--period", "month", "--periods", "3", "--train-days", "200",
         "--methods", "counts,near_repeat", "--until", "2025-05-31", "--surges"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    spec = seen[0]
    assert (spec.unit, spec.period, spec.periods, spec.train_days) == ("grid", "month", 3, 200)
    assert spec.methods == ("counts", "near_repeat") and spec.until == date(2025, 5, 31) and spec.surges
    bad = CliRunner().invoke(app, ["safety", "backtest", "--until", "yesterday"])
    assert bad.exit_code == 1


def test_surge_warnings_against_planted_surges(db: Database, hotspot_data: int) -> None:
    pytest.importorskip("civicgrid.safety.surge")
    pytest.importorskip("civicgrid.demo.safety.surges")
    with db.sessions() as session:
        result = run_backtest(
            session, plan_backtest(session, replace(SPEC, periods=1, methods=("counts",), surges=True))
        )
    surges = result["surges"]
    assert surges["available"] is True
    assert {"planted", "found", "recall", "detected", "precision"} <= set(surges)
    assert surges["window_days"] == [1, 3, 7]
    assert surges["first_day"] == "2025-05-26" and surges["last_day"] == "2025-06-01"
