"""Plotly figures of customer scores: the segment overview and one customer's scores across runs."""

from __future__ import annotations

from forecasting.models import CustomerScore

CUSTOMERS_BLUE = "#1f5fbf"
CHURN_RED = "#b3261e"
ALIVE_GREEN = "#1c9a6c"
PURCHASE_PURPLE = "#6b3fa0"
GRID = "#eef1f5"


def _layout(*, y_title: str, height: int) -> dict:
    return {
        "margin": {"l": 56, "r": 56, "t": 16, "b": 40},
        "height": height,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "yaxis": {"title": {"text": y_title}, "gridcolor": GRID, "rangemode": "tozero", "tickformat": ","},
    }


def segment_figure(overview: list[dict], *, currency: str) -> dict:
    """Customers per RFM segment (bars) with the segment's mean churn risk (markers, right axis, percent)."""
    labels = [row["label"] for row in overview]
    layout = _layout(y_title="Customers", height=320)
    layout["xaxis"] = {"type": "category", "categoryorder": "array", "categoryarray": labels}
    layout["yaxis2"] = {
        "title": {"text": "Mean churn risk"},
        "overlaying": "y",
        "side": "right",
        "range": [0, 1],
        "dtick": 0.25,
        "tickformat": ".0%",
        "showgrid": False,
    }
    return {
        "data": [
            {
                "type": "bar",
                "name": "Customers",
                "x": labels,
                "y": [row["customers"] for row in overview],
                "marker": {"color": CUSTOMERS_BLUE},
                "customdata": [round(row["clv_12m"] or 0.0, 2) for row in overview],
                "hovertemplate": f"%{{y:,}} customers<br>12-month CLV %{{customdata:,.0f}} {currency}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "markers+lines",
                "name": "Mean churn risk",
                "x": labels,
                "y": [round(row["mean_churn_risk"], 4) for row in overview],
                "yaxis": "y2",
                "marker": {"color": CHURN_RED, "size": 10},
                "line": {"color": CHURN_RED, "width": 1, "dash": "dot"},
            },
        ],
        "layout": layout,
    }


def score_history_figure(history: list[CustomerScore]) -> dict:
    """Churn risk, P(alive) and P(purchase in 30 days) at each run's data cutoff."""
    cutoffs = [score.run.data_cutoff.isoformat() for score in history]
    series = (
        ("Churn risk (90 days)", "churn_risk", CHURN_RED),
        ("P(alive)", "p_alive", ALIVE_GREEN),
        ("P(order in 30 days)", "p_purchase_30d", PURCHASE_PURPLE),
    )
    layout = _layout(y_title="Probability", height=260)
    layout["xaxis"] = {"type": "date", "gridcolor": GRID}
    layout["yaxis"].update({"range": [0, 1], "tickformat": ".0%", "rangemode": "normal"})
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": cutoffs,
                "y": [round(getattr(score, field), 4) for score in history],
                "line": {"color": color, "width": 2},
            }
            for name, field, color in series
        ],
        "layout": layout,
    }
