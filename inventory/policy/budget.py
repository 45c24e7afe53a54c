"""Fitting order lines into a cash budget: highest revenue at risk per unit of cash first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class BudgetCandidate:
    key: object
    cash_needed: float
    revenue_at_risk: float

    @property
    def risk_per_cash(self) -> float:
        if self.cash_needed <= 0:
            return float("inf") if self.revenue_at_risk > 0 else 0.0
        return self.revenue_at_risk / self.cash_needed


@dataclass(frozen=True)
class BudgetAllocation:
    funded: tuple[BudgetCandidate, ...]  # in priority order
    deferred: tuple[BudgetCandidate, ...]  # in priority order
    cash_used: float
    budget: float | None

    @property
    def priority(self) -> dict[object, int]:
        """1-based priority of every candidate, funded ones first."""
        return {candidate.key: rank for rank, candidate in enumerate(self.funded + self.deferred, start=1)}


def prioritise_within_budget(candidates: Sequence[BudgetCandidate], *, budget: float | None) -> BudgetAllocation:
    """Rank by revenue at risk per unit of cash (ties: larger risk first, then input order) and fund greedily.

    A line that does not fit in what is left is deferred and the next, cheaper lines are still tried: leaving
    cash unspent while a smaller line could protect revenue helps nobody. No budget funds every line.
    """
    ranked = sorted(enumerate(candidates), key=lambda item: (-item[1].risk_per_cash, -item[1].revenue_at_risk, item[0]))
    funded: list[BudgetCandidate] = []
    deferred: list[BudgetCandidate] = []
    cash_used = 0.0
    for _index, candidate in ranked:
        if budget is None or cash_used + candidate.cash_needed <= budget + 1e-9:
            funded.append(candidate)
            cash_used += candidate.cash_needed
        else:
            deferred.append(candidate)
    return BudgetAllocation(funded=tuple(funded), deferred=tuple(deferred), cash_used=cash_used, budget=budget)
