"""Preprocessing layers fitted on the training data before the first epoch.

A ``TextVectorization``, ``StringLookup`` or ``IntegerLookup`` written without a vocabulary, a
``Normalization`` without mean and variance and a ``Discretization`` without bin boundaries are
adapted on the training features, wherever they stand in the model (nested ``Sequential``
groups included): the Keras idiom ``layer.adapt(train_features)``. A layer that is not first
is adapted on what the layers before it make of the features, in inference mode (so random
augmentation passes the data through unchanged).
"""

from __future__ import annotations

from typing import Any

ADAPT_BATCH = 1024  # rows per batch when the features pass through the layers before a layer

# The layers adapted, each with the argument whose absence makes it wait for its data.
ADAPTED_WITHOUT = {"Normalization": "mean", "Discretization": "bin_boundaries", "TextVectorization": "vocabulary",
                   "StringLookup": "vocabulary", "IntegerLookup": "vocabulary"}


def needs_adapt(layer) -> bool:
    """Whether ``layer`` is a preprocessing layer still waiting for the statistics of its data."""
    import keras

    pre = keras.layers
    if isinstance(layer, pre.Normalization):
        return not getattr(layer, "invert", False) and getattr(layer, "input_mean", None) is None
    if isinstance(layer, pre.Discretization):
        return getattr(layer, "bin_boundaries", None) is None
    if isinstance(layer, (pre.TextVectorization, pre.StringLookup, pre.IntegerLookup)):
        # Keras keeps no public trace of a vocabulary read from a file (get_config() forgets the
        # path), only this flag; adapt() itself refuses a layer that has one
        given = getattr(layer, "_has_input_vocabulary", None)
        return not given if given is not None else layer.get_config().get("vocabulary") is None
    return False


def _leaves(model) -> list:
    """The model's layers in the order data flows through them, nested Sequential groups opened."""
    import keras

    out = []
    for layer in model.layers:
        if isinstance(layer, keras.Sequential):
            out.extend(_leaves(layer))
        else:
            out.append(layer)
    return out


def adapt_layers(model, features: Any) -> list[str]:
    """Adapt every preprocessing layer of ``model`` that needs it, in order.

    Args:
        model: a built ``keras.Sequential``.
        features: the training features: a NumPy array, or an unbatched ``tf.data.Dataset`` of
            ``(features, target)`` pairs or of features alone (a folder source).

    Returns:
        The names of the layers adapted.
    """
    leaves = _leaves(model)
    adapted = []
    for index, layer in enumerate(leaves):
        if not needs_adapt(layer):
            continue
        layer.adapt(_inputs_of(leaves[:index], features))
        adapted.append(layer.name)
    return adapted


def _inputs_of(before: list, features: Any):
    """``features`` as the layer after ``before`` sees them."""
    if hasattr(features, "element_spec"):
        return _streamed_inputs(before, features)
    if not before:
        return features
    import keras
    import numpy as np

    parts = []
    for start in range(0, len(features), ADAPT_BATCH):
        x = features[start:start + ADAPT_BATCH]
        for layer in before:
            x = layer(x, training=False)
        parts.append(keras.ops.convert_to_numpy(x))
    return np.concatenate(parts) if parts else features


def _streamed_inputs(before: list, dataset):
    import tensorflow as tf

    if isinstance(dataset.element_spec, tuple):
        dataset = dataset.map(lambda x, *_: x)
    dataset = dataset.batch(ADAPT_BATCH)
    if before:
        def through(x):
            for layer in before:
                x = layer(x, training=False)
            return x

        dataset = dataset.map(through)
    return dataset.prefetch(tf.data.AUTOTUNE)
