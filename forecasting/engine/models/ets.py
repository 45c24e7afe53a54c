"""Exponential smoothing state-space models (ETS): damped Holt, Holt-Winters additive and multiplicative, and
automatic ETS selected by AICc.

Estimation wraps statsforecast's AutoETS (the R forecast package's ets, compiled); statsmodels' ETSModel is the
reference it is checked against. Missing days are imputed first (see common.impute_missing) because the
likelihood needs a complete series.

Laws:
- error, trend and season all additive (or absent): GaussianLaw with the ETS MA weights
  psi_j = alpha + beta * (phi + ... + phi^j) + gamma * [j % m == 0] (Hyndman et al. 2008, class 1).
- anything multiplicative: PathLaw, paths simulated from the fitted state-space equations (innovations
  N(0, sigma^2); relative for multiplicative errors), starting from the final fitted state.

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
    multiplicative component (and removes it from the forecast), recorded in info["offset"].
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
        if self.constant_ is not None:
            return
        self.offset_ = 1.0 if self.offset_nonpositive and values.min() <= 0 else 0.0
        estimator = AutoETS(season_length=self.season_length, model=self.spec, damped=self.damped)
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
        if "M" not in (error, trend, season):
            psi = additive_psi(ets_parameters(fitted), int(fitted["m"]), trend, season, h)
            sigma = math.sqrt(float(fitted["sigma2"]))
            return GaussianLaw(mean=mean[None, :], sigma=np.array([sigma]), psi=psi[None, :], info=[info])
        rng = series_rng(self.seed, self.y_)
        normals = rng.standard_normal((max(self.n_paths, MIN_QUANTILE_SAMPLE), h))
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
