"""Predictions as a table: the output columns, the input columns kept beside them, and the file.

Shared by the ``predict`` step and the ``nndsl predict`` command, so both name, print and write
predictions the same way: a CSV (kept columns first, then one column per output) or a ``.npy``
array of the raw predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .files import atomic_path


def column_names(width: int, *, target_names: Sequence[str] = (), column: str | None = None,
                 class_names: Sequence[str] = (), keep: Sequence[str] = ()) -> list[str]:
    """The names of ``width`` output columns: ``column`` (numbered when several), else the
    model's target names when there is one per output, else its class names (a model trained on
    a folder source, one output per class), else ``prediction`` or ``prediction_I``.

    A name that is also a kept input column (``keep=["y"]`` beside a prediction of ``y``) gets
    ``_predicted`` appended, so that no two columns of the output share a name.
    """
    if column:
        names = [column] if width == 1 else [f"{column}_{i}" for i in range(width)]
    elif target_names and len(target_names) == width:
        names = list(target_names)
    elif class_names and len(class_names) == width:
        names = list(class_names)
    else:
        names = ["prediction"] if width == 1 else [f"prediction_{i}" for i in range(width)]
    return [f"{n}_predicted" if n in keep else n for n in names]


def outputs(flat, *, target_names: Sequence[str] = (), column: str | None = None, class_names: Sequence[str] = (),
            classes: Sequence[str] = (), probabilities: bool = False, keep: Sequence[str] = ()):
    """The output columns of predictions: (names, the class of each row or None, the numbers).

    A model trained on class labels (``classes``) gives the class name of each row, in a column
    named after its target (or ``column``), and with ``probabilities`` one column per class named
    after the class; any other model, one column per output (see :func:`column_names`).
    """
    if classes:
        found = class_outputs(flat, classes)
        if found is not None:
            labels, probs = found
            name = column or (target_names[0] if len(target_names) == 1 else "class")
            names = [name] + (list(classes) if probabilities else [])
            return [f"{n}_predicted" if n in keep else n for n in names], labels, probs if probabilities else probs[:, :0]
    return column_names(flat.shape[1], target_names=target_names, column=column, class_names=class_names, keep=keep), None, flat


def identifying_columns(ds, keep: Sequence[str]) -> list[str]:
    """``keep`` with the data's identifying columns first: its ``id=`` columns, or the file name of
    each row of a folder source. They are copied into every prediction, as the data source says."""
    ids = [c for c in (*ds.ids, *(["file"] if "file" in ds.columns and ds.tf_dataset is not None else [])) if c not in keep]
    return ids + list(keep)


def count(rows: int) -> str:
    """``1 prediction``, ``3 predictions``."""
    return f"{rows} prediction{'' if rows == 1 else 's'}"


def unknown_column(ds, keep: Sequence[str]) -> str | None:
    """The first column of ``keep`` that the data set does not have, or None."""
    columns = ds.all_columns()
    return next((c for c in keep if c not in columns), None)


def shown_rows(ds, keep: Sequence[str], flat, rows: int, labels: Sequence[str] | None = None) -> list[list[str]]:
    """The first ``rows`` predictions as text, kept columns first (then the class, if ``labels``): what a terminal shows."""
    cols = {c: ds.column_text(c) for c in keep}
    first = (lambda i: [labels[i]]) if labels is not None else (lambda i: [])
    return [[cols[c][i] for c in keep] + first(i) + [f"{float(v):.6g}" for v in flat[i]] for i in range(min(rows, len(flat)))]


def class_outputs(flat, classes: Sequence[str]):
    """(the class name of each row, the probability of each class) for a classifier's outputs: one
    per class, or one sigmoid for two classes (the probability of the second). None otherwise."""
    import numpy as np

    n = len(classes)
    if n >= 2 and flat.shape[1] == n:
        probs = flat
    elif n == 2 and flat.shape[1] == 1:
        probs = np.column_stack([1.0 - flat[:, 0], flat[:, 0]])
    else:
        return None
    return [classes[i] for i in probs.argmax(axis=1)], probs


def write(target: Path, ds, keep: Sequence[str], names: Sequence[str], preds, labels: Sequence[str] | None = None,
          values=None) -> None:
    """Write the predictions atomically: the raw array to a ``.npy`` path, else a CSV table of the
    kept columns, the class of each row (``labels``, when a classifier's) and ``values`` (default: the predictions)."""
    import numpy as np

    with atomic_path(target) as tmp:
        if Path(target).suffix.lower() == ".npy":
            with open(tmp, "wb") as fh:
                np.save(fh, preds)
        else:
            flat = np.asarray(preds).reshape(len(preds), -1) if values is None else values
            write_csv(tmp, ds, keep, names, flat, labels)


def write_csv(path: Path, ds, keep: Sequence[str], names: Sequence[str], flat, labels: Sequence[str] | None = None) -> None:
    """A header row of ``keep`` and ``names``, then one row per prediction (9 significant digits)."""
    import csv

    cols = {c: ds.column_text(c) for c in keep}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(list(keep) + list(names))
        for i, row in enumerate(flat):
            w.writerow([cols[c][i] for c in keep] + ([labels[i]] if labels is not None else []) + [f"{float(v):.9g}" for v in row])


def _positional(names) -> bool:
    """Names an array source makes up (x0, x1, ...): they say where a column is, not what it is."""
    return all(n == f"x{i}" for i, n in enumerate(names))


def by_name(ds, trained: list):
    """``ds`` with its features picked by the names a model was trained on, whatever their order.

    Returns:
        (the data set, the trained names it lacks, its feature names the model does not use).
        Data or a model without real column names (arrays; a model saved before names were kept)
        is returned as it is, matched by position.
    """
    from dataclasses import replace

    names = list(ds.feature_names)
    streamed = ds.x is None and getattr(ds, "stream", None) is not None  # a streamed table's batches pick by name when encoded
    if not trained or not names or (ds.x is None and not streamed) or (not streamed and ds.x.ndim != 2) \
            or _positional(trained) or _positional(names):
        return ds, [], []
    if names == list(trained):
        return ds, [], []
    missing = [n for n in trained if n not in names]
    if missing:
        return ds, missing, []
    extra = [n for n in names if n not in trained]
    if streamed:
        return ds, [], extra
    index = [names.index(n) for n in trained]
    return replace(ds, x=ds.x[:, index], feature_names=list(trained)), [], extra


class IncrementalWriter:
    """Predictions written batch by batch, for a table streamed in record batches: a CSV table
    (the same rows :func:`write` writes) or a ``.npy`` array of ``rows`` predictions, into a
    temporary file that replaces ``target`` only when every batch is written (``with`` block)."""

    def __init__(self, target: Path, rows: int) -> None:
        self.target = Path(target)
        self.rows = rows
        self.npy = self.target.suffix.lower() == ".npy"
        self.written = 0
        self._atomic = None
        self._fh = None
        self._writer = None
        self._array = None

    def __enter__(self) -> IncrementalWriter:
        self._atomic = atomic_path(self.target)
        self.tmp = self._atomic.__enter__()
        return self

    def add(self, ds, keep: Sequence[str], names: Sequence[str], preds, labels: Sequence[str] | None, values) -> None:
        """One batch: ``ds`` its rows (for the kept columns), ``preds`` the raw predictions."""
        import numpy as np

        if self.npy:
            if self._array is None:
                self._array = np.lib.format.open_memmap(self.tmp, mode="w+", dtype=np.asarray(preds).dtype,
                                                        shape=(self.rows, *np.asarray(preds).shape[1:]))
            self._array[self.written : self.written + len(preds)] = preds
        else:
            import csv

            if self._writer is None:
                self._fh = open(self.tmp, "w", newline="", encoding="utf-8")
                self._writer = csv.writer(self._fh)
                self._writer.writerow(list(keep) + list(names))
            cols = {c: ds.column_text(c) for c in keep}
            for i, row in enumerate(values):
                self._writer.writerow([cols[c][i] for c in keep] + ([labels[i]] if labels is not None else [])
                                      + [f"{float(v):.9g}" for v in row])
        self.written += len(preds)

    def __exit__(self, kind, exc, tb) -> bool:
        if self._array is not None:
            self._array.flush()
            del self._array
            self._array = None
        if self._fh is not None:
            self._fh.close()
        return bool(self._atomic.__exit__(kind, exc, tb))
