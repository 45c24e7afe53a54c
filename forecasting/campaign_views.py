"""Merchant UI for campaigns: the list with each campaign's latest plan and readout, the planner form, and the
campaign page (fan chart of baseline vs with-campaign demand, lift, money, stock warnings, readout, re-run)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View
from django.views.generic import TemplateView

from customers.models import Campaign
from customers.selectors import campaign_list
from customers.services import campaign_save
from ecomforecast.pipeline import campaign_plan_after_save
from ecomforecast.views import MerchantPageMixin
from forecasting import campaign_charts, campaign_selectors
from forecasting.campaign_forms import CampaignForm
from forecasting.campaign_io import CampaignEvaluationError
from forecasting.campaign_services import POST_DAYS, campaign_forecast_request, default_data_cutoff
from forecasting.models import CampaignForecast

PLAN, READOUT = CampaignForecast.Kind.PLAN, CampaignForecast.Kind.READOUT
ACTIVE = (CampaignForecast.Status.PENDING, CampaignForecast.Status.RUNNING)
PRODUCT_LINES_SHOWN = 100
NO_EVIDENCE = "No past campaign to learn the lift from: the forecast shows the baseline only."
# what an effect the history never showed stands for (forecasting.io.CAMPAIGN_COVARIATE_NAMES and their ":after")
FEATURE_WORDS = {"campaign": "a campaign", "discount": "a discount", "campaign:after": "a day right after a campaign"}


@dataclass(frozen=True)
class Reading:
    """One number of an evaluation as the page shows it: the value and its interval, already formatted."""

    label: str
    value: str
    note: str = ""


def _signed_percent(fraction: float | None) -> str:
    if fraction is None:
        return "—"
    return f"{fraction * 100:+.0f}%"


def _signed_units(units: float | None) -> str:
    if units is None:
        return "—"
    return f"{units:+,.0f}"


def _money(amount: float | None) -> str:
    if amount is None:
        return "—"
    return f"{amount:,.2f}"


def _signed_money(amount: float | None) -> str:
    if amount is None:
        return "—"
    return f"{amount:+,.2f}"


def _percent(fraction: float | None) -> str:
    if fraction is None:
        return "—"
    return f"{fraction * 100:.0f}%"


def chance_in_words(probability: float | None, outcome: str) -> str:
    """'7 in 10 chance <outcome>': the probability a merchant reads, rounded to tenths and never to certainty."""
    if probability is None:
        return ""
    tenths = round(probability * 10)
    if tenths >= 10:
        return f"More than 9 in 10 chance {outcome}"
    if tenths <= 0:
        return f"Less than 1 in 10 chance {outcome}"
    return f"{tenths} in 10 chance {outcome}"


def level_text(forecast: CampaignForecast) -> str:
    return f"{forecast.level * 100:.0f}% interval"


def estimate(forecast: CampaignForecast, name: str) -> dict | None:
    """The {mean, lower, upper} of one quantity, or None when the evaluation did not estimate it."""
    found = (forecast.estimates or {}).get(name)
    if not isinstance(found, dict) or found.get("mean") is None:
        return None
    return found


def interval(forecast: CampaignForecast, name: str, fmt) -> str:
    """'<lower> to <upper>' of one quantity, formatted like its value; empty when there is none."""
    found = estimate(forecast, name)
    if found is None or found.get("lower") is None or found.get("upper") is None:
        return ""
    return f"{fmt(found['lower'])} to {fmt(found['upper'])}"


def _with_interval(forecast: CampaignForecast, name: str, fmt) -> str:
    span = interval(forecast, name, fmt)
    return f"{level_text(forecast)} {span}" if span else ""


def _value(forecast: CampaignForecast, name: str, fallback: float | None = None) -> float | None:
    found = estimate(forecast, name)
    return found["mean"] if found is not None else fallback


def no_evidence(forecast: CampaignForecast) -> list[str]:
    """The features the plan's lift has no evidence for (empty when it has some), from the list's annotation or the
    stored effects."""
    found = forecast.no_evidence if hasattr(forecast, "no_evidence") else (forecast.effects or {}).get("no_evidence")
    return list(found or [])


def checked_in_words(forecast: CampaignForecast) -> str:
    """How the merchant's past campaigns, each held out and forecast as if it were new, judged the plan's interval
    (engine campaigns.calibration_summary); empty for a plan without that check."""
    found = (forecast.effects or {}).get("calibration")
    if not found or not found.get("campaigns"):
        return ""
    count = int(found["campaigns"])
    return (
        f"Checked on {count} past promotion{'s' if count != 1 else ''}, each forecast as if it were new: "
        f"{found['with_spread_coverage']:.0%} of their measured lifts fall inside the {found['level']:.0%} interval. "
        f"The interval allows for promotions differing by about ±{found['spread']:.0%} beyond what the model explains."
    )


def partial_evidence(forecast: CampaignForecast) -> str:
    """What the plan's lift leaves out because no past campaign showed it (empty when nothing, or when it has no
    evidence at all: NO_EVIDENCE says that)."""
    effects = forecast.effects or {}
    missing = [name for name in effects.get("unidentified") or [] if not name.endswith(":after")]
    if not missing or no_evidence(forecast):
        return ""
    words = " or ".join(FEATURE_WORDS.get(name, name) for name in missing)
    return (
        f"No past campaign had {words}: the lift leaves that effect out, so it may be understated "
        "(the rest is learnt from your past campaigns)."
    )


def siblings_in_words(forecast: CampaignForecast) -> str:
    """What a readout measured on the untouched products of the promoted categories (effects["siblings"]); empty for
    a readout without siblings or made before they were measured."""
    found = (forecast.effects or {}).get("siblings")
    if not found or found.get("percent") is None:
        return ""
    count, percent = int(found["products"]), found["percent"]
    measured = (
        f"The other {count} product{'s' if count != 1 else ''} of the promoted categories sold "
        f"{_signed_percent(percent['mean'])} against their own forecast ({found['level']:.0%} interval "
        f"{_signed_percent(percent['lower'])} to {_signed_percent(percent['upper'])})"
    )
    if found["detected"]:
        return f"{measured}: the campaign took sales from them, so they were left out of the controls."
    return f"{measured}: no loss to the campaign detected."


def plan_readings(forecast: CampaignForecast, *, currency: str) -> list[Reading]:
    """The plan's tiles: lift in units and percent, incremental revenue and margin, cost, profit and ROI."""
    cost = float(forecast.cost)
    return [
        Reading(
            "Extra units",
            _signed_units(_value(forecast, "lift_units", forecast.lift_units)),
            _with_interval(forecast, "lift_units", _signed_units),
        ),
        Reading(
            "Lift",
            _signed_percent(_value(forecast, "lift_pct", forecast.lift_pct)),
            _with_interval(forecast, "lift_pct", _signed_percent),
        ),
        Reading(
            "Incremental revenue",
            _signed_money(_value(forecast, "revenue")),
            _with_interval(forecast, "revenue", _signed_money) or currency,
        ),
        Reading(
            "Incremental margin",
            _signed_money(_value(forecast, "margin")),
            _with_interval(forecast, "margin", _signed_money) or f"{currency}, net of the discount",
        ),
        Reading("Cost", _money(cost), currency),
        Reading(
            "Profit",
            _signed_money(_value(forecast, "profit", forecast.profit)),
            _with_interval(forecast, "profit", _signed_money) or currency,
        ),
        Reading(
            "ROI",
            _signed_percent(_value(forecast, "roi", forecast.roi)),
            _with_interval(forecast, "roi", _signed_percent) or ("" if cost else "no campaign cost entered"),
        ),
    ]


