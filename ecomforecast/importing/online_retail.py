"""The UCI Online Retail / Online Retail II invoice-line layout (``online-retail``).

Columns, either spelling: InvoiceNo/Invoice, StockCode, Description, Quantity, InvoiceDate, UnitPrice/Price,
CustomerID/"Customer ID", Country. One row is one invoice line; InvoiceDate is merchant-local time.

How each line is treated (the code lists live in :mod:`ecomforecast.importing.retail_codes`):

- an ordinary invoice line of a product: a sale line of Order(kind=sale, status=fulfilled);
- a line of a cancellation invoice (``C…``): a return line (absolute quantity) of Order(kind=return,
  status=refunded), never a negative sale;
- skipped and counted by reason (they are not demand for goods):
  a bad-debt invoice (``A…``) -> "bad debt adjustment"; a non-product code (postage, manual adjustment, bank
  charges, marketplace fee, commission, discount, gift voucher, test, sample, pricing placeholder) -> that
  reason; a zero or negative quantity on a sales invoice (the files' stock write-offs: "damaged", "lost",
  all at price 0) -> "stock adjustment"; a positive quantity on a cancellation invoice -> "positive quantity
  on a cancellation"; a zero unit price -> "zero price" (samples and corrections, not sales);
- a line without CustomerID is still demand: its order has no customer.

Line numbers: the yearly extracts list some invoices' lines in different orders, so an invoice's lines are
numbered in a canonical order (StockCode, quantity, price, then position in the file) rather than by file
position; the same invoice then has the same lines in any extract, and importing both overlapping files
(in either order, together or apart) neither duplicates nor rewrites the shared invoices.

Products are created from the file for every product code, skipped lines included (SKU = StockCode; name =
the first non-blank Description of an imported line, as skipped lines carry notes such as "damaged"; price =
the first unit price of an imported sale line); a product the merchant already has keeps its details, only
its blanks are filled. Customers are created for every CustomerID in the file (first_seen_at = first invoice,
country = the first Country), so the customer count matches the file's. Row errors: blank invoice or stock
code, a quantity that is not a whole number, an invoice date that is not a date, a unit price that is not a
number or is negative (outside bad-debt invoices).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from customers.models import Order, OrderLine
from ecomforecast.importing import parsing as parse
from ecomforecast.importing.base import FormatImporter
from ecomforecast.importing.order_lines import OrderLineWriter
from ecomforecast.importing.retail_codes import is_bad_debt_adjustment, is_cancellation, non_product_reason

BLANK_DESCRIPTIONS = {"", "nan", "NaN", "None"}


class OnlineRetailImporter(FormatImporter):
    kind = "orders"
    format = "online-retail"
    latin1_fallback = True
    required = (
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    )
    aliases = {
        "InvoiceNo": ("InvoiceNo", "Invoice"),
        "UnitPrice": ("UnitPrice", "Price"),
        "CustomerID": ("CustomerID", "Customer ID"),
    }

    def __init__(self, *, merchant, report):
        super().__init__(merchant=merchant, report=report)
        self.writer = OrderLineWriter(merchant=merchant, report=report)

    def start_file(self) -> None:
        self.writer.start_file()
        self.held_back: pd.DataFrame | None = None

    def process(self, chunk: pd.DataFrame) -> None:
        # An invoice's lines are contiguous in these files: the last invoice of a chunk may continue in the next
        # one, so it waits for it and every invoice is numbered whole.
        if self.held_back is not None:
            chunk = pd.concat([self.held_back, chunk], ignore_index=True)
        invoices = parse.text(self.column(chunk, "InvoiceNo"))
        last_invoice = invoices.eq(invoices.iloc[-1])
        if last_invoice.all():
            self.held_back = chunk
            return
        self.held_back = chunk[last_invoice].reset_index(drop=True)
        self._process(chunk[~last_invoice].reset_index(drop=True))

    def end_file(self) -> None:
        if self.held_back is not None:
            self._process(self.held_back)
            self.held_back = None

    def _process(self, chunk: pd.DataFrame) -> None:
        errors_before = self.report.error_count
        invoices = self.required_text(chunk, "InvoiceNo", max_length=64)
        codes = self.required_text(chunk, "StockCode", max_length=64)
        quantity = self.integer(chunk, "Quantity", required=True, minimum=None)
        placed_at = self.timestamp(chunk, "InvoiceDate")
        price, price_invalid = parse.number(self.column(chunk, "UnitPrice"))
        self.invalid(chunk, price_invalid, "UnitPrice", "UnitPrice is not a number: {value!r}")
        self.invalid(chunk, price.isna() & ~price_invalid, "UnitPrice", "UnitPrice is required")
        bad_debt = is_bad_debt_adjustment(invoices)
        self.invalid(chunk, (price < 0) & ~bad_debt, "UnitPrice", "UnitPrice must not be negative: {value}")
        if self.report.error_count > errors_before or not self.writing:
            return

        customers = parse.text(self.column(chunk, "CustomerID"), max_length=64)
        countries = parse.text(self.column(chunk, "Country"), max_length=64)
        descriptions = parse.text(self.column(chunk, "Description"), max_length=300)
        descriptions = descriptions.mask(descriptions.isin(BLANK_DESCRIPTIONS), "")
        cancellation = is_cancellation(invoices)
        reason = non_product_reason(codes)
        reason = reason.mask(bad_debt, "bad debt adjustment")
        is_product = reason.eq("")
        reason = reason.mask(is_product & ~cancellation & (quantity <= 0).fillna(False), "stock adjustment")
        reason = reason.mask(
            reason.eq("") & cancellation & (quantity > 0).fillna(False), "positive quantity on a cancellation"
        )
        reason = reason.mask(reason.eq("") & price.eq(0), "zero price")
        for skip_reason, count in reason[reason.ne("")].value_counts().items():
            self.report.skip(str(skip_reason), int(count))

        kept = reason.eq("")
        # Skipped lines name products too, but their descriptions are notes ("damaged", "check"), not names.
        products = pd.DataFrame(
            {
                "sku": codes,
                "name": descriptions.where(kept, ""),
                "price": price.where(kept & ~cancellation),
            }
        )[is_product]
        products = products.sort_values("name", key=lambda names: names.eq(""), kind="stable")
        self.writer.upsert_products(products.drop_duplicates(subset=["sku"], keep="first"))
        customer_ids = self.writer.upsert_customers(
            pd.DataFrame({"external_id": customers, "country": countries, "first_seen_at": placed_at})[~bad_debt]
        )

        returned = cancellation[kept]
        lines = pd.DataFrame(
            {
                "order_external_id": invoices[kept],
                "placed_at": placed_at[kept],
                "order_kind": np.where(returned, Order.Kind.RETURN, Order.Kind.SALE),
                "status": np.where(returned, Order.Status.REFUNDED, Order.Status.FULFILLED),
                "channel": "",
                "country": countries[kept],
                "currency": self.merchant.currency,
                "customer_external_id": customers[kept],
                "sku": codes[kept],
                "line_kind": np.where(returned, OrderLine.Kind.RETURN, OrderLine.Kind.SALE),
                "quantity": quantity[kept].abs(),
                "unit_price": price[kept],
                "discount": 0.0,
            }
        )
        self.writer.write(lines, customer_ids, canonical_line_order=True)
