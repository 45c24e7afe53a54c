from __future__ import annotations

import pytest
from django.urls import reverse

from ecomforecast.models import Membership
from ecomforecast.tenancy import SESSION_KEY
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_it_switches_to_another_merchant_of_the_user(owner_client, owner, merchant, other_merchant):
    MembershipFactory(user=owner, merchant=other_merchant, role=Membership.Role.VIEWER)
    ProductFactory(merchant=other_merchant, sku="RIVAL-ONLY")

    response = owner_client.post(reverse("merchant-switch"), {"merchant": other_merchant.slug}, follow=True)

    assert response.status_code == 200
    assert owner_client.session[SESSION_KEY] == other_merchant.pk
    assert response.context["current_merchant"] == other_merchant
    assert "RIVAL-ONLY" in owner_client.get(reverse("product-list")).content.decode()


def test_it_lists_only_the_users_merchants_in_the_switcher(owner_client, owner, merchant, other_merchant):
    third = MerchantFactory(slug="third", name="Third Shop")
    MembershipFactory(user=owner, merchant=third)

    html = owner_client.get(reverse("dashboard")).content.decode()

    assert 'id="merchant-switcher"' in html
    assert 'value="third"' in html
    assert 'value="acme"' in html
    assert 'value="rival"' not in html


def test_it_refuses_a_merchant_the_user_is_not_a_member_of(owner_client, merchant, other_merchant):
    response = owner_client.post(reverse("merchant-switch"), {"merchant": other_merchant.slug})

    assert response.status_code == 404
    assert owner_client.session.get(SESSION_KEY) != other_merchant.pk
    assert owner_client.get(reverse("dashboard")).context["current_merchant"] == merchant


def test_it_answers_an_unknown_merchant_like_a_foreign_one(owner_client):
    assert owner_client.post(reverse("merchant-switch"), {"merchant": "no-such-shop"}).status_code == 404


def test_it_only_switches_by_post(owner_client, other_merchant):
    assert owner_client.get(reverse("merchant-switch"), {"merchant": other_merchant.slug}).status_code == 405
