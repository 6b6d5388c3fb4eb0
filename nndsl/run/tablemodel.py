"""The saved form of a model trained on a table: raw rows in, as a dict of named columns.

The ``.nn`` model is a ``Sequential`` that takes the encoded features (one number per numeric
column, one-hot slots per categorical column). Saved, it is wrapped in a functional model that
takes one input per feature column, by name, and encodes it with Keras's own layers:

- a categorical column: ``StringLookup`` (or ``IntegerLookup`` for whole-number categories) with
  the training data's vocabulary and ``output_mode="one_hot"``; an unseen category lands in the
  first, out-of-vocabulary slot (none with ``unknown="error"``: Keras refuses it), and the empty
  string is a missing cell (its own category, or mapped onto the category it is filled with);
- a numeric column: its missing cells (NaN) replaced by the fill fitted on the training data,
  built from standard layers only (so that ``keras.models.load_model`` needs nothing but Keras):
  ``ReLU(threshold=t)`` keeps ``x`` where ``x > t`` and gives 0 elsewhere, NaN included, so
  ``relu_t(x) - relu_t(-x)`` is ``x`` with NaN as 0; ``Discretization(bin_boundaries=[inf])``
  marks NaN (it falls past the last boundary), and a frozen ``Dense`` turns the mark into the fill.

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
    for f in schema.features:
        if f.kind == "numeric":
            x = keras.Input(shape=(1,), name=f.name, dtype="float32")
            inputs[f.name] = x
            parts.append(_filled(x, f) if f.fill is not None else x)
        else:
            x, encoded = _categorical(f)
            inputs[f.name] = x
            parts.append(encoded)
    joined = parts[0] if len(parts) == 1 else keras.layers.Concatenate(name="features")(parts)
    return keras.Model(inputs=inputs, outputs=core(joined), name=name)


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


def _filled(x, f):
    import keras

    layers = keras.layers
    col = _safe(f.name)
    positive = layers.ReLU(threshold=_TINY, name=f"{col}_positive")(x)
    negative = layers.ReLU(threshold=_TINY, name=f"{col}_negative")(layers.Rescaling(-1.0, name=f"{col}_negated")(x))
    value = layers.Subtract(name=f"{col}_present")([positive, negative])  # x, with NaN as 0
    missing = layers.Discretization(bin_boundaries=[float("inf")], output_mode="one_hot", name=f"{col}_missing")(x)
    fill = layers.Dense(1, use_bias=False, trainable=False, name=f"{col}_fill",
                        kernel_initializer=keras.initializers.Constant([[0.0], [float(f.fill)]]))(missing)
    return layers.Add(name=f"{col}_filled")([value, fill])


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
