"""Preprocessing fitted on the training data and saved inside the model as standard Keras layers.

Feature scaling becomes a ``Normalization`` layer with fixed mean and variance right after the
input; target scaling is undone by a ``Normalization(invert=True)`` layer at the output of the
saved model. Min-max scaling is a Normalization whose mean is the minimum and whose variance is
the squared range. A model saved this way predicts in the target's raw units from raw rows,
with plain Keras and no nndsl.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Scaler:
    kind: str  # "standard" or "minmax"
    mean: Any  # per column, float32
    variance: Any

    def apply(self, a):
        import numpy as np

        return ((a - self.mean) / np.maximum(np.sqrt(self.variance), 1e-7)).astype("float32")

    def layer(self, invert: bool = False):
        import keras

        return keras.layers.Normalization(mean=self.mean.tolist(), variance=self.variance.tolist(), invert=invert)

    def record(self) -> dict:
        return {"kind": self.kind, "mean": [float(v) for v in self.mean], "variance": [float(v) for v in self.variance]}

    @staticmethod
    def from_record(rec: dict) -> Scaler:
        import numpy as np

        return Scaler(rec["kind"], np.asarray(rec["mean"], "float32"), np.asarray(rec["variance"], "float32"))


def fit(kind: str | None, a) -> Scaler | None:
    """Fit the registered preprocessor ``kind`` on array ``a`` (rows first); None for no scaling."""
    if kind is None or kind == "none":
        return None
    from ..plugins.registry import registry
    from ..plugins.spec import load_impl

    return load_impl(registry("preprocessors").get(kind).impl)(a)


_CHUNK = 65536  # rows per chunk: statistics of a large data set never need a float64 copy of it


def _rows(a):
    return a.reshape(-1, a.shape[-1])


def _scaler(kind: str, mean, var) -> Scaler:
    import numpy as np

    # A constant column would divide by zero: leave it unscaled.
    var = np.where(var > 0, var, 1.0)
    return Scaler(kind, np.asarray(mean, "float32"), np.asarray(var, "float32"))


def fit_standard(a) -> Scaler:
    """Mean and variance per column, accumulated in float64 chunk by chunk (Chan et al.'s merge)."""
    import numpy as np

    rows = _rows(a)
    count = 0
    mean = np.zeros(rows.shape[1])
    m2 = np.zeros(rows.shape[1])
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK].astype("float64")
        n = len(chunk)
        cmean = chunk.mean(axis=0)
        cm2 = ((chunk - cmean) ** 2).sum(axis=0)
        delta = cmean - mean
        total = count + n
        mean = mean + delta * n / total
        m2 = m2 + cm2 + delta**2 * count * n / total
        count = total
    return _scaler("standard", mean, m2 / max(count, 1))


def fit_minmax(a) -> Scaler:
    rows = _rows(a)
    lo = rows.min(axis=0).astype("float64")
    hi = rows.max(axis=0).astype("float64")
    return _scaler("minmax", lo, (hi - lo) ** 2)
