"""Missing values in numeric columns: the ``missing=`` policy of a table source.

``missing="error"`` (the default) makes an empty cell an error naming its row and column.
``"drop"`` drops every row with a missing feature or target; a number fills the missing
features with it. ``"mean"``, ``"median"`` and ``"most_frequent"`` fill them with a value of
each column *fitted on the training data*: the loader leaves NaN in the missing cells and
records the policy, and the runner fits the values on the data a model trains on
(:func:`fit_fills`) and fills every data set the model sees with them (:func:`apply_fills`).
Only empty cells (CSV) and nulls or absent keys (Parquet, JSON lines) are missing; NaN or
infinity written in the file stays an error.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

FITTED = ("mean", "median", "most_frequent")
POLICIES = ("error", "drop", *FITTED)


def policy_of(args: dict) -> Any:
    """The source's ``missing=`` argument ("error" when absent); checked statically."""
    value = args.get("missing")
    return "error" if value is None else value


def allowed_columns(roles, policy) -> frozenset[str]:
    """The columns whose cells may be missing under ``policy``: none, the features, or (drop) all."""
    if policy == "error":
        return frozenset()
    if policy == "drop":
        return frozenset(roles.numeric)
    return frozenset(roles.features)


def settle(ds, policy):
    """``ds`` after its loader's part of the policy: rows dropped, or a constant filled in.

    The count of missing cells per feature is kept in ``ds.missing``; under a fitted policy the
    cells stay NaN and ``ds.fill`` names the policy for the runner.
    """
    import numpy as np

    if policy == "error" or ds.x is None:
        return ds
    holes = np.isnan(ds.x)
    counts = {name: int(n) for name, n in zip(ds.feature_names, holes.sum(axis=0)) if n}
    if policy == "drop":
        bad = holes.any(axis=1)
        if ds.y is not None:
            bad |= np.isnan(ds.y).any(axis=1)
        if not bad.any():
            return ds
        kept = ds.subset(np.flatnonzero(~bad), ds.name)
        return replace(kept, fingerprint=ds.fingerprint, missing=counts, dropped=int(bad.sum()))
    if not counts:
        return replace(ds, fill=policy if policy in FITTED else None)
    if policy in FITTED:
        return replace(ds, missing=counts, fill=policy)
    x = ds.x.copy()
    x[holes] = float(policy)
    return replace(ds, x=x, missing=counts)


def fit_fills(ds, error) -> dict[str, float]:
    """Each feature's fill value under ``ds.fill``, from ``ds``'s present values.

    ``error(message, where, hint)`` builds the exception for a column with no value at all.
    """
    import numpy as np

    fills: dict[str, float] = {}
    for j, name in enumerate(ds.feature_names):
        column = ds.x[:, j]
        present = column[~np.isnan(column)]
        if present.size == 0:
            raise error(f"expected values to fit the {ds.fill} of column '{name}'; received only missing ones",
                        ds.path.name if ds.path else ds.name, "fill it with a number instead: missing=0")
        if ds.fill == "mean":
            value = float(present.astype(np.float64).mean())
        elif ds.fill == "median":
            value = float(np.median(present))
        else:
            values, counts = np.unique(present, return_counts=True)
            value = float(values[int(np.argmax(counts))])  # the smallest of the most frequent
        fills[name] = value
    return fills


def apply_fills(ds, fills: dict[str, float]):
    """``ds`` with its missing feature cells filled with ``fills`` (by column name)."""
    import numpy as np

    if ds.x is None or not np.isnan(ds.x).any():
        return ds
    x = ds.x.copy()
    for j, name in enumerate(ds.feature_names):
        holes = np.isnan(x[:, j])
        if holes.any():
            x[holes, j] = fills.get(name, 0.0)
    return replace(ds, x=x, fill=None)


def summary(ds) -> str | None:
    """One line on what the policy did to a data set, or None when nothing was missing."""
    if not ds.missing and not ds.dropped:
        return None
    cells = sum(ds.missing.values())
    if ds.dropped:
        return f"{ds.name}: dropped {ds.dropped} row{'s' if ds.dropped != 1 else ''} with missing values"
    return (f"{ds.name}: filled {cells} missing cell{'s' if cells != 1 else ''} "
            f"({', '.join(f'{c} {n}' for c, n in ds.missing.items())})")
