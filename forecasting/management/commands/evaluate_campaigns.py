"""python manage.py evaluate_campaigns --merchant SLUG [--campaign EXTERNAL_ID] [--kind plan|readout|auto]
[--data-cutoff YYYY-MM-DD] [--demo-seed N --demo-skus K --demo-days D]."""

from __future__ import annotations

import datetime as dt
import sys
import zoneinfo

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from customers.models import Campaign, OrderLine
from ecomforecast.demo.shop import generate_demo_shop
from ecomforecast.models import Merchant
from forecasting import campaign_services
from forecasting.campaign_io import CampaignEvaluationError
from forecasting.models import CampaignForecast

KINDS = ("plan", "readout", "auto")


class Command(BaseCommand):
    help = (
        "Evaluates the merchant's campaigns in this process and prints, per campaign, the lift with its interval, "
        "the ROI with its interval and P(ROI > 0), stock warnings (plans) or the measured effect (readouts). With "
        "--demo-seed (the demo shop's generator settings), each campaign's planted lift is checked against the "
        "interval and the coverage is printed at the end. --kind auto: a readout where the campaign and its post "
        "window have ended by the data cutoff, else a plan; a plan of a finished campaign is made from the data "
        "before its start."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--merchant", required=True, help="merchant slug")
        parser.add_argument("--campaign", help="one campaign's external id (default: every campaign)")
        parser.add_argument("--kind", choices=KINDS, default="auto")
        parser.add_argument("--data-cutoff", type=dt.date.fromisoformat, help="default: the last day with a sale")
        parser.add_argument("--demo-seed", type=int, help="the demo shop's seed: check the planted lifts")
        parser.add_argument("--demo-skus", type=int, default=120, help="the demo shop's SKUs (default %(default)s)")
        parser.add_argument("--demo-days", type=int, default=730, help="the demo shop's days (default %(default)s)")

    def handle(self, *args, merchant: str, campaign: str | None, kind: str, data_cutoff, **options) -> None:
        merchant_obj = Merchant.objects.filter(slug=merchant).first()
        if merchant_obj is None:
            raise CommandError(f"no merchant {merchant!r}")
        campaigns = Campaign.objects.filter(merchant=merchant_obj).order_by("starts_on", "pk")
        if campaign:
            campaigns = campaigns.filter(external_id=campaign)
            if not campaigns.exists():
                raise CommandError(f"merchant {merchant!r} has no campaign {campaign!r}")
        cutoff = data_cutoff or campaign_services.default_data_cutoff(merchant=merchant_obj)
        truths = self._planted_lifts(merchant_obj, options) if options["demo_seed"] is not None else {}

        covered: list[bool] = []
        for item in tqdm(list(campaigns), desc="campaigns", unit="campaign", file=sys.stderr):
            chosen = kind if kind != "auto" else self._auto_kind(item, cutoff)
            try:
                forecast = campaign_services.campaign_forecast_in_process(
                    merchant=merchant_obj, campaign=item, kind=chosen, data_cutoff=cutoff
                )
            except CampaignEvaluationError as exc:
                self.stdout.write(f"{item.external_id} {item.name}: skipped: {exc}")
                continue
            self.stdout.write(self._describe(item, forecast))
            if forecast.status == CampaignForecast.Status.SUCCEEDED and item.external_id in truths:
                inside = self._truth_line(forecast, truths[item.external_id], item)
                if inside is not None:
                    covered.append(inside)
        if truths:
            level = campaign_services.CampaignEvaluationConfig().level
            share = sum(covered) / len(covered) if covered else float("nan")
            self.stdout.write(
                f"planted lift inside the {level:.0%} interval: {sum(covered)} of {len(covered)} campaigns "
                f"({share:.0%}; target >= 80%)"
            )

    @staticmethod
    def _auto_kind(campaign: Campaign, cutoff: dt.date) -> str:
        post_end = campaign.ends_on + dt.timedelta(days=campaign_services.POST_DAYS)
        return CampaignForecast.Kind.READOUT if post_end <= cutoff else CampaignForecast.Kind.PLAN

    def _describe(self, campaign: Campaign, forecast: CampaignForecast) -> str:
        head = (
            f"{campaign.external_id} {campaign.name} ({campaign.starts_on}..{campaign.ends_on}, "
            f"{float(campaign.discount_pct):g}% off) {forecast.kind} at {forecast.data_cutoff}:"
        )
        if forecast.status != CampaignForecast.Status.SUCCEEDED:
            return f"{head} {forecast.status}: {forecast.error}"
        estimates = forecast.estimates
        label = "lift" if forecast.kind == CampaignForecast.Kind.PLAN else "effect"
        parts = [
            f"{label} {_percent(estimates.get('lift_pct'))}",
            f"{forecast.lift_units:+.0f} units" if forecast.lift_units is not None else "",
            f"P({label} > 0) {forecast.p_positive:.2f}" if forecast.p_positive is not None else "",
        ]
        roi = estimates.get("roi")
        if roi and roi.get("mean") is not None:
            parts.append(f"ROI {roi['mean']:+.2f} [{roi['lower']:+.2f}, {roi['upper']:+.2f}]")
        if forecast.p_roi_positive is not None:
            parts.append(f"P(ROI > 0) {forecast.p_roi_positive:.2f}")
        if forecast.kind == CampaignForecast.Kind.READOUT and forecast.predicted_roi is not None:
            parts.append(f"predicted ROI {forecast.predicted_roi:+.2f}")
        lines = [f"{head} " + ", ".join(part for part in parts if part)]
        if forecast.kind == CampaignForecast.Kind.PLAN:
            short = forecast.lines.filter(shortfall__gt=0).select_related("product").order_by("-shortfall")
            for line in short[:5]:
                lines.append(
                    f"  stock warning: {line.product.sku} short {line.shortfall:.0f} units of P90 demand "
                    f"{line.demand_to_end_p90:.0f} (on hand {line.on_hand:.0f}, on order {line.on_order:.0f}), "
                    f"needed by {line.needed_by}"
                )
            if forecast.stock_short_count > 5:
                lines.append(f"  ... {forecast.stock_short_count - 5} more products short of stock")
        return "\n".join(lines)

    def _truth_line(self, forecast: CampaignForecast, truth: float, campaign: Campaign) -> bool | None:
        lift = forecast.estimates.get("lift_pct") or {}
        if lift.get("lower") is None:
            return None
        inside = lift["lower"] <= truth <= lift["upper"]
        self.stdout.write(
            f"  planted lift {truth:+.0%}: {'inside' if inside else 'outside'} [{lift['lower']:+.0%}, "
            f"{lift['upper']:+.0%}]"
        )
        return inside

    def _planted_lifts(self, merchant: Merchant, options) -> dict[str, float]:
        """External id -> planted lift (multiplier - 1) of the demo shop generated with these settings; only the
        campaigns whose dates and discount match the merchant's (a shop made with other settings matches none)."""
        first = OrderLine.objects.filter(merchant=merchant).order_by("placed_at").values_list("placed_at", flat=True)
        first_sale = first.first()
        if first_sale is None:
            raise CommandError("the merchant has no sales: there is no demo shop to compare with")
        start = first_sale.astimezone(zoneinfo.ZoneInfo(merchant.timezone)).date()
        shop = generate_demo_shop(options["demo_seed"], options["demo_skus"], options["demo_days"], start=start)
        ours = {
            campaign.external_id: (campaign.starts_on, campaign.ends_on, float(campaign.discount_pct))
            for campaign in Campaign.objects.filter(merchant=merchant)
        }
        truths = {
            row.campaign_id: float(row.lift) - 1.0
            for row in shop.truth.campaigns.itertuples()
            if ours.get(row.campaign_id) == (row.starts_on, row.ends_on, float(row.discount_pct))
        }
        self.stdout.write(f"planted lifts known for {len(truths)} of {len(ours)} campaigns (demo shop from {start})")
        return truths


def _percent(estimate: dict | None) -> str:
    if not estimate or estimate.get("mean") is None:
        return "n/a"
    return f"{estimate['mean']:+.0%} [{estimate['lower']:+.0%}, {estimate['upper']:+.0%}]"
