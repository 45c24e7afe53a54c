"""campaign-recipients-csv: a campaign's audience (treatment / holdout), checked like the bulk API, row-numbered."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import CampaignRecipient
from ecomforecast.importing import ImportFailed, run_import
from tests.factories import CampaignFactory, CustomerFactory

pytestmark = pytest.mark.django_db

HEADER = "campaign_id,customer_id,group,sent_on\n"


@pytest.fixture
def audience(merchant, other_merchant):
    CampaignFactory(merchant=merchant, external_id="SPRING", starts_on=dt.date(2024, 3, 1), ends_on=dt.date(2024, 3, 7))
    for external_id in ("C1", "C2", "C3"):
        CustomerFactory(merchant=merchant, external_id=external_id)
    # another merchant's campaign and customer with the same ids as ours would have
    CampaignFactory(merchant=other_merchant, external_id="RIVAL")
    CustomerFactory(merchant=other_merchant, external_id="C9")
    return merchant


def write(tmp_path, rows: str):
    path = tmp_path / "recipients.csv"
    path.write_text(HEADER + rows)
    return path


def groups(merchant) -> dict[str, tuple[str, dt.date]]:
    return {
        recipient.customer.external_id: (recipient.group, recipient.sent_on)
        for recipient in CampaignRecipient.objects.filter(merchant=merchant).select_related("customer")
    }


def test_it_imports_a_campaigns_treatment_and_holdout_groups_and_changes_nothing_the_second_time(audience, tmp_path):
    path = write(
        tmp_path, "SPRING,C1,treatment,2024-03-01\nSPRING,C2,holdout,2024-03-01\nSPRING,C3,Treatment,2024-03-02\n"
    )

    report = run_import(merchant=audience, kind="campaign-recipients", paths=[path])

    assert (report.format, report.rows_read, report.rows_created) == ("campaign-recipients-csv", 3, 3)
    assert groups(audience) == {
        "C1": ("treatment", dt.date(2024, 3, 1)),
        "C2": ("holdout", dt.date(2024, 3, 1)),
        "C3": ("treatment", dt.date(2024, 3, 2)),
    }
    again = run_import(merchant=audience, kind="campaign-recipients", paths=[path])
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 3)
    moved = run_import(
        merchant=audience,
        kind="campaign-recipients",
        paths=[write(tmp_path, "SPRING,C1,holdout,2024-03-01\n")],
    )
    assert (moved.rows_created, moved.rows_updated) == (0, 1)
    assert groups(audience)["C1"] == ("holdout", dt.date(2024, 3, 1))


def test_it_rejects_bad_rows_with_their_numbers_and_writes_nothing(audience, tmp_path, monkeypatch):
    # two rows per chunk: the repeated pair of row 5 is in a later chunk than its first listing in row 1
    monkeypatch.setattr("ecomforecast.importing.sources.CHUNK_ROWS", 2)
    path = write(
        tmp_path,
        "SPRING,C1,treatment,2024-03-01\n"
        "RIVAL,C9,treatment,2024-03-01\n"
        "SPRING,C2,sent,2024-03-01\n"
        "SPRING,C3,holdout,2024-03-09\n"
        "SPRING,C1,holdout,2024-03-01\n"
        "SPRING,C2,treatment,yesterday\n",
    )

    with pytest.raises(ImportFailed) as failure:
        run_import(merchant=audience, kind="campaign-recipients", paths=[path])

    errors = {(error.row, error.column): error.message for error in failure.value.report.errors}
    assert errors == {
        # another merchant's campaign and customer read exactly like unknown ones
        (2, "campaign_id"): "No campaign with id 'RIVAL'.",
        (2, "customer_id"): "No customer with id 'C9'.",
        (3, "group"): "group must be one of holdout, treatment: 'sent'",
        (4, "sent_on"): "The campaign ended on 2024-03-07; sent_on cannot be later.",
        (5, "customer_id"): "This customer is already listed for this campaign in row 1.",
        (6, "sent_on"): "sent_on is not a date: 'yesterday'",
    }
    assert CampaignRecipient.objects.count() == 0


def test_it_refuses_a_file_without_the_group_column(audience, tmp_path):
    path = tmp_path / "recipients.csv"
    path.write_text("campaign_id,customer_id,sent_on\nSPRING,C1,2024-03-01\n")

    with pytest.raises(ImportFailed) as failure:
        run_import(merchant=audience, kind="campaign-recipients", paths=[path])

    assert [(error.row, error.column) for error in failure.value.report.errors] == [(0, None)]
    assert "group" in failure.value.report.errors[0].message
    assert CampaignRecipient.objects.count() == 0
