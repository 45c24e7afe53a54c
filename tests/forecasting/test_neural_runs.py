"""Forecast runs with neural candidates: trained once, reused while fresh and out of sample, never fatal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from forecasting import services
from forecasting.artifact_services import model_artifact_path
from forecasting.models import ForecastResult, ForecastRun, ModelArtifact
from tests.forecasting.shop import make_daily_sales

START = dt.date(2024, 1, 1)
DAYS = 120
CUTOFF = START + dt.timedelta(days=DAYS - 1)


@pytest.fixture
def neural_settings(settings, tmp_path):
    settings.MODEL_ARTIFACT_ROOT = tmp_path
    settings.NEURAL_DEVICE = "cpu"
    settings.NEURAL_THREADS = 1
    settings.NEURAL_MAX_TRAIN_SECONDS = 2
    return settings


@pytest.fixture
def shop(merchant):
    return make_daily_sales(merchant=merchant, skus=6, days=DAYS, start=START)


def _run(merchant, *, cutoff=CUTOFF, models="auto+gru") -> ForecastRun:
    config = services.ForecastConfig(horizon=14, models=models, n_paths=100)
    run, _created = services.forecast_run_request(merchant=merchant, config=config, data_cutoff=cutoff, dispatch=False)
    services.forecast_run_neural_prepare(run_id=run.pk, train=True)
    for chunk in services.forecast_run_plan(run_id=run.pk):
        services.forecast_chunk_execute(chunk_id=chunk.pk)
    return services.forecast_run_close(run_id=run.pk)


def test_it_trains_a_candidate_once_and_reuses_it_on_the_next_nights(merchant, shop, neural_settings):
    first = _run(merchant)
    assert first.status == ForecastRun.Status.SUCCEEDED
    # two versions: the candidate's weights end before auto's first backtest cutoff, the final ones at the cutoff
    artifact, final = ModelArtifact.objects.filter(merchant=merchant, name="gru").order_by("version")
    assert artifact.train_data_end == CUTOFF - dt.timedelta(days=3 * 14)
    assert final.train_data_end == CUTOFF
    assert artifact.config["horizon"] == final.config["horizon"] == 14
    assert first.neural["gru"]["artifact_id"] == artifact.pk
    assert first.neural["gru"]["final"] == {"artifact_id": final.pk, "version": 2, "train_data_end": str(CUTOFF)}
    results = ForecastResult.objects.filter(run=first)
    assert results.count() == 6
    assert all("gru" in result.explanation["model_info"]["candidates"] for result in results)
    # its own forecast distribution is blended into every result at the server's weight
    assert {result.explanation["model_info"]["global_weight"] for result in results} == {0.5}

    # the next night: both sets of weights are still usable (out of sample, final within the retrain period)
    next_night = _run(merchant, cutoff=CUTOFF + dt.timedelta(days=1))
    assert next_night.pk != first.pk
    assert next_night.neural["gru"]["artifact_id"] == artifact.pk
    assert next_night.neural["gru"]["final"]["artifact_id"] == final.pk
    assert ModelArtifact.objects.filter(merchant=merchant, name="gru").count() == 2
    # an earlier cutoff cannot use weights that saw days after its own backtest cutoff, nor final weights that saw
    # days after its cutoff: it trains its own of both
    earlier = _run(merchant, cutoff=CUTOFF - dt.timedelta(days=2))
    assert earlier.neural["gru"]["artifact_id"] not in (artifact.pk, final.pk)
    assert earlier.neural["gru"]["final"]["artifact_id"] not in (artifact.pk, final.pk)
    assert ModelArtifact.objects.filter(merchant=merchant, name="gru").count() == 4


def test_final_weights_older_than_the_retrain_period_in_data_are_trained_again(merchant, shop, neural_settings):
    neural_settings.NEURAL_RETRAIN_DAYS = 7
    first = _run(merchant)
    # eight days later the candidate's weights still end before the backtest, but the final ones miss 8 days
    later = _run(merchant, cutoff=CUTOFF + dt.timedelta(days=8))
    assert later.neural["gru"]["artifact_id"] == first.neural["gru"]["artifact_id"]
    assert later.neural["gru"]["final"]["train_data_end"] == str(CUTOFF + dt.timedelta(days=8))
    assert later.neural["gru"]["final"]["version"] == 3


def test_a_final_model_that_cannot_load_leaves_the_end_to_the_candidate(merchant, shop, neural_settings):
    config = services.ForecastConfig(horizon=14, models="auto+gru", n_paths=100)
    run, _created = services.forecast_run_request(merchant=merchant, config=config, data_cutoff=CUTOFF, dispatch=False)
    state = services.forecast_run_neural_prepare(run_id=run.pk, train=True)
    model_artifact_path(ModelArtifact.objects.get(pk=state["gru"]["final"]["artifact_id"])).unlink()
    services._loaded_models.clear()
    for chunk in services.forecast_run_plan(run_id=run.pk):
        services.forecast_chunk_execute(chunk_id=chunk.pk)
    run = services.forecast_run_close(run_id=run.pk)

    assert run.status == ForecastRun.Status.SUCCEEDED
    results = ForecastResult.objects.filter(run=run)
    assert results.count() == 6
    for result in results:
        assert "gru" in result.explanation["model_info"]["candidates"]
        assert result.explanation["model_info"]["global_weight"] == 0.5
        assert "missing" in result.explanation["neural_unavailable"]["gru final"]


def test_it_retrains_when_the_model_is_older_than_the_retrain_period(merchant, shop, neural_settings):
    first = _run(merchant)
    ModelArtifact.objects.filter(pk=first.neural["gru"]["artifact_id"]).update(
        trained_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    neural_settings.NEURAL_RETRAIN_DAYS = 7
    second = _run(merchant, models="auto+gru+lstm")
    # gru's candidate weights are too old; its final ones (version 2) are not, and stay
    assert second.neural["gru"]["version"] == 3
    assert second.neural["gru"]["final"]["version"] == 2
    assert second.neural["lstm"]["version"] == 1
    assert second.neural["lstm"]["final"]["version"] == 2


def test_a_run_whose_model_file_is_gone_forecasts_without_it_and_says_so(merchant, shop, neural_settings):
    config = services.ForecastConfig(horizon=14, models="auto+gru", n_paths=100)
    run, _created = services.forecast_run_request(merchant=merchant, config=config, data_cutoff=CUTOFF, dispatch=False)
    state = services.forecast_run_neural_prepare(run_id=run.pk, train=True)
    model_artifact_path(ModelArtifact.objects.get(pk=state["gru"]["artifact_id"])).unlink()
    services._loaded_models.clear()
    for chunk in services.forecast_run_plan(run_id=run.pk):
        services.forecast_chunk_execute(chunk_id=chunk.pk)
    run = services.forecast_run_close(run_id=run.pk)

    assert run.status == ForecastRun.Status.SUCCEEDED
    result = ForecastResult.objects.filter(run=run).first()
    assert "gru" not in result.explanation["model_info"]["candidates"]
    assert "missing" in result.explanation["neural_unavailable"]["gru"]


def test_training_attempts_are_capped_and_the_run_goes_on_statistical(merchant, shop, neural_settings):
    config = services.ForecastConfig(horizon=14, models="auto+gru")
    run, _created = services.forecast_run_request(merchant=merchant, config=config, data_cutoff=CUTOFF, dispatch=False)
    ForecastRun.objects.filter(pk=run.pk).update(neural={"training_attempts": services.MAX_NEURAL_TRAINING_ATTEMPTS})

    assert services.forecast_run_neural_prepare(run_id=run.pk, train=False)["missing"] == ["gru"]
    state = services.forecast_run_neural_prepare(run_id=run.pk, train=True)

    assert "did not finish" in state["gru"]["error"]
    assert "missing" not in state
    assert not ModelArtifact.objects.filter(merchant=merchant).exists()


def test_a_candidate_that_cannot_train_is_recorded_and_left_out(merchant, neural_settings):
    config = services.ForecastConfig(horizon=14, models="auto+gru")
    run, _created = services.forecast_run_request(merchant=merchant, config=config, data_cutoff=CUTOFF, dispatch=False)
    state = services.forecast_run_neural_prepare(run_id=run.pk, train=True)
    assert state["gru"]["error"].startswith("training failed: ModelArtifactError")


@pytest.mark.parametrize("models", ["arima", "auto+gru+gru", "auto+prophet", "auto+"])
def test_unknown_model_settings_are_refused(merchant, api_client, models):
    with pytest.raises(ValueError, match="unknown models"):
        services.forecast_run_request(
            merchant=merchant, config=services.ForecastConfig(models=models), data_cutoff=CUTOFF, dispatch=False
        )
    response = api_client.post("/api/v1/forecast-runs/", {"models": models}, format="json")
    assert response.status_code == 400
    assert "models" in response.json()
    assert not ForecastRun.objects.exists()


def test_a_blend_weight_of_zero_keeps_the_neural_candidates_to_their_means(merchant, shop, neural_settings):
    neural_settings.NEURAL_BLEND_WEIGHT = 0.0
    run = _run(merchant)
    results = ForecastResult.objects.filter(run=run)
    assert results.count() == 6
    assert not any("global_weight" in result.explanation["model_info"] for result in results)


def test_runs_nobody_configured_use_the_servers_neural_models(merchant, settings):
    settings.NEURAL_MODELS = ("gru", "gpt")
    run, _created = services.forecast_run_request(merchant=merchant, data_cutoff=CUTOFF, dispatch=False)
    assert run.config["models"] == "auto+gru+gpt"


def test_the_forecasts_page_names_the_neural_versions_a_run_used(merchant, owner, shop, neural_settings):
    run = _run(merchant)
    client = Client()
    client.force_login(owner)
    html = client.get("/forecasts/").content.decode()
    assert 'id="neural-models"' in html
    candidate_end = CUTOFF - dt.timedelta(days=42)
    assert (
        f"Run {run.pk} considered <strong>gru</strong> v1 (weights trained on history to {candidate_end}"
        f"; forecasting with v2, history to {CUTOFF})" in html
    )
    assert "auto+gru" in html  # the runs table names the models
    table = html.split('id="neural-model-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 3  # header + the two trained versions
    assert ">gru<" in table


def test_the_product_page_says_the_forecast_blends_the_neural_model_in(merchant, owner, shop, neural_settings):
    from inventory.models import Product

    _run(merchant)
    client = Client()
    client.force_login(owner)
    product = Product.objects.filter(merchant=merchant).order_by("sku").first()
    html = client.get(f"/products/{product.pk}/").content.decode()
    assert '<span id="forecast-blend"> · blended 50% with gru</span>' in html
