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


class ScalingError(ValueError):
    """A column whose statistics a float32 ``Normalization`` layer cannot hold: scaled, it would
    silently read 0 (an infinite variance) or NaN. The step reports it, naming the column."""

    def __init__(self, column: int, detail: str) -> None:
        super().__init__(detail)
        self.column = column
        self.detail = detail


def _scaler(kind: str, mean, var) -> Scaler:
    import numpy as np

    mean = np.asarray(mean, "float64")
    var = np.asarray(var, "float64")
    # The statistics are computed in float64; the layers keep them in float32. A value past
    # float32's range would become infinite there, and the column would read 0 after scaling.
    limit = float(np.finfo("float32").max)
    for name, values in (("minimum" if kind == "minmax" else "mean", mean),
                         ("squared range" if kind == "minmax" else "variance", var)):
        bad = np.flatnonzero(~np.isfinite(values) | (np.abs(values) > limit))
        if bad.size:
            i = int(bad[0])
            raise ScalingError(i, f"its {name} is {values.flat[i]:.6g}, beyond the float32 range of the scaling layer (about 3.4e38)")
    # A constant column would divide by zero: leave it unscaled.
    var = np.where(var > 0, var, 1.0)
    return Scaler(kind, mean.astype("float32"), var.astype("float32"))


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


def fit_moments(kind: str | None, m):
    """Standard or min-max scaling from a streamed table's moments (:class:`nndsl.data.stream.Moments`):
    the statistics :func:`fit_standard` and :func:`fit_minmax` compute over the rows; None for no
    scaling, False for a preprocessor that needs the rows themselves."""
    import numpy as np

    if kind is None or kind == "none":
        return None
    if kind == "standard":
        return _scaler("standard", m.mean, m.m2 / np.maximum(m.count, 1))
    if kind == "minmax":
        return _scaler("minmax", m.lo, (m.hi - m.lo) ** 2)
    return False
