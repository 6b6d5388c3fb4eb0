"""Generates the sales example's data: video games described by nine columns, and their total earnings.

The columns are those of the course this example comes from. Earnings follow a plausible,
nonlinear rule (critic rating matters more and more as it rises, exclusives and sequels sell
better, price trades units for revenue) plus noise. Fixed seed: the files are reproducible.

Run: python examples/sales/generate_data.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

COLUMNS = [
    "critic_rating", "is_action", "is_exclusive_to_us", "is_portable", "is_role_playing",
    "is_sequel", "is_sports", "suitable_for_kids", "unit_price",
]
TARGET = "total_earnings"
HERE = Path(__file__).resolve().parent


def game(rng: random.Random) -> dict:
    row = {
        "critic_rating": round(rng.uniform(1.0, 5.0) * 2) / 2,
        "is_action": int(rng.random() < 0.45),
        "is_exclusive_to_us": int(rng.random() < 0.2),
        "is_portable": int(rng.random() < 0.3),
        "is_role_playing": int(rng.random() < 0.25),
        "is_sequel": int(rng.random() < 0.4),
        "is_sports": int(rng.random() < 0.2),
        "suitable_for_kids": int(rng.random() < 0.35),
        "unit_price": rng.choice([19.99, 29.99, 39.99, 49.99, 59.99, 69.99]),
    }
    return row


def earnings(row: dict, rng: random.Random) -> float:
    quality = (row["critic_rating"] / 5.0) ** 2.2
    units = 40_000 + 900_000 * quality
    units *= 1.35 if row["is_sequel"] else 1.0
    units *= 1.25 if row["is_exclusive_to_us"] else 1.0
    units *= 1.15 if row["is_action"] else 1.0
    units *= 1.10 if row["suitable_for_kids"] else 1.0
    units *= 0.85 if row["is_portable"] else 1.0
    units *= 1.0 + 0.2 * row["is_role_playing"] * quality
    units *= 1.0 + 0.3 * row["is_sports"] * row["is_sequel"]
    units *= (59.99 / row["unit_price"]) ** 0.6
    revenue = units * row["unit_price"] * rng.lognormvariate(0.0, 0.08)
    return round(revenue, 2)


def write(path: Path, rows: list[dict], with_target: bool) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS + ([TARGET] if with_target else []))
        for r in rows:
            w.writerow([r[c] for c in COLUMNS] + ([r[TARGET]] if with_target else []))


def main() -> None:
    rng = random.Random(2017)
    for name, n in (("sales_data_training.csv", 1000), ("sales_data_test.csv", 400)):
        rows = []
        for _ in range(n):
            r = game(rng)
            r[TARGET] = earnings(r, rng)
            rows.append(r)
        write(HERE / name, rows, with_target=True)
    proposed = [{"critic_rating": 3.5, "is_action": 1, "is_exclusive_to_us": 0, "is_portable": 1, "is_role_playing": 0,
                 "is_sequel": 1, "is_sports": 0, "suitable_for_kids": 0, "unit_price": 59.99}]
    write(HERE / "proposed_new_product.csv", proposed, with_target=False)


if __name__ == "__main__":
    main()
