"""The helper functions an exported script may need, as the script gets them.

``nndsl export --to python`` copies into a script only the helpers its program uses, each
section below as it stands, in this order. nndsl never imports this file: it is kept as
Python so that it reads and lints as the code it becomes.

Each section starts with a mark::

    # helper NAME | needs: OTHER, ... | imports: MODULE, ...

naming the helpers it calls (copied in too) and the modules it imports (besides keras, numpy
as np and tensorflow as tf, which every script imports): standard modules, and pyarrow's
(``pyarrow.parquet as pq``) for the table sources Arrow reads. The names imported from
``nndsl.run.defaults`` below are placeholders: the exporter writes each one's value in its
place, so that a script uses the numbers ``nndsl run`` uses.

Everything above the first mark stands for what a script defines before its helpers.
"""

import collections
import csv
import glob
import json
import math
import os
import pathlib
import zipfile

import keras
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
import pyarrow.parquet as pq
import tensorflow as tf

from nndsl.run.defaults import (
    CALLBACK_PATH_ATTRIBUTES,
    MAX_STEPS_PER_EXECUTION,
    PREDICT_BATCH,
    ROW_SHUFFLE_LIMIT,
    SMALL_INPUT,
    STREAM_SHUFFLE_BUFFER,
)

BASE = pathlib.Path()  # the .nn file's folder


# helper Table


class Table:
    """The rows of a data source: features ``x`` and targets ``y`` (None without a target, or
    when the target holds class labels) as float32 arrays, their column names, and the text of
    every column that is not numeric. A table read from a file also keeps its categorical
    columns, its target of text class labels (if any), each column's ``missing=`` policy and
    what a category unseen in training becomes (``unknown``), and which categorical columns are
    text as written (``as_text``: categories sorted as text, never whole numbers)."""

    def __init__(self, x, y=None, feature_names=(), target_names=(), columns=None, categorical=(), labels=(),
                 policies=None, unknown="oov", as_text=()):
        self.x = x
        self.y = y
        self.feature_names = list(feature_names)
        self.target_names = list(target_names)
        self.columns = dict(columns or {})
        self.categorical = list(categorical)
        self.labels = list(labels)
        self.policies = dict(policies or {})
        self.unknown = unknown
        self.as_text = list(as_text)

    def column_text(self, name):
        """A column's values as text (for ``keep``): numeric columns formatted from the arrays."""
        if name in self.columns:
            return self.columns[name]
        if name in self.feature_names and self.x.ndim == 2:
            return [f"{v:.9g}" for v in self.x[:, self.feature_names.index(name)]]
        if name in self.target_names and self.y is not None:
            return [f"{v:.9g}" for v in self.y[:, self.target_names.index(name)]]
        raise KeyError(f"expected a column of the data; received {name!r}")

    def subset(self, index):
        """The rows at ``index`` (an array of row numbers)."""
        return Table(self.x[index], None if self.y is None else self.y[index], self.feature_names,
                     self.target_names, {k: [v[i] for i in index] for k, v in self.columns.items()}, self.categorical,
                     self.labels, self.policies, self.unknown, self.as_text)


# helper table_files | imports: glob, pathlib


def table_files(path, suffixes):
    """The files of a table source, in the order nndsl reads them: the file itself, the files a
    glob pattern matches, or a folder's part files (ending in one of ``suffixes``, not hidden),
    sorted, so that the rows come in the same order on every machine."""
    path = pathlib.Path(path)
    if any(c in str(path) for c in "*?[") and not path.exists():  # a file may be named data[1].csv
        found = sorted(pathlib.Path(p) for p in glob.glob(str(path)) if pathlib.Path(p).is_file())
        if not found:
            raise ValueError(f"{path}: expected files matching the pattern; received no match")
        return found
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(suffixes) and not p.name.startswith("."))
        if not found:
            raise ValueError(f"{path}: expected part files ({', '.join(suffixes)}) in the folder; received none")
        return found
    return [path]


# helper table_columns | needs: Table


def _names(value):
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _policy(missing, column):
    """A column's missing= policy: its entry in a dict, else the source's policy, else "mean"."""
    if isinstance(missing, dict):
        missing = missing.get(column)
    return "mean" if missing is None else missing


def table_columns(path, header, target=None, features=None, exclude=None, categorical=None, ids=None, text=None):
    """The columns of a table by role: (numeric features, targets, categorical). Every column
    but the targets, excluded, id and categorical ones is a numeric feature, unless ``features``
    names them. The ``text`` columns are categorical, their categories the cells as written."""
    targets, excluded, ids, categorical = _names(target), _names(exclude), _names(ids), _names(categorical)
    categorical += [c for c in _names(text) if c not in categorical]
    if features is None:
        features = [h for h in header if h not in targets + excluded + ids + categorical]
    else:
        features = [c for c in _names(features) if c not in categorical]
    for column in features + targets + excluded + ids + categorical:
        if column not in header:
            raise ValueError(f"{path}: expected a column {column!r}; received columns {', '.join(header)}")
    return features, targets, categorical


def _settle(table, path):
    """The table without the rows "drop" leaves out; an empty cell where it may not be is an error."""
    keep = np.ones(len(table.x), dtype=bool)
    for j, name in enumerate(table.feature_names):
        if table.policies[name] == "drop":
            keep &= ~np.isnan(table.x[:, j])
    for name in table.categorical + table.labels:
        empty = np.array([not v.strip() for v in table.columns[name]], dtype=bool)
        refused = table.policies[name] == "error" if name in table.categorical else table.policies[name] != "drop"
        if empty.any() and refused:
            what = "category" if name in table.categorical else "class label"
            raise ValueError(f"{path}: row {int(np.argmax(empty)) + 1} of the table, column {name!r}: expected a {what}; "
                             "received an empty cell")
        if table.policies[name] == "drop":
            keep &= ~empty
    if table.y is not None:
        keep &= ~np.isnan(table.y).any(axis=1)
    return table if keep.all() else table.subset(np.flatnonzero(keep))


