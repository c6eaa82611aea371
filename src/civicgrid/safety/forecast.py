"""Hotspot forecasts for the next period, per unit (square cells or grids), in plain numpy/scipy.

Events are points in metres of a local equal-area projection (`safety.cells`) with a time in days on the
local calendar; each carries the index of the unit it falls in (−1 outside every unit). A forecast gives,
per unit, the expected number of events in the period `[cutoff, cutoff + horizon)` from the events of the
look-back window `[cutoff − lookback, cutoff)`; units are ranked by expected events per km².

Methods (REFERENCE.md §5):

- `counts`: retrospective counts over the look-back window, the baseline every method must beat.
- `kde`: Gaussian kernel density with a bandwidth in metres, binned on a fine raster and smoothed with
  `scipy.ndimage.gaussian_filter`, summed per unit; optionally time-weighted (a half-life in days).
- `self_exciting`: the grid-cell model of Mohler et al. (2015): unit n has a background rate μ_n and
  every event raises its unit's rate by θ·ω·e^{−ω(t−t_i)}; θ, ω and μ are fitted by EM on the window,
  the forecast is the expected count of the period (background plus the decaying excitation).
- `near_repeat`: prospective hotspotting (Bowers, Johnson and Pease 2004): recent events only, weighted
  by 1/(1 + weeks ago) and by 1/(1 + distance/100 m) within 400 m — risk that follows an event to its
  neighbours for about two months.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import ndimage

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

METHODS: tuple[str, ...] = ("counts", "kde", "self_exciting", "near_repeat")
METHOD_NOTES: dict[str, str] = {
    "counts": "retrospective counts over the look-back window (the baseline)",
    "kde": "Gaussian kernel density (bandwidth in metres) over the look-back window, optionally time-weighted",
    "self_exciting": "grid-cell self-exciting point process (Mohler et al. 2015), fitted by EM",
    "near_repeat": "prospective hotspotting: recent events weighted by closeness in space (400 m) and time",
}


@dataclass(frozen=True)
class Raster:
    """A fine raster over the units (row-major, origin at the lower left) and the unit of each pixel."""

    x0: float
    y0: float
    pixel: float
    nrows: int
    ncols: int
    pixel_unit: IntArray  # one per pixel, row-major; −1 where no unit is

    def pixel_of(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Row-major pixel index of each point; −1 outside the raster."""
        col = np.floor((x - self.x0) / self.pixel).astype(np.int64)
        row = np.floor((y - self.y0) / self.pixel).astype(np.int64)
        inside = (col >= 0) & (col < self.ncols) & (row >= 0) & (row < self.nrows)
        return np.where(inside, row * self.ncols + col, -1)


@dataclass(frozen=True)
class UnitSpace:
    """The units a forecast scores: their areas and the raster that densities are summed on."""

    area_km2: FloatArray
    raster: Raster

    @property
    def n(self) -> int:
        return int(self.area_km2.shape[0])


@dataclass(frozen=True)
class Events:
    """Points sorted by time: x, y in metres, t in days (local calendar), unit index (−1: in none)."""

    x: FloatArray
    y: FloatArray
    t: FloatArray
    unit: IntArray

    @staticmethod
    def of(x: npt.ArrayLike, y: npt.ArrayLike, t: npt.ArrayLike, unit: npt.ArrayLike) -> Events:
        tt = np.asarray(t, dtype=np.float64)
        order = np.argsort(tt, kind="stable")
        return Events(
            np.asarray(x, dtype=np.float64)[order],
            np.asarray(y, dtype=np.float64)[order],
            tt[order],
            np.asarray(unit, dtype=np.int64)[order],
        )

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def between(self, start: float, end: float) -> Events:
        """The events with start ≤ t < end (a view)."""
        lo, hi = np.searchsorted(self.t, [start, end], side="left")
        return Events(self.x[lo:hi], self.y[lo:hi], self.t[lo:hi], self.unit[lo:hi])

    def span(self) -> tuple[float, float] | None:
        return (float(self.t[0]), float(self.t[-1])) if len(self) else None


