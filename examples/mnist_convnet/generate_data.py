"""Generates the mnist_convnet example's data: small synthetic, digit-like 28x28 images.

Each digit 0-9 is drawn from the segments of a seven-segment display, with a random
position, size and stroke width, and a few flipped pixels. Pixels are 0 or 1 (already in
the [0, 1] range the Keras example scales MNIST to), stored as uint8; labels are one-hot,
as the Keras example makes them with `keras.utils.to_categorical`. Fixed seed: the files
are reproducible.

Run: python examples/mnist_convnet/generate_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SIZE = 28
# Segments a-g of a seven-segment display: top, upper right, lower right, bottom, lower left,
# upper left, middle.
DIGITS = {
    0: "abcdef", 1: "bc", 2: "abged", 3: "abgcd", 4: "fgbc",
    5: "afgcd", 6: "afgedc", 7: "abc", 8: "abcdefg", 9: "abcdfg",
}


def draw(digit: int, rng: np.random.Generator) -> np.ndarray:
    img = np.zeros((SIZE, SIZE), dtype=np.uint8)
    h = int(rng.integers(14, 21))  # digit height
    w = int(rng.integers(8, 13))  # digit width
    t = int(rng.integers(2, 4))  # stroke width
    top = int(rng.integers(2, SIZE - h - 1))
    left = int(rng.integers(3, SIZE - w - 2))
    mid = top + h // 2
    bottom = top + h - 1
    right = left + w - 1
    segments = {
        "a": (top, top + t, left, right + 1),
        "d": (bottom - t + 1, bottom + 1, left, right + 1),
        "g": (mid - t // 2, mid - t // 2 + t, left, right + 1),
        "f": (top, mid + 1, left, left + t),
        "e": (mid, bottom + 1, left, left + t),
        "b": (top, mid + 1, right - t + 1, right + 1),
        "c": (mid, bottom + 1, right - t + 1, right + 1),
    }
    for s in DIGITS[digit]:
        r0, r1, c0, c1 = segments[s]
        img[r0:r1, c0:c1] = 1
    flips = rng.random((SIZE, SIZE)) < 0.01
    return np.where(flips, 1 - img, img).astype(np.uint8)


def make(n: int, rng: np.random.Generator):
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    x = np.stack([draw(int(d), rng) for d in labels])[..., None]  # (n, 28, 28, 1)
    y = np.eye(10, dtype=np.uint8)[labels]  # one-hot, (n, 10)
    return x, y


def main() -> None:
    rng = np.random.default_rng(2015)
    x, y = make(600, rng)
    np.savez_compressed(HERE / "mnist_train.npz", x=x, y=y)
    x, y = make(60, rng)
    np.savez_compressed(HERE / "mnist_test.npz", x=x, y=y)
    x, _ = make(10, rng)
    np.savez_compressed(HERE / "mnist_new.npz", x=x)


if __name__ == "__main__":
    main()
