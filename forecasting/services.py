"""Writes of sales-forecast runs: request (idempotent), prepare neural candidates, plan into chunks, execute a
chunk, close.

Neural candidates (``models="auto+gru"``, or settings.NEURAL_MODELS for the runs nobody configured) are global
models trained across the catalogue and kept as versioned artifacts (forecasting.artifact_services). A run pins,
per candidate, the newest artifact trained within settings.NEURAL_RETRAIN_DAYS whose weights saw no day after the
run's first internal backtest cutoff (``neural_train_data_end``), so auto's backtest stays out of sample and the
nightly run reuses the weights instead of training every night; when there is none, the run first trains one (on
the forecast_gpu queue, at most MAX_NEURAL_TRAINING_ATTEMPTS times), and a candidate that cannot be trained or
loaded leaves the run statistical, with the reason in ForecastRun.neural. Those weights only score auto's backtest:
the forecasts from the cutoff (the candidate's mean where auto chooses it, and the blend of its distribution) come
from a second, "final" artifact of the same model whose data ends within NEURAL_RETRAIN_DAYS of the cutoff, trained
the same way when there is none, as a statistical candidate is refitted on the whole history once scored; a final
artifact that cannot be trained or loaded leaves that to the candidate's weights, said in the run and results.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from ecomforecast.models import Merchant
from forecasting import artifact_selectors, artifact_services, io, signals
from forecasting.engine.auto import FALLBACK_MODEL, AutoForecaster, AutoResult
from forecasting.engine.base import GlobalModel
from forecasting.engine.neural import NEURAL_MODEL_NAMES
from forecasting.engine.panel import forecast_panel
from forecasting.models import ForecastChunk, ForecastResult, ForecastRun, ForecastValue, ModelArtifact

logger = logging.getLogger(__name__)

DAILY_QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
# Reorder planning reads lead-time demand at service levels up to 99.5%; these come from sample paths.
CUMULATIVE_QUANTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995)
CHUNK_SIZE = 500
MAX_CHUNK_ATTEMPTS = 3
MAX_NEURAL_TRAINING_ATTEMPTS = 2
# loaded neural models kept per worker process (chunks of one run reuse them): 4 candidates and their finals
LOADED_MODELS_KEPT = 8


@dataclass(frozen=True)
class ForecastConfig:
    horizon: int = 28
    models: str = "auto"
    season_length: int = 7
    n_paths: int = 500
    seed: int = 0
    chunk_size: int = CHUNK_SIZE
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "horizon": self.horizon,
            "models": self.models,
            "season_length": self.season_length,
            "n_paths": self.n_paths,
            "seed": self.seed,
            "chunk_size": self.chunk_size,
            **self.extra,
        }


def neural_candidates(models: str) -> tuple[str, ...]:
    """The neural candidates of a models setting: "auto" -> (), "auto+gru+gpt" -> ("gru", "gpt")."""
    base, *extra = str(models).split("+")
    if base != "auto" or len(set(extra)) != len(extra) or any(name not in NEURAL_MODEL_NAMES for name in extra):
        raise ValueError(
            f"unknown models {models!r}: use auto or auto+<neural model>[+...] with {', '.join(NEURAL_MODEL_NAMES)}"
        )
    return tuple(extra)


def default_models() -> str:
    """The models of a run nobody configured: auto, with settings.NEURAL_MODELS as candidates."""
    return "+".join(["auto", *settings.NEURAL_MODELS])


def neural_train_data_end(*, data_cutoff: dt.date, horizon: int) -> dt.date:
    """The last day a neural candidate's weights may have seen: the run's first internal backtest cutoff."""
    return data_cutoff - dt.timedelta(days=AutoForecaster().n_windows * horizon)


def idempotency_key(*, merchant: Merchant, kind: str, data_cutoff: dt.date, config: dict) -> str:
    payload = json.dumps([merchant.pk, kind, data_cutoff.isoformat(), config], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


@transaction.atomic
def forecast_run_request(
    *,
    merchant: Merchant,
    config: ForecastConfig | None = None,
    data_cutoff: dt.date | None = None,
    dispatch: bool = True,
) -> tuple[ForecastRun, bool]:
    """The run for (merchant, cutoff, config): created and dispatched once, returned as it is on later requests."""
    config = config or ForecastConfig(models=default_models())
    neural_candidates(config.models)
    if data_cutoff is None:
        data_cutoff = io.last_sale_day(merchant=merchant) or timezone.localdate()
    config_dict = config.as_dict()
    key = idempotency_key(merchant=merchant, kind=ForecastRun.Kind.SALES, data_cutoff=data_cutoff, config=config_dict)
    run, created = ForecastRun.objects.get_or_create(
        merchant=merchant,
        idempotency_key=key,
        defaults={
            "kind": ForecastRun.Kind.SALES,
            "data_cutoff": data_cutoff,
            "horizon": config.horizon,
            "config": config_dict,
        },
    )
    if created and dispatch:
        from forecasting.tasks import forecast_run_start

        transaction.on_commit(lambda: forecast_run_start.delay(run.pk))
    return run, created


def forecast_run_neural_prepare(*, run_id: int, train: bool, progress=None) -> dict:
    """Pin usable model artifacts for each neural candidate of the run; with ``train``, first train the ones that
    have none (in this process). Returns ForecastRun.neural: per candidate {"artifact_id", "version",
    "train_data_end", "final": {...}} or {"error"}, and under "missing" the candidates still without either
    (train=False). The candidate's own pin scores auto's internal backtest (weights that saw no day after its first
    cutoff); "final" pins the newest weights that saw the run's recent data (see _final_artifact) and forecast from
    the cutoff, or holds the error that leaves the candidate's own weights to do that."""
    run = ForecastRun.objects.select_related("merchant").get(pk=run_id)
    names = neural_candidates(run.config.get("models", "auto"))
    state = {key: value for key, value in run.neural.items() if key != "missing"}
    if not names:
        return state
    train_end = neural_train_data_end(data_cutoff=run.data_cutoff, horizon=run.horizon)
    attempts = int(state.get("training_attempts", 0))
    if train:
        # counted before training, so that a training that kills its worker is not redelivered forever
        attempts += 1
        state["training_attempts"] = attempts
        ForecastRun.objects.filter(pk=run_id).update(neural=state)
    for name in names:
        if name not in state:
            pin = _pin(run, name, _usable_artifact(run, name, train_end), train_end, train, attempts, progress)
            if pin is not None:
                state[name] = pin
        if "artifact_id" in state.get(name, {}) and "final" not in state[name]:
            final = _pin(run, name, _final_artifact(run, name), run.data_cutoff, train, attempts, progress)
            if final is not None:
                state[name]["final"] = final
    missing = [name for name in names if _needs_pins(state.get(name))]
    if missing:
        state["missing"] = missing
    ForecastRun.objects.filter(pk=run_id).update(neural=state)
    return state


