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
    # A fit of the same units to start EM from (the previous period's in a back-test): a few iterations then.
    warm_start: SelfExcitingFit | None = None


@dataclass
class Forecast:
    method: str
    expected: FloatArray  # per unit: expected events in the period
    area_km2: FloatArray
    training_events: int
    params: dict[str, Any] = field(default_factory=dict)
    fit: SelfExcitingFit | None = None  # the self-exciting model's fit

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
        weights = decay_of((cutoff - window.t) * (math.log(2) / options.half_life_days))
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


# e^{−40} ≈ 4·10⁻¹⁸: decays below it are taken as 0, which keeps subnormal numbers (whose arithmetic is
# a hundred times slower on common CPUs) out of the sums without changing them.
DECAY_CUT = 40.0
NEGLIGIBLE = math.exp(-DECAY_CUT)


def decay_of(x: FloatArray) -> FloatArray:
    """e^{−x} for x ≥ 0, exactly 0 beyond DECAY_CUT."""
    result: FloatArray = np.where(x < DECAY_CUT, np.exp(-np.minimum(x, DECAY_CUT)), 0.0)
    return result


class _Layout:
    """The events sorted by unit, then time, for the sums over each unit's earlier events.

    With d_i = e^{−ω(t_i − t_{i−1})} (0 at a unit's first event) the sums follow affine recursions,
    A_i = d_i·A_{i−1} + d_i and B_i = d_i·B_{i−1} + d_i·Δ_i·(1 + A_{i−1}). Their prefix compositions are
    computed by doubling (Hillis–Steele): ⌈log₂ of the most events in one unit⌉ steps of whole-array
    operations, for every unit at once — a zero d at each unit's start keeps the units apart.
    """

    def __init__(self, t: FloatArray, unit: IntArray, n_units: int) -> None:
        order = np.lexsort((t, unit))
        self.t = t[order]
        self.unit = unit[order]
        self.counts = np.bincount(self.unit, minlength=n_units)
        self.gap = np.full(self.t.shape, np.inf)
        if self.t.size:
            same = self.unit[1:] == self.unit[:-1]
            self.gap[1:][same] = np.diff(self.t)[same]
        self.lag = np.where(np.isfinite(self.gap), self.gap, 0.0)
        longest = int(self.counts.max()) if self.counts.size else 0
        self.steps = max(0, math.ceil(math.log2(longest))) if longest > 1 else 0

    def _scan(self, a: FloatArray, b: FloatArray) -> FloatArray:
        """x_i = a_i·x_{i−1} + b_i from x = 0 before each unit (a_i = 0 at its first event)."""
        a, b = a.copy(), b.copy()
        for step in range(self.steps):
            h = 1 << step
            if h >= a.shape[0]:
                break
            b[h:] += a[h:] * b[:-h]
            a[h:] *= a[:-h]
            if step % 4 == 3:
                # Four doublings multiply at most 16 decays ≥ e^{−40}: still far above the subnormal range
                # (below 10⁻³⁰⁸, where arithmetic is a hundred times slower); flush the negligible ones.
                np.putmask(a, a < NEGLIGIBLE, 0.0)
                if not a.any():
                    break
        return b

    def sums(self, omega: float) -> tuple[FloatArray, FloatArray]:
        """A_i = Σ_{j<i} e^{−ω(t_i−t_j)} and B_i = Σ_{j<i} (t_i−t_j)·e^{−ω(t_i−t_j)} over the same unit."""
        decay = decay_of(omega * self.gap)
        a = self._scan(decay, decay)
        before = np.empty_like(a)
        if a.size:
            before[0] = 0.0
            before[1:] = a[:-1]
        b = self._scan(decay, decay * self.lag * (1.0 + before))
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
    mu0: FloatArray | None = None,
) -> SelfExcitingFit:
    """EM for λ_n(t) = μ_n + Σ_{t_i<t, i in n} θ·ω·e^{−ω(t−t_i)} on events observed in [start, end),
    accelerated by SQUAREM (Varadhan and Roland 2008): two EM steps give the direction of travel, a step
    along it is taken as far as it raises the likelihood (else the plain EM steps are kept), in log μ,
    logit θ and log ω so that it stays in bounds. `iterations` counts EM steps (E-steps)."""
    width = end - start
    layout = _Layout(np.asarray(t, dtype=np.float64), np.asarray(unit, dtype=np.int64), n_units)
    total = layout.t.shape[0]
    if total == 0 or width <= 0:
        return SelfExcitingFit(np.zeros(n_units), 0.0, omega0, 0, 0.0, True)
    active = layout.counts > 0  # units without incidents keep μ = 0
    mu = layout.counts / width * 0.5 if mu0 is None or mu0.shape[0] != n_units else np.maximum(mu0, 0.0)
    mu = np.where(active, np.maximum(mu, 1e-9), 0.0)
    tau = end - layout.t

    def step(point: FloatArray) -> tuple[FloatArray, float]:
        m, th, om = _unpack(point, active)
        result, log_likelihood = _em_step(layout, m, th, om, width, tau)
        return _pack(*result, active), log_likelihood

    point = _pack(mu, min(max(theta0, 1e-6), THETA_MAX * 0.999), omega0, active)
    previous = -np.inf
    log_likelihood = -np.inf
    converged = False
    iterations = 0
    while iterations < max_iterations:
        first, log_likelihood = step(point)
        iterations += 1
        if abs(log_likelihood - previous) <= tolerance * max(1.0, abs(log_likelihood)):
            point, converged = first, True
            break
        previous = log_likelihood
        second, first_likelihood = step(first)
        iterations += 1
        r = first - point
        v = second - first - r
        v_norm = float(np.linalg.norm(v))
        alpha = min(-float(np.linalg.norm(r)) / v_norm, -1.0) if v_norm > 0 else -1.0
        jump = point - 2 * alpha * r + alpha * alpha * v
        landed, jump_likelihood = step(jump)
        iterations += 1
        # Keep the jump (one EM step past it) only if it is at least as likely as the plain EM steps.
        point = landed if np.isfinite(jump_likelihood) and jump_likelihood >= first_likelihood else second
    mu, theta, omega = _unpack(point, active)
    return SelfExcitingFit(mu, theta, omega, iterations, log_likelihood, converged)


def _pack(mu: FloatArray, theta: float, omega: float, active: npt.NDArray[np.bool_]) -> FloatArray:
    theta = min(max(theta, 1e-9), THETA_MAX * (1 - 1e-9)) / THETA_MAX
    return np.concatenate([np.log(np.maximum(mu[active], 1e-300)), [math.log(theta / (1 - theta)), math.log(omega)]])


def _unpack(point: FloatArray, active: npt.NDArray[np.bool_]) -> tuple[FloatArray, float, float]:
    mu = np.zeros(active.shape[0])
    mu[active] = np.exp(np.clip(point[:-2], -700, 50))
    theta = THETA_MAX / (1 + math.exp(-min(max(float(point[-2]), -700), 700)))
    omega = min(max(math.exp(min(max(float(point[-1]), -50), 50)), OMEGA_BOUNDS[0]), OMEGA_BOUNDS[1])
    return mu, theta, omega


def _em_step(
    layout: _Layout, mu: FloatArray, theta: float, omega: float, width: float, tau: FloatArray
) -> tuple[tuple[FloatArray, float, float], float]:
    """One EM iteration: the new (μ, θ, ω) and the log-likelihood of the given ones."""
    a, b = layout.sums(omega)
    background = mu[layout.unit]
    excitation = theta * omega * a
    rate = background + excitation
    rate = np.where(rate > 0, rate, 1e-300)
    remaining = 1.0 - decay_of(omega * tau)
    log_likelihood = float(np.sum(np.log(rate)) - mu.sum() * width - theta * remaining.sum())
    triggered = excitation / rate
    lagged = theta * omega * b / rate
    new_mu = np.bincount(layout.unit, weights=background / rate, minlength=mu.shape[0]) / width
    new_theta, new_omega = _m_step(float(triggered.sum()), float(lagged.sum()), tau, omega)
    return (new_mu, new_theta, new_omega), log_likelihood


OMEGA_BOUNDS = (1e-3, 1e3)  # per day: a mean delay from 1.5 minutes to 3 years
THETA_MAX = 0.99  # below 1: the process must not explode


