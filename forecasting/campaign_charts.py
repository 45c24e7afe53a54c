"""Plotly figures of campaign evaluations: baseline vs with-campaign demand before, actual vs counterfactual after."""

from __future__ import annotations

import datetime as dt

from forecasting.charts import FORECAST_PURPLE, GRID, HISTORY_BLUE

BASELINE_GREY = "#5b6474"
BASELINE_BAND = "rgba(91, 100, 116, 0.16)"
CAMPAIGN_BAND = "rgba(107, 63, 160, 0.20)"
WINDOW_SHADE = "rgba(230, 161, 23, 0.12)"


DAY_MS = 86_400_000
DAILY_TICKS_UP_TO = 21


def _layout(*, days: int, starts_on: dt.date, ends_on: dt.date) -> dict:
    """Shared layout; the campaign window is shaded from its first day to the end of its last. Short charts tick
    every day, since Plotly's own choice for a few days is every twelve hours."""
    xaxis = {"type": "date", "gridcolor": GRID, "tickformat": "%-d %b %Y", "hoverformat": "%a %-d %b %Y"}
    if days <= DAILY_TICKS_UP_TO:
        xaxis["dtick"] = DAY_MS
    return {
        "margin": {"l": 56, "r": 16, "t": 16, "b": 40},
        "height": 360,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "xaxis": xaxis,
        "yaxis": {"title": {"text": "Units per day"}, "gridcolor": GRID, "rangemode": "tozero"},
        "shapes": [
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": starts_on.isoformat(),
                "x1": (ends_on + dt.timedelta(days=1)).isoformat(),
                "y0": 0,
                "y1": 1,
                "fillcolor": WINDOW_SHADE,
                "line": {"width": 0},
                "layer": "below",
            }
        ],
        "annotations": [
            {
                "xref": "x",
                "yref": "paper",
                "x": starts_on.isoformat(),
                "y": 1,
                "xanchor": "left",
                "yanchor": "top",
                "text": "Campaign",
                "showarrow": False,
                "font": {"size": 11, "color": "#8a5a00"},
            }
        ],
    }


def _band(*, name: str, daily: dict, prefix: str, color: str) -> dict:
    """The P10–P90 band of `prefix` as one closed shape: along P90, then back along P10."""
    dates = list(daily["dates"])
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": dates + dates[::-1],
        "y": list(daily[f"{prefix}_p90"]) + list(daily[f"{prefix}_p10"])[::-1],
        "fill": "toself",
        "fillcolor": color,
        "line": {"width": 0},
        "hoverinfo": "skip",
    }


def _line(*, name: str, dates: list[str], values: list, color: str, dash: str = "solid") -> dict:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": name,
        "x": dates,
        "y": list(values),
        "line": {"color": color, "width": 2, "dash": dash},
    }


def plan_figure(*, daily: dict, starts_on: dt.date, ends_on: dt.date) -> dict:
    """Expected daily demand of the campaign's products without and with the campaign, each with its P10–P90 band."""
    dates = list(daily["dates"])
    return {
        "data": [
            _band(name="Baseline P10–P90", daily=daily, prefix="baseline", color=BASELINE_BAND),
            _band(name="With campaign P10–P90", daily=daily, prefix="campaign", color=CAMPAIGN_BAND),
            _line(name="Baseline (mean)", dates=dates, values=daily["baseline_mean"], color=BASELINE_GREY, dash="dot"),
            _line(name="With campaign (mean)", dates=dates, values=daily["campaign_mean"], color=FORECAST_PURPLE),
        ],
        "layout": _layout(days=len(dates), starts_on=starts_on, ends_on=ends_on),
    }


def readout_figure(*, daily: dict, starts_on: dt.date, ends_on: dt.date) -> dict:
    """Actual daily sales of the campaign's products against the counterfactual forecast without the campaign."""
    dates = list(daily["dates"])
    return {
        "data": [
            _band(name="Without campaign P10–P90", daily=daily, prefix="counterfactual", color=BASELINE_BAND),
            _line(
                name="Without campaign (mean)",
                dates=dates,
                values=daily["counterfactual_mean"],
                color=BASELINE_GREY,
                dash="dot",
            ),
            {**_line(name="Actual", dates=dates, values=daily["actual"], color=HISTORY_BLUE), "mode": "lines+markers"},
        ],
        "layout": _layout(days=len(dates), starts_on=starts_on, ends_on=ends_on),
    }
