"""Generates the customer_churn example's data: an ordinary, messy business table.

20,000 customers of a subscription service, one row each, as an export from a business
system would give them: an id, a sign-up date, the age (sometimes not recorded), the region
and the plan as text (sometimes empty), the months as a customer, the monthly charge, the
support calls of the last quarter (sometimes not recorded) and whether the customer left,
as ``yes`` or ``no``. Whether a customer leaves follows the plan, the tenure, the support
calls, the charge and the region, with noise; about one in five does.

`customers.csv` holds the labelled rows (the .nn file splits them into training and test
rows); `new_customers.csv` holds a few customers to score, exported with the columns in
another order, with empty cells, and with a plan ("enterprise") launched after the
training data was exported. Fixed seed: the files are reproducible.

Run: python examples/customer_churn/generate_data.py
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROWS = 20_000
COLUMNS = ["customer_id", "signup_date", "age", "region", "plan", "tenure_months", "monthly_charges",
           "support_calls", "churned"]
PLANS = {"basic": (25.0, 0.6), "standard": (55.0, 0.0), "premium": (95.0, -0.5)}  # charge, churn effect
REGIONS = {"north": 0.0, "south": 0.4, "east": -0.2, "west": 0.1}
MISSING = {"age": 0.04, "support_calls": 0.02, "plan": 0.03, "region": 0.02}  # share of empty cells
EXPORTED = datetime.date(2026, 6, 30)


def customer(rng: np.random.Generator, plan: str | None = None) -> dict:
    """One customer's cells, as text, and whether the customer left."""
    plan = plan or str(rng.choice(list(PLANS), p=[0.45, 0.35, 0.2]))
    region = str(rng.choice(list(REGIONS), p=[0.3, 0.25, 0.25, 0.2]))
    tenure = int(rng.integers(1, 73))
    charge, plan_effect = PLANS.get(plan, (140.0, -0.5))
    charges = max(charge + rng.normal(0, 6), 5.0)
    calls = int(rng.poisson(1.3))
    age = int(np.clip(rng.normal(44, 14), 18, 90))
    score = -0.9 + plan_effect + REGIONS[region] - 0.045 * tenure + 0.55 * calls + 0.012 * (charges - charge)
    left = score + rng.logistic(0, 0.7) > 0
    signup = EXPORTED - datetime.timedelta(days=30 * tenure + int(rng.integers(0, 30)))
    return {
        "signup_date": signup.isoformat(), "age": str(age), "region": region, "plan": plan,
        "tenure_months": str(tenure), "monthly_charges": f"{charges:.2f}", "support_calls": str(calls),
        "churned": "yes" if left else "no",
    }


def with_holes(row: dict, rng: np.random.Generator) -> dict:
    """The row as exported: a few cells left empty."""
    return {k: ("" if k in MISSING and rng.random() < MISSING[k] else v) for k, v in row.items()}


def main() -> None:
    rng = np.random.default_rng(2026)
    ids = rng.permutation(900_000)[:ROWS] + 100_000
    with open(HERE / "customers.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, COLUMNS)
        w.writeheader()
        for i in ids:
            w.writerow({"customer_id": f"C{i}", **with_holes(customer(rng), rng)})
    # Scored later, from another export: other column order, no label, a plan unseen in training.
    order = ["plan", "monthly_charges", "customer_id", "region", "age", "signup_date", "support_calls", "tenure_months"]
    rows = [customer(rng) for _ in range(5)] + [customer(rng, plan="enterprise")]
    rows[1]["age"] = ""
    rows[2]["plan"] = ""
    rows[3]["region"] = ""
    with open(HERE / "new_customers.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, order, extrasaction="ignore")
        w.writeheader()
        for k, row in enumerate(rows):
            w.writerow({"customer_id": f"N{k + 1:03d}", **row})


if __name__ == "__main__":
    main()
