"""Owners decide whether their merchant's daily demand may join the shared pretraining corpus."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ecomforecast.models import Membership, Merchant
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_an_owner_starts_and_stops_sharing(owner_client, merchant, other_merchant):
    page = owner_client.get(reverse("data-sharing")).content.decode()
    assert '<span class="badge badge-revoked">Not sharing</span>' in page
    assert 'name="consent" value="yes"' in page

    response = owner_client.post(reverse("data-sharing"), {"consent": "yes"}, follow=True)

    merchant.refresh_from_db()
    assert merchant.pretraining_consent_at is not None
    page = response.content.decode()
    assert "Acme&#x27;s daily demand may join the next pretraining corpus." in page
    assert f"since {merchant.pretraining_consent_at:%Y-%m-%d}" in page
    assert 'name="consent" value="no"' in page
    # the other merchant is untouched
    assert Merchant.objects.get(pk=other_merchant.pk).pretraining_consent_at is None

    response = owner_client.post(reverse("data-sharing"), {"consent": "no"}, follow=True)

    merchant.refresh_from_db()
    assert merchant.pretraining_consent_at is None
    assert "stays out of every later pretraining corpus" in response.content.decode()


def test_a_choice_that_is_neither_changes_nothing(owner_client, merchant):
    response = owner_client.post(reverse("data-sharing"), {"consent": "maybe"})

    assert response.status_code == 400
    assert "Choose to share or not to share." in response.content.decode()
    merchant.refresh_from_db()
    assert merchant.pretraining_consent_at is None


@pytest.mark.parametrize("role", [Membership.Role.ANALYST, Membership.Role.VIEWER])
def test_only_owners_may_decide(merchant, role):
    client = Client()
    client.force_login(MembershipFactory(merchant=merchant, role=role).user)

    assert client.get(reverse("data-sharing")).status_code == 403
    assert client.post(reverse("data-sharing"), {"consent": "yes"}).status_code == 403
    merchant.refresh_from_db()
    assert merchant.pretraining_consent_at is None
    assert reverse("data-sharing") not in client.get(reverse("dashboard")).content.decode()


def test_owners_find_it_in_the_navigation(owner_client):
    assert reverse("data-sharing") in owner_client.get(reverse("dashboard")).content.decode()
