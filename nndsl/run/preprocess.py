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


def fit(kind: str, a) -> Scaler | None:
    """Statistics of array ``a`` (rows first) per last-axis column; None for kind "none"."""
    import numpy as np

    if kind == "none":
        return None
    flat = a.reshape(-1, a.shape[-1]).astype("float64")
    if kind == "standard":
        mean = flat.mean(axis=0)
        var = flat.var(axis=0)
    else:
        lo = flat.min(axis=0)
        hi = flat.max(axis=0)
        mean = lo
        var = (hi - lo) ** 2
    # A constant column would divide by zero: leave it unscaled.
    var = np.where(var > 0, var, 1.0)
    return Scaler(kind, mean.astype("float32"), var.astype("float32"))
