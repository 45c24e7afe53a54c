from __future__ import annotations

from django import template

from forecasting.views import product_forecast_context

register = template.Library()


@register.inclusion_tag("forecasting/_product_forecast.html", takes_context=True)
def product_forecast(context, product):
    """The forecast panel of a product page, for the merchant the request acts for."""
    return product_forecast_context(merchant=context["request"].merchant, product=product)
