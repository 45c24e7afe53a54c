from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.policy.conftest import CUTOFF


@pytest.mark.django_db
def test_it_prints_our_policy_next_to_both_baselines(merchant, shop):
    out = StringIO()

    call_command(
        "simulate_policy",
        merchant=merchant.slug,
        days=21,
        cutoff=CUTOFF,
        n_paths=50,
        no_progress=True,
        stdout=out,
    )

    text = out.getvalue()
    assert "acme: 2 SKUs" in text
    assert "generated inputs (not in the merchant's data): lead_time for 1 SKUs" in text
    for label in ("probabilistic (ours)", "min/max (Odoo", "days of cover (L + R + 7 days)", "(our fill rate)"):
        assert label in text
    assert "fill rate" in text.splitlines()[-3]


@pytest.mark.django_db
def test_it_refuses_an_unknown_merchant(merchant):
    with pytest.raises(CommandError, match="no merchant with slug 'nobody'"):
        call_command("simulate_policy", merchant="nobody", no_progress=True)
