"""Repeat-purchase ("buy till you die") models: BG/NBD and Pareto/NBD, fitted by maximum likelihood.

Each customer is summarised by ``frequency`` x (repeat purchases: purchase occasions after the first),
``recency`` t_x (time from the first to the last purchase) and ``T`` (time from the first purchase to the end of
the calibration period). The models are unit-free: predictions come back in the unit the summary was given in
(the evaluation uses days).

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a customer buys at
  rate lambda ~ Gamma(r, alpha); after every repeat purchase they drop out with probability p ~ Beta(a, b).
- Pareto/NBD (Schmittlein, Morrison & Colombo 1987; expressions from Fader & Hardie's 2005 note "A note on
  deriving the Pareto/NBD model and related expressions"): lambda ~ Gamma(r, alpha) while alive, an exponential
  lifetime with rate mu ~ Gamma(s, beta).

Log-likelihoods are written with ``gammaln``/``betaln``/``logaddexp`` so that customers with hundreds of
purchases neither overflow nor underflow; parameters are optimised on the log scale inside bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

LOG_PARAMETER_BOUNDS = (-12.0, 12.0)
GAUSS_LEGENDRE_NODES, GAUSS_LEGENDRE_WEIGHTS = np.polynomial.legendre.leggauss(48)


@dataclass(frozen=True)
class RepeatPurchaseData:
    """Per-customer (x, t_x, T) as float arrays of equal length."""

    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray

    @classmethod
    def of(cls, frequency, recency, T) -> RepeatPurchaseData:
        frequency, recency, T = (np.asarray(values, dtype=float) for values in (frequency, recency, T))
        if not (frequency.shape == recency.shape == T.shape):
            raise ValueError("frequency, recency and T must have the same shape")
        if np.any(frequency < 0) or np.any(recency < 0) or np.any(recency > T + 1e-9):
            raise ValueError("need frequency >= 0 and 0 <= recency <= T")
        if np.any((frequency == 0) & (recency > 0)):
            raise ValueError("a customer without repeat purchases has recency 0")
        return cls(frequency, recency, np.maximum(T, recency))


def _fit_log_parameters(negative_mean_log_likelihood, start: np.ndarray) -> np.ndarray:
    result = minimize(
        negative_mean_log_likelihood,
        start,
        method="L-BFGS-B",
        bounds=[LOG_PARAMETER_BOUNDS] * start.size,
        options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000},
    )
    return result.x


def _log1mexp(log_x: np.ndarray) -> np.ndarray:
    """log(1 - exp(log_x)) for log_x <= 0, accurate at both ends."""
    log_x = np.minimum(log_x, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(log_x > -np.log(2.0), np.log(-np.expm1(log_x)), np.log1p(-np.exp(log_x)))


class BetaGeoModel:
    """BG/NBD with parameters r, alpha (purchase rate) and a, b (dropout probability)."""

    name = "bg_nbd"

    def __init__(self) -> None:
        pass

    @staticmethod
    def log_likelihood_terms(params: tuple[float, float, float, float], data: RepeatPurchaseData) -> np.ndarray:
        """Per-customer log-likelihood, FHL (2005) equation (6)."""
        r, alpha, a, b = params
        x, t_x, T = data.frequency, data.recency, data.T
        rate_part = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        still_alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
        # B(a+1, b+x-1) / B(a, b) = B(a, b+x)/B(a, b) * a / (b+x-1); the term exists only for x > 0.
        with np.errstate(divide="ignore", invalid="ignore"):
            dropped_after_last = np.where(
                x > 0,
                betaln(a, b + x)
                - betaln(a, b)
                + np.log(a)
                - np.log(np.maximum(b + x - 1, 1e-300))
                - (r + x) * np.log(alpha + t_x),
                -np.inf,
            )
        return rate_part + np.logaddexp(still_alive, dropped_after_last)

    def fit(self, frequency, recency, T) -> BetaGeoModel:
        data = RepeatPurchaseData.of(frequency, recency, T)

        def objective(log_params: np.ndarray) -> float:
            value = -np.mean(self.log_likelihood_terms(tuple(np.exp(log_params)), data))
            return float(value) if np.isfinite(value) else 1e300

        self.params_ = tuple(float(v) for v in np.exp(_fit_log_parameters(objective, np.zeros(4))))
        self.log_likelihood_ = float(np.sum(self.log_likelihood_terms(self.params_, data)))
        self.n_customers_ = int(data.frequency.size)
        return self

    @property
    def parameters_(self) -> dict[str, float]:
        return dict(zip(("r", "alpha", "a", "b"), self.params_, strict=True))

    def _log_odds_dead(self, data: RepeatPurchaseData) -> np.ndarray:
        r, alpha, a, b = self.params_
        x, t_x, T = data.frequency, data.recency, data.T
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(
                x > 0,
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
                -np.inf,
            )

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        """P(still active at T | x, t_x, T); 1 for a customer with no repeat purchase (they cannot have dropped)."""
        return 1.0 / (1.0 + np.exp(self._log_odds_dead(RepeatPurchaseData.of(frequency, recency, T))))

    def expected_purchases(self, horizon: float, frequency, recency, T) -> np.ndarray:
        """E[purchases in (T, T + horizon] | x, t_x, T], FHL (2005) equation (10)."""
        r, alpha, a, b = self.params_
        data = RepeatPurchaseData.of(frequency, recency, T)
        x, T_ = data.frequency, data.T
        # Pfaff's transformation folds ((alpha+T)/(alpha+T+t))^(r+x) into the hypergeometric function, which
        # keeps it bounded for frequent customers where the textbook form overflows.
        remaining = 1.0 - hyp2f1(r + x, a - 1.0, a + b + x - 1.0, -horizon / (alpha + T_))
        return (a + b + x - 1.0) / (a - 1.0) * remaining * self.p_alive(frequency, recency, T)

    def probability_of_purchase(self, horizon: float, frequency, recency, T) -> np.ndarray:
        """P(at least one purchase in (T, T + horizon] | x, t_x, T).

        Given alive at T, the posterior of lambda is Gamma(r + x, alpha + T) and a customer who makes no purchase
        cannot drop out, so P(none | alive) = ((alpha + T) / (alpha + T + horizon))^(r + x).
        """
        r, alpha, _a, _b = self.params_
        data = RepeatPurchaseData.of(frequency, recency, T)
        none_while_alive = np.exp((r + data.frequency) * (np.log(alpha + data.T) - np.log(alpha + data.T + horizon)))
        return self.p_alive(frequency, recency, T) * (1.0 - none_while_alive)

    def expected_purchases_new_customer(self, t: float) -> float:
        """E[X(t)] for a customer just acquired, FHL (2005) equation (7)."""
        r, alpha, a, b = self.params_
        return float((a + b - 1.0) / (a - 1.0) * (1.0 - hyp2f1(r, a - 1.0, a + b - 1.0, -t / alpha)))


class ParetoNBDModel:
    """Pareto/NBD with parameters r, alpha (purchase rate) and s, beta (dropout rate)."""

    name = "pareto_nbd"

    def __init__(self) -> None:
        pass

    @staticmethod
    def _log_a0(params: tuple[float, float, float, float], data: RepeatPurchaseData) -> np.ndarray:
        """log of A0 = integral over y in [t_x, T] of (alpha+y)^-(r+x) (beta+y)^-(s+1), times (r+s+x).

        The closed form is a difference of two 2F1(r+s+x, .; r+s+x+1; z) terms (Fader & Hardie's note, eq. 22).
        Euler's transformation 2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z) leaves a series with
        bounded terms, so the logs stay finite for customers with many purchases.
        """
        r, alpha, s, beta = params
        x, t_x, T = data.frequency, data.recency, data.T
        if alpha >= beta:
            larger, exponent_b = alpha, s + 1.0
        else:
            larger, exponent_b = beta, r + x
        gap = abs(alpha - beta)
        total = r + s + x

        def log_term(y: np.ndarray) -> np.ndarray:
            q = larger + y
            z = gap / q
            return (
                (1.0 - exponent_b) * np.log1p(-z)
                + np.log(hyp2f1(1.0, total + 1.0 - exponent_b, total + 1.0, z))
                - total * np.log(q)
            )

        upper, lower = log_term(t_x), log_term(T)
        return upper + _log1mexp(lower - upper)

    @classmethod
    def log_likelihood_terms(cls, params: tuple[float, float, float, float], data: RepeatPurchaseData) -> np.ndarray:
        """Per-customer log-likelihood (Fader & Hardie's note, eq. 22)."""
        r, alpha, s, beta = params
        x, T = data.frequency, data.T
        constant = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive_at_end = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        died_in_between = np.log(s) - np.log(r + s + x) + cls._log_a0(params, data)
        return constant + np.logaddexp(alive_at_end, died_in_between)

    def fit(self, frequency, recency, T) -> ParetoNBDModel:
        data = RepeatPurchaseData.of(frequency, recency, T)

        def objective(log_params: np.ndarray) -> float:
            with np.errstate(all="ignore"):
                value = -np.mean(self.log_likelihood_terms(tuple(np.exp(log_params)), data))
            return float(value) if np.isfinite(value) else 1e300

        self.params_ = tuple(float(v) for v in np.exp(_fit_log_parameters(objective, np.zeros(4))))
        self.log_likelihood_ = float(np.sum(self.log_likelihood_terms(self.params_, data)))
        self.n_customers_ = int(data.frequency.size)
        return self

    @property
    def parameters_(self) -> dict[str, float]:
        return dict(zip(("r", "alpha", "s", "beta"), self.params_, strict=True))

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive at T | x, t_x, T) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0)."""
        r, alpha, s, beta = self.params_
        data = RepeatPurchaseData.of(frequency, recency, T)
        x, T_ = data.frequency, data.T
        with np.errstate(divide="ignore"):
            log_odds_dead = (
                np.log(s)
                - np.log(r + s + x)
                + (r + x) * np.log(alpha + T_)
                + s * np.log(beta + T_)
                + self._log_a0(self.params_, data)
            )
        return 1.0 / (1.0 + np.exp(log_odds_dead))

    def expected_purchases(self, horizon: float, frequency, recency, T) -> np.ndarray:
        """E[purchases in (T, T + horizon] | x, t_x, T] (Fader & Hardie's note, eq. 27)."""
        r, alpha, s, beta = self.params_
        data = RepeatPurchaseData.of(frequency, recency, T)
        x, T_ = data.frequency, data.T
        log_ratio = np.log(beta + T_ + horizon) - np.log(beta + T_)
        # (1 - ((beta+T)/(beta+T+t))^(s-1)) / (s-1), with its limit log((beta+T+t)/(beta+T)) at s = 1
        near_one = abs(s - 1.0) < 1e-9
        lifetime_factor = log_ratio if near_one else -np.expm1(-(s - 1.0) * log_ratio) / (s - 1.0)
        return (r + x) * (beta + T_) / (alpha + T_) * lifetime_factor * self.p_alive(frequency, recency, T)

    def probability_of_purchase(self, horizon: float, frequency, recency, T) -> np.ndarray:
        """P(at least one purchase in (T, T + horizon] | x, t_x, T).

        Given alive at T: lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s, beta+T), and the first purchase comes
        before death and before the horizon with probability E[int_0^h lambda e^-(lambda+mu)u du]. Substituting
        w = ((alpha+T)/(alpha+T+u))^(r+x) turns this into int_{w_h}^1 ((beta+T)/(beta+T+u(w)))^s dw, a smooth
        integrand on a bounded interval, integrated by Gauss-Legendre.
        """
        r, alpha, s, beta = self.params_
        data = RepeatPurchaseData.of(frequency, recency, T)
        shape = r + data.frequency
        w_end = np.exp(shape * (np.log(alpha + data.T) - np.log(alpha + data.T + horizon)))
        half_width = (1.0 - w_end) / 2.0
        w = (1.0 + w_end)[:, None] / 2.0 + half_width[:, None] * GAUSS_LEGENDRE_NODES[None, :]
        u = (alpha + data.T)[:, None] * np.expm1(-np.log(w) / shape[:, None])
        survival = np.exp(-s * np.log1p(u / (beta + data.T)[:, None]))
        first_purchase_in_window = half_width * (survival @ GAUSS_LEGENDRE_WEIGHTS)
        return self.p_alive(frequency, recency, T) * first_purchase_in_window


def simulate_bgnbd(
    params: tuple[float, float, float, float], *, n_customers: int, T: float, seed: int
) -> RepeatPurchaseData:
    """Draw (x, t_x, T) for customers observed over (0, T] from the BG/NBD process with params (r, alpha, a, b)."""
    r, alpha, a, b = params
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1.0 / alpha, n_customers)
    dropout = rng.beta(a, b, n_customers)
    frequency = np.zeros(n_customers)
    recency = np.zeros(n_customers)
    clock = np.zeros(n_customers)
    active = np.ones(n_customers, dtype=bool)
    while active.any():
        index = np.flatnonzero(active)
        clock[index] += rng.exponential(1.0 / rates[index])
        bought = clock[index] <= T
        buyers = index[bought]
        frequency[buyers] += 1
        recency[buyers] = clock[buyers]
        active[index[~bought]] = False
        active[buyers[rng.random(buyers.size) < dropout[buyers]]] = False
    return RepeatPurchaseData(frequency, recency, np.full(n_customers, float(T)))


def simulate_pareto_nbd(
    params: tuple[float, float, float, float], *, n_customers: int, T: float, seed: int
) -> RepeatPurchaseData:
    """Draw (x, t_x, T) from the Pareto/NBD process with params (r, alpha, s, beta) over (0, T]."""
    r, alpha, s, beta = params
    rng = np.random.default_rng(seed)
    rates = rng.gamma(r, 1.0 / alpha, n_customers)
    death_rates = rng.gamma(s, 1.0 / beta, n_customers)
    observed_life = np.minimum(rng.exponential(1.0 / death_rates), T)
    frequency = rng.poisson(rates * observed_life).astype(float)
    # The last of n uniform purchase times on (0, L] is L * U^(1/n).
    with np.errstate(divide="ignore"):
        last_share = np.where(frequency > 0, rng.random(n_customers) ** (1.0 / np.maximum(frequency, 1.0)), 0.0)
    return RepeatPurchaseData(frequency, observed_life * last_share, np.full(n_customers, float(T)))
