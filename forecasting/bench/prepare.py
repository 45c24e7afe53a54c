"""Turn the shared retail files into the benchmark's long format (unique_id, ds, y[, covariates]).

    python -m forecasting.bench.prepare online-retail FILE [FILE ...] --freq D --out panel.parquet \
        --min-selling-days 20 --selection-year first
    python -m forecasting.bench.prepare breakfast transaction.parquet --out breakfast.parquet

Online Retail: net units per StockCode and day. Non-product codes (postage, fees, adjustments...) and bad-debt
write-offs are dropped with ``ecomforecast.importing.retail_codes``, the importer's own rules; a cancellation
(``C...`` invoice, negative quantity) is subtracted on the day it was booked, and a day whose cancellations
exceed its sales counts as zero demand. Several files may be given (the two UCI sheets overlap by nine days):
a later file's days replace the earlier file's rows from its first day on, so overlapping days count once.
Each SKU's series runs from its first sale to the panel's last day, with days without sales filled by zero.
``--freq W`` sums days into weeks ending on Sunday.

Breakfast at the Frat (dunnhumby): weekly units per store x UPC with the promotion covariates price, feature,
display and tpr_only (known in advance for a planned promotion); missing weeks inside a series are zero units
at the base price without promotion.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ecomforecast.importing import retail_codes

_ONLINE_RETAIL_COLUMNS = {
    "InvoiceNo": "invoice",
    "Invoice": "invoice",
    "StockCode": "stock_code",
    "Quantity": "quantity",
    "InvoiceDate": "invoice_date",
}


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path)


def read_online_retail(paths: Sequence[Path]) -> pd.DataFrame:
    """Invoice lines of one or more Online Retail files as (invoice, stock_code, quantity, day), overlap removed."""
    frames = []
    for path in paths:
        frame = _read_table(Path(path))
        frame = frame.rename(columns=_ONLINE_RETAIL_COLUMNS)[list(dict.fromkeys(_ONLINE_RETAIL_COLUMNS.values()))]
        frame["day"] = pd.to_datetime(frame["invoice_date"]).dt.normalize()
        frames.append(frame.drop(columns="invoice_date"))
    frames.sort(key=lambda frame: frame["day"].min())
    kept = []
    for position, frame in enumerate(frames):
        if position + 1 < len(frames):
            frame = frame[frame["day"] < frames[position + 1]["day"].min()]
        kept.append(frame)
    return pd.concat(kept, ignore_index=True)


def online_retail_panel(lines: pd.DataFrame, *, freq: str = "D") -> pd.DataFrame:
    """Net units per SKU and day (or week), gap-filled with zeros from each SKU's first sale to the panel end."""
    products = lines[
        (retail_codes.non_product_reason(lines["stock_code"]) == "")
        & ~retail_codes.is_bad_debt_adjustment(lines["invoice"])
    ]
    products = products.assign(
        unique_id=products["stock_code"].astype("string").str.strip().str.upper(),
        quantity=products["quantity"].astype(float),
    )
    daily = products.groupby(["unique_id", "day"], as_index=False)["quantity"].sum()
    daily["quantity"] = daily["quantity"].clip(lower=0)
    panel_end = lines["day"].max()
    first_sale = daily[daily["quantity"] > 0].groupby("unique_id")["day"].min()
    return _gap_filled(daily.rename(columns={"day": "ds", "quantity": "y"}), first_sale, panel_end, freq)


