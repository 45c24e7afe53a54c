"""Writes of campaign evaluations: request (idempotent), execute (engine + rows + stock check), the nightly step.

A plan (kind PLAN) forecasts the campaign's products from the data cutoff over the lead (the days from the cutoff to
the start), the campaign window and a post window of POST_DAYS days (the dip after a campaign shows within two
weeks), with and without the campaign (forecasting.engine.campaigns.campaign_forecast). A campaign already running
at the cutoff is planned over its remaining days; the first ones are then history. A plan of a campaign that ended
by the data cutoff is made as it would have been the day before the start (its cutoff is starts_on - 1).

The stock check of a plan: per product, shortfall = max(0, P90 of with-campaign demand from the first forecast day
to the campaign's end - (on hand + open purchase orders expected by the first campaign day)), needed by that day.
Products short of stock become campaign needs of the merchant's reorder plan (inventory.services).

A plan also forecasts the demand the campaign takes from the unpromoted products of its categories
(forecasting.engine.cannibalisation) into ``effects["cannibalisation"]``. Only when the history shows the effect
(the pooled effect's 90 % interval below 0) is the siblings' lost revenue and margin taken off the campaign's
incremental revenue, margin, profit and ROI, path by path; ``gross_profit`` there keeps the profit before it.

A plan whose campaign changes only features the history never saw varying (no past campaign, no discount) has no
evidence of a lift: ``effects["no_evidence"]`` names those features, p_positive is None and the with-campaign
forecast is the baseline. ``effects["unidentified"]`` lists every unseen feature the campaign changes, also when
others carry a lift.

A readout (kind READOUT) needs the campaign and its post window to have ended by the data cutoff: the products'
demand from the start is set against a counterfactual forecast from the data before it (campaign_readout), scaled
by the untreated other products (controls); predicted_roi is that of the latest plan made before the start. The
untreated products of the promoted categories (siblings) are measured the same way against the controls outside
those categories, into ``effects["siblings"]``: a loss whose 90 % interval lies below 0 is cannibalisation measured
after the fact, and the siblings are then left out of the campaign's controls.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from customers.models import Campaign
from ecomforecast.models import Merchant
from forecasting import campaign_io, io
from forecasting.campaign_io import CampaignEvaluationError, CampaignPanel
from forecasting.engine.auto import AutoForecaster
from forecasting.engine.campaigns import (
    CampaignForecast as EngineForecast,
)
from forecasting.engine.campaigns import (
    CampaignLift,
    CampaignReadout,
    Estimate,
    ProductReadout,
    campaign_forecast,
    campaign_readout,
)
from forecasting.engine.cannibalisation import (
    Cannibalisation,
    cannibalisation_forecast,
    net_of_cannibalisation,
    sibling_counterfactual_inputs,
)
from forecasting.models import CampaignForecast, CampaignForecastLine
from forecasting.services import _jsonable, idempotency_key
from inventory.models import Product

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
POST_DAYS = 14
# the effects' baseline half-window: four weeks, longer than a campaign, so a promoted day's baseline rests on
# unpromoted neighbours (auto's daily default of 7 sits inside a two-week campaign)
COVARIATE_WINDOW = 28
# a readout's siblings lost sales (cannibalisation) when the upper end of their interval at this level is below 0,
# the plan's detection level (engine cannibalisation)
SIBLING_DETECTION_LEVEL = 0.9
# readouts scale the counterfactual by at most this many controls (same categories first)
CONTROLS_LIMIT = 50
# a plan lists the siblings that lose the most units, up to this many
CANNIBALISED_LISTED = 20

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class CampaignEvaluationConfig:
    level: float = 0.8
    post_days: int = POST_DAYS
    n_paths: int = 200
    seed: int = 0
    season_length: int = 7
    covariate_window: int = COVARIATE_WINDOW
    others_limit: int = campaign_io.OTHERS_LIMIT
    controls_limit: int = CONTROLS_LIMIT

    def forecaster(self) -> AutoForecaster:
        return AutoForecaster(
            season_length=self.season_length,
            n_paths=self.n_paths,
            seed=self.seed,
            covariate_names=io.CAMPAIGN_COVARIATE_NAMES,
            covariate_kinds=io.CAMPAIGN_COVARIATE_KINDS,
            covariate_window=self.covariate_window,
        )


def default_data_cutoff(*, merchant: Merchant) -> dt.date:
    """The default data cutoff of an evaluation: the last day with a sale (today without any), like forecast runs."""
    return io.last_sale_day(merchant=merchant) or timezone.localdate()


def _campaign_cutoff(campaign: Campaign, kind: str, data_cutoff: dt.date, post_days: int) -> dt.date:
    """The cutoff an evaluation of this kind uses given the data's; raises when a readout is not possible yet."""
    if kind == CampaignForecast.Kind.PLAN:
        # a finished campaign is planned as on the day before it started, so the plan can be held against its readout
        return campaign.starts_on - dt.timedelta(days=1) if campaign.ends_on <= data_cutoff else data_cutoff
    if kind != CampaignForecast.Kind.READOUT:
        raise CampaignEvaluationError(f"Unknown evaluation kind {kind!r}: use plan or readout.")
    post_end = campaign.ends_on + dt.timedelta(days=post_days)
    if post_end > data_cutoff:
        raise CampaignEvaluationError(
            f"A readout needs the campaign and its {post_days}-day post window to have ended by the data cutoff: "
            f"they end on {post_end.isoformat()}, the data ends on {data_cutoff.isoformat()}."
        )
    return data_cutoff


