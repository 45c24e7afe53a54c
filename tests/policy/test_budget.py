from __future__ import annotations

from inventory.policy.budget import BudgetCandidate, prioritise_within_budget

CANDIDATES = [
    BudgetCandidate(key="A", cash_needed=100, revenue_at_risk=50),  # 0.5 per unit of cash
    BudgetCandidate(key="B", cash_needed=50, revenue_at_risk=100),  # 2.0
    BudgetCandidate(key="C", cash_needed=200, revenue_at_risk=300),  # 1.5
    BudgetCandidate(key="D", cash_needed=30, revenue_at_risk=15),  # 0.5, less at risk than A
]


def test_it_funds_by_revenue_at_risk_per_unit_of_cash_until_the_budget_is_spent():
    allocation = prioritise_within_budget(CANDIDATES, budget=290)

    # B (50) + C (200) = 250; A (100) would overshoot and is deferred; D (30) still fits.
    assert [candidate.key for candidate in allocation.funded] == ["B", "C", "D"]
    assert [candidate.key for candidate in allocation.deferred] == ["A"]
    assert allocation.cash_used == 280
    assert allocation.priority == {"B": 1, "C": 2, "D": 3, "A": 4}


def test_it_breaks_equal_ratios_by_the_larger_revenue_at_risk():
    allocation = prioritise_within_budget(CANDIDATES, budget=None)

    assert [candidate.key for candidate in allocation.funded] == ["B", "C", "A", "D"]
    assert allocation.deferred == ()


def test_it_funds_nothing_when_the_budget_is_zero_except_free_lines():
    free = BudgetCandidate(key="free", cash_needed=0, revenue_at_risk=10)

    allocation = prioritise_within_budget([*CANDIDATES, free], budget=0)

    assert [candidate.key for candidate in allocation.funded] == ["free"]
    assert len(allocation.deferred) == 4
