"""Generates the timeseries_conv_lstm example's data: windows of a noisy seasonal series.

One series of 420 daily values: a sine with a period of 24 steps plus a slower one, a small
trend and noise. It is cut, as the course's `windowed_dataset` does, into windows of 24
consecutive values (x, shape (n, 24, 1)) each followed by the value to forecast (y, shape
(n, 1)). The first 300 steps give the training windows, the rest the test windows, and the
last few windows of the test period, without their targets, the data to predict. Fixed seed:
the files are reproducible.

Run: python examples/timeseries_conv_lstm/generate_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WINDOW = 24
LENGTH = 420
SPLIT = 300


def series(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(LENGTH, dtype=np.float64)
    values = (
        np.sin(2 * np.pi * t / 24)
        + 0.5 * np.sin(2 * np.pi * t / 96 + 1.0)
        + 0.002 * t
        + rng.normal(0, 0.1, size=LENGTH)
    )
    return values.astype(np.float32)


def windows(values: np.ndarray):
    x = np.stack([values[i:i + WINDOW] for i in range(len(values) - WINDOW)])[..., None]
    y = values[WINDOW:, None]
    return x, y


def main() -> None:
    rng = np.random.default_rng(24)
    values = series(rng)
    x, y = windows(values[:SPLIT])
    np.savez_compressed(HERE / "series_train.npz", x=x, y=y)
    x, y = windows(values[SPLIT - WINDOW:])
    np.savez_compressed(HERE / "series_test.npz", x=x, y=y)
    np.savez_compressed(HERE / "series_new.npz", x=x[-5:])


if __name__ == "__main__":
    main()
