from __future__ import annotations

from django.apps import AppConfig


class EcomforecastConfig(AppConfig):
    name = "ecomforecast"
    verbose_name = "Merchants and access"
