"""Plotly figures of forecasts: the product fan chart, the decomposition, and the accuracy summary."""

from __future__ import annotations

import datetime as dt

import numpy as np

from forecasting.engine.decompose import Decomposition

HISTORY_BLUE = "#1f5fbf"
FORECAST_PURPLE = "#6b3fa0"
BAND = "rgba(107, 63, 160, 0.18)"
GRID = "#eef1f5"


def _layout(*, y_title: str, height: int = 340) -> dict:
    return {
        "margin": {"l": 56, "r": 16, "t": 16, "b": 40},
        "height": height,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": 1.1, "x": 0},
        "xaxis": {"type": "date", "gridcolor": GRID},
        "yaxis": {"title": {"text": y_title}, "gridcolor": GRID, "rangemode": "tozero"},
    }


def fan_figure(*, history_start: dt.date, history: np.ndarray, values: list) -> dict:
    """Daily history (NaN = stock-out day, shown as a gap), the P10–P90 band, the median and the mean."""
    history_days = [(history_start + dt.timedelta(days=index)).isoformat() for index in range(len(history))]
    days = [value.date.isoformat() for value in values]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Sold per day",
                "x": history_days,
                "y": [None if np.isnan(units) else float(units) for units in history],
                "line": {"color": HISTORY_BLUE, "width": 1.5},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "P90",
                "x": days,
                "y": [value.p90 for value in values],
                "line": {"width": 0},
                "showlegend": False,
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "P10–P90",
                "x": days,
                "y": [value.p10 for value in values],
                "fill": "tonexty",
                "fillcolor": BAND,
                "line": {"width": 0},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "P50",
                "x": days,
                "y": [value.p50 for value in values],
                "line": {"color": FORECAST_PURPLE, "width": 2},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Mean",
                "x": days,
                "y": [value.mean for value in values],
                "line": {"color": FORECAST_PURPLE, "width": 1.5, "dash": "dot"},
            },
        ],
        "layout": _layout(y_title="Units per day"),
    }


def decomposition_figure(*, start: dt.date, decomposition: Decomposition) -> dict:
    """Trend, each seasonal component and the remainder, stacked in rows that share the date axis."""
    offset = len(decomposition.observed) - len(decomposition.trend)
    days = [(start + dt.timedelta(days=offset + index)).isoformat() for index in range(len(decomposition.trend))]
    parts = [("Trend", decomposition.trend)]
    parts += [(f"Season ({period} days)", values) for period, values in decomposition.seasonal.items()]
    parts.append(("Remainder", decomposition.remainder))
    rows = len(parts)
    data, layout = [], _layout(y_title="", height=110 * rows + 60)
    layout.pop("yaxis")
    layout["showlegend"] = False
    layout["grid"] = {"rows": rows, "columns": 1, "pattern": "independent"}
    for index, (name, values) in enumerate(parts, start=1):
        suffix = "" if index == 1 else str(index)
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": name,
                "x": days,
                "y": [None if np.isnan(value) else float(value) for value in values],
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "line": {"color": HISTORY_BLUE if index == 1 else FORECAST_PURPLE, "width": 1.5},
            }
        )
        layout[f"yaxis{suffix}"] = {"title": {"text": name}, "gridcolor": GRID}
        layout[f"xaxis{suffix}"] = {"type": "date", "gridcolor": GRID, "matches": "x", "showticklabels": index == rows}
    return {"data": data, "layout": layout}


def accuracy_figure(*, mase: list[float], wape: list[float]) -> dict:
    """Distributions of the per-SKU backtest MASE and WAPE (capped at 3 for readability)."""
    return {
        "data": [
            {
                "type": "histogram",
                "name": "MASE",
                "x": [min(value, 3.0) for value in mase],
                "xbins": {"start": 0, "end": 3.0, "size": 0.1},
                "marker": {"color": HISTORY_BLUE},
                "opacity": 0.75,
            },
            {
                "type": "histogram",
                "name": "WAPE",
                "x": [min(value, 3.0) for value in wape],
                "xbins": {"start": 0, "end": 3.0, "size": 0.1},
                "marker": {"color": FORECAST_PURPLE},
                "opacity": 0.6,
            },
        ],
        "layout": {
            **_layout(y_title="SKUs"),
            "barmode": "overlay",
            "xaxis": {"title": {"text": "backtest error (capped at 3)"}, "gridcolor": GRID},
        },
    }


def model_mix_figure(*, classes: list[dict]) -> dict:
    """SKUs per underlying model (an ensemble's members share its SKU), stacked per demand class."""
    models = sorted({model for klass in classes for model in klass["member_mix"]})
    names = [klass["demand_class"] for klass in classes]
    return {
        "data": [
            {
                "type": "bar",
                "name": model,
                "x": names,
                "y": [klass["member_mix"].get(model, 0) for klass in classes],
            }
            for model in models
        ],
        "layout": {**_layout(y_title="SKUs"), "barmode": "stack", "xaxis": {"type": "category"}},
    }
