"""Demand classification of a panel: smooth, erratic, intermittent, lumpy (Syntetos-Boylan), new and dead.

On each series' observed days (NaN = missing or censored, ignored; history starts at the first observed day):
- ADI: observed days per day with demand (inf without demand); CV2: squared coefficient of variation of the
  non-zero demand sizes (population variance; 0 with one demand).
- new: fewer than min_history observed days; dead: no demand in the last dead_after days (checked after new).
- otherwise ADI < adi_threshold (1.32) and CV2 < cv2_threshold (0.49): smooth; ADI < 1.32 and CV2 >= 0.49:
  erratic; ADI >= 1.32 and CV2 < 0.49: intermittent; both above: lumpy.
Everything is vectorised over the rows of the (n, T) NaN-left-padded panel.
"""

from __future__ import annotations

import numpy as np

DEMAND_CLASSES: tuple[str, ...] = ("smooth", "erratic", "intermittent", "lumpy", "new", "dead")


def demand_statistics(panel: np.ndarray) -> dict[str, np.ndarray]:
    """Per row: adi, cv2, history (observed days), demand_days and days_since_demand (days since the last day
    with demand, counted to the panel's last column; inf without demand)."""
    panel = np.atleast_2d(np.asarray(panel, dtype=np.float64))
    observed = ~np.isnan(panel)
    has_demand = observed & (np.nan_to_num(panel) > 0)
    history = observed.sum(axis=1)
    demand_days = has_demand.sum(axis=1)
    sizes = np.where(has_demand, panel, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(demand_days > 0, history / np.maximum(demand_days, 1), np.inf)
        size_mean = np.nanmean(np.where(demand_days[:, None] > 0, sizes, 0.0), axis=1)
        size_var = np.nanvar(np.where(demand_days[:, None] > 0, sizes, 0.0), axis=1)
        cv2 = np.where(demand_days > 0, size_var / np.maximum(size_mean, 1e-300) ** 2, 0.0)
    length = panel.shape[1]
    last_demand = np.where(demand_days > 0, length - 1 - np.argmax(has_demand[:, ::-1], axis=1), -1)
    days_since_demand = np.where(demand_days > 0, length - 1 - last_demand, np.inf)
    return {
        "adi": adi,
        "cv2": cv2,
        "history": history,
        "demand_days": demand_days,
        "days_since_demand": days_since_demand,
    }


def classify_panel(
    panel: np.ndarray,
    *,
    adi_threshold: float = 1.32,
    cv2_threshold: float = 0.49,
    min_history: int = 28,
    dead_after: int = 56,
) -> np.ndarray:
    """(n,) array of class names (DEMAND_CLASSES) for the rows of a NaN-left-padded (n, T) panel."""
    stats = demand_statistics(panel)
    frequent = stats["adi"] < adi_threshold
    variable = stats["cv2"] >= cv2_threshold
    classes = np.where(
        frequent,
        np.where(variable, "erratic", "smooth"),
        np.where(variable, "lumpy", "intermittent"),
    ).astype(object)
    classes[stats["days_since_demand"] >= dead_after] = "dead"
    classes[stats["history"] < min_history] = "new"
    return classes


def classify_series(y: np.ndarray, **thresholds: float) -> str:
    """The class of one series (same thresholds as classify_panel)."""
    return str(classify_panel(np.asarray(y, dtype=np.float64)[None, :], **thresholds)[0])
