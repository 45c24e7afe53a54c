"""Customer-engagement formats: activity-csv, campaigns-csv and campaign-recipients-csv (columns: package
docstring)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from customers.models import ActivityEvent, CampaignRecipient
from customers.recipient_services import campaign_recipient_check, campaign_recipient_write
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


RECIPIENT_GROUPS = {choice.value for choice in CampaignRecipient.Group}


class CampaignRecipientsImporter(FormatImporter):
    """A campaign's audience: who was sent it (treatment) and who was randomly held out (holdout). The checks are
    the bulk API's (customers.recipient_services), with the file's row numbers; a pair repeated anywhere in a
    file is an error on its later rows."""

    kind = "campaign-recipients"
    format = "campaign-recipients-csv"
    required = ("campaign_id", "customer_id", "group", "sent_on")

    def __init__(self, *, merchant, report):
        super().__init__(merchant=merchant, report=report)
        self.first_row_of: dict[tuple[str, str], int] = {}

    def start_file(self) -> None:
        self.first_row_of = {}

    def process(self, chunk: pd.DataFrame) -> None:
        campaigns = self.required_text(chunk, "campaign_id", max_length=64)
        customers = self.required_text(chunk, "customer_id", max_length=64)
        groups = self.choice(chunk, "group", choices=RECIPIENT_GROUPS, default=None)
        sent_on = self.date(chunk, "sent_on")
        numbers = chunk[parse.ROW_COLUMN].astype(int)
        valid = (
            campaigns.ne("")
            & campaigns.str.len().le(64)
            & customers.ne("")
            & customers.str.len().le(64)
            & groups.isin(RECIPIENT_GROUPS)
            & sent_on.notna()
        )
        rows, row_numbers = [], []
        for position in valid.to_numpy().nonzero()[0]:
            pair = (campaigns.iloc[position], customers.iloc[position])
            number = int(numbers.iloc[position])
            first = self.first_row_of.get(pair)
            if first is not None and first < int(numbers.iloc[0]):
                # listed in an earlier chunk of this file; repeats within the chunk are the check's
                self.report.add_error(
                    row=number,
                    column="customer_id",
                    message=f"This customer is already listed for this campaign in row {first}.",
                )
                continue
            self.first_row_of.setdefault(pair, number)
            rows.append(
                {
                    "campaign_id": pair[0],
                    "customer_id": pair[1],
                    "group": groups.iloc[position],
                    "sent_on": sent_on.iloc[position],
                }
            )
            row_numbers.append(number)
        if not rows:
            return
        check = campaign_recipient_check(merchant=self.merchant, rows=rows, numbers=row_numbers)
        for error in check.errors:
            self.report.add_error(row=error["row"], column=error["column"], message=error["message"])
        if not self.writing:
            return
        result = campaign_recipient_write(merchant=self.merchant, resolved=check.resolved)
        self.report.rows_created += result.rows_created
        self.report.rows_updated += result.rows_updated
        self.report.rows_unchanged += result.rows_unchanged
