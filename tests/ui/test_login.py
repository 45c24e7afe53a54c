from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROTECTED_PAGES = [
    reverse("dashboard"),
    reverse("product-list"),
    reverse("product-detail", args=[1]),
    reverse("customer-list"),
    reverse("customer-detail", args=[1]),
    reverse("imports"),
    reverse("import-detail", args=[1]),
    reverse("api-keys"),
]


@pytest.mark.parametrize("url", PROTECTED_PAGES)
def test_it_redirects_anonymous_visitors_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_it_logs_in_with_username_and_password_and_lands_on_the_dashboard(owner, merchant):
    client = Client(enforce_csrf_checks=True)
    login_page = client.get(reverse("login"))
    token = login_page.cookies["csrftoken"].value

    response = client.post(
        reverse("login"),
        {"username": owner.username, "password": "correct-horse-battery", "csrfmiddlewaretoken": token},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert merchant.name in response.content.decode()


def test_it_rejects_a_login_without_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("login"), {"username": owner.username, "password": "correct-horse-battery"})

    assert response.status_code == 403


def test_it_shows_an_error_for_a_wrong_password(client, owner):
    response = client.post(reverse("login"), {"username": owner.username, "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_it_logs_out_with_a_post(owner_client):
    response = owner_client.post(reverse("logout"))

    assert response.status_code == 302
    assert owner_client.get(reverse("dashboard")).status_code == 302


def test_it_tells_a_user_without_membership_that_they_have_no_shop(client):
    client.force_login(UserFactory(username="loner"))

    response = client.get(reverse("dashboard"))

    assert response.status_code == 403
    assert "You are not a member of any shop yet" in response.content.decode()