@transaction.atomic
def campaign_forecast_request(
    *,
    merchant: Merchant,
    campaign: Campaign,
    kind: str,
    data_cutoff: dt.date | None = None,
    config: CampaignEvaluationConfig | None = None,
    dispatch: bool = True,
) -> tuple[CampaignForecast, bool]:
    """The evaluation for (campaign, kind, cutoff, the campaign's definition, config): created and dispatched once; a
    failed one is started again. Raises CampaignEvaluationError for a readout the data cannot support yet."""
    config = config or CampaignEvaluationConfig()
    campaign = campaign_io.campaign_with_links(merchant=merchant, campaign_id=campaign.pk)
    cutoff = _campaign_cutoff(campaign, kind, data_cutoff or default_data_cutoff(merchant=merchant), config.post_days)
    definition = campaign_io.campaign_definition(campaign)
    config_dict = asdict(config)
    key = idempotency_key(
        merchant=merchant,
        kind=f"campaign-{kind}",
        data_cutoff=cutoff,
        config={"campaign": {k: v for k, v in definition.items() if k not in ("name", "channel")}, **config_dict},
    )
    forecast, created = CampaignForecast.objects.select_for_update().get_or_create(
        merchant=merchant,
        idempotency_key=key,
        defaults={
            "campaign": campaign,
            "kind": kind,
            "data_cutoff": cutoff,
            "config": config_dict,
            "campaign_snapshot": definition,
            "level": config.level,
            "cost": campaign.cost,
        },
    )
    retry = not created and forecast.status == CampaignForecast.Status.FAILED
    if retry:
        _restart(forecast)
    if (created or retry) and dispatch:
        _dispatch(forecast)
    return forecast, created or retry


def campaign_forecast_reset(*, forecast_id: int) -> CampaignForecast:
    """Compute an evaluation again from scratch (staff action): same data cutoff and configuration, the campaign as
    it is now (the run snapshots it again); its lines and, for a plan, its stock needs are rewritten."""
    with transaction.atomic():
        forecast = CampaignForecast.objects.select_for_update().get(pk=forecast_id)
        _restart(forecast)
        _dispatch(forecast)
    return forecast


def _restart(forecast: CampaignForecast) -> None:
    forecast.status = CampaignForecast.Status.PENDING
    forecast.attempts = 0
    forecast.progress = 0.0
    forecast.stage = ""
    forecast.error = ""
    forecast.finished_at = None
    forecast.save(update_fields=["status", "attempts", "progress", "stage", "error", "finished_at"])


def _dispatch(forecast: CampaignForecast) -> None:
    from forecasting.tasks import campaign_forecast_run

    transaction.on_commit(lambda: campaign_forecast_run.delay(forecast.pk))


def _fail(forecast: CampaignForecast, message: str) -> CampaignForecast:
    forecast.status = CampaignForecast.Status.FAILED
    forecast.error = message[:4000]
    forecast.stage = ""
    forecast.finished_at = timezone.now()
    forecast.save(update_fields=["status", "error", "stage", "finished_at"])
    return forecast


