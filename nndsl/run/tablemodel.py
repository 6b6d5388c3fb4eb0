"""The saved form of a model trained on a table: raw rows in, as a dict of named columns.

The ``.nn`` model is a ``Sequential`` that takes the encoded features (one number per numeric
column, one-hot slots per categorical column). Saved, it is wrapped in a functional model that
takes one input per feature column, by name, and encodes it with Keras's own layers:

- a categorical column: ``StringLookup`` (or ``IntegerLookup`` for whole-number categories) with
  the training data's vocabulary and ``output_mode="one_hot"``; an unseen category lands in the
  first, out-of-vocabulary slot (none with ``unknown="error"``: Keras refuses it), and the empty
  string is a missing cell (its own category, or mapped onto the category it is filled with);
- the numeric columns, joined: their missing cells (NaN) replaced by each column's fill fitted
  on the training data, with standard layers only (so that ``keras.models.load_model`` needs
  nothing but Keras): ``ReLU(threshold=t)`` keeps ``x`` where ``x > t`` and gives 0 elsewhere,
  NaN included, so ``relu_t(x) - relu_t(-x)`` is ``x`` with NaN as 0;
  ``Discretization(bin_boundaries=[inf])`` marks NaN (it falls past the last boundary), and
  frozen ``Dense`` layers turn the marks into the fills. Columns whose missing cells are refused
  (``missing="error"``) come after, as they are.

The columns are concatenated in the order the ``Sequential`` core was trained on, so the file
computes exactly what nndsl computes when it encodes the same rows itself. The order of the
dict's keys never matters.
"""

from __future__ import annotations

# Below every positive float32 (denormals included): the threshold that makes ReLU compare
# (a threshold of 0 takes the plain relu path, which keeps NaN).
_TINY = 1e-45


def wrap(core, schema, name: str):
    """``core`` behind one named input per feature column of ``schema``: the model as saved."""
    import keras

    inputs = {}
    parts = []
    filled = [f for f in schema.features if f.kind == "numeric" and f.fill is not None]
    kept = [f for f in schema.features if f.kind == "numeric" and f.fill is None]
    for group, encode in ((filled, _filled), (kept, None)):
        if not group:
            continue
        for f in group:
            inputs[f.name] = keras.Input(shape=(1,), name=f.name, dtype="float32")
        x = _joined([inputs[f.name] for f in group], name="numbers_filled" if encode else "numbers")
        parts.append(encode(x, [f.fill for f in group]) if encode else x)
    for f in schema.features:
        if f.kind == "categorical":
            inputs[f.name], encoded = _categorical(f)
            parts.append(encoded)
    return keras.Model(inputs=inputs, outputs=core(_joined(parts, name="features")), name=name)


def _joined(tensors, name: str):
    import keras

    return tensors[0] if len(tensors) == 1 else keras.layers.Concatenate(name=name)(tensors)


def core_of(model):
    """The ``Sequential`` core of a saved table model (the model itself when it is not one)."""
    import keras

    if isinstance(model, keras.Sequential) or not isinstance(model.input, dict):
        return model
    cores = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return cores[-1] if cores else model


def _safe(name: str) -> str:
    """A layer name made of a column's name (Keras layer names are restricted in some formats)."""
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name)


def _filled(x, fills):
    """The columns of ``x`` with NaN replaced by each column's fill: one group of layers for all."""
    import keras
    import numpy as np

    layers = keras.layers
    k = len(fills)
    positive = layers.ReLU(threshold=_TINY, name="positive_part")(x)
    negative = layers.ReLU(threshold=_TINY, name="negative_part")(layers.Rescaling(-1.0, name="negated")(x))
    value = layers.Subtract(name="present_values")([positive, negative])  # x, with NaN as 0
    marks = layers.Discretization(bin_boundaries=[float("inf")], output_mode="one_hot", name="missing_marks")(x)
    missing = layers.Dense(1, use_bias=False, trainable=False, name="missing",
                           kernel_initializer=keras.initializers.Constant([[0.0], [1.0]]))(marks)  # 1 where NaN
    missing = layers.Reshape((k,), name="missing_cells")(missing)
    fill = layers.Dense(k, use_bias=False, trainable=False, name="fills",
                        kernel_initializer=keras.initializers.Constant(np.diag(np.asarray(fills, dtype="float32"))))(missing)
    return layers.Add(name="filled")([value, fill])


def _categorical(f):
    """The input of a categorical column and its one-hot slots, in the order of ``f.encoded_names()``."""
    import keras
    import numpy as np

    from ..data.missing import OWN

    layers = keras.layers
    col = _safe(f.name)
    oov = 1 if f.unknown == "oov" else 0
    if f.integer:
        x = keras.Input(shape=(1,), name=f.name, dtype="int64")
        lookup = layers.IntegerLookup(vocabulary=np.asarray([int(float(c)) for c in f.categories], dtype="int64"),
                                      num_oov_indices=oov, output_mode="one_hot", name=f"{col}_lookup")
        return x, lookup(x)
    x = keras.Input(shape=(1,), name=f.name, dtype="string")
    vocabulary = list(f.categories)
    merge = f.fill is not None and f.fill != OWN and OWN not in vocabulary
    if merge:
        vocabulary.append(OWN)  # a slot of its own, folded onto the fill's slot below
    lookup = layers.StringLookup(vocabulary=vocabulary, num_oov_indices=oov, output_mode="one_hot", name=f"{col}_lookup")
    encoded = lookup(x)
    if merge:
        width = f.width
        fold = np.zeros((width + 1, width), dtype="float32")
        fold[np.arange(width), np.arange(width)] = 1.0
        fold[width, oov + f.categories.index(f.fill)] = 1.0
        encoded = layers.Dense(width, use_bias=False, trainable=False, name=f"{col}_fill",
                               kernel_initializer=keras.initializers.Constant(fold))(encoded)
    return x, encoded
