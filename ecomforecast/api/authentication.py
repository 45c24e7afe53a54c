"""`Authorization: Api-Key <key>`: the key authenticates as its merchant, with the key's role."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from rest_framework import authentication, exceptions

from ecomforecast.models import ApiKey, Merchant, hash_api_key

KEYWORD = "Api-Key"


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """The request.user of an API-key request: not a Django user, bound to one merchant."""

    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True

    @property
    def pk(self) -> str:
        return f"api-key:{self.api_key.pk}"

    id = pk

    @property
    def merchant(self) -> Merchant:
        return self.api_key.merchant

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw_key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        raw_key = raw_key.strip()
        if not raw_key:
            raise exceptions.AuthenticationFailed("API key missing after 'Api-Key'.")
        prefix = raw_key[: ApiKey.PREFIX_LENGTH]
        api_key = ApiKey.objects.select_related("merchant").filter(prefix=prefix, revoked_at__isnull=True).first()
        if api_key is None or api_key.key_hash != hash_api_key(raw_key):
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD
