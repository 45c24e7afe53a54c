"""Both shared Online Retail files into one merchant: exact counts against PROVENANCE, no duplicates."""

from __future__ import annotations

import pandas as pd
import pytest

from customers.models import Customer, Order, OrderLine
from ecomforecast.importing import run_import
from ecomforecast.importing.retail_codes import is_bad_debt_adjustment, is_cancellation, non_product_reason
from inventory.models import Product

pytestmark = [pytest.mark.shared_data, pytest.mark.django_db]

SECOND_FILE_STARTS = pd.Timestamp("2010-12-10")


def _read(path, *, invoice: str, price: str, customer: str) -> pd.DataFrame:
    frame = pd.read_parquet(path).rename(columns={invoice: "invoice", price: "price", customer: "customer"})
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    frame["customer"] = frame["customer"].astype("Int64")
    return frame


def _imported_lines(frame: pd.DataFrame) -> pd.Series:
    """The lines that are demand: product codes of sales or cancellation invoices with a price and the right sign."""
    cancellation = is_cancellation(frame["invoice"])
    return (
        non_product_reason(frame["StockCode"]).eq("")
        & ~is_bad_debt_adjustment(frame["invoice"])
        & frame["price"].gt(0)
        & ((cancellation & frame["Quantity"].lt(0)) | (~cancellation & frame["Quantity"].gt(0)))
    )


def test_it_imports_both_years_into_one_merchant_without_duplicates(merchant, shared_data):
    first_path = shared_data / "online_retail_2009_2010" / "online_retail_II_2009_2010.parquet"
    second_path = shared_data / "online_retail_2010_2011" / "online_retail.parquet"
    first = _read(first_path, invoice="Invoice", price="Price", customer="Customer ID")
    second = _read(second_path, invoice="InvoiceNo", price="UnitPrice", customer="CustomerID")
    # PROVENANCE: the second file repeats the first one's last nine days verbatim.
    second_only = second[second["InvoiceDate"] >= SECOND_FILE_STARTS]
    union = pd.concat([first, second_only], ignore_index=True)
    assert (first["invoice"].nunique(), second["invoice"].nunique()) == (28_816, 25_900)
    assert (first["StockCode"].nunique(), second["StockCode"].nunique()) == (4_632, 4_070)
    assert (first["customer"].nunique(), second["customer"].nunique()) == (4_383, 4_372)
    assert union["customer"].nunique() == 5_942
    assert len(second) - len(second_only) == 22_523
    assert len(union) == len(first) + len(second) - 22_523
    kept = union[_imported_lines(union)]

    report = run_import(merchant=merchant, kind="orders", fmt="online-retail", paths=[first_path, second_path])

    assert report.rows_read == len(first) + len(second)
    assert Customer.objects.filter(merchant=merchant).count() == 5_942
    assert Order.objects.filter(merchant=merchant).count() == kept["invoice"].nunique()
    assert OrderLine.objects.filter(merchant=merchant).count() == len(kept)
    assert report.rows_created == len(kept)
    products = union.loc[non_product_reason(union["StockCode"]).eq(""), "StockCode"].str.strip()
    assert Product.objects.filter(merchant=merchant).count() == products.nunique()
    returns = kept[is_cancellation(kept["invoice"])]
    assert Order.objects.filter(merchant=merchant, kind=Order.Kind.RETURN).count() == returns["invoice"].nunique()
    assert OrderLine.objects.filter(merchant=merchant, kind=OrderLine.Kind.RETURN).count() == len(returns)

    again = run_import(merchant=merchant, kind="orders", fmt="online-retail", paths=[first_path, second_path])

    assert (again.rows_created, again.rows_updated) == (0, 0)
    assert again.extra["orders_created"] == again.extra["customers_created"] == again.extra["products_created"] == 0
    assert OrderLine.objects.filter(merchant=merchant).count() == len(kept)
