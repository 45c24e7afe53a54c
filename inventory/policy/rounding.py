"""Rounding a suggested quantity to the supplier's minimum order quantity and pack size, with the reason."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class RoundingReason(StrEnum):
    NONE = "none"
    NO_ORDER = "no_order"
    MINIMUM_ORDER = "minimum_order"
    PACK_SIZE = "pack_size"
    MINIMUM_ORDER_AND_PACK_SIZE = "minimum_order_and_pack_size"


@dataclass(frozen=True)
class RoundedQuantity:
    suggested: float
    quantity: int
    reason: RoundingReason

    def describe(self, *, minimum_order: int, pack_size: int) -> str:
        if self.reason is RoundingReason.NO_ORDER:
            return "no order needed"
        if self.reason is RoundingReason.NONE:
            return f"{self.quantity} units as suggested"
        parts = []
        if self.reason in (RoundingReason.MINIMUM_ORDER, RoundingReason.MINIMUM_ORDER_AND_PACK_SIZE):
            parts.append(f"the supplier's minimum order of {minimum_order}")
        if self.reason in (RoundingReason.PACK_SIZE, RoundingReason.MINIMUM_ORDER_AND_PACK_SIZE):
            parts.append(f"whole packs of {pack_size}")
        return f"rounded up from {self.suggested:.0f} to {self.quantity} for " + " and ".join(parts)


def round_order_quantity(suggested: float, *, minimum_order: int = 1, pack_size: int = 1) -> RoundedQuantity:
    """Round up to whole units, then to at least the MOQ, then to a whole number of packs.

    Rounding is always up: a planner rounds an order down only by choice, and the shortfall would break the
    service level the suggestion was computed for. The reason names every constraint that changed the number.
    """
    if pack_size < 1 or minimum_order < 0:
        raise ValueError("pack_size must be >= 1 and minimum_order >= 0")
    if suggested <= 0:
        return RoundedQuantity(suggested=float(suggested), quantity=0, reason=RoundingReason.NO_ORDER)
    units = math.ceil(suggested - 1e-9)
    after_minimum = max(units, minimum_order)
    after_packs = math.ceil(after_minimum / pack_size) * pack_size
    raised_by_minimum = after_minimum > units
    raised_by_pack = after_packs > after_minimum
    if raised_by_minimum and raised_by_pack:
        reason = RoundingReason.MINIMUM_ORDER_AND_PACK_SIZE
    elif raised_by_minimum:
        reason = RoundingReason.MINIMUM_ORDER
    elif raised_by_pack:
        reason = RoundingReason.PACK_SIZE
    else:
        reason = RoundingReason.NONE
    return RoundedQuantity(suggested=float(suggested), quantity=int(after_packs), reason=reason)
