"""python manage.py evaluate_customers --merchant SLUG [--holdout-days 90] [--cutoff YYYY-MM-DD] [--json PATH]
[--no-sequence]"""

from __future__ import annotations

import datetime as dt
import json
import math
import pathlib
import time

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from ecomforecast.models import Merchant
from forecasting import customer_io
from forecasting.engine.customer.evaluate import EvaluationReport, evaluate_customer_models

METRIC_COLUMNS = (
    ("auc", "AUC", "{:.4f}"),
    ("brier", "Brier", "{:.4f}"),
    ("log_loss", "log loss", "{:.4f}"),
    ("count_mae", "count MAE", "{:.3f}"),
    ("predicted_total", "predicted", "{:,.0f}"),
    ("actual_total", "actual", "{:,.0f}"),
    ("aggregate_error", "aggr. error", "{:+.1%}"),
    ("fit_seconds", "fit s", "{:.1f}"),
    ("score_seconds", "score s", "{:.2f}"),
)
REFERENCE_MODEL = "bg_nbd"


def format_report(report: EvaluationReport) -> str:
    """Every model's holdout metrics side by side, then AUC and Brier relative to BG/NBD."""
    rows = report.rows
    width = max(len(row["model"]) for row in rows)
    header = " ".join([f"{'model':<{width}}", *(f"{label:>12}" for _key, label, _fmt in METRIC_COLUMNS)])
    lines = [
        f"cutoff {report.cutoff.date()}  holdout {report.holdout_days} days  customers {report.customers:,}  "
        f"bought in holdout {report.holdout_purchasers:,} ({report.holdout_purchasers / report.customers:.1%})",
        header,
    ]
    for row in rows:
        cells = [
            f"{fmt.format(row[key]):>12}"
            if isinstance(row.get(key), (int, float)) and math.isfinite(row[key])
            else f"{'—':>12}"
            for key, _label, fmt in METRIC_COLUMNS
        ]
        lines.append(" ".join([f"{row['model']:<{width}}", *cells]))
    reference = next((row for row in rows if row["model"] == REFERENCE_MODEL), None)
    if reference is not None:
        lines.append(f"relative to {REFERENCE_MODEL}:")
        for row in rows:
            if row["model"] != REFERENCE_MODEL:
                lines.append(
                    f"  {row['model']}: AUC x{row['auc'] / reference['auc']:.3f}  "
                    f"Brier x{row['brier'] / reference['brier']:.3f}"
                )
    for row in rows:
        if "predicted_spend" in row:
            lines.append(
                f"{row['model']} x gamma_gamma holdout spend: predicted {row['predicted_spend']:,.2f}, "
                f"actual {row['actual_spend']:,.2f}"
            )
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Evaluates every customer model on the merchant's own data: fitted on the history before the cutoff, "
        "scored on the following holdout days (AUC, Brier, log loss, count MAE, aggregate error, seconds)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True)
        parser.add_argument("--holdout-days", type=int, default=90)
        parser.add_argument(
            "--cutoff",
            type=dt.date.fromisoformat,
            default=None,
            help="first day of the holdout (history is everything before it); default: the holdout ends with the "
            "merchant's last order day",
        )
        parser.add_argument("--calibration", choices=("isotonic", "platt"), default="isotonic")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", type=pathlib.Path, default=None, help="also write the full report here")
        parser.add_argument(
            "--no-sequence",
            action="store_true",
            help="leave out the GRU sequence model (the slowest to train: minutes on a few thousand customers)",
        )

    def handle(self, *args, **options):
        try:
            merchant = Merchant.objects.get(slug=options["merchant"])
        except Merchant.DoesNotExist as exc:
            raise CommandError(f"no merchant {options['merchant']!r}") from exc
        holdout_days = options["holdout_days"]
        if holdout_days < 1:
            raise CommandError("--holdout-days must be at least 1")
        last_day = customer_io.last_order_day(merchant=merchant)
        if last_day is None:
            raise CommandError(f"merchant {merchant.slug!r} has no orders with a customer")
        cutoff = options["cutoff"] or last_day + dt.timedelta(days=1 - holdout_days)
        holdout_end = cutoff + dt.timedelta(days=holdout_days - 1)

        started = time.perf_counter()
        self.stderr.write(f"reading orders and activity up to {holdout_end} ...")
        transactions = customer_io.transactions_table(merchant=merchant, data_cutoff=holdout_end)
        events = customer_io.events_table(
            merchant=merchant,
            data_cutoff=holdout_end,
            lookback_days=customer_io.EVENT_LOOKBACK_DAYS + holdout_days,
        )
        self.stderr.write(
            f"{len(transactions):,} orders and returns, {0 if events is None else len(events):,} events "
            f"({time.perf_counter() - started:.1f}s); fitting every model on the history before {cutoff} ..."
        )
        try:
            report = evaluate_customer_models(
                transactions,
                events,
                cutoff=pd.Timestamp(cutoff),
                holdout_days=holdout_days,
                classifier_options={"calibration": options["calibration"], "seed": options["seed"]},
                include_sequence=not options["no_sequence"],
                include_seasonal=True,
                sequence_options={"seed": options["seed"]},
                sequence_progress=self._epoch_progress,
            )
        except ValueError as exc:
            raise CommandError(f"cannot evaluate on this history: {exc}") from exc
        self.stdout.write(format_report(report))
        if options["json"]:
            options["json"].write_text(json.dumps(report.as_dict(), indent=2, default=str))
            self.stderr.write(f"report written to {options['json']}")

    def _epoch_progress(self, epoch: int, epochs: int, validation_loss: float) -> None:
        self.stderr.write(f"  GRU epoch {epoch}/{epochs}: validation loss {validation_loss:.4f}")
