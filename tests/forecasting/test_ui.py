from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from ecomforecast.models import Membership
from forecasting import services
from forecasting.models import ForecastRun
from tests.factories import MembershipFactory
from tests.forecasting.shop import make_daily_sales

START = dt.date(2024, 1, 1)


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def forecast_run(merchant):
    make_daily_sales(merchant=merchant, skus=4, days=90, start=START)
    return services.forecast_run_execute_in_process(merchant=merchant, config=services.ForecastConfig(horizon=14))


def test_it_shows_accuracy_by_class_model_mix_and_runs(owner_client, forecast_run):
    response = owner_client.get("/forecasts/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Latest run {forecast_run.pk}" in html
    assert 'id="accuracy-chart"' in html
    assert 'id="mix-chart"' in html
    assert html.count("<tr>") >= 1 + 4  # the worst-SKU table lists every one of the 4 SKUs
    assert "SKU000" in html


def test_it_starts_a_run_from_the_button(owner_client, merchant, forecast_run, django_capture_on_commit_callbacks):
    make_daily_sales(merchant=merchant, skus=1, days=91, start=START + dt.timedelta(days=1), seed=3, prefix="NEW")
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post("/forecasts/run/")
    assert response.status_code == 302
    new_run = ForecastRun.objects.filter(merchant=merchant).exclude(pk=forecast_run.pk).get()
    assert new_run.data_cutoff == START + dt.timedelta(days=91)
    assert len(callbacks) == 1
    progress = owner_client.get(f"/forecasts/runs/{new_run.pk}/progress/").json()
    assert (progress["id"], progress["status"], progress["progress"]) == (new_run.pk, "pending", 0.0)


def test_it_refuses_the_button_to_a_viewer(merchant, forecast_run):
    viewer = MembershipFactory(merchant=merchant, role=Membership.Role.VIEWER).user
    client = Client()
    client.force_login(viewer)
    client.post("/forecasts/run/")
    assert ForecastRun.objects.filter(merchant=merchant).count() == 1


def test_it_hides_another_merchants_run_progress(other_merchant, forecast_run):
    stranger = MembershipFactory(merchant=other_merchant).user
    client = Client()
    client.force_login(stranger)
    assert client.get(f"/forecasts/runs/{forecast_run.pk}/progress/").status_code == 404
    assert "No forecast yet." in client.get("/forecasts/").content.decode()


def test_it_renders_the_product_forecast_panel(owner_client, merchant, forecast_run):
    from inventory.models import Product

    product = Product.objects.get(merchant=merchant, sku="SKU001")
    html = owner_client.get(f"/products/{product.pk}/").content.decode()
    assert 'id="product-forecast"' in html
    assert 'id="forecast-chart"' in html
    assert 'id="decomposition-chart"' in html
    result = forecast_run.results.get(product=product)
    assert f'id="forecast-model">{result.model}<' in html