def campaign_forecast_execute(*, forecast_id: int, progress: Progress | None = None) -> CampaignForecast:
    """Read, run the engine, write the evaluation and its lines (replacing an earlier attempt's), and for a plan
    apply the stock needs to the reorder plan. Callable without Celery; gives up after MAX_ATTEMPTS; database
    outages propagate so that the task retries; any other failure is recorded on the row as a short message."""
    with transaction.atomic():
        forecast = (
            CampaignForecast.objects.select_for_update().select_related("merchant", "campaign").get(pk=forecast_id)
        )
        if forecast.status == CampaignForecast.Status.SUCCEEDED:
            return forecast
        forecast.attempts += 1
        forecast.status = CampaignForecast.Status.RUNNING
        forecast.started_at = forecast.started_at or timezone.now()
        forecast.save(update_fields=["attempts", "status", "started_at"])
    if forecast.attempts > MAX_ATTEMPTS:
        return _fail(forecast, f"gave up after {MAX_ATTEMPTS} attempts")

    def report(stage: str, fraction: float) -> None:
        CampaignForecast.objects.filter(pk=forecast.pk).update(stage=stage, progress=fraction)
        if progress:
            progress(stage, fraction)

    config = CampaignEvaluationConfig(**forecast.config)
    started = time.perf_counter()
    try:
        campaign = campaign_io.campaign_with_links(merchant=forecast.merchant, campaign_id=forecast.campaign_id)
        report("reading sales and campaigns", 0.1)
        if forecast.kind == CampaignForecast.Kind.PLAN:
            first_day = forecast.data_cutoff + dt.timedelta(days=1)
            window_start = max(campaign.starts_on, first_day)
            lead = (window_start - first_day).days
            campaign_days = (campaign.ends_on - window_start).days + 1
            if campaign_days <= 0:
                raise CampaignEvaluationError(
                    f"The campaign ended by the data cutoff {forecast.data_cutoff.isoformat()}: request its readout, "
                    "or a plan again (it is then made from the data before the start)."
                )
            panel = campaign_io.campaign_panel(
                merchant=forecast.merchant,
                campaign=campaign,
                first_day=first_day,
                horizon=lead + campaign_days + config.post_days,
                others_limit=config.others_limit,
            )
        else:
            campaign_days = (campaign.ends_on - campaign.starts_on).days + 1
            lead = 0
            panel = campaign_io.campaign_panel(
                merchant=forecast.merchant,
                campaign=campaign,
                first_day=campaign.starts_on,
                horizon=campaign_days + config.post_days,
                with_actual=True,
                others_limit=config.others_limit,
            )
        read_seconds = time.perf_counter() - started

        report("forecasting with and without the campaign", 0.3)
        engine_started = time.perf_counter()
        discount = float(campaign.discount_pct) / 100.0
        if forecast.kind == CampaignForecast.Kind.PLAN:
            result = _plan(panel, config, lead=lead, campaign_days=campaign_days, discount=discount, cost=campaign.cost)
            report("forecasting the siblings the campaign takes demand from", 0.7)
            cannibalisation = _cannibalisation(panel, config)
            gross_profit = result.profit
            result = net_of_cannibalisation(
                result,
                cannibalisation,
                price=panel.price,
                unit_cost=panel.unit_cost,
                discount=discount,
                level=config.level,
            )
        else:
            readout = _readout(panel, config, campaign_days=campaign_days, discount=discount, cost=campaign.cost)
            result = replace(readout.result, predicted_roi=_predicted_roi(forecast))
        engine_seconds = time.perf_counter() - engine_started

        report("writing", 0.9)
        write_started = time.perf_counter()
        with transaction.atomic():
            if forecast.kind == CampaignForecast.Kind.PLAN:
                _plan_write(forecast, campaign, panel, result, lead=lead, campaign_days=campaign_days)
                forecast.effects["cannibalisation"] = _cannibalisation_summary(
                    forecast, panel, cannibalisation, gross_profit=gross_profit
                )
            else:
                _readout_write(forecast, panel, result, campaign_days=campaign_days, readout=readout)
            forecast.status = CampaignForecast.Status.SUCCEEDED
            forecast.progress = 1.0
            forecast.stage = ""
            forecast.error = ""
            forecast.finished_at = timezone.now()
            forecast.campaign_snapshot = campaign_io.campaign_definition(campaign)
            forecast.timings = {
                "read": read_seconds,
                "engine": engine_seconds,
                "write": time.perf_counter() - write_started,
                "total": time.perf_counter() - started,
            }
            forecast.save()
    except (OperationalError, InterfaceError):
        raise
    except CampaignEvaluationError as exc:
        return _fail(forecast, str(exc))
    except Exception as exc:
        logger.exception("campaign evaluation %s failed", forecast.pk)
        return _fail(forecast, f"The evaluation failed: {type(exc).__name__}: {exc}")
    report("done", 1.0)
    return forecast