def _needs_pins(entry: dict | None) -> bool:
    """A candidate without a pin yet, or pinned without its final weights' pin (an error entry needs none)."""
    return entry is None or ("artifact_id" in entry and "final" not in entry)


def _pin(
    run: ForecastRun,
    name: str,
    artifact: ModelArtifact | None,
    train_end: dt.date,
    train: bool,
    attempts: int,
    progress,
) -> dict | None:
    """The pin of ``artifact``; without one, with ``train``, the pin of one trained now on data up to ``train_end``
    (or the error that kept it from training); None when there is none and ``train`` is off."""
    if artifact is None and train:
        if attempts > MAX_NEURAL_TRAINING_ATTEMPTS:
            return {"error": f"training did not finish in {MAX_NEURAL_TRAINING_ATTEMPTS} attempts"}
        try:
            artifact = artifact_services.model_artifact_train(
                merchant=run.merchant,
                name=name,
                data_cutoff=run.data_cutoff,
                train_data_end=train_end,
                params={"horizon": run.horizon, "season_length": run.config.get("season_length", 7), "freq": "D"},
                progress=progress,
            )
        except Exception as exc:  # the run goes on without these weights, and says why
            logger.exception("training %s to %s for run %s failed", name, train_end, run.pk)
            return {"error": f"training failed: {type(exc).__name__}: {exc}"[:500]}
    if artifact is None:
        return None
    return {
        "artifact_id": artifact.pk,
        "version": artifact.version,
        "train_data_end": artifact.train_data_end.isoformat(),
    }


