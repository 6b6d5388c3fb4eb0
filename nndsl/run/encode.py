"""One-hot encoding of categorical columns, with the categories of the training data.

A model trained on data with ``categorical=[...]`` columns remembers each column's categories
(sorted; numerically when they all read as numbers). Every data set the model later sees is
encoded with those same categories, so test and prediction rows line up with training; a
category the training data never had is an error naming the row and column. The encoded
columns follow the numeric features, one per category, named ``column=category``.

The categories travel with the saved model (see :mod:`nndsl.run.modelmeta`), since a Keras
``Sequential`` model has one numeric input and cannot hold a string lookup itself.
"""

from __future__ import annotations

from ..data.table_ops import concat_columns


def _order(values):
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)


def fit(ds) -> dict[str, list[str]]:
    """Each categorical column's categories in the training data."""
    return {c: _order(set(v.strip() for v in ds.columns[c])) for c in ds.categorical}


def encode(ds, vocab: dict[str, list[str]], error):
    """``ds`` with its categorical columns one-hot encoded after the numeric features.

    ``error(message, where, hint)`` builds the exception for an unknown category or column.
    """
    import numpy as np

    if not vocab and not ds.categorical:
        return ds
    missing = [c for c in vocab if c not in ds.columns]
    if missing:
        raise error(f"expected the categorical column '{missing[0]}' the model was trained with; received data without it",
                    ds.path.name if ds.path else ds.name, f"declare it: csv(..., categorical=[\"{missing[0]}\"])")
    blocks = []
    names = list(ds.feature_names)
    for col, cats in vocab.items():
        index = {c: i for i, c in enumerate(cats)}
        raw = ds.columns[col]
        block = np.zeros((len(raw), len(cats)), dtype=np.float32)
        for row, value in enumerate(raw):
            i = index.get(value.strip())
            if i is None:
                raise error(f"expected one of the training data's categories ({', '.join(cats[:8])}{', ...' if len(cats) > 8 else ''}); "
                            f"received '{value}'",
                            f"{ds.path.name if ds.path else ds.name}:row {row + 2}, column '{col}'",
                            "a model can only encode categories it saw in training")
            block[row, i] = 1.0
        blocks.append(block)
        names.extend(f"{col}={c}" for c in cats)
    return concat_columns(ds, blocks, names)
