"""Exponential smoothing state-space models (ETS): damped Holt, Holt-Winters additive and multiplicative, and
automatic ETS selected by AICc.

Estimation wraps statsforecast's AutoETS (the R forecast package's ets, compiled); statsmodels' ETSModel is the
reference it is checked against. Missing days are imputed first (see common.impute_missing) because the
likelihood needs a complete series.

Laws:
- error, trend and season all additive (or absent): GaussianLaw with the ETS MA weights
  psi_j = alpha + beta * (phi + ... + phi^j) + gamma * [j % m == 0] (Hyndman et al. 2008, class 1).
- anything multiplicative: PathLaw, paths simulated from the fitted state-space equations, starting from the
  final fitted state. Additive errors are N(0, sigma^2). A multiplicative error e is relative, and the
  Gaussian one of the likelihood goes below -1 (negative demand) with probability Phi(-1 / sigma); clipping
  such values at 0 raises every step's mean factor E[1 + e] above 1 (to 1.76 at sigma = 3), which the level
  and seasonal states then compound over the horizon. Paths therefore draw 1 + e lognormal with mean 1 and
  variance sigma^2, the fitted error's first two moments on a positive law (the non-negative ETS of Akram,
  Hyndman and Ord 2009).

A multiplicative component is a ratio to the level, so it only means something while the level, the one-step
base, a multiplicative slope and the multiplicative seasonal indices stay positive. The estimator does not
enforce that: on sparse series (shifted by the offset) the additive slope drags the fitted level below 0 and the
seasonal update y / base then turns the indices negative; simulated from such a state, the relative errors
compound without bound (quantiles of 1e100 and more). Such a fit is refused (multiplicative_degeneracy): the
automatic model falls back to the additive ETS candidates, a fixed multiplicative form to the recorded seasonal
naive fallback.

Applied to a longer series (apply), the model keeps its components, smoothing weights, initial states and
sigma^2 and re-runs the state equations over the series (statsforecast's forward_ets, the R package's
ets(y, model=fit)).
"""

from __future__ import annotations

import copy
import math

import numpy as np
from statsforecast.ets import forward_ets
from statsforecast.models import AutoETS

from forecasting.engine.models.common import StatisticalModel, impute_missing
from forecasting.engine.models.laws import MIN_QUANTILE_SAMPLE, GaussianLaw, Law, PathLaw, series_rng

# Keeps multiplicative states away from 0 in simulation, where a component would flip the sign of later steps.
POSITIVE_FLOOR = 1e-9


def ets_parameters(fitted: dict) -> dict[str, float]:
    alpha, beta, gamma, phi = (float(value) for value in fitted["par"][:4])
    damped = fitted["components"][3] not in ("N", False)
    return {
        "alpha": alpha,
        "beta": 0.0 if math.isnan(beta) else beta,
        "gamma": 0.0 if math.isnan(gamma) else gamma,
        "phi": phi if damped and not math.isnan(phi) else 1.0,
    }


def additive_psi(parameters: dict[str, float], season_length: int, trend: str, season: str, h: int) -> np.ndarray:
    lags = np.arange(1, h)
    psi = np.full(h, parameters["alpha"])
    if trend != "N":
        psi[1:] += parameters["beta"] * np.cumsum(parameters["phi"] ** lags)
    if season != "N":
        psi[1:] += parameters["gamma"] * (lags % season_length == 0)
    psi[0] = 1.0
    return psi


def multiplicative_degeneracy(fitted: dict) -> str | None:
    """Why a fitted ETS model with a multiplicative component is not a valid multiplicative model, or None.

    Every fitted state (initial and after each observation) must have a positive level and one-step base
    (level + phi * slope for an additive trend), a positive multiplicative slope and positive multiplicative
    seasonal indices.
    """
    error, trend, season = fitted["components"][:3]
    if "M" not in (error, trend, season):
        return None
    states = np.asarray(fitted["states"], dtype=np.float64)
    level = states[:, 0]
    if not np.all(np.isfinite(states)):
        return "non-finite fitted state"
    if np.min(level) <= 0:
        return f"fitted level reaches {np.min(level):.3g}"
    if trend == "A":
        base = level + ets_parameters(fitted)["phi"] * states[:, 1]
        if np.min(base) <= 0:
            return f"fitted one-step base reaches {np.min(base):.3g}"
    if trend == "M" and np.min(states[:, 1]) <= 0:
        return f"fitted multiplicative slope reaches {np.min(states[:, 1]):.3g}"
    if season == "M":
        seasonal_offset = 2 if trend != "N" else 1
        indices = states[:, seasonal_offset : seasonal_offset + int(fitted["m"])]
        if np.min(indices) <= 0:
            return f"fitted seasonal index reaches {np.min(indices):.3g}"
    return None