def _effect_percent(log_effect: float | None) -> str:
    return "—" if log_effect is None else _signed_percent(math.expm1(log_effect))


def cannibalisation_summary(forecast: CampaignForecast, *, currency: str) -> dict | None:
    """The plan's cannibalisation block: a verdict in words and, when detected, the products that lose the most;
    None for a plan made before cannibalisation was estimated."""
    found = (forecast.effects or {}).get("cannibalisation")
    if not isinstance(found, dict):
        return None
    status = found.get("status")
    if status == "no_siblings":
        return {"detected": False, "verdict": "Nothing to report: no unpromoted product shares a category with them."}
    if found.get("effect") is None:
        return {
            "detected": False,
            "verdict": "Not detected: no product of these categories was promoted without the others in the history, "
            "so the data cannot show it.",
        }
    level = f"{(found.get('detection_level') or 0.9) * 100:.0f}% interval"
    effect = (
        f"{_effect_percent(found.get('effect'))} ({level} "
        f"{_effect_percent(found.get('lower'))} to {_effect_percent(found.get('upper'))})"
    )
    if not found.get("detected"):
        return {
            "detected": False,
            "verdict": f"Not detected: in the history, products sold {effect} while others of their category were "
            "promoted, which does not show a loss. Profit and ROI leave it out.",
        }
    units, revenue = found.get("units_lost") or {}, found.get("revenue_lost") or {}
    plan_level = level_text(forecast)

    def span(values: dict, fmt) -> str:
        if values.get("lower") is None or values.get("upper") is None:
            return ""
        return f"{fmt(values['lower'])} to {fmt(values['upper'])}"

    return {
        "detected": True,
        "verdict": f"Detected: in the history, products sold {effect} while others of their category were promoted.",
        "readings": [
            Reading("Units lost", f"{units.get('mean') or 0:,.0f}", f"{plan_level} {span(units, '{:,.0f}'.format)}"),
            Reading(
                f"Revenue lost ({currency})",
                _money(revenue.get("mean")),
                f"{plan_level} {span(revenue, _money)}",
            ),
            Reading(f"Margin lost ({currency})", _money((found.get("margin_lost") or {}).get("mean")), ""),
            Reading(f"Profit before it ({currency})", _signed_money((found.get("gross_profit") or {}).get("mean")), ""),
        ],
        "siblings": found.get("siblings", 0),
        "products": [
            {
                "product_id": item["product_id"],
                "sku": item.get("sku", ""),
                "units_lost": (item.get("units_lost") or {}).get("mean"),
                "units_span": span(item.get("units_lost") or {}, "{:,.1f}".format),
                "revenue_lost": (item.get("revenue_lost") or {}).get("mean"),
            }
            for item in found.get("products", [])
        ],
    }


