"""The helper functions an exported script may need, as the script gets them.

``nndsl export --to python`` copies into a script only the helpers its program uses, each
section below as it stands, in this order. nndsl never imports this file: it is kept as
Python so that it reads and lints as the code it becomes.

Each section starts with a mark::

    # helper NAME | needs: OTHER, ... | imports: MODULE, ...

naming the helpers it calls (copied in too) and the standard modules it imports (besides
keras, numpy as np and tensorflow as tf, which every script imports). The names imported from
``nndsl.run.defaults`` below are placeholders: the exporter writes each one's value in its
place, so that a script uses the numbers ``nndsl run`` uses.

Everything above the first mark stands for what a script defines before its helpers.
"""

import csv
import json
import math
import os
import pathlib
import zipfile

import keras
import numpy as np
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
    """The rows of a data source: features ``x`` and targets ``y`` (None without a target) as
    float32 arrays, their column names, and the text of every column that is not numeric."""

    def __init__(self, x, y=None, feature_names=(), target_names=(), columns=None, categorical=()):
        self.x = x
        self.y = y
        self.feature_names = list(feature_names)
        self.target_names = list(target_names)
        self.columns = dict(columns or {})
        self.categorical = list(categorical)

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
                     self.target_names, {k: [v[i] for i in index] for k, v in self.columns.items()}, self.categorical)


# helper read_csv | needs: Table | imports: csv, math


def _names(value):
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def read_csv(path, target=None, features=None, exclude=None, categorical=None, delimiter=",", ids=None):
    """A CSV file with a header row. The feature columns (every column but the targets,
    excluded, id and categorical ones, unless ``features`` names them) and the targets are
    read as float32; the other columns are kept as text."""
    targets, excluded, ids, categorical = _names(target), _names(exclude), _names(ids), _names(categorical)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [row for row in csv.reader(fh, delimiter=delimiter) if row and any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise ValueError(f"{path}: expected a header row and data rows; received {len(rows)} rows")
    header = [h.strip() for h in rows[0]]
    if features is None:
        features = [h for h in header if h not in targets + excluded + ids + categorical]
    else:
        features = [c for c in _names(features) if c not in categorical]
    numeric = features + targets
    for column in numeric + excluded + ids + categorical:
        if column not in header:
            raise ValueError(f"{path}: expected a column {column!r}; received columns {', '.join(header)}")
    index = [header.index(c) for c in numeric]
    values = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}: row {line}: expected {len(header)} fields like the header; received {len(row)}")
        for j in index:
            value = float(row[j].strip())
            if math.isnan(value) or math.isinf(value):
                raise ValueError(f"{path}: row {line}, column {header[j]!r}: expected a finite number; received {row[j]!r}")
            values.append(value)
    table = np.array(values, dtype=np.float32).reshape(len(rows) - 1, len(numeric))
    text = {c: [row[header.index(c)] for row in rows[1:]] for c in header if c not in numeric}
    x = np.ascontiguousarray(table[:, : len(features)])
    y = np.ascontiguousarray(table[:, len(features):]) if targets else None
    return Table(x, y, features, targets, text, categorical)


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


# helper fit_categories


def fit_categories(table):
    """Each categorical column's categories in the training rows: sorted, numerically when they all are numbers."""

    def ordered(values):
        try:
            return sorted(values, key=float)
        except ValueError:
            return sorted(values)

    return {column: ordered({v.strip() for v in table.columns[column]}) for column in table.categorical}


# helper one_hot | needs: Table


def one_hot(table, categories):
    """The table with its categorical columns one-hot encoded with ``categories`` (those of the
    training rows), one column per category, after the numeric features."""
    if not categories and not table.categorical:
        return table
    blocks, names = [], list(table.feature_names)
    for column, values in categories.items():
        index = {v: i for i, v in enumerate(values)}
        block = np.zeros((len(table.columns[column]), len(values)), dtype=np.float32)
        for row, value in enumerate(table.columns[column]):
            if value.strip() not in index:
                raise ValueError(f"row {row + 2}, column {column!r}: expected one of the training data's categories; received {value!r}")
            block[row, index[value.strip()]] = 1.0
        blocks.append(block)
        names.extend(f"{column}={v}" for v in values)
    parts = ([table.x] if table.x.shape[1] else []) + blocks
    x = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
    return Table(x, table.y, names, table.target_names, table.columns)


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


# helper file_table | needs: Table | imports: os


def file_table(stream):
    """The file of each row of a folder source (``class/name.png``), as a table's ``file`` column."""
    files = [os.path.relpath(p, os.path.dirname(os.path.dirname(p))).replace(os.sep, "/") for p in stream.file_paths]
    return Table(np.zeros((len(files), 0), "float32"), columns={"file": files})


# helper write_predictions | imports: csv, os


def write_predictions(path, predictions, names, table=None, keep=()):
    """Predictions as CSV, after the ``keep`` columns of the input; or as .npy."""
    tmp = path.with_name(f".{path.name}.tmp")
    if path.suffix.lower() == ".npy":
        with open(tmp, "wb") as fh:
            np.save(fh, predictions)
    else:
        flat = predictions.reshape(len(predictions), -1)
        kept = {column: table.column_text(column) for column in keep}
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(list(keep) + names)
            for i, row in enumerate(flat):
                writer.writerow([kept[c][i] for c in keep] + [f"{float(v):.9g}" for v in row])
    os.replace(tmp, path)
    print(f"wrote {len(predictions)} prediction{'' if len(predictions) == 1 else 's'} to {path.name}")


# helper print_predictions


def print_predictions(predictions, names, table=None, keep=(), rows=10):
    """The first rows of the predictions, as CSV lines."""
    flat = predictions.reshape(len(predictions), -1)
    kept = {column: table.column_text(column) for column in keep}
    print(",".join(list(keep) + names))
    for i in range(min(rows, len(flat))):
        print(",".join([kept[c][i] for c in keep] + [f"{float(v):.6g}" for v in flat[i]]))


# helper save_keras_file | imports: json, os, pathlib, zipfile


def save_keras_file(model, path, meta):
    """``model.save`` to a temporary file beside ``path``, then a rename, so an interrupted run
    never damages an earlier file. The categories of categorical columns and the target names
    go with the model as nndsl saves them: a ``nndsl.json`` member of the .keras archive (Keras
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
    print(f"saved {model.name} to {path.name}")


# helper load_keras_file | imports: json, pathlib, zipfile


def load_keras_file(path):
    """A saved model (Keras safe mode on), and what was saved with it (categories, target names)."""
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
    return model, meta
