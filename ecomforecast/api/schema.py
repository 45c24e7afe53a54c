"""OpenAPI details: the API-key security scheme, and named enums for choice sets that share a field name.

Several models have a ``kind`` or a ``status`` with different choices; left to itself the schema generator
would name those enums after a hash. Fields built by :func:`named_choice_field` carry a stable component name.
"""

from __future__ import annotations

from functools import cache

from django.db import models
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "ecomforecast.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: a key of one merchant, created in the app and shown once.",
        }


@cache
def _named_choice_field_class(choices: type[models.Choices], component_name: str) -> type[serializers.ChoiceField]:
    schema = {
        "type": "string",
        "enum": list(choices.values),
        "description": "\n".join(f"* `{value}` - {label}" for value, label in choices.choices),
    }
    field_class = type(f"{component_name}Field", (serializers.ChoiceField,), {})
    return extend_schema_field(schema, component_name=component_name)(field_class)


def named_choice_field(choices: type[models.Choices], component_name: str, **kwargs) -> serializers.ChoiceField:
    return _named_choice_field_class(choices, component_name)(choices=choices.choices, **kwargs)
