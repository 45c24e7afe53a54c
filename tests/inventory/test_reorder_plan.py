"""Reorder plans built from stored forecasts: the numbers on each line, settings, budget, approval, orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from inventory import selectors, services
from inventory.models import PurchaseOrder, ReorderLine, ReorderPlan, ReplenishmentSettings
from tests.factories import (
    CategoryFactory,
    OrderLineFactory,
    ProductFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
    StockLevelFactory,
    SupplierFactory,
    SupplierProductFactory,
)
from tests.inventory.plans import CUTOFF, TODAY, constant, forecast_run_by_hand, spread

pytestmark = pytest.mark.django_db


def stocked(merchant, *, sku: str, on_hand: int, price: str = "10.00", supplier=None, lead_days: float = 7.0, **terms):
    product = ProductFactory(merchant=merchant, sku=sku, price=Decimal(price), unit_cost=Decimal("4.00"))
    StockLevelFactory(product=product, date=CUTOFF - dt.timedelta(days=3), on_hand=on_hand + 100)
    StockLevelFactory(product=product, date=CUTOFF, on_hand=on_hand)
    supplier = supplier or SupplierFactory(merchant=merchant, lead_time_mean_days=lead_days, lead_time_std_days=0)
    SupplierProductFactory(supplier=supplier, product=product, lead_time_days=lead_days, lead_time_std_days=0, **terms)
    return product


def build(merchant, products, **kwargs) -> ReorderPlan:
    run = forecast_run_by_hand(merchant=merchant, products=products, **kwargs)
    return services.reorder_plan_build(merchant=merchant, forecast_run_id=run.pk)


def line_of(plan: ReorderPlan, product) -> ReorderLine:
    return plan.lines.get(product=product)


def test_it_predicts_the_stock_out_on_the_day_cumulative_demand_passes_the_stock(merchant):
    product = stocked(merchant, sku="A", on_hand=45, lead_days=3)

    plan = build(merchant, {product: constant(10.0)})

    line = line_of(plan, product)
    # 10 a day against 45 on hand: 40 after four days, 50 after five, so the fifth day (today + 4) runs short.
    assert line.stockout_p50 == TODAY + dt.timedelta(days=4)
    assert line.stockout_p90 == TODAY + dt.timedelta(days=4)
    assert plan.plan_date == TODAY
    assert line.on_hand == 45
    assert line.inventory_position == 45


def test_it_orders_up_to_the_protection_interval_demand_when_below_the_reorder_point(merchant):
    product = stocked(merchant, sku="A", on_hand=45, lead_days=3)

    line = line_of(build(merchant, {product: constant(10.0)}), product)

    # Lead time 3 + review 7 days of certain demand: 100 units. Position 45 < 100: order 55.
    assert line.reorder_point == pytest.approx(100.0)
    assert line.safety_stock == pytest.approx(0.0, abs=1e-6)
    assert line.lead_time_demand_p50 == pytest.approx(100.0)
    assert line.final_quantity == 55
    assert line.rounding_reason == "none"
    assert line.urgency == ReorderLine.Urgency.NOW
    assert line.order_by == TODAY
    assert line.cash_needed == Decimal("220.00")
    assert line.days_of_cover_before == pytest.approx(4.5)
    assert line.days_of_cover_after == pytest.approx(10.0)
    assert "Order 55 units" in line.explanation


def test_it_reads_lead_time_demand_from_cumulative_quantiles_not_summed_daily_ones(merchant):
    product = stocked(merchant, sku="A", on_hand=0, lead_days=3)

    line = line_of(build(merchant, {product: spread(10.0, 0.8)}), product)

    # Ten days: the stored P90 of cumulative demand is 100 * (1 + 0.8 * 0.4) = 132. Sums of daily P90s would be
    # the same here only because the spread is a pure level factor; the plan must read 132 off the cumulative law.
    assert line.lead_time_demand_p90 == pytest.approx(132.0, rel=0.01)
    assert line.lead_time_demand_p50 == pytest.approx(100.0, rel=0.01)
    # 95% service: 100 * (1 + 0.8 * 0.45) = 136.
    assert line.reorder_point == pytest.approx(136.0, rel=0.01)


def test_it_counts_open_purchase_orders_and_their_arrival_in_the_position_and_stock_out_date(merchant):
    supplier = SupplierFactory(merchant=merchant, lead_time_mean_days=3, lead_time_std_days=0)
    product = stocked(merchant, sku="A", on_hand=45, supplier=supplier, lead_days=3)
    order = PurchaseOrderFactory(
        supplier=supplier, status=PurchaseOrder.Status.ORDERED, expected_at=TODAY + dt.timedelta(days=3)
    )
    PurchaseOrderLineFactory(purchase_order=order, product=product, quantity=60, received_quantity=10)

    line = line_of(build(merchant, {product: constant(10.0)}), product)

    assert line.on_order == 50
    assert line.inventory_position == 95
    # 45 + 50 arriving on day 3 covers 95 units: the tenth day (today + 9) runs short.
    assert line.stockout_p50 == TODAY + dt.timedelta(days=9)
    assert line.final_quantity == 5  # up to 100


def test_it_rounds_to_the_minimum_order_and_pack_size_with_the_reason(merchant):
    product = stocked(merchant, sku="A", on_hand=45, lead_days=3, min_order_qty=60, pack_size=25)

    line = line_of(build(merchant, {product: constant(10.0)}), product)

    assert line.suggested_quantity == pytest.approx(55.0)
    assert line.final_quantity == 75
    assert line.rounding_reason == "minimum_order_and_pack_size"


def test_it_applies_product_then_category_then_merchant_settings(merchant):
    category = CategoryFactory(merchant=merchant)
    plain, in_category, overridden = (stocked(merchant, sku=sku, on_hand=0, lead_days=3) for sku in "ABC")
    in_category.category = category
    in_category.save()
    ReplenishmentSettings.objects.create(merchant=merchant, review_days=14, service_level=0.6)
    ReplenishmentSettings.objects.create(merchant=merchant, category=category, service_level=0.9)
    ReplenishmentSettings.objects.create(merchant=merchant, product=overridden, review_days=7)

    plan = build(merchant, {product: spread(10.0, 0.8) for product in (plain, in_category, overridden)})

    lines = {line.product_id: line for line in plan.lines.all()}
    assert (lines[plain.pk].review_days, lines[plain.pk].service_level) == (14, 0.6)
    assert (lines[in_category.pk].review_days, lines[in_category.pk].service_level) == (14, 0.9)
    assert (lines[overridden.pk].review_days, lines[overridden.pk].service_level) == (7, 0.6)
    assert plan.settings["review_days"] == 14


def test_it_funds_lines_by_revenue_at_risk_per_unit_of_cash_within_the_budget(merchant):
    ReplenishmentSettings.objects.create(merchant=merchant, budget=Decimal("500"))
    dear = stocked(merchant, sku="DEAR", on_hand=0, lead_days=3, price="5.00")  # 100 units: 400 cash, 500 at risk
    valuable = stocked(merchant, sku="RICH", on_hand=0, lead_days=3, price="50.00")  # 400 cash, 5000 at risk
    small = stocked(merchant, sku="SMALL", on_hand=90, lead_days=3, price="4.50")  # 10 units: 40 cash, 45 at risk
    idle = stocked(merchant, sku="IDLE", on_hand=10_000, lead_days=3)

    plan = build(merchant, {product: constant(10.0) for product in (dear, valuable, small, idle)})

    lines = {line.product.sku: line for line in plan.lines.select_related("product")}
    # Ranked by risk per cash RICH (12.5), DEAR (1.25), SMALL (1.125); funded lines come first in the priority.
    assert [lines[sku].priority for sku in ("RICH", "SMALL", "DEAR", "IDLE")] == [1, 2, 3, 4]
    assert lines["RICH"].within_budget
    assert lines["SMALL"].within_budget
    assert not lines["DEAR"].within_budget  # 400 + 400 > 500: deferred, and the cheaper SMALL still funded
    assert plan.lines_to_order == 3
    assert plan.cash_within_budget == Decimal("440.00")
    assert plan.cash_needed == Decimal("840.00")


def test_it_builds_one_plan_per_forecast_run(merchant):
    product = stocked(merchant, sku="A", on_hand=45)
    run = forecast_run_by_hand(merchant=merchant, products={product: constant(1.0)})

    first = services.reorder_plan_build(merchant=merchant, forecast_run_id=run.pk)
    second = services.reorder_plan_build(merchant=merchant, forecast_run_id=run.pk)

    assert first.pk == second.pk
    assert ReorderLine.objects.filter(plan=first).count() == 1


def test_it_says_what_it_assumed_for_a_product_without_stock_or_supplier(merchant):
    product = ProductFactory(merchant=merchant, sku="BARE", price=None, unit_cost=None)

    plan = build(merchant, {product: constant(2.0)})

    line = line_of(plan, product)
    assert not line.stock_known
    assert line.supplier is None
    assert line.lead_time_days_mean == 14.0
    assert line.lead_time_source == "assumed"
    assert "no stock level recorded" in line.explanation
    assert "no supplier" in line.explanation
    assert plan.notes["no_stock_level"] == 1
    assert plan.notes["no_supplier"] == 1


def test_it_extends_demand_past_a_short_forecast_horizon_and_says_so(merchant):
    product = stocked(merchant, sku="A", on_hand=0, lead_days=20)

    line = line_of(build(merchant, {product: constant(3.0)}, horizon=14), product)

    assert line.lead_time_demand_p50 == pytest.approx(3.0 * 27)  # 20 + 7 days at the last two weeks' rate
    assert "forecast horizon" in line.explanation
    assert line.plan.notes["beyond_horizon"] == 1


def test_it_approves_funded_lines_and_turns_them_into_draft_orders_per_supplier(merchant):
    north, south = (SupplierFactory(merchant=merchant, code=code) for code in ("NORTH", "SOUTH"))
    a = stocked(merchant, sku="A", on_hand=0, supplier=north, lead_days=3)
    b = stocked(merchant, sku="B", on_hand=0, supplier=north, lead_days=3)
    c = stocked(merchant, sku="C", on_hand=0, supplier=south, lead_days=3)
    idle = stocked(merchant, sku="IDLE", on_hand=10_000, supplier=south, lead_days=3)
    plan = build(merchant, {product: constant(10.0) for product in (a, b, c, idle)})
    c_line = line_of(plan, c)

    services.reorder_plan_approve(merchant=merchant, plan=plan, quantities={c_line.pk: 120})
    orders = services.purchase_orders_create_from_plan(merchant=merchant, plan=plan)

    plan.refresh_from_db()
    assert plan.status == ReorderPlan.Status.ORDERED
    assert sorted(order.supplier.code for order in orders) == ["NORTH", "SOUTH"]
    by_supplier = {order.supplier.code: sorted(order.lines.values_list("product__sku", "quantity")) for order in orders}
    assert by_supplier == {"NORTH": [("A", 100), ("B", 100)], "SOUTH": [("C", 120)]}
    assert all(order.status == PurchaseOrder.Status.DRAFT for order in orders)
    assert line_of(plan, idle).status == ReorderLine.Status.PROPOSED
    assert services.purchase_orders_create_from_plan(merchant=merchant, plan=plan) == []
    assert PurchaseOrder.objects.filter(merchant=merchant).count() == 2


def test_it_counts_draft_orders_from_a_plan_as_on_order_in_the_next_plan(merchant):
    product = stocked(merchant, sku="A", on_hand=0, lead_days=3)
    plan = build(merchant, {product: constant(10.0)})
    services.reorder_plan_approve(merchant=merchant, plan=plan)
    services.purchase_orders_create_from_plan(merchant=merchant, plan=plan)

    next_plan = build(merchant, {product: constant(10.0)}, cutoff=CUTOFF)

    line = line_of(next_plan, product)
    assert line.on_order == 100
    assert line.final_quantity == 0


def test_it_exports_the_ordering_lines_of_a_supplier_as_csv_rows(merchant):
    north, south = (SupplierFactory(merchant=merchant, code=code, name=code.title()) for code in ("NORTH", "SOUTH"))
    a = stocked(merchant, sku="A", on_hand=0, supplier=north, lead_days=3, supplier_sku="N-A")
    c = stocked(merchant, sku="C", on_hand=0, supplier=south, lead_days=3)
    plan = build(merchant, {a: constant(10.0), c: constant(5.0)})

    rows = selectors.reorder_plan_export_rows(merchant=merchant, plan=plan, supplier_id=north.pk)

    assert rows == [
        {
            "supplier_code": "NORTH",
            "supplier_name": "North",
            "supplier_sku": "N-A",
            "sku": "A",
            "product_name": a.name,
            "quantity": 100,
            "unit_cost": "4.00",
            "line_cost": "400.00",
            "order_by": TODAY.isoformat(),
            "status": "proposed",
        }
    ]


def test_it_never_reads_another_merchants_stock_or_purchase_orders(merchant, other_merchant):
    product = stocked(merchant, sku="A", on_hand=45, lead_days=3)
    StockLevelFactory(product=ProductFactory(merchant=other_merchant, sku="A"), date=CUTOFF, on_hand=999)

    line = line_of(build(merchant, {product: constant(10.0)}), product)

    assert line.on_hand == 45


def test_it_writes_the_projection_the_product_chart_draws(merchant):
    product = stocked(merchant, sku="A", on_hand=45, lead_days=3)

    line = line_of(build(merchant, {product: constant(10.0)}, horizon=14), product)

    projection = line.projection
    assert projection["dates"][0] == TODAY.isoformat()
    assert len(projection["dates"]) == 14
    assert projection["demand_p50"][:3] == [10.0, 20.0, 30.0]
    assert projection["available"][0] == 45.0
    assert projection["available_with_order"][3] == 45.0 + 55  # the order lands after the 3-day lead time
    assert projection["reorder_point"] == pytest.approx(100.0)


def test_it_reserves_open_sale_orders_only_where_the_merchant_records_fulfilment(merchant):
    product = stocked(merchant, sku="A", on_hand=45, lead_days=3)
    placed_at = dt.datetime.combine(CUTOFF, dt.time(12), tzinfo=dt.UTC)
    OrderLineFactory(order__merchant=merchant, order__placed_at=placed_at, product=product, quantity=7)
    run = forecast_run_by_hand(merchant=merchant, products={product: constant(10.0)})

    without_fulfilment = services.reorder_plan_build(merchant=merchant, forecast_run_id=run.pk)
    OrderLineFactory(
        order__merchant=merchant, order__status="fulfilled", order__placed_at=placed_at, product=product, quantity=3
    )
    with_fulfilment = build(merchant, {product: constant(10.0)})

    assert line_of(without_fulfilment, product).committed == 0
    line = line_of(with_fulfilment, product)
    assert line.committed == 7
    assert line.inventory_position == 38


def test_it_shares_the_suppliers_ordering_cost_among_its_products(merchant):
    supplier = SupplierFactory(merchant=merchant, order_cost=Decimal("100.00"))
    alone = SupplierFactory(merchant=merchant, order_cost=Decimal("100.00"))
    shared = [stocked(merchant, sku=f"S{index}", on_hand=0, supplier=supplier, lead_days=3) for index in range(4)]
    single = stocked(merchant, sku="ALONE", on_hand=0, supplier=alone, lead_days=3)

    plan = build(merchant, {product: constant(2.0) for product in [*shared, single]})

    # EOQ = sqrt(2 x 730 units a year x S / (4.00 x 25%)): S = 100 for the lone product, 25 for each of four.
    assert line_of(plan, single).economic_order_quantity == pytest.approx((2 * 730 * 100 / 1.0) ** 0.5)
    assert line_of(plan, shared[0]).economic_order_quantity == pytest.approx((2 * 730 * 25 / 1.0) ** 0.5)
