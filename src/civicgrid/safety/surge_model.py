"""The seasonal count model of surge detection (DESIGN.md §8, REFERENCE.md §5): the expected city-wide
daily count of one kind of record, which `safety.surge` shares out over the areas and tests against.

The city's daily series is fitted with a GLM (statsmodels): log μ_d = β0 + weekday + season (annual Fourier
terms) + trend. Poisson, unless the series is over-dispersed (the Cameron–Trivedi test on the Poisson fit,
one-sided 1 %): then negative binomial with α by moments. Its prediction over the window is the city's
expected count s(d). Short or sparse series get fewer terms (at least 10 records per parameter), down to a
plain mean. The same moment estimate of α serves the detector's area counts (`sparse_moment_alpha`).

Days are numbered from 1970-01-01 (`day_number`), the numbering the weekday and season terms read.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import statsmodels.api as sm  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EPOCH = date(1970, 1, 1)  # a Thursday
DISPERSION_Z = 2.326  # one-sided 1 %: over-dispersion must be clear before the wider tail is used
RECORDS_PER_PARAMETER = 10
YEAR = 365.25


def day_number(day: date) -> int:
    return (day - EPOCH).days


def from_day_number(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


@dataclass(frozen=True)
class CityFit:
    """The city-wide seasonal model of one kind over one training window."""

    kind: str
    model: str  # poisson | negbin | mean
    alpha: float  # of the city series (0 for Poisson)
    dispersion: float  # Pearson χ²/df of the Poisson fit
    terms: tuple[str, ...]
    first_day: date  # of the training days actually used (a kind may start later than the window)
    fitted: FloatArray  # expected city count per training day
    predicted: FloatArray  # expected city count per window day
    factors: dict[str, float]  # weekday, season, trend: multiplicative, mean over the window's days


@dataclass(frozen=True)
class _Terms:
    weekday: bool
    harmonics: int
    trend: bool
    centre: float

    @property
    def size(self) -> int:
        return 1 + 6 * self.weekday + 2 * self.harmonics + int(self.trend)

    def names(self) -> tuple[str, ...]:
        names = ["intercept"]
        if self.weekday:
            names += [f"weekday{k}" for k in range(1, 7)]
        for k in range(1, self.harmonics + 1):
            names += [f"sin{k}", f"cos{k}"]
        if self.trend:
            names.append("trend")
        return tuple(names)

    def matrix(self, days: IntArray) -> FloatArray:
        columns: list[FloatArray] = [np.ones(len(days))]
        if self.weekday:
            weekday = (days + 3) % 7  # Monday = 0
            columns += [(weekday == k).astype(np.float64) for k in range(1, 7)]
        for k in range(1, self.harmonics + 1):
            angle = 2 * np.pi * k * days / YEAR
            columns += [np.sin(angle), np.cos(angle)]
        if self.trend:
            columns.append(((days - self.centre) / YEAR).astype(np.float64))
        return np.column_stack(columns)


def _choose_terms(days: IntArray, total: float) -> _Terms:
    """Weekday with two weeks, one annual harmonic with four months and two with ten, a trend with eight
    weeks; fewer where the series holds fewer than RECORDS_PER_PARAMETER records per parameter."""
    n = len(days)
    terms = _Terms(n >= 14, 2 if n >= 300 else 1 if n >= 120 else 0, n >= 56, float(days.mean()))
    while terms.size > 1 and total < RECORDS_PER_PARAMETER * terms.size:
        if terms.weekday:
            terms = _Terms(False, terms.harmonics, terms.trend, terms.centre)
        elif terms.harmonics:
            terms = _Terms(False, terms.harmonics - 1, terms.trend, terms.centre)
        else:
            terms = _Terms(False, 0, False, terms.centre)
    return terms


def moment_alpha(y: FloatArray, mu: FloatArray) -> tuple[float, float]:
    """α of Var = μ + αμ² by moments (the Cameron–Trivedi auxiliary regression) and its robust z."""
    mu2 = mu * mu
    denominator = float(mu2.sum())
    if denominator <= 0:
        return 0.0, 0.0
    excess = (y - mu) ** 2 - y
    alpha = float(excess.sum()) / denominator
    spread = math.sqrt(float(((excess - alpha * mu2) ** 2).sum())) / denominator
    return alpha, (alpha / spread if spread > 0 else 0.0)


def sparse_moment_alpha(
    area: IntArray, block: IntArray, y: FloatArray, share: FloatArray, city: FloatArray
) -> tuple[float, float]:
    """`moment_alpha` over every (area, block) cell with μ = share[area] × city[block], given only the
    cells with records (`area`, `block`, `y`): empty cells contribute μ² to the excess, in closed form."""
    sum_mu2 = float((share**2).sum() * (city**2).sum())
    if sum_mu2 <= 0:
        return 0.0, 0.0
    sum_mu4 = float((share**4).sum() * (city**4).sum())
    mu = share[area] * city[block]
    mu2 = mu * mu
    excess = (y - mu) ** 2 - y
    alpha = (sum_mu2 - float(mu2.sum()) + float(excess.sum())) / sum_mu2
    empty = max(sum_mu4 - float((mu2 * mu2).sum()), 0.0)
    residual = (1 - alpha) ** 2 * empty + float(((excess - alpha * mu2) ** 2).sum())
    spread = math.sqrt(residual) / sum_mu2
    return alpha, (alpha / spread if spread > 0 else 0.0)


def _mean_fit(kind: str, y: FloatArray, first: date, window: int, dispersion: float = 1.0) -> CityFit:
    level = float(y.mean())
    return CityFit(
        kind, "mean", 0.0, dispersion, ("intercept",), first, np.full(len(y), level), np.full(window, level), {}
    )


def _glm(y: FloatArray, x: FloatArray, family: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.GLM(y, x, family=family).fit()


def fit_city(kind: str, y: FloatArray, days: IntArray, window_days: IntArray) -> CityFit:
    """The seasonal GLM of one kind's city-wide daily counts `y` on `days` (day numbers), predicted over
    `window_days`; negative binomial when the Poisson fit leaves clear over-dispersion."""
    first = from_day_number(int(days[0]))
    terms = _choose_terms(days, float(y.sum()))
    if terms.size == 1:
        return _mean_fit(kind, y, first, len(window_days))
    x, x_window = terms.matrix(days), terms.matrix(window_days)
    try:
        fit = _glm(y, x, sm.families.Poisson())
        mu = np.asarray(fit.fittedvalues, dtype=np.float64)
        if not np.all(np.isfinite(mu)):
            raise ValueError("the Poisson fit did not converge")
        dispersion = float(fit.pearson_chi2 / max(fit.df_resid, 1.0))
        model, alpha = "poisson", 0.0
        estimate, z = moment_alpha(y, mu)
        if estimate > 0 and z > DISPERSION_Z:
            model, alpha = "negbin", estimate
            for _ in range(2):  # α and the means of the negative-binomial fit, twice is enough
                fit = _glm(y, x, sm.families.NegativeBinomial(alpha=alpha))
                mu = np.asarray(fit.fittedvalues, dtype=np.float64)
                alpha = max(moment_alpha(y, mu)[0], 1e-6)
        params = np.asarray(fit.params, dtype=np.float64)
    except (ValueError, np.linalg.LinAlgError, OverflowError):
        return _mean_fit(kind, y, first, len(window_days))
    if not np.all(np.isfinite(params)):
        return _mean_fit(kind, y, first, len(window_days))
    linear = x_window @ params
    # A trend is extrapolated a few days at most; still, never beyond three times the busiest fitted day.
    predicted = np.clip(np.exp(linear), 1e-9, 3 * float(mu.max()) + 1)
    return CityFit(
        kind, model, alpha, dispersion, terms.names(), first, mu, predicted, _factors(terms, params, x_window)
    )


def _factors(terms: _Terms, params: FloatArray, x_window: FloatArray) -> dict[str, float]:
    """The multiplicative effects of the window's weekday(s), season and trend (mean over its days)."""
    names = terms.names()
    parts: dict[str, tuple[str, ...]] = {"weekday": ("weekday",), "season": ("sin", "cos"), "trend": ("trend",)}
    factors: dict[str, float] = {}
    for part, prefix in parts.items():
        columns = [i for i, name in enumerate(names) if name.startswith(prefix)]
        if columns:
            factors[part] = round(float(np.exp(x_window[:, columns] @ params[columns]).mean()), 4)
    factors["base"] = round(float(np.exp(params[0])), 4)
    return factors