def _m_step(offspring: float, lag: float, remaining: FloatArray, omega: float) -> tuple[float, float]:
    """θ and ω maximising the expected complete-data log-likelihood, the window's end included:

        Q(θ, ω) = S·log θω − ω·L − θ·Σ_j (1 − e^{−ωτ_j}),  S = Σ p_ij, L = Σ p_ij (t_i − t_j), τ_j = end − t_j.

    ∂Q/∂θ = 0 gives θ = S / R(ω) with R(ω) = Σ (1 − e^{−ωτ_j}); putting it into ∂Q/∂ω = 0 leaves one
    equation g(ω) = S/ω − L − S·P(ω)/R(ω) = 0 with P(ω) = Σ τ_j e^{−ωτ_j}, which falls from positive to −L
    when it has a root. It is solved by Newton steps on log ω from the last ω (a few steps: ω moves little
    between EM iterations), kept inside a bracket that bisection narrows whenever a step leaves it.
    Without offspring θ is 0 and ω is kept.
    """
    if offspring <= 1e-12:
        return 0.0, omega

    def terms(w: float) -> tuple[float, float, float]:
        decay = decay_of(w * remaining)
        weighted = remaining * decay
        return float(np.sum(1.0 - decay)), float(weighted.sum()), float(np.sum(weighted * remaining))

    def g(w: float) -> tuple[float, float]:
        """g(ω) and dg/d(log ω)."""
        r, p, q = terms(w)
        r = max(r, 1e-300)
        value = offspring / w - lag - offspring * p / r
        slope = -offspring / w + w * offspring * (q * r + p * p) / (r * r)
        return value, slope

    low, high = math.log(OMEGA_BOUNDS[0]), math.log(OMEGA_BOUNDS[1])
    if g(OMEGA_BOUNDS[0])[0] <= 0:
        omega = OMEGA_BOUNDS[0]
    elif g(OMEGA_BOUNDS[1])[0] >= 0:
        omega = OMEGA_BOUNDS[1]
    else:
        x = min(max(math.log(omega), low), high)
        for _ in range(60):
            value, slope = g(math.exp(x))
            if value > 0:
                low = x
            else:
                high = x
            step = value / slope if slope < 0 else math.inf
            if abs(step) < 1e-10:
                break
            candidate = x - step
            x = candidate if low < candidate < high else (low + high) / 2
            if high - low < 1e-10:
                break
        omega = math.exp(x)
    r = float(np.sum(1.0 - decay_of(omega * remaining)))
    return min(offspring / max(r, 1e-300), THETA_MAX), omega


def self_exciting_expected(
    fit: SelfExcitingFit, t: FloatArray, unit: IntArray, cutoff: float, horizon: float
) -> FloatArray:
    """Expected events per unit in [cutoff, cutoff + horizon), offspring of the period's own events included.

    The mean rate m(t) of a unit obeys dm/dt = ω(μ − (1−θ)m) from m(cutoff) = μ + θω Σ e^{−ω(cutoff−t_j)};
    its integral over the period is the expected count.
    """
    n = fit.mu.shape[0]
    theta, omega = fit.theta, fit.omega
    excitation = np.bincount(unit, weights=decay_of(omega * (cutoff - t)), minlength=n) if t.size else np.zeros(n)
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
        **_warm(options.warm_start, space.n),
    )
    expected = self_exciting_expected(fit, inside.t, inside.unit, cutoff, horizon)
    params = {
        "theta": round(fit.theta, 6),
        "omega_per_day": round(fit.omega, 6),
        "mean_delay_days": round(1.0 / fit.omega, 3) if fit.omega > 0 else None,
        "iterations": fit.iterations,
        "converged": fit.converged,
    }
    return Forecast("self_exciting", expected, space.area_km2, len(inside), params, fit)


def _warm(fit: SelfExcitingFit | None, n: int) -> dict[str, Any]:
    if fit is None or fit.mu.shape[0] != n or fit.theta <= 0:
        return {}
    return {"theta0": fit.theta, "omega0": fit.omega, "mu0": fit.mu}
