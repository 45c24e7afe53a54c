"""A planned campaign's stock requirement for one SKU: the units to order so that the stock available by its start
covers P90 demand up to its last day, when they must be ordered, and the sales expected to be lost without them.

Demand is counted from the plan date (the first forecast day) to the campaign's last day, so the requirement
already includes the ordinary demand before and during the campaign; the stock available by the start is on hand
minus committed plus the open orders due by then.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from scipy.stats import norm

Z_90 = float(norm.ppf(0.9))


@dataclass(frozen=True)
class CampaignRequirement:
    needed_by: dt.date  # the campaign's start, or the plan date for a campaign already running
    required_units: int  # P90 demand to the campaign's end minus the stock available by needed_by, rounded up
    order_by: dt.date  # needed_by minus the P90 lead time, not before the plan date
    late: bool  # even ordered on the plan date, a P90 lead time lands after needed_by
    expected_shortfall: float  # mean units short without an order (normal law through the mean and P90)


def campaign_requirement(
    *,
    today: dt.date,
    starts_on: dt.date,
    demand_mean: float,
    demand_p90: float,
    available: float,
    lead_time_days_p90: int,
) -> CampaignRequirement:
    needed_by = max(starts_on, today)
    latest_order = needed_by - dt.timedelta(days=lead_time_days_p90)
    return CampaignRequirement(
        needed_by=needed_by,
        required_units=max(0, math.ceil(demand_p90 - available - 1e-9)),
        order_by=max(today, latest_order),
        late=latest_order < today,
        expected_shortfall=expected_shortfall(mean=demand_mean, p90=demand_p90, available=available),
    )


def expected_shortfall(*, mean: float, p90: float, available: float) -> float:
    """E[(D - available)+] for demand D normal with this mean and 90th percentile (the normal loss function).

    Two numbers are all a campaign forecast line keeps of the demand law; a P90 at or below the mean leaves no
    spread, and the shortfall is then the mean's.
    """
    sigma = (p90 - mean) / Z_90
    if sigma <= 0:
        return max(0.0, mean - available)
    z = (available - mean) / sigma
    return float(sigma * (norm.pdf(z) - z * norm.sf(z)))