@dataclass(frozen=True)
class Options:
    lookback_days: float = 365.0
    bandwidth_m: float = 300.0
    half_life_days: float | None = None  # kde time weighting: an event `half_life` old counts half
    near_repeat_m: float = 400.0
    near_repeat_days: float = 56.0
    max_iterations: int = 200
    tolerance: float = 1e-6


@dataclass
class Forecast:
    method: str
    expected: FloatArray  # per unit: expected events in the period
    area_km2: FloatArray
    training_events: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def density(self) -> FloatArray:
        """Expected events per km² (the ranking key: units of unequal area are compared fairly)."""
        result: FloatArray = self.expected / np.where(self.area_km2 > 0, self.area_km2, np.inf)
        return result

    def order(self) -> IntArray:
        """Units from the hottest down; ties keep the units' order."""
        order: IntArray = np.lexsort((np.arange(self.expected.shape[0]), -self.density))
        return order


def forecast(
    method: str,
    events: Events,
    space: UnitSpace,
    cutoff: float,
    horizon_days: float,
    options: Options | None = None,
) -> Forecast:
    """Expected events per unit in `[cutoff, cutoff + horizon_days)` from the look-back window before it."""
    options = options or Options()
    if method not in METHODS:
        raise ValueError(f"unknown forecast method {method!r}; use one of {', '.join(METHODS)}")
    window = events.between(cutoff - options.lookback_days, cutoff)
    if method == "counts":
        result = _counts(window, space, options.lookback_days, horizon_days)
    elif method == "kde":
        result = _kde(window, space, cutoff, options, horizon_days)
    elif method == "near_repeat":
        result = _near_repeat(window, space, cutoff, options, horizon_days)
    else:
        result = _self_exciting(window, space, cutoff, options, horizon_days)
    result.training_events = int(np.count_nonzero((window.unit >= 0) & (window.unit < space.n)))
    return result


def _inside(events: Events, n: int) -> Events:
    keep = (events.unit >= 0) & (events.unit < n)
    return Events(events.x[keep], events.y[keep], events.t[keep], events.unit[keep])


def _counts(window: Events, space: UnitSpace, lookback: float, horizon: float) -> Forecast:
    inside = _inside(window, space.n)
    counts = np.bincount(inside.unit, minlength=space.n).astype(np.float64)
    return Forecast(
        "counts", counts * horizon / lookback, space.area_km2, len(inside), {"lookback_days": float(lookback)}
    )


def _spread(
    method: str, density: FloatArray, window: Events, space: UnitSpace, rate_days: float, horizon: float
) -> Forecast:
    """Share the expected total of the period out over the units in proportion to a raster density."""
    raster = space.raster
    inside = raster.pixel_unit >= 0
    per_unit = np.bincount(raster.pixel_unit[inside], weights=density.ravel()[inside], minlength=space.n)
    total = float(per_unit.sum())
    events_in_units = int(np.count_nonzero((window.unit >= 0) & (window.unit < space.n)))
    expected_total = events_in_units * horizon / rate_days if rate_days > 0 else 0.0
    expected = np.asarray(per_unit * (expected_total / total) if total > 0 else np.zeros(space.n), dtype=np.float64)
    return Forecast(method, expected, space.area_km2, events_in_units)


def _binned(window: Events, raster: Raster, weights: FloatArray | None = None) -> FloatArray:
    pixel = raster.pixel_of(window.x, window.y)
    ok = pixel >= 0
    grid = np.bincount(
        pixel[ok], weights=None if weights is None else weights[ok], minlength=raster.nrows * raster.ncols
    )
    return grid.astype(np.float64).reshape(raster.nrows, raster.ncols)


def _kde(window: Events, space: UnitSpace, cutoff: float, options: Options, horizon: float) -> Forecast:
    weights = None
    if options.half_life_days:
        weights = np.power(0.5, (cutoff - window.t) / options.half_life_days)
    grid = _binned(window, space.raster, weights)
    sigma = options.bandwidth_m / space.raster.pixel
    density = ndimage.gaussian_filter(grid, sigma=sigma, mode="constant", truncate=4.0)
    result = _spread("kde", density, window, space, options.lookback_days, horizon)
    result.params = {"bandwidth_m": options.bandwidth_m, "half_life_days": options.half_life_days}
    return result


