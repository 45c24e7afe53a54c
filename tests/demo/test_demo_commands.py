"""generate_demo_shop and setup_demo: merchant, user, data and pipeline, and nothing twice."""

from __future__ import annotations

import datetime as dt
import io
import sys
import types

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from customers.models import ActivityEvent, Campaign, Customer, Order, OrderLine
from ecomforecast.models import Membership, Merchant
from inventory.models import Product, StockLevel

pytestmark = pytest.mark.django_db

SMALL = ["--skus", "8", "--days", "60"]

ONLINE_RETAIL_CSV = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom
536366,22633,HAND WARMER UNION JACK,6,2010-12-01 08:28:00,1.85,17851,United Kingdom
C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,2010-12-01 09:41:00,2.55,17850,United Kingdom
"""


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _counts(merchant: Merchant) -> tuple[int, ...]:
    return tuple(
        model.objects.filter(merchant=merchant).count()
        for model in (Product, StockLevel, Order, OrderLine, Customer, ActivityEvent)
    )


@pytest.fixture
def pipeline_calls(monkeypatch) -> list[Merchant]:
    """Stands in for ecomforecast.pipeline so the command's call to run_pipeline(merchant) is observable."""
    calls: list[Merchant] = []

    def run_pipeline(*, merchant: Merchant, progress=None) -> dict[str, object]:
        calls.append(merchant)
        progress("sales forecast", 1, 1)
        return {"sales forecast": "done"}

    module = types.ModuleType("ecomforecast.pipeline")
    module.run_pipeline = run_pipeline
    monkeypatch.setitem(sys.modules, "ecomforecast.pipeline", module)
    return calls


def test_it_generates_a_shop_for_a_new_merchant():
    output = _run("generate_demo_shop", "--merchant", "fresh-shop", "--seed", "3", *SMALL, "--start", "2024-03-01")

    merchant = Merchant.objects.get(slug="fresh-shop")
    assert merchant.name == "Fresh Shop"
    products, stock, orders, lines, customers, events = _counts(merchant)
    assert products == 8
    assert stock > 8 * 30
    assert orders > 50
    assert lines >= orders
    assert customers > 10
    assert events > 100
    assert StockLevel.objects.filter(merchant=merchant).earliest("date").date == dt.date(2024, 3, 1)
    assert StockLevel.objects.filter(merchant=merchant).latest("date").date == dt.date(2024, 4, 29)
    assert f"{orders:>9,}" in output
    assert "order lines" in output
    assert "imported into 'fresh-shop'" in output


def test_it_generates_into_an_existing_merchant_once(merchant):
    _run("generate_demo_shop", "--merchant", merchant.slug, "--seed", "3", *SMALL, "--start", "2024-03-01")
    before = _counts(merchant)

    _run("generate_demo_shop", "--merchant", merchant.slug, "--seed", "3", *SMALL, "--start", "2024-03-01")

    assert _counts(merchant) == before
    assert Merchant.objects.filter(slug=merchant.slug).count() == 1


def test_it_ends_a_generated_history_yesterday(merchant):
    _run("generate_demo_shop", "--merchant", merchant.slug, *SMALL)

    yesterday = dt.date.today() - dt.timedelta(days=1)
    assert StockLevel.objects.filter(merchant=merchant).latest("date").date == yesterday


def test_it_sets_up_the_demo_merchant_and_user_once(pipeline_calls):
    output = _run("setup_demo", *SMALL)

    merchant = Merchant.objects.get(slug="demo")
    assert merchant.name == "Demo Shop"
    user = authenticate(username="demo", password="demo-password")
    assert user is not None
    assert Membership.objects.get(user=user, merchant=merchant).role == Membership.Role.OWNER
    first = _counts(merchant)
    assert first[2] > 50
    assert "http://127.0.0.1:8000" in output
    assert "'demo'" in output
    assert "'demo-password'" in output
    assert pipeline_calls == [merchant]
    assert "sales forecast: done" in output
    # a campaign being planned, so that the pipeline forecasts one and the planner shows it
    planned = Campaign.objects.get(merchant=merchant, external_id="demo-planned")
    last_sale = OrderLine.objects.filter(merchant=merchant).latest("placed_at").placed_at.date()
    assert planned.starts_on > last_sale
    assert (planned.ends_on - planned.starts_on).days == 6
    assert planned.products.count() == 4
    assert "planned campaign 'Planned: best sellers 20% off'" in output

    again = _run("setup_demo", *SMALL)

    assert Merchant.objects.count() == 1
    assert get_user_model().objects.filter(username="demo").count() == 1
    assert Membership.objects.count() == 1
    assert _counts(merchant) == first
    assert "already has orders" in again
    assert pipeline_calls == [merchant, merchant]


def test_it_sets_up_the_demo_from_an_online_retail_file(tmp_path, pipeline_calls):
    path = tmp_path / "online_retail.csv"
    path.write_text(ONLINE_RETAIL_CSV)

    output = _run("setup_demo", "--data", str(path))

    merchant = Merchant.objects.get(slug="demo")
    assert Order.objects.filter(merchant=merchant).count() == 3
    assert Order.objects.filter(merchant=merchant, kind=Order.Kind.RETURN).count() == 1
    assert set(Customer.objects.filter(merchant=merchant).values_list("external_id", flat=True)) == {"17850", "17851"}
    assert "online-retail" in output
    assert pipeline_calls == [merchant]

    _run("setup_demo", "--data", str(path))

    assert OrderLine.objects.filter(merchant=merchant).count() == 4
