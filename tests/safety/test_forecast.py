"""The forecast methods on synthetic point processes with known structure."""

from __future__ import annotations

import numpy as np
import pytest

from civicgrid.safety.backtest import Window, replay
from civicgrid.safety.forecast import (
    METHODS,
    Events,
    Options,
    _Layout,
    fit_self_exciting,
    forecast,
    near_repeat_kernel,
    self_exciting_expected,
)
from tests.safety.hotspot_sim import city, in_cells, self_exciting, static_hotspot


def test_a_static_hot_cell_gets_a_pai_far_above_one_with_every_method() -> None:
    rng = np.random.default_rng(7)
    cells, space = city()
    hot = len(cells) // 2
    events = static_hotspot(rng, cells, hot, days=400, background=6.0, hot_rate=1.0)
    windows = [Window(str(k), str(k), 344 + 7 * k, 351 + 7 * k) for k in range(8)]
    figures = replay(events, space, windows, METHODS, train_days=300, data_start=0)
    for method in METHODS:
        one = figures["summary"][method]["1%"]
        assert one["pai"] > 8, (method, one)
        assert one["area_share"] == pytest.approx(0.01, abs=0.001)
        # the hot cell is flagged every period: at 1 % the flagged set hardly changes
    assert figures["summary"]["counts"]["jaccard_top5"] > 0.2
    # A forecast that knows nothing (all equal) flags the first units: PAI about 1.
    flat = forecast("counts", Events.of([], [], [], []), space, 344, 7)
    assert flat.expected.sum() == 0


def test_the_hot_cell_ranks_first() -> None:
    rng = np.random.default_rng(3)
    cells, space = city()
    hot = 123
    events = static_hotspot(rng, cells, hot, days=200, background=6.0, hot_rate=1.0)
    for method in METHODS:
        result = forecast(method, events, space, 200, 7, Options(lookback_days=200))
        assert result.order()[0] == hot, method
        assert result.expected[hot] > 5 * np.median(result.expected), method


def test_counts_are_the_window_counts_scaled_to_the_period() -> None:
    cells, space = city(1000)
    unit = np.array([0, 0, 0, 5, 5, 7], dtype=np.int64)
    x, y = in_cells(np.random.default_rng(1), cells, unit)
    t = np.array([1.0, 50.0, 99.0, 10.0, 120.0, 99.5])  # the one at day 120 is after the cut-off
    result = forecast("counts", Events.of(x, y, t, unit), space, 100, 10, Options(lookback_days=100))
    assert result.expected[0] == pytest.approx(3 * 10 / 100)
    assert result.expected[5] == pytest.approx(1 * 10 / 100)
    assert result.expected[7] == pytest.approx(0.1) and result.training_events == 5
    assert result.expected.sum() == pytest.approx(0.5)
    assert result.density[0] == pytest.approx(0.3 / 1.0)  # 1 km² cells


def test_kde_keeps_the_expected_total_and_spreads_by_the_bandwidth() -> None:
    cells, space = city(500)
    middle = len(cells) // 2
    x, y = cells.centres_xy()
    events = Events.of(np.full(10, x[middle]), np.full(10, y[middle]), np.linspace(0, 99, 10), np.full(10, middle))
    narrow = forecast("kde", events, space, 100, 10, Options(lookback_days=100, bandwidth_m=100))
    wide = forecast("kde", events, space, 100, 10, Options(lookback_days=100, bandwidth_m=1000))
    for result in (narrow, wide):
        assert result.expected.sum() == pytest.approx(10 * 10 / 100)
        assert result.order()[0] == middle
    assert narrow.expected[middle] > 0.8 * narrow.expected.sum()
    assert wide.expected[middle] < 0.2 * wide.expected.sum()


def test_kde_time_weighting_favours_recent_events() -> None:
    cells, space = city(500)
    x, y = cells.centres_xy()
    old, new = 100, 900
    events = Events.of([x[old], x[new]], [y[old], y[new]], [10.0, 95.0], [old, new])
    plain = forecast("kde", events, space, 100, 7, Options(lookback_days=100, bandwidth_m=200))
    assert plain.expected[old] == pytest.approx(plain.expected[new])
    weighted = forecast("kde", events, space, 100, 7, Options(lookback_days=100, bandwidth_m=200, half_life_days=14))
    assert weighted.expected[new] > 50 * weighted.expected[old]


def test_near_repeat_looks_at_recent_events_within_400_m() -> None:
    kernel = near_repeat_kernel(400, 100)
    assert kernel.shape == (9, 9) and kernel[4, 4] == 1.0
    assert kernel[4, 8] == pytest.approx(1 / 5) and kernel[0, 0] == 0.0  # 400 m away; a corner is 566 m
    cells, space = city(500)
    x, y = cells.centres_xy()
    old, new = 100, 900
    events = Events.of([x[old], x[new]], [y[old], y[new]], [10.0, 95.0], [old, new])
    result = forecast("near_repeat", events, space, 100, 7, Options(lookback_days=100))
    assert result.expected[old] == 0 and result.expected[new] > 0  # 90 days ago is past the 56 days


