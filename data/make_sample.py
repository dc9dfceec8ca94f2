#!/usr/bin/env python3
"""Generate the project's synthetic sample data set (IBM Telco Customer Churn schema).

Standard library only, so it runs anywhere:

    python data/make_sample.py [--rows 2000] [--seed 7] [--out data/sample_customers.csv]

Nothing here is copied from the real Telco file. Each customer is drawn from
hand-set distributions that roughly follow Telco's marginals (contract mix,
tenure by contract, services, payment methods, prices). Churn is then drawn
from a logistic model of plausible drivers, plus noise on the logit, so a
simple model reaches a realistic ROC AUC (about 0.84), not a perfect one.

Output is deterministic: the same --rows and --seed always give byte-identical
output. Only ``random.Random.random()`` is used, with our own transforms (no
``gauss``/``betavariate``/``choices``), so results don't depend on how those
helpers are implemented in a particular Python version.
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import random
import string
from pathlib import Path

COLUMNS = [
    "customerID", "gender", "SeniorCitizen", "Partner", "Dependents", "tenure",
    "PhoneService", "MultipleLines", "InternetService", "OnlineSecurity",
    "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV",
    "StreamingMovies", "Contract", "PaperlessBilling", "PaymentMethod",
    "MonthlyCharges", "TotalCharges", "Churn",
]

DEFAULT_ROWS = 2000
DEFAULT_SEED = 7
DEFAULT_OUT = Path(__file__).resolve().parent / "sample_customers.csv"

CONTRACTS = [("Month-to-month", 0.55), ("One year", 0.21), ("Two year", 0.24)]

# Per contract. Tenure is 1 + int(72 * u**p): a larger p piles customers up at short tenures.
TENURE_POWER = {"Month-to-month": 3.0, "One year": 0.75, "Two year": 0.30}
INTERNET_MIX = {
    "Month-to-month": [("DSL", 0.32), ("Fiber optic", 0.55), ("No", 0.13)],
    "One year": [("DSL", 0.39), ("Fiber optic", 0.37), ("No", 0.24)],
    "Two year": [("DSL", 0.37), ("Fiber optic", 0.25), ("No", 0.38)],
}
PAYMENT_MIX = {
    "Month-to-month": [("Electronic check", 0.48), ("Mailed check", 0.23),
                       ("Bank transfer (automatic)", 0.15), ("Credit card (automatic)", 0.14)],
    "One year": [("Electronic check", 0.24), ("Mailed check", 0.23),
                 ("Bank transfer (automatic)", 0.27), ("Credit card (automatic)", 0.26)],
    "Two year": [("Electronic check", 0.10), ("Mailed check", 0.23),
                 ("Bank transfer (automatic)", 0.33), ("Credit card (automatic)", 0.34)],
}
PAPERLESS_RATE = {"Month-to-month": 0.66, "One year": 0.54, "Two year": 0.46}
CONTRACT_ADDON_BOOST = {"Month-to-month": 0.0, "One year": 0.12, "Two year": 0.22}

# Churn model: logit = INTERCEPT + sum(effects) + N(0, LOGIT_NOISE_SD)
CHURN_INTERCEPT = -3.15
CHURN_EFFECTS = {
    "month_to_month": 1.05,
    "two_year": -1.20,
    "fiber_optic": 0.60,
    "no_internet": -0.50,
    "electronic_check": 0.45,
    "no_tech_support": 0.33,
    "no_online_security": 0.33,
    "senior": 0.28,
    "paperless": 0.28,
    "partner_or_dependents": -0.11,
    "log_tenure": -0.60,   # per unit of ln(1 + tenure), centered at ln(1 + 30)
}
# Noise on the logit (on top of the Bernoulli draw): tuned so a logistic
# regression reaches a hold-out ROC AUC of about 0.84, not ~1.0.
LOGIT_NOISE_SD = 0.8


class _Draw:
    """Thin wrapper over random.Random using only .random() for portability."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def uniform(self) -> float:
        return self._rng.random()

    def yes(self, p: float) -> bool:
        return self._rng.random() < p

    def pick(self, weighted: list[tuple[str, float]]) -> str:
        total = sum(w for _, w in weighted)
        x = self._rng.random() * total
        acc = 0.0
        for value, w in weighted:
            acc += w
            if x < acc:
                return value
        return weighted[-1][0]

    def normal(self, sd: float = 1.0) -> float:
        # Box-Muller; 1 - u keeps the log argument in (0, 1].
        u1 = 1.0 - self._rng.random()
        u2 = self._rng.random()
        return sd * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def letters(self, n: int) -> str:
        return "".join(string.ascii_uppercase[int(self._rng.random() * 26)] for _ in range(n))

    def digits(self, n: int) -> str:
        return "".join(string.digits[int(self._rng.random() * 10)] for _ in range(n))


def _yn(flag: bool) -> str:
    return "Yes" if flag else "No"


