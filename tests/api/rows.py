"""One representative row per API model, with the related rows its endpoint nests, for one merchant.

Generic API tests iterate over the router; every model behind a route needs a builder here, so a new endpoint
fails loudly until its rows can be made (and is then covered by every generic test).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from django.db import models
from django.db.models import Max
from django.utils import timezone

from customers.models import ActivityEvent, Campaign, CampaignRecipient, Customer, Order
from ecomforecast.models import ApiKey, ImportJob, Merchant
from ecomforecast.services import api_key_create
from forecasting.customer_selectors import customer_run_latest
from forecasting.models import (
    CustomerForecastRun,
    CustomerScore,
    ForecastResult,
    ForecastRun,
    ForecastValue,
    ModelArtifact,
)
from forecasting.selectors import forecast_run_latest
from inventory.models import (
    Category,
    Product,
    PurchaseOrder,
    ReorderLine,
    ReorderPlan,
    ReplenishmentSettings,
    StockLevel,
    Supplier,
    SupplierProduct,
)
from tests.factories import (
    ActivityEventFactory,
    CampaignFactory,
    CategoryFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
    StockLevelFactory,
    SupplierFactory,
    SupplierProductFactory,
)


def _category(merchant: Merchant) -> Category:
    return CategoryFactory(merchant=merchant, parent=CategoryFactory(merchant=merchant))


def _product(merchant: Merchant) -> Product:
    return ProductFactory(merchant=merchant, category=CategoryFactory(merchant=merchant))


def _purchase_order(merchant: Merchant) -> PurchaseOrder:
    purchase_order = PurchaseOrderFactory(supplier=SupplierFactory(merchant=merchant))
    PurchaseOrderLineFactory.create_batch(2, purchase_order=purchase_order)
    return purchase_order


def _order(merchant: Merchant) -> Order:
    order = OrderFactory(merchant=merchant)
    OrderLineFactory(order=order, line_number=1)
    OrderLineFactory(order=order, line_number=2)
    return order


def _campaign(merchant: Merchant) -> Campaign:
    campaign = CampaignFactory(merchant=merchant)
    campaign.products.set(ProductFactory.create_batch(2, merchant=merchant))
    campaign.categories.set([CategoryFactory(merchant=merchant)])
    return campaign


def _import_job(merchant: Merchant) -> ImportJob:
    return ImportJob.objects.create(
        merchant=merchant,
        kind=ImportJob.Kind.ORDERS,
        format="orders-csv",
        filename="orders.csv",
        status=ImportJob.Status.FAILED,
        error_count=1,
        errors=[{"row": 3, "column": "sku", "message": "unknown SKU"}],
    )


def _forecast_run(merchant: Merchant) -> ForecastRun:
    return ForecastRun.objects.create(
        merchant=merchant,
        idempotency_key=uuid.uuid4().hex,
        data_cutoff=dt.date(2024, 3, 31),
        status=ForecastRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
    )


def _forecast_value(merchant: Merchant) -> ForecastValue:
    """A day of a new SKU in the merchant's latest succeeded run (the run the forecasts endpoint shows)."""
    run = forecast_run_latest(merchant=merchant) or _forecast_run(merchant)
    result = ForecastResult.objects.create(
        merchant=merchant, run=run, product=ProductFactory(merchant=merchant), model="ses", demand_class="smooth"
    )
    return ForecastValue.objects.create(
        merchant=merchant, result=result, date=dt.date(2024, 4, 1), mean=3.0, p10=1.0, p50=3.0, p90=5.0
    )


def _reorder_plan(merchant: Merchant) -> ReorderPlan:
    plan = ReorderPlan.objects.create(
        merchant=merchant, forecast_run_id=uuid.uuid4().int % 10**9, plan_date=dt.date(2024, 4, 1)
    )
    _reorder_line(merchant, plan=plan)
    return plan


def _reorder_line(merchant: Merchant, plan: ReorderPlan | None = None) -> ReorderLine:
    plan = plan or ReorderPlan.objects.filter(merchant=merchant).first() or _reorder_plan(merchant)
    numbers = dict.fromkeys(
        (
            "on_hand",
            "on_order",
            "committed",
            "inventory_position",
            "mean_daily_demand",
            "lead_time_days_mean",
            "service_level",
            "lead_time_demand_p50",
            "lead_time_demand_p90",
            "safety_stock",
            "reorder_point",
            "order_up_to",
            "suggested_quantity",
        ),
        1.0,
    )
    return ReorderLine.objects.create(
        merchant=merchant,
        plan=plan,
        product=ProductFactory(merchant=merchant, category=CategoryFactory(merchant=merchant)),
        supplier=SupplierFactory(merchant=merchant),
        urgency=ReorderLine.Urgency.NOW,
        lead_time_days_p90=9,
        lead_time_source="supplier terms",
        review_days=7,
        rounded_quantity=12,
        final_quantity=12,
        rounding_reason="pack_size",
        unit_cost=2,
        price=5,
        cash_needed=24,
        revenue_at_risk=10,
        priority=plan.lines.count() + 1,
        explanation="Order 12 units.",
        **numbers,
    )