def near_repeat_kernel(radius_m: float, pixel: float) -> FloatArray:
    """1/(1 + d/100 m) within `radius_m` of the centre pixel, on pixels of `pixel` metres."""
    reach = math.floor(radius_m / pixel)
    offsets = np.arange(-reach, reach + 1) * pixel
    distance = np.hypot(offsets[:, None], offsets[None, :])
    kernel: FloatArray = np.where(distance <= radius_m + 1e-9, 1.0 / (1.0 + distance / 100.0), 0.0)
    return kernel


def _near_repeat(window: Events, space: UnitSpace, cutoff: float, options: Options, horizon: float) -> Forecast:
    recent = window.between(cutoff - options.near_repeat_days, cutoff)
    weeks_ago = np.floor((cutoff - recent.t) / 7.0)
    grid = _binned(recent, space.raster, 1.0 / (1.0 + weeks_ago))
    kernel = near_repeat_kernel(options.near_repeat_m, space.raster.pixel)
    density = ndimage.convolve(grid, kernel, mode="constant")
    result = _spread("near_repeat", density, recent, space, options.near_repeat_days, horizon)
    result.params = {"radius_m": options.near_repeat_m, "days": options.near_repeat_days, "recent_events": len(recent)}
    return result


# --- the self-exciting model --------------------------------------------------------------------------------


@dataclass
class SelfExcitingFit:
    mu: FloatArray  # background events per day, per unit
    theta: float  # expected offspring per event
    omega: float  # decay per day (mean delay 1/ω days)
    iterations: int
    log_likelihood: float
    converged: bool


class _Layout:
    """The events of each unit in time order, stored rank-major: all first events of the units (units with
    the most events first), then all second events, … . The recursions over each unit's past events then
    run as one vector step per rank, for every unit at once: rank k's slice lines up with the first
    `len(slice k)` entries of rank k−1's slice (the same units, in the same order)."""

    def __init__(self, t: FloatArray, unit: IntArray, n_units: int) -> None:
        by_unit = np.lexsort((t, unit))
        u, tt = unit[by_unit], t[by_unit]
        counts = np.bincount(u, minlength=n_units)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        rank = np.arange(u.shape[0]) - starts[u]
        gap = np.empty_like(tt)
        if tt.size:
            gap[0] = np.inf
            gap[1:] = np.diff(tt)
            gap[rank == 0] = np.inf
        unit_position = np.empty(n_units, dtype=np.int64)
        unit_position[np.argsort(-counts, kind="stable")] = np.arange(n_units)
        order = np.lexsort((unit_position[u], rank))
        self.t = tt[order]
        self.unit = u[order]
        self.gap = gap[order]
        sizes = np.bincount(rank, minlength=1) if rank.size else np.zeros(1, dtype=np.int64)
        self.offsets = np.concatenate(([0], np.cumsum(sizes)))
        self.counts = counts

    def sums(self, omega: float) -> tuple[FloatArray, FloatArray]:
        """A_i = Σ_{j<i} e^{−ω(t_i−t_j)} and B_i = Σ_{j<i} (t_i−t_j)·e^{−ω(t_i−t_j)} over the same unit."""
        decay = np.exp(-omega * self.gap)
        a = np.zeros_like(self.t)
        b = np.zeros_like(self.t)
        off = self.offsets
        lag = np.where(np.isfinite(self.gap), self.gap, 0.0)
        for k in range(1, off.shape[0] - 1):
            here = slice(off[k], off[k + 1])
            size = off[k + 1] - off[k]
            prev_a = a[off[k - 1] : off[k - 1] + size]
            prev_b = b[off[k - 1] : off[k - 1] + size]
            d = decay[here]
            a[here] = d * (1.0 + prev_a)
            b[here] = d * (prev_b + lag[here] * (1.0 + prev_a))
        return a, b


