from __future__ import annotations

from pathlib import Path

import pytest

from ecomforecast.importing import run_import

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def catalogue(merchant):
    """The two suppliers and three products (SKU-A, SKU-B, SKU-C) of fixtures/suppliers.csv and products.csv."""
    run_import(merchant=merchant, kind="suppliers", paths=[FIXTURES / "suppliers.csv"])
    run_import(merchant=merchant, kind="products", paths=[FIXTURES / "products.csv"])
    return merchant