def readout_readings(forecast: CampaignForecast, *, currency: str) -> list[Reading]:
    """The readout's tiles: measured effect in units and percent, profit, realised vs predicted ROI."""
    return [
        Reading(
            "Measured extra units",
            _signed_units(_value(forecast, "lift_units", forecast.lift_units)),
            _with_interval(forecast, "lift_units", _signed_units),
        ),
        Reading(
            "Measured effect",
            _signed_percent(_value(forecast, "lift_pct", forecast.lift_pct)),
            _with_interval(forecast, "lift_pct", _signed_percent),
        ),
        Reading(
            "Profit",
            _signed_money(_value(forecast, "profit", forecast.profit)),
            _with_interval(forecast, "profit", _signed_money) or currency,
        ),
        Reading(
            "Realised ROI",
            _signed_percent(_value(forecast, "roi", forecast.roi)),
            _with_interval(forecast, "roi", _signed_percent),
        ),
        Reading(
            "Predicted ROI",
            _signed_percent(forecast.predicted_roi),
            "what the last plan before the start said" if forecast.predicted_roi is not None else "no plan before",
        ),
    ]


def error_summary(error: str) -> str:
    """The last line of a stored error (the exception's message), never a traceback."""
    lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "The evaluation failed."


@dataclass
class CampaignRow:
    """A campaign of the list with its latest plan, latest readout and an evaluation in progress or failed."""

    campaign: Campaign
    plan: CampaignForecast | None
    readout: CampaignForecast | None
    active: CampaignForecast | None
    failed: CampaignForecast | None

    @property
    def plan_no_evidence(self) -> bool:
        return bool(self.plan and no_evidence(self.plan))

    @property
    def plan_lift(self) -> str:
        return _signed_percent(_value(self.plan, "lift_pct", self.plan.lift_pct)) if self.plan else ""

    @property
    def plan_lift_interval(self) -> str:
        return interval(self.plan, "lift_pct", _signed_percent) if self.plan else ""

    @property
    def plan_roi(self) -> str:
        return _signed_percent(_value(self.plan, "roi", self.plan.roi)) if self.plan else ""

    @property
    def plan_roi_interval(self) -> str:
        return interval(self.plan, "roi", _signed_percent) if self.plan else ""

    @property
    def plan_p_roi(self) -> str:
        return _percent(self.plan.p_roi_positive) if self.plan else ""

    @property
    def readout_effect(self) -> str:
        return _signed_percent(_value(self.readout, "lift_pct", self.readout.lift_pct)) if self.readout else ""

    @property
    def readout_effect_interval(self) -> str:
        return interval(self.readout, "lift_pct", _signed_percent) if self.readout else ""

    @property
    def readout_p(self) -> str:
        return _percent(self.readout.p_positive) if self.readout else ""

    @property
    def readout_roi(self) -> str:
        return _signed_percent(_value(self.readout, "roi", self.readout.roi)) if self.readout else ""

    @property
    def readout_predicted_roi(self) -> str:
        return _signed_percent(self.readout.predicted_roi) if self.readout else ""