def _customer(d: _Draw, used_ids: set[str]) -> dict[str, str]:
    while True:
        cid = f"{d.digits(4)}-{d.letters(5)}"
        if cid not in used_ids:
            used_ids.add(cid)
            break

    gender = "Male" if d.yes(0.505) else "Female"
    senior = d.yes(0.16)
    partner = d.yes(0.48)
    dependents = d.yes(0.45 if partner else 0.12)

    contract = d.pick(CONTRACTS)
    if d.yes(0.006):
        tenure = 0  # signed up, not billed yet
    else:
        tenure = min(72, 1 + int(72 * d.uniform() ** TENURE_POWER[contract]))

    phone = d.yes(0.90)
    multiple = phone and d.yes(0.30 + 0.35 * tenure / 72)
    internet = d.pick(INTERNET_MIX[contract])
    has_net = internet != "No"

    boost = CONTRACT_ADDON_BOOST[contract] + 0.10 * tenure / 72
    stream_p = 0.50 if internet == "Fiber optic" else 0.33
    addons = {
        "OnlineSecurity": has_net and d.yes(0.22 + boost + (0.10 if internet == "DSL" else 0.0)),
        "OnlineBackup": has_net and d.yes(0.33 + boost),
        "DeviceProtection": has_net and d.yes(0.32 + boost),
        "TechSupport": has_net and d.yes(0.22 + boost + (0.10 if internet == "DSL" else 0.0)),
        "StreamingTV": has_net and d.yes(stream_p + boost / 2),
        "StreamingMovies": has_net and d.yes(stream_p + boost / 2),
    }
    if not phone and not has_net:  # every customer has at least one service
        phone = True

    paperless = d.yes(min(0.95, PAPERLESS_RATE[contract] + (0.12 if senior else 0.0)))
    payment = d.pick(PAYMENT_MIX[contract])

    # Prices follow the services taken.
    monthly = 0.0
    if phone:
        monthly += 20.0 + (5.0 if multiple else 0.0)
    if internet == "DSL":
        monthly += 25.0
    elif internet == "Fiber optic":
        monthly += 50.0
    for name in ("OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport"):
        monthly += 5.0 if addons[name] else 0.0
    for name in ("StreamingTV", "StreamingMovies"):
        monthly += 10.0 if addons[name] else 0.0
    monthly = max(18.25, monthly + d.normal(1.5))
    monthly = round(monthly, 2)

    if tenure == 0:
        total = " "
    elif tenure == 1:
        total = f"{monthly:.2f}"
    else:
        # Past prices differed a little from today's; keep it positive.
        factor = max(0.85, 1.0 + d.normal(0.04))
        total = f"{tenure * monthly * factor:.2f}"

    e = CHURN_EFFECTS
    logit = CHURN_INTERCEPT
    logit += e["month_to_month"] if contract == "Month-to-month" else 0.0
    logit += e["two_year"] if contract == "Two year" else 0.0
    logit += e["fiber_optic"] if internet == "Fiber optic" else 0.0
    logit += e["no_internet"] if not has_net else 0.0
    logit += e["electronic_check"] if payment == "Electronic check" else 0.0
    logit += e["no_tech_support"] if has_net and not addons["TechSupport"] else 0.0
    logit += e["no_online_security"] if has_net and not addons["OnlineSecurity"] else 0.0
    logit += e["senior"] if senior else 0.0
    logit += e["paperless"] if paperless else 0.0
    logit += e["partner_or_dependents"] if (partner or dependents) else 0.0
    logit += e["log_tenure"] * (math.log1p(tenure) - math.log1p(30))
    logit += d.normal(LOGIT_NOISE_SD)
    churn = d.uniform() < 1.0 / (1.0 + math.exp(-logit))

    def svc(name: str) -> str:
        return _yn(addons[name]) if has_net else "No internet service"

    return {
        "customerID": cid,
        "gender": gender,
        "SeniorCitizen": "1" if senior else "0",
        "Partner": _yn(partner),
        "Dependents": _yn(dependents),
        "tenure": str(tenure),
        "PhoneService": _yn(phone),
        "MultipleLines": _yn(multiple) if phone else "No phone service",
        "InternetService": internet,
        "OnlineSecurity": svc("OnlineSecurity"),
        "OnlineBackup": svc("OnlineBackup"),
        "DeviceProtection": svc("DeviceProtection"),
        "TechSupport": svc("TechSupport"),
        "StreamingTV": svc("StreamingTV"),
        "StreamingMovies": svc("StreamingMovies"),
        "Contract": contract,
        "PaperlessBilling": _yn(paperless),
        "PaymentMethod": payment,
        "MonthlyCharges": f"{monthly:.2f}",
        "TotalCharges": total,
        "Churn": _yn(churn),
    }


def generate_rows(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> list[dict[str, str]]:
    """Return ``rows`` synthetic customers as dicts of strings, in COLUMNS order."""
    if rows < 0:
        raise ValueError("rows must be >= 0")
    d = _Draw(seed)
    used: set[str] = set()
    return [_customer(d, used) for _ in range(rows)]


def to_csv_text(records: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buf.getvalue()


def make_sample(out: Path | str = DEFAULT_OUT, rows: int = DEFAULT_ROWS,
                seed: int = DEFAULT_SEED) -> Path:
    """Generate the sample and write it to ``out`` (UTF-8, LF line endings)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(to_csv_text(generate_rows(rows, seed)).encode("utf-8"))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    path = make_sample(args.out, args.rows, args.seed)
    print(f"wrote {args.rows} rows to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