def _gap_filled(observed: pd.DataFrame, first_day: pd.Series, panel_end: pd.Timestamp, freq: str) -> pd.DataFrame:
    days = pd.date_range(first_day.min(), panel_end, freq="D")
    day_index = pd.Series(np.arange(len(days)), index=days)
    starts = day_index[first_day.to_numpy()].to_numpy()
    lengths = len(days) - starts
    ids = np.repeat(first_day.index.to_numpy(), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    grid = pd.DataFrame({"unique_id": ids, "ds": days[np.repeat(starts, lengths) + offsets]})
    panel = grid.merge(observed, on=["unique_id", "ds"], how="left")
    panel["y"] = panel["y"].fillna(0.0)
    if freq.upper().startswith("W"):
        panel["ds"] = panel["ds"].dt.to_period("W-SUN").dt.end_time.dt.normalize()
        panel = panel.groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    return panel.sort_values(["unique_id", "ds"], ignore_index=True)


def select_by_selling_days(panel: pd.DataFrame, *, min_selling_days: int, selection_year: str) -> pd.DataFrame:
    """Keep the SKUs with at least min_selling_days periods of positive demand in the chosen window.

    selection_year "first": the panel's first 365 days; "all": the whole panel.
    """
    window = panel
    if selection_year == "first":
        window = panel[panel["ds"] < panel["ds"].min() + pd.Timedelta(days=365)]
    selling = window[window["y"] > 0].groupby("unique_id").size()
    keep = selling.index[selling >= min_selling_days]
    return panel[panel["unique_id"].isin(keep)].reset_index(drop=True)


def breakfast_panel(transactions: pd.DataFrame) -> pd.DataFrame:
    """Weekly units per store x UPC with price and promotion flags, missing weeks filled as no sale."""
    frame = transactions.assign(
        unique_id=transactions["store_id"].astype(str) + "_" + transactions["upc_id"].astype(str),
        ds=pd.to_datetime(transactions["week_end_date"]),
    )
    frame = frame[["unique_id", "ds", "units", "price", "base_price", "feature", "display", "tpr_only"]]
    weeks = pd.date_range(frame["ds"].min(), frame["ds"].max(), freq="7D")
    first = frame.groupby("unique_id")["ds"].min()
    grid = pd.concat(
        [pd.DataFrame({"unique_id": uid, "ds": weeks[weeks >= start]}) for uid, start in first.items()],
        ignore_index=True,
    )
    panel = grid.merge(frame, on=["unique_id", "ds"], how="left")
    panel["base_price"] = panel.groupby("unique_id")["base_price"].transform(lambda prices: prices.ffill().bfill())
    panel["price"] = panel["price"].fillna(panel["base_price"])
    panel = panel.assign(
        y=panel["units"].fillna(0.0),
        price=panel["price"].fillna(panel.groupby("unique_id")["price"].transform("median")),
        feature=panel["feature"].fillna(0.0),
        display=panel["display"].fillna(0.0),
        tpr_only=panel["tpr_only"].fillna(0.0),
    )
    panel = panel[panel["price"].notna()]
    return panel[["unique_id", "ds", "y", "price", "feature", "display", "tpr_only"]].sort_values(
        ["unique_id", "ds"], ignore_index=True
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forecasting.bench.prepare", description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["online-retail", "breakfast"])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--freq", default="D", help="D (daily) or W (weekly, Online Retail only)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument(
        "--min-selling-days", type=int, default=0, help="keep SKUs selling on at least this many periods"
    )
    parser.add_argument("--selection-year", choices=["first", "all"], default="all")
    parser.add_argument("--min-length", type=int, default=0, help="drop series shorter than this many periods")
    args = parser.parse_args(argv)

    if args.dataset == "online-retail":
        panel = online_retail_panel(read_online_retail(args.files), freq=args.freq)
    else:
        panel = breakfast_panel(pd.concat([_read_table(path) for path in args.files], ignore_index=True))
    if args.min_selling_days:
        panel = select_by_selling_days(
            panel, min_selling_days=args.min_selling_days, selection_year=args.selection_year
        )
    if args.min_length:
        lengths = panel.groupby("unique_id")["ds"].transform("size")
        panel = panel[lengths >= args.min_length].reset_index(drop=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix == ".csv":
        panel.to_csv(args.out, index=False, date_format="%Y-%m-%d")
    else:
        panel.to_parquet(args.out, index=False)
    print(
        f"{panel['unique_id'].nunique()} series, {len(panel)} rows, {panel['ds'].min().date()} .. "
        f"{panel['ds'].max().date()} -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
