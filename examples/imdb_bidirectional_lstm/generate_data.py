"""Generates the imdb_bidirectional_lstm example's data: small synthetic "movie reviews".

The Keras example reads the IMDB reviews as sequences of word indices (the 20,000 most
frequent words) padded to 200 with `keras.utils.pad_sequences`. Here each review is a
sequence of word indices of random length, drawn from a Zipf-like vocabulary of 20,000
words; positive reviews use more words from a small "positive" set, negative reviews more
from a "negative" set. Sequences are left-padded with 0 to length 200, as `pad_sequences`
does, and stored as uint16; the label is 1 for a positive review, 0 for a negative one.
Fixed seed: the files are reproducible.

Run: python examples/imdb_bidirectional_lstm/generate_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MAX_FEATURES = 20000  # vocabulary size, as in the Keras example
MAXLEN = 200  # padded length, as in the Keras example
POSITIVE = np.arange(20, 70)  # word indices that lean positive ("great", "loved", ...)
NEGATIVE = np.arange(70, 120)  # word indices that lean negative ("boring", "worst", ...)


def review(label: int, rng: np.random.Generator) -> np.ndarray:
    length = int(rng.integers(40, MAXLEN + 1))
    # Common words: a Zipf-like draw over indices 2..19999 (0 pads, 1 starts a review).
    words = np.minimum(rng.zipf(1.3, size=length) + 1, MAX_FEATURES - 1)
    lean = POSITIVE if label == 1 else NEGATIVE
    other = NEGATIVE if label == 1 else POSITIVE
    marks = rng.random(length)
    words = np.where(marks < 0.08, rng.choice(lean, size=length), words)
    words = np.where(marks > 0.98, rng.choice(other, size=length), words)
    words[0] = 1
    padded = np.zeros(MAXLEN, dtype=np.uint16)
    padded[MAXLEN - length:] = words
    return padded


def make(n: int, rng: np.random.Generator):
    labels = np.arange(n) % 2
    rng.shuffle(labels)
    x = np.stack([review(int(c), rng) for c in labels])
    return x, labels.astype(np.uint8)


def main() -> None:
    rng = np.random.default_rng(20000)
    x, y = make(96, rng)
    np.savez_compressed(HERE / "imdb_train.npz", x=x, y=y)
    x, y = make(32, rng)
    np.savez_compressed(HERE / "imdb_test.npz", x=x, y=y)
    x, _ = make(8, rng)
    np.savez_compressed(HERE / "imdb_new.npz", x=x)


if __name__ == "__main__":
    main()