def _usable_artifact(run: ForecastRun, name: str, train_end: dt.date) -> ModelArtifact | None:
    """The newest artifact the run may use as a candidate: recent, out of sample for its backtest, same horizon
    and season."""
    return _trained_for_run(
        run,
        artifact_selectors.model_artifact_usable(
            merchant=run.merchant, name=name, train_data_end_max=train_end, max_age_days=settings.NEURAL_RETRAIN_DAYS
        ),
    )


def _final_artifact(run: ForecastRun, name: str) -> ModelArtifact | None:
    """The newest artifact that may forecast from the run's cutoff: trained within NEURAL_RETRAIN_DAYS on data
    that ends no later than the cutoff and no more than NEURAL_RETRAIN_DAYS before it (a candidate's weights end a
    whole backtest span earlier and miss the recent weeks), same horizon and season."""
    return _trained_for_run(
        run,
        artifact_selectors.model_artifact_usable(
            merchant=run.merchant,
            name=name,
            train_data_end_max=run.data_cutoff,
            train_data_end_min=run.data_cutoff - dt.timedelta(days=settings.NEURAL_RETRAIN_DAYS),
            max_age_days=settings.NEURAL_RETRAIN_DAYS,
        ),
    )


def _trained_for_run(run: ForecastRun, artifact: ModelArtifact | None) -> ModelArtifact | None:
    if artifact is None:
        return None
    trained_for = (artifact.config.get("horizon"), artifact.config.get("season_length"))
    return artifact if trained_for == (run.horizon, run.config.get("season_length", 7)) else None


_loaded_models: dict[int, GlobalModel] = {}


@dataclass(frozen=True)
class RunGlobalModels:
    """A run's neural candidates loaded: their backtest weights, the weights that forecast from the cutoff (where
    those are pinned and load), and why any candidate or final model is left out."""

    candidates: dict[str, GlobalModel]
    finals: dict[str, GlobalModel]
    unavailable: dict[str, str]


def _run_global_models(run: ForecastRun) -> RunGlobalModels:
    """The run's pinned neural models, loaded (cached per process)."""
    loaded = RunGlobalModels({}, {}, {})
    for name in neural_candidates(run.config.get("models", "auto")):
        pin = run.neural.get(name) or {}
        model = _pinned_model(run, pin, name, loaded.unavailable)
        if model is None:
            continue
        loaded.candidates[name] = model
        if pin.get("final"):
            final = _pinned_model(run, pin["final"], f"{name} final", loaded.unavailable)
            if final is not None:
                loaded.finals[name] = final
    return loaded


def _pinned_model(run: ForecastRun, pin: dict, label: str, unavailable: dict[str, str]) -> GlobalModel | None:
    """The model a pin names, loaded; None, with the reason under ``label`` in ``unavailable``, when it cannot."""
    if "artifact_id" not in pin:
        unavailable[label] = pin.get("error", "no trained model")
        return None
    try:
        return _loaded_model(pin["artifact_id"], run.merchant_id)
    except (ModelArtifact.DoesNotExist, artifact_services.ModelArtifactError) as exc:
        logger.warning("run %s goes on without %s: %s", run.pk, label, exc)
        unavailable[label] = str(exc)[:500]
        return None


def _loaded_model(artifact_id: int, merchant_id: int) -> GlobalModel:
    if artifact_id not in _loaded_models:
        artifact = ModelArtifact.objects.get(pk=artifact_id, merchant_id=merchant_id)
        # its own paths (lstm/gru 10 x 10 draws, gpt 4): auto reads its mean and daily quantiles, never its paths
        model = artifact_services.model_artifact_load(artifact=artifact)
        while len(_loaded_models) >= LOADED_MODELS_KEPT:
            _loaded_models.pop(next(iter(_loaded_models)))
        _loaded_models[artifact_id] = model
    return _loaded_models[artifact_id]


