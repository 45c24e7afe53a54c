from __future__ import annotations

from django import template

from forecasting.views import customer_scores_context

register = template.Library()


@register.inclusion_tag("forecasting/_customer_scores.html", takes_context=True)
def customer_scores(context, customer):
    """The scores panel of a customer page, for the merchant the request acts for."""
    return customer_scores_context(merchant=context["request"].merchant, customer=customer)
