"""The generic order-line layout (``orders-csv``); see the package docstring for its columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from customers.models import Order, OrderLine
from ecomforecast.importing.base import FormatImporter
from ecomforecast.importing.order_lines import OrderLineWriter

STATUSES = {choice.value for choice in Order.Status}


class OrdersCsvImporter(FormatImporter):
    kind = "orders"
    format = "orders-csv"
    required = ("order_id", "placed_at", "customer_id", "sku", "quantity", "unit_price")

    def __init__(self, *, merchant, report):
        super().__init__(merchant=merchant, report=report)
        self.writer = OrderLineWriter(merchant=merchant, report=report)

    def start_file(self) -> None:
        self.writer.start_file()

    def process(self, chunk: pd.DataFrame) -> None:
        order_ids = self.required_text(chunk, "order_id", max_length=64)
        placed_at = self.timestamp(chunk, "placed_at")
        customers = self.optional_text(chunk, "customer_id", max_length=64)
        skus = self.required_text(chunk, "sku", max_length=64)
        quantity = self.integer(chunk, "quantity", required=True, minimum=None)
        self.invalid(chunk, quantity.eq(0).fillna(False), "quantity", "quantity must not be 0")
        unit_price = self.number(chunk, "unit_price", required=True)
        discount = self.number(chunk, "discount").fillna(0.0)
        status = self.choice(chunk, "status", choices=STATUSES, default=Order.Status.PLACED)
        product_ids = self.writer.resolve_products(skus)
        self.known(chunk, skus, product_ids, "sku", "SKU")
        if not self.writing:
            return

        emails = self.optional_text(chunk, "customer_email", max_length=254)
        countries = self.optional_text(chunk, "country", max_length=64)
        customer_ids = self.writer.upsert_customers(
            pd.DataFrame({"external_id": customers, "email": emails, "country": countries, "first_seen_at": placed_at})
        )
        returned = (quantity < 0).to_numpy(bool)
        order_is_return = pd.Series(returned, index=chunk.index).groupby(order_ids, sort=False).transform("first")
        lines = pd.DataFrame(
            {
                "order_external_id": order_ids,
                "placed_at": placed_at,
                "order_kind": np.where(order_is_return, Order.Kind.RETURN, Order.Kind.SALE),
                "status": status,
                "channel": self.optional_text(chunk, "channel", max_length=32),
                "country": countries,
                "currency": self.optional_text(chunk, "currency", max_length=3).str.upper(),
                "customer_external_id": customers,
                "sku": skus,
                "line_kind": np.where(returned, OrderLine.Kind.RETURN, OrderLine.Kind.SALE),
                "quantity": quantity.abs(),
                "unit_price": unit_price,
                "discount": discount,
            }
        )
        self.writer.write(lines, customer_ids)
