"""The nightly steps of one merchant, composed across apps: forecast the catalogue, evaluate the campaigns that are
coming, running or just finished, build the reorder plan from the forecast (raised where a planned campaign needs
stock); score every customer. Each step is a service callable without Celery; on the workers the sales forecast,
the campaign evaluations and the customer scores run side by side, and the reorder plan follows the forecast through
the ``forecast_run_succeeded`` signal, connected in ``apps.ready``. A campaign's stock needs reach the plan whichever
finishes first: the plan reads the needs of the campaign plans made at its data cutoff, and a campaign plan applies
its needs to the draft plan of that date (inventory.services).

A campaign is evaluated on demand when it is saved by its creator, not by a model signal: the API and the planner
page call ``campaign_plan_after_save`` (imports of campaign files do not: the nightly step picks those up), so that
an import of hundreds of past campaigns does not queue hundreds of evaluations."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from customers.models import Campaign
from ecomforecast.models import Merchant
from forecasting import campaign_services, customer_services
from forecasting import services as forecasting_services
from forecasting.models import CampaignForecast, ForecastRun
from inventory import services as inventory_services

Progress = Callable[[str, int, int], None]


def run_pipeline(*, merchant: Merchant, progress: Progress | None = None) -> dict[str, object]:
    """Every step in this process, in order (management commands and the demo). Returns what each step made."""

    def step_progress(step: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            if progress:
                progress(step, done, total)

        return report

    run = forecasting_services.forecast_run_execute_in_process(
        merchant=merchant, progress=step_progress("sales forecast")
    )
    campaign_evaluations = campaign_services.campaign_evaluations_run_in_process(
        merchant=merchant, progress=step_progress("campaign evaluations")
    )
    plan = None
    if run.status == ForecastRun.Status.SUCCEEDED:
        plan = inventory_services.reorder_plan_build(
            merchant=merchant, forecast_run_id=run.pk, progress=step_progress("reorder plan")
        )

    def customer_progress(_stage: str, fraction: float) -> None:
        if progress:
            progress("customer scores", round(fraction * 100), 100)

    customer_run = customer_services.customer_scores_run_in_process(merchant=merchant, progress=customer_progress)
    return {
        "sales_forecast_run": run,
        "campaign_evaluations": campaign_evaluations,
        "reorder_plan": plan,
        "customer_score_run": customer_run,
    }


def request_pipeline(*, merchant: Merchant) -> dict[str, object]:
    """Every step on the workers: the forecast run, the campaign evaluations and the customer-score run are requested
    (each idempotent per data cutoff and configuration); the forecast's success queues the reorder plan (see
    plan_after_forecast)."""
    run, created = forecasting_services.forecast_run_request(merchant=merchant)
    campaign_evaluations = campaign_services.campaign_evaluations_request(merchant=merchant)
    customer_run, _customer_created = customer_services.customer_scores_run_request(merchant=merchant)
    return {
        "sales_forecast_run": run,
        "created": created,
        # ids, like the runs' in the nightly task's result
        "campaign_evaluations": [forecast.pk for forecast in campaign_evaluations],
        "customer_score_run": customer_run,
    }


def campaign_plan_after_save(*, merchant: Merchant, campaign: Campaign) -> CampaignForecast | None:
    """A fresh pre-campaign forecast of a campaign just created or edited, queued after commit; None for a campaign
    that ended by the data cutoff (its readout comes with the nightly step)."""
    if campaign.ends_on <= campaign_services.default_data_cutoff(merchant=merchant):
        return None
    forecast, _created = campaign_services.campaign_forecast_request(
        merchant=merchant, campaign=campaign, kind=CampaignForecast.Kind.PLAN
    )
    return forecast


def plan_after_forecast(sender, run: ForecastRun, **kwargs) -> None:
    """Every succeeded sales forecast run, whoever asked for it, gets its reorder plan on the planning queue."""
    if run.kind != ForecastRun.Kind.SALES:
        return
    from inventory.tasks import reorder_plan_build

    transaction.on_commit(lambda: reorder_plan_build.delay(run.merchant_id, run.pk))
