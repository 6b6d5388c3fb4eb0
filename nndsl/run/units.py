"""Metrics in the target's raw units while the model trains on a scaled target.

With ``scale_target``, the model is fitted on ``(y - mean) / std``. Its loss is the loss of
that scaled target (what the optimizer minimizes, labelled so wherever it is shown), but every
other metric is computed in raw units: each compiled metric is wrapped so that it sees the
target and the predictions unscaled (``y * std + mean``), for the training and the validation
data alike. The epoch lines, the final table, the plots and the run record then agree with
``test``, which evaluates the saved model in raw units.
"""

from __future__ import annotations

import functools

SCALED_LOSS = "loss (scaled target)"  # how the loss is labelled when the target is scaled


def label(name: str, scaled: bool) -> str:
    """A history key as shown: the loss (and its validation twin) labelled when on the scaled target."""
    if scaled and name in ("loss", "val_loss"):
        return name.replace("loss", SCALED_LOSS)
    return name


@functools.cache
def _raw_units_type():
    import keras

    @keras.saving.register_keras_serializable(package="nndsl")
    class RawUnits(keras.metrics.Metric):
        """A metric computed on the unscaled target and predictions (``y * std + mean``)."""

        def __init__(self, metric, mean, std, name=None, dtype=None):
            inner = keras.metrics.deserialize(metric) if isinstance(metric, dict) else metric
            super().__init__(name=name or inner.name, dtype=dtype or inner.dtype)
            self.inner = inner
            self.mean = [float(v) for v in mean]
            self.std = [float(v) for v in std]

        def update_state(self, y_true, y_pred, sample_weight=None):
            ops = keras.ops
            mean = ops.convert_to_tensor(self.mean, dtype=y_pred.dtype)
            std = ops.convert_to_tensor(self.std, dtype=y_pred.dtype)
            y_true = ops.cast(y_true, y_pred.dtype) * std + mean
            return self.inner.update_state(y_true, y_pred * std + mean, sample_weight=sample_weight)

        def result(self):
            return self.inner.result()

        def reset_state(self):
            self.inner.reset_state()

        def get_config(self):
            return {"metric": keras.metrics.serialize(self.inner), "mean": self.mean, "std": self.std, "name": self.name}

    return RawUnits


def register() -> None:
    """Make the wrapper known to Keras, so that a resume checkpoint holding it loads."""
    _raw_units_type()


def in_raw_units(compile_args: dict, scaler) -> dict:
    """``model.compile`` arguments with each metric object wrapped to compute in raw units."""
    import numpy as np

    raw = _raw_units_type()
    std = np.maximum(np.sqrt(np.asarray(scaler.variance, "float64")), 1e-7)
    mean = np.asarray(scaler.mean, "float64")

    def wrap(metric):
        if hasattr(metric, "update_state") and not isinstance(metric, raw):
            return raw(metric, mean.tolist(), std.tolist())
        return metric  # a name Keras resolves for the loss ("accuracy"): left as it is

    args = dict(compile_args)
    for key in ("metrics", "weighted_metrics"):
        value = args.get(key)
        if isinstance(value, list):
            args[key] = [wrap(m) for m in value]
        elif isinstance(value, dict):
            args[key] = {k: [wrap(m) for m in v] if isinstance(v, list) else wrap(v) for k, v in value.items()}
    return args