def additive_spec(spec: str) -> str | None:
    """The spec restricted to additive errors (statsforecast then allows no multiplicative trend or season), or
    None when the spec fixes a multiplicative component."""
    if "M" in spec:
        return None
    return "A" + spec[1:]


def lognormal_innovations(normals: np.ndarray, sigma: float) -> np.ndarray:
    """Innovations z with 1 + sigma * z lognormal of mean 1 and variance sigma^2, from standard normals."""
    if sigma == 0:
        return normals
    scale = math.sqrt(math.log1p(sigma**2))
    return np.expm1(scale * normals - scale**2 / 2) / sigma


def simulate_ets(fitted: dict, normals: np.ndarray) -> np.ndarray:
    """(s, h) paths of a fitted statsforecast ETS model driven by standard normals (s, h).

    State layout and update equations follow the R forecast package (etscalc.c): state = (level, slope,
    s_1..s_m) with s_1 the newest seasonal state; the next step uses s_m. In models with a multiplicative
    component the one-step base (level and trend) is kept positive and states are updated from the value
    clipped at 0, as demand cannot be negative.
    """
    error, trend, season = fitted["components"][:3]
    parameters = ets_parameters(fitted)
    alpha, beta, gamma, phi = (parameters[key] for key in ("alpha", "beta", "gamma", "phi"))
    sigma = math.sqrt(float(fitted["sigma2"]))
    season_length = int(fitted["m"])
    state = np.asarray(fitted["states"][-1], dtype=np.float64)
    count, h = normals.shape
    multiplicative = "M" in (error, trend, season)
    level = np.full(count, state[0])
    slope = np.full(count, state[1] if trend != "N" else 0.0)
    seasonal_offset = 2 if trend != "N" else 1
    seasonal = np.tile(state[seasonal_offset : seasonal_offset + season_length], (count, 1)) if season != "N" else None
    paths = np.empty((count, h))
    for step in range(h):
        if trend == "N":
            damped_slope = np.zeros(count)
            base = level
        elif trend == "A":
            damped_slope = phi * slope
            base = level + damped_slope
        else:
            damped_slope = np.power(np.maximum(slope, POSITIVE_FLOOR), phi)
            base = level * damped_slope
        if multiplicative:
            base = np.maximum(base, POSITIVE_FLOOR)
        oldest_season = seasonal[:, -1] if seasonal is not None else None
        if season == "A":
            point = base + oldest_season
        elif season == "M":
            point = base * oldest_season
        else:
            point = base
        value = point + sigma * normals[:, step] if error == "A" else point * (1.0 + sigma * normals[:, step])
        paths[:, step] = value
        if multiplicative:
            # Demand is never negative: the states of a multiplicative model evolve from the clipped value,
            # which keeps every ratio below finite.
            value = np.maximum(value, 0.0)
        if season == "A":
            deseasonalised = value - oldest_season
        elif season == "M":
            deseasonalised = value / np.maximum(oldest_season, POSITIVE_FLOOR)
        else:
            deseasonalised = value
        new_level = base + alpha * (deseasonalised - base)
        if multiplicative:
            new_level = np.maximum(new_level, POSITIVE_FLOOR)
        if trend == "A":
            slope = damped_slope + (beta / alpha) * (new_level - level - damped_slope)
        elif trend == "M":
            slope = damped_slope + (beta / alpha) * (new_level / level - damped_slope)
        if seasonal is not None:
            target = value - base if season == "A" else value / np.maximum(base, POSITIVE_FLOOR)
            newest = oldest_season + gamma * (target - oldest_season)
            seasonal = np.concatenate([newest[:, None], seasonal[:, :-1]], axis=1)
        level = new_level
    return paths


