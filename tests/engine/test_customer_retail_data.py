from __future__ import annotations

import pandas as pd
import pytest

from forecasting.bench.customers import default_cutoff, read_retail_lines, retail_transactions

pytestmark = pytest.mark.shared_data


def test_it_reads_both_online_retail_spellings_without_double_counting_the_overlap(shared_data):
    older = shared_data / "online_retail_2009_2010" / "online_retail_II_2009_2010.parquet"
    newer = shared_data / "online_retail_2010_2011" / "online_retail.parquet"

    lines = read_retail_lines([newer, older])
    transactions, skipped = retail_transactions(lines)

    newer_start = pd.read_parquet(newer, columns=["InvoiceDate"])["InvoiceDate"].min()
    older_rows = pd.read_parquet(older, columns=["InvoiceDate"])
    assert len(lines) == len(pd.read_parquet(newer, columns=["InvoiceNo"])) + int(
        (pd.to_datetime(older_rows["InvoiceDate"]) < newer_start).sum()
    )
    assert skipped["lines_without_customer"] == int(lines["CustomerID"].isna().sum())
    assert transactions["customer_id"].str.fullmatch(r"\d+").all()
    assert (transactions.loc[transactions["is_return"], "amount"] <= 0).all()
    assert (transactions.loc[~transactions["is_return"], "amount"] > 0).all()
    assert transactions["timestamp"].max() == pd.Timestamp("2011-12-09 12:50")
    assert default_cutoff(transactions, 90) == pd.Timestamp("2011-09-11")
