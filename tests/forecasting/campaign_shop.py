"""A small shop whose past campaigns doubled the sales of their products, for campaign-evaluation tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from customers.models import Campaign
from inventory.models import Category, Product
from tests.factories import CampaignFactory, CategoryFactory
from tests.forecasting.shop import write_daily_orders

START = dt.date(2024, 1, 1)
DAYS = 280
CUTOFF = START + dt.timedelta(days=DAYS - 1)
WEEKLY = (1.0, 1.0, 1.0, 1.1, 1.2, 1.5, 0.8)
LIFT = 2.0
PROMOTED = 4
OTHERS = 4
# a week-long campaign on the Garden products every five weeks; the last one ends eight days before the cutoff
PAST_CAMPAIGN_DAYS = tuple(range(20, DAYS - 14, 35))
# the campaign on the other products that sold nothing extra (a true effect of zero)
FLAT_CAMPAIGN_DAYS = (200, 206)


def day(offset: int) -> dt.date:
    return START + dt.timedelta(days=offset)


@dataclass
class CampaignShop:
    garden: Category
    promoted: list[Product]
    others: list[Product]
    past: list[Campaign]
    flat: Campaign


def make_campaign_shop(merchant, *, seed: int = 3, prefix: str = "CMP") -> CampaignShop:
    """PROMOTED Garden products that sold LIFT times as much during the past campaigns (alternately on the products
    and on the category), and OTHERS products that no campaign moved; price 10, unit cost 4."""
    rng = np.random.default_rng(seed)
    garden = CategoryFactory(merchant=merchant, name=f"{prefix} Garden")
    products = Product.objects.bulk_create(
        Product(
            merchant=merchant,
            sku=f"{prefix}{index:02d}",
            name=f"Item {index}",
            category=garden if index < PROMOTED else None,
            price=Decimal("10"),
            unit_cost=Decimal("4"),
        )
        for index in range(PROMOTED + OTHERS)
    )
    promoted_days = np.zeros(DAYS, dtype=bool)
    past = []
    for number, first in enumerate(PAST_CAMPAIGN_DAYS):
        promoted_days[first : first + 7] = True
        campaign = CampaignFactory(
            merchant=merchant,
            external_id=f"{prefix}-PAST-{number}",
            name=f"Past {number}",
            starts_on=day(first),
            ends_on=day(first + 6),
            discount_pct=Decimal("25"),
            cost=Decimal("50"),
        )
        if number % 2:
            campaign.categories.add(garden)
        else:
            campaign.products.add(*products[:PROMOTED])
        past.append(campaign)
    flat = CampaignFactory(
        merchant=merchant,
        external_id=f"{prefix}-FLAT",
        name="Spotlight",
        starts_on=day(FLAT_CAMPAIGN_DAYS[0]),
        ends_on=day(FLAT_CAMPAIGN_DAYS[1]),
        discount_pct=Decimal("0"),
        cost=Decimal("20"),
    )
    flat.products.add(*products[PROMOTED:])

    rates = rng.uniform(3.0, 8.0, size=len(products))
    sales = [
        (product, offset, day(offset), int(rng.poisson(rate * WEEKLY[day(offset).weekday()] * lift)))
        for index, (product, rate) in enumerate(zip(products, rates, strict=True))
        for offset in range(DAYS)
        for lift in [LIFT if index < PROMOTED and promoted_days[offset] else 1.0]
    ]
    write_daily_orders(merchant=merchant, sales=sales, unit_price=Decimal("10"), hour=11)
    return CampaignShop(garden=garden, promoted=products[:PROMOTED], others=products[PROMOTED:], past=past, flat=flat)


def planned_campaign(merchant, shop: CampaignShop, *, lead_days: int = 8, length: int = 7, **fields) -> Campaign:
    """A campaign on the Garden category that starts ``lead_days`` after the cutoff."""
    campaign = CampaignFactory(
        merchant=merchant,
        name=fields.pop("name", "Summer sale"),
        starts_on=CUTOFF + dt.timedelta(days=lead_days),
        ends_on=CUTOFF + dt.timedelta(days=lead_days + length - 1),
        discount_pct=fields.pop("discount_pct", Decimal("25")),
        cost=fields.pop("cost", Decimal("100")),
        **fields,
    )
    campaign.categories.add(shop.garden)
    return campaign


# -- a category whose unpromoted products lose sales to its promoted ones ----------------------------------------

SIBLING_FACTOR = 0.7
KITCHEN = 4
# a week-long campaign on one Kitchen product (in turn) every three weeks; the last one ends a week before the cutoff
SIBLING_CAMPAIGN_DAYS = tuple(range(14, DAYS - 14, 21))


@dataclass
class CannibalisedShop:
    kitchen: Category
    products: list[Product]
    others: list[Product]


def make_cannibalised_shop(
    merchant, *, seed: int = 5, prefix: str = "KIT", sibling_factor: float = SIBLING_FACTOR
) -> CannibalisedShop:
    """KITCHEN Kitchen products, one of them promoted at a time (x LIFT) while the others sell x sibling_factor,
    and two uncategorised products no campaign moved; price 10, unit cost 4."""
    rng = np.random.default_rng(seed)
    kitchen = CategoryFactory(merchant=merchant, name=f"{prefix} Kitchen")
    products = Product.objects.bulk_create(
        Product(
            merchant=merchant,
            sku=f"{prefix}{index:02d}",
            name=f"Kitchen item {index}",
            category=kitchen if index < KITCHEN else None,
            price=Decimal("10"),
            unit_cost=Decimal("4"),
        )
        for index in range(KITCHEN + 2)
    )
    promoted = np.zeros((len(products), DAYS), dtype=bool)
    for number, first in enumerate(SIBLING_CAMPAIGN_DAYS):
        target = products[number % KITCHEN]
        promoted[number % KITCHEN, first : first + 7] = True
        campaign = CampaignFactory(
            merchant=merchant,
            external_id=f"{prefix}-PAST-{number}",
            name=f"Kitchen {number}",
            starts_on=day(first),
            ends_on=day(first + 6),
            discount_pct=Decimal("20"),
            cost=Decimal("30"),
        )
        campaign.products.add(target)
    sibling = promoted[:KITCHEN].any(axis=0)[None, :] & ~promoted
    sibling[KITCHEN:] = False
    rates = rng.uniform(5.0, 8.0, size=len(products))
    factor = np.where(promoted, LIFT, 1.0) * np.where(sibling, sibling_factor, 1.0)
    sales = [
        (product, offset, day(offset), int(rng.poisson(rate * WEEKLY[day(offset).weekday()] * factor[index, offset])))
        for index, (product, rate) in enumerate(zip(products, rates, strict=True))
        for offset in range(DAYS)
    ]
    write_daily_orders(merchant=merchant, sales=sales, unit_price=Decimal("10"), hour=11)
    return CannibalisedShop(kitchen=kitchen, products=products[:KITCHEN], others=products[KITCHEN:])


def planned_product_campaign(
    merchant, products: list[Product], *, lead_days: int = 8, length: int = 7, **fields
) -> Campaign:
    """A campaign on the given products that starts ``lead_days`` after the cutoff."""
    campaign = CampaignFactory(
        merchant=merchant,
        name=fields.pop("name", "Kitchen week"),
        starts_on=CUTOFF + dt.timedelta(days=lead_days),
        ends_on=CUTOFF + dt.timedelta(days=lead_days + length - 1),
        discount_pct=fields.pop("discount_pct", Decimal("20")),
        cost=fields.pop("cost", Decimal("100")),
        **fields,
    )
    campaign.products.add(*products)
    return campaign
