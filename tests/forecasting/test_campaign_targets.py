"""Campaign targeting: uplift ranking from a past randomised campaign, the response ranking without one, API."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import CampaignRecipient
from forecasting.models import CustomerForecastRun, CustomerScore
from forecasting.targeting_services import RESPONSE_METHOD, UPLIFT_METHOD, campaign_targets
from tests.factories import CampaignFactory
from tests.forecasting.customer_shop import make_customers

pytestmark = pytest.mark.django_db

SENT_ON = dt.date(2024, 3, 1)
PER_KIND = 40
# kind: (days of the orders before the send date, whether a treated / a held-out customer buys in the window,
#        the customer's scores now: days since last order, orders, p_purchase_30d, segment)
KINDS = {
    "active": ((5, 20, 40), (True, True), (6.0, 4, 0.8, CustomerScore.Segment.CHAMPIONS)),
    "lapsed": ((60, 120), (True, False), (65.0, 3, 0.2, CustomerScore.Segment.AT_RISK)),
    "gone": ((300,), (False, False), (310.0, 1, 0.05, CustomerScore.Segment.LOST)),
}


def _scored_shop(merchant, *, with_past_campaign: bool):
    """PER_KIND customers of each kind, scored at 2024-06-30; optionally a past campaign sent on SENT_ON to every
    other customer of each kind, the rest held out, in which only the recently lapsed respond to the mail."""
    histories, groups = {}, {}
    for kind, (days_before, (treated_buys, holdout_buys), _scores) in KINDS.items():
        for n in range(PER_KIND):
            treated = n % 2 == 0
            days = [SENT_ON - dt.timedelta(days=days) for days in days_before]
            if treated_buys if treated else holdout_buys:
                days.append(SENT_ON + dt.timedelta(days=3))
            histories[f"{kind}-{n}"] = days
            groups[f"{kind}-{n}"] = treated
    customers = make_customers(merchant=merchant, histories=histories)
    past = CampaignFactory(merchant=merchant, external_id="PAST", starts_on=SENT_ON, ends_on=dt.date(2024, 3, 14))
    if with_past_campaign:
        CampaignRecipient.objects.bulk_create(
            CampaignRecipient(
                merchant=merchant,
                campaign=past,
                customer=customer,
                group=CampaignRecipient.Group.TREATMENT if groups[key] else CampaignRecipient.Group.HOLDOUT,
                sent_on=SENT_ON,
            )
            for key, customer in customers.items()
        )
    run = CustomerForecastRun.objects.create(
        merchant=merchant,
        idempotency_key="targets",
        data_cutoff=dt.date(2024, 6, 30),
        status=CustomerForecastRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
    )
    CustomerScore.objects.bulk_create(
        CustomerScore(
            merchant=merchant,
            run=run,
            customer=customer,
            p_alive=0.5,
            p_purchase_30d=KINDS[key.split("-")[0]][2][2],
            expected_orders_90d=1.0,
            churn_risk=1 - KINDS[key.split("-")[0]][2][2],
            clv_12m=50.0,
            segment=KINDS[key.split("-")[0]][2][3],
            rfm="333",
            model="bg_nbd",
            orders=KINDS[key.split("-")[0]][2][1],
            days_since_last_order=KINDS[key.split("-")[0]][2][0],
            total_spend=20.0 * KINDS[key.split("-")[0]][2][1],
        )
        for key, customer in customers.items()
    )
    return CampaignFactory(
        merchant=merchant, external_id="NEXT", starts_on=dt.date(2024, 7, 5), ends_on=dt.date(2024, 7, 19)
    )


def _kinds(targets) -> list[str]:
    return [target.external_id.split("-")[0] for target in targets]


def test_it_ranks_the_customers_the_campaign_persuades_first(merchant):
    campaign = _scored_shop(merchant, with_past_campaign=True)

    result = campaign_targets(merchant=merchant, campaign=campaign)

    assert result.method == UPLIFT_METHOD
    assert (result.past_recipients, result.past_campaigns, result.candidates) == (3 * PER_KIND, 1, 3 * PER_KIND)
    assert result.qini_coefficient > 0
    assert _kinds(result.targets[:PER_KIND]) == ["lapsed"] * PER_KIND
    assert [target.rank for target in result.targets] == list(range(1, 3 * PER_KIND + 1))
    assert min(target.uplift for target in result.targets[:PER_KIND]) > max(
        target.uplift for target in result.targets[PER_KIND:]
    )
    assert result.targets[0].segment == CustomerScore.Segment.AT_RISK
    assert result.learner == "logistic"
    assert any("logistic regression" in note for note in result.notes)


def test_it_falls_back_to_a_response_ranking_without_past_recipients(merchant):
    campaign = _scored_shop(merchant, with_past_campaign=False)

    result = campaign_targets(merchant=merchant, campaign=campaign, limit=50)

    assert result.method == RESPONSE_METHOD
    assert "no uplift evidence" in result.method_note
    assert "0 treated past recipients" in result.method_note
    assert result.qini_coefficient is None
    assert len(result.targets) == 50
    assert _kinds(result.targets) == ["active"] * PER_KIND + ["lapsed"] * 10
    assert {target.uplift for target in result.targets} == {None}


def test_it_restricts_candidates_to_the_campaigns_target_segment(merchant):
    campaign = _scored_shop(merchant, with_past_campaign=True)
    campaign.target_segment = "Lost"
    campaign.save()

    result = campaign_targets(merchant=merchant, campaign=campaign)

    assert result.candidates == PER_KIND
    assert set(_kinds(result.targets)) == {"gone"}


def test_it_answers_with_the_ranking_and_its_evidence(api_client, merchant):
    campaign = _scored_shop(merchant, with_past_campaign=True)

    response = api_client.get(f"/api/v1/campaigns/{campaign.pk}/targets/", {"limit": 3})

    assert response.status_code == 200
    body = response.json()
    assert body["method"] == UPLIFT_METHOD
    assert body["past_recipients"] == 3 * PER_KIND
    assert body["qini_coefficient"] > 0
    assert [target["rank"] for target in body["targets"]] == [1, 2, 3]
    assert all(target["customer_external_id"].startswith("lapsed-") for target in body["targets"])
    assert all(target["uplift"] > 0.2 for target in body["targets"])


def test_it_exports_the_ranking_as_csv(api_client, merchant):
    campaign = _scored_shop(merchant, with_past_campaign=False)

    response = api_client.get(f"/api/v1/campaigns/{campaign.pk}/targets/", {"limit": 2, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["rank", "customer_external_id", "uplift", "p_purchase_30d", "segment"]
    assert [row[0] for row in rows[1:]] == ["1", "2"]
    assert rows[1][2:] == ["", "0.8000", "champions"]


def test_it_rejects_a_bad_limit(api_client, merchant):
    campaign = CampaignFactory(merchant=merchant)

    response = api_client.get(f"/api/v1/campaigns/{campaign.pk}/targets/", {"limit": "ten"})

    assert response.status_code == 400
    assert "limit" in response.json()


def test_it_hides_another_merchants_campaign(api_client, other_merchant):
    rival = CampaignFactory(merchant=other_merchant)

    response = api_client.get(f"/api/v1/campaigns/{rival.pk}/targets/")

    assert response.status_code == 404


def test_it_says_so_when_there_are_no_scores_yet(api_client, merchant):
    campaign = CampaignFactory(merchant=merchant)

    body = api_client.get(f"/api/v1/campaigns/{campaign.pk}/targets/").json()

    assert (body["method"], body["candidates"], body["targets"]) == (RESPONSE_METHOD, 0, [])
    assert "no customer scores yet" in body["method_note"]


def test_it_targets_in_a_bounded_number_of_queries(api_client, merchant):
    campaign = _scored_shop(merchant, with_past_campaign=True)

    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(f"/api/v1/campaigns/{campaign.pk}/targets/")

    assert response.json()["candidates"] == 3 * PER_KIND
    # Key lookup, campaign, latest run, candidates, past recipients, their orders: none per customer.
    assert len(captured.captured_queries) <= 10
