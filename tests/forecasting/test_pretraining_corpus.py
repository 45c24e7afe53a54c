"""The consenting merchants' share of the GPT pretraining corpus: only theirs, anonymous, readable by pretrain_gpt."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from ecomforecast.services import merchant_pretraining_consent_set
from forecasting import io
from forecasting.bench.pretrain import read_operator_series
from forecasting.engine.digest import file_digest
from forecasting.pretraining_corpus import manifest_path, pretraining_series_export
from tests.forecasting.shop import make_daily_sales

pytestmark = pytest.mark.django_db

START = dt.date(2024, 1, 1)
CUTOFF = dt.date(2024, 3, 31)


@pytest.fixture
def shops(merchant, other_merchant):
    # acme: 3 SKUs over 91 days and one launched 20 days before the cutoff; rival: 5 SKUs, never consents
    make_daily_sales(merchant=merchant, skus=3, days=91, start=START, seed=1)
    make_daily_sales(merchant=merchant, skus=1, days=20, start=CUTOFF - dt.timedelta(days=19), prefix="NEW", seed=2)
    make_daily_sales(merchant=other_merchant, skus=5, days=91, start=START, seed=3, prefix="RIV")
    return merchant, other_merchant


def _history(merchant, min_days: int = 1) -> list[tuple[float, int]]:
    """(total units, days) of each series of the merchant with ``min_days`` or more, sorted."""
    ids = io.products_with_sales(merchant=merchant, cutoff=CUTOFF)
    history = io.demand_series(merchant=merchant, product_ids=ids, cutoff=CUTOFF)
    return sorted((float(np.nansum(item.values)), len(item.values)) for item in history if len(item.values) >= min_days)


def test_it_exports_only_the_consenting_merchants_demand_under_anonymous_names(shops, tmp_path):
    merchant, _other = shops
    merchant_pretraining_consent_set(merchant=merchant, consent=True)
    out = tmp_path / "corpus.csv"

    manifest = pretraining_series_export(out=out, cutoff=CUTOFF)

    frame = pd.read_csv(out, parse_dates=["ds"])
    expected = _history(merchant, min_days=28)
    # acme's three long series, each from its first sale to the cutoff; the 20-day one is under min_days; nothing
    # of rival
    assert len(expected) == 3
    totals = frame.groupby("unique_id")["y"].agg(["sum", "size"])
    assert sorted(zip(totals["sum"], totals["size"], strict=True)) == expected
    assert frame["ds"].max() == pd.Timestamp(CUTOFF)
    assert frame["ds"].min() >= pd.Timestamp(START)
    assert all(re.fullmatch(r"s\d{6}", name) for name in frame["unique_id"].unique())
    text = out.read_text()
    assert not any(word in text for word in ("SKU", "RIV", "Item", "acme"))
    assert list(frame.columns) == ["unique_id", "ds", "y"]

    days = sum(length for _total, length in expected)
    assert manifest["series"] == 3
    assert manifest["rows"] == days
    assert manifest["sha256"] == file_digest(out)[0]
    assert [(entry["id"], entry["slug"], entry["series"], entry["days"]) for entry in manifest["merchants"]] == [
        (merchant.pk, "acme", 3, days)
    ]
    assert json.loads(manifest_path(out).read_text()) == manifest


def test_pretrain_gpt_reads_the_export_as_operator_series(shops, tmp_path):
    merchant, other = shops
    merchant_pretraining_consent_set(merchant=merchant, consent=True)
    merchant_pretraining_consent_set(merchant=other, consent=True)
    out = tmp_path / "corpus.parquet"

    pretraining_series_export(out=out, cutoff=CUTOFF, min_days=10)

    series = read_operator_series(out, "D")
    assert len(series) == 3 + 1 + 5
    assert sorted(float(np.nansum(values)) for values in series) == sorted([*_units_all(merchant), *_units_all(other)])


def _units_all(merchant) -> list[float]:
    ids = io.products_with_sales(merchant=merchant, cutoff=CUTOFF)
    return [
        float(np.nansum(item.values)) for item in io.demand_series(merchant=merchant, product_ids=ids, cutoff=CUTOFF)
    ]


def test_a_withdrawn_consent_keeps_the_merchant_out_of_the_next_export(shops, tmp_path):
    merchant, _other = shops
    first = merchant_pretraining_consent_set(merchant=merchant, consent=True).pretraining_consent_at
    # consenting again keeps the first date
    assert merchant_pretraining_consent_set(merchant=merchant, consent=True).pretraining_consent_at == first
    merchant_pretraining_consent_set(merchant=merchant, consent=False)

    manifest = pretraining_series_export(out=tmp_path / "corpus.csv", cutoff=CUTOFF)

    assert manifest["series"] == 0
    assert manifest["merchants"] == []
    assert pd.read_csv(tmp_path / "corpus.csv").empty


def test_the_command_exports_and_reports(shops, tmp_path, capsys):
    merchant, _other = shops
    merchant_pretraining_consent_set(merchant=merchant, consent=True)
    out = tmp_path / "corpus.parquet"

    call_command("export_pretraining_series", "--out", str(out), "--cutoff", CUTOFF.isoformat())

    printed = capsys.readouterr().out
    days = sum(length for _total, length in _history(merchant, min_days=28))
    assert f"3 series ({days} days) of 1 consenting merchant -> {out}" in printed
    assert Path(str(out) + ".manifest.json").exists()
    with pytest.raises(CommandError, match=r"must end in \.parquet or \.csv"):
        call_command("export_pretraining_series", "--out", str(tmp_path / "corpus.txt"))


def test_the_api_says_whether_the_merchant_shares(api_client, merchant):
    assert api_client.get("/api/v1/merchants/me/").json()["pretraining_consent_at"] is None
    merchant_pretraining_consent_set(merchant=merchant, consent=True)
    assert api_client.get("/api/v1/merchants/me/").json()["pretraining_consent_at"] is not None