def joined_parts(path, parts, features, targets, categorical, missing, unknown, as_text=None):
    """One table from the parts of several files, each ``(x, y, text columns, labels)``, in order.
    When a part holds text class labels in its target, the others' numbers become labels too."""
    labels = next((part[3] for part in parts if part[3]), [])
    if labels:
        for _, y, text, own in parts:
            if not own:
                text[labels[0]] = [f"{v:.9g}" for v in y[:, 0]]
    x = np.concatenate([part[0] for part in parts])
    y = None if labels or not targets else np.concatenate([part[1] for part in parts])
    text = {c: [v for part in parts for v in part[2][c]] for c in parts[0][2]}
    policies = {c: _policy(missing, c) for c in features + categorical + targets}
    return _settle(Table(x, y, features, targets, text, categorical, labels, policies, unknown, _names(as_text)), path)


# helper read_csv | needs: Table, table_files, table_columns | imports: csv, math


BOOLEANS = {"true": 1.0, "false": 0.0}  # a cell of true or false reads as 1 or 0


def _is_label(cell):
    """A target cell that is text, not a number: the target holds class labels ("true" and
    "false" included: classes named as written)."""
    cell = cell.strip()
    try:
        float(cell)
        return False
    except ValueError:
        return bool(cell)


def read_csv(path, target=None, features=None, exclude=None, categorical=None, delimiter=",", ids=None, missing=None,
             unknown="oov", text=None):
    """A CSV file with a header row, or several (a glob pattern, or a folder of .csv part
    files) read as one table, each with the first one's columns, in any order. The feature
    columns (every column but the targets, excluded, id and categorical ones, unless
    ``features`` names them) and the targets are read as float32; the other columns are kept
    as text, and so is a single target column of class labels ("yes", "no").

    An empty cell is missing: in a feature whose ``missing=`` policy is not "error" it is NaN
    (``fit_table`` finds what it becomes), in a categorical column the empty category, and a
    row with an empty cell of a column under "drop" is left out. An empty target cell is an
    error unless its policy is "drop". The ``text`` columns are categorical, their categories the
    cells as written ("02134" stays a zip code)."""
    files = table_files(path, (".csv",))
    parts, columns = [], None
    for file in files:
        with open(file, newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh, delimiter=delimiter) if row and any(cell.strip() for cell in row)]
        if not rows:
            raise ValueError(f"{file}: expected a header row; received an empty file")
        header = [h.strip() for h in rows[0]]
        if columns is None:
            columns = (header, *table_columns(file, header, target, features, exclude, categorical, ids, text))
        elif set(header) != set(columns[0]):
            raise ValueError(f"{file}: expected the columns of {files[0].name} ({', '.join(columns[0])}); "
                             f"received {', '.join(header)}")
        parts.append(_csv_part(file, rows, header, columns, delimiter, missing))
    header, features, targets, categorical = columns
    if sum(len(part[0]) for part in parts) == 0:
        raise ValueError(f"{path}: expected a header row and data rows; received the header only")
    return joined_parts(path, parts, features, targets, categorical, missing, unknown, text)


def _csv_part(path, rows, header, columns, delimiter, missing):
    """One file's rows: (x, y, the text of every other column in ``columns``' order, labels)."""
    first_header, features, targets, categorical = columns
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}: row {line}: expected {len(header)} fields like the header; received {len(row)}")
    labels = []
    if len(targets) == 1 and any(_is_label(row[header.index(targets[0])]) for row in rows[1:]):
        labels = targets
    numeric = features + [t for t in targets if t not in labels]
    may_be_empty = {c for c in features if _policy(missing, c) != "error"}
    may_be_empty |= {c for c in targets if _policy(missing, c) == "drop"}
    index = [header.index(c) for c in numeric]
    values = []
    for line, row in enumerate(rows[1:], start=2):
        for j in index:
            cell = row[j].strip()
            if not cell and header[j] in may_be_empty:
                values.append(math.nan)
                continue
            try:
                value = float(cell)
            except ValueError:
                if cell.lower() not in BOOLEANS:
                    raise ValueError(f"{path}: row {line}, column {header[j]!r}: expected a number; received {row[j]!r}") from None
                value = BOOLEANS[cell.lower()]
            if math.isnan(value) or math.isinf(value):
                raise ValueError(f"{path}: row {line}, column {header[j]!r}: expected a finite number; received {row[j]!r}")
            values.append(value)
    table = np.array(values, dtype=np.float32).reshape(len(rows) - 1, len(numeric))
    text = {c: [row[header.index(c)] for row in rows[1:]] for c in first_header if c not in numeric}
    x = np.ascontiguousarray(table[:, : len(features)])
    y = np.ascontiguousarray(table[:, len(features):]) if len(numeric) > len(features) else None
    return x, y, text, labels


# helper arrow_table | needs: Table, table_columns | imports: pyarrow as pa, pyarrow.compute as pc