def _plan(
    panel: CampaignPanel, config: CampaignEvaluationConfig, *, lead: int, campaign_days: int, discount: float, cost
) -> EngineForecast:
    count = len(panel.product_ids)
    return campaign_forecast(
        panel.series,
        panel.X,
        panel.X_campaign,
        X_baseline=panel.X_baseline,
        campaign_periods=campaign_days,
        lead_periods=lead,
        products=list(range(count)),
        price=panel.price,
        unit_cost=panel.unit_cost,
        discount=discount,
        campaign_cost=float(cost),
        forecaster=config.forecaster(),
        level=config.level,
        seed=config.seed,
    )


def _cannibalisation(panel: CampaignPanel, config: CampaignEvaluationConfig) -> Cannibalisation:
    rows = [*panel.product_ids, *panel.other_ids]
    return cannibalisation_forecast(
        panel.series,
        panel.X,
        panel.X_campaign,
        panel.X_baseline,
        categories=panel.categories,
        products=list(range(len(panel.product_ids))),
        price=np.array([panel.sibling_price.get(pid, 0.0) for pid in rows]),
        unit_cost=np.array([panel.sibling_unit_cost.get(pid, 0.0) for pid in rows]),
        forecaster=config.forecaster(),
        level=config.level,
        seed=config.seed,
    )


def _cannibalisation_summary(
    forecast: CampaignForecast, panel: CampaignPanel, result: Cannibalisation, *, gross_profit: Estimate | None
) -> dict[str, object]:
    """effects["cannibalisation"]: the verdict, the pooled log effect with its interval, the loss in total and for
    the CANNIBALISED_LISTED siblings that lose the most (sku from the panel's products)."""
    rows = [*panel.product_ids, *panel.other_ids]
    listed = result.siblings[:CANNIBALISED_LISTED]
    skus = dict(
        Product.objects.filter(
            merchant_id=forecast.merchant_id, pk__in=[rows[loss.row] for loss in listed]
        ).values_list("pk", "sku")
    )
    return {
        "status": result.status,
        "detected": result.detected,
        "effect": _number(result.effect),
        "effect_pct": _number(np.expm1(result.effect)),
        "lower": _number(result.lower),
        "upper": _number(result.upper),
        "detection_level": result.detection_level,
        "siblings": len(result.siblings),
        "units_lost": _estimate(result.units),
        "revenue_lost": _estimate(result.revenue),
        "margin_lost": _estimate(result.margin),
        "gross_profit": _estimate(gross_profit),
        "products": [
            {
                "product_id": rows[loss.row],
                "sku": skus.get(rows[loss.row], ""),
                "units_lost": _estimate(loss.units),
                "revenue_lost": _estimate(loss.revenue),
                "margin_lost": _estimate(loss.margin),
            }
            for loss in listed
        ],
    }


@dataclass(frozen=True)
class _Readout:
    """A readout, and what the untouched products of the promoted categories (siblings) did over the same window:
    measured like the campaign (``siblings``: None without any), at the cannibalisation detection level."""

    result: CampaignReadout
    siblings: CampaignReadout | None
    sibling_count: int
    controls: int
    siblings_excluded: bool