class AutoEts(StatisticalModel):
    """ETS chosen by AICc among the statsforecast candidates allowed by `spec` (Z = automatic component).

    spec is the statsforecast model string: error, trend, season (e.g. "ZZZ", "AAN", "MAM"); damped: True,
    False or None (both tried). offset_nonpositive adds 1 to a series with zeros before fitting a model with a
    multiplicative component (and removes it from the forecast), recorded in info["offset"]. A fit whose
    multiplicative states are degenerate is replaced by the spec's additive-error fit, with the rejected model
    and the reason in info["rejected"]; a spec with no additive alternative falls back.
    """

    name = "ets"
    min_observations = 3
    spec = "ZZZ"
    damped: bool | None = None
    offset_nonpositive = False

    def __init__(
        self,
        *,
        spec: str | None = None,
        damped: bool | None = None,
        season_length: int = 7,
        n_paths: int = 200,
        seed: int = 0,
    ) -> None:
        super().__init__(season_length=season_length, n_paths=n_paths, seed=seed)
        self.spec = spec or type(self).spec
        self.damped = damped if damped is not None else type(self).damped

    def _fit(self, y: np.ndarray, X: np.ndarray | None) -> None:
        values = impute_missing(y, self.season_length)
        # A constant series has no likelihood to maximise: its ETS forecast is the constant, with no spread.
        self.constant_ = float(values[0]) if np.ptp(values) == 0 else None
        self.rejected_ = None
        if self.constant_ is not None:
            return
        self.offset_ = 1.0 if self.offset_nonpositive and values.min() <= 0 else 0.0
        self._estimate(values, self.spec)
        degeneracy = multiplicative_degeneracy(self.fitted_)
        if degeneracy is None:
            return
        rejected = f"{self.fitted_['method']}: {degeneracy}"
        fallback_spec = additive_spec(self.spec)
        if fallback_spec is None:
            raise ValueError(f"degenerate multiplicative fit, {rejected}")
        # the offset exists for multiplicative components only
        self.offset_ = 0.0
        self._estimate(values, fallback_spec)
        self.rejected_ = rejected

    def _estimate(self, values: np.ndarray, spec: str) -> None:
        estimator = AutoETS(season_length=self.season_length, model=spec, damped=self.damped)
        self.estimator_ = estimator.fit(values + self.offset_)
        self.fitted_ = self.estimator_.model_

    def _apply(self, y: np.ndarray, X: np.ndarray | None) -> None:
        if self.constant_ is not None:
            # a constant series gave no parameters to keep
            self._fit(y, X)
            return
        values = impute_missing(y, self.season_length)
        forwarded = forward_ets(self.fitted_, values + self.offset_)
        self.fitted_ = {**self.fitted_, **forwarded, "sigma2": self.fitted_["sigma2"]}
        degeneracy = multiplicative_degeneracy(self.fitted_)
        if degeneracy is not None:
            raise ValueError(f"degenerate multiplicative state, {self.fitted_['method']}: {degeneracy}")
        self.estimator_ = copy.copy(self.estimator_)
        self.estimator_.model_ = self.fitted_

    def _law(self, h: int, X_future: np.ndarray | None) -> Law:
        if self.constant_ is not None:
            return GaussianLaw(
                mean=np.full((1, h), self.constant_),
                sigma=np.zeros(1),
                psi=np.ones((1, h)),
                info=[{"method": "constant", "level": self.constant_}],
            )
        fitted = self.fitted_
        mean = np.asarray(self.estimator_.predict(h)["mean"], dtype=np.float64) - self.offset_
        error, trend, season = fitted["components"][:3]
        info = {
            "method": fitted["method"],
            "aicc": float(fitted["aicc"]),
            **ets_parameters(fitted),
            "season_length": int(fitted["m"]),
        }
        if self.offset_:
            info["offset"] = self.offset_
        if self.rejected_ is not None:
            info["rejected"] = self.rejected_
        if "M" not in (error, trend, season):
            psi = additive_psi(ets_parameters(fitted), int(fitted["m"]), trend, season, h)
            sigma = math.sqrt(float(fitted["sigma2"]))
            return GaussianLaw(mean=mean[None, :], sigma=np.array([sigma]), psi=psi[None, :], info=[info])
        rng = series_rng(self.seed, self.y_)
        normals = rng.standard_normal((max(self.n_paths, MIN_QUANTILE_SAMPLE), h))
        if error == "M":
            normals = lognormal_innovations(normals, math.sqrt(float(fitted["sigma2"])))
        paths = simulate_ets(fitted, normals) - self.offset_
        return PathLaw(mean=mean[None, :], paths=paths[None, :, :], info=[info])


class DampedHolt(AutoEts):
    """Holt's linear trend with damping: ETS(A,Ad,N)."""

    name = "holt"
    spec = "AAN"
    damped = True


class HoltWintersAdditive(AutoEts):
    """Holt-Winters with additive season: ETS(A,A,A)."""

    name = "holt_winters_add"
    spec = "AAA"
    damped = False


class HoltWintersMultiplicative(AutoEts):
    """Holt-Winters with multiplicative season: ETS(M,A,M); series with zeros are shifted by 1 unit first."""

    name = "holt_winters_mul"
    spec = "MAM"
    damped = False
    offset_nonpositive = True
