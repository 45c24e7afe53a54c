"""Creates (or updates) a merchant, a user and the user's owner membership: the first login of a shop."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ecomforecast.models import Membership, Merchant
from ecomforecast.services import membership_grant, merchant_create


class Command(BaseCommand):
    help = "Create a merchant and a user who owns it (both kept if they exist), and print the login."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True, help="merchant slug, e.g. acme")
        parser.add_argument("--merchant-name", help="display name (default: the slug, titled)")
        parser.add_argument("--currency", default="GBP")
        parser.add_argument("--timezone", default="Europe/London")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password", help="set this password (default: keep an existing user's, or generate one for a new user)"
        )
        parser.add_argument("--role", choices=Membership.Role.values, default=Membership.Role.OWNER)
        parser.add_argument("--staff", action="store_true", help="also let the user into the admin (is_staff)")

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                merchant = Merchant.objects.filter(slug=options["merchant"]).first()
                if merchant is None:
                    merchant = merchant_create(
                        slug=options["merchant"],
                        name=options["merchant_name"] or options["merchant"].replace("-", " ").title(),
                        currency=options["currency"],
                        timezone=options["timezone"],
                    )
                    self.stdout.write(f"Created merchant {merchant.slug} ({merchant.name}).")
                user_model = get_user_model()
                user, created = user_model.objects.get_or_create(
                    username=options["username"], defaults={"email": options["email"]}
                )
                password = options["password"] or (secrets.token_urlsafe(12) if created else None)
                if password is not None:
                    user.set_password(password)
                if options["staff"]:
                    user.is_staff = True
                user.save()
                membership_grant(user=user, merchant=merchant, role=options["role"])
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{user.get_username()} is {options['role']} of {merchant.name}. Log in at /login/ as "
                f"{user.get_username()}" + (f" with password {password}" if password else " (password unchanged)")
            )
        )