def _readout(
    panel: CampaignPanel, config: CampaignEvaluationConfig, *, campaign_days: int, discount: float, cost
) -> _Readout:
    """The campaign's effect against its counterfactual, scaled by untouched controls. The siblings are measured
    first, against the controls outside the promoted categories: when they lost sales (the upper end of their
    interval at SIBLING_DETECTION_LEVEL below zero) they are no controls for the campaign, which would otherwise
    look bigger by their loss."""
    count = len(panel.product_ids)
    row_of = {pid: row for row, pid in enumerate([*panel.product_ids, *panel.other_ids])}
    promoted = {category for category in panel.categories[:count] if category is not None}
    siblings = [pid for pid in panel.untreated if panel.categories[row_of[pid]] in promoted]
    outside = [pid for pid in panel.untreated if panel.categories[row_of[pid]] not in promoted]
    limit = config.controls_limit
    measured = None
    if siblings:
        measured = _measure(
            panel,
            config,
            [row_of[pid] for pid in siblings],
            [row_of[pid] for pid in outside[:limit]],
            campaign_days=campaign_days,
            level=SIBLING_DETECTION_LEVEL,
            sibling_flag=True,
        )
    excluded = measured is not None and measured.total.percent.upper < 0
    controls = [row_of[pid] for pid in (outside if excluded else panel.untreated)[:limit]]
    result = _measure(
        panel,
        config,
        list(range(count)),
        controls,
        campaign_days=campaign_days,
        level=config.level,
        price=panel.price,
        unit_cost=panel.unit_cost,
        discount=discount,
        campaign_cost=float(cost),
    )
    return _Readout(result, measured, len(siblings), len(controls), excluded)


def _measure(
    panel: CampaignPanel,
    config: CampaignEvaluationConfig,
    rows: list[int],
    controls: list[int],
    *,
    campaign_days: int,
    level: float,
    sibling_flag: bool = False,
    **economics,
) -> CampaignReadout:
    """campaign_readout of ``rows`` against ``controls``; with ``sibling_flag`` the counterfactual also deflates the
    days their category's other products were promoted (engine cannibalisation.sibling_counterfactual_inputs)."""
    assert panel.actual is not None
    every = [*rows, *controls]
    forecaster = config.forecaster()
    if sibling_flag:
        X, X_future, forecaster = sibling_counterfactual_inputs(
            panel.series, panel.X, panel.X_baseline, categories=panel.categories, rows=every, forecaster=forecaster
        )
    else:
        X, X_future = [panel.X[row] for row in every], [panel.X_baseline[row] for row in every]
    return campaign_readout(
        [panel.series[row] for row in rows],
        [panel.actual[row] for row in rows],
        campaign_periods=campaign_days,
        controls=[panel.series[row] for row in controls],
        control_actual=[panel.actual[row] for row in controls],
        X=X,
        X_future=X_future,
        forecaster=forecaster,
        level=level,
        **economics,
    )


def _predicted_roi(forecast: CampaignForecast) -> float | None:
    plan = (
        CampaignForecast.objects.filter(
            merchant_id=forecast.merchant_id,
            campaign_id=forecast.campaign_id,
            kind=CampaignForecast.Kind.PLAN,
            status=CampaignForecast.Status.SUCCEEDED,
            data_cutoff__lt=forecast.campaign.starts_on,
        )
        .order_by("-data_cutoff", "-finished_at", "-pk")
        .first()
    )
    return plan.roi if plan is not None else None


# -- rows -----------------------------------------------------------------------------------------------------


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return round(value, 4) if np.isfinite(value) else None


def _estimate(estimate: Estimate | None) -> dict[str, float | None] | None:
    if estimate is None:
        return None
    return {"mean": _number(estimate.mean), "lower": _number(estimate.lower), "upper": _number(estimate.upper)}


def _band(draws: np.ndarray, prefix: str, mean: np.ndarray) -> dict[str, list[float | None]]:
    low, high = np.quantile(draws, (0.1, 0.9), axis=0) if len(draws) else (mean, mean)
    return {
        f"{prefix}_mean": [_number(value) for value in mean],
        f"{prefix}_p10": [_number(value) for value in low],
        f"{prefix}_p90": [_number(value) for value in high],
    }


def _dates(first_day: dt.date, horizon: int) -> list[str]:
    return [(first_day + dt.timedelta(days=step)).isoformat() for step in range(horizon)]


def _lift_estimates(lift: CampaignLift) -> dict[str, object]:
    return {
        "lift_units": _estimate(lift.units),
        "lift_pct": _estimate(lift.percent),
        "measured_lift_pct": _estimate(lift.measured_percent),
        "post_units": _estimate(lift.post_units),
        "post_pct": _estimate(lift.post_percent),
        "demand": _estimate(lift.demand),
        "revenue": _estimate(lift.revenue),
        "margin": _estimate(lift.margin),
    }


