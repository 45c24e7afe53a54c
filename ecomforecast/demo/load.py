"""Loads a generated demo shop into a merchant through the import framework, as a merchant's own files would be."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from customers.models import Campaign, OrderLine
from customers.services import campaign_save
from ecomforecast.demo.shop import DemoShop
from ecomforecast.importing import ImportReport, run_import
from forecasting.io import last_sale_day
from inventory.models import Product

# (import kind, generic format, DemoShop attribute) in dependency order: products need suppliers, stock and
# purchase orders need products, orders and activity need products (and campaigns reference them).
IMPORT_SEQUENCE: tuple[tuple[str, str, str], ...] = (
    ("suppliers", "suppliers-csv", "suppliers"),
    ("products", "products-csv", "products"),
    ("stock", "stock-csv", "stock"),
    ("purchase-orders", "purchase-orders-csv", "purchase_orders"),
    ("campaigns", "campaigns-csv", "campaigns"),
    ("orders", "orders-csv", "orders"),
    ("activity", "activity-csv", "activity"),
)


def total_rows(shop: DemoShop) -> int:
    return sum(len(getattr(shop, attribute)) for _kind, _fmt, attribute in IMPORT_SEQUENCE)


@transaction.atomic
def load_demo_shop(
    *, merchant, shop: DemoShop, progress: Callable[[int, int], None] | None = None
) -> dict[str, ImportReport]:
    """Imports every frame of the shop for the merchant; all or nothing, and a second load changes nothing.

    ``progress(done, total)`` is called with rows imported so far over all frames. Raises ImportFailed (with
    the report's row errors) if any frame is rejected.
    """
    total = total_rows(shop)
    done_before = 0
    reports: dict[str, ImportReport] = {}
    for kind, fmt, attribute in IMPORT_SEQUENCE:
        frame = getattr(shop, attribute)
        if frame.empty:
            continue

        def report_progress(done: int, _total: int | None, offset: int = done_before) -> None:
            if progress is not None:
                progress(offset + done, total)

        reports[kind] = run_import(merchant=merchant, kind=kind, fmt=fmt, frame=frame, progress=report_progress)
        done_before += len(frame)
    if progress is not None:
        progress(total, total)
    return reports


def describe_shop(shop: DemoShop) -> list[tuple[str, int]]:
    """What was generated, as (label, count) pairs for a command's summary."""
    orders = shop.orders
    truth = shop.truth
    return [
        ("days", (shop.end - shop.start).days + 1),
        ("suppliers", len(shop.suppliers)),
        ("products", len(shop.products)),
        ("stock levels", len(shop.stock)),
        ("stock-out days", len(truth.stockout_days)),
        ("purchase orders", shop.purchase_orders["po_number"].nunique()),
        ("purchase order lines", len(shop.purchase_orders)),
        ("campaigns", len(shop.campaigns)),
        ("orders", orders["order_id"].nunique()),
        ("order lines", len(orders)),
        ("returned lines", int((orders["quantity"] < 0).sum())),
        ("cancelled orders", orders.loc[orders["status"] == "cancelled", "order_id"].nunique()),
        ("customers", orders.loc[orders["customer_id"] != "", "customer_id"].nunique()),
        ("churned customers", int(truth.customers["churned_on"].notna().sum())),
        ("activity events", len(shop.activity)),
    ]


def describe_reports(reports: dict[str, ImportReport]) -> list[str]:
    return [
        f"{kind:<16} read {r.rows_read:>8}  created {r.rows_created:>8}  updated {r.rows_updated:>6}  "
        f"unchanged {r.rows_unchanged:>8}  skipped {r.rows_skipped:>6}"
        for kind, r in reports.items()
    ]


PLANNED_CAMPAIGN_ID = "demo-planned"


def plan_demo_campaign(*, merchant, lead_days: int = 10, length_days: int = 7, products: int = 4):
    """A campaign the demo merchant is planning (the generated shop's campaigns are all in the past): 20 % off its
    best sellers of the last 90 days, starting ``lead_days`` after the last sale, so that the pipeline forecasts
    it and the planner shows a plan. None when the shop has no sales; the existing one when it is already there."""
    existing = Campaign.objects.filter(merchant=merchant, external_id=PLANNED_CAMPAIGN_ID).first()
    if existing is not None:
        return existing
    last_day = last_sale_day(merchant=merchant)
    if last_day is None:
        return None
    best = (
        OrderLine.objects.filter(
            merchant=merchant, kind=OrderLine.Kind.SALE, placed_at__date__gt=last_day - dt.timedelta(days=90)
        )
        .values("product")
        .annotate(units=Sum("quantity"))
        .order_by("-units", "product")[:products]
    )
    chosen = list(Product.objects.filter(merchant=merchant, pk__in=[row["product"] for row in best]))
    starts_on = last_day + dt.timedelta(days=lead_days)
    return campaign_save(
        merchant=merchant,
        campaign=None,
        name="Planned: best sellers 20% off",
        external_id=PLANNED_CAMPAIGN_ID,
        starts_on=starts_on,
        ends_on=starts_on + dt.timedelta(days=length_days - 1),
        discount_pct=Decimal("20"),
        channel="email",
        cost=Decimal("150"),
        products=chosen,
        categories=[],
    )
