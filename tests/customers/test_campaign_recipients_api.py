"""Campaign recipients: bulk upsert by external ids, row-numbered errors, list filters, tenancy, admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import CampaignRecipient, Customer
from ecomforecast.models import Membership
from tests.factories import CampaignFactory, CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/campaign-recipients/"
BULK_URL = "/api/v1/campaign-recipients/bulk/"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def audience(merchant):
    campaign = CampaignFactory(merchant=merchant, external_id="SPRING", ends_on=dt.date(2024, 3, 14))
    customers = [CustomerFactory(merchant=merchant, external_id=f"C{n}") for n in range(1, 4)]
    return campaign, customers


def _row(customer: str, group: str = "treatment", *, campaign: str = "SPRING", sent_on: str = "2024-03-01") -> dict:
    return {"campaign_id": campaign, "customer_id": customer, "group": group, "sent_on": sent_on}


def _stored(merchant) -> list[tuple[str, str, str, dt.date]]:
    return sorted(
        CampaignRecipient.objects.filter(merchant=merchant).values_list(
            "campaign__external_id", "customer__external_id", "group", "sent_on"
        )
    )


def test_it_upserts_recipients_and_reports_what_changed(api_client, merchant, audience):
    body = {"recipients": [_row("C1"), _row("C2", "holdout"), _row("C3")]}

    created = api_client.post(BULK_URL, body, format="json")
    again = api_client.post(BULK_URL, body, format="json")
    body["recipients"][2]["group"] = "holdout"
    moved = api_client.post(BULK_URL, body, format="json")

    assert created.status_code == 201
    assert created.json() == {"rows_read": 3, "rows_created": 3, "rows_updated": 0, "rows_unchanged": 0}
    assert again.json() == {"rows_read": 3, "rows_created": 0, "rows_updated": 0, "rows_unchanged": 3}
    assert moved.json() == {"rows_read": 3, "rows_created": 0, "rows_updated": 1, "rows_unchanged": 2}
    assert _stored(merchant) == [
        ("SPRING", "C1", "treatment", dt.date(2024, 3, 1)),
        ("SPRING", "C2", "holdout", dt.date(2024, 3, 1)),
        ("SPRING", "C3", "holdout", dt.date(2024, 3, 1)),
    ]


def test_it_numbers_field_errors_by_row_and_writes_nothing(api_client, merchant, audience):
    body = {"recipients": [_row("C1"), _row("C2", "control"), _row("C3", sent_on="2024-02-30")]}

    response = api_client.post(BULK_URL, body, format="json")

    assert response.status_code == 400
    assert [(error["row"], error["column"]) for error in response.json()["errors"]] == [
        (2, "group"),
        (3, "sent_on"),
    ]
    assert response.json()["error_count"] == 2
    assert _stored(merchant) == []


def test_it_rejects_unknown_references_duplicates_and_late_sends(api_client, merchant, audience):
    body = {
        "recipients": [
            _row("C1"),
            _row("C9"),
            _row("C2", campaign="WINTER"),
            _row("C1", "holdout"),
            _row("C3", sent_on="2024-03-15"),
        ]
    }

    response = api_client.post(BULK_URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 2, "column": "customer_id", "message": "No customer with id 'C9'."},
        {"row": 3, "column": "campaign_id", "message": "No campaign with id 'WINTER'."},
        {"row": 4, "column": "customer_id", "message": "This customer is already listed for this campaign in row 1."},
        {"row": 5, "column": "sent_on", "message": "The campaign ended on 2024-03-14; sent_on cannot be later."},
    ]
    assert _stored(merchant) == []


def test_it_answers_for_another_merchants_ids_exactly_as_for_unknown_ones(api_client, other_merchant, audience):
    CampaignFactory(merchant=other_merchant, external_id="RIVAL")
    CustomerFactory(merchant=other_merchant, external_id="R1")
    body = {"recipients": [_row("R1"), _row("C1", campaign="RIVAL")]}
    unknown = {"recipients": [_row("R2"), _row("C1", campaign="NOPE")]}

    response = api_client.post(BULK_URL, body, format="json")
    unknown_response = api_client.post(BULK_URL, unknown, format="json")

    assert response.status_code == unknown_response.status_code == 400
    assert [message["message"].replace("R1", "X").replace("RIVAL", "Y") for message in response.json()["errors"]] == [
        message["message"].replace("R2", "X").replace("NOPE", "Y") for message in unknown_response.json()["errors"]
    ]
    assert CampaignRecipient.objects.count() == 0


def test_it_rejects_a_body_that_is_not_json_as_row_zero(api_client, audience):
    response = api_client.post(BULK_URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["row"] == 0


def test_it_refuses_writes_to_a_viewer(merchant, audience):
    client = APIClient()
    client.force_login(MembershipFactory(merchant=merchant, role=Membership.Role.VIEWER).user)

    response = client.post(BULK_URL, {"recipients": [_row("C1")]}, format="json")

    assert response.status_code == 403
    assert _stored(merchant) == []


def test_it_lists_recipients_filtered_by_campaign_and_group(api_client, merchant, audience):
    campaign, _customers = audience
    other_campaign = CampaignFactory(merchant=merchant, external_id="SUMMER", ends_on=dt.date(2024, 7, 1))
    api_client.post(
        BULK_URL,
        {"recipients": [_row("C1"), _row("C2", "holdout"), _row("C3", campaign="SUMMER", sent_on="2024-06-01")]},
        format="json",
    )

    by_campaign = api_client.get(URL, {"campaign": campaign.pk}).json()
    holdouts = api_client.get(URL, {"group": "holdout"}).json()
    summer = api_client.get(URL, {"campaign_external_id": "SUMMER"}).json()

    assert [row["customer_external_id"] for row in by_campaign["results"]] == ["C1", "C2"]
    assert [(row["customer_external_id"], row["group"]) for row in holdouts["results"]] == [("C2", "holdout")]
    assert summer["results"][0] | {"id": None, "customer": None} == {
        "id": None,
        "campaign": other_campaign.pk,
        "campaign_external_id": "SUMMER",
        "customer": None,
        "customer_external_id": "C3",
        "group": "treatment",
        "sent_on": "2024-06-01",
    }


def test_it_shows_no_recipient_to_another_merchant(api_client, other_api_client, audience):
    campaign, _customers = audience
    api_client.post(BULK_URL, {"recipients": [_row("C1"), _row("C2")]}, format="json")
    recipient = CampaignRecipient.objects.first()

    assert other_api_client.get(URL).json()["count"] == 0
    assert other_api_client.get(URL, {"campaign": campaign.pk}).json()["count"] == 0
    assert other_api_client.get(f"{URL}{recipient.pk}/").status_code == 404


def test_it_lists_in_the_same_number_of_queries_for_more_rows(api_client, merchant, audience):
    api_client.post(BULK_URL, {"recipients": [_row("C1")]}, format="json")
    with CaptureQueriesContext(connection) as few:
        assert api_client.get(URL).status_code == 200
    api_client.post(BULK_URL, {"recipients": [_row("C2"), _row("C3")]}, format="json")

    with CaptureQueriesContext(connection) as more:
        response = api_client.get(URL)

    assert response.json()["count"] == 3
    assert len(more.captured_queries) == len(few.captured_queries)


def test_it_upserts_a_body_in_a_bounded_number_of_queries(api_client, merchant):
    campaign = CampaignFactory(merchant=merchant, external_id="SPRING", ends_on=dt.date(2024, 3, 14))
    CustomerFactory.create_batch(40, merchant=merchant)
    ids = Customer.objects.filter(merchant=merchant).values_list("external_id", flat=True)
    body = {"recipients": [_row(external_id, "treatment" if n % 2 else "holdout") for n, external_id in enumerate(ids)]}

    with CaptureQueriesContext(connection) as captured:
        response = api_client.post(BULK_URL, body, format="json")

    assert response.json()["rows_created"] == 40
    assert campaign.recipients.count() == 40
    assert len(captured.captured_queries) <= 12


def test_it_renders_the_admin_changelist_in_constant_queries_with_a_merchant_filter(
    staff_client, merchant, other_merchant, audience
):
    campaign, customers = audience
    url = reverse("admin:customers_campaignrecipient_changelist")
    CampaignRecipient.objects.create(
        merchant=merchant, campaign=campaign, customer=customers[0], group="treatment", sent_on=dt.date(2024, 3, 1)
    )
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(url).status_code == 200
    for customer in customers[1:]:
        CampaignRecipient.objects.create(
            merchant=merchant, campaign=campaign, customer=customer, group="holdout", sent_on=dt.date(2024, 3, 1)
        )
    rival_campaign = CampaignFactory(merchant=other_merchant)
    CampaignRecipient.objects.create(
        merchant=other_merchant,
        campaign=rival_campaign,
        customer=CustomerFactory(merchant=other_merchant),
        group="treatment",
        sent_on=dt.date(2024, 3, 1),
    )

    with CaptureQueriesContext(connection) as more:
        response = staff_client.get(url)
    filtered = staff_client.get(url, {"merchant__id__exact": other_merchant.pk})

    assert response.status_code == 200
    assert len(more.captured_queries) == len(few.captured_queries)
    assert filtered.context["cl"].result_count == 1
