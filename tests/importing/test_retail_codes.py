from __future__ import annotations

import pandas as pd

from ecomforecast.importing.retail_codes import is_bad_debt_adjustment, is_cancellation, non_product_reason


def test_it_gives_each_bookkeeping_code_its_reason():
    codes = pd.Series(
        [
            "POST",
            "DOT",
            "C2",
            "M",
            "m",
            "ADJUST2",
            "B",
            "BANK CHARGES",
            "AMAZONFEE",
            "CRUK",
            "D",
            "gift_0001_20",
            "TEST001",
            "S",
            "PADS",
        ]
    )
    assert non_product_reason(codes).tolist() == [
        "postage",
        "postage",
        "postage",
        "manual adjustment",
        "manual adjustment",
        "manual adjustment",
        "bad debt adjustment",
        "bank charges",
        "marketplace fee",
        "commission",
        "discount",
        "gift voucher",
        "test",
        "sample",
        "pricing placeholder",
    ]


def test_it_keeps_real_products_including_marketplace_items():
    codes = pd.Series(["85123A", "47503J", "DCGS0003", "SP1002", " 22139 ", None], index=[5, 6, 7, 8, 9, 10])
    reasons = non_product_reason(codes)
    assert reasons.tolist() == ["", "", "", "", "", ""]
    assert reasons.index.tolist() == [5, 6, 7, 8, 9, 10]


def test_it_recognises_cancellations_and_bad_debt_invoices():
    invoices = pd.Series(["536365", "C536379", "A563185", None])
    assert is_cancellation(invoices).tolist() == [False, True, False, False]
    assert is_bad_debt_adjustment(invoices).tolist() == [False, False, True, False]