def _plan_write(
    forecast: CampaignForecast,
    campaign: Campaign,
    panel: CampaignPanel,
    result: EngineForecast,
    *,
    lead: int,
    campaign_days: int,
) -> None:
    window = slice(lead, lead + campaign_days)
    window_start = panel.first_day + dt.timedelta(days=lead)
    lines = []
    needs = []
    for product_id, lift, on_hand, incoming in zip(
        panel.product_ids, result.products, panel.on_hand, panel.incoming, strict=True
    ):
        on_order = sum(units for expected_on, units in incoming if expected_on <= window_start)
        to_end = lift.campaign_draws[:, : lead + campaign_days].sum(axis=1)
        shortfall = max(0.0, lift.demand_to_end_p90 - (float(on_hand) + on_order))
        lines.append(
            CampaignForecastLine(
                merchant_id=forecast.merchant_id,
                forecast=forecast,
                product_id=product_id,
                baseline_units=float(lift.baseline[window].sum()),
                campaign_units=float(lift.with_campaign[window].sum()),
                lift_units=float(lift.units.mean),
                lift_pct=_number(lift.percent.mean),
                post_units=_number(lift.post_units.mean),
                demand_p90=_number(lift.demand_p90),
                demand_to_end_mean=_number(to_end.mean()),
                demand_to_end_p90=_number(lift.demand_to_end_p90),
                on_hand=float(on_hand),
                on_order=float(on_order),
                shortfall=round(shortfall, 4),
                needed_by=window_start if shortfall > 0 else None,
                revenue=_number(lift.revenue.mean) if lift.revenue else None,
                margin=_number(lift.margin.mean) if lift.margin else None,
                estimates=_lift_estimates(lift),
                daily={
                    "dates": _dates(panel.first_day, panel.horizon),
                    **_band(lift.baseline_draws, "baseline", lift.baseline),
                    **_band(lift.campaign_draws, "campaign", lift.with_campaign),
                },
            )
        )
        needs.append((product_id, float(lift.demand_to_end_p90), float(to_end.mean())))
    _lines_replace(forecast, lines)

    total = result.total
    increments = total.campaign_draws[:, window].sum(axis=1) - total.baseline_draws[:, window].sum(axis=1)
    forecast.campaign_days = campaign_days
    forecast.post_days = panel.horizon - lead - campaign_days
    forecast.products_total = len(panel.product_ids)
    forecast.baseline_units = float(total.baseline[window].sum())
    forecast.campaign_units = float(total.with_campaign[window].sum())
    forecast.lift_units = _number(total.units.mean)
    forecast.lift_pct = _number(total.percent.mean)
    # every feature the campaign changes unseen in the history: the with-campaign paths are the baseline's, and a
    # lift of 0 with a zero-width interval would read as a finding
    no_evidence = list(result.unidentified) if result.unidentified and not np.any(increments) else []
    forecast.p_positive = None if no_evidence else float(np.mean(increments > 0))
    forecast.cost = campaign.cost
    forecast.stock_short_count = sum(line.shortfall > 0 for line in lines)
    forecast.estimates = {**_lift_estimates(total), **_money_write(forecast, result)}
    forecast.daily = {
        "dates": _dates(panel.first_day, panel.horizon),
        "window": [window_start.isoformat(), campaign.ends_on.isoformat()],
        **_band(total.baseline_draws, "baseline", total.baseline),
        **_band(total.campaign_draws, "campaign", total.with_campaign),
    }
    forecast.effects = {
        "products": {
            str(product_id): _jsonable(effects)
            for product_id, effects in zip(panel.product_ids, result.effects, strict=True)
        },
        "unidentified": list(result.unidentified),
        "no_evidence": no_evidence,
        "calibration": _jsonable(result.calibration) if result.calibration else None,
        "others": len(panel.other_ids),
        "skipped_products": panel.skipped,
        "assumed": panel.assumed,
        "lead_days": lead,
        "reorder": _reorder_apply(forecast, campaign, needs, forecast_start=panel.first_day),
    }


