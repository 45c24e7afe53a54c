"""Spend per purchase (Gamma-Gamma) and customer lifetime value over a horizon.

Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves"): a customer's purchase values
are Gamma(p, nu) around their own mean p/nu, and nu ~ Gamma(q, gamma) across customers. It is fitted on the
customers with repeat purchases (x > 0) from x and their mean repeat-purchase value m_x; the conditional
expected spend per purchase is

    E[M | x, m_x] = (gamma + m_x x) p / (p x + q - 1),

a weighted mean of the population mean gamma p / (q - 1) and the customer's own m_x. The model assumes spend is
independent of purchase frequency; check the correlation before relying on it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from forecasting.engine.customer.btyd import LOG_PARAMETER_BOUNDS


class GammaGammaModel:
    """Gamma-Gamma spend model with parameters p, q, gamma."""

    name = "gamma_gamma"

    def __init__(self) -> None:
        pass

    @staticmethod
    def log_likelihood_terms(params: tuple[float, float, float], frequency, monetary_value) -> np.ndarray:
        p, q, gamma = params
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        return (
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(gamma)
            + (p * x - 1.0) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(gamma + m * x)
        )

    def fit(self, frequency, monetary_value) -> GammaGammaModel:
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        usable = (x > 0) & (m > 0)
        if usable.sum() < 3:
            raise ValueError("Gamma-Gamma needs at least three customers with repeat purchases and positive spend")
        x, m = x[usable], m[usable]

        def objective(log_params: np.ndarray) -> float:
            value = -np.mean(self.log_likelihood_terms(tuple(np.exp(log_params)), x, m))
            return float(value) if np.isfinite(value) else 1e300

        start = np.array([0.0, np.log(2.0), np.log(max(float(np.mean(m)), 1e-6))])
        bounds = [LOG_PARAMETER_BOUNDS] * 3
        result = minimize(objective, start, method="L-BFGS-B", bounds=bounds)
        result = minimize(objective, result.x, method="Nelder-Mead", bounds=bounds, options={"maxiter": 4000})
        self.params_ = tuple(float(v) for v in np.exp(result.x))
        self.n_customers_ = int(usable.sum())
        return self

    @property
    def parameters_(self) -> dict[str, float]:
        return dict(zip(("p", "q", "gamma"), self.params_, strict=True))

    def population_mean_spend(self) -> float:
        p, q, gamma = self.params_
        return gamma * p / (q - 1.0) if q > 1.0 else float("nan")

    def expected_spend(self, frequency, monetary_value) -> np.ndarray:
        """E[spend per purchase | x, m_x]; customers without repeat purchases get the population mean."""
        p, q, gamma = self.params_
        x = np.asarray(frequency, dtype=float)
        m = np.where(x > 0, np.asarray(monetary_value, dtype=float), 0.0)
        return (gamma + m * x) * p / (p * x + q - 1.0)


def customer_lifetime_value(
    expected_purchases: Callable[[float], np.ndarray],
    expected_spend: np.ndarray,
    *,
    horizon_days: float,
    annual_discount_rate: float,
    step_days: float = 30.0,
) -> np.ndarray:
    """Discounted value of each customer's expected spend over the horizon.

    expected_purchases(t) gives cumulative expected purchases in (T, T + t] per customer (in days). The horizon
    is cut into steps; purchases expected in step k are valued at expected_spend and discounted to the cutoff
    at the end of that step: value = sum_k spend * (E[X(t_k)] - E[X(t_{k-1})]) / (1 + d)^(t_k / 365).
    """
    edges = np.append(np.arange(step_days, horizon_days, step_days), horizon_days)
    value = np.zeros_like(np.asarray(expected_spend, dtype=float))
    previous = np.zeros_like(value)
    for end in edges:
        cumulative = np.asarray(expected_purchases(float(end)), dtype=float)
        value += expected_spend * (cumulative - previous) / (1.0 + annual_discount_rate) ** (end / 365.0)
        previous = cumulative
    return value
