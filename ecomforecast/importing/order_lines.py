"""Writing normalised order lines: customers, products, orders and lines, upserted chunk by chunk.

Every order format turns its rows into the same frame of lines (one row per line, order fields repeated):

order_external_id, placed_at (UTC), order_kind, status, channel, country, currency, customer_external_id
("" = none), sku, line_kind, quantity (> 0), unit_price, discount

Order fields come from the order's first line in the file: an order first met in an earlier chunk is not
upserted again. ``line_number`` is the position of the line within its order in the file, so the same file
always produces the same (order, line_number) keys and re-importing it is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from customers.models import Order, OrderLine
from customers.services import customers_upsert, order_lines_insert, order_lines_upsert, orders_upsert
from ecomforecast.importing import ImportReport
from ecomforecast.importing.lookups import ids_by
from inventory.services import product_ids, products_upsert

ORDER_FIELDS = ("placed_at", "order_kind", "status", "channel", "country", "currency")


@dataclass
class _SeenOrder:
    order_id: int
    placed_at: pd.Timestamp
    # Created by this file: its lines cannot exist yet, so they are inserted without a conflict check.
    created: bool
    lines: int = 0


class OrderLineWriter:
    def __init__(self, *, merchant, report: ImportReport):
        self.merchant = merchant
        self.report = report
        self.product_ids: dict[str, int] = {}
        self.seen_orders: dict[str, _SeenOrder] = {}

    def start_file(self) -> None:
        self.seen_orders = {}

    def resolve_products(self, skus: pd.Series) -> dict[str, int]:
        """{sku: id} for the skus that exist, from a cache filled as the import goes."""
        unknown = set(skus.unique()) - self.product_ids.keys()
        if unknown:
            self.product_ids.update(product_ids(merchant=self.merchant, skus=unknown))
        return self.product_ids

    def upsert_products(self, products: pd.DataFrame) -> None:
        """Creates the products an order file names (sku, name, price), filling blanks on existing ones."""
        new = products[~products["sku"].isin(self.product_ids.keys())]
        if new.empty:
            return
        result = products_upsert(merchant=self.merchant, rows=new, keep_existing=True)
        assert result.ids is not None
        self.product_ids.update(zip(result.ids["sku"], result.ids["id"], strict=True))
        self.report.count("products_created", result.created)
        self.report.count("products_updated", result.updated)

    def upsert_customers(self, customers: pd.DataFrame) -> dict[str, int]:
        """customers: external_id, first_seen_at and optionally email, country (one row per line is fine)."""
        customers = customers[customers["external_id"].ne("")]
        if customers.empty:
            return {}
        first_seen = customers.groupby("external_id", sort=False)["first_seen_at"].min()
        details = customers.drop(columns=["first_seen_at"]).drop_duplicates(subset=["external_id"], keep="first")
        details = details.set_index("external_id").assign(first_seen_at=first_seen).reset_index()
        result = customers_upsert(merchant=self.merchant, rows=details)
        self.report.count("customers_created", result.created)
        self.report.count("customers_updated", result.updated)
        assert result.ids is not None
        return dict(zip(result.ids["external_id"], result.ids["id"], strict=True))

    def write(self, lines: pd.DataFrame, customer_ids: dict[str, int], *, canonical_line_order: bool = False) -> None:
        """With ``canonical_line_order`` lines are numbered within their order by (sku, quantity, unit price, file
        position) instead of file position alone: the caller passes whole orders."""
        if lines.empty:
            return
        if canonical_line_order:
            lines = lines.sort_values(["sku", "quantity", "unit_price"], kind="stable")
        orders = self._upsert_orders(lines, customer_ids)
        order_external_ids = lines["order_external_id"]
        line_numbers = self._line_numbers(lines["order_external_id"])
        frame = pd.DataFrame(
            {
                "order_id": order_external_ids.map({key: seen.order_id for key, seen in orders.items()}),
                "line_number": line_numbers,
                "product_id": lines["sku"].map(self.product_ids).astype("int64"),
                "kind": lines["line_kind"],
                "quantity": lines["quantity"].astype("int64"),
                "unit_price": lines["unit_price"],
                "discount": lines["discount"],
                "placed_at": order_external_ids.map({key: seen.placed_at for key, seen in orders.items()}),
            }
        )
        fresh = order_external_ids.map({key: seen.created for key, seen in orders.items()}).astype(bool)
        self.report.rows_created += order_lines_insert(merchant=self.merchant, rows=frame[fresh])
        result = order_lines_upsert(merchant=self.merchant, rows=frame[~fresh])
        self.report.rows_created += result.created
        self.report.rows_updated += result.updated
        self.report.rows_unchanged += result.unchanged
        self.report.count("return_lines", int(lines["line_kind"].eq(OrderLine.Kind.RETURN).sum()))

    def _upsert_orders(self, lines: pd.DataFrame, customer_ids: dict[str, int]) -> dict[str, _SeenOrder]:
        first_lines = lines.drop_duplicates(subset=["order_external_id"], keep="first")
        new = first_lines[~first_lines["order_external_id"].isin(self.seen_orders.keys())]
        if not new.empty:
            orders = pd.DataFrame(
                {
                    "external_id": new["order_external_id"],
                    "customer_id": new["customer_external_id"].map(customer_ids).astype("Int64"),
                    "placed_at": new["placed_at"],
                    "kind": new["order_kind"],
                    "status": new["status"],
                    "channel": new["channel"],
                    "country": new["country"],
                    "currency": new["currency"],
                }
            )
            existing = ids_by(model=Order, merchant=self.merchant, column="external_id", values=orders["external_id"])
            result = orders_upsert(merchant=self.merchant, rows=orders)
            self.report.count("orders_created", result.created)
            self.report.count("orders_updated", result.updated)
            self.report.count("return_orders", int(new["order_kind"].eq(Order.Kind.RETURN).sum()))
            assert result.ids is not None
            placed = dict(zip(new["order_external_id"], new["placed_at"], strict=True))
            for external_id, order_id in zip(result.ids["external_id"], result.ids["id"], strict=True):
                self.seen_orders[external_id] = _SeenOrder(
                    order_id=order_id, placed_at=placed[external_id], created=external_id not in existing
                )
        return {external_id: self.seen_orders[external_id] for external_id in first_lines["order_external_id"]}

    def _line_numbers(self, order_external_ids: pd.Series) -> pd.Series:
        already = order_external_ids.map({key: self.seen_orders[key].lines for key in order_external_ids.unique()})
        numbers = already + order_external_ids.groupby(order_external_ids, sort=False).cumcount() + 1
        for external_id, count in order_external_ids.value_counts().items():
            self.seen_orders[external_id].lines += int(count)
        return numbers.astype("int64")
