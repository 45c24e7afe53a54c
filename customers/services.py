"""Writes on customers, orders and their lines, activity events and campaigns.

The bulk upserts take a pandas frame (ids already resolved where the docstring says so), write it set-based
(see :mod:`ecomforecast.importing.upsert`) and report what was created, updated or left unchanged.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd
from django.db import transaction

from customers.models import ActivityEvent, Campaign, Customer, Order, OrderLine
from ecomforecast.importing.upsert import On, UpsertResult, bulk_insert, bulk_upsert
from inventory.models import Category, Product


@transaction.atomic
def customers_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts customers by external_id; returns their ids (``ids``: external_id, id).

    ``rows`` has external_id and any of email, name, country, first_seen_at. Details already known are kept
    (only blanks are filled) and first_seen_at only moves earlier, so files may arrive in any order and
    re-importing one changes nothing.
    """
    frame = rows.assign(merchant_id=merchant.pk)
    update = {column: On.FILL for column in ("email", "name", "country") if column in frame.columns}
    if "first_seen_at" in frame.columns:
        update["first_seen_at"] = On.EARLIEST
    return bulk_upsert(model=Customer, frame=frame, key=["merchant_id", "external_id"], update=update, with_ids=True)


@transaction.atomic
def orders_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts orders by external_id: external_id, customer_id (the merchant's, or null), placed_at, kind, status,
    channel, country, currency; returns their ids (``ids``: external_id, id)."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {column: On.OVERWRITE for column in frame.columns if column not in {"merchant_id", "external_id"}}
    return bulk_upsert(model=Order, frame=frame, key=["merchant_id", "external_id"], update=update, with_ids=True)


@transaction.atomic
def order_lines_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts order lines by (order_id, line_number): product_id, kind, quantity (positive), unit_price, discount,
    placed_at (the order's). Ids must be the merchant's."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {
        column: On.OVERWRITE for column in frame.columns if column not in {"merchant_id", "order_id", "line_number"}
    }
    return bulk_upsert(model=OrderLine, frame=frame, key=["order_id", "line_number"], update=update)


@transaction.atomic
def order_lines_insert(*, merchant, rows: pd.DataFrame) -> int:
    """Inserts the lines of orders created in the same transaction (no line can exist yet, so no conflict check);
    same columns as ``order_lines_upsert``. Returns the number of lines."""
    return bulk_insert(model=OrderLine, frame=rows.assign(merchant_id=merchant.pk))


@transaction.atomic
def activity_events_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts events by event_key: event_key, customer_id, product_id, kind, occurred_at, session_id, query."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {column: On.OVERWRITE for column in frame.columns if column not in {"merchant_id", "event_key"}}
    return bulk_upsert(model=ActivityEvent, frame=frame, key=["merchant_id", "event_key"], update=update)


CAMPAIGN_FIELDS = ("name", "starts_on", "ends_on", "discount_pct", "channel", "target_segment", "cost")


@transaction.atomic
def campaigns_upsert(
    *, merchant, rows: pd.DataFrame, product_ids: dict[str, set[int]], category_ids: dict[str, set[int]]
) -> UpsertResult:
    """Upserts campaigns by external_id (fields: CAMPAIGN_FIELDS) and sets their products and categories
    ({external_id: {id, ...}}, the merchant's). A merchant has tens to hundreds of campaigns, so this works row
    by row; a campaign whose links alone changed counts as updated."""
    existing = {
        campaign.external_id: campaign
        for campaign in Campaign.objects.filter(
            merchant=merchant, external_id__in=rows["external_id"].tolist()
        ).prefetch_related("products", "categories")
    }
    result = UpsertResult()
    for record in rows.drop_duplicates(subset=["external_id"], keep="last").to_dict("records"):
        values = {name: record[name] for name in CAMPAIGN_FIELDS if name in record}
        campaign = existing.get(record["external_id"])
        wanted_products = product_ids.get(record["external_id"], set())
        wanted_categories = category_ids.get(record["external_id"], set())
        if campaign is None:
            campaign = Campaign(merchant=merchant, external_id=record["external_id"], **values)
            campaign.full_clean()
            campaign.save()
            campaign.products.set(wanted_products)
            campaign.categories.set(wanted_categories)
            result.created += 1
            continue
        changed_fields = [name for name, value in values.items() if getattr(campaign, name) != value]
        for name in changed_fields:
            setattr(campaign, name, values[name])
        if changed_fields:
            campaign.full_clean()
            campaign.save(update_fields=changed_fields)
        relinked = False
        if {product.pk for product in campaign.products.all()} != wanted_products:
            campaign.products.set(wanted_products)
            relinked = True
        if {category.pk for category in campaign.categories.all()} != wanted_categories:
            campaign.categories.set(wanted_categories)
            relinked = True
        if changed_fields or relinked:
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def campaign_external_id_new(*, merchant) -> str:
    """An id no campaign of the merchant has yet, for a campaign defined without one."""
    while True:
        external_id = f"planned-{secrets.token_hex(4)}"
        if not Campaign.objects.filter(merchant=merchant, external_id=external_id).exists():
            return external_id


@transaction.atomic
def campaign_save(
    *,
    merchant,
    campaign: Campaign | None,
    name: str,
    external_id: str,
    starts_on: dt.date,
    ends_on: dt.date,
    discount_pct: Decimal,
    channel: str,
    cost: Decimal,
    products: Sequence[Product],
    categories: Sequence[Category],
) -> Campaign:
    """Creates the campaign (``campaign`` None) or changes it, and sets its products and categories (the merchant's;
    the caller checked them). A blank ``external_id`` keeps the campaign's, or makes one up for a new campaign."""
    if campaign is None:
        campaign = Campaign(merchant=merchant)
    else:
        campaign = Campaign.objects.select_for_update().get(merchant=merchant, pk=campaign.pk)
    campaign.name = name
    campaign.external_id = external_id or campaign.external_id or campaign_external_id_new(merchant=merchant)
    campaign.starts_on = starts_on
    campaign.ends_on = ends_on
    campaign.discount_pct = discount_pct
    campaign.channel = channel
    campaign.cost = cost
    campaign.full_clean()
    campaign.save()
    campaign.products.set(products)
    campaign.categories.set(categories)
    return campaign
