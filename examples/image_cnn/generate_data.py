"""Generates the image_cnn example's data: tiny PNG images of two shapes, one folder per class.

`images/train/<class>/` and `images/test/<class>/` hold 16x16 RGB images of a disc ("disc")
or a hollow square ("frame") in a random colour, size and position over a random dark
background, with a little noise; `images/new/` holds a few more, for predictions. The PNG
files are written by the small encoder below (NumPy and the standard library only). Fixed
seed: the files are reproducible.

Run: python examples/image_cnn/generate_data.py
"""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SIZE = 16
CLASSES = ("disc", "frame")


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write an (height, width, 3) uint8 array as an 8-bit RGB PNG."""
    height, width, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(height))  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def image(label: str, rng: np.random.Generator) -> np.ndarray:
    r, c = np.mgrid[0:SIZE, 0:SIZE]
    half = rng.uniform(3.5, 6.0)
    cy, cx = rng.uniform(half, SIZE - half, size=2)
    if label == "disc":
        shape = np.hypot(r - cy, c - cx) <= half
    else:
        inside = np.maximum(np.abs(r - cy), np.abs(c - cx))
        shape = (inside <= half) & (inside > half - 1.6)
    colour = rng.uniform(140, 255, size=3)
    background = rng.uniform(0, 70, size=3)
    img = np.where(shape[..., None], colour, background) + rng.normal(0, 8, size=(SIZE, SIZE, 3))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def main() -> None:
    rng = np.random.default_rng(16)
    root = HERE / "images"
    shutil.rmtree(root, ignore_errors=True)
    for part, per_class in (("train", 12), ("test", 4)):
        for label in CLASSES:
            folder = root / part / label
            folder.mkdir(parents=True)
            for i in range(per_class):
                write_png(folder / f"{label}_{i:02d}.png", image(label, rng))
    # Prediction images, in one folder (image_folder reads the files of each subfolder).
    folder = root / "new" / "unlabelled"
    folder.mkdir(parents=True)
    for i in range(4):
        write_png(folder / f"image_{i:02d}.png", image(CLASSES[i % 2], rng))


if __name__ == "__main__":
    main()
