"""Discriminative purchase model: gradient boosting on behaviour features, calibrated on a later time split.

Training never sees the period it will be judged on. For a cutoff c and horizon h (days):
- training rows: features at snapshot cutoffs c - 2h - k * step (k = 0 .. training_snapshots - 1), each labelled
  with the customer's purchases in the h days after its snapshot, so every label ends by c - h;
- calibration rows: features at c - h, labelled with purchases in [c - h, c): the isotonic or Platt calibrator
  and the count-scale factor are fitted here, on data the booster did not train on;
- with calibration_window="seasonal" the calibration snapshot is c - 365 days instead (the same season one year
  earlier) and the training snapshots move to c - h - k * step; it lost on our tuning split, so it is not the default;
- prediction: features at c.
The classifier gives P(at least one purchase in the next h days); churn risk over M days is 1 - P(purchase in
the next M days) from a model fitted with horizon M. A Poisson-loss booster on the same features gives the
expected number of purchases, rescaled so that its total matches the calibration split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from forecasting.engine.customer.btyd import BetaGeoModel
from forecasting.engine.customer.calibration import ProbabilityCalibrator
from forecasting.engine.customer.features import (
    DAY,
    behaviour_features,
    holdout_outcomes,
    repeat_purchase_summary,
    validate_transactions,
)

CALIBRATION_WINDOWS = ("latest", "seasonal")


class PurchaseClassifier:
    name = "gradient_boosting"

    def __init__(
        self,
        *,
        horizon_days: int = 90,
        training_snapshots: int = 4,
        snapshot_step_days: int = 30,
        calibration: str = "isotonic",
        learning_rate: float = 0.03,
        max_iter: int = 100,
        max_leaf_nodes: int = 7,
        min_samples_leaf: int = 200,
        l2_regularization: float = 1.0,
        btyd_features: bool = True,
        seasonal_snapshot: bool = True,
        calibration_window: str = "latest",
        seed: int = 0,
    ) -> None:
        self.calibration_window = calibration_window
        self.btyd_features = btyd_features
        self.seasonal_snapshot = seasonal_snapshot
        self.horizon_days = horizon_days
        self.training_snapshots = training_snapshots
        self.snapshot_step_days = snapshot_step_days
        self.calibration = calibration
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.seed = seed

    def _labelled_snapshot(
        self, transactions: pd.DataFrame, events: pd.DataFrame | None, snapshot: pd.Timestamp
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        features = self._features(transactions, events, snapshot)
        outcomes = holdout_outcomes(
            transactions, cutoff=snapshot, horizon_days=self.horizon_days, customers=features.index
        )
        return features, outcomes

    def _features(self, transactions: pd.DataFrame, events: pd.DataFrame | None, snapshot: pd.Timestamp):
        features = behaviour_features(transactions, events, cutoff=snapshot)
        if self.btyd_features:
            # BG/NBD fitted at the same snapshot condenses recency and frequency into P(alive) and expected
            # purchases; the booster then only has to learn what the BTYD assumptions miss.
            summary = repeat_purchase_summary(transactions, cutoff=snapshot).reindex(features.index)
            arrays = (summary["frequency"], summary["recency"], summary["T"])
            btyd = BetaGeoModel().fit(*arrays)
            features["bgnbd_p_alive"] = btyd.p_alive(*arrays)
            features["bgnbd_p_purchase"] = btyd.probability_of_purchase(self.horizon_days, *arrays)
            features["bgnbd_expected_purchases"] = btyd.expected_purchases(self.horizon_days, *arrays)
        return features

    def _booster_options(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "max_iter": self.max_iter,
            "max_leaf_nodes": self.max_leaf_nodes,
            "min_samples_leaf": self.min_samples_leaf,
            "l2_regularization": self.l2_regularization,
            "random_state": self.seed,
        }

    def _snapshot_plan(
        self, cutoff: pd.Timestamp, first_purchase: pd.Timestamp
    ) -> tuple[list[pd.Timestamp], pd.Timestamp]:
        horizon = self.horizon_days * DAY
        step = self.snapshot_step_days * DAY
        year_before = cutoff - 365 * DAY
        # A year-earlier calibration snapshot needs some history of its own to describe customers with.
        if self.calibration_window == "seasonal" and year_before - horizon > first_purchase:
            calibration_cutoff = year_before
            training = [cutoff - horizon - k * step for k in range(self.training_snapshots)]
        else:
            calibration_cutoff = cutoff - horizon
            training = [calibration_cutoff - horizon - k * step for k in range(self.training_snapshots)]
            if self.seasonal_snapshot:
                # The same weeks one year earlier teach the booster the season the prediction will fall in.
                training.append(year_before)
        training = [snapshot for snapshot in training if snapshot > first_purchase]
        if not training or calibration_cutoff <= first_purchase:
            raise ValueError(
                f"need more than {2 * self.horizon_days} days of history before {cutoff.date()} to train and calibrate"
            )
        return training, calibration_cutoff

    def fit(self, transactions: pd.DataFrame, events: pd.DataFrame | None = None, *, cutoff) -> PurchaseClassifier:
        if self.calibration_window not in CALIBRATION_WINDOWS:
            raise ValueError(f"calibration_window must be one of {CALIBRATION_WINDOWS}")
        cutoff = pd.Timestamp(cutoff)
        frame = validate_transactions(transactions)
        frame = frame[frame["timestamp"] < cutoff]
        if events is not None:
            events = events[pd.to_datetime(events["timestamp"]) < cutoff]
        training_snapshots, calibration_cutoff = self._snapshot_plan(cutoff, frame["timestamp"].min())
        training = [self._labelled_snapshot(frame, events, snapshot) for snapshot in training_snapshots]
        features = pd.concat([snapshot_features for snapshot_features, _ in training])
        outcomes = pd.concat([snapshot_outcomes for _, snapshot_outcomes in training])
        # A feature missing for every training row (no customer has two purchases yet, say) says nothing, and the
        # booster's binning cannot handle a column without a single value.
        features = features.loc[:, features.notna().any()]
        self.feature_names_ = list(features.columns)
        self.training_rows_ = len(features)
        self.classifier_ = HistGradientBoostingClassifier(**self._booster_options()).fit(
            features.to_numpy(), outcomes["purchased"].to_numpy()
        )
        self.counter_ = HistGradientBoostingRegressor(loss="poisson", **self._booster_options()).fit(
            features.to_numpy(), outcomes["purchases"].to_numpy()
        )

        calibration_features, calibration_outcomes = self._labelled_snapshot(frame, events, calibration_cutoff)
        calibration_matrix = calibration_features.reindex(columns=self.feature_names_).to_numpy()
        raw = self.classifier_.predict_proba(calibration_matrix)[:, 1]
        self.calibrator_ = ProbabilityCalibrator(self.calibration).fit(raw, calibration_outcomes["purchased"])
        predicted_counts = self.counter_.predict(calibration_matrix)
        self.count_scale_ = float(calibration_outcomes["purchases"].sum() / max(predicted_counts.sum(), 1e-9))
        self.training_snapshots_ = training_snapshots
        self.calibration_snapshot_ = calibration_cutoff
        return self

    def predict(self, transactions: pd.DataFrame, events: pd.DataFrame | None = None, *, cutoff) -> pd.DataFrame:
        """Per customer with a purchase before the cutoff: p_purchase_raw, p_purchase (calibrated), churn_risk
        (1 - p_purchase) and expected_purchases over the model's horizon."""
        cutoff = pd.Timestamp(cutoff)
        frame = validate_transactions(transactions)
        frame = frame[frame["timestamp"] < cutoff]
        features = self._features(frame, events, cutoff)
        matrix = features.reindex(columns=self.feature_names_).to_numpy()
        raw = self.classifier_.predict_proba(matrix)[:, 1]
        calibrated = self.calibrator_.transform(raw)
        return pd.DataFrame(
            {
                "p_purchase_raw": raw,
                "p_purchase": calibrated,
                "churn_risk": 1.0 - calibrated,
                "expected_purchases": np.maximum(self.counter_.predict(matrix), 0.0) * self.count_scale_,
            },
            index=features.index,
        )