def test_the_self_exciting_model_recovers_theta_and_omega() -> None:
    rng = np.random.default_rng(11)
    mu = rng.gamma(2.0, 0.04, 300)  # background events a day per unit
    t, unit = self_exciting(rng, mu, theta=0.5, omega=0.25, days=1000)
    fit = fit_self_exciting(t, unit, 300, 0, 1000)
    assert fit.converged
    assert fit.theta == pytest.approx(0.5, abs=0.05)
    assert fit.omega == pytest.approx(0.25, rel=0.15)
    assert np.corrcoef(fit.mu, mu)[0, 1] > 0.95
    assert fit.mu.sum() == pytest.approx(mu.sum(), rel=0.1)


def test_a_process_without_excitation_is_fitted_with_theta_near_zero() -> None:
    rng = np.random.default_rng(5)
    mu = np.full(100, 0.2)
    t = rng.uniform(0, 500, rng.poisson(mu.sum() * 500))
    unit = rng.integers(0, 100, t.shape[0]).astype(np.int64)
    fit = fit_self_exciting(t, unit, 100, 0, 500)
    assert fit.theta < 0.05
    assert fit.mu.mean() == pytest.approx(0.2, rel=0.1)


def test_the_recursions_equal_the_sums_over_earlier_events() -> None:
    rng = np.random.default_rng(2)
    unit = rng.integers(0, 6, 200).astype(np.int64)
    t = rng.uniform(0, 50, 200)
    layout = _Layout(t, unit, 6)
    a, b = layout.sums(0.3)
    for i in range(layout.t.shape[0]):
        same = (layout.unit == layout.unit[i]) & (layout.t < layout.t[i])
        lag = layout.t[i] - layout.t[same]
        assert a[i] == pytest.approx(np.exp(-0.3 * lag).sum())
        assert b[i] == pytest.approx((lag * np.exp(-0.3 * lag)).sum())


def test_the_expected_count_integrates_the_mean_rate() -> None:
    rng = np.random.default_rng(4)
    t, unit = self_exciting(rng, np.full(3, 0.3), theta=0.6, omega=0.5, days=100)
    fit = fit_self_exciting(t, unit, 3, 0, 100)
    expected = self_exciting_expected(fit, t, unit, 100.0, 7.0)
    # Euler steps of dm/dt = ω(μ − (1 − θ)m) from m(100) = μ + θω Σ e^{−ω(100 − t_j)}.
    for n in range(3):
        m = fit.mu[n] + fit.theta * fit.omega * np.exp(-fit.omega * (100 - t[unit == n])).sum()
        total, step = 0.0, 1e-4
        for _ in range(int(7 / step)):
            total += m * step
            m += fit.omega * (fit.mu[n] - (1 - fit.theta) * m) * step
        assert expected[n] == pytest.approx(total, rel=1e-3)
    # Without excitation the expectation is the background over the period.
    fit.theta = 0.0
    assert self_exciting_expected(fit, t, unit, 100.0, 7.0) == pytest.approx(fit.mu * 7)


def test_the_self_exciting_forecast_follows_a_recent_burst() -> None:
    cells, space = city(1000)
    x, y = cells.centres_xy()
    steady, burst = 10, 20
    # The steady unit: 40 events evenly spread. The bursty one: three clusters of 8 over 8 days and one of
    # 12 still under way at the cut-off — fewer events in all, but more to come next week.
    cluster = np.array([0, 0.5, 1, 2, 3, 4, 6, 8])
    last = 192 + np.array([0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 7, 7.5, 7.9])
    bursts = np.concatenate([start + cluster for start in (20, 80, 140)] + [last])
    t = np.concatenate([np.linspace(0, 199, 40), bursts])
    unit = np.concatenate([np.full(40, steady), np.full(bursts.shape[0], burst)]).astype(np.int64)
    events = Events.of(x[unit], y[unit], t, unit)
    counts = forecast("counts", events, space, 200, 7, Options(lookback_days=200))
    excited = forecast("self_exciting", events, space, 200, 7, Options(lookback_days=200))
    assert counts.expected[steady] > counts.expected[burst]
    assert excited.expected[burst] > excited.expected[steady]
    assert excited.params["theta"] > 0.1


def test_an_unknown_method_is_refused() -> None:
    _, space = city(1000)
    with pytest.raises(ValueError, match="counts, kde, self_exciting, near_repeat"):
        forecast("crystal_ball", Events.of([], [], [], []), space, 10, 7)


def test_empty_windows_forecast_nothing() -> None:
    _, space = city(1000)
    for method in METHODS:
        result = forecast(method, Events.of([], [], [], []), space, 10, 7)
        assert result.expected.shape == (space.n,) and result.expected.sum() == 0
