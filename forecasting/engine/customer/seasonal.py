"""A yearly-seasonal operational-time change for the BTYD models (BG/NBD, Pareto/NBD).

BG/NBD and Pareto/NBD assume a purchase rate that is constant in calendar time, so a shop with a yearly cycle
(a Christmas peak, a summer lull) is under- or over-forecast in the same weeks every year. The time change keeps
the fitted model and runs its clock faster or slower: purchases over the calendar window [c, c + t) behave like
purchases of the stationary model over an operational duration Lambda(t) = s(t) x t, where s(t) is the shop's
intensity in that window relative to the period the model was fitted on. Every prediction about the window
(expected purchases, P(at least one purchase), "no purchase in M days" churn risk, CLV over a horizon) is the
stationary prediction at Lambda(t); P(alive) at c is about the past and does not change.

s(t) is estimated only from data before c, from the same weeks one year earlier: the model is fitted at
c' = c - lookback on the data before c', predicts the purchases of the customers known at c' over
[c', c' + tau), and tau is solved so that the predicted total matches the purchases those customers actually made
in [c', c' + t). s_raw = tau / t is the seasonal miss the stationary model made last year at this time of year.
log s_raw is shrunk towards 0 (s = 1) with a normal prior of scale `prior_log_scale`, weighted by its sampling
variance (the customers' squared residuals, so over-dispersed buyers count for less than Poisson would say, and
divided by the elasticity of predicted purchases in tau), then clipped to `clip`. Without `lookback` + the
calibration length of history before c, or when last year's model cannot be fitted, s = 1 and `reason_` says why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from forecasting.engine.customer.btyd import BetaGeoModel, ParetoNBDModel
from forecasting.engine.customer.features import DAY, repeat_purchase_summary, validate_transactions

BASE_MODELS = {BetaGeoModel.name: BetaGeoModel, ParetoNBDModel.name: ParetoNBDModel}
SUMMARY_COLUMNS = ("frequency", "recency", "T")


def _arrays(summary: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(summary[column].to_numpy(dtype=float) for column in SUMMARY_COLUMNS)


class SeasonalTimeChange:
    """A BTYD model at a cutoff with its clock rescaled by last year's seasonal intensity.

    base: "bg_nbd" or "pareto_nbd". lookback_days: how far back the same season is looked for (a year).
    prior_log_scale: standard deviation of the normal prior on log s; smaller shrinks harder towards s = 1.
    clip: the range s is kept in. min_calibration_days: history needed before c - lookback for last year's fit;
    None means the window length t itself (a year + t of history).
    """

    def __init__(
        self,
        base: str = "bg_nbd",
        *,
        lookback_days: float = 365.0,
        prior_log_scale: float = 0.5,
        clip: tuple[float, float] = (0.25, 4.0),
        min_calibration_days: float | None = None,
    ) -> None:
        self.base = base
        self.lookback_days = lookback_days
        self.prior_log_scale = prior_log_scale
        self.clip = clip
        self.min_calibration_days = min_calibration_days

    @property
    def name(self) -> str:
        return f"{self.base}_seasonal"

    def fit(self, transactions: pd.DataFrame, *, cutoff) -> SeasonalTimeChange:
        """Fit the base model at `cutoff` and last year's model at cutoff - lookback; nothing at or after the
        cutoff is read."""
        if self.base not in BASE_MODELS:
            raise ValueError(f"base must be one of {', '.join(BASE_MODELS)}, not {self.base!r}")
        low, high = self.clip
        if not 0.0 < low <= 1.0 <= high:
            raise ValueError("clip must satisfy 0 < low <= 1 <= high")
        if self.prior_log_scale <= 0:
            raise ValueError("prior_log_scale must be positive")
        model_class = BASE_MODELS[self.base]
        self.cutoff_ = pd.Timestamp(cutoff)
        frame = validate_transactions(transactions)
        frame = frame[frame["timestamp"] < self.cutoff_]
        self.summary_ = repeat_purchase_summary(frame, cutoff=self.cutoff_)
        if self.summary_.empty:
            raise ValueError(f"no customer purchased before {self.cutoff_.date()}")
        self.model_ = model_class().fit(*_arrays(self.summary_))

        purchases = frame[~frame["is_return"]]
        self.history_start_ = purchases["timestamp"].min()
        self.last_year_cutoff_ = self.cutoff_ - self.lookback_days * DAY
        self.last_year_model_ = None
        self.reason_ = ""
        self.estimates_: dict[float, dict[str, float | str]] = {}
        last_year_summary = repeat_purchase_summary(frame, cutoff=self.last_year_cutoff_)
        if len(last_year_summary) < 10:
            self.reason_ = f"fewer than 10 customers before {self.last_year_cutoff_.date()}"
            return self
        try:
            self.last_year_model_ = model_class().fit(*_arrays(last_year_summary))
        except (ValueError, FloatingPointError) as exc:
            self.reason_ = f"last year's {self.base} could not be fitted: {exc}"
            return self
        self.last_year_summary_ = last_year_summary
        window = purchases[
            (purchases["timestamp"] >= self.last_year_cutoff_) & purchases["customer_id"].isin(last_year_summary.index)
        ]
        self.last_year_purchases_ = pd.DataFrame(
            {
                "customer_id": window["customer_id"].to_numpy(),
                "days": ((window["timestamp"] - self.last_year_cutoff_) / DAY).to_numpy(),
            }
        )
        return self

    def intensity(self, days: float) -> float:
        """s for the window [cutoff, cutoff + days): operational days per calendar day."""
        return float(self.estimate(days)["intensity"])

    def estimate(self, days: float) -> dict[str, float | str]:
        """The estimate behind intensity(days): s, raw s, shrinkage weight, last year's actual and stationary
        predicted purchases, or the reason s = 1."""
        days = float(days)
        if days <= 0:
            raise ValueError("days must be positive")
        if days > self.lookback_days:
            raise ValueError(f"a window of {days:g} days would reach past the cutoff from {self.lookback_days:g} back")
        if days not in self.estimates_:
            self.estimates_[days] = self._estimate(days)
        return self.estimates_[days]

    def _estimate(self, days: float) -> dict[str, float | str]:
        if self.last_year_model_ is None:
            return {"intensity": 1.0, "reason": self.reason_}
        needed = self.min_calibration_days if self.min_calibration_days is not None else days
        if self.history_start_ > self.last_year_cutoff_ - needed * DAY:
            return {
                "intensity": 1.0,
                "reason": f"history starts {self.history_start_.date()}, after "
                f"{(self.last_year_cutoff_ - needed * DAY).date()} ({self.lookback_days:g} + {needed:g} days back)",
            }
        low, high = self.clip
        purchases = self.last_year_purchases_
        actual = (
            purchases[purchases["days"] < days]
            .groupby("customer_id")
            .size()
            .reindex(self.last_year_summary_.index)
            .fillna(0.0)
            .to_numpy(dtype=float)
        )
        arrays = _arrays(self.last_year_summary_)

        def predicted(operational_days: float) -> np.ndarray:
            return self.last_year_model_.expected_purchases(operational_days, *arrays)

        total = actual.sum()
        lower, upper = low * days, high * days
        with np.errstate(all="ignore"):
            finite = np.isfinite(predicted(lower)).all() and np.isfinite(predicted(upper)).all()
        if not finite:
            # BG/NBD's expected purchases diverge when its fitted a <= 1; last year's miss is then unknown.
            return {"intensity": 1.0, "reason": f"last year's {self.base} gave non-finite predictions"}
        if total <= predicted(lower).sum():
            tau = lower
        elif total >= predicted(upper).sum():
            tau = upper
        else:
            tau = brentq(lambda value: predicted(value).sum() - total, lower, upper, xtol=1e-6 * days)
        expected = predicted(tau)
        # d log E[total] / d log tau: predictions grow slower than linearly in tau (dropout), so a given error in
        # the total is a larger error in tau.
        elasticity = np.log(predicted(tau * 1.01).sum() / predicted(tau / 1.01).sum()) / (2 * np.log(1.01))
        log_variance = np.sum((actual - expected) ** 2) / max(total, 0.5) ** 2 / max(elasticity, 1e-3) ** 2
        prior_variance = self.prior_log_scale**2
        weight = prior_variance / (prior_variance + log_variance)
        return {
            "intensity": float(np.clip(np.exp(weight * np.log(tau / days)), low, high)),
            "raw_intensity": float(tau / days),
            "shrinkage_weight": float(weight),
            "last_year_actual": float(total),
            "last_year_stationary": float(predicted(days).sum()),
        }

    def operational_days(self, days: float) -> float:
        return self.intensity(days) * float(days)

    def expected_purchases(self, days: float) -> pd.Series:
        """E[purchases in [cutoff, cutoff + days)] per customer known at the cutoff."""
        return pd.Series(
            self.model_.expected_purchases(self.operational_days(days), *_arrays(self.summary_)),
            index=self.summary_.index,
        )

    def probability_of_purchase(self, days: float) -> pd.Series:
        """P(at least one purchase in [cutoff, cutoff + days)); churn risk over M days is 1 minus this at M."""
        return pd.Series(
            self.model_.probability_of_purchase(self.operational_days(days), *_arrays(self.summary_)),
            index=self.summary_.index,
        )

    def p_alive(self) -> pd.Series:
        return pd.Series(self.model_.p_alive(*_arrays(self.summary_)), index=self.summary_.index)
