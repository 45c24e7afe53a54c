from __future__ import annotations

import subprocess
import sys

from tests.engine.test_isolation import FORBIDDEN, ROOT, imported_roots

POLICY = ROOT / "inventory" / "policy"


def policy_modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in POLICY.rglob("*.py")
    )


def test_it_finds_no_framework_import_in_the_policy_package():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN)
        for path in POLICY.rglob("*.py")
        if imported_roots(path) & FORBIDDEN
    }

    assert offenders == {}
    assert {"inventory.policy.decision", "inventory.policy.simulation"} <= set(policy_modules())


def test_it_runs_a_policy_decision_without_loading_a_framework():
    script = (
        "import datetime, sys\n"
        "import numpy as np\n"
        "from inventory.policy.decision import ItemTerms, PolicySettings, StockPosition, decide_order\n"
        "from inventory.policy.leadtime import LeadTimeLaw\n"
        "import inventory.policy.simulation\n"
        "decision = decide_order(today=datetime.date(2024, 1, 1), position=StockPosition(on_hand=0),\n"
        "    paths=np.full((10, 20), 2.0), terms=ItemTerms(lead_time=LeadTimeLaw(mean_days=3), unit_cost=1, price=2),\n"
        "    settings=PolicySettings(review_days=2))\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r})\n"
        "print(decision.quantity, loaded)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    )

    assert result.stdout.strip() == "10 []"
