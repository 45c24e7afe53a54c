"""Staff actions on reorder plans: approve within budget, create draft purchase orders, export CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from inventory import services
from inventory.models import PurchaseOrder, ReorderLine, ReorderPlan
from tests.factories import SupplierFactory
from tests.inventory.plans import constant, forecast_run_by_hand
from tests.inventory.test_reorder_plan import stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(merchant):
    supplier = SupplierFactory(merchant=merchant, code="NORTH")
    products = {
        stocked(merchant, sku="A", on_hand=0, supplier=supplier, lead_days=3): constant(10.0),
        stocked(merchant, sku="IDLE", on_hand=5000, supplier=supplier, lead_days=3): constant(1.0),
    }
    run = forecast_run_by_hand(merchant=merchant, products=products)
    return services.reorder_plan_build(merchant=merchant, forecast_run_id=run.pk)


def act(client, plan: ReorderPlan, action: str):
    return client.post(
        reverse("admin:inventory_reorderplan_changelist"),
        {"action": action, "_selected_action": [plan.pk]},
    )


def test_it_approves_and_orders_a_plan_from_the_changelist(admin_client_, plan):
    act(admin_client_, plan, "approve_within_budget")
    act(admin_client_, plan, "create_purchase_orders")

    plan.refresh_from_db()
    assert plan.status == ReorderPlan.Status.ORDERED
    order = PurchaseOrder.objects.get(merchant=plan.merchant)
    assert list(order.lines.values_list("product__sku", "quantity")) == [("A", 100)]
    assert plan.lines.get(product__sku="IDLE").status == ReorderLine.Status.PROPOSED


def test_it_exports_the_selected_plans_ordering_lines(admin_client_, plan):
    response = act(admin_client_, plan, "export_csv")

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["plan"], row["merchant"], row["sku"], row["quantity"]) for row in rows] == [
        (str(plan.pk), plan.merchant.slug, "A", "100")
    ]
