"""Generates the cifar10_cnn example's data: small synthetic 32x32 colour images in 10 classes.

Each class is a pattern (stripes, a disc, a ring, a cross, ...) drawn in a random colour at a
random position over a smooth background of another random colour. Pixels are in [0, 1], the
range the Keras example scales CIFAR-10 to (`x_train /= 255`), stored as float16 on a
1/255 grid to keep the files small; labels are one-hot, as the example makes them with
`keras.utils.to_categorical`. Fixed seed: the files are reproducible.

Run: python examples/cifar10_cnn/generate_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SIZE = 32
CLASSES = 10


def mask(label: int, rng: np.random.Generator) -> np.ndarray:
    r, c = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    cy, cx = rng.uniform(10, 22, size=2)
    size = rng.uniform(6, 10)
    dy, dx = np.abs(r - cy), np.abs(c - cx)
    dist = np.hypot(r - cy, c - cx)
    shapes = [
        (r // 4) % 2 == 0,  # 0: horizontal stripes
        (c // 4) % 2 == 0,  # 1: vertical stripes
        ((r + c) // 4) % 2 == 0,  # 2: diagonal stripes
        ((r // 8) + (c // 8)) % 2 == 0,  # 3: checkerboard
        dist < size,  # 4: disc
        (dist < size) & (dist > size - 3),  # 5: ring
        (dy < size) & (dx < size),  # 6: square
        ((dy < 2) & (dx < size + 2)) | ((dx < 2) & (dy < size + 2)),  # 7: cross
        (r - cy > -size) & (r - cy < size) & (dx < (r - cy + size) / 2),  # 8: triangle
        ((r % 8) < 3) & ((c % 8) < 3),  # 9: dots
    ]
    return shapes[label].astype(np.float32)


def image(label: int, rng: np.random.Generator) -> np.ndarray:
    fg = rng.uniform(0.5, 1.0, size=3) * rng.permutation([1.0, rng.uniform(0, 1), rng.uniform(0, 0.4)])
    bg0, bg1 = rng.uniform(0.0, 0.5, size=(2, 3))
    ramp = np.linspace(0, 1, SIZE, dtype=np.float32)[:, None, None]
    background = bg0 + (bg1 - bg0) * ramp  # (32, 1, 3): a vertical gradient
    m = mask(label, rng)[..., None]
    img = m * fg + (1 - m) * background
    return np.round(np.clip(img, 0, 1) * 255) / 255


def make(n: int, rng: np.random.Generator):
    labels = np.arange(n) % CLASSES
    rng.shuffle(labels)
    x = np.stack([image(int(k), rng) for k in labels]).astype(np.float16)  # (n, 32, 32, 3)
    y = np.eye(CLASSES, dtype=np.uint8)[labels]
    return x, y


def main() -> None:
    rng = np.random.default_rng(10)
    x, y = make(300, rng)
    np.savez_compressed(HERE / "cifar_train.npz", x=x, y=y)
    x, y = make(60, rng)
    np.savez_compressed(HERE / "cifar_test.npz", x=x, y=y)
    x, _ = make(10, rng)
    np.savez_compressed(HERE / "cifar_new.npz", x=x)


if __name__ == "__main__":
    main()
