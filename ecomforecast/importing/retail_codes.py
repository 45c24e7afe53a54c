"""How the UCI Online Retail / Online Retail II files encode things that are not product demand.

Pure pandas/numpy (no Django) so that the online-retail importer and any offline preparation of the same
files (benchmarks, notebooks) classify rows identically.

Stock codes: a real product code starts with a digit (``85123A``, ``47503J``) or is one of the
``DCGS…``/``SP…`` items sold through marketplaces, whose descriptions name real goods. Everything else in the
files is a bookkeeping line, identified by code (descriptions are unreliable: many are the literal ``'nan'``):

==================  =====================================================  ==========================
code                description in the files                               reason
==================  =====================================================  ==========================
POST, DOT           POSTAGE, DOTCOM POSTAGE                                postage
C2, C3              CARRIAGE                                               postage
M, m                Manual                                                 manual adjustment
ADJUST, ADJUST2     Adjustment by <user> on <date>                         manual adjustment
B                   Adjust bad debt                                        bad debt adjustment
BANK CHARGES        Bank Charges                                           bank charges
AMAZONFEE           AMAZON FEE                                             marketplace fee
CRUK                CRUK Commission                                        commission
D                   Discount                                               discount
gift_0001_*, GIFT   Dotcomgiftshop Gift Voucher £..                        gift voucher
TEST001, TEST002    This is a test product.                                test
S                   SAMPLES                                                sample
PADS                PADS TO MATCH ALL CUSHIONS (price 0.001)               pricing placeholder
==================  =====================================================  ==========================

Invoices: a number prefixed ``C`` is a cancellation (the goods of an earlier invoice came back or were never
sent); one prefixed ``A`` is a bad-debt write-off, which moves money, not goods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Checked in order against the upper-cased, stripped code; the first full match wins.
NON_PRODUCT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"POST|DOT|C2|C3", "postage"),
    (r"M|ADJUST\d*", "manual adjustment"),
    (r"B", "bad debt adjustment"),
    (r"BANK CHARGES", "bank charges"),
    (r"AMAZONFEE", "marketplace fee"),
    (r"CRUK", "commission"),
    (r"D", "discount"),
    (r"GIFT(_\w*)?", "gift voucher"),
    (r"TEST\d*", "test"),
    (r"S", "sample"),
    (r"PADS", "pricing placeholder"),
)

CANCELLATION_PREFIX = "C"
BAD_DEBT_PREFIX = "A"


def _normalised(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.upper()


def _starts_with(invoices: pd.Series, prefix: str) -> pd.Series:
    positions, distinct = pd.factorize(invoices.astype("string"), use_na_sentinel=False)
    matches = _normalised(pd.Series(distinct, dtype="string")).str.startswith(prefix).fillna(False).to_numpy(bool)
    return pd.Series(matches[positions], index=invoices.index, dtype=bool)


def non_product_reason(codes: pd.Series) -> pd.Series:
    """Per StockCode: why the line is not a product (one of the reasons above), or "" for a real product."""
    # A file has a few thousand distinct codes over a million lines: classify each distinct code once.
    positions, distinct = pd.factorize(codes.astype("string"), use_na_sentinel=False)
    normalised = _normalised(pd.Series(distinct, dtype="string")).fillna("")
    conditions = [normalised.str.fullmatch(pattern).to_numpy(bool) for pattern, _ in NON_PRODUCT_PATTERNS]
    reasons = [reason for _, reason in NON_PRODUCT_PATTERNS]
    distinct_reasons = np.select(conditions, reasons, default="").astype(object)
    return pd.Series(distinct_reasons[positions], index=codes.index, dtype=object)


def is_cancellation(invoices: pd.Series) -> pd.Series:
    """True where the invoice number marks a cancellation (``C536379``)."""
    return _starts_with(invoices, CANCELLATION_PREFIX)


def is_bad_debt_adjustment(invoices: pd.Series) -> pd.Series:
    """True where the invoice number marks a bad-debt write-off (``A563185``)."""
    return _starts_with(invoices, BAD_DEBT_PREFIX)