def fit_self_exciting(
    t: FloatArray,
    unit: IntArray,
    n_units: int,
    start: float,
    end: float,
    *,
    max_iterations: int = 200,
    tolerance: float = 1e-6,
    theta0: float = 0.5,
    omega0: float = 0.2,
) -> SelfExcitingFit:
    """EM for λ_n(t) = μ_n + Σ_{t_i<t, i in n} θ·ω·e^{−ω(t−t_i)} on events observed in [start, end)."""
    width = end - start
    layout = _Layout(np.asarray(t, dtype=np.float64), np.asarray(unit, dtype=np.int64), n_units)
    total = layout.t.shape[0]
    if total == 0 or width <= 0:
        return SelfExcitingFit(np.zeros(n_units), 0.0, omega0, 0, 0.0, True)
    mu = layout.counts / width * 0.5
    theta, omega = theta0, omega0
    previous = -np.inf
    log_likelihood = -np.inf
    converged = False
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 - the count is reported
        a, b = layout.sums(omega)
        background = mu[layout.unit]
        excitation = theta * omega * a
        rate = background + excitation
        rate = np.where(rate > 0, rate, 1e-300)
        remaining = 1.0 - np.exp(-omega * (end - layout.t))
        log_likelihood = float(np.sum(np.log(rate)) - mu.sum() * width - theta * remaining.sum())
        triggered = excitation / rate
        lagged = theta * omega * b / rate
        mu = np.bincount(layout.unit, weights=background / rate, minlength=n_units) / width
        offspring = float(triggered.sum())
        theta = min(max(offspring / max(float(remaining.sum()), 1e-12), 1e-9), 0.99)
        lag_sum = float(lagged.sum())
        if offspring > 1e-9 and lag_sum > 0:
            omega = min(max(offspring / lag_sum, 1e-3), 1e3)
        if abs(log_likelihood - previous) <= tolerance * max(1.0, abs(log_likelihood)):
            converged = True
            break
        previous = log_likelihood
    return SelfExcitingFit(mu, theta, omega, iterations, log_likelihood, converged)


def self_exciting_expected(
    fit: SelfExcitingFit, t: FloatArray, unit: IntArray, cutoff: float, horizon: float
) -> FloatArray:
    """Expected events per unit in [cutoff, cutoff + horizon), offspring of the period's own events included.

    The mean rate m(t) of a unit obeys dm/dt = ω(μ − (1−θ)m) from m(cutoff) = μ + θω Σ e^{−ω(cutoff−t_j)};
    its integral over the period is the expected count.
    """
    n = fit.mu.shape[0]
    theta, omega = fit.theta, fit.omega
    excitation = np.bincount(unit, weights=np.exp(-omega * (cutoff - t)), minlength=n) if t.size else np.zeros(n)
    start_rate = fit.mu + theta * omega * excitation
    if theta <= 0:
        return fit.mu * horizon
    settled = fit.mu / (1.0 - theta)
    speed = omega * (1.0 - theta)
    result: FloatArray = settled * horizon + (start_rate - settled) * (-np.expm1(-speed * horizon)) / speed
    return result


def _self_exciting(window: Events, space: UnitSpace, cutoff: float, options: Options, horizon: float) -> Forecast:
    inside = _inside(window, space.n)
    start = cutoff - options.lookback_days
    fit = fit_self_exciting(
        inside.t,
        inside.unit,
        space.n,
        start,
        cutoff,
        max_iterations=options.max_iterations,
        tolerance=options.tolerance,
    )
    expected = self_exciting_expected(fit, inside.t, inside.unit, cutoff, horizon)
    params = {
        "theta": round(fit.theta, 6),
        "omega_per_day": round(fit.omega, 6),
        "mean_delay_days": round(1.0 / fit.omega, 3) if fit.omega > 0 else None,
        "iterations": fit.iterations,
        "converged": fit.converged,
    }
    return Forecast("self_exciting", expected, space.area_km2, len(inside), params)
