from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from ecomforecast.models import Membership, Merchant

pytestmark = pytest.mark.django_db


def test_it_creates_a_merchant_a_user_and_the_owner_membership(capsys):
    call_command(
        "create_merchant_user", "--merchant", "corner-shop", "--username", "ann", "--password", "s3cret-pass-99"
    )

    merchant = Merchant.objects.get(slug="corner-shop")
    user = get_user_model().objects.get(username="ann")
    assert merchant.name == "Corner Shop"
    assert user.check_password("s3cret-pass-99")
    assert Membership.objects.get(user=user, merchant=merchant).role == Membership.Role.OWNER
    assert "with password s3cret-pass-99" in capsys.readouterr().out


def test_it_keeps_existing_rows_when_run_twice(capsys):
    call_command("create_merchant_user", "--merchant", "corner-shop", "--username", "ann", "--password", "first-pw-1")
    call_command("create_merchant_user", "--merchant", "corner-shop", "--username", "ann")

    assert Merchant.objects.count() == 1
    assert Membership.objects.count() == 1
    assert get_user_model().objects.get(username="ann").check_password("first-pw-1")
    assert "(password unchanged)" in capsys.readouterr().out


def test_it_generates_a_password_for_a_new_user(capsys):
    call_command("create_merchant_user", "--merchant", "corner-shop", "--username", "bob")

    password = capsys.readouterr().out.strip().rsplit("with password ", 1)[1]
    assert get_user_model().objects.get(username="bob").check_password(password)


def test_it_rejects_an_unknown_time_zone():
    with pytest.raises(CommandError, match="not a known time zone"):
        call_command("create_merchant_user", "--merchant", "x", "--username", "y", "--timezone", "Mars/Olympus")
