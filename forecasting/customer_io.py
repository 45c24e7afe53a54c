"""ORM rows -> the customer engine's tables (forecasting/engine/customer/features.py).

- transactions: one row per order with a customer: sale orders are purchases unless cancelled (a cancelled order
  bought nothing), return documents are `is_return` rows; the amount is the order's line value after discounts.
- events: the customers' activity events (views, carts, searches, ...).

Times are merchant-local and naive, in the engine's day unit; everything strictly before the day after the data
cutoff is history. Rows stream from the database in chunks into numpy arrays, so memory grows with the arrays
(about 25 bytes per order), never with Python objects per row.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator

import numpy as np
import pandas as pd
from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce

from customers.models import ActivityEvent, Order
from ecomforecast.models import Merchant

CHUNK_ROWS = 20_000
AMOUNT = DecimalField(max_digits=20, decimal_places=4)
# The booster's oldest feature snapshot is one year before the cutoff and counts events in the 90 days before
# it; older events change no feature but the days since a customer's last event.
EVENT_LOOKBACK_DAYS = 460


def history_end(*, merchant: Merchant, data_cutoff: dt.date) -> dt.datetime:
    """The first instant after the data cutoff, in the merchant's time zone."""
    return dt.datetime.combine(
        data_cutoff + dt.timedelta(days=1), dt.time.min, tzinfo=zoneinfo.ZoneInfo(merchant.timezone)
    )


def engine_cutoff(data_cutoff: dt.date) -> pd.Timestamp:
    """The engine's cutoff: history is strictly before it, so the whole of the cutoff day counts."""
    return pd.Timestamp(data_cutoff + dt.timedelta(days=1))


def last_order_day(*, merchant: Merchant) -> dt.date | None:
    placed_at = (
        Order.objects.filter(merchant=merchant, customer__isnull=False)
        .order_by("-placed_at")
        .values_list("placed_at", flat=True)
        .first()
    )
    return placed_at.astimezone(zoneinfo.ZoneInfo(merchant.timezone)).date() if placed_at else None


def customer_orders(*, merchant: Merchant, before: dt.datetime | None = None):
    """The orders that count for customer models: every order with a customer except cancelled sales."""
    orders = Order.objects.filter(merchant=merchant, customer__isnull=False).exclude(
        kind=Order.Kind.SALE, status=Order.Status.CANCELLED
    )
    return orders if before is None else orders.filter(placed_at__lt=before)


def _local_naive(epoch_seconds: np.ndarray, tz: str) -> np.ndarray:
    instants = pd.to_datetime(epoch_seconds, unit="s", utc=True)
    return instants.tz_convert(tz).tz_localize(None).to_numpy()


def _chunks(rows: Iterator[tuple]) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def transactions_table(*, merchant: Merchant, data_cutoff: dt.date) -> pd.DataFrame:
    """customer_id (Customer pk), timestamp, amount, is_return: one row per counted order up to the cutoff."""
    line_value = ExpressionWrapper(
        F("lines__quantity") * F("lines__unit_price") - F("lines__discount"), output_field=AMOUNT
    )
    rows = (
        customer_orders(merchant=merchant, before=history_end(merchant=merchant, data_cutoff=data_cutoff))
        .annotate(amount=Coalesce(Sum(line_value), Value(0), output_field=AMOUNT))
        .order_by()
        .values_list("customer_id", "placed_at", "amount", "kind")
        .iterator(chunk_size=CHUNK_ROWS)
    )
    customers, seconds, amounts, returns = [], [], [], []
    for batch in _chunks(rows):
        customers.append(np.fromiter((row[0] for row in batch), dtype=np.int64, count=len(batch)))
        seconds.append(np.fromiter((row[1].timestamp() for row in batch), dtype=float, count=len(batch)))
        amounts.append(np.fromiter((row[2] for row in batch), dtype=float, count=len(batch)))
        returns.append(np.fromiter((row[3] == Order.Kind.RETURN for row in batch), dtype=bool, count=len(batch)))
    if not customers:
        return pd.DataFrame(
            {
                "customer_id": np.empty(0, dtype=np.int64),
                "timestamp": np.empty(0, dtype="datetime64[ns]"),
                "amount": np.empty(0, dtype=float),
                "is_return": np.empty(0, dtype=bool),
            }
        )
    return pd.DataFrame(
        {
            "customer_id": np.concatenate(customers),
            "timestamp": _local_naive(np.concatenate(seconds), merchant.timezone),
            "amount": np.concatenate(amounts),
            "is_return": np.concatenate(returns),
        }
    )


def events_table(
    *, merchant: Merchant, data_cutoff: dt.date, lookback_days: int = EVENT_LOOKBACK_DAYS
) -> pd.DataFrame | None:
    """customer_id, timestamp, kind of the customers' activity in the lookback before the cutoff (None if none)."""
    end = history_end(merchant=merchant, data_cutoff=data_cutoff)
    rows = (
        ActivityEvent.objects.filter(
            Q(customer__isnull=False),
            merchant=merchant,
            occurred_at__lt=end,
            occurred_at__gte=end - dt.timedelta(days=lookback_days),
        )
        .order_by()
        .values_list("customer_id", "occurred_at", "kind")
        .iterator(chunk_size=CHUNK_ROWS)
    )
    kinds = list(ActivityEvent.Kind.values)
    codes = {kind: index for index, kind in enumerate(kinds)}
    customers, seconds, kind_codes = [], [], []
    for batch in _chunks(rows):
        customers.append(np.fromiter((row[0] for row in batch), dtype=np.int64, count=len(batch)))
        seconds.append(np.fromiter((row[1].timestamp() for row in batch), dtype=float, count=len(batch)))
        kind_codes.append(np.fromiter((codes[row[2]] for row in batch), dtype=np.int8, count=len(batch)))
    if not customers:
        return None
    return pd.DataFrame(
        {
            "customer_id": np.concatenate(customers),
            "timestamp": _local_naive(np.concatenate(seconds), merchant.timezone),
            "kind": pd.Categorical.from_codes(np.concatenate(kind_codes), categories=kinds),
        }
    )
