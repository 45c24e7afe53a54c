"""Every API request acts for exactly one merchant: the API key's, or the session's current one."""

from __future__ import annotations

from rest_framework import permissions

from ecomforecast.api.authentication import ApiKeyPrincipal
from ecomforecast.models import Membership, Merchant
from ecomforecast.tenancy import resolve_membership

WRITE_ROLES = {Membership.Role.OWNER, Membership.Role.ANALYST}


def request_merchant_and_role(request) -> tuple[Merchant | None, str | None]:
    cached = getattr(request, "_merchant_and_role", None)
    if cached is not None:
        return cached
    user = request.user
    if isinstance(user, ApiKeyPrincipal):
        result = (user.merchant, user.api_key.role)
    elif user is not None and user.is_authenticated:
        membership = resolve_membership(request._request)
        result = (membership.merchant, membership.role) if membership else (None, None)
    else:
        result = (None, None)
    request._merchant_and_role = result
    return result


class IsMerchantMember(permissions.BasePermission):
    message = "You need a merchant membership or a merchant API key."

    def has_permission(self, request, view) -> bool:
        merchant, role = request_merchant_and_role(request)
        if merchant is None:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return role in WRITE_ROLES