def arrow_table(path, parts, target=None, features=None, exclude=None, categorical=None, ids=None, missing=None,
                unknown="oov", text=None):
    """Tables Arrow read from one or several files (``parts``, each a ``(file, pyarrow.Table)``),
    as one table, each part with the first one's columns, in any order: the feature columns
    (every column but the targets, excluded, id and categorical ones, unless ``features`` names
    them) and the targets as float32 (booleans as 1 and 0, text that reads as numbers as those
    numbers), every other column as text, and so is a single target column of text class
    labels ("yes", "no"). Arrow's own types decide: a column of numbers named in ``categorical``
    has categories such as "3".

    A null (or, in a column of text, an empty cell) is missing: in a feature whose ``missing=``
    policy is not "error" it is NaN (``fit_table`` finds what it becomes), in a categorical
    column the empty category, and a row with a missing cell of a column under "drop" is left
    out. A missing target is an error unless its policy is "drop"."""
    columns = None
    rows = []
    for file, table in parts:
        header = table.column_names
        if columns is None:
            columns = (header, *table_columns(file, header, target, features, exclude, categorical, ids, text))
        elif set(header) != set(columns[0]):
            raise ValueError(f"{file}: expected the columns of {parts[0][0].name} ({', '.join(columns[0])}); "
                             f"received {', '.join(header)}")
        rows.append(_arrow_part(file, table, columns, missing))
    header, features, targets, categorical = columns
    if sum(len(part[0]) for part in rows) == 0:
        raise ValueError(f"{path}: expected data rows; received none")
    return joined_parts(path, rows, features, targets, categorical, missing, unknown, text)


def _arrow_part(path, table, columns, missing):
    """One file's rows: (x, y, the text of every other column in ``columns``' order, labels)."""
    header, features, targets, categorical = columns
    labels = targets if len(targets) == 1 and _holds_labels(table.column(targets[0])) else []
    numeric = features + [t for t in targets if t not in labels]
    may_be_empty = {c for c in features if _policy(missing, c) != "error"}
    may_be_empty |= {c for c in targets if _policy(missing, c) == "drop"}
    values = np.empty((table.num_rows, len(numeric)), dtype=np.float32)
    for j, name in enumerate(numeric):
        values[:, j] = _numbers(path, table.column(name), name, name in may_be_empty)
    text = {c: _text(table.column(c)) for c in header if c not in numeric}
    return values[:, : len(features)], values[:, len(features):] if len(numeric) > len(features) else None, text, labels


def _plain(column):
    """A column of Arrow's dictionary type (categories Parquet stores once) as its values."""
    return column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column


def _is_text(column):
    return pa.types.is_string(column.type) or pa.types.is_large_string(column.type)


def _holds_labels(column):
    """Whether a target column holds text class labels: text with a value Python does not read
    as a number (so "true" and "false" are labels: classes named as written)."""
    column = _plain(column)
    if not _is_text(column):
        return False
    text = pc.utf8_trim_whitespace(column)
    present = pc.filter(text, pc.and_(pc.is_valid(text), pc.not_equal(text, "")))
    for value in pc.unique(present).to_pylist():
        try:
            float(value)
        except ValueError:
            return True
    return False


def _numbers(path, column, name, may_be_empty):
    """A feature or target column as float64 NumPy values (a missing cell as NaN where it may be missing)."""
    column = _plain(column)
    if _is_text(column):
        if may_be_empty:  # an empty cell of text is missing too
            column = pc.if_else(pc.equal(pc.utf8_trim_whitespace(column), ""), pa.scalar(None, column.type), column)
        try:
            column = pc.cast(column, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            cells = column.to_pylist()
            bad = next((v for v in cells if v is not None and v.strip() and not _reads_as_number(v)), None)
            received = "a missing value" if bad is None else repr(bad)
            raise ValueError(f"{path}: column {name!r}: expected numbers; received {received}") from None
    elif pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type) \
            or pa.types.is_decimal(column.type):
        column = pc.cast(column, pa.float64())
    else:
        raise ValueError(f"{path}: column {name!r}: expected a column of numbers; received a column of type {column.type}")
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    if nulls.any() and not may_be_empty:
        raise ValueError(f"{path}: row {int(np.argmax(nulls)) + 1}, column {name!r}: expected a number; received a missing value")
    values = column.to_numpy(zero_copy_only=False)  # a null becomes NaN
    bad = ~np.isfinite(values) & ~nulls  # NaN or infinity written in the file is no missing cell
    if bad.any():
        raise ValueError(f"{path}: row {int(np.argmax(bad)) + 1}, column {name!r}: expected a finite number; "
                         f"received {values[np.argmax(bad)]}")
    return values


def _reads_as_number(value):
    try:
        float(value)
        return True
    except ValueError:
        return False


def _text(column):
    """A column as text, as Arrow writes its values ("3", "2025-01-01 06:00:00"); a missing cell as ""."""
    column = _plain(column)
    if not _is_text(column):
        column = pc.cast(column, pa.string())
    return pc.fill_null(column, "").to_pylist()


# helper read_parquet | needs: table_files, arrow_table | imports: pyarrow.parquet as pq


def read_parquet(path, **columns):
    """A Parquet file, or several (a glob pattern, or a folder of .parquet part files) read as
    one table, with the columns' own types (see ``arrow_table`` for ``columns``)."""
    parts = [(file, pq.read_table(file)) for file in table_files(path, (".parquet", ".pq"))]
    return arrow_table(path, parts, **columns)


# helper read_json | needs: table_files, arrow_table | imports: pyarrow.json as pajson


def read_json(path, **columns):
    """A JSON lines file (one object per line, each key a column), or several (a glob pattern,
    or a folder of .jsonl part files) read as one table, with the types Arrow infers (see
    ``arrow_table`` for ``columns``); a key a line leaves out is a missing cell."""
    parts = [(file, pajson.read_json(file)) for file in table_files(path, (".jsonl", ".ndjson", ".json"))]
    return arrow_table(path, parts, **columns)


