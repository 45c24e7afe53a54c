"""Chart data for the merchant UI: merchant-scoped sales series and the Plotly figures drawn from them.

Figures are plain dicts ({"data": [...], "layout": {...}}) rendered in the page with `json_script` and drawn by
static/ecomforecast/js/charts.js with the Plotly bundle served from our own origin (no CDN).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.db.models.functions import TruncDate

from customers.selectors import counted_lines, net_revenue_expression, net_units_expression
from ecomforecast.models import Merchant
from inventory.models import Product, StockLevel

BRAND_BLUE = "#1f5fbf"
REVENUE_GREEN = "#1c9a6c"
STOCK_ORANGE = "#d9822b"


class Frequency(StrEnum):
    DAY = "day"
    WEEK = "week"

    @classmethod
    def parse(cls, value: str | None, default: Frequency) -> Frequency:
        try:
            return cls(value)
        except ValueError:
            return default


@dataclass(frozen=True)
class SalesPoint:
    period: dt.date
    units: int
    revenue: Decimal


def sales_over_time(*, merchant: Merchant, freq: Frequency, product: Product | None = None) -> list[SalesPoint]:
    """Net units and revenue per merchant-local day or week (weeks start on Monday), zero-filled between the
    first and the last period so gaps read as no sales rather than being bridged.

    The database sums per day; weeks are folded from days here, which costs nothing and spares SQLite its slow
    per-row week truncation.
    """
    lines = counted_lines(merchant=merchant)
    if product is not None:
        lines = lines.filter(product=product)
    rows = (
        lines.annotate(day=TruncDate("placed_at", tzinfo=ZoneInfo(merchant.timezone)))
        .values("day")
        .annotate(units=Sum(net_units_expression()), revenue=Sum(net_revenue_expression()))
        .order_by("day")
    )
    units: dict[dt.date, int] = defaultdict(int)
    revenue: dict[dt.date, Decimal] = defaultdict(Decimal)
    for row in rows:
        period = row["day"] if freq is Frequency.DAY else row["day"] - dt.timedelta(days=row["day"].weekday())
        units[period] += row["units"] or 0
        revenue[period] += row["revenue"] or Decimal(0)
    if not units:
        return []
    step = dt.timedelta(days=1 if freq is Frequency.DAY else 7)
    period, last = min(units), max(units)
    points = []
    while period <= last:
        points.append(SalesPoint(period=period, units=units.get(period, 0), revenue=revenue.get(period, Decimal(0))))
        period += step
    return points


def stock_history(*, merchant: Merchant, product: Product) -> list[tuple[dt.date, int]]:
    return list(
        StockLevel.objects.filter(merchant=merchant, product=product).order_by("date").values_list("date", "on_hand")
    )


def _base_layout(*, y_title: str, y2_title: str | None) -> dict:
    layout = {
        "margin": {"l": 56, "r": 56 if y2_title else 16, "t": 16, "b": 40},
        "height": 340,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12},
        "hovermode": "x unified",
        "bargap": 0.15,
        "legend": {"orientation": "h", "y": 1.08, "x": 0},
        "xaxis": {"type": "date", "gridcolor": "#eef1f5"},
        "yaxis": {"title": {"text": y_title}, "gridcolor": "#eef1f5", "rangemode": "tozero", "tickformat": ","},
    }
    if y2_title:
        layout["yaxis2"] = {
            "title": {"text": y2_title},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "rangemode": "tozero",
            "tickmode": "auto",
            "tickformat": ",.0f",
        }
    return layout


def sales_figure(points: list[SalesPoint], *, freq: Frequency, currency: str) -> dict:
    """Net units (bars) and net revenue (line, right axis) per period."""
    periods = [point.period.isoformat() for point in points]
    unit_label = "Units per day" if freq is Frequency.DAY else "Units per week"
    return {
        "data": [
            {
                "type": "bar",
                "name": "Units (net of returns)",
                "x": periods,
                "y": [point.units for point in points],
                "marker": {"color": BRAND_BLUE},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"Revenue ({currency})",
                "x": periods,
                "y": [float(point.revenue) for point in points],
                "yaxis": "y2",
                "line": {"color": REVENUE_GREEN, "width": 2},
            },
        ],
        "layout": _base_layout(y_title=unit_label, y2_title=f"Revenue ({currency})"),
    }


def product_sales_figure(points: list[SalesPoint], *, freq: Frequency, stock: list[tuple[dt.date, int]]) -> dict:
    """Net units sold per period, with the on-hand stock line on the right axis when stock levels exist."""
    unit_label = "Units per day" if freq is Frequency.DAY else "Units per week"
    data = [
        {
            "type": "bar",
            "name": "Units sold (net of returns)",
            "x": [point.period.isoformat() for point in points],
            "y": [point.units for point in points],
            "marker": {"color": BRAND_BLUE},
        }
    ]
    if stock:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "On hand",
                "x": [day.isoformat() for day, _ in stock],
                "y": [on_hand for _, on_hand in stock],
                "yaxis": "y2",
                "line": {"color": STOCK_ORANGE, "width": 2, "shape": "hv"},
            }
        )
    return {"data": data, "layout": _base_layout(y_title=unit_label, y2_title="On hand" if stock else None)}


def order_values_figure(orders: list[tuple[dt.datetime, Decimal, bool]], *, currency: str) -> dict:
    """One marker per order (returns in red, below zero) for a customer's timeline."""
    sales = [(placed_at, value) for placed_at, value, is_return in orders if not is_return]
    returns = [(placed_at, -value) for placed_at, value, is_return in orders if is_return]
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Orders",
            "x": [placed_at.isoformat() for placed_at, _ in sales],
            "y": [float(value) for _, value in sales],
            "marker": {"color": BRAND_BLUE, "size": 9},
        }
    ]
    if returns:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Returns",
                "x": [placed_at.isoformat() for placed_at, _ in returns],
                "y": [float(value) for _, value in returns],
                "marker": {"color": "#b3261e", "size": 9, "symbol": "x"},
            }
        )
    layout = _base_layout(y_title=f"Order value ({currency})", y2_title=None)
    layout["yaxis"]["rangemode"] = "normal"
    layout["height"] = 260
    return {"data": data, "layout": layout}
