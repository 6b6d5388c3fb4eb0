"""Generates the tabular_classifier example's data: small synthetic flowers of three species.

Four measurements in centimetres, in the shape of the classic iris data: sepal length and
width, petal length and width, drawn around a different centre for each species (0, 1 or 2)
with correlated noise. `flowers.csv` holds 150 labelled flowers (the .nn file splits them
into training and test rows); `new_flowers.csv` holds a few unlabelled ones with an id.
Fixed seed: the files are reproducible.

Run: python examples/tabular_classifier/generate_data.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
CENTRES = np.array([
    [5.0, 3.4, 1.5, 0.25],  # species 0
    [5.9, 2.8, 4.3, 1.3],  # species 1
    [6.6, 3.0, 5.5, 2.0],  # species 2
])
SPREAD = np.array([0.35, 0.3, 0.3, 0.15])


def flowers(n: int, rng: np.random.Generator):
    species = np.arange(n) % 3
    rng.shuffle(species)
    size = rng.normal(0, 1, size=(n, 1))  # bigger flowers are bigger all over
    noise = rng.normal(0, 1, size=(n, 4)) * 0.8 + size * 0.6
    x = np.round(CENTRES[species] + noise * SPREAD, 1)
    return np.maximum(x, 0.1), species


def main() -> None:
    rng = np.random.default_rng(1936)
    x, y = flowers(150, rng)
    with open(HERE / "flowers.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(FEATURES + ["species"])
        for row, label in zip(x, y):
            w.writerow([f"{v:.1f}" for v in row] + [int(label)])
    x, _ = flowers(6, rng)
    with open(HERE / "new_flowers.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id"] + FEATURES)
        for i, row in enumerate(x):
            w.writerow([f"flower-{i + 1}"] + [f"{v:.1f}" for v in row])


if __name__ == "__main__":
    main()
