"""The Shopify admin "Export orders" CSV (``shopify``).

One row per line item. Only an order's first row carries the order fields (Email, Financial Status, Created
at, Currency, Source, Cancelled at, Billing Country...); later rows of the same Name carry line fields only.
Used columns: Name (the order id, e.g. ``#1001``), Email, Created at, Lineitem quantity, Lineitem name,
Lineitem price, Lineitem sku, Lineitem discount, Financial Status, Fulfillment Status, Cancelled at,
Currency, Source, Billing Country / Shipping Country; others are ignored.

- The customer is identified by the lower-cased Email (orders without one have no customer).
- Status: cancelled when Cancelled at is set, else refunded / paid (``paid``, ``partially_refunded``) /
  fulfilled (Fulfillment Status ``fulfilled``) / placed.
- Channel = Source (web, pos, shopify_draft_order, ...).
- Products are created when missing (SKU = Lineitem sku, or the Lineitem name when the item has no SKU;
  name = Lineitem name, price = Lineitem price); existing products keep their details.
- Row errors: a first row without Created at, a quantity that is not a positive whole number, a price or
  discount that is not a number or is negative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from customers.models import Order, OrderLine
from ecomforecast.importing import parsing as parse
from ecomforecast.importing.base import FormatImporter
from ecomforecast.importing.order_lines import OrderLineWriter

PAID_STATUSES = {"paid", "partially_refunded", "partially_paid"}


class ShopifyImporter(FormatImporter):
    kind = "orders"
    format = "shopify"
    required = ("Name", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price")

    def __init__(self, *, merchant, report):
        super().__init__(merchant=merchant, report=report)
        self.writer = OrderLineWriter(merchant=merchant, report=report)

    def start_file(self) -> None:
        self.writer.start_file()

    def process(self, chunk: pd.DataFrame) -> None:
        names = self.required_text(chunk, "Name", max_length=64)
        created_at = self.timestamp(chunk, "Created at", required=False)
        first_row = ~names.duplicated(keep="first") & ~names.isin(self.writer.seen_orders.keys())
        self.invalid(
            chunk,
            first_row & created_at.isna() & parse.is_blank(self.column(chunk, "Created at")),
            "Created at",
            "Created at is required on the first row of an order",
        )
        quantity = self.integer(chunk, "Lineitem quantity", required=True, minimum=1)
        price = self.number(chunk, "Lineitem price", required=True)
        discount = self.number(chunk, "Lineitem discount").fillna(0.0)
        item_names = self.optional_text(chunk, "Lineitem name", max_length=300)
        skus = self.optional_text(chunk, "Lineitem sku", max_length=64)
        skus = skus.mask(skus.eq(""), item_names.str.slice(0, 64))
        self.invalid(chunk, skus.eq(""), "Lineitem sku", "Lineitem sku or Lineitem name is required")
        if not self.writing:
            return

        order_fields = pd.DataFrame(
            {
                "placed_at": created_at,
                "email": self.optional_text(chunk, "Email", max_length=254).str.lower(),
                "status": self._status(chunk),
                "channel": self.optional_text(chunk, "Source", max_length=32),
                "country": self._country(chunk),
                "currency": self.optional_text(chunk, "Currency", max_length=3).str.upper(),
            }
        )
        # Continuation rows take their order's fields from its first row in this chunk.
        order_fields = order_fields.where(first_row).groupby(names, sort=False).transform("first")
        order_fields["email"] = order_fields["email"].fillna("")
        customers = order_fields["email"].str.slice(0, 64)
        customer_ids = self.writer.upsert_customers(
            pd.DataFrame(
                {
                    "external_id": customers,
                    "email": order_fields["email"],
                    "country": order_fields["country"].fillna(""),
                    "first_seen_at": order_fields["placed_at"],
                }
            )[first_row]
        )
        self.writer.upsert_products(
            pd.DataFrame({"sku": skus, "name": item_names, "price": price}).drop_duplicates(subset=["sku"])
        )
        lines = pd.DataFrame(
            {
                "order_external_id": names,
                "placed_at": order_fields["placed_at"],
                "order_kind": Order.Kind.SALE,
                "status": order_fields["status"].fillna(Order.Status.PLACED),
                "channel": order_fields["channel"].fillna(""),
                "country": order_fields["country"].fillna(""),
                "currency": order_fields["currency"].fillna(""),
                "customer_external_id": customers,
                "sku": skus,
                "line_kind": OrderLine.Kind.SALE,
                "quantity": quantity,
                "unit_price": price,
                "discount": discount,
            }
        )
        self.writer.write(lines, customer_ids)

    def _status(self, chunk: pd.DataFrame) -> pd.Series:
        financial = parse.text(self.column(chunk, "Financial Status")).str.lower()
        fulfillment = parse.text(self.column(chunk, "Fulfillment Status")).str.lower()
        cancelled = parse.text(self.column(chunk, "Cancelled at")).ne("")
        status = np.select(
            [
                cancelled,
                financial.isin({"refunded", "voided"}),
                fulfillment.eq("fulfilled"),
                financial.isin(PAID_STATUSES),
            ],
            [Order.Status.CANCELLED, Order.Status.REFUNDED, Order.Status.FULFILLED, Order.Status.PAID],
            default=Order.Status.PLACED,
        )
        return pd.Series(status, index=chunk.index, dtype=object)

    def _country(self, chunk: pd.DataFrame) -> pd.Series:
        billing = self.optional_text(chunk, "Billing Country", max_length=64)
        return billing.mask(billing.eq(""), self.optional_text(chunk, "Shipping Country", max_length=64))
