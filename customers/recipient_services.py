"""Bulk upsert of campaign recipients: references by the merchant's campaign and customer external ids.

All or nothing: every row is checked first and any error rejects the whole body with a row-numbered list; a row
naming another merchant's campaign or customer fails exactly like one naming an id that does not exist.
Re-sending the same rows changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction

from customers.models import Campaign, CampaignRecipient, Customer
from ecomforecast.models import Merchant

MAX_LISTED_ERRORS = 1000


@dataclass
class RecipientUpsertReport:
    rows_read: int = 0
    rows_created: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "rows_read": self.rows_read,
            "rows_created": self.rows_created,
            "rows_updated": self.rows_updated,
            "rows_unchanged": self.rows_unchanged,
        }


class RecipientUpsertFailed(Exception):
    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} rows rejected")
        self.errors = errors


def _error(row: int, column: str, message: str) -> dict:
    return {"row": row, "column": column, "message": message}


@dataclass
class RecipientCheck:
    """Rows resolved to (campaign id, customer id) -> (group, sent_on), and every error (row numbers as given)."""

    resolved: dict[tuple[int, int], tuple[str, dt.date]]
    errors: list[dict]


def campaign_recipient_check(
    *, merchant: Merchant, rows: Sequence[Mapping], numbers: Sequence[int] | None = None
) -> RecipientCheck:
    """Rows: campaign_id, customer_id (external ids), group, sent_on (date), numbered ``numbers`` (default 1, 2...):
    resolved against the merchant's campaigns and customers, with an error per unknown id, repeated pair or
    sent_on after the campaign's end. Writes nothing."""
    numbers = range(1, len(rows) + 1) if numbers is None else numbers
    campaigns = {
        campaign.external_id: campaign
        for campaign in Campaign.objects.filter(
            merchant=merchant, external_id__in={row["campaign_id"] for row in rows}
        ).only("id", "external_id", "ends_on")
    }
    customers = dict(
        Customer.objects.filter(merchant=merchant, external_id__in={row["customer_id"] for row in rows}).values_list(
            "external_id", "id"
        )
    )
    errors: list[dict] = []
    first_row_of: dict[tuple[str, str], int] = {}
    resolved: dict[tuple[int, int], tuple[str, dt.date]] = {}
    for number, row in zip(numbers, rows, strict=True):
        campaign = campaigns.get(row["campaign_id"])
        customer_id = customers.get(row["customer_id"])
        if campaign is None:
            errors.append(_error(number, "campaign_id", f"No campaign with id {row['campaign_id']!r}."))
        if customer_id is None:
            errors.append(_error(number, "customer_id", f"No customer with id {row['customer_id']!r}."))
        pair = (row["campaign_id"], row["customer_id"])
        if pair in first_row_of:
            errors.append(
                _error(
                    number,
                    "customer_id",
                    f"This customer is already listed for this campaign in row {first_row_of[pair]}.",
                )
            )
            continue
        first_row_of[pair] = number
        if campaign is not None and row["sent_on"] > campaign.ends_on:
            errors.append(
                _error(
                    number, "sent_on", f"The campaign ended on {campaign.ends_on.isoformat()}; sent_on cannot be later."
                )
            )
        if campaign is not None and customer_id is not None:
            resolved[(campaign.pk, customer_id)] = (row["group"], row["sent_on"])
    return RecipientCheck(resolved, errors)


@transaction.atomic
def campaign_recipient_upsert(*, merchant: Merchant, rows: Sequence[Mapping]) -> RecipientUpsertReport:
    """Rows: campaign_id, customer_id (external ids), group, sent_on (date); row numbers start at 1.

    Raises RecipientUpsertFailed with every error when any row is invalid; nothing is written then.
    """
    check = campaign_recipient_check(merchant=merchant, rows=rows)
    if check.errors:
        raise RecipientUpsertFailed(check.errors)
    report = campaign_recipient_write(merchant=merchant, resolved=check.resolved)
    report.rows_read = len(rows)
    return report


def campaign_recipient_write(
    *, merchant: Merchant, resolved: Mapping[tuple[int, int], tuple[str, dt.date]]
) -> RecipientUpsertReport:
    """Writes checked rows (campaign_recipient_check): new ones created, changed ones updated, the rest counted."""
    existing = {
        (campaign_id, customer_id): (group, sent_on)
        for campaign_id, customer_id, group, sent_on in CampaignRecipient.objects.filter(
            merchant=merchant,
            campaign_id__in={pair[0] for pair in resolved},
            customer_id__in={pair[1] for pair in resolved},
        ).values_list("campaign_id", "customer_id", "group", "sent_on")
    }
    changed = [
        CampaignRecipient(
            merchant=merchant, campaign_id=campaign_id, customer_id=customer_id, group=group, sent_on=sent_on
        )
        for (campaign_id, customer_id), (group, sent_on) in resolved.items()
        if existing.get((campaign_id, customer_id)) != (group, sent_on)
    ]
    CampaignRecipient.objects.bulk_create(
        changed,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["campaign", "customer"],
        update_fields=["group", "sent_on"],
    )
    updated = sum(1 for recipient in changed if (recipient.campaign_id, recipient.customer_id) in existing)
    return RecipientUpsertReport(
        rows_read=len(resolved),
        rows_created=len(changed) - updated,
        rows_updated=updated,
        rows_unchanged=len(resolved) - len(changed),
    )
