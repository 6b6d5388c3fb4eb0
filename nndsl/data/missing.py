"""Missing values: the ``missing=`` policy of a table source, one for the whole table or one per column.

A cell is missing when it is empty (CSV), null or absent (Parquet, JSON lines). What it becomes:

- ``"mean"``, ``"median"``, ``"most_frequent"``: a value of its column *fitted on the data the model
  trains on* (for a categorical column, ``mean`` and ``median`` give it a category of its own);
- a number (numeric columns) or a string (categorical columns): that constant;
- ``"drop"``: the row is dropped when it is read;
- ``"error"``: a located error naming the row and the column.

The default fills numeric columns with the training mean and gives categorical columns a
category of their own. The loader applies ``drop`` and ``error`` (:func:`settle`); the fills are
fitted with the rest of the table's encoding (:mod:`nndsl.data.schema`) and saved inside the
model. NaN or infinity written in the file stays an error: only an absent value is missing.
A target cell is never filled: it is an error, or its row is dropped under ``drop``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

FITTED = ("mean", "median", "most_frequent")
POLICIES = ("error", "drop", *FITTED)
DEFAULT = "mean"  # numeric columns: the training mean; categorical columns: a category of their own
OWN = ""  # the category a missing cell of a categorical column becomes by default (shown as "(missing)")


def is_policy(value: Any) -> bool:
    """Whether ``value`` is one policy: a word of POLICIES, a finite number or a string constant."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return math.isfinite(value)
    return isinstance(value, str)


def check_policy(value: Any) -> str | None:
    """What is wrong with a ``missing=`` value (a policy, or a dict of column to policy), or None."""
    if value is None:
        return None
    if isinstance(value, dict):
        for column, policy in value.items():
            if not isinstance(column, str):
                return f"expected column names as the keys of missing=; received {column!r}"
            if not is_policy(policy):
                return f"expected a policy for column '{column}' in missing=; received {policy!r}"
        return None
    if isinstance(value, str) and value not in POLICIES:
        return f"expected missing= to be one of {', '.join(POLICIES)}, or a number; received {value!r}"
    if not is_policy(value):
        return f"expected missing= to be one of {', '.join(POLICIES)}, or a number; received {value!r}"
    return None


def policy_for(args: dict, column: str) -> Any:
    """The policy of one column: its entry in a dict, else the source's policy, else the default."""
    value = args.get("missing")
    if isinstance(value, dict):
        value = value.get(column)
    return DEFAULT if value is None else value


def unknown_columns(args: dict, header) -> list[str]:
    """The columns a ``missing=`` dict names that the table does not have."""
    value = args.get("missing")
    if not isinstance(value, dict):
        return []
    return [c for c in value if c not in header]


def allowed_columns(roles, args: dict) -> frozenset[str]:
    """The numeric columns (features and targets) whose cells may be missing when read: every
    feature whose policy is not ``error``, and a target only under ``drop``."""
    ok = {c for c in roles.features if policy_for(args, c) != "error"}
    ok |= {c for c in roles.targets if policy_for(args, c) == "drop"}
    return frozenset(ok)


def settle(ds, args: dict, fail_row):
    """``ds`` after its loader's part of the policies: rows dropped (``drop``), a missing category
    under ``error`` reported, and the count of missing cells of each feature kept in ``ds.missing``.

    ``fail_row(message, row, column, hint)`` builds the located error (``row`` 0-based among the rows).
    Numeric cells left missing are NaN, categorical ones ``""``; the runner fills them with the
    values fitted on the training data (:mod:`nndsl.data.schema`).
    """
    import numpy as np

    if ds.x is None:
        return ds
    rows = ds.rows
    holes = {}
    # NaN propagates through the minimum: one pass over the contiguous array tells a table without
    # missing numbers, the usual one, several times faster than searching each (strided) column
    if ds.x.size and np.isnan(ds.x.min()):
        for j, name in enumerate(ds.feature_names):
            column = np.isnan(ds.x[:, j])
            if column.any():
                holes[name] = column
    for name in ds.categorical:
        column = blank(ds.columns[name])
        if column.any():
            if policy_for(args, name) == "error":
                i = int(np.argmax(column))
                raise fail_row("expected a category; received an empty cell", i, name,
                               'give missing cells a category of their own (the default), or missing={"' + name + '": "drop"}')
            holes[name] = column
    labels = {}
    for name in ds.labels:
        column = blank(ds.columns[name])
        if column.any():
            if policy_for(args, name) != "drop":
                i = int(np.argmax(column))
                raise fail_row("expected a class label; received an empty cell", i, name,
                               'leave out the rows without a label with missing="drop"')
            labels[name] = column
    counts = {name: int(h.sum()) for name, h in holes.items()}
    drop = [c for c in holes if policy_for(args, c) == "drop"]
    bad = np.zeros(rows, dtype=bool)
    for c in drop:
        bad |= holes[c]
    for column in labels.values():
        bad |= column
    if ds.y is not None:
        for j, name in enumerate(ds.target_names):
            if name in ds.labels:
                continue
            bad |= np.isnan(ds.y[:, j])  # allowed only under drop: see allowed_columns
    if not bad.any():
        return replace(ds, missing=counts)
    kept = ds.subset(np.flatnonzero(~bad), ds.name)
    counts = {c: n for c, n in ((c, int((h & ~bad).sum())) for c, h in holes.items()) if n}
    return replace(kept, fingerprint=ds.fingerprint, missing=counts, dropped=int(bad.sum()))


def blank(values):
    """Which of a text column's cells are empty (or spaces): a boolean array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(pa.array(values, type=pa.string()))
    return pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False)


def dropped_line(ds) -> str | None:
    """The line saying how many rows ``drop`` left out of a data set, or None."""
    if not ds.dropped:
        return None
    return f"{ds.name}: dropped {ds.dropped} row{'s' if ds.dropped != 1 else ''} with missing values"


def filled_line(ds, fills: dict[str, Any]) -> str | None:
    """The line saying how many cells of which columns were filled, and with what, or None.

    ``fills`` maps a column to the value its missing cells become.
    """
    filled = {c: n for c, n in ds.missing.items() if c in fills and fills[c] is not None}
    if not filled:
        return None
    cells = sum(filled.values())
    shown = ", ".join(f"{c} {n} ({_shown(fills[c])})" for c, n in filled.items())
    return f"{ds.name}: filled {cells} missing cell{'s' if cells != 1 else ''}: {shown}"


def _shown(value) -> str:
    if isinstance(value, str):
        return "own category" if value == OWN else repr(value)
    return f"{value:.6g}"
