"""Probability calibration of a classifier's raw scores.

Fitted on scores and outcomes of a calibration split that lies, in time, after the data the classifier was
trained on and before the period it will be judged on — never on the holdout. Both methods are monotone
non-decreasing in the raw score, so calibration never reorders customers (AUC is unchanged):
- "isotonic": isotonic regression (pool adjacent violators), clipped to [0, 1]; flexible, needs a few hundred
  positives.
- "platt": logistic regression on the score's logit (Platt scaling); two parameters, safe on small splits.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

CALIBRATION_METHODS = ("isotonic", "platt")
PROBABILITY_FLOOR = 1e-4


def _logit(scores: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.asarray(scores, dtype=float), PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return np.log(clipped / (1.0 - clipped))


class ProbabilityCalibrator:
    def __init__(self, method: str = "isotonic") -> None:
        self.method = method

    def fit(self, scores, outcomes) -> ProbabilityCalibrator:
        if self.method not in CALIBRATION_METHODS:
            raise ValueError(f"unknown calibration method {self.method!r}; use one of {CALIBRATION_METHODS}")
        scores = np.asarray(scores, dtype=float)
        outcomes = np.asarray(outcomes, dtype=float)
        if self.method == "isotonic":
            self.mapping_ = IsotonicRegression(
                y_min=PROBABILITY_FLOOR, y_max=1.0 - PROBABILITY_FLOOR, increasing=True, out_of_bounds="clip"
            ).fit(scores, outcomes)
        else:
            self.mapping_ = LogisticRegression(C=1e6).fit(_logit(scores)[:, None], outcomes)
            if self.mapping_.coef_[0, 0] < 0:
                raise ValueError("Platt scaling found scores anti-correlated with outcomes; the classifier is broken")
        return self

    def transform(self, scores) -> np.ndarray:
        scores = np.asarray(scores, dtype=float)
        if self.method == "isotonic":
            return self.mapping_.predict(scores)
        return self.mapping_.predict_proba(_logit(scores)[:, None])[:, 1]
