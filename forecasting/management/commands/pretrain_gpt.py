"""python manage.py pretrain_gpt [--out DIR] [--series 2000] [--length 730] [--freq D] [--operator-series PATH]
[--max-seconds 600] [--seed 0] [--device D] [--threads N] [--model-params JSON] [--with-promotions]
[--evaluate-series N]"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from forecasting.bench.pretrain import (
    add_arguments,
    epoch_bar,
    options_to_kwargs,
    planned_epochs,
    pretrain_base,
    summary,
)


class Command(BaseCommand):
    help = (
        "Pretrains a GPT base checkpoint on the synthetic demand corpus (plus any operator series) and writes it as "
        "the next gpt-base-v<N>.pt with a JSON sidecar holding its recipe; merchants' GPT models fine-tune from it. "
        "Device and threads default to NEURAL_DEVICE and NEURAL_THREADS, the directory to MODEL_ARTIFACT_ROOT/base."
    )

    def add_arguments(self, parser):
        add_arguments(
            parser,
            out_default=settings.MODEL_ARTIFACT_ROOT / "base",
            device_default=settings.NEURAL_DEVICE,
            threads_default=settings.NEURAL_THREADS,
        )

    def handle(self, *args, **options):
        kwargs = options_to_kwargs(options)
        bar, advance = epoch_bar(planned_epochs(kwargs["model_params"]))
        try:
            path, sidecar = pretrain_base(**kwargs, progress=advance)
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        self.stdout.write(summary(path, sidecar))
