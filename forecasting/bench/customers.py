"""Customer-model benchmark on the UCI Online Retail files: BG/NBD, Pareto/NBD, gradient boosting, the GRU
sequence model and the seasonal time change of BG/NBD and Pareto/NBD side by side.

    python -m forecasting.bench.customers --input online_retail_II_2009_2010.parquet online_retail.parquet \
        --holdout-days 90 [--cutoff 2011-09-11] [--calibration isotonic] [--report report.json] \
        [--no-sequence] [--device cpu|cuda] [--threads N] [--no-seasonal] [--seasonal-prior-log-scale 0.5]

Accepts both column spellings (InvoiceNo/Invoice, CustomerID/"Customer ID", UnitPrice/Price). Rows without a
customer are dropped; an invoice is one purchase occasion; invoices prefixed C are returns, A (bad-debt
write-offs) are dropped, and non-product lines (postage, fees, adjustments...) are left out of amounts using
ecomforecast.importing.retail_codes. When files overlap in time, each contributes only the days before the next
file starts. The default cutoff puts the end of the holdout at the end of the data.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ecomforecast.importing.retail_codes import is_bad_debt_adjustment, is_cancellation, non_product_reason
from forecasting.engine.customer.evaluate import EvaluationReport, evaluate_customer_models

COLUMN_SPELLINGS = {"Invoice": "InvoiceNo", "Customer ID": "CustomerID", "Price": "UnitPrice"}
TABLE_COLUMNS = (
    "auc", "brier", "log_loss", "count_mae", "predicted_total", "actual_total", "aggregate_error",
    "fit_seconds", "score_seconds",
)  # fmt: skip


def read_retail_lines(paths: Sequence[Path]) -> pd.DataFrame:
    frames = []
    for path in paths:
        frame = pd.read_parquet(path).rename(columns=COLUMN_SPELLINGS)
        frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
        frames.append(frame[["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]])
    frames.sort(key=lambda frame: frame["InvoiceDate"].min())
    trimmed = [
        frame[frame["InvoiceDate"] < following["InvoiceDate"].min()] for frame, following in itertools.pairwise(frames)
    ]
    return pd.concat([*trimmed, frames[-1]], ignore_index=True)


def retail_transactions(lines: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Invoice-level (customer_id, timestamp, amount, is_return) and counts of what was left out."""
    skipped = {"lines_without_customer": int(lines["CustomerID"].isna().sum())}
    lines = lines[lines["CustomerID"].notna()].copy()
    bad_debt = is_bad_debt_adjustment(lines["InvoiceNo"])
    non_product = non_product_reason(lines["StockCode"]) != ""
    skipped["bad_debt_lines"] = int(bad_debt.sum())
    skipped["non_product_lines"] = int((non_product & ~bad_debt).sum())
    lines = lines[~bad_debt & ~non_product]
    lines["customer_id"] = lines["CustomerID"].astype(float).astype(int).astype(str)
    lines["amount"] = lines["Quantity"].astype(float) * lines["UnitPrice"].astype(float)
    lines["is_return"] = is_cancellation(lines["InvoiceNo"])
    invoices = (
        lines.groupby("InvoiceNo", sort=False)
        .agg(
            customer_id=("customer_id", "first"),
            timestamp=("InvoiceDate", "min"),
            amount=("amount", "sum"),
            is_return=("is_return", "first"),
        )
        .reset_index(drop=True)
    )
    worthless = ~invoices["is_return"] & (invoices["amount"] <= 0)
    skipped["purchase_invoices_without_value"] = int(worthless.sum())
    return invoices[~worthless].reset_index(drop=True), skipped


def default_cutoff(transactions: pd.DataFrame, holdout_days: int) -> pd.Timestamp:
    data_end = transactions["timestamp"].max().normalize() + pd.Timedelta(days=1)
    return data_end - pd.Timedelta(days=holdout_days)


def format_report(report: EvaluationReport) -> str:
    table = report.table().loc[:, list(TABLE_COLUMNS)]
    header = (
        f"cutoff {report.cutoff.date()}  holdout {report.holdout_days} days  customers {report.customers}  "
        f"purchased in holdout {report.holdout_purchasers} ({report.holdout_purchasers / report.customers:.1%})"
    )
    body = table.to_string(float_format=lambda value: f"{value:.4f}")
    reference = report.table().loc["bg_nbd"]
    ratios = [
        f"{model}: AUC x{row['auc'] / reference['auc']:.3f}  Brier x{row['brier'] / reference['brier']:.3f}"
        for model, row in report.table().iterrows()
        if model != "bg_nbd"
    ]
    intensities = [
        f"{row['model']}: s = {row['parameters']['intensity']:.3f}"
        + (
            f" (raw {row['parameters']['raw_intensity']:.3f}, shrinkage weight "
            f"{row['parameters']['shrinkage_weight']:.3f}; last year {row['parameters']['last_year_actual']:.0f} "
            f"purchases against {row['parameters']['last_year_stationary']:.0f} predicted)"
            if "raw_intensity" in row["parameters"]
            else f" ({row['parameters'].get('reason', '')})"
        )
        for row in report.rows
        if "intensity" in row["parameters"]
    ]
    return "\n".join(
        [header, body, "relative to bg_nbd:", *ratios, *(["seasonal intensity:", *intensities] if intensities else [])]
    )


def print_epoch(epoch: int, max_epochs: int, validation_loss: float) -> None:
    print(f"gru_sequence epoch {epoch}/{max_epochs}: validation loss {validation_loss:.4f}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", nargs="+", type=Path, required=True)
    parser.add_argument("--holdout-days", type=int, default=90)
    parser.add_argument("--cutoff", type=pd.Timestamp, default=None)
    parser.add_argument("--calibration", choices=("isotonic", "platt"), default="isotonic")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument(
        "--sequence",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also train and score the GRU sequence model (default: on)",
    )
    parser.add_argument("--device", default="cpu", help="torch device for the sequence model: cpu or cuda")
    parser.add_argument("--threads", type=int, default=None, help="torch threads for the sequence model")
    parser.add_argument(
        "--seasonal",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also score BG/NBD and Pareto/NBD with the yearly seasonal time change (default: on)",
    )
    parser.add_argument(
        "--seasonal-prior-log-scale",
        type=float,
        default=0.5,
        help="prior standard deviation of log seasonal intensity; smaller shrinks harder towards 1",
    )
    args = parser.parse_args(argv)

    transactions, skipped = retail_transactions(read_retail_lines(args.input))
    cutoff = args.cutoff or default_cutoff(transactions, args.holdout_days)
    print(
        f"{len(transactions)} invoices from {transactions['customer_id'].nunique()} customers "
        f"({transactions['timestamp'].min():%Y-%m-%d} .. {transactions['timestamp'].max():%Y-%m-%d}); "
        f"left out: {skipped}",
        file=sys.stderr,
    )
    report = evaluate_customer_models(
        transactions,
        cutoff=cutoff,
        holdout_days=args.holdout_days,
        classifier_options={"calibration": args.calibration, "seed": args.seed},
        include_sequence=args.sequence,
        sequence_options={
            "calibration": args.calibration,
            "seed": args.seed,
            "device": args.device,
            "threads": args.threads,
        },
        sequence_progress=print_epoch,
        include_seasonal=args.seasonal,
        seasonal_options={"prior_log_scale": args.seasonal_prior_log_scale},
    )
    print(format_report(report))
    if args.report:
        args.report.write_text(json.dumps({**report.as_dict(), "left_out": skipped}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
