"""The product page's projected-stock chart and reorder numbers, from the product's line in the latest plan."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from tests.factories import ProductFactory
from tests.ui.reorder_shop import build_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(merchant):
    return build_shop(merchant)


def figure_in(html: str) -> dict:
    match = re.search(r'<script id="projection-chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no projected-stock chart data in the page"
    return json.loads(match.group(1))


def numbers_in(html: str) -> dict[str, str]:
    table = html.split('id="reorder-numbers"', 1)[1].split("</table>", 1)[0]
    return {
        label: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", value)).strip()
        for label, value in re.findall(r"<tr><th>([^<]+)</th><td[^>]*>(.*?)</td>", table, re.S)
    }


def test_it_draws_stock_with_and_without_the_order_against_demand(owner_client, shop):
    html = owner_client.get(reverse("product-detail", args=[shop.products["MUG-1"].pk])).content.decode()

    figure = figure_in(html)
    traces = {trace["name"]: trace for trace in figure["data"]}
    assert list(traces) == [
        "Demand so far, P90",
        "Demand so far, P50",
        "Available without ordering",
        "Available with the order of 30",
        "Reorder point (34)",
    ]
    days = traces["Demand so far, P50"]["x"]
    assert (days[0], days[-1], len(days)) == ("2024-06-01", "2024-06-28", 28)
    # 2 units a day, known exactly: P50 = P90 = 2, 4, 6, ...
    assert traces["Demand so far, P50"]["y"][:3] == [2.0, 4.0, 6.0]
    assert traces["Demand so far, P90"]["y"][-1] == 56.0
    # 4 on hand and nothing on order; the 30 ordered today land after the 10-day lead time.
    assert set(traces["Available without ordering"]["y"]) == {4.0}
    with_order = traces["Available with the order of 30"]["y"]
    assert (with_order[9], with_order[10], with_order[-1]) == (4.0, 34.0, 34.0)
    assert traces["Reorder point (34)"]["y"] == [34.0, 34.0]
    assert traces["Reorder point (34)"]["x"] == ["2024-06-01", "2024-06-28"]
    (marker,) = figure["layout"]["shapes"]
    assert (marker["x0"], marker["x1"], marker["yref"]) == ("2024-06-01", "2024-06-01", "paper")
    assert figure["layout"]["annotations"][0]["text"] == "order by 2024-06-01"


def test_it_lists_the_lines_numbers_and_explanation(owner_client, shop):
    html = owner_client.get(reverse("product-detail", args=[shop.products["MUG-1"].pk])).content.decode()

    numbers = numbers_in(html)
    assert numbers["Stock position"] == "4"
    assert numbers["Lead time"] == "10.0"
    assert numbers["Lead-time demand P50"] == "34.0"
    assert numbers["Lead-time demand P90"] == "34.0"
    assert numbers["Safety stock"] == "0.0"
    assert numbers["Reorder point"] == "34.0"
    assert numbers["Order up to"] == "34.0"
    assert numbers["Suggested quantity"] == "30.0"
    assert numbers["Quantity to order"] == "30"
    assert numbers["Order by"] == "2024-06-01"
    assert numbers["Stock-out at P50 demand"] == "2024-06-03"  # 4 units cover two days of 2; the third runs short
    assert numbers["Days of cover"] == "2 → 17"
    assert '<span id="rounding-reason">as suggested</span> · 60.00 GBP' in html
    line = shop.plan.lines.get(product__sku="MUG-1")
    assert f'<p class="explanation" id="reorder-explanation">{line.explanation}</p>' in html


def test_a_product_with_no_order_marks_only_its_order_by_date(owner_client, shop):
    html = owner_client.get(reverse("product-detail", args=[shop.products["BOWL-4"].pk])).content.decode()

    figure = figure_in(html)
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["Demand so far, P90", "Demand so far, P50", "Available without ordering", "Reorder point (17)"]
    assert figure["layout"]["shapes"][0]["x0"] == "2024-06-11"
    numbers = numbers_in(html)
    assert (numbers["Quantity to order"], numbers["Stock-out at P90 demand"]) == ("0", "2024-06-21")


def test_a_product_in_no_plan_says_so(owner_client, merchant, shop):
    newcomer = ProductFactory(merchant=merchant, sku="NEW-1")

    html = owner_client.get(reverse("product-detail", args=[newcomer.pk])).content.decode()

    assert "This product is in no reorder plan yet." in html
    assert "projection-chart-data" not in html