def _campaign_recipient(merchant: Merchant) -> CampaignRecipient:
    return CampaignRecipient.objects.create(
        merchant=merchant,
        campaign=CampaignFactory(merchant=merchant),
        customer=CustomerFactory(merchant=merchant),
        group=CampaignRecipient.Group.TREATMENT,
        sent_on=dt.date(2024, 3, 1),
    )


def customer_score_row(merchant: Merchant) -> CustomerScore:
    """A new customer's score in the merchant's latest succeeded run (the run the list shows by default)."""
    run = customer_run_latest(merchant=merchant) or CustomerForecastRun.objects.create(
        merchant=merchant,
        idempotency_key=uuid.uuid4().hex,
        data_cutoff=dt.date(2024, 3, 31),
        status=CustomerForecastRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
    )
    return CustomerScore.objects.create(
        merchant=merchant,
        run=run,
        customer=CustomerFactory(merchant=merchant, name=f"Customer {uuid.uuid4().hex[:6]}"),
        p_alive=0.8,
        p_purchase_30d=0.4,
        expected_orders_90d=1.2,
        churn_risk=0.35,
        clv_12m=120.0,
        segment=CustomerScore.Segment.LOYAL,
        rfm="343",
        model="bg_nbd",
        orders=4,
        days_since_last_order=21.0,
        total_spend=160.0,
    )


def model_artifact(merchant: Merchant, version: int, *, name: str = "lstm", **fields) -> ModelArtifact:
    """A registered model version (its file is not needed by the API, which never exposes the path)."""
    return ModelArtifact.objects.create(
        merchant=merchant,
        name=name,
        version=version,
        storage_path=f"{merchant.slug}/{name}/v{version}.pt",
        sha256=f"{version:064x}",
        size_bytes=4096,
        data_cutoff=dt.date(2024, 3, 31),
        train_data_end=dt.date(2024, 3, 3),
        series_count=120,
        n_parameters=21_000,
        device="cuda",
        training_seconds=42.5,
        config={"hidden_size": 40},
        metrics={"validation_loss": 1.25, "training": {"epochs": 12}},
        **fields,
    )


def _model_artifact(merchant: Merchant) -> ModelArtifact:
    latest = ModelArtifact.objects.filter(merchant=merchant, name="lstm").aggregate(latest=Max("version"))["latest"]
    return model_artifact(merchant, (latest or 0) + 1)


BUILDERS: dict[type[models.Model], Callable[[Merchant], models.Model]] = {
    Merchant: lambda merchant: merchant,
    ApiKey: lambda merchant: api_key_create(merchant=merchant, name="integration")[0],
    ImportJob: _import_job,
    Category: _category,
    Product: _product,
    Supplier: lambda merchant: SupplierFactory(merchant=merchant),
    SupplierProduct: lambda merchant: SupplierProductFactory(supplier=SupplierFactory(merchant=merchant)),
    StockLevel: lambda merchant: StockLevelFactory(product=ProductFactory(merchant=merchant)),
    PurchaseOrder: _purchase_order,
    Customer: lambda merchant: CustomerFactory(merchant=merchant),
    Order: _order,
    ActivityEvent: lambda merchant: ActivityEventFactory(merchant=merchant, product=ProductFactory(merchant=merchant)),
    Campaign: _campaign,
    CampaignRecipient: _campaign_recipient,
    ForecastRun: _forecast_run,
    ForecastValue: _forecast_value,
    ReplenishmentSettings: lambda merchant: ReplenishmentSettings.objects.create(
        merchant=merchant, product=ProductFactory(merchant=merchant), service_level=0.9
    ),
    ReorderPlan: _reorder_plan,
    ReorderLine: _reorder_line,
    CustomerScore: customer_score_row,
    ModelArtifact: _model_artifact,
}


def make_row(model: type[models.Model], merchant: Merchant) -> models.Model:
    if model not in BUILDERS:
        raise AssertionError(f"tests/api/rows.py has no builder for {model.__name__}: add one to cover its endpoint")
    return BUILDERS[model](merchant)


def rows_of(model: type[models.Model], merchant: Merchant) -> models.QuerySet:
    if model is Merchant:
        return Merchant.objects.filter(pk=merchant.pk)
    return model.objects.filter(merchant=merchant)
