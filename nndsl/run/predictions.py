"""Predictions as a table: the output columns, the input columns kept beside them, and the file.

Shared by the ``predict`` step and the ``nndsl predict`` command, so both name, print and write
predictions the same way: a CSV (kept columns first, then one column per output) or a ``.npy``
array of the raw predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .files import atomic_path


def column_names(width: int, *, target_names: Sequence[str] = (), column: str | None = None) -> list[str]:
    """The names of ``width`` output columns: ``column`` (numbered when several), else the
    model's target names when there is one per output, else ``prediction`` or ``prediction_I``."""
    if column:
        return [column] if width == 1 else [f"{column}_{i}" for i in range(width)]
    if target_names and len(target_names) == width:
        return list(target_names)
    return ["prediction"] if width == 1 else [f"prediction_{i}" for i in range(width)]


def unknown_column(ds, keep: Sequence[str]) -> str | None:
    """The first column of ``keep`` that the data set does not have, or None."""
    columns = ds.all_columns()
    return next((c for c in keep if c not in columns), None)


def shown_rows(ds, keep: Sequence[str], flat, rows: int) -> list[list[str]]:
    """The first ``rows`` predictions as text, kept columns first: what a terminal shows."""
    cols = {c: ds.column_text(c) for c in keep}
    return [[cols[c][i] for c in keep] + [f"{float(v):.6g}" for v in flat[i]] for i in range(min(rows, len(flat)))]


def write(target: Path, ds, keep: Sequence[str], names: Sequence[str], preds) -> None:
    """Write the predictions atomically: the raw array to a ``.npy`` path, else a CSV table."""
    import numpy as np

    with atomic_path(target) as tmp:
        if Path(target).suffix.lower() == ".npy":
            with open(tmp, "wb") as fh:
                np.save(fh, preds)
        else:
            write_csv(tmp, ds, keep, names, np.asarray(preds).reshape(len(preds), -1))


def write_csv(path: Path, ds, keep: Sequence[str], names: Sequence[str], flat) -> None:
    """A header row of ``keep`` and ``names``, then one row per prediction (9 significant digits)."""
    import csv

    cols = {c: ds.column_text(c) for c in keep}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(list(keep) + list(names))
        for i, row in enumerate(flat):
            w.writerow([cols[c][i] for c in keep] + [f"{float(v):.9g}" for v in row])
