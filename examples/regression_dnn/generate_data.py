"""Generates the regression_dnn example's data: small synthetic cars in the shape of Auto MPG.

The TensorFlow tutorial predicts a car's fuel efficiency (MPG) from the Auto MPG data set,
after one-hot encoding its Origin column; that leaves nine numeric features: Cylinders,
Displacement, Horsepower, Weight, Acceleration, Model Year, Europe, Japan and USA. Here the
cars are made up: engine size follows the cylinders, power and weight follow the engine size,
and fuel use grows with weight and power and falls with the model year, plus noise. Fixed
seed: the files are reproducible.

Run: python examples/regression_dnn/generate_data.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FEATURES = ["Cylinders", "Displacement", "Horsepower", "Weight", "Acceleration", "Model Year", "Europe", "Japan", "USA"]
TARGET = "MPG"


def car(rng: np.random.Generator) -> dict:
    cylinders = int(rng.choice([3, 4, 4, 4, 5, 6, 6, 8, 8]))
    displacement = round(float(cylinders * rng.uniform(22, 50)), 1)
    horsepower = int(round(displacement * rng.uniform(0.35, 0.6) + 20))
    weight = int(round(1300 + displacement * rng.uniform(6.5, 9.5) + rng.normal(0, 150)))
    acceleration = round(float(np.clip(22 - horsepower / 18 + weight / 1500 + rng.normal(0, 1.0), 8, 25)), 1)
    year = int(rng.integers(70, 83))
    if cylinders == 8:
        origin = "USA"
    else:
        origin = str(rng.choice(["Europe", "Japan", "USA"], p=[0.25, 0.3, 0.45]))
    gallons_per_100_miles = 0.6 + 0.0011 * weight + 0.012 * horsepower - 0.07 * (year - 70)
    gallons_per_100_miles -= 0.25 if origin == "Japan" else 0.0
    mpg = round(float(100 / max(gallons_per_100_miles, 2.0) * rng.lognormal(0, 0.05)), 1)
    return {
        "Cylinders": cylinders, "Displacement": displacement, "Horsepower": horsepower, "Weight": weight,
        "Acceleration": acceleration, "Model Year": year,
        "Europe": int(origin == "Europe"), "Japan": int(origin == "Japan"), "USA": int(origin == "USA"),
        "MPG": mpg,
    }


def write(path: Path, rows: list[dict], with_target: bool) -> None:
    columns = ([TARGET] if with_target else []) + FEATURES
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow([r[c] for c in columns])


def main() -> None:
    rng = np.random.default_rng(1983)
    write(HERE / "auto_mpg_train.csv", [car(rng) for _ in range(314)], with_target=True)
    write(HERE / "auto_mpg_test.csv", [car(rng) for _ in range(78)], with_target=True)
    write(HERE / "new_cars.csv", [car(rng) for _ in range(5)], with_target=False)


if __name__ == "__main__":
    main()