# helper as_float32


def as_float32(array):
    """A numeric array as float32, a single column when it is one-dimensional (as nndsl reads arrays)."""
    array = np.asarray(array).astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError("expected finite numbers; received NaN or infinity")
    return array[:, None] if array.ndim == 1 else array


# helper read_npz | needs: Table, as_float32


def read_npz(path, x="x", y=None):
    """A NumPy .npz archive: features from array ``x``, targets from array ``y`` ("y" when present)."""
    with np.load(path, allow_pickle=False) as archive:
        if y is None and "y" in archive.files:
            y = "y"
        features = as_float32(archive[x])
        targets = as_float32(archive[y]) if y else None
    return Table(features, targets, [f"x{i}" for i in range(features.shape[-1])], [y] if y else [])


# helper read_npy | needs: Table, as_float32


def read_npy(path, target=None):
    """A .npy file of features and, optionally, a .npy file of targets."""
    features = as_float32(np.load(path, allow_pickle=False))
    targets = as_float32(np.load(target, allow_pickle=False)) if target else None
    return Table(features, targets, [f"x{i}" for i in range(features.shape[-1])], ["y"] if target else [])


# helper read_image_folder


def read_image_folder(path, image_size=(256, 256), color_mode="rgb", label_mode="int"):
    """One subfolder of images per class, as an unbatched tf.data stream in file order."""
    return keras.utils.image_dataset_from_directory(
        str(path), image_size=tuple(image_size), color_mode=color_mode, label_mode=label_mode,
        batch_size=None, shuffle=False, verbose=False,
    )


# helper read_text_folder


def read_text_folder(path, label_mode="int"):
    """One subfolder of .txt files per class, as an unbatched tf.data stream in file order."""
    return keras.utils.text_dataset_from_directory(str(path), label_mode=label_mode, batch_size=None, shuffle=False, verbose=False)


# helper split_rows


def split_rows(table, fractions, part=0, seed=0):
    """One part of a table: its rows shuffled once with ``seed`` and cut by ``fractions`` (any
    rest is one more part)."""
    fractions = [float(f) for f in fractions]
    if sum(fractions) < 1 - 1e-9:
        fractions.append(1 - sum(fractions))
    rows = len(table.x)
    order = np.random.default_rng(seed).permutation(rows)
    bounds = np.round(np.cumsum([0.0] + fractions) * rows).astype(int)
    bounds[-1] = rows
    return table.subset(np.sort(order[bounds[part] : bounds[part + 1]]))


# helper fit_table | imports: collections


def _ordered(values):
    """Categories in encoding order: numerically when they all read as numbers, else as text."""
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)


def _whole(values):
    try:
        return all(float(v) == int(float(v)) for v in values)
    except (ValueError, OverflowError):
        return False


def fit_table(table, loss_kind=None):
    """How the model sees the table, fitted on the training rows and saved with the model:

    - a numeric column is one input; a missing cell becomes its fill: the training mean unless
      the column's ``missing=`` policy is "median", "most_frequent", a number, or "error"/"drop"
      (no fill);
    - a categorical column is one-hot over the training categories (sorted; numerically when
      they all are numbers), after a first slot, Keras's "[UNK]", for a category never seen in
      training (none with ``unknown="error"``); an empty cell is a category of its own, ""
      (shown as "(missing)", first when training had some), unless its policy names a category;
    - a target of class labels, or of whole numbers under a classification loss (``loss_kind``:
      "sparse", "one_hot" or "binary"), has its class names in index order.
    """
    features = []
    for j, name in enumerate(table.feature_names):
        fill = _numeric_fill(table.x[:, j], table.policies.get(name, "mean"), name)
        features.append({"name": name, "kind": "numeric", "fill": fill, "categories": [], "unknown": "oov", "integer": False})
    for name in table.categorical:
        policy = table.policies.get(name, "mean")
        values = [v.strip() for v in table.columns[name]]
        present = [v for v in values if v]
        if policy in ("error", "drop"):
            fill = None
        elif policy == "most_frequent":
            counts = collections.Counter(present)
            if not counts:
                raise ValueError(f"expected categories to fit the most frequent of column {name!r}; received only missing cells")
            fill = min(v for v, n in counts.items() if n == max(counts.values()))
        elif policy in ("mean", "median"):
            fill = ""  # a category of its own
        else:
            fill = str(int(policy)) if isinstance(policy, float) and policy.is_integer() else str(policy)
        as_text = name in table.as_text  # "02134" and "007" as written: sorted as text, a string input
        categories = set(present) | ({fill} if fill else set())
        categories = sorted(categories) if as_text else _ordered(categories)
        if fill == "" and "" in values:
            categories = ["", *categories]
        integer = not as_text and bool(categories) and "" not in categories and _whole(categories)
        features.append({"name": name, "kind": "categorical", "fill": fill, "categories": categories,
                         "unknown": table.unknown, "integer": integer})
    # numeric columns with a fill first (``table_model`` fills them with one group of layers),
    # then those whose missing cells are refused, then the categorical columns
    features.sort(key=lambda f: 2 if f["kind"] != "numeric" else 1 if f["fill"] is None else 0)
    targets = [_fit_target(table, name, loss_kind) for name in table.target_names]
    return {"features": features, "targets": targets}


