"""Data-health reads for the merchant dashboard: how much of the merchant's history is loaded, and how recent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Min

from customers.models import ActivityEvent, Campaign, Customer, Order, OrderLine
from ecomforecast.models import ImportJob, Merchant
from ecomforecast.selectors import import_job_list
from inventory.models import Product, PurchaseOrder, StockLevel, Supplier


@dataclass(frozen=True)
class DatasetCount:
    label: str
    count: int


@dataclass(frozen=True)
class DataHealth:
    counts: list[DatasetCount]
    first_order_at: dt.datetime | None
    last_order_at: dt.datetime | None
    return_orders: int

    @property
    def has_orders(self) -> bool:
        return self.last_order_at is not None

    @property
    def history_days(self) -> int:
        if self.first_order_at is None or self.last_order_at is None:
            return 0
        return (self.last_order_at.date() - self.first_order_at.date()).days + 1


COUNTED_MODELS = (
    ("Products", Product),
    ("Customers", Customer),
    ("Orders", Order),
    ("Order lines", OrderLine),
    ("Stock rows", StockLevel),
    ("Suppliers", Supplier),
    ("Purchase orders", PurchaseOrder),
    ("Activity events", ActivityEvent),
    ("Campaigns", Campaign),
)


def data_health(*, merchant: Merchant) -> DataHealth:
    counts = [DatasetCount(label, model.objects.filter(merchant=merchant).count()) for label, model in COUNTED_MODELS]
    order_span = Order.objects.filter(merchant=merchant).aggregate(first=Min("placed_at"), last=Max("placed_at"))
    return DataHealth(
        counts=counts,
        first_order_at=order_span["first"],
        last_order_at=order_span["last"],
        return_orders=Order.objects.filter(merchant=merchant, kind=Order.Kind.RETURN).count(),
    )


def recent_import_jobs(*, merchant: Merchant, limit: int = 5) -> list[ImportJob]:
    return list(import_job_list(merchant=merchant)[:limit])