def _latest_of_kind(evaluations: list[CampaignForecast], kind: str) -> CampaignForecast | None:
    return next((evaluation for evaluation in evaluations if evaluation.kind == kind), None)


def _newer(candidate: CampaignForecast | None, than: CampaignForecast | None) -> CampaignForecast | None:
    """`candidate` when it was requested after `than` (a failure a later success has not superseded)."""
    if candidate is None or (than is not None and than.created_at >= candidate.created_at):
        return None
    return candidate


class CampaignListView(MerchantPageMixin, TemplateView):
    """The merchant's campaigns, latest start first, each with its latest plan and readout. Four queries for the
    campaigns whatever their number: count, page, evaluations, and the unfinished or failed evaluations."""

    template_name = "forecasting/campaign_list.html"
    section = "campaigns"
    page_size = 25

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        campaigns = campaign_selectors.campaigns_with_evaluations(merchant=merchant).annotate(
            products_count=Count("products", distinct=True), categories_count=Count("categories", distinct=True)
        )
        page = Paginator(campaigns, self.page_size).get_page(self.request.GET.get("page"))
        unfinished = list(
            campaign_selectors.campaign_forecast_list(merchant=merchant)
            .filter(
                campaign_id__in=[campaign.pk for campaign in page.object_list],
                status__in=[*ACTIVE, CampaignForecast.Status.FAILED],
            )
            .order_by("-created_at", "-pk")
        )
        rows = []
        for campaign in page.object_list:
            plan = _latest_of_kind(campaign.latest_evaluations, PLAN)
            readout = _latest_of_kind(campaign.latest_evaluations, READOUT)
            own = [evaluation for evaluation in unfinished if evaluation.campaign_id == campaign.pk]
            failed = [evaluation for evaluation in own if evaluation.status == CampaignForecast.Status.FAILED]
            rows.append(
                CampaignRow(
                    campaign=campaign,
                    plan=plan,
                    readout=readout,
                    active=next((evaluation for evaluation in own if evaluation.status in ACTIVE), None),
                    failed=(
                        _newer(_latest_of_kind(failed, PLAN), plan) or _newer(_latest_of_kind(failed, READOUT), readout)
                    ),
                )
            )
        context.update(page=page, rows=rows, can_write=self.request.membership.can_write, no_evidence_text=NO_EVIDENCE)
        return context


