from __future__ import annotations

import numpy as np
import pytest

from inventory.io import GENERATED_COST_SHARE, simulation_inputs
from inventory.models import Supplier
from inventory.policy.leadtime import LeadTimeLaw
from tests.policy.conftest import CUTOFF, FIRST_DAY


@pytest.mark.django_db
def test_it_builds_the_demand_matrix_and_terms_of_eligible_skus(merchant, shop):
    supplied, unsupplied = shop

    inputs = simulation_inputs(merchant=merchant, window_days=10, history_days=30, cutoff=CUTOFF)

    assert inputs.product_ids == [supplied.id, unsupplied.id]  # NEW only sold inside the window
    assert inputs.first_date == FIRST_DAY
    assert inputs.demand.shape == (2, 120)
    assert np.all(inputs.demand[0] == 3)
    assert inputs.demand[1, :4].tolist() == [1, 0, 1, 0]

    by_sku = {item.sku: item for item in inputs.items}
    terms = by_sku["SUPPLIED"].terms
    assert terms.lead_time == LeadTimeLaw.from_history([4, 6, 8, 10, 12])
    assert (terms.minimum_order, terms.pack_size, terms.ordering_cost) == (12, 6, 7.0)
    assert (terms.unit_cost, terms.price) == (2.5, 9.99)

    bare = by_sku["BARE"].terms
    assert bare.lead_time == LeadTimeLaw.generated_for("BARE")
    assert bare.price == 5.0  # the median selling price
    assert bare.unit_cost == pytest.approx(GENERATED_COST_SHARE * 5.0)
    assert inputs.generated == {"lead_time": 1, "ordering_cost": 1, "price": 1, "unit_cost": 1}


@pytest.mark.django_db
def test_it_falls_back_to_the_suppliers_terms_with_a_short_history(merchant, shop):
    Supplier.objects.filter(merchant=merchant).update(lead_time_mean_days=9, lead_time_std_days=1.5)
    supplier = Supplier.objects.get(merchant=merchant)
    supplier.purchase_orders.order_by("ordered_at").first().delete()

    inputs = simulation_inputs(merchant=merchant, window_days=10, history_days=30, cutoff=CUTOFF)

    assert inputs.items[0].terms.lead_time == LeadTimeLaw(mean_days=9, std_days=1.5)


@pytest.mark.django_db
def test_it_samples_skus_reproducibly(merchant, shop):
    first = simulation_inputs(merchant=merchant, window_days=10, history_days=30, cutoff=CUTOFF, sample_size=1, seed=3)
    again = simulation_inputs(merchant=merchant, window_days=10, history_days=30, cutoff=CUTOFF, sample_size=1, seed=3)

    assert len(first.product_ids) == 1
    assert first.product_ids == again.product_ids
