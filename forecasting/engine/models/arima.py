"""ARIMA and seasonal ARIMA with automatic order selection (Hyndman-Khandakar stepwise search by AICc).

Estimation wraps statsforecast's AutoARIMA (the R forecast package's auto.arima, compiled); statsmodels'
SARIMAX is the reference it is checked against. Both accept exogenous regressors (regression with (S)ARIMA
errors, i.e. SARIMAX): X at fit, X_future (h rows) at predict. Missing days are imputed first (see
common.impute_missing).

Law: GaussianLaw with the model's MA(inf) weights psi (AR, seasonal AR and differencing polynomials multiplied
together, divided into the MA polynomial), sigma^2 the innovation variance; identical to the Kalman forecast
variance of the fitted model.

Applied to a longer series (apply), the model keeps its orders, coefficients and sigma^2 and runs the Kalman
filter over the series (statsforecast's forward_arima, the R package's Arima(y, model=fit)).
"""

from __future__ import annotations

import copy
import math

import numpy as np
from statsforecast.arima import forward_arima
from statsforecast.models import AutoARIMA

from forecasting.engine.models.common import StatisticalModel, impute_missing
from forecasting.engine.models.laws import GaussianLaw


def arima_psi(ar: np.ndarray, ma: np.ndarray, differencing: np.ndarray, h: int) -> np.ndarray:
    """psi_0..psi_{h-1} of (1 - sum ar_i B^i)(1 - sum delta_i B^i) y = (1 + sum ma_i B^i) e."""
    ar_polynomial = np.polymul(
        np.concatenate([[1.0], -np.asarray(ar, dtype=np.float64)])[::-1],
        np.concatenate([[1.0], -np.asarray(differencing, dtype=np.float64)])[::-1],
    )[::-1]
    combined_ar = -ar_polynomial[1:]
    ma = np.asarray(ma, dtype=np.float64)
    psi = np.zeros(h)
    psi[0] = 1.0
    for lag in range(1, h):
        value = ma[lag - 1] if lag - 1 < ma.size else 0.0
        reach = min(lag, combined_ar.size)
        value += float(np.dot(combined_ar[:reach], psi[lag - 1 :: -1][:reach]))
        psi[lag] = value
    return psi


class AutoArima(StatisticalModel):
    """Non-seasonal ARIMA(p, d, q), orders chosen automatically."""

    name = "arima"
    min_observations = 3
    seasonal = False

    def _fit(self, y: np.ndarray, X: np.ndarray | None) -> None:
        values = impute_missing(y, self.season_length)
        season_length = self.season_length if self.seasonal else 1
        self.has_exogenous_ = X is not None
        self.estimator_ = AutoARIMA(season_length=season_length, seasonal=self.seasonal).fit(values, X=X)
        self.fitted_ = self.estimator_.model_

    def _apply(self, y: np.ndarray, X: np.ndarray | None) -> None:
        values = impute_missing(y, self.season_length)
        if self.has_exogenous_ != (X is not None):
            raise ValueError(f"{self.name} was fitted {'with' if self.has_exogenous_ else 'without'} regressors")
        forwarded = forward_arima(self.fitted_, y=values, xreg=X, method=self.estimator_.method)
        forwarded["sigma2"] = self.fitted_["sigma2"]
        # forward_arima reports period 1 for a seasonal search that chose no seasonal terms; the orders are kept
        forwarded["arma"] = self.fitted_["arma"]
        self.fitted_ = forwarded
        self.estimator_ = copy.copy(self.estimator_)
        self.estimator_.model_ = forwarded

    def _law(self, h: int, X_future: np.ndarray | None) -> GaussianLaw:
        future = None
        if self.has_exogenous_:
            if X_future is None:
                raise ValueError(f"{self.name} was fitted with exogenous regressors; predict needs X_future")
            future = np.asarray(X_future, dtype=np.float64).reshape(h, -1)
        mean = np.asarray(self.estimator_.predict(h, X=future)["mean"], dtype=np.float64)
        fitted = self.fitted_
        state_space = fitted["model"]
        psi = arima_psi(state_space["phi"], state_space["theta"], state_space["delta"], h)
        p, q, seasonal_p, seasonal_q, period, d, seasonal_d = (int(value) for value in fitted["arma"])
        info = {
            "order": [p, d, q],
            "seasonal_order": [seasonal_p, seasonal_d, seasonal_q, period],
            "aicc": float(fitted["aicc"]) if fitted.get("aicc") is not None else float("nan"),
            "coefficients": {key: float(value) for key, value in fitted["coef"].items()},
        }
        sigma = math.sqrt(float(fitted["sigma2"]))
        return GaussianLaw(mean=mean[None, :], sigma=np.array([sigma]), psi=psi[None, :], info=[info])


class AutoSarima(AutoArima):
    """Seasonal ARIMA(p, d, q)(P, D, Q)m, orders chosen automatically; SARIMAX when X is given."""

    name = "sarima"
    seasonal = True
