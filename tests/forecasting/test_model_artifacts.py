"""Trained neural models as artifacts: train and register, load back, refuse tampered files, pick a usable
version, keep three active versions, and the task, command and admin around them."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import types

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from ecomforecast.celery import app
from forecasting import artifact_selectors, artifact_services, tasks
from forecasting import io as forecast_io
from forecasting.artifact_services import ModelArtifactError
from forecasting.engine.neural import make_neural_model
from forecasting.models import ForecastRun, ModelArtifact
from tests.admin.test_changelists import queries_for_changelist
from tests.forecasting.shop import make_daily_sales

pytestmark = pytest.mark.django_db

START = dt.date(2024, 1, 1)
DAYS = 120
CUTOFF = START + dt.timedelta(days=DAYS - 1)
# A SKU that starts selling in the last 20 days: in the panel up to the cutoff, not in one ending 30 days earlier.
NEW_SKU_DAYS = 20
TINY = {
    "hidden_size": 8,
    "num_layers": 1,
    "max_epochs": 2,
    "steps_per_epoch": 3,
    "batch_size": 16,
    "horizon": 7,
    "n_paths": 20,
    "threads": 1,
}


@pytest.fixture(autouse=True)
def artifact_root(settings, tmp_path):
    settings.MODEL_ARTIFACT_ROOT = tmp_path / "models"
    settings.NEURAL_DEVICE = "cpu"
    settings.NEURAL_THREADS = 1
    return settings.MODEL_ARTIFACT_ROOT


@pytest.fixture
def shop(merchant):
    make_daily_sales(merchant=merchant, skus=4, days=DAYS, start=START)
    make_daily_sales(
        merchant=merchant,
        skus=1,
        days=NEW_SKU_DAYS,
        start=CUTOFF - dt.timedelta(days=NEW_SKU_DAYS - 1),
        seed=1,
        prefix="NEW",
    )
    return merchant


def train(merchant, **kwargs) -> ModelArtifact:
    return artifact_services.model_artifact_train(
        merchant=merchant, name="lstm", data_cutoff=CUTOFF, params=TINY, **kwargs
    )


def register(merchant, version: int, *, name: str = "lstm", content: bytes = b"weights", **fields) -> ModelArtifact:
    """A row with a small file behind it, as if version ``version`` had been trained."""
    values = {
        "sha256": hashlib.sha256(content).hexdigest(),
        "size_bytes": len(content),
        "data_cutoff": CUTOFF,
        "train_data_end": CUTOFF,
        **fields,
    }
    artifact = ModelArtifact(
        merchant=merchant, name=name, version=version, storage_path=f"{merchant.slug}/{name}/v{version}.pt", **values
    )
    path = artifact_services.model_artifact_path(artifact)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    artifact.save()
    return artifact


def test_it_trains_a_model_into_a_checksummed_file_and_a_row_then_the_next_version(shop, artifact_root):
    first = train(shop)
    second = train(shop)

    assert (first.version, second.version) == (1, 2)
    path = artifact_root / "acme" / "lstm" / "v1.pt"
    assert first.storage_path == "acme/lstm/v1.pt"
    assert artifact_services.model_artifact_path(first) == path
    assert first.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert first.size_bytes == path.stat().st_size > 0
    assert (artifact_root / "acme" / "lstm" / "v2.pt").is_file()
    assert sorted(item.name for item in path.parent.iterdir()) == ["v1.pt", "v2.pt"]
    assert first.status == ModelArtifact.Status.ACTIVE
    assert (first.data_cutoff, first.train_data_end) == (CUTOFF, CUTOFF)
    assert first.series_count == 5
    assert first.n_parameters > 0
    assert first.device == "cpu"
    assert first.training_seconds > 0
    assert first.config["hidden_size"] == 8
    assert first.config["max_seconds"] == 900
    assert first.metrics["training"]["epochs"] == 2
    assert first.metrics["validation_loss"] == first.metrics["training"]["best_validation_loss"]
    assert np.isfinite(first.metrics["validation_loss"])


def test_it_trains_only_on_demand_up_to_the_train_end(shop):
    train_end = CUTOFF - dt.timedelta(days=30)

    artifact = train(shop, train_data_end=train_end)

    assert (artifact.data_cutoff, artifact.train_data_end) == (CUTOFF, train_end)
    assert artifact.series_count == 4


def test_it_refuses_a_train_end_after_the_cutoff_and_a_merchant_without_sales(shop, other_merchant, artifact_root):
    with pytest.raises(ValueError, match="after the data cutoff"):
        train(shop, train_data_end=CUTOFF + dt.timedelta(days=1))
    with pytest.raises(ModelArtifactError, match="no sales up to"):
        train(other_merchant)
    with pytest.raises(ModelArtifactError, match="unknown neural model 'tcn'"):
        artifact_services.model_artifact_train(merchant=shop, name="tcn", data_cutoff=CUTOFF)

    assert not ModelArtifact.objects.exists()
    assert not any(path.is_file() for path in artifact_root.rglob("*"))


def test_it_loads_a_model_that_forecasts_exactly_as_before_saving(shop, monkeypatch):
    built = []

    def keep(name, **params):
        model = make_neural_model(name, **params)
        built.append(model)
        return model

    monkeypatch.setattr(artifact_services, "make_neural_model", keep)
    artifact = train(shop)
    series = forecast_io.demand_series(
        merchant=shop, product_ids=forecast_io.products_with_sales(merchant=shop, cutoff=CUTOFF), cutoff=CUTOFF
    )
    contexts = [item.values for item in series]
    end = np.datetime64(CUTOFF, "D")

    loaded = artifact_services.model_artifact_load(artifact=artifact)
    before = built[0].predict(7, contexts, end=end)
    after = loaded.predict(7, contexts, end=end)

    assert type(loaded) is type(built[0])
    assert loaded.n_parameters_ == artifact.n_parameters
    assert len(after) == len(before) == 5
    for original, reloaded in zip(before, after, strict=True):
        np.testing.assert_array_equal(reloaded.mean, original.mean)
        np.testing.assert_array_equal(reloaded.quantiles, original.quantiles)
        np.testing.assert_array_equal(reloaded.paths, original.paths)


def test_it_refuses_to_load_a_changed_missing_or_retired_checkpoint(merchant):
    artifact = register(merchant, 1, content=b"trained weights")
    path = artifact_services.model_artifact_path(artifact)

    path.write_bytes(b"trained weightz")
    with pytest.raises(ModelArtifactError, match=r"lstm v1 .*does not match its recorded sha256"):
        artifact_services.model_artifact_load(artifact=artifact)

    path.unlink()
    with pytest.raises(ModelArtifactError, match=r"lstm v1 .*is missing"):
        artifact_services.model_artifact_load(artifact=artifact)

    artifact.status = ModelArtifact.Status.RETIRED
    with pytest.raises(ModelArtifactError, match="is retired"):
        artifact_services.model_artifact_load(artifact=artifact)


def test_it_picks_the_newest_active_recent_version_trained_before_the_bound(merchant, other_merchant):
    bound = CUTOFF - dt.timedelta(days=28)
    now = timezone.now()
    old = register(merchant, 1, train_data_end=bound - dt.timedelta(days=7))
    fitting = register(merchant, 2, train_data_end=bound)
    register(merchant, 3, train_data_end=bound, status=ModelArtifact.Status.RETIRED)
    register(merchant, 4, train_data_end=bound + dt.timedelta(days=1))
    register(merchant, 9, name="gru", train_data_end=bound)
    register(other_merchant, 7, train_data_end=bound)
    ModelArtifact.objects.filter(pk=old.pk).update(trained_at=now - dt.timedelta(days=20))
    ModelArtifact.objects.filter(pk=fitting.pk).update(trained_at=now - dt.timedelta(days=3))

    def usable(max_age_days: int, train_data_end_max: dt.date = bound) -> ModelArtifact | None:
        return artifact_selectors.model_artifact_usable(
            merchant=merchant, name="lstm", train_data_end_max=train_data_end_max, max_age_days=max_age_days, now=now
        )

    assert usable(30) == fitting
    assert usable(30, bound - dt.timedelta(days=1)) == old
    assert usable(10, bound - dt.timedelta(days=1)) is None
    assert usable(2) is None
    assert (
        artifact_selectors.model_artifact_usable(
            merchant=other_merchant, name="lstm", train_data_end_max=bound, max_age_days=30
        ).version
        == 7
    )
    assert [(item.name, item.version) for item in artifact_selectors.model_artifact_list(merchant=merchant)] == [
        ("gru", 9),
        ("lstm", 4),
        ("lstm", 3),
        ("lstm", 2),
        ("lstm", 1),
    ]


def test_it_keeps_three_active_versions_and_deletes_the_retired_files(
    shop, other_merchant, django_capture_on_commit_callbacks
):
    older = [register(shop, version) for version in (1, 2, 3)]
    rival = register(other_merchant, 1)

    with django_capture_on_commit_callbacks(execute=True):
        newest = train(shop)

    assert newest.version == 4
    statuses = dict(ModelArtifact.objects.filter(merchant=shop).values_list("version", "status"))
    assert statuses == {1: "retired", 2: "active", 3: "active", 4: "active"}
    assert not artifact_services.model_artifact_path(older[0]).exists()
    assert all(artifact_services.model_artifact_path(item).is_file() for item in [*older[1:], newest, rival])


def test_it_keeps_the_versions_an_unfinished_run_has_pinned(shop, django_capture_on_commit_callbacks):
    older = [register(shop, version) for version in (1, 2, 3)]
    pins = {"lstm": {"artifact_id": older[1].pk, "final": {"artifact_id": older[0].pk}}}
    ForecastRun.objects.create(
        merchant=shop, data_cutoff=CUTOFF, horizon=14, idempotency_key="running", status="running", neural=pins
    )
    # a finished run's pins no longer matter
    ForecastRun.objects.create(
        merchant=shop,
        data_cutoff=CUTOFF,
        horizon=14,
        idempotency_key="done",
        status="succeeded",
        neural={"lstm": {"artifact_id": older[2].pk}},
    )

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            train(shop)

    statuses = dict(ModelArtifact.objects.filter(merchant=shop).values_list("version", "status"))
    # the newest three stay, and so do 1 and 2 while the run that pinned them is running; 3 goes
    assert statuses == {1: "active", 2: "active", 3: "retired", 4: "active", 5: "active", 6: "active"}
    assert artifact_services.model_artifact_path(older[0]).is_file()
    assert not artifact_services.model_artifact_path(older[2]).exists()


def test_it_routes_training_to_the_gpu_queue_and_runs_the_task(shop):
    assert app.amqp.router.route({}, "forecasting.tasks.train_neural_model")["queue"].name == "forecast_gpu"
    assert app.amqp.router.route({}, "forecasting.tasks.forecast_chunk")["queue"].name == "forecast_cpu"

    queued = artifact_services.model_artifact_queue(
        merchant=shop, name="lstm", data_cutoff=CUTOFF, train_data_end=dt.date(2024, 4, 1), params=TINY
    )
    artifact_id = tasks.train_neural_model(queued.pk)

    artifact = ModelArtifact.objects.get(pk=artifact_id)
    assert artifact_id == queued.pk
    assert (artifact.merchant_id, artifact.version, artifact.train_data_end) == (shop.pk, 1, dt.date(2024, 4, 1))
    assert (artifact.status, artifact.attempts, artifact.error) == ("active", 1, "")
    assert artifact.config["hidden_size"] == 8
    assert artifact.sha256 == hashlib.sha256(artifact_services.model_artifact_path(artifact).read_bytes()).hexdigest()


class WorkerLost(BaseException):
    """Stands for the worker being killed mid-training: no Exception handler of the service sees it."""


def count_builds(monkeypatch) -> list[str]:
    built: list[str] = []

    def counting(name, **params):
        built.append(name)
        return make_neural_model(name, **params)

    monkeypatch.setattr(artifact_services, "make_neural_model", counting)
    return built


def test_it_refuses_a_training_redelivered_after_the_attempts_cap_and_records_why(shop, monkeypatch, artifact_root):
    built = count_builds(monkeypatch)
    queued = artifact_services.model_artifact_queue(merchant=shop, name="lstm", data_cutoff=CUTOFF, params=TINY)
    assert (queued.status, queued.attempts, queued.version) == ("training", 0, 1)

    def die(log):
        raise WorkerLost

    for _ in range(artifact_services.MAX_TRAINING_ATTEMPTS):
        with pytest.raises(WorkerLost):
            artifact_services.model_artifact_training_execute(artifact_id=queued.pk, progress=die)
    assert ModelArtifact.objects.values_list("status", "attempts").get(pk=queued.pk) == ("training", 2)

    with pytest.raises(ModelArtifactError, match=r"lstm v1 .*did not finish in 2 attempts"):
        tasks.train_neural_model(queued.pk)
    with pytest.raises(ModelArtifactError, match="did not finish in 2 attempts"):
        tasks.train_neural_model(queued.pk)

    artifact = ModelArtifact.objects.get(pk=queued.pk)
    assert (artifact.status, artifact.attempts) == ("failed", 3)
    assert artifact.error == (
        "training did not finish in 2 attempts (the worker was lost each time); not trained again"
    )
    assert built == ["lstm", "lstm"]
    assert not any(path.is_file() for path in artifact_root.rglob("*"))
    with pytest.raises(ModelArtifactError, match="is failed, not trained"):
        artifact_services.model_artifact_load(artifact=artifact)


def test_it_returns_a_registered_version_to_a_redelivery_without_training_again(shop, monkeypatch):
    built = count_builds(monkeypatch)
    queued = artifact_services.model_artifact_queue(merchant=shop, name="lstm", data_cutoff=CUTOFF, params=TINY)

    first = tasks.train_neural_model(queued.pk)
    again = tasks.train_neural_model(queued.pk)

    assert first == again == queued.pk
    assert built == ["lstm"]
    assert ModelArtifact.objects.values_list("version", "status", "attempts").get() == (1, "active", 1)


def test_it_goes_on_with_a_training_a_lost_worker_left_unfinished_instead_of_leaving_its_row_behind(shop):
    lost = artifact_services.model_artifact_queue(merchant=shop, name="lstm", data_cutoff=CUTOFF, params=TINY)
    ModelArtifact.objects.filter(pk=lost.pk).update(attempts=1)

    artifact = artifact_services.model_artifact_train(merchant=shop, name="lstm", data_cutoff=CUTOFF, params=TINY)

    assert artifact.pk == lost.pk
    assert ModelArtifact.objects.values_list("version", "status", "attempts").get() == (1, "active", 2)
    other = artifact_services.model_artifact_train(
        merchant=shop, name="lstm", data_cutoff=CUTOFF, params={**TINY, "max_epochs": 1}
    )
    assert other.version == 2


def test_it_records_a_failed_training_and_does_not_retry_it(shop):
    queued = artifact_services.model_artifact_queue(
        merchant=shop, name="lstm", data_cutoff=CUTOFF, params={**TINY, "no_such_parameter": 1}
    )

    with pytest.raises(TypeError):
        tasks.train_neural_model(queued.pk)
    artifact = ModelArtifact.objects.get(pk=queued.pk)
    assert (artifact.status, artifact.attempts) == ("failed", 1)
    assert artifact.error.startswith("training failed: TypeError: ")
    assert "no_such_parameter" in artifact.error

    with pytest.raises(ModelArtifactError, match=r"lstm v1 .*failed: training failed: TypeError"):
        tasks.train_neural_model(queued.pk)
    assert ModelArtifact.objects.get(pk=queued.pk).attempts == 1
    assert train(shop).version == 2


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("train_neural", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_trains_in_process_from_the_command(shop):
    params = [f"--param={key}={value}" for key, value in TINY.items()]

    output = run_command("--merchant", "acme", "--model", "lstm", "--sync", "--max-seconds", "60", *params)

    artifact = ModelArtifact.objects.get(merchant=shop)
    assert (artifact.version, artifact.data_cutoff, artifact.config["max_seconds"]) == (1, CUTOFF, 60)
    assert output.startswith(
        f"lstm v1 for acme: 5 series up to {CUTOFF}, {artifact.n_parameters:,} parameters, 2 epochs"
    )


def test_it_queues_training_on_the_gpu_workers_from_the_command(shop, monkeypatch):
    queued = []

    def delay(*args):
        queued.append(args)
        return types.SimpleNamespace(id="task-1")

    monkeypatch.setattr(tasks.train_neural_model, "delay", delay)

    output = run_command(
        "--merchant", "acme", "--model", "gru", "--train-end", "2024-04-01", "--param", "hidden_size=16"
    )

    artifact = ModelArtifact.objects.get(merchant=shop)
    assert queued == [(artifact.pk,)]
    assert output == f"task task-1 queued: gru v1 (artifact {artifact.pk}) for acme, cutoff {CUTOFF}\n"
    assert (artifact.name, artifact.status, artifact.attempts) == ("gru", "training", 0)
    assert (artifact.data_cutoff, artifact.train_data_end) == (CUTOFF, dt.date(2024, 4, 1))
    assert artifact.config == {"hidden_size": 16}


def test_it_reports_bad_command_arguments(shop):
    with pytest.raises(CommandError, match="no merchant 'nobody'"):
        run_command("--merchant", "nobody", "--model", "lstm")
    with pytest.raises(CommandError, match="after the cutoff"):
        run_command("--merchant", "acme", "--model", "lstm", "--cutoff", "2024-03-01", "--train-end", "2024-03-02")
    with pytest.raises(CommandError, match="invalid choice"):
        run_command("--merchant", "acme", "--model", "tcn")


def test_it_lists_artifacts_in_admin_in_constant_queries_and_retires_them(
    admin_client, merchant, other_merchant, django_capture_on_commit_callbacks
):
    url = reverse("admin:forecasting_modelartifact_changelist")
    register(merchant, 1, n_parameters=12345, size_bytes=2048)
    register(other_merchant, 1)
    few = queries_for_changelist(admin_client, url)
    artifacts = [register(merchant, version) for version in (2, 3, 4)]

    response = admin_client.get(url)

    assert queries_for_changelist(admin_client, url) == few
    assert len(response.context["cl"].result_list) == 5
    assert "12,345" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"action": "retire", "_selected_action": [artifacts[0].pk, artifacts[1].pk]}, follow=True
        )
    assert "2 model version(s) retired." in response.content.decode()
    assert set(ModelArtifact.objects.filter(status="retired").values_list("version", flat=True)) == {2, 3}
    assert not artifact_services.model_artifact_path(artifacts[0]).exists()
    assert artifact_services.model_artifact_path(artifacts[2]).is_file()
