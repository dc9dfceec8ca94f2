"""Small CSV data sets written in the tests, with a real churn signal and a schema unlike Telco."""

from __future__ import annotations

import math
import random


def subscriptions_csv(rows: int = 240, seed: int = 3) -> bytes:
    """A streaming-service data set: ids in `account`, target `left` (0/1), a blank fee now and then."""
    rng = random.Random(seed)
    lines = ["account,age,plan,monthly_fee,support_calls,autopay,left"]
    for i in range(rows):
        age = rng.randint(18, 80)
        plan = rng.choice(["basic", "standard", "premium"])
        fee = {"basic": 8.0, "standard": 13.0, "premium": 19.0}[plan] + rng.random() * 3
        calls = rng.randint(0, 9)
        autopay = rng.choice(["yes", "no"])
        logit = -1.2 + 0.45 * calls - 0.02 * (age - 40) + (0.8 if autopay == "no" else -0.4) + rng.gauss(0, 0.7)
        left = 1 if rng.random() < 1 / (1 + math.exp(-logit)) else 0
        fee_text = "" if i % 37 == 5 else f"{fee:.2f}"
        lines.append(f"A{i:05d},{age},{plan},{fee_text},{calls},{autopay},{left}")
    return ("\n".join(lines) + "\n").encode()


SUBSCRIPTION_FEATURES = {"age": 33, "plan": "premium", "monthly_fee": 20.5, "support_calls": 7, "autopay": "no"}