def _reorder_apply(
    forecast: CampaignForecast, campaign: Campaign, needs: list[tuple[int, float, float]], *, forecast_start: dt.date
) -> dict:
    """Every product's demand to the campaign's end goes to the merchant's draft reorder plan of the same date, which
    raises the lines whose stock falls short of it (the plan's own stock position decides; see inventory)."""
    from inventory.services import CampaignStockNeed, reorder_plan_apply_campaign_needs

    summary = reorder_plan_apply_campaign_needs(
        merchant=forecast.merchant,
        needs=[
            CampaignStockNeed(
                product_id=product_id,
                campaign_id=campaign.pk,
                campaign_name=campaign.name,
                starts_on=campaign.starts_on,
                ends_on=campaign.ends_on,
                demand_to_end_p90=p90,
                demand_to_end_mean=mean,
                forecast_start=forecast_start,
            )
            for product_id, p90, mean in needs
        ],
    )
    return _jsonable(summary)


def _money_write(forecast: CampaignForecast, result: EngineForecast | CampaignReadout) -> dict[str, object]:
    """Profit, ROI and P(ROI > 0) onto the row (plans and readouts alike); their estimates for ``estimates``."""
    forecast.profit = _number(result.profit.mean) if result.profit else None
    forecast.roi = _number(result.roi.mean) if result.roi else None
    forecast.p_roi_positive = _number(result.p_roi_positive)
    return {
        "profit": _estimate(result.profit),
        "roi": _estimate(result.roi),
        "roi_quantiles": {f"{q:g}": _number(value) for q, value in (result.roi_quantiles or {}).items()},
    }


def _readout_write(
    forecast: CampaignForecast, panel: CampaignPanel, result: CampaignReadout, *, campaign_days: int, readout: _Readout
) -> None:
    window = slice(0, campaign_days)
    lines = [
        CampaignForecastLine(
            merchant_id=forecast.merchant_id,
            forecast=forecast,
            product_id=product_id,
            baseline_units=float(readout.counterfactual[window].sum()),
            campaign_units=float(np.nansum(readout.actual[window])),
            lift_units=float(readout.units.mean),
            lift_pct=_number(readout.percent.mean),
            post_units=_number(readout.post_units.mean) if readout.post_units else None,
            revenue=_number(readout.revenue.mean) if readout.revenue else None,
            margin=_number(readout.margin.mean) if readout.margin else None,
            estimates=_readout_estimates(readout),
            daily={
                "dates": _dates(panel.first_day, panel.horizon),
                "actual": [_number(value) for value in np.nan_to_num(readout.actual)],
                **_band(readout.counterfactual_draws, "counterfactual", readout.counterfactual),
            },
        )
        for product_id, readout in zip(panel.product_ids, result.products, strict=True)
    ]
    _lines_replace(forecast, lines)
    total = result.total
    forecast.campaign_days = campaign_days
    forecast.post_days = panel.horizon - campaign_days
    forecast.products_total = len(panel.product_ids)
    forecast.baseline_units = float(total.counterfactual[window].sum())
    forecast.campaign_units = float(np.nansum(total.actual[window]))
    forecast.lift_units = _number(total.units.mean)
    forecast.lift_pct = _number(total.percent.mean)
    forecast.p_positive = _number(total.p_positive)
    forecast.predicted_roi = _number(result.predicted_roi)
    forecast.control_ratio = _number(result.control_ratio)
    forecast.estimates = {**_readout_estimates(total), **_money_write(forecast, result)}
    forecast.daily = {
        "dates": _dates(panel.first_day, panel.horizon),
        "window": [panel.first_day.isoformat(), (panel.first_day + dt.timedelta(days=campaign_days - 1)).isoformat()],
        "actual": [_number(value) for value in np.nan_to_num(total.actual)],
        **_band(total.counterfactual_draws, "counterfactual", total.counterfactual),
    }
    forecast.effects = {
        "controls": readout.controls,
        "siblings": _siblings_summary(readout, campaign_days=campaign_days),
        "skipped_products": panel.skipped,
        "assumed": panel.assumed,
    }


def _siblings_summary(readout: _Readout, *, campaign_days: int) -> dict[str, object] | None:
    """effects["siblings"] of a readout: how the untouched products of the promoted categories sold against their
    own counterfactual over the campaign window (a loss is cannibalisation), and whether they were kept out of the
    controls for it; None without siblings."""
    if readout.siblings is None:
        return None
    total = readout.siblings.total
    return {
        "products": readout.sibling_count,
        "level": SIBLING_DETECTION_LEVEL,
        "percent": _estimate(total.percent),
        "units": _estimate(total.units),
        "actual_units": float(np.nansum(total.actual[:campaign_days])),
        "expected_units": float(total.counterfactual[:campaign_days].sum()),
        "p_loss": _number(1.0 - total.p_positive),
        "detected": readout.siblings_excluded,
        "excluded_from_controls": readout.siblings_excluded,
    }


