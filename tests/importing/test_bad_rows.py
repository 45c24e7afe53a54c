from __future__ import annotations

import pytest

from customers.models import Customer, Order, OrderLine
from ecomforecast.importing import ImportFailed, run_import
from inventory.models import Product, StockLevel
from tests.importing.conftest import FIXTURES

pytestmark = pytest.mark.django_db

HEADER = "order_id,placed_at,customer_id,sku,quantity,unit_price\n"
GOOD_ROW = "2001,2024-03-01 10:00:00,C9,SKU-A,1,10.00\n"


def _table_counts(merchant) -> dict[str, int]:
    return {
        model.__name__: model.objects.filter(merchant=merchant).count()
        for model in (Order, OrderLine, Customer, Product, StockLevel)
    }


def _fail(merchant, tmp_path, content: bytes | str, *, kind="orders", fmt=None, name="orders.csv"):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    before = _table_counts(merchant)
    with pytest.raises(ImportFailed) as failure:
        run_import(merchant=merchant, kind=kind, fmt=fmt, paths=[path])
    assert _table_counts(merchant) == before
    return failure.value.report


@pytest.mark.parametrize(
    ("bad_row", "column", "message"),
    [
        (
            "2002,2024-13-45 10:00,C9,SKU-A,1,10.00\n",
            "placed_at",
            "placed_at is not a date and time: '2024-13-45 10:00'",
        ),
        ("2002,2024-03-01 10:00,C9,NOPE,1,10.00\n", "sku", "unknown SKU 'NOPE'"),
        ("2002,2024-03-01 10:00,C9,SKU-A,1,-3.50\n", "unit_price", "unit_price must not be negative: -3.50"),
        ("2002,2024-03-01 10:00,C9,SKU-A,two,10.00\n", "quantity", "quantity is not a whole number: 'two'"),
        ("2002,2024-03-01 10:00,C9,SKU-A,1.5,10.00\n", "quantity", "quantity is not a whole number: '1.5'"),
    ],
)
def test_it_rejects_the_whole_file_for_one_bad_row(catalogue, tmp_path, bad_row, column, message):
    report = _fail(catalogue, tmp_path, HEADER + GOOD_ROW + GOOD_ROW.replace("2001", "2003") + bad_row)

    assert report.error_count == 1
    error = report.errors[0]
    assert (error.row, error.column, error.message) == (3, column, message)


def test_it_writes_nothing_when_a_later_chunk_is_bad(catalogue, tmp_path, monkeypatch):
    monkeypatch.setattr("ecomforecast.importing.sources.CHUNK_ROWS", 2)
    rows = "".join(GOOD_ROW.replace("2001", str(2001 + n)) for n in range(6))

    report = _fail(catalogue, tmp_path, HEADER + rows + "2100,yesterday,C9,SKU-A,1,10.00\n")

    assert [(error.row, error.column) for error in report.errors] == [(7, "placed_at")]


def test_it_reports_a_missing_column_once_on_row_zero(catalogue, tmp_path):
    report = _fail(catalogue, tmp_path, "order_id,placed_at,customer_id,sku,unit_price\n2001,2024-03-01,C9,SKU-A,10\n")

    assert report.error_count == 1
    assert (report.errors[0].row, report.errors[0].message) == (0, "missing column(s): quantity")


def test_it_rejects_non_utf8_bytes_with_the_row(catalogue, tmp_path):
    content = (HEADER + GOOD_ROW).encode() + "2002,2024-03-01 10:00,Zoë,SKU-A,1,10.00\n".encode("latin-1")

    report = _fail(catalogue, tmp_path, content)

    assert report.errors[0].row == 2
    assert "not UTF-8 (byte 0xEB on line 3)" in report.errors[0].message


def test_it_rejects_negative_prices_in_online_retail_files(merchant, tmp_path):
    lines = (FIXTURES / "online_retail.csv").read_text().splitlines()
    lines[2] = lines[2].replace(",3.39,", ",-3.39,")

    report = _fail(merchant, tmp_path, "\n".join(lines) + "\n")

    assert [(error.row, error.column) for error in report.errors] == [(2, "UnitPrice")]


def test_it_rejects_an_unknown_sku_in_stock_levels(catalogue, tmp_path):
    report = _fail(catalogue, tmp_path, "sku,date,on_hand\nSKU-A,2024-03-01,4\nSKU-Z,2024-03-01,4\n", kind="stock")

    assert [(error.row, error.message) for error in report.errors] == [(2, "unknown SKU 'SKU-Z'")]


def test_it_keeps_the_first_thousand_errors_and_counts_all(catalogue, tmp_path):
    rows = "".join(f"{3000 + n},not a date,C9,SKU-A,1,10.00\n" for n in range(1500))

    report = _fail(catalogue, tmp_path, HEADER + rows)

    assert report.error_count == 1500
    assert len(report.errors) == 1000
    assert report.errors[-1].row == 1000


def test_it_rejects_campaigns_that_end_before_they_start(catalogue, tmp_path):
    content = (
        "campaign_id,name,starts_on,ends_on,discount_pct,channel,skus,categories,target_segment,cost\n"
        "CMP9,Backwards,2024-03-10,2024-03-01,10,email,SKU-A,,,0\n"
        "CMP8,Ghost,2024-03-01,2024-03-02,150,email,SKU-Q,,,0\n"
    )

    report = _fail(catalogue, tmp_path, content, kind="campaigns", name="campaigns.csv")

    assert [(error.row, error.column) for error in report.errors] == [
        (1, "ends_on"),
        (2, "discount_pct"),
        (2, "skus"),
    ]
