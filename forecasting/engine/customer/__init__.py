"""Customer purchase behaviour: BTYD models, spend and CLV, RFM segments, a calibrated discriminative model, a GRU
sequence model, a yearly-seasonal time change of the BTYD models and their time-split evaluation. Pure
numpy/scipy/pandas/scikit-learn, plus torch (imported on first use) for the sequence model; see
docs/customer_models.md."""

from __future__ import annotations

from forecasting.engine.customer.btyd import BetaGeoModel, ParetoNBDModel, RepeatPurchaseData
from forecasting.engine.customer.calibration import ProbabilityCalibrator
from forecasting.engine.customer.discriminative import PurchaseClassifier
from forecasting.engine.customer.features import behaviour_features, holdout_outcomes, repeat_purchase_summary
from forecasting.engine.customer.rfm import SEGMENTS, rfm_segments
from forecasting.engine.customer.seasonal import SeasonalTimeChange
from forecasting.engine.customer.sequence import SequencePurchaseModel
from forecasting.engine.customer.spend import GammaGammaModel, customer_lifetime_value

__all__ = [
    "SEGMENTS",
    "BetaGeoModel",
    "GammaGammaModel",
    "ParetoNBDModel",
    "ProbabilityCalibrator",
    "PurchaseClassifier",
    "RepeatPurchaseData",
    "SeasonalTimeChange",
    "SequencePurchaseModel",
    "behaviour_features",
    "customer_lifetime_value",
    "holdout_outcomes",
    "repeat_purchase_summary",
    "rfm_segments",
]
