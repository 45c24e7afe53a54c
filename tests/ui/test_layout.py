from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ecomforecast.models import Membership
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

SECTIONS = [
    ("dashboard", "Dashboard"),
    ("product-list", "Products"),
    ("customer-list", "Customers"),
    ("campaigns", "Campaigns"),
    ("forecasts", "Forecasts"),
    ("imports", "Imports"),
]


@pytest.mark.parametrize(("url_name", "label"), SECTIONS)
def test_it_marks_the_current_section_in_the_navigation(owner_client, url_name, label):
    html = owner_client.get(reverse(url_name)).content.decode()

    assert f'<a href="{reverse(url_name)}" class="active" aria-current="page">{label}</a>' in html
    for other_name, other_label in SECTIONS:
        assert f'<a href="{reverse(other_name)}"' in html, other_label
    assert f'<a href="{reverse("api-docs")}">API docs</a>' in html
    assert "/static/ecomforecast/css/app.css" in html


def test_it_offers_api_keys_to_owners_only(owner_client, merchant):
    analyst_client = Client()
    analyst_client.force_login(MembershipFactory(merchant=merchant, role=Membership.Role.ANALYST).user)

    assert reverse("api-keys") in owner_client.get(reverse("dashboard")).content.decode()
    assert reverse("api-keys") not in analyst_client.get(reverse("dashboard")).content.decode()


def test_it_loads_nothing_from_another_origin(owner_client):
    html = owner_client.get(reverse("dashboard")).content.decode()

    assert "http://" not in html
    assert "https://" not in html
