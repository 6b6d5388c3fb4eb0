"""Small operations on loaded data sets."""

from __future__ import annotations

from dataclasses import replace


def concat_columns(ds, blocks, names):
    """``ds`` with extra feature columns appended (one array per block) and its feature names updated."""
    import numpy as np

    x = ds.x if ds.x is not None and ds.x.shape[1] else None
    parts = ([x] if x is not None else []) + list(blocks)
    return replace(ds, x=np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0], feature_names=list(names), categorical=[])
