from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from customers.models import OrderLine
from tests.importing.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_it_imports_several_files_as_one_import_and_prints_the_report(merchant, tmp_path):
    second = tmp_path / "later.csv"
    second.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536999,85123A,WHITE HANGING HEART T-LIGHT HOLDER,3,2010-12-03 10:00:00,2.55,17850.0,United Kingdom\n"
    )
    out = io.StringIO()

    call_command(
        "import_data",
        "--merchant",
        "acme",
        "--kind",
        "orders",
        str(FIXTURES / "online_retail.csv"),
        str(second),
        "--no-progress",
        stdout=out,
    )

    output = out.getvalue()
    assert "orders (online-retail): 17 rows read, 10 created, 0 updated, 0 unchanged, 7 skipped" in output
    assert "skipped 1: postage" in output
    assert OrderLine.objects.filter(merchant__slug="acme").count() == 10


def test_it_fails_with_the_row_errors_and_imports_nothing(merchant, tmp_path):
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,placed_at,customer_id,sku,quantity,unit_price\n1,2024-03-01,C1,NOPE,1,10\n")
    err = io.StringIO()

    with pytest.raises(CommandError, match="1 invalid row"):
        call_command("import_data", "--merchant", "acme", "--kind", "orders", str(bad), "--no-progress", stderr=err)

    assert "row 1 [sku]: unknown SKU 'NOPE'" in err.getvalue()
    assert OrderLine.objects.count() == 0


def test_it_refuses_an_unknown_merchant(db):
    with pytest.raises(CommandError, match="no merchant with slug 'nobody'"):
        call_command("import_data", "--merchant", "nobody", "--kind", "orders", str(FIXTURES / "orders.csv"))
