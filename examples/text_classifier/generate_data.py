"""Generates the text_classifier example's data: small synthetic reviews as token sequences.

The TensorFlow tutorial turns IMDB review text into integer sequences with a
`TextVectorization(max_tokens=10000, output_sequence_length=250)` layer: index 0 pads, 1 is
an unknown word, and 2..9999 are the vocabulary by frequency. Here the sequences are made up
directly in that form: words drawn from a Zipf-like vocabulary, with positive reviews using
more words from a small "positive" set and negative reviews from a "negative" set, padded with
0 at the end to length 250 as TextVectorization does. Stored as uint16; the label is 1 for a
positive review, 0 for a negative one. Fixed seed: the files are reproducible.

Run: python examples/text_classifier/generate_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MAX_FEATURES = 10000
SEQUENCE_LENGTH = 250
POSITIVE = np.arange(30, 80)  # word indices that lean positive
NEGATIVE = np.arange(80, 130)  # word indices that lean negative


def review(label: int, rng: np.random.Generator) -> np.ndarray:
    length = int(rng.integers(60, SEQUENCE_LENGTH + 1))
    words = np.minimum(rng.zipf(1.3, size=length) + 1, MAX_FEATURES - 1)
    words = np.where(rng.random(length) < 0.02, 1, words)  # a few unknown words
    lean = POSITIVE if label == 1 else NEGATIVE
    other = NEGATIVE if label == 1 else POSITIVE
    marks = rng.random(length)
    words = np.where(marks < 0.06, rng.choice(lean, size=length), words)
    words = np.where(marks > 0.985, rng.choice(other, size=length), words)
    padded = np.zeros(SEQUENCE_LENGTH, dtype=np.uint16)
    padded[:length] = words
    return padded


def make(n: int, rng: np.random.Generator):
    labels = np.arange(n) % 2
    rng.shuffle(labels)
    x = np.stack([review(int(c), rng) for c in labels])
    return x, labels.astype(np.uint8)


def main() -> None:
    rng = np.random.default_rng(250)
    x, y = make(200, rng)
    np.savez_compressed(HERE / "reviews_train.npz", x=x, y=y)
    x, y = make(64, rng)
    np.savez_compressed(HERE / "reviews_test.npz", x=x, y=y)
    x, _ = make(8, rng)
    np.savez_compressed(HERE / "reviews_new.npz", x=x)


if __name__ == "__main__":
    main()
