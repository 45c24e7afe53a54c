"""Plotly figure of a reorder line's projected stock: what is available each day, with and without the suggested
order, against cumulative demand at P50 and P90, with the reorder point and the order-by date marked.

Drawn from the numbers snapshotted on the line (``ReorderLine.projection``), so the chart shows what the plan
decided from even after forecasts are re-run.
"""

from __future__ import annotations

from inventory.models import ReorderLine

STOCK_ORANGE = "#d9822b"
ORDER_GREEN = "#1c9a6c"
DEMAND_PURPLE = "#6b3fa0"
REORDER_RED = "#b3261e"
GRID = "#eef1f5"


def projection_figure(line: ReorderLine) -> dict | None:
    """The line's projected-stock figure, or None when the plan stored no daily projection for it."""
    projection = line.projection or {}
    days = projection.get("dates") or []
    if not days:
        return None
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Demand so far, P90",
            "x": days,
            "y": projection["demand_p90"],
            "line": {"color": DEMAND_PURPLE, "width": 1.5, "dash": "dot"},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Demand so far, P50",
            "x": days,
            "y": projection["demand_p50"],
            "line": {"color": DEMAND_PURPLE, "width": 2},
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Available without ordering",
            "x": days,
            "y": projection["available"],
            "line": {"color": STOCK_ORANGE, "width": 2, "shape": "hv"},
        },
    ]
    if line.final_quantity > 0:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"Available with the order of {line.final_quantity}",
                "x": days,
                "y": projection["available_with_order"],
                "line": {"color": ORDER_GREEN, "width": 2, "shape": "hv", "dash": "dash"},
            }
        )
    reorder_point = projection.get("reorder_point", line.reorder_point)
    data.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": f"Reorder point ({reorder_point:g})",
            "x": [days[0], days[-1]],
            "y": [reorder_point, reorder_point],
            "line": {"color": REORDER_RED, "width": 1.5, "dash": "dash"},
            "hoverinfo": "skip",
        }
    )
    layout = {
        "margin": {"l": 56, "r": 16, "t": 16, "b": 40},
        "height": 340,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "xaxis": {"type": "date", "gridcolor": GRID},
        "yaxis": {"title": {"text": "Units"}, "gridcolor": GRID, "rangemode": "tozero"},
        "shapes": [],
        "annotations": [],
    }
    order_by = projection.get("order_by")
    if order_by:
        # A vertical line spans the plot whatever the units, so it is a shape in paper height, not a trace.
        layout["shapes"].append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": order_by,
                "x1": order_by,
                "y0": 0,
                "y1": 1,
                "line": {"color": REORDER_RED, "width": 1.5},
            }
        )
        layout["annotations"].append(
            {
                "x": order_by,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "text": f"order by {order_by}",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"color": REORDER_RED},
            }
        )
    return {"data": data, "layout": layout}