def _numeric_fill(column, policy, name):
    if policy in ("error", "drop"):
        return None
    if isinstance(policy, str) and policy not in ("mean", "median", "most_frequent"):
        raise ValueError(f"expected a number to fill the numeric column {name!r}; received the category {policy!r}")
    if not isinstance(policy, str):
        return float(policy)
    present = column[~np.isnan(column)]
    if present.size == 0:
        raise ValueError(f"expected values to fit the {policy} of column {name!r}; received only missing ones")
    if policy == "mean":
        return float(present.astype(np.float64).mean())
    if policy == "median":
        return float(np.median(present))
    values, counts = np.unique(present, return_counts=True)
    return float(values[int(np.argmax(counts))])  # the smallest of the most frequent


def _fit_target(table, name, loss_kind):
    one_hot = loss_kind == "one_hot"
    if name in table.labels:
        return {"name": name, "classes": _ordered({v.strip() for v in table.columns[name]}), "one_hot": one_hot}
    if loss_kind is None or table.y is None or len(table.target_names) != 1:
        return {"name": name, "classes": [], "one_hot": False}
    values = np.unique(table.y[:, 0])
    if not np.all(values == np.round(values)):
        return {"name": name, "classes": [], "one_hot": False}  # soft labels or probabilities: numbers, as written
    return {"name": name, "classes": [str(int(v)) for v in values], "one_hot": one_hot}


# helper encode_table | needs: Table


def encode_table(table, schema):
    """The table as the model takes it, with the encoding ``fit_table`` fitted on the training
    rows: numeric columns with their missing cells filled, then each categorical column's one-hot
    slots (the columns found by name, in the schema's order), and a target of class names as
    class indices (or one-hot rows, for categorical_crossentropy)."""
    parts, names = [], []
    for f in schema["features"]:
        if f["kind"] == "numeric":
            if f["name"] not in table.feature_names:
                raise ValueError(f"expected the numeric column {f['name']!r} the model was trained with; received data without it")
            column = table.x[:, table.feature_names.index(f["name"])].copy()
            holes = np.isnan(column)
            if holes.any():
                if f["fill"] is None:
                    raise ValueError(f"row {int(np.argmax(holes)) + 2}, column {f['name']!r}: expected a number; received a "
                                     "missing value (the model was trained with missing values in it refused)")
                column[holes] = f["fill"]
            parts.append(column[:, None])
            names.append(f["name"])
        else:
            if f["name"] not in table.columns:
                raise ValueError(f"expected the categorical column {f['name']!r} the model was trained with; received data without it")
            parts.append(_one_hot(table.columns[f["name"]], f))
            slots = (["[UNK]"] if f["unknown"] == "oov" else []) + [c or "(missing)" for c in f["categories"]]
            names.extend(f"{f['name']}={c}" for c in slots)
    x = np.concatenate(parts, axis=1).astype(np.float32) if parts else np.zeros((len(table.x), 0), np.float32)
    y = table.y
    targets = schema["targets"]
    if len(targets) == 1 and targets[0]["classes"] and (table.y is not None or table.labels):
        y = _class_indices(table, targets[0])
    elif table.labels:
        raise ValueError(f"expected numbers in the target column {table.labels[0]!r}; received text class labels")
    return Table(x, y, names, table.target_names, table.columns)


def _one_hot(values, f):
    """A categorical column's one-hot slots: "[UNK]" first (unless unknown="error"), then its categories."""
    oov = 1 if f["unknown"] == "oov" else 0
    slot = {c: i + oov for i, c in enumerate(f["categories"])}
    block = np.zeros((len(values), len(f["categories"]) + oov), dtype=np.float32)
    for row, value in enumerate(values):
        value = value.strip()
        if value == "" and f["fill"] is not None:
            value = f["fill"]
        if value in slot:
            block[row, slot[value]] = 1.0
        elif value == "" and f["fill"] is None:
            raise ValueError(f"row {row + 2}, column {f['name']!r}: expected a category; received an empty cell (the model "
                             "was trained with missing categories refused)")
        elif oov:
            block[row, 0] = 1.0
        else:
            raise ValueError(f"row {row + 2}, column {f['name']!r}: expected one of the training data's categories; received {value!r}")
    return block


def _class_indices(table, target):
    if table.labels:
        raw = [v.strip() for v in table.columns[target["name"]]]
    else:
        raw = [str(int(v)) if v == int(v) else f"{v:.9g}" for v in table.y[:, 0]]
    index = {c: i for i, c in enumerate(target["classes"])}
    for row, value in enumerate(raw):
        if value not in index:
            raise ValueError(f"row {row + 2}, column {target['name']!r}: expected one of the training data's classes; received {value!r}")
    out = np.array([index[v] for v in raw], dtype=np.float32)
    if target["one_hot"]:
        return np.eye(len(target["classes"]), dtype=np.float32)[out.astype(np.int64)]
    return out.reshape(-1, 1)


# helper fitted


def fitted(mean, variance):
    """Scaling statistics as float32; a constant column (variance 0) is left unscaled."""
    variance = np.where(variance > 0, variance, 1.0)
    return mean.astype("float32"), variance.astype("float32")


# helper fit_minmax | needs: fitted


def fit_minmax(array):
    """Min-max scaling to [0, 1]: as a Normalization, mean = the minimum and variance = the squared range."""
    flat = array.reshape(-1, array.shape[-1]).astype("float64")
    low, high = flat.min(axis=0), flat.max(axis=0)
    return fitted(low, (high - low) ** 2)


# helper fit_standard | needs: fitted


def fit_standard(array):
    """Standard scaling to mean 0 and variance 1."""
    flat = array.reshape(-1, array.shape[-1]).astype("float64")
    return fitted(flat.mean(axis=0), flat.var(axis=0))


# helper scale


def scale(array, mean, variance):
    """``array`` scaled with fitted statistics, as the Normalization layer computes it."""
    return ((array - mean) / np.maximum(np.sqrt(variance), 1e-7)).astype("float32")


