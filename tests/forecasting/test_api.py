from __future__ import annotations

import datetime as dt

import pytest

from forecasting import services
from forecasting.models import ForecastRun
from tests.factories import ProductFactory
from tests.forecasting.test_forecast_run import START, _sell


@pytest.fixture
def forecast_run(merchant):
    product = ProductFactory(merchant=merchant, sku="MUG")
    for offset in range(60):
        _sell(merchant, product, START + dt.timedelta(days=offset), 2 + offset % 3)
    return services.forecast_run_execute_in_process(merchant=merchant, config=services.ForecastConfig(horizon=7))


def test_it_accepts_a_run_request_twice_with_the_same_id(api_client, merchant, django_capture_on_commit_callbacks):
    ProductFactory(merchant=merchant)
    with django_capture_on_commit_callbacks() as callbacks:
        first = api_client.post("/api/v1/forecast-runs/", {"horizon": 14, "data_cutoff": "2024-03-31"}, format="json")
        second = api_client.post("/api/v1/forecast-runs/", {"horizon": 14, "data_cutoff": "2024-03-31"}, format="json")
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["status"] == "pending"
    assert len(callbacks) == 1
    assert ForecastRun.objects.filter(merchant=merchant).count() == 1


def test_it_rejects_a_bad_horizon(api_client):
    response = api_client.post("/api/v1/forecast-runs/", {"horizon": 0}, format="json")
    assert response.status_code == 400
    assert "horizon" in response.json()


def test_it_lists_the_latest_forecast_by_sku_and_dates(api_client, forecast_run):
    first_day = forecast_run.data_cutoff + dt.timedelta(days=1)
    response = api_client.get(
        "/api/v1/forecasts/",
        {"sku": "MUG", "date_from": first_day.isoformat(), "date_to": (first_day + dt.timedelta(days=2)).isoformat()},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    row = body["results"][0]
    assert (row["sku"], row["date"], row["run"]) == ("MUG", first_day.isoformat(), forecast_run.pk)
    assert row["p10"] <= row["p50"] <= row["p90"]
    assert set(row["cumulative"]) >= {"0.5", "0.95"}


def test_it_summarises_accuracy_by_demand_class(api_client, forecast_run):
    response = api_client.get("/api/v1/forecasts/summary/")
    assert response.status_code == 200
    body = response.json()
    assert body["run"] == forecast_run.pk
    assert body["series"] == 1
    (klass,) = body["classes"]
    assert klass["series"] == 1
    assert sum(klass["model_mix"].values()) == 1
    assert sum(klass["member_mix"].values()) == pytest.approx(1.0)


def test_it_hides_other_merchants_runs(other_api_client, forecast_run):
    assert other_api_client.get(f"/api/v1/forecast-runs/{forecast_run.pk}/").status_code == 404
    assert other_api_client.get("/api/v1/forecast-runs/").json()["count"] == 0
    assert other_api_client.get("/api/v1/forecasts/", {"run": forecast_run.pk}).status_code == 404
    assert other_api_client.get("/api/v1/forecasts/").json()["count"] == 0
    assert other_api_client.get("/api/v1/forecasts/summary/").status_code == 404
