"""Customer-engagement formats: activity-csv and campaigns-csv (columns: package docstring)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from customers.models import ActivityEvent
from customers.services import activity_events_upsert, campaigns_upsert, customers_upsert
from ecomforecast.importing import parsing as parse
from ecomforecast.importing.base import FormatImporter
from ecomforecast.importing.lookups import ids_by
from inventory.models import Category
from inventory.services import product_ids

EVENT_KINDS = {choice.value for choice in ActivityEvent.Kind}
LIST_SEPARATOR = ";"


class ActivityImporter(FormatImporter):
    kind = "activity"
    format = "activity-csv"
    required = ("customer_id", "kind", "occurred_at", "session_id", "query")
    hashed_columns = ("customer_id", "sku", "kind", "occurred_at", "session_id", "query")

    def __init__(self, *, merchant, report):
        super().__init__(merchant=merchant, report=report)
        self.product_ids: dict[str, int] = {}

    def process(self, chunk: pd.DataFrame) -> None:
        customers = self.optional_text(chunk, "customer_id", max_length=64)
        skus = self.optional_text(chunk, "sku", max_length=64)
        unknown = set(skus.unique()) - self.product_ids.keys()
        if unknown:
            self.product_ids.update(product_ids(merchant=self.merchant, skus=unknown))
        product = self.known(chunk, skus, self.product_ids, "sku", "SKU")
        kinds = self.choice(chunk, "kind", choices=EVENT_KINDS, default=None)
        occurred_at = self.timestamp(chunk, "occurred_at")
        event_ids = self.optional_text(chunk, "event_id", max_length=64)
        if not self.writing:
            return
        hashed = parse.stable_key(
            pd.DataFrame({name: parse.text(self.column(chunk, name)) for name in self.hashed_columns}),
            list(self.hashed_columns),
        )
        customer_ids: dict[str, int] = {}
        with_customer = customers.ne("")
        if with_customer.any():
            first_seen = occurred_at[with_customer].groupby(customers[with_customer]).min()
            result = customers_upsert(
                merchant=self.merchant,
                rows=pd.DataFrame({"external_id": first_seen.index, "first_seen_at": first_seen.to_numpy()}),
            )
            self.report.count("customers_created", result.created)
            assert result.ids is not None
            customer_ids = dict(zip(result.ids["external_id"], result.ids["id"], strict=True))
        events = pd.DataFrame(
            {
                "event_key": event_ids.mask(event_ids.eq(""), hashed),
                "customer_id": customers.map(customer_ids).astype("Int64"),
                "product_id": product,
                "kind": kinds,
                "occurred_at": occurred_at,
                "session_id": self.optional_text(chunk, "session_id", max_length=64),
                "query": self.optional_text(chunk, "query", max_length=200),
            }
        )
        result = activity_events_upsert(merchant=self.merchant, rows=events)
        self.report.rows_created += result.created
        self.report.rows_updated += result.updated
        self.report.rows_unchanged += result.unchanged


class CampaignsImporter(FormatImporter):
    kind = "campaigns"
    format = "campaigns-csv"
    required = ("campaign_id", "name", "starts_on", "ends_on", "discount_pct")

    def process(self, chunk: pd.DataFrame) -> None:
        external_ids = self.required_text(chunk, "campaign_id", max_length=64)
        self.invalid(
            chunk,
            external_ids.duplicated(keep=False) & external_ids.ne(""),
            "campaign_id",
            "campaign_id {value!r} appears more than once",
        )
        names = self.required_text(chunk, "name", max_length=200)
        starts_on = self.date(chunk, "starts_on")
        ends_on = self.date(chunk, "ends_on")
        both = starts_on.notna() & ends_on.notna()
        ends_first = pd.Series(False, index=chunk.index)
        ends_first[both] = [end < start for start, end in zip(starts_on[both], ends_on[both], strict=True)]
        self.invalid(chunk, ends_first, "ends_on", "ends_on is before starts_on: {value}")
        discount = self.number(chunk, "discount_pct", required=True, maximum=100)
        cost = self.number(chunk, "cost").fillna(0.0)
        product_lists = self._lists(chunk, "skus")
        category_lists = self._lists(chunk, "categories")
        known_products = product_ids(merchant=self.merchant, skus={sku for skus in product_lists for sku in skus})
        known_categories = ids_by(
            model=Category,
            merchant=self.merchant,
            column="name",
            values={name for names in category_lists for name in names},
        )
        self._unknown(chunk, product_lists, known_products, "skus", "SKU")
        self._unknown(chunk, category_lists, known_categories, "categories", "category")
        if not self.writing:
            return
        rows = pd.DataFrame(
            {
                "external_id": external_ids,
                "name": names,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "discount_pct": [Decimal(str(round(value, 2))) for value in discount],
                "channel": self.optional_text(chunk, "channel", max_length=32),
                "target_segment": self.optional_text(chunk, "target_segment", max_length=64),
                "cost": [Decimal(str(round(value, 4))) for value in cost],
            }
        )
        result = campaigns_upsert(
            merchant=self.merchant,
            rows=rows,
            product_ids={
                key: {known_products[sku] for sku in skus}
                for key, skus in zip(external_ids, product_lists, strict=True)
            },
            category_ids={
                key: {known_categories[name] for name in names}
                for key, names in zip(external_ids, category_lists, strict=True)
            },
        )
        self.report.rows_created += result.created
        self.report.rows_updated += result.updated
        self.report.rows_unchanged += result.unchanged

    def _lists(self, chunk: pd.DataFrame, name: str) -> list[list[str]]:
        values = parse.text(self.column(chunk, name))
        return [[item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()] for value in values]

    def _unknown(
        self, chunk: pd.DataFrame, lists: list[list[str]], known: dict[str, int], name: str, what: str
    ) -> None:
        missing = [[item for item in items if item not in known] for items in lists]
        for position, items in enumerate(missing):
            if items:
                row = int(chunk[parse.ROW_COLUMN].iloc[position])
                self.report.add_error(row=row, column=name, message=f"unknown {what}: {', '.join(items)}")
