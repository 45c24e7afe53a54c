from __future__ import annotations

import pytest

from inventory.policy.rounding import RoundingReason, round_order_quantity


@pytest.mark.parametrize(
    ("suggested", "minimum_order", "pack_size", "quantity", "reason"),
    [
        (0, 10, 6, 0, RoundingReason.NO_ORDER),
        (-4, 1, 1, 0, RoundingReason.NO_ORDER),
        (7.2, 1, 1, 8, RoundingReason.NONE),
        (12, 10, 6, 12, RoundingReason.NONE),
        (7, 10, 1, 10, RoundingReason.MINIMUM_ORDER),
        (13, 1, 6, 18, RoundingReason.PACK_SIZE),
        (7, 10, 6, 12, RoundingReason.MINIMUM_ORDER_AND_PACK_SIZE),
        (10, 10, 4, 12, RoundingReason.PACK_SIZE),
    ],
)
def test_it_rounds_up_to_moq_and_packs_with_the_reason(suggested, minimum_order, pack_size, quantity, reason):
    rounded = round_order_quantity(suggested, minimum_order=minimum_order, pack_size=pack_size)

    assert (rounded.quantity, rounded.reason) == (quantity, reason)


def test_it_describes_the_rounding_in_words():
    rounded = round_order_quantity(7, minimum_order=10, pack_size=6)

    assert rounded.describe(minimum_order=10, pack_size=6) == (
        "rounded up from 7 to 12 for the supplier's minimum order of 10 and whole packs of 6"
    )
    assert round_order_quantity(0).describe(minimum_order=1, pack_size=1) == "no order needed"
