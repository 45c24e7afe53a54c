"""Which merchant a request acts for, and the checks that keep merchants apart."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest

from ecomforecast.models import Membership, Merchant

SESSION_KEY = "current_merchant_id"


def memberships_of(user) -> list[Membership]:
    if not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user).select_related("merchant").order_by("merchant__name"))


def resolve_membership(request: HttpRequest) -> Membership | None:
    """The membership the session points at, else the user's first one."""
    memberships = memberships_of(request.user)
    if not memberships:
        return None
    wanted = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.merchant_id == wanted:
            return membership
    return memberships[0]


class CurrentMerchantMiddleware:
    """Sets request.merchant and request.membership for signed-in users (None when they have none)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        request.membership = None
        request.merchant = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            request._memberships = memberships_of(user)
            membership = resolve_membership(request)
            if membership is not None:
                request.membership = membership
                request.merchant = membership.merchant
        return self.get_response(request)


def merchant_context(request: HttpRequest) -> dict:
    return {
        "current_merchant": getattr(request, "merchant", None),
        "current_membership": getattr(request, "membership", None),
        "merchant_memberships": getattr(request, "_memberships", []),
    }


def switch_merchant(request: HttpRequest, merchant: Merchant) -> bool:
    if not Membership.objects.filter(user=request.user, merchant=merchant).exists():
        return False
    request.session[SESSION_KEY] = merchant.pk
    return True


class RejectMalformedSessionCookieMiddleware:
    """Drops a session cookie that cannot be a session key (Django makes them of [a-z0-9], 32 long), so a forged
    cookie with odd bytes (a NUL breaks the database lookup) reads as no session instead of a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        value = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if value is not None and not _SESSION_KEY.fullmatch(value):
            del request.COOKIES[settings.SESSION_COOKIE_NAME]
        return self.get_response(request)


_SESSION_KEY = re.compile(r"[a-z0-9]{8,64}")