# helper normalization


def normalization(mean, variance, invert=False):
    """The fitted scaling as a Keras layer, saved inside the model."""
    return keras.layers.Normalization(mean=mean.tolist(), variance=variance.tolist(), invert=invert)


# helper with_raw_target | needs: normalization


def with_raw_target(model, mean, variance, compile_args=None):
    """``model`` followed by Normalization(invert=True): it predicts the target in its raw units.
    Training used the scaled target; evaluating, saving and predicting use this model."""
    raw = keras.Sequential([keras.Input(shape=model.input_shape[1:]), *model.layers, normalization(mean, variance, invert=True)], name=model.name)
    if compile_args is not None:
        raw.compile(**compile_args)
    return raw


# helper split_validation | imports: math


def split_validation(x, y, fraction):
    """The last ``fraction`` of the rows held out before any shuffling, as Keras's validation_split."""
    at = int(math.floor(len(x) * (1.0 - fraction)))
    return (x[:at], y[:at]), (x[at:], y[at:])


# helper array_pipeline


def array_pipeline(x, y, batch_size, shuffle, seed, prefetch=True):
    """In-memory rows as a tf.data pipeline: shuffled each epoch with ``seed``, batched, prefetched.
    Up to 16 MiB the rows themselves are shuffled; beyond, their indices are."""
    tx, ty = tf.constant(x), tf.constant(y)
    if shuffle and x.nbytes + y.nbytes <= ROW_SHUFFLE_LIMIT:
        data = tf.data.Dataset.from_tensor_slices((tx, ty)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    elif shuffle:
        index = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
        data = index.map(lambda i: (tf.gather(tx, i), tf.gather(ty, i)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        data = tf.data.Dataset.from_tensor_slices((tx, ty)).batch(batch_size)
    return data.prefetch(tf.data.AUTOTUNE) if prefetch else data


# helper stream_pipeline


def stream_pipeline(stream, batch_size, shuffle, seed, cache=True, prefetch=True):
    """A folder stream for training: cached after the first epoch, shuffled each epoch, batched."""
    if cache:
        stream = stream.cache()
    if shuffle:
        count = int(stream.cardinality())
        stream = stream.shuffle(count if count > 0 else STREAM_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    stream = stream.batch(batch_size)
    return stream.prefetch(tf.data.AUTOTUNE) if prefetch else stream


# helper one_call_per_epoch


def one_call_per_epoch(model, pipeline):
    """Run a whole small epoch (at most MAX_STEPS_PER_EXECUTION batches) per compiled call: several times faster than
    one batch per call for small models, with the same weights."""
    batches = int(pipeline.cardinality())
    if batches > 0 and model.steps_per_execution != min(batches + 1, MAX_STEPS_PER_EXECUTION):
        model.steps_per_execution = min(batches + 1, MAX_STEPS_PER_EXECUTION)
        model.train_function = model.test_function = None


# helper adapt_layers


def adapt_layers(model, features):
    """Adapt the preprocessing layers written without statistics or vocabulary (Normalization,
    Discretization, TextVectorization, StringLookup, IntegerLookup) on the training features,
    each on what the layers before it make of them, as nndsl does before the first epoch."""
    leaves = []

    def flatten(group):
        for layer in group.layers:
            if isinstance(layer, keras.Sequential):
                flatten(layer)
            else:
                leaves.append(layer)

    flatten(model)
    for index, layer in enumerate(leaves):
        if isinstance(layer, keras.layers.Normalization):
            waiting = not layer.invert and layer.input_mean is None
        elif isinstance(layer, keras.layers.Discretization):
            waiting = layer.bin_boundaries is None
        elif isinstance(layer, (keras.layers.TextVectorization, keras.layers.StringLookup, keras.layers.IntegerLookup)):
            waiting = not layer._has_input_vocabulary  # Keras's only trace of a vocabulary given as a file
        else:
            waiting = False
        if not waiting:
            continue
        before = leaves[:index]
        if isinstance(features, tf.data.Dataset):
            data = features.map(lambda x, *_: x) if isinstance(features.element_spec, tuple) else features
            data = data.batch(1024)
            for earlier in before:
                data = data.map(lambda x, earlier=earlier: earlier(x, training=False))
        else:
            data = features
            if before:
                parts = []
                for start in range(0, len(features), 1024):
                    x = features[start:start + 1024]
                    for earlier in before:
                        x = earlier(x, training=False)
                    parts.append(keras.ops.convert_to_numpy(x))
                data = np.concatenate(parts)
        layer.adapt(data)


# helper with_paths_here | imports: pathlib


def with_paths_here(callback):
    """A callback whose relative file paths are relative to the .nn file's folder."""
    for attr in CALLBACK_PATH_ATTRIBUTES:
        value = getattr(callback, attr, None)
        if isinstance(value, str) and not pathlib.Path(value).is_absolute():
            setattr(callback, attr, str(BASE / value))
    return callback


# helper report


def report(title, results):
    """Print a step's metrics on one line."""
    print(f"{title}: " + ", ".join(f"{name}={float(value):.6g}" for name, value in results.items()))


# helper predict_rows


def predict_rows(model, x, batch_size=None):
    """Predictions with large batches, and one call for SMALL_INPUT rows or fewer."""
    if batch_size is None and len(x) <= SMALL_INPUT:
        return np.asarray(model.predict_on_batch(x))
    return np.asarray(model.predict(x, batch_size=batch_size or PREDICT_BATCH, verbose=0))


# helper prediction_names


def prediction_names(predictions, targets, column=None, classes=(), keep=()):
    """The prediction columns: ``column`` if given, else the training target names, else the
    classes of the folder source trained on, else "prediction"; "_predicted" after a kept column's name."""
    width = predictions.reshape(len(predictions), -1).shape[1]
    if column:
        names = [column] if width == 1 else [f"{column}_{i}" for i in range(width)]
    elif targets and len(targets) == width:
        names = list(targets)
    elif classes and len(classes) == width:
        names = list(classes)
    else:
        names = ["prediction"] if width == 1 else [f"prediction_{i}" for i in range(width)]
    return [f"{n}_predicted" if n in keep else n for n in names]


# helper class_predictions | needs: prediction_names


def class_predictions(predictions, targets, schema, column=None, probabilities=False, keep=()):
    """The output columns of a model trained on a table: for a target of class names (see
    ``fit_table``), the class of each row, in a column named after the target (or ``column``), and
    with ``probabilities`` one column per class, named after it; other outputs (numbers, or not
    one per class nor one sigmoid for two classes) as ``prediction_names`` names them.
    Returns (names, the class of each row or None, the numbers to write)."""
    flat = predictions.reshape(len(predictions), -1)
    classes = schema["targets"][0]["classes"] if schema and len(schema["targets"]) == 1 else []
    if len(classes) >= 2 and flat.shape[1] == len(classes):
        probs = flat
    elif len(classes) == 2 and flat.shape[1] == 1:
        probs = np.column_stack([1.0 - flat[:, 0], flat[:, 0]])  # a sigmoid: the probability of the second class
    else:
        return prediction_names(predictions, targets, column=column, keep=keep), None, flat
    name = column or (targets[0] if len(targets) == 1 else "class")
    names = [name] + (list(classes) if probabilities else [])
    labels = [classes[i] for i in probs.argmax(axis=1)]
    return [f"{n}_predicted" if n in keep else n for n in names], labels, probs if probabilities else probs[:, :0]


# helper file_table | needs: Table | imports: os


def file_table(stream):
    """The file of each row of a folder source (``class/name.png``), as a table's ``file`` column."""
    files = [os.path.relpath(p, os.path.dirname(os.path.dirname(p))).replace(os.sep, "/") for p in stream.file_paths]
    return Table(np.zeros((len(files), 0), "float32"), columns={"file": files})


# helper write_predictions | imports: csv, os


def write_predictions(path, predictions, names, table=None, keep=(), labels=None, values=None):
    """Predictions as CSV, after the ``keep`` columns of the input (then the class of each row,
    ``labels``, and ``values`` in place of the predictions, for a classifier); or as .npy."""
    tmp = path.with_name(f".{path.name}.tmp")
    if path.suffix.lower() == ".npy":
        with open(tmp, "wb") as fh:
            np.save(fh, predictions)
    else:
        flat = predictions.reshape(len(predictions), -1) if values is None else values
        kept = {column: table.column_text(column) for column in keep}
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(list(keep) + names)
            for i, row in enumerate(flat):
                label = [labels[i]] if labels is not None else []
                writer.writerow([kept[c][i] for c in keep] + label + [f"{float(v):.9g}" for v in row])
    os.replace(tmp, path)
    print(f"wrote {len(predictions)} prediction{'' if len(predictions) == 1 else 's'} to {path.name}")


# helper print_predictions


def print_predictions(predictions, names, table=None, keep=(), rows=10, labels=None):
    """The first rows of the predictions, as CSV lines (the class of each row first, for a classifier)."""
    flat = predictions.reshape(len(predictions), -1)
    kept = {column: table.column_text(column) for column in keep}
    print(",".join(list(keep) + names))
    for i in range(min(rows, len(flat))):
        label = [labels[i]] if labels is not None else []
        print(",".join([kept[c][i] for c in keep] + label + [f"{float(v):.6g}" for v in flat[i]]))


# helper table_model


def table_model(core, schema, compile_args=None, optimizer=None):
    """The model as nndsl saves a model trained on a table: one input per feature column, by
    name (a dict of raw columns in), each encoded with Keras's own layers as ``encode_table``
    encodes it, the columns joined in the schema's order, then ``core``. Compiled with
    ``compile_args`` and the trained ``optimizer`` (its state is saved too), when given.

    - a categorical column: a ``StringLookup`` (``IntegerLookup`` for whole-number categories)
      over the training categories with ``output_mode="one_hot"``: an unseen category lands in
      the first slot, "[UNK]"; an empty string is a missing cell, its own category or folded
      onto the category it is filled with;
    - the numeric columns, joined: NaN (a missing cell) replaced by each column's fill, with
      standard layers only, so that ``keras.models.load_model`` needs nothing but Keras.
      ``ReLU(threshold=t)`` (t below every positive float32) keeps ``x`` where ``x > t`` and gives
      0 elsewhere, NaN included, so ``relu_t(x) - relu_t(-x)`` is ``x`` with NaN as 0;
      ``Discretization(bin_boundaries=[inf])`` marks NaN (it falls past the last boundary), and
      frozen ``Dense`` layers turn the marks into the fills. Columns without a fill follow as they are.
    """
    inputs, parts = {}, []
    numeric = [f for f in schema["features"] if f["kind"] == "numeric"]
    for group, fill in (([f for f in numeric if f["fill"] is not None], True), ([f for f in numeric if f["fill"] is None], False)):
        if not group:
            continue
        for f in group:
            inputs[f["name"]] = keras.Input(shape=(1,), name=f["name"], dtype="float32")
        x = _joined([inputs[f["name"]] for f in group], "numbers_filled" if fill else "numbers")
        parts.append(_filled(x, [f["fill"] for f in group]) if fill else x)
    for f in schema["features"]:
        if f["kind"] == "categorical":
            inputs[f["name"]], encoded = _categorical(f)
            parts.append(encoded)
    model = keras.Model(inputs=inputs, outputs=core(_joined(parts, "features")), name=f"{core.name}_table")
    if compile_args is not None:
        model.compile(**compile_args)
        # an optimizer of its own, holding the trained one's state: sharing the trained object
        # would save its variables under the inner model, and Keras would warn on loading
        model.optimizer.build(model.trainable_variables)
        if optimizer is not None and optimizer.built and len(optimizer.variables) == len(model.optimizer.variables):
            for mine, theirs in zip(model.optimizer.variables, optimizer.variables):
                mine.assign(theirs)
    return model


def _layer_name(column):
    """A layer name made of a column's name (Keras layer names are restricted in some formats)."""
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in column)


def _joined(tensors, name):
    return tensors[0] if len(tensors) == 1 else keras.layers.Concatenate(name=name)(tensors)


def _filled(x, fills):
    """The columns of ``x`` with NaN replaced by each column's fill."""
    layers, k = keras.layers, len(fills)
    positive = layers.ReLU(threshold=1e-45, name="positive_part")(x)
    negative = layers.ReLU(threshold=1e-45, name="negative_part")(layers.Rescaling(-1.0, name="negated")(x))
    value = layers.Subtract(name="present_values")([positive, negative])  # x, with NaN as 0
    marks = layers.Discretization(bin_boundaries=[float("inf")], output_mode="one_hot", name="missing_marks")(x)
    missing = layers.Dense(1, use_bias=False, trainable=False, name="missing",
                           kernel_initializer=keras.initializers.Constant([[0.0], [1.0]]))(marks)  # 1 where NaN
    missing = layers.Reshape((k,), name="missing_cells")(missing)
    fill = layers.Dense(k, use_bias=False, trainable=False, name="fills",
                        kernel_initializer=keras.initializers.Constant(np.diag(np.asarray(fills, dtype="float32"))))(missing)
    return layers.Add(name="filled")([value, fill])


def _categorical(f):
    """The input of a categorical column and its one-hot slots, in the order ``encode_table`` writes them."""
    layers, col = keras.layers, _layer_name(f["name"])
    oov = 1 if f["unknown"] == "oov" else 0
    if f["integer"]:
        x = keras.Input(shape=(1,), name=f["name"], dtype="int64")
        lookup = layers.IntegerLookup(vocabulary=np.asarray([int(float(c)) for c in f["categories"]], dtype="int64"),
                                      num_oov_indices=oov, output_mode="one_hot", name=f"{col}_lookup")
        return x, lookup(x)
    x = keras.Input(shape=(1,), name=f["name"], dtype="string")
    vocabulary = list(f["categories"])
    fold = f["fill"] not in (None, "") and "" not in vocabulary
    if fold:
        vocabulary.append("")  # a slot of its own for empty cells, folded onto the fill's slot below
    encoded = layers.StringLookup(vocabulary=vocabulary, num_oov_indices=oov, output_mode="one_hot", name=f"{col}_lookup")(x)
    if fold:
        width = len(f["categories"]) + oov
        matrix = np.zeros((width + 1, width), dtype="float32")
        matrix[np.arange(width), np.arange(width)] = 1.0
        matrix[width, oov + f["categories"].index(f["fill"])] = 1.0
        encoded = layers.Dense(width, use_bias=False, trainable=False, name=f"{col}_fill",
                               kernel_initializer=keras.initializers.Constant(matrix))(encoded)
    return x, encoded


# helper save_keras_file | imports: json, os, pathlib, zipfile


def save_keras_file(model, path, meta):
    """``model.save`` to a temporary file beside ``path``, then a rename, so an interrupted run
    never damages an earlier file. The table's encoding and the target names go with the
    model as nndsl saves them: a ``nndsl.json`` member of the .keras archive (Keras
    ignores it), or a ``.nndsl.json`` file beside any other format."""
    path = pathlib.Path(path)
    text = json.dumps({"format_version": 1, **meta}, indent=1)
    if path.suffix == "":
        model.export(str(path), verbose=False)
    else:
        tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
        try:
            model.save(tmp)
            if path.suffix == ".keras":
                with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as archive:
                    archive.writestr("nndsl.json", text)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
    if path.suffix != ".keras":
        path.with_name(path.name + ".nndsl.json").write_text(text, encoding="utf-8")
    print(f"saved {meta.get('core') or model.name} to {path.name}")  # a table model by the name of the model it wraps


# helper load_keras_file | imports: json, pathlib, zipfile


def load_keras_file(path):
    """A saved model (Keras safe mode on), and what was saved with it (the table's encoding, target names)."""
    path = pathlib.Path(path)
    model = keras.models.load_model(path, safe_mode=True)
    meta = {}
    try:
        if path.suffix == ".keras" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if "nndsl.json" in archive.namelist():
                    meta = json.loads(archive.read("nndsl.json").decode("utf-8"))
        side = path.with_name(path.name + ".nndsl.json")
        if not meta and side.is_file():
            meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError, zipfile.BadZipFile):
        meta = {}
    if meta.get("table") and not isinstance(model, keras.Sequential):
        # a model trained on a table, saved behind the layers that encode its named columns: the
        # steps below encode rows with encode_table, so they use the model those layers feed
        core = [layer for layer in model.layers if isinstance(layer, keras.Model)][-1]
        if model.get_compile_config():
            core.compile_from_config(model.get_compile_config())
        model = core
    return model, meta