class CampaignFormView(MerchantPageMixin, View):
    """The planner: define a campaign (``pk`` None) or change one; saving requests its plan evaluation unless the
    campaign ended by the data cutoff (its readout comes instead)."""

    section = "campaigns"
    template_name = "forecasting/campaign_form.html"

    def _campaign(self, request: HttpRequest, pk: int | None) -> Campaign | None:
        if pk is None:
            return None
        return get_object_or_404(campaign_list(merchant=request.merchant), pk=pk)

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        campaign = self._campaign(request, pk)
        if not request.membership.can_write:
            return render(request, "ecomforecast/forbidden.html", {"section": self.section}, status=403)
        return self._render(request, CampaignForm(merchant=request.merchant, campaign=campaign), campaign)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        campaign = self._campaign(request, pk)
        if not request.membership.can_write:
            return render(request, "ecomforecast/forbidden.html", {"section": self.section}, status=403)
        form = CampaignForm(request.POST, merchant=request.merchant, campaign=campaign)
        if not form.is_valid():
            return self._render(request, form, campaign, status=400)
        data = form.cleaned_data
        campaign = campaign_save(
            merchant=request.merchant,
            campaign=campaign,
            name=data["name"],
            external_id=data["external_id"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            discount_pct=data["discount_pct"],
            channel=data["channel"].strip(),
            cost=data["cost"],
            products=data["skus"],
            categories=list(data["categories"]),
        )
        plan = campaign_plan_after_save(merchant=request.merchant, campaign=campaign)
        saved = f"Campaign “{campaign.name}” {'created' if pk is None else 'saved'}"
        if plan is None:
            messages.info(request, f"{saved}. It ended by the last day of your sales data: measure its effect instead.")
        elif plan.status == CampaignForecast.Status.SUCCEEDED:
            messages.info(request, f"{saved}; it is already forecast as it is now defined.")
        else:
            messages.success(request, f"{saved}; its forecast is on its way.")
        return redirect("campaign-view", pk=campaign.pk)

    def _render(self, request: HttpRequest, form: CampaignForm, campaign: Campaign | None, status: int = 200):
        context = {"form": form, "campaign": campaign, "section": self.section}
        return render(request, self.template_name, context, status=status)


class CampaignDetailView(MerchantPageMixin, TemplateView):
    template_name = "forecasting/campaign_detail.html"
    section = "campaigns"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        campaign = get_object_or_404(campaign_list(merchant=merchant), pk=kwargs["pk"])
        plan = campaign_selectors.campaign_forecast_latest(merchant=merchant, campaign_id=campaign.pk, kind=PLAN)
        readout = campaign_selectors.campaign_forecast_latest(merchant=merchant, campaign_id=campaign.pk, kind=READOUT)
        evaluations = campaign_selectors.campaign_forecast_list(merchant=merchant).filter(campaign=campaign)
        active = evaluations.filter(status__in=ACTIVE).order_by("-created_at", "-pk").first()
        latest_failed = {
            kind: evaluations.filter(kind=kind, status=CampaignForecast.Status.FAILED).order_by("-created_at").first()
            for kind in (PLAN, READOUT)
        }
        failures = [
            failed
            for failed in (_newer(latest_failed[PLAN], plan), _newer(latest_failed[READOUT], readout))
            if failed is not None
        ]
        context.update(
            campaign=campaign,
            campaign_days=(campaign.ends_on - campaign.starts_on).days + 1,
            plan=plan,
            readout=readout,
            active=active,
            failures=[(failed, error_summary(failed.error)) for failed in failures],
            can_write=self.request.membership.can_write,
            can_read_out=self._can_read_out(campaign),
        )
        if plan is not None:
            context.update(self._plan_context(plan, campaign=campaign, currency=merchant.currency))
        if readout is not None:
            context.update(
                readout_readings=readout_readings(readout, currency=merchant.currency),
                readout_chance=chance_in_words(readout.p_positive, "that the campaign really raised sales"),
                readout_roi_chance=chance_in_words(readout.p_roi_positive, "that the campaign paid for itself"),
                readout_siblings=siblings_in_words(readout),
                readout_chart=self._chart(campaign_charts.readout_figure, readout, campaign),
                readout_lines=list(
                    campaign_selectors.campaign_forecast_lines(merchant=merchant, forecast=readout)[
                        :PRODUCT_LINES_SHOWN
                    ]
                ),
            )
        return context

    def _plan_context(self, plan: CampaignForecast, *, campaign: Campaign, currency: str) -> dict:
        lines = campaign_selectors.campaign_forecast_lines(merchant=self.request.merchant, forecast=plan)
        context = {
            "plan_readings": plan_readings(plan, currency=currency),
            "plan_roi_chance": chance_in_words(plan.p_roi_positive, "the campaign pays for itself"),
            "plan_lift_chance": chance_in_words(plan.p_positive, "the campaign sells more than it would without it"),
            "plan_chart": self._chart(campaign_charts.plan_figure, plan, campaign),
            "plan_lines": list(lines[:PRODUCT_LINES_SHOWN]),
            "stock_warnings": list(lines.filter(shortfall__gt=0).order_by("needed_by", "-shortfall", "pk")),
            "plan_level": level_text(plan),
            "cannibalisation": cannibalisation_summary(plan, currency=currency),
            "plan_checked": checked_in_words(plan),
            "plan_partial_evidence": partial_evidence(plan),
        }
        if no_evidence(plan):
            # with no evidence of a lift, its tiles and chances would present assumed zeros as findings
            context.update(plan_no_evidence=NO_EVIDENCE, plan_readings=[], plan_roi_chance="", plan_lift_chance="")
        return context

    def _can_read_out(self, campaign: Campaign) -> bool:
        """Whether the sales data reach past the campaign and its post window, as a readout needs."""
        data_cutoff = default_data_cutoff(merchant=self.request.merchant)
        return campaign.ends_on + dt.timedelta(days=POST_DAYS) <= data_cutoff

    @staticmethod
    def _chart(figure, forecast: CampaignForecast, campaign: Campaign) -> dict | None:
        daily = forecast.daily or {}
        if not daily.get("dates"):
            return None
        # The evaluated window: a plan made while the campaign ran starts at its first forecast day.
        starts_on, ends_on = daily.get("window") or (campaign.starts_on.isoformat(), campaign.ends_on.isoformat())
        return figure(daily=daily, starts_on=dt.date.fromisoformat(starts_on), ends_on=dt.date.fromisoformat(ends_on))


class CampaignEvaluateView(MerchantPageMixin, View):
    """POST: forecast the campaign again (kind plan) or measure it after its end (kind readout)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(campaign_list(merchant=request.merchant), pk=pk)
        if not request.membership.can_write:
            messages.error(request, "Your role can view campaign forecasts but not start them.")
            return redirect("campaign-view", pk=campaign.pk)
        kind = request.POST.get("kind", PLAN)
        if kind not in CampaignForecast.Kind.values:
            messages.error(request, f"Unknown evaluation “{kind}”: choose plan or readout.")
            return redirect("campaign-view", pk=campaign.pk)
        try:
            forecast, created = campaign_forecast_request(merchant=request.merchant, campaign=campaign, kind=kind)
        except CampaignEvaluationError as error:
            messages.error(request, str(error))
            return redirect("campaign-view", pk=campaign.pk)
        label = "Forecast" if kind == PLAN else "Readout"
        if created:
            messages.success(request, f"{label} of “{campaign.name}” started on history up to {forecast.data_cutoff}.")
        else:
            messages.info(
                request, f"{label} of “{campaign.name}” on history up to {forecast.data_cutoff} already exists."
            )
        return redirect("campaign-view", pk=campaign.pk)


class CampaignEvaluationProgressView(MerchantPageMixin, View):
    def get(self, request: HttpRequest, pk: int) -> JsonResponse:
        forecast = get_object_or_404(campaign_selectors.campaign_forecast_list(merchant=request.merchant), pk=pk)
        return JsonResponse(
            {
                "id": forecast.pk,
                "kind": forecast.kind,
                "status": forecast.status,
                "progress": forecast.progress,
                "stage": forecast.stage,
                "error": error_summary(forecast.error) if forecast.status == CampaignForecast.Status.FAILED else "",
            }
        )
