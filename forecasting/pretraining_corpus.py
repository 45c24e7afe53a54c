"""The merchants' share of the GPT pretraining corpus: the daily demand of every merchant whose owner consented.

Only merchants with ``Merchant.pretraining_consent_at`` set take part. Each of their products with a sale becomes
one series of daily units (io.demand_series: net of returns, censored stock-out days left out, so they read as
missing), and nothing else leaves the merchant: no SKU, product name, price or customer. Series are named
``s000001`` ... in an order shuffled with a fresh random seed on every export, so no name can be traced back to a
merchant or product, nor linked between two exports. The file is long-format (unique_id, ds, y), what
``pretrain_gpt --operator-series`` reads; the manifest written beside it says which merchants (id, slug, consent
date, series and days) went in, so an operator can tell which base versions learnt from whom.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from django.db.models import QuerySet
from django.utils import timezone

from ecomforecast.models import Merchant
from forecasting import io
from forecasting.engine.digest import file_digest


def consenting_merchants() -> QuerySet[Merchant]:
    return Merchant.objects.filter(pretraining_consent_at__isnull=False).order_by("pk")


def pretraining_series_export(
    *,
    out: str | Path,
    cutoff: dt.date | None = None,
    min_days: int = 28,
    progress: Callable[[Merchant, int], None] | None = None,
) -> dict:
    """Write the consenting merchants' series to ``out`` (.parquet or .csv) and ``<out>.manifest.json``; returns
    the manifest. ``cutoff``: the last day exported (default each merchant's last sale day); ``min_days``: a series
    needs this many days from its first sale to take part. ``progress(merchant, series)`` after each merchant."""
    out = Path(out)
    if out.suffix not in (".parquet", ".csv"):
        raise ValueError(f"{out}: the file must end in .parquet or .csv")
    if min_days < 1:
        raise ValueError(f"min_days must be at least 1, not {min_days}")
    frames: list[pd.DataFrame] = []
    merchants = []
    for merchant in consenting_merchants():
        end = cutoff or io.last_sale_day(merchant=merchant)
        history = []
        if end is not None:
            product_ids = io.products_with_sales(merchant=merchant, cutoff=end)
            history = [
                item
                for item in io.demand_series(merchant=merchant, product_ids=product_ids, cutoff=end)
                if len(item.values) >= min_days
            ]
        for item in history:
            finite = np.isfinite(item.values)
            days = pd.date_range(item.start, periods=len(item.values), freq="D")[finite]
            frames.append(pd.DataFrame({"series": len(frames), "ds": days, "y": item.values[finite]}))
        merchants.append(
            {
                "id": merchant.pk,
                "slug": merchant.slug,
                "consent_at": merchant.pretraining_consent_at.isoformat(),
                "cutoff": end.isoformat() if end else None,
                "series": len(history),
                "days": int(sum(np.isfinite(item.values).sum() for item in history)),
            }
        )
        if progress is not None:
            progress(merchant, len(history))

    names = np.random.default_rng(secrets.randbits(64)).permutation(len(frames))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"series": [], "ds": [], "y": []})
    frame.insert(0, "unique_id", [f"s{names[index] + 1:06d}" for index in frame.pop("series").astype(int)])
    frame = frame.sort_values(["unique_id", "ds"], ignore_index=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False, date_format="%Y-%m-%d")
    manifest = {
        "created": timezone.now().isoformat(timespec="seconds"),
        "file": out.name,
        "sha256": file_digest(out)[0],
        "series": len(frames),
        "rows": len(frame),
        "min_days": min_days,
        "merchants": merchants,
    }
    manifest_path(out).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def manifest_path(out: Path) -> Path:
    return out.with_name(out.name + ".manifest.json")
