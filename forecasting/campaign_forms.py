"""The campaign planner's form: a campaign's definition, its products by SKU checked against the catalogue."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms

from customers.models import Campaign
from ecomforecast.models import Merchant
from inventory.models import Product
from inventory.selectors import category_list, products_by_sku

SKU_SEPARATORS = re.compile(r"[\s,;]+")
UNKNOWN_SKUS_SHOWN = 10
CHANNEL_SUGGESTIONS = ("email", "social", "search", "site", "marketplace", "print")


def parse_skus(text: str) -> list[str]:
    """SKUs separated by commas, semicolons, spaces or new lines, each once, in the order given."""
    return list(dict.fromkeys(sku for sku in SKU_SEPARATORS.split(text.strip()) if sku))


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    external_id = forms.CharField(
        max_length=64,
        required=False,
        label="Campaign id",
        help_text="Your own id for it, as in your campaign imports; left blank, one is made up.",
    )
    starts_on = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))
    discount_pct = forms.DecimalField(
        label="Discount (%)",
        max_digits=5,
        decimal_places=2,
        initial=Decimal("0"),
        error_messages={"max_digits": "The discount is a percentage from 0 to 100."},
    )
    channel = forms.CharField(
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"list": "channel-suggestions"}),
        help_text="Where it runs: email, social, search, site, …",
    )
    cost = forms.DecimalField(
        label="Cost",
        max_digits=12,
        decimal_places=2,
        initial=Decimal("0"),
        help_text="What the campaign costs besides the discount (ads, fees), in your currency.",
    )
    skus = forms.CharField(
        label="Products (SKUs)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="One SKU per line, or separated by commas or spaces.",
    )
    categories = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="Every product of these categories (and their subcategories) is in the campaign too.",
    )

    def __init__(self, *args, merchant: Merchant, campaign: Campaign | None = None, **kwargs):
        if campaign is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": campaign.name,
                "external_id": campaign.external_id,
                "starts_on": campaign.starts_on,
                "ends_on": campaign.ends_on,
                "discount_pct": campaign.discount_pct,
                "channel": campaign.channel,
                "cost": campaign.cost.quantize(Decimal("0.01")),
                "skus": "\n".join(product.sku for product in campaign.products.all()),
                "categories": [category.pk for category in campaign.categories.all()],
            }
        super().__init__(*args, **kwargs)
        self.merchant = merchant
        self.campaign = campaign
        self.fields["categories"].queryset = category_list(merchant=merchant).order_by("name")
        self.channel_suggestions = CHANNEL_SUGGESTIONS

    def clean_discount_pct(self) -> Decimal:
        discount = self.cleaned_data["discount_pct"]
        if not Decimal(0) <= discount <= Decimal(100):
            raise forms.ValidationError("The discount is a percentage from 0 to 100.")
        return discount

    def clean_cost(self) -> Decimal:
        cost = self.cleaned_data["cost"]
        if cost < 0:
            raise forms.ValidationError("The cost cannot be negative.")
        return cost

    def clean_external_id(self) -> str:
        external_id = self.cleaned_data["external_id"].strip()
        if not external_id:
            return ""
        taken = Campaign.objects.filter(merchant=self.merchant, external_id=external_id)
        if self.campaign is not None:
            taken = taken.exclude(pk=self.campaign.pk)
        if taken.exists():
            raise forms.ValidationError(f"Another of your campaigns already has the id “{external_id}”.")
        return external_id

    def clean_skus(self) -> list[Product]:
        skus = parse_skus(self.cleaned_data["skus"])
        # Only this merchant's catalogue is searched, so another merchant's SKU reads exactly like a made-up one.
        found = products_by_sku(merchant=self.merchant, skus=skus)
        unknown = [sku for sku in skus if sku not in found]
        if unknown:
            shown = ", ".join(unknown[:UNKNOWN_SKUS_SHOWN])
            more = len(unknown) - UNKNOWN_SKUS_SHOWN
            label = "Unknown SKU" if len(unknown) == 1 else "Unknown SKUs"
            raise forms.ValidationError(
                f"{label}: {shown}{f' and {more} more' if more > 0 else ''}. "
                "Use the SKUs of your catalogue (the Products page)."
            )
        return [found[sku] for sku in skus]

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The last day cannot be before the first day.")
        if "skus" in cleaned and "categories" in cleaned and not cleaned["skus"] and not cleaned["categories"]:
            self.add_error("skus", "Name at least one product or choose a category: the campaign needs products.")
        return cleaned