@transaction.atomic
def forecast_run_plan(*, run_id: int) -> list[ForecastChunk]:
    """Split the run's SKUs into chunks (once; a re-delivered start returns the chunks already planned)."""
    run = ForecastRun.objects.select_for_update().select_related("merchant").get(pk=run_id)
    chunk_size = int(run.config.get("chunk_size", CHUNK_SIZE))
    existing = list(run.chunks.order_by("index"))
    if existing:
        return existing
    product_ids = io.products_with_sales(merchant=run.merchant, cutoff=run.data_cutoff)
    chunks = ForecastChunk.objects.bulk_create(
        ForecastChunk(merchant=run.merchant, run=run, index=index, product_ids=product_ids[start : start + chunk_size])
        for index, start in enumerate(range(0, len(product_ids), chunk_size))
    )
    run.status = ForecastRun.Status.RUNNING
    run.started_at = timezone.now()
    run.chunks_total = len(chunks)
    run.series_total = len(product_ids)
    run.save(update_fields=["status", "started_at", "chunks_total", "series_total"])
    return chunks


def forecast_chunk_execute(*, chunk_id: int) -> ForecastChunk:
    """Forecast one chunk's SKUs and upsert their results; a retried chunk overwrites its own rows."""
    with transaction.atomic():
        chunk = ForecastChunk.objects.select_for_update().select_related("run__merchant").get(pk=chunk_id)
        if chunk.status == ForecastChunk.Status.SUCCEEDED:
            return chunk
        chunk.attempts += 1
        chunk.status = ForecastChunk.Status.RUNNING
        chunk.save(update_fields=["attempts", "status"])
        ForecastRun.objects.filter(pk=chunk.run_id).update(attempts=F("attempts") + 1)
    if chunk.attempts > MAX_CHUNK_ATTEMPTS:
        # A chunk that keeps killing its worker is given up, so that the rest of the run can close.
        _chunk_fail(chunk, f"gave up after {MAX_CHUNK_ATTEMPTS} attempts")
        return chunk

    run = chunk.run
    config = run.config
    started = time.perf_counter()
    history = io.demand_series(merchant=run.merchant, product_ids=chunk.product_ids, cutoff=run.data_cutoff)
    campaigns = io.campaign_covariates(
        merchant=run.merchant,
        starts={item.product_id: item.start for item in history},
        cutoff=run.data_cutoff,
        horizon=run.horizon,
    )
    read_seconds = time.perf_counter() - started

    started = time.perf_counter()
    neural = _run_global_models(run)
    unavailable = neural.unavailable
    forecaster = AutoForecaster(
        season_length=config.get("season_length", 7),
        n_paths=config.get("n_paths", 500),
        seed=config.get("seed", 0),
        global_models=neural.candidates or None,
        global_weight=settings.NEURAL_BLEND_WEIGHT,
        final_models=neural.finals or None,
        covariate_names=campaigns.names if campaigns else None,
        covariate_kinds=campaigns.kinds if campaigns else None,
    )
    end = np.datetime64(run.data_cutoff, "D")
    X = [campaigns.history[item.product_id] for item in history] if campaigns else None
    X_future = [campaigns.future[item.product_id] for item in history] if campaigns else None
    outcomes = _forecast_guarded(
        forecaster, [item.values for item in history], run.horizon, end, X=X, X_future=X_future
    )

    first_day = run.data_cutoff + dt.timedelta(days=1)
    value_rows = [
        io.forecast_value_rows(forecast=outcome.forecast, first_day=first_day, cumulative_levels=CUMULATIVE_QUANTILES)
        for outcome in outcomes
    ]
    fallbacks = sum(bool(outcome.fallbacks) for outcome in outcomes)
    engine_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with transaction.atomic():
        results = ForecastResult.objects.bulk_create(
            [
                ForecastResult(
                    merchant=run.merchant,
                    run=run,
                    product_id=item.product_id,
                    model=outcome.model,
                    demand_class=outcome.demand_class,
                    metrics=_finite(outcome.backtest),
                    fallback=bool(outcome.fallbacks),
                    fallback_reason="; ".join(outcome.fallbacks),
                    explanation={
                        "members": list(outcome.members),
                        "history_start": item.start.isoformat(),
                        "censored_days": item.censored_days,
                        "model_info": _jsonable(outcome.forecast.info),
                        **({"neural_unavailable": unavailable} if unavailable else {}),
                        **(
                            {"campaigns": campaigns.planned[item.product_id]}
                            if campaigns and item.product_id in campaigns.planned
                            else {}
                        ),
                    },
                )
                for item, outcome in zip(history, outcomes, strict=True)
            ],
            update_conflicts=True,
            unique_fields=["run", "product"],
            update_fields=["model", "demand_class", "metrics", "fallback", "fallback_reason", "explanation"],
        )
        values = [(result.pk, row) for result, rows in zip(results, value_rows, strict=True) for row in rows]
        _values_replace(merchant_id=run.merchant_id, result_ids=[result.pk for result in results], values=values)
        write_seconds = time.perf_counter() - started
        chunk.status = ForecastChunk.Status.SUCCEEDED
        chunk.error = ""
        chunk.finished_at = timezone.now()
        chunk.timings = {"read": read_seconds, "engine": engine_seconds, "write": write_seconds}
        chunk.save(update_fields=["status", "error", "finished_at", "timings"])
        _run_advance(run.pk, series=len(history), fallbacks=fallbacks)
    return chunk


