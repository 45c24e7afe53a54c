"""Theta method with automatic choice among the standard, optimised and dynamic variants (statsforecast's
AutoTheta, after Fiorucci et al. 2016), seasonally adjusted by classical decomposition when a seasonality
test says so.

Law: the theta forecast is SES with drift, whose innovations propagate like ETS(A,N,N): GaussianLaw with
psi = (1, alpha, alpha, ...) around the theta forecast, sigma the RMS of the in-sample one-step errors.

Applied to a longer series (apply), the model keeps its variant, alpha, theta, initial level and sigma
(statsforecast's forward_theta); as in that function, the seasonality test and the classical decomposition are
re-run on the longer series.
"""

from __future__ import annotations

import copy

import numpy as np
from statsforecast.models import AutoTheta
from statsforecast.theta import forward_theta

from forecasting.engine.models.common import StatisticalModel, impute_missing
from forecasting.engine.models.laws import GaussianLaw


class AutoThetaModel(StatisticalModel):
    name = "theta"
    min_observations = 3

    def _fit(self, y: np.ndarray, X: np.ndarray | None) -> None:
        values = impute_missing(y, self.season_length)
        self.estimator_ = AutoTheta(season_length=self.season_length).fit(values)
        self.fitted_ = self.estimator_.model_
        residuals = np.asarray(self.fitted_["residuals"], dtype=np.float64)
        residuals = residuals[np.isfinite(residuals)]
        self.sigma_ = float(np.sqrt(np.mean(residuals**2))) if residuals.size else 0.0

    def _apply(self, y: np.ndarray, X: np.ndarray | None) -> None:
        values = impute_missing(y, self.season_length)
        forwarded = forward_theta(self.fitted_, values)
        forwarded["fitted"] = values - forwarded["residuals"]
        self.fitted_ = forwarded
        self.estimator_ = copy.copy(self.estimator_)
        self.estimator_.model_ = forwarded

    def _law(self, h: int, X_future: np.ndarray | None) -> GaussianLaw:
        fitted = self.fitted_
        mean = np.asarray(self.estimator_.predict(h)["mean"], dtype=np.float64)
        alpha = float(fitted["par"]["alpha"])
        sigma = self.sigma_
        psi = np.full(h, alpha)
        psi[0] = 1.0
        info = {
            "variant": str(fitted["modeltype"]),
            "alpha": alpha,
            "theta": float(fitted["par"]["theta"]),
            "seasonally_adjusted": bool(fitted.get("decompose", False)),
        }
        return GaussianLaw(mean=mean[None, :], sigma=np.array([sigma]), psi=psi[None, :], info=[info])