def _readout_estimates(readout: ProductReadout) -> dict[str, object]:
    return {
        "lift_units": _estimate(readout.units),
        "lift_pct": _estimate(readout.percent),
        "post_units": _estimate(readout.post_units),
        "post_pct": _estimate(readout.post_percent),
        "revenue": _estimate(readout.revenue),
        "margin": _estimate(readout.margin),
    }


def _lines_replace(forecast: CampaignForecast, lines: list[CampaignForecastLine]) -> None:
    """The evaluation's lines replace whatever an earlier attempt wrote (same transaction)."""
    CampaignForecastLine.objects.filter(forecast=forecast).delete()
    CampaignForecastLine.objects.bulk_create(lines, batch_size=1000)


# -- entry points ---------------------------------------------------------------------------------------------


def campaign_forecast_in_process(
    *,
    merchant: Merchant,
    campaign: Campaign,
    kind: str,
    data_cutoff: dt.date | None = None,
    config: CampaignEvaluationConfig | None = None,
    progress: Progress | None = None,
) -> CampaignForecast:
    """Request (idempotent) and execute an evaluation in this process: the pipeline, commands and the demo."""
    forecast, _created = campaign_forecast_request(
        merchant=merchant, campaign=campaign, kind=kind, data_cutoff=data_cutoff, config=config, dispatch=False
    )
    return campaign_forecast_execute(forecast_id=forecast.pk, progress=progress)


def campaigns_due(*, merchant: Merchant, today: dt.date | None = None) -> list[tuple[Campaign, str]]:
    """The nightly evaluations: a plan for each campaign that starts within CAMPAIGN_PLAN_DAYS of ``today`` (default
    the first day after the data) or is running, a readout for each one whose post window ended by the data cutoff,
    within the last CAMPAIGN_READOUT_DAYS, and that has no succeeded readout yet."""
    cutoff = default_data_cutoff(merchant=merchant)
    today = today or cutoff + dt.timedelta(days=1)
    post = dt.timedelta(days=POST_DAYS)
    upcoming = Campaign.objects.filter(
        merchant=merchant,
        ends_on__gte=today,
        starts_on__lte=today + dt.timedelta(days=settings.CAMPAIGN_PLAN_DAYS),
    ).order_by("starts_on", "pk")
    read_out = CampaignForecast.objects.filter(
        campaign=OuterRef("pk"), kind=CampaignForecast.Kind.READOUT, status=CampaignForecast.Status.SUCCEEDED
    )
    finished = (
        Campaign.objects.filter(
            merchant=merchant,
            ends_on__lte=cutoff - post,
            ends_on__gte=today - dt.timedelta(days=settings.CAMPAIGN_READOUT_DAYS) - post,
        )
        .exclude(Exists(read_out))
        .order_by("ends_on", "pk")
    )
    return [(campaign, CampaignForecast.Kind.PLAN) for campaign in upcoming] + [
        (campaign, CampaignForecast.Kind.READOUT) for campaign in finished
    ]


def campaign_evaluations_request(
    *, merchant: Merchant, today: dt.date | None = None, dispatch: bool = True
) -> list[CampaignForecast]:
    """The nightly step (see campaigns_due): each evaluation requested, idempotent like a single request."""
    forecasts = []
    for campaign, kind in campaigns_due(merchant=merchant, today=today):
        forecast, _created = campaign_forecast_request(
            merchant=merchant, campaign=campaign, kind=kind, dispatch=dispatch
        )
        forecasts.append(forecast)
    return forecasts


def campaign_evaluations_run_in_process(
    *, merchant: Merchant, today: dt.date | None = None, progress: Callable[[int, int], None] | None = None
) -> list[CampaignForecast]:
    """The nightly step in this process, evaluation by evaluation (the in-process pipeline and the demo)."""
    requested = campaign_evaluations_request(merchant=merchant, today=today, dispatch=False)
    done = []
    for index, forecast in enumerate(requested, start=1):
        done.append(campaign_forecast_execute(forecast_id=forecast.pk))
        if progress:
            progress(index, len(requested))
    return done
