"""``Sequential(...)`` used as one layer: a group of layers (``keras.Sequential`` is not in ``keras.layers``)."""

from ..semantics.keras_check import sequential_spec

SEQUENTIAL = sequential_spec()
