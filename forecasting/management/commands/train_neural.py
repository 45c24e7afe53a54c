"""python manage.py train_neural --merchant SLUG --model lstm [--cutoff YYYY-MM-DD] [--train-end YYYY-MM-DD]
[--max-seconds N] [--param KEY=VALUE ...] [--sync]"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from ecomforecast.models import Merchant
from forecasting import artifact_services, io, tasks
from forecasting.engine.neural import NEURAL_MODEL_NAMES, neural_model_class


def parameter(text: str) -> tuple[str, object]:
    """KEY=VALUE with VALUE read as JSON (numbers, true/false, null), else kept as text."""
    key, separator, raw = text.partition("=")
    if not separator or not key:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


class Command(BaseCommand):
    help = (
        "Trains a neural model on a merchant's daily demand and registers it as a new artifact version: in process "
        "with --sync (a bar of epochs), else queued on the forecast_gpu workers (prints the task id)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True)
        parser.add_argument("--model", required=True, choices=NEURAL_MODEL_NAMES)
        parser.add_argument(
            "--cutoff", type=dt.date.fromisoformat, default=None, help="the run cutoff; default the last sale day"
        )
        parser.add_argument(
            "--train-end",
            type=dt.date.fromisoformat,
            default=None,
            help="last day of demand the weights may see (at or before the cutoff); default the cutoff",
        )
        parser.add_argument(
            "--max-seconds", type=int, default=None, help="training time budget; default NEURAL_MAX_TRAIN_SECONDS"
        )
        parser.add_argument(
            "--param",
            type=parameter,
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a hyper-parameter of the model, e.g. --param hidden_size=64 (repeatable)",
        )
        parser.add_argument("--sync", action="store_true", help="train in this process with a progress bar")

    def handle(self, *args, **options):
        try:
            merchant = Merchant.objects.get(slug=options["merchant"])
        except Merchant.DoesNotExist as exc:
            raise CommandError(f"no merchant {options['merchant']!r}") from exc
        cutoff = options["cutoff"] or io.last_sale_day(merchant=merchant) or timezone.localdate()
        train_end = options["train_end"]
        if train_end is not None and train_end > cutoff:
            raise CommandError(f"--train-end {train_end} is after the cutoff {cutoff}")
        params = dict(options["param"])
        if options["max_seconds"] is not None:
            params["max_seconds"] = options["max_seconds"]
        name = options["model"]

        try:
            queued = artifact_services.model_artifact_queue(
                merchant=merchant, name=name, data_cutoff=cutoff, train_data_end=train_end, params=params
            )
        except artifact_services.ModelArtifactError as exc:
            raise CommandError(str(exc)) from exc
        if not options["sync"]:
            # the row is committed (no transaction is open here), so the worker finds it
            result = tasks.train_neural_model.delay(queued.pk)
            self.stdout.write(
                f"task {result.id} queued: {name} v{queued.version} (artifact {queued.pk}) for {merchant.slug}, "
                f"cutoff {cutoff}"
            )
            return

        bar = tqdm(
            total=params.get("max_epochs", neural_model_class(name)().max_epochs), unit="epoch", desc=f"training {name}"
        )
        try:
            artifact = artifact_services.model_artifact_training_execute(
                artifact_id=queued.pk, progress=lambda log: self._advance(bar, log)
            )
        except artifact_services.ModelArtifactError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        training = artifact.metrics.get("training", {})
        loss = artifact.metrics.get("validation_loss")
        self.stdout.write(
            f"{artifact.name} v{artifact.version} for {merchant.slug}: {artifact.series_count} series up to "
            f"{artifact.train_data_end}, {artifact.n_parameters:,} parameters, {training.get('epochs', 0)} epochs "
            f"in {artifact.training_seconds:.1f} s on {artifact.device} ({training.get('stopped', '')}), "
            f"validation loss {'–' if loss is None else f'{loss:.4f}'}, {artifact.size_bytes:,} bytes at "
            f"{artifact_services.model_artifact_path(artifact)}"
        )

    @staticmethod
    def _advance(bar: tqdm, log) -> None:
        """One call per finished epoch, with the training log so far."""
        bar.n = log.epochs
        bar.set_postfix_str(
            f"train {log.train_losses[-1]:.4f} validation {log.validation_losses[-1]:.4f}", refresh=False
        )
        bar.refresh()