VALUE_COLUMNS = ("merchant_id", "result_id", "date", "mean", "p10", "p50", "p90", "quantiles", "cumulative")


def _values_replace(*, merchant_id: int, result_ids: list[int], values: list[tuple[int, dict]]) -> None:
    """The chunk's daily values replace whatever an earlier attempt of the chunk wrote (same transaction).

    On Postgres the rows are streamed with COPY: with bulk INSERTs, writing was most of a run's time. The two JSON
    columns are serialised with orjson: with the standard library, encoding them took a third of the write time.
    """
    ForecastValue.objects.filter(result_id__in=result_ids).delete()
    if connection.vendor != "postgresql":
        ForecastValue.objects.bulk_create(
            (ForecastValue(merchant_id=merchant_id, result_id=result_id, **row) for result_id, row in values),
            batch_size=2000,
        )
        return
    quote = connection.ops.quote_name
    statement = (
        f"COPY {quote(ForecastValue._meta.db_table)} ({', '.join(quote(column) for column in VALUE_COLUMNS)}) "
        "FROM STDIN"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for result_id, row in values:
            copy.write_row(
                (
                    merchant_id,
                    result_id,
                    row["date"],
                    row["mean"],
                    row["p10"],
                    row["p50"],
                    row["p90"],
                    orjson.dumps(row["quantiles"]).decode(),
                    orjson.dumps(row["cumulative"]).decode(),
                )
            )


def _forecast_guarded(
    forecaster: AutoForecaster,
    series: list,
    horizon: int,
    end: np.datetime64 | None = None,
    *,
    X: list[np.ndarray] | None = None,
    X_future: list[np.ndarray] | None = None,
) -> list[AutoResult]:
    """The whole chunk at once; if the engine breaks on it, series by series, so one bad series fails alone.

    X / X_future (one block per series, or both None) are the covariates known in advance; a series retried alone
    keeps its own, so its campaigns still move its forecast (their effects then come from that series only).
    Without covariates the engine is called exactly as it was before they existed."""
    covariates = {"X": X, "X_future": X_future} if X is not None and X_future is not None else None
    try:
        return forecaster.forecast(series, horizon, quantiles=DAILY_QUANTILES, end=end, **(covariates or {}))
    except Exception:
        logger.exception("auto failed on a chunk of %d series; retrying series by series", len(series))
    outcomes = []
    for index, values in enumerate(series):
        own = {"X": [covariates["X"][index]], "X_future": [covariates["X_future"][index]]} if covariates else {}
        try:
            outcomes.extend(forecaster.forecast([values], horizon, quantiles=DAILY_QUANTILES, end=end, **own))
        except Exception as exc:
            outcomes.append(_fallback_outcome(forecaster, values, horizon, exc))
    return outcomes


def _fallback_outcome(forecaster: AutoForecaster, values, horizon: int, exc: Exception) -> AutoResult:
    (forecast,) = forecast_panel(
        FALLBACK_MODEL,
        [values],
        horizon,
        quantiles=DAILY_QUANTILES,
        season_length=forecaster.season_length,
        n_paths=forecaster.n_paths,
        seed=forecaster.seed,
    )
    reason = f"auto failed ({type(exc).__name__}: {exc}); used {FALLBACK_MODEL}"
    return AutoResult(
        model=FALLBACK_MODEL,
        demand_class="unknown",
        members=(FALLBACK_MODEL,),
        backtest={},
        forecast=forecast,
        fallbacks=(reason,),
    )


def _chunk_fail(chunk: ForecastChunk, message: str) -> None:
    with transaction.atomic():
        chunk.status = ForecastChunk.Status.FAILED
        chunk.error = message[:4000]
        chunk.finished_at = timezone.now()
        chunk.save(update_fields=["status", "error", "finished_at"])
        _run_advance(chunk.run_id, series=0, fallbacks=0)


def forecast_chunk_fail(*, chunk_id: int, message: str) -> None:
    _chunk_fail(ForecastChunk.objects.get(pk=chunk_id), message)


def _run_advance(run_id: int, *, series: int, fallbacks: int) -> None:
    run = ForecastRun.objects.select_for_update().get(pk=run_id)
    run.chunks_done = run.chunks.exclude(
        status__in=[ForecastChunk.Status.PENDING, ForecastChunk.Status.RUNNING]
    ).count()
    run.series_done += series
    run.fallback_count += fallbacks
    run.progress = run.chunks_done / run.chunks_total if run.chunks_total else 1.0
    run.save(update_fields=["chunks_done", "series_done", "fallback_count", "progress"])


@transaction.atomic
def forecast_run_close(*, run_id: int) -> ForecastRun:
    run = ForecastRun.objects.select_for_update().get(pk=run_id)
    already_succeeded = run.status == ForecastRun.Status.SUCCEEDED
    chunks = list(run.chunks.all())
    failed = [chunk for chunk in chunks if chunk.status == ForecastChunk.Status.FAILED]
    totals = {"read": 0.0, "engine": 0.0, "write": 0.0}
    for chunk in chunks:
        for key in totals:
            totals[key] += float(chunk.timings.get(key, 0.0))
    run.finished_at = timezone.now()
    if run.started_at:
        totals["total"] = (run.finished_at - run.started_at).total_seconds()
    run.timings = totals
    run.progress = 1.0
    run.chunks_done = len(chunks)
    if failed:
        run.status = ForecastRun.Status.FAILED
        run.error = f"{len(failed)} of {len(chunks)} chunks failed: " + "; ".join(
            f"chunk {chunk.index}: {chunk.error}" for chunk in failed[:5]
        )
    else:
        run.status = ForecastRun.Status.SUCCEEDED
    run.save()
    if run.status == ForecastRun.Status.SUCCEEDED and not already_succeeded:
        transaction.on_commit(lambda: signals.forecast_run_succeeded.send(sender=ForecastRun, run=run))
    return run


def _finite(metrics: dict) -> dict:
    """Backtest scores under lower-case names, without NaN/inf (JSON has no place for them)."""
    return {
        key.lower(): float(value) for key, value in metrics.items() if value == value and abs(value) != float("inf")
    }


def _jsonable(value):
    """Model info as strict JSON: numpy values as Python ones, NaN and infinities as None."""
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def forecast_run_execute_in_process(
    *, merchant: Merchant, config: ForecastConfig | None = None, progress=None
) -> ForecastRun:
    """The whole run in this process, chunk by chunk (management commands and the demo); idempotent like a request."""
    run, _created = forecast_run_request(merchant=merchant, config=config, dispatch=False)
    forecast_run_neural_prepare(run_id=run.pk, train=True)
    chunks = forecast_run_plan(run_id=run.pk)
    for done, chunk in enumerate(chunks, start=1):
        forecast_chunk_execute(chunk_id=chunk.pk)
        if progress:
            progress(done, len(chunks))
    return forecast_run_close(run_id=run.pk)


@transaction.atomic
def forecast_run_reset(*, run_id: int) -> ForecastRun:
    """Start a run again from scratch (staff action): its chunks are re-planned, its rows overwritten."""
    run = ForecastRun.objects.select_for_update().get(pk=run_id)
    run.chunks.all().delete()
    run.status = ForecastRun.Status.PENDING
    run.progress = 0.0
    run.chunks_total = run.chunks_done = run.series_done = run.fallback_count = 0
    run.error = ""
    run.finished_at = None
    run.neural = {}
    run.save()
    from forecasting.tasks import forecast_run_start

    transaction.on_commit(lambda: forecast_run_start.delay(run.pk))
    return run
