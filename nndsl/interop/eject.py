"""``eject(checked) -> str``: a ``.nn`` program as a self-contained plain-Keras Python script.

The script does what ``nndsl run`` does, step by step, with nothing but Keras, TensorFlow,
NumPy and the standard library: it reads the data sources the same way, fits the same
preprocessing on the training rows, builds and compiles the same ``keras.Sequential`` models
(each layer written as its literal Keras call), trains them through the same ``tf.data``
pipeline with the same seed and ``steps_per_execution``, so the weights it trains are the
weights ``nndsl run`` trains, then evaluates, saves, loads and predicts, writing the same files.

``let`` variables become module constants, and arguments written with them use the constant,
so a value is edited in one place. A name that is neither Keras's nor one of nndsl's own
(a plugin's layer, activation, data source, preprocessor or step) is refused with an error
naming each use: a script that silently did something else would be worse than none.

Generating the script never imports TensorFlow.
"""

from __future__ import annotations

import ast as pyast
import builtins
import json
import keyword
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import ast
from ..errors import UsageError
from ..plugins.registry import normalize, registry
from ..semantics.check import CheckedData, CheckedModel, CheckedProgram, CheckedStep
from ..semantics.keras_check import ResolvedCall, ResolvedName, keras2_input, sequential_spec
from ..semantics.result import MODEL_OPTIONS
from ..semantics.values import Symbol

# The implementations of the steps and data sources the script can reproduce.
_STEPS = {
    "nndsl.run.steps:train": "train", "nndsl.run.steps:test": "test", "nndsl.run.steps:save": "save",
    "nndsl.run.steps:load": "load", "nndsl.run.steps:predict": "predict", "nndsl.run.steps:summary": "summary",
    "nndsl.reports.steps:test": "test",
}
_SOURCES = {
    "nndsl.data.csv:load": "csv", "nndsl.data.arrays:load_npz": "npz", "nndsl.data.arrays:load_npy": "npy",
    "nndsl.data.folders:load_images": "image_folder", "nndsl.data.folders:load_texts": "text_folder",
    "nndsl.data.split:load": "split",
}
_STREAMED = {"image_folder", "text_folder"}
_PREPROCESSORS = {"minmax": "fit_minmax", "standard": "fit_standard"}
_INSTANTIATE_NAMES = ("initializers", "regularizers", "constraints", "optimizers", "losses", "metrics")
_CALLBACK_PATHS = ("filepath", "filename", "log_dir", "backup_dir")

# The same constants as nndsl's runner (nndsl.run.steps and nndsl.run.pipeline).
PREDICT_BATCH = 4096
SMALL_INPUT = 64
MAX_STEPS_PER_EXECUTION = 128
ROW_SHUFFLE_LIMIT = 16 * 2**20

_KINDS_WORD = {
    "layers": "layer", "activations": "activation", "losses": "loss", "optimizers": "optimizer",
    "schedules": "learning-rate schedule", "metrics": "metric", "initializers": "initializer",
    "regularizers": "regularizer", "constraints": "constraint", "callbacks": "callback",
}


def eject(checked: CheckedProgram, *, source_path, output_path=None) -> str:
    """The program as a plain-Keras Python script.

    Args:
        checked: the checked program (``nndsl.check``, with ``--set`` overrides already applied).
        source_path: the ``.nn`` file; its paths are relative to its folder.
        output_path: where the script will be written. The script finds the ``.nn`` file's folder
            relative to its own; by default it is assumed to live beside the ``.nn`` file.

    Raises:
        UsageError: the program uses names a plain Keras script cannot reproduce (plugin layers,
            activations, data sources, preprocessors or steps), listing every one of them.
    """
    return _Writer(checked, Path(source_path), Path(output_path) if output_path is not None else None).script()


# ---------------------------------------------------------------- helpers the script may need

# Each helper is (source, the helpers it uses, the imports it needs). Only those a program uses
# are written, in this order.
_HELPERS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}


def _helper(name: str, needs: tuple[str, ...] = (), imports: tuple[str, ...] = ()):
    def add(source: str) -> None:
        _HELPERS[name] = (source.strip("\n") + "\n", needs, imports)

    return add


_helper("Table")('''
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
''')

_helper("read_csv", ("Table",), ("csv", "math"))('''
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
''')

_helper("as_float32")('''
def as_float32(array):
    """A numeric array as float32, a single column when it is one-dimensional (as nndsl reads arrays)."""
    array = np.asarray(array).astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError("expected finite numbers; received NaN or infinity")
    return array[:, None] if array.ndim == 1 else array
''')

_helper("read_npz", ("Table", "as_float32"))('''
def read_npz(path, x="x", y=None):
    """A NumPy .npz archive: features from array ``x``, targets from array ``y`` ("y" when present)."""
    with np.load(path, allow_pickle=False) as archive:
        if y is None and "y" in archive.files:
            y = "y"
        features = as_float32(archive[x])
        targets = as_float32(archive[y]) if y else None
    return Table(features, targets, [f"x{i}" for i in range(features.shape[-1])], [y] if y else [])
''')

_helper("read_npy", ("Table", "as_float32"))('''
def read_npy(path, target=None):
    """A .npy file of features and, optionally, a .npy file of targets."""
    features = as_float32(np.load(path, allow_pickle=False))
    targets = as_float32(np.load(target, allow_pickle=False)) if target else None
    return Table(features, targets, [f"x{i}" for i in range(features.shape[-1])], ["y"] if target else [])
''')

_helper("read_image_folder")('''
def read_image_folder(path, image_size=(256, 256), color_mode="rgb", label_mode="int"):
    """One subfolder of images per class, as an unbatched tf.data stream in file order."""
    return keras.utils.image_dataset_from_directory(
        str(path), image_size=tuple(image_size), color_mode=color_mode, label_mode=label_mode,
        batch_size=None, shuffle=False, verbose=False,
    )
''')

_helper("read_text_folder")('''
def read_text_folder(path, label_mode="int"):
    """One subfolder of .txt files per class, as an unbatched tf.data stream in file order."""
    return keras.utils.text_dataset_from_directory(str(path), label_mode=label_mode, batch_size=None, shuffle=False, verbose=False)
''')

_helper("split_rows")('''
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
''')

_helper("fit_categories")('''
def fit_categories(table):
    """Each categorical column's categories in the training rows: sorted, numerically when they all are numbers."""

    def ordered(values):
        try:
            return sorted(values, key=float)
        except ValueError:
            return sorted(values)

    return {column: ordered({v.strip() for v in table.columns[column]}) for column in table.categorical}
''')

_helper("one_hot", ("Table",))('''
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
''')

_helper("fitted")('''
def fitted(mean, variance):
    """Scaling statistics as float32; a constant column (variance 0) is left unscaled."""
    variance = np.where(variance > 0, variance, 1.0)
    return mean.astype("float32"), variance.astype("float32")
''')

_helper("fit_minmax", ("fitted",))('''
def fit_minmax(array):
    """Min-max scaling to [0, 1]: as a Normalization, mean = the minimum and variance = the squared range."""
    flat = array.reshape(-1, array.shape[-1]).astype("float64")
    low, high = flat.min(axis=0), flat.max(axis=0)
    return fitted(low, (high - low) ** 2)
''')

_helper("fit_standard", ("fitted",))('''
def fit_standard(array):
    """Standard scaling to mean 0 and variance 1."""
    flat = array.reshape(-1, array.shape[-1]).astype("float64")
    return fitted(flat.mean(axis=0), flat.var(axis=0))
''')

_helper("scale")('''
def scale(array, mean, variance):
    """``array`` scaled with fitted statistics, as the Normalization layer computes it."""
    return ((array - mean) / np.maximum(np.sqrt(variance), 1e-7)).astype("float32")
''')

_helper("normalization")('''
def normalization(mean, variance, invert=False):
    """The fitted scaling as a Keras layer, saved inside the model."""
    return keras.layers.Normalization(mean=mean.tolist(), variance=variance.tolist(), invert=invert)
''')

_helper("with_raw_target", ("normalization",))('''
def with_raw_target(model, mean, variance, compile_args=None):
    """``model`` followed by Normalization(invert=True): it predicts the target in its raw units.
    Training used the scaled target; evaluating, saving and predicting use this model."""
    raw = keras.Sequential([keras.Input(shape=model.input_shape[1:]), *model.layers, normalization(mean, variance, invert=True)], name=model.name)
    if compile_args is not None:
        raw.compile(**compile_args)
    return raw
''')

_helper("split_validation", (), ("math",))('''
def split_validation(x, y, fraction):
    """The last ``fraction`` of the rows held out before any shuffling, as Keras's validation_split."""
    at = int(math.floor(len(x) * (1.0 - fraction)))
    return (x[:at], y[:at]), (x[at:], y[at:])
''')

_helper("array_pipeline")(f'''
def array_pipeline(x, y, batch_size, shuffle, seed, prefetch=True):
    """In-memory rows as a tf.data pipeline: shuffled each epoch with ``seed``, batched, prefetched.
    Up to 16 MiB the rows themselves are shuffled; beyond, their indices are."""
    tx, ty = tf.constant(x), tf.constant(y)
    if shuffle and x.nbytes + y.nbytes <= {ROW_SHUFFLE_LIMIT}:
        data = tf.data.Dataset.from_tensor_slices((tx, ty)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    elif shuffle:
        index = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
        data = index.map(lambda i: (tf.gather(tx, i), tf.gather(ty, i)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        data = tf.data.Dataset.from_tensor_slices((tx, ty)).batch(batch_size)
    return data.prefetch(tf.data.AUTOTUNE) if prefetch else data
''')

_helper("stream_pipeline")('''
def stream_pipeline(stream, batch_size, shuffle, seed, cache=True, prefetch=True):
    """A folder stream for training: cached after the first epoch, shuffled each epoch, batched."""
    if cache:
        stream = stream.cache()
    if shuffle:
        count = int(stream.cardinality())
        stream = stream.shuffle(count if count > 0 else 1024, seed=seed, reshuffle_each_iteration=True)
    stream = stream.batch(batch_size)
    return stream.prefetch(tf.data.AUTOTUNE) if prefetch else stream
''')

_helper("one_call_per_epoch")(f'''
def one_call_per_epoch(model, pipeline):
    """Run a whole small epoch (at most {MAX_STEPS_PER_EXECUTION} batches) per compiled call: several times faster than
    one batch per call for small models, with the same weights."""
    batches = int(pipeline.cardinality())
    if batches > 0 and model.steps_per_execution != min(batches + 1, {MAX_STEPS_PER_EXECUTION}):
        model.steps_per_execution = min(batches + 1, {MAX_STEPS_PER_EXECUTION})
        model.train_function = model.test_function = None
''')

_helper("with_paths_here", (), ("pathlib",))('''
def with_paths_here(callback):
    """A callback whose relative file paths are relative to the .nn file's folder."""
    for attr in ("filepath", "filename", "log_dir", "backup_dir"):
        value = getattr(callback, attr, None)
        if isinstance(value, str) and not pathlib.Path(value).is_absolute():
            setattr(callback, attr, str(BASE / value))
    return callback
''')

_helper("report")('''
def report(title, results):
    """Print a step's metrics on one line."""
    print(f"{title}: " + ", ".join(f"{name}={float(value):.6g}" for name, value in results.items()))
''')

_helper("predict_rows")(f'''
def predict_rows(model, x, batch_size=None):
    """Predictions with large batches, and one call for {SMALL_INPUT} rows or fewer."""
    if batch_size is None and len(x) <= {SMALL_INPUT}:
        return np.asarray(model.predict_on_batch(x))
    return np.asarray(model.predict(x, batch_size=batch_size or {PREDICT_BATCH}, verbose=0))
''')

_helper("prediction_names")('''
def prediction_names(predictions, targets, column=None):
    """The prediction columns: ``column`` if given, else the training target names, else "prediction"."""
    width = predictions.reshape(len(predictions), -1).shape[1]
    if column:
        return [column] if width == 1 else [f"{column}_{i}" for i in range(width)]
    if targets and len(targets) == width:
        return list(targets)
    return ["prediction"] if width == 1 else [f"prediction_{i}" for i in range(width)]
''')

_helper("write_predictions", (), ("csv", "os"))('''
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
    print(f"wrote {len(predictions)} predictions to {path.name}")
''')

_helper("print_predictions")('''
def print_predictions(predictions, names, table=None, keep=(), rows=10):
    """The first rows of the predictions, as CSV lines."""
    flat = predictions.reshape(len(predictions), -1)
    kept = {column: table.column_text(column) for column in keep}
    print(",".join(list(keep) + names))
    for i in range(min(rows, len(flat))):
        print(",".join([kept[c][i] for c in keep] + [f"{float(v):.6g}" for v in flat[i]]))
''')

_helper("save_keras_file", (), ("json", "os", "pathlib", "zipfile"))('''
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
''')

_helper("load_keras_file", (), ("json", "pathlib", "zipfile"))('''
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
''')

_HELPER_ORDER = (
    "Table", "read_csv", "as_float32", "read_npz", "read_npy", "read_image_folder", "read_text_folder", "split_rows",
    "fit_categories", "one_hot", "fitted", "fit_minmax", "fit_standard", "scale", "normalization", "with_raw_target",
    "split_validation", "array_pipeline", "stream_pipeline", "one_call_per_epoch", "with_paths_here", "report",
    "predict_rows", "prediction_names", "write_predictions", "print_predictions", "save_keras_file", "load_keras_file",
)
_SCRIPT_NAMES = set(_HELPERS) | {"_names", "main", "HERE", "BASE", "SEED", "keras", "np", "tf", "csv", "json", "math",
                                  "os", "pathlib", "zipfile", "rows", "x", "y", "val_x", "val_y", "pipeline", "validation",
                                  "callbacks", "results", "predictions", "names", "meta", "inline_rows", "stream", "annotations"}


# ---------------------------------------------------------------- the writer


class _Unsupported(Exception):
    pass


@dataclass
class _ModelVars:
    """What the script knows, at one point of its steps, about one model name."""

    name: str
    checked: CheckedModel | None
    var: str = ""
    built: bool = False  # a Keras model is in `var` (built by training, or loaded)
    scaled_target: bool = False  # `var` trains on the scaled target: save/test/predict use its export
    export_ready: bool = False
    targets_set: bool = False
    categories_set: bool = False


@dataclass
class _DataInfo:
    kind: str  # csv, npz, npy, image_folder, text_folder, split
    streamed: bool
    categorical: bool


@dataclass
class _Writer:
    checked: CheckedProgram
    source_path: Path
    output_path: Path | None
    problems: list = field(default_factory=list)
    helpers: set = field(default_factory=set)
    imports: set = field(default_factory=set)
    taken: set = field(default_factory=set)
    names: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)  # let name -> constant name
    constant_values: dict = field(default_factory=dict)  # constant name -> Python value
    loaded_data: set = field(default_factory=set)

    def __post_init__(self) -> None:
        self.taken = set(_SCRIPT_NAMES) | set(keyword.kwlist) | set(dir(builtins))
        self.file = self.source_path.name
        inline = [v for step in self.checked.steps for v in (step.on, step.kwargs.get("validation_data")) if isinstance(v, CheckedData)]
        self.uses_categorical = any(self._data_info(cd).categorical for cd in [*self.checked.data.values(), *inline])
        self._models: dict[str, _ModelVars] = {}

    # ------------------------------------------------------------ names
    def allocate(self, key, preferred: str) -> str:
        """A Python name for ``key``, ``preferred`` unless something else already has it."""
        if key in self.names:
            return self.names[key]
        name, n = preferred, 2
        while name in self.taken:
            name, n = f"{preferred}_{n}", n + 1
        self.taken.add(name)
        self.names[key] = name
        return name

    def need(self, *helpers: str) -> None:
        for h in helpers:
            if h in self.helpers:
                continue
            self.helpers.add(h)
            _, deps, imports = _HELPERS[h]
            self.imports.update(imports)
            self.need(*deps)

    def where(self, span) -> str:
        return f"{self.file}:{span.line}:{span.column}" if span is not None else self.file

    def unsupported(self, span, what: str) -> None:
        problem = (span.start if span is not None else -1, f"{self.where(span)}: {what}")
        if problem not in self.problems:
            self.problems.append(problem)

    # ------------------------------------------------------------ values as Python
    def literal(self, value) -> str:
        """A plain value (number, string, bool, none, tuple, list, dict of those) as a Python literal."""
        if value is None or isinstance(value, bool):
            return repr(value)
        if isinstance(value, int):
            return repr(int(value))
        if isinstance(value, float):
            return repr(value) if math.isfinite(value) else f'float("{value}")'
        if isinstance(value, str):
            text = json.dumps(str(value), ensure_ascii=False)
            try:
                if pyast.literal_eval(text) == str(value):
                    return text
            except (ValueError, SyntaxError):
                pass
            return repr(str(value))
        if isinstance(value, tuple):
            items = [self.literal(v) for v in value]
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if isinstance(value, list):
            return f"[{', '.join(self.literal(v) for v in value)}]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.literal(k)}: {self.literal(v)}" for k, v in value.items()) + "}"
        raise _Unsupported(f"a value of type {type(value).__name__}")

    @staticmethod
    def plain(value) -> bool:
        if value is None or isinstance(value, (bool, int, float, str)):
            return True
        if isinstance(value, (list, tuple)):
            return all(_Writer.plain(v) for v in value)
        if isinstance(value, dict):
            return all(_Writer.plain(k) and _Writer.plain(v) for k, v in value.items())
        return False

    @staticmethod
    def python_value(value):
        if isinstance(value, Symbol):
            return str(value)
        if isinstance(value, list):
            return [_Writer.python_value(v) for v in value]
        if isinstance(value, tuple):
            return tuple(_Writer.python_value(v) for v in value)
        if isinstance(value, dict):
            return {_Writer.python_value(k): _Writer.python_value(v) for k, v in value.items()}
        return value

    def expression(self, node, shadow=frozenset()) -> str | None:
        """``node`` as a Python expression over the let constants, or None when it is not one."""
        if isinstance(node, ast.Number):
            return self.literal(node.value)
        if isinstance(node, ast.String):
            return self.literal(node.value)
        if isinstance(node, ast.Bool):
            return repr(bool(node.value))
        if isinstance(node, ast.NoneLit):
            return "None"
        if isinstance(node, ast.Name):
            if node.id in shadow or node.id not in self.constants:
                return None
            return self.constants[node.id]
        if isinstance(node, ast.UnaryOp):
            inner = self.expression(node.operand, shadow)
            if inner is None:
                return None
            if isinstance(node.operand, ast.BinOp):
                inner = f"({inner})"
            return f"{node.op}{inner}"
        if isinstance(node, ast.BinOp):
            left = self.expression(node.left, shadow)
            right = self.expression(node.right, shadow)
            if left is None or right is None:
                return None
            prec = 1 if node.op in "+-" else 2
            if isinstance(node.left, ast.BinOp) and (1 if node.left.op in "+-" else 2) < prec:
                left = f"({left})"
            if isinstance(node.right, ast.BinOp) and (1 if node.right.op in "+-" else 2) <= prec:
                right = f"({right})"
            return f"{left} {node.op} {right}"
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.expression(i, shadow) for i in node.items]
            if any(i is None for i in items):
                return None
            if isinstance(node, ast.List):
                return f"[{', '.join(items)}]"
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        return None

    def same(self, code: str, value) -> bool:
        """Whether the Python expression ``code`` evaluates to exactly ``value`` (types included)."""
        try:
            # `code` was built from literals, operators and the let constants only
            got = eval(compile(code, "<expression>", "eval"), {"__builtins__": {}}, dict(self.constant_values))  # noqa: S307
        except Exception:
            return False
        return _strictly_equal(got, self.python_value(value))

    def code(self, value, node=None, shadow=frozenset()) -> str:
        """A checked argument value as Python: what nndsl passes to Keras, written as source."""
        if isinstance(value, ResolvedCall):
            return self.call(value, shadow)
        if isinstance(value, ResolvedName):
            text = self.name(value, node.span if node is not None else None)
            if isinstance(node, ast.Name) and node.id not in shadow and node.id in self.constants:
                const = self.constants[node.id]
                if text == self.literal(self.constant_values[const]):
                    return const  # `activation=act` after `let act = relu`
            return text
        if isinstance(value, CheckedData):
            raise _Unsupported("a data source here")
        if self.plain(value):
            literal = self.literal(self.python_value(value))
            if node is not None:
                expr = self.expression(node, shadow)
                if expr is not None and expr != literal and self.same(expr, value):
                    return expr
            return literal
        if isinstance(value, (list, tuple)):
            items = list(node.items) if isinstance(node, (ast.List, ast.Tuple)) and len(node.items) == len(value) else [None] * len(value)
            parts = [self.code(v, n, shadow) for v, n in zip(value, items)]
            if isinstance(value, list):
                return f"[{', '.join(parts)}]"
            return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
        if isinstance(value, dict):
            pairs = list(node.items) if isinstance(node, ast.Dict) and len(node.items) == len(value) else [None] * len(value)
            return "{" + ", ".join(f"{self.literal(self.python_value(k))}: {self.code(v, p.value if p is not None else None, shadow)}"
                                   for (k, v), p in zip(value.items(), pairs)) + "}"
        raise _Unsupported(f"a value of type {type(value).__name__}")

    def _keras_path(self, kind: str, spec, span) -> str | None:
        """The public Keras path of a resolved spec, or None (recorded as a problem) for a plugin's name."""
        if spec is sequential_spec():
            return "keras.Sequential"
        try:
            entry = registry(kind).entry(spec.name)
        except KeyError:
            entry = None
        origin = entry.origin if entry is not None else "<unknown>"
        if origin != "nndsl" or not (spec.impl.startswith("keras.") or spec.impl.startswith("keras:")):
            self.unsupported(span, f"{_KINDS_WORD.get(kind, kind)} '{spec.name}' (from {origin})")
            return None
        if kind == "layers" and spec.name == "Input":
            return "keras.Input"
        return spec.impl.replace(":", ".")

    def call(self, rc: ResolvedCall, shadow=frozenset()) -> str:
        node = rc.node if isinstance(rc.node, ast.Call) else None
        path = self._keras_path(rc.kind, rc.spec, node.name_span if node is not None else None)
        if path is None:
            return "None"
        if rc.spec is sequential_spec():
            nodes = _sequential_item_nodes(node, len(rc.args.get("layers") or ()))
            layers = ", ".join(self.code(v, n, shadow) for v, n in zip(rc.args.get("layers") or (), nodes))
            rest = [f"{k}={self.code(v, _kwarg_node(node, k), shadow)}" for k, v in rc.args.items() if k != "layers"]
            return f"keras.Sequential([{layers}]{''.join(', ' + r for r in rest)})"
        params = [p.name for p in rc.spec.params]
        nodes = _argument_nodes(node, params)
        positional_ok = _positional_params(rc.kind, rc.spec)
        given = len(node.args) if node is not None else 0
        parts: list[str] = []
        used: set[str] = set()
        for i, p in enumerate(params[:given]):
            if p not in rc.args or p not in positional_ok:
                break
            parts.append(self.code(rc.args[p], nodes.get(p), shadow))
            used.add(p)
        parts.extend(self.code(v, None, shadow) for v in rc.args.get("*args", ()))
        for k, v in rc.args.items():
            if k in used or k == "*args":
                continue
            parts.append(f"{k}={self.code(v, nodes.get(k), shadow)}")
        return f"{path}({', '.join(parts)})"

    def name(self, rn: ResolvedName, span=None) -> str:
        """A bare name (``relu``, ``mse``, ``adam``) as the object nndsl gives Keras for it."""
        spec = rn.spec
        path = self._keras_path(rn.kind, spec, span)
        if path is None:
            return "None"
        if rn.kind == "activations" or rn.kind not in _INSTANTIATE_NAMES:
            return self.literal(spec.name)
        written = rn.written or spec.name
        if rn.kind in ("metrics", "losses") and _compile_special(rn.kind, written):
            return self.literal(written.lower())  # "accuracy": model.compile picks the right one for the loss
        cls = _class_path(rn.kind, spec)
        if cls is None:
            return path
        if rn.kind == "metrics" and rn.written:
            return f"{cls}(name={self.literal(rn.written)})"
        return f"{cls}()"

    # ------------------------------------------------------------ let constants
    def let_constants(self) -> list[str]:
        lines = []
        for stmt in self.checked.program.statements:
            if not isinstance(stmt, ast.Let) or stmt.name not in self.checked.variables:
                continue
            value = self.checked.variables[stmt.name]
            if not self.plain(value):
                continue  # a call (an optimizer, a layer): written out where it is used
            const = self.allocate(("let", stmt.name), re.sub(r"\W", "_", stmt.name.upper()))
            literal = self.literal(self.python_value(value))
            expr = self.expression(stmt.value)
            text = expr if expr is not None and expr != literal and self.same(expr, value) else literal
            self.constants[stmt.name] = const
            self.constant_values[const] = self.python_value(value)
            lines.append(f"{const} = {text}")
        return lines

    # ------------------------------------------------------------ models
    def model_vars(self, name: str) -> _ModelVars:
        key = ("model", name)
        if key not in self.names:
            mv = _ModelVars(name, self.checked.models.get(name))
            mv.var = self.allocate(key, name)
            self._models[name] = mv
        return self._models[name]

    def var(self, mv: _ModelVars, what: str) -> str:
        return self.allocate((what, mv.name), f"{mv.name}_{what}")

    def builder(self, model: CheckedModel) -> list[str]:
        """``build_NAME(after_input)``: the model's layers, as nndsl's build_model makes them."""
        fn = self.allocate(("build", model.name), f"build_{model.name}")
        takes_preprocessing = model.options.scale_features != "none"
        seed = self.checked.settings.get("seed")
        doc = f"Model `{model.name}` of {self.file}{', compiled' if model.compile.get('loss') is not None else ''}."
        lines = [f"def {fn}({'after_input=()' if takes_preprocessing else ''}):"]
        if takes_preprocessing:
            lines += [f'    """{doc}', "", "    `after_input` are the fitted preprocessing layers, placed right after the input.", '    """']
        else:
            lines.append(f'    """{doc}"""')
        if seed is not None:
            lines.append("    keras.utils.set_random_seed(SEED)  # as nndsl does before it builds a model: the same initial weights")
        layers = self.layer_lines(model, takes_preprocessing)
        lines.append("    model = keras.Sequential(")
        lines.append("        [")
        lines.extend(f"            {item}," for item in layers)
        lines.append("        ],")
        lines.append(f"        name={self.literal(model.name)},")
        lines.append("    )")
        if model.compile.get("loss") is not None:
            lines.append(f"    model.compile(**{self.compile_args_name(model)}())")
        lines.append("    return model")
        return lines

    def layer_lines(self, model: CheckedModel, takes_preprocessing: bool) -> list[str]:
        resolved = list(model.resolved)
        out = []
        first = resolved[0]
        blocks = {s.name: s for s in self.checked.program.statements if isinstance(s, ast.BlockDecl)}

        def shadow_of(rl) -> frozenset:
            names: set[str] = set()
            for use in rl.layer.via:
                block = blocks.get(use.name)
                if block is not None:
                    names.update(p.name for p in block.params)
            return frozenset(names)

        if first.call.spec.name in ("Input", "InputLayer"):
            out.append(self.call(first.call, shadow_of(first)))
            resolved = resolved[1:]
        else:
            # Keras-2 style input_shape= / input_dim= on the first layer: an Input, then the layer without them
            shape, batch, resolved[0] = keras2_input(first)
            batch_arg = f", batch_size={self.literal(batch)}" if batch is not None else ""
            out.append(f"keras.Input(shape={self.literal(tuple(self.python_value(shape)))}{batch_arg})")
        if takes_preprocessing:
            out.append("*after_input")
        out.extend(self.call(rl.call, shadow_of(rl)) for rl in resolved)
        return out

    def compile_args_name(self, model: CheckedModel) -> str:
        return self.allocate(("compile", model.name), f"{model.name}_compile_args")

    def compile_function(self, model: CheckedModel) -> list[str]:
        fn = self.compile_args_name(model)
        args = {k: v for k, v in model.compile.items() if not k.startswith("_")}
        lines = [f"def {fn}():",
                 f'    """The arguments of model.compile for `{model.name}`: new loss, optimizer and metric objects on each call."""',
                 "    return dict("]
        for k, v in args.items():
            prop = model.properties.get(k)
            node = prop[1].value if prop is not None else None
            lines.append(f"        {k}={self.code(v, node)},")
        if "optimizer" not in args:
            lines.append('        optimizer="rmsprop",  # Keras\'s own default')
        lines.append("    )")
        return lines

    def preprocessing_check(self, model: CheckedModel) -> None:
        for option in model.properties:
            value = getattr(model.options, option) if option in MODEL_OPTIONS else "none"
            if value == "none":
                continue
            try:
                origin = registry("preprocessors").entry(value).origin
            except KeyError:
                origin = "<unknown>"
            if value not in _PREPROCESSORS or origin != "nndsl":
                prop = model.properties.get(option)
                self.unsupported(prop[1].value.span if prop else model.decl.name_span, f"preprocessor '{value}' (from {origin})")

    # ------------------------------------------------------------ data
    def _data_info(self, cd: CheckedData) -> _DataInfo:
        kind = _SOURCES.get(cd.spec.impl)
        if kind is None:
            return _DataInfo("?", False, False)
        if kind == "split":
            parent = self.checked.data.get(str(cd.args["source"]))
            info = self._data_info(parent) if parent is not None else _DataInfo("?", False, False)
            return _DataInfo("split", info.streamed, info.categorical)
        return _DataInfo(kind, kind in _STREAMED, kind == "csv" and bool(cd.args.get("categorical")))

    def data_ref(self, ref) -> tuple[CheckedData, str | None]:
        """The checked data source a step names, and its declared name (None for an inline source)."""
        if isinstance(ref, CheckedData):
            return ref, None
        return self.checked.data[str(ref)], str(ref)

    def load_data(self, body: list[str], ref) -> tuple[str, _DataInfo]:
        """Code that loads a data source (once, for a declared one); returns its variable."""
        cd, name = self.data_ref(ref)
        info = self._data_info(cd)
        if name is None:
            body.append(f"    inline_rows = {self.source_call(cd)}")
            return "inline_rows", info
        var = self.allocate(("data", name), f"{name}_data")
        if name not in self.loaded_data:
            if info.kind == "split":
                self.load_data(body, cd.args["source"])
            body.append(f"    {var} = {self.source_call(cd)}")
            self.loaded_data.add(name)
        return var, info

    def source_call(self, cd: CheckedData) -> str:
        kind = _SOURCES.get(cd.spec.impl)
        call = cd.decl.source
        params = [p.name for p in cd.spec.params]
        nodes = _argument_nodes(call, params)
        a = cd.args

        def arg(name):
            return self.code(a[name], nodes.get(name))

        def path(name):
            return f"BASE / {arg(name)}"

        if kind == "csv":
            self.need("read_csv")
            parts = [path("path")]
            for p in ("target", "features", "exclude", "categorical", "delimiter"):
                if a.get(p) is not None:
                    parts.append(f"{p}={arg(p)}")
            if a.get("id") is not None:
                parts.append(f"ids={arg('id')}")
            return f"read_csv({', '.join(parts)})"
        if kind == "npz":
            self.need("read_npz")
            parts = [path("path")]
            if a.get("x"):
                parts.append(f"x={arg('x')}")
            if a.get("y") is not None:
                parts.append(f"y={arg('y')}")
            return f"read_npz({', '.join(parts)})"
        if kind == "npy":
            self.need("read_npy")
            return f"read_npy({path('path')}" + (f", target={path('target')})" if a.get("target") else ")")
        if kind in ("image_folder", "text_folder"):
            self.need(f"read_{kind}")
            parts = [path("path")]
            if kind == "image_folder":
                if a.get("image_size"):
                    parts.append(f"image_size={arg('image_size')}")
                if a.get("color_mode"):
                    parts.append(f"color_mode={arg('color_mode')}")
            if "label_mode" in a and a["label_mode"] is None:
                mode = None
            else:
                mode = a.get("label_mode") or "int"
                mode = None if mode == "none" else str(mode)
            if mode != "int":
                parts.append(f"label_mode={self.literal(mode)}")
            return f"read_{kind}({', '.join(parts)})"
        if kind == "split":
            self.need("split_rows")
            parent = self.allocate(("data", str(a["source"])), f"{a['source']}_data")
            fractions = self.literal([float(f) if not isinstance(f, bool) else f for f in self.python_value(a["fractions"])])
            seed = a.get("seed")
            if seed is not None:
                seed_code = arg("seed")
            elif self.checked.settings.get("seed") is not None:
                seed_code = "SEED"
            else:
                seed_code = "0"
            part = arg("part") if "part" in a else "0"
            return f"split_rows({parent}, {fractions}, part={part}, seed={seed_code})"
        self.unsupported(cd.decl.source.name_span, f"data source '{cd.spec.name}' (from {_origin('data_sources', cd.spec.name)})")
        return "None"

    # ------------------------------------------------------------ steps
    def step_code(self, step: CheckedStep) -> list[str]:
        verb = _STEPS.get(step.spec.impl)
        text = self.checked.source.text[step.node.span.start:step.node.span.end] if self.checked.source is not None else step.verb
        body = [f"    # {line.rstrip()}" for line in text.splitlines() or [step.verb]]
        if verb is None:
            self.unsupported(step.node.verb_span, f"step '{step.spec.name}' (from {_origin('steps', step.spec.name)})")
            return body
        getattr(self, f"step_{verb}")(step, body)
        return body

    def kwarg_code(self, step: CheckedStep, name: str, default=None) -> str:
        node = next((k.value for k in step.node.kwargs if k.name == name), None)
        value = step.kwargs.get(name, default)
        return self.code(value, node)

    def uses_export(self, mv: _ModelVars, body: list[str]) -> str:
        """The model as nndsl saves, tests and predicts with it (target scaling undone)."""
        if not mv.scaled_target:
            return mv.var
        export = self.var(mv, "export")
        if not mv.export_ready:
            self.need("with_raw_target")
            compile_args = f", {self.compile_args_name(mv.checked)}()" if mv.checked.compile.get("loss") is not None else ""
            body.append(f"    {export} = with_raw_target({mv.var}, *{self.var(mv, 'target_scaling')}{compile_args})")
            mv.export_ready = True
        return export

    def encoded(self, body: list[str], mv: _ModelVars, var: str, info: _DataInfo) -> str:
        """The data's categorical columns one-hot encoded with the model's categories."""
        if not self.uses_categorical:
            return var
        self.need("one_hot")
        categories = self.var(mv, "categories")
        if not mv.categories_set:
            body.append(f"    {categories} = {{}}")
            mv.categories_set = True
        body.append(f"    rows = one_hot({var}, {categories})")
        return "rows"

    def step_train(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        var, info = self.load_data(body, step.on)
        kw = step.kwargs
        model = mv.checked
        seed = "SEED" if self.checked.settings.get("seed") is not None else "None"
        batch = self.kwarg_code(step, "batch_size") if kw.get("batch_size") else "32"
        val_batch = (self.kwarg_code(step, "validation_batch_size") if kw.get("validation_batch_size")
                     else (self.literal(max(int(kw.get("batch_size") or 32), 1024)) if batch.isdigit() else f"max({batch}, 1024)"))
        shuffle = kw.get("shuffle", True) is not False
        prefetch = "" if kw.get("prefetch", True) is not False else ", prefetch=False"
        fit_args = [f"epochs={self.kwarg_code(step, 'epochs') if kw.get('epochs') else '1'}"]
        for k in ("class_weight", "initial_epoch", "steps_per_epoch", "validation_steps", "validation_freq"):
            if kw.get(k) is not None:
                fit_args.append(f"{k}={self.kwarg_code(step, k)}")
        if info.streamed:
            self.need("stream_pipeline")
            if kw.get("validation_split"):
                raise UsageError(f"{self.where(step.node.span)}: expected no validation_split for the streamed folder source '{step.on}'; "
                                 "received validation_split (nndsl run refuses it too: give validation data as its own source)")
            if not mv.built:
                if model is None:
                    raise UsageError(f"{self.where(step.node.span)}: expected a model defined in the file; received '{step.target}'")
                fn = self.allocate(("build", model.name), f"build_{model.name}")
                takes = model.options.scale_features != "none"
                body.append(f"    {mv.var} = {fn}({'after_input=[keras.layers.Normalization()]' if takes else ''})")
                mv.built = True
            cache = "" if kw.get("cache", True) is not False else ", cache=False"
            body.append(f"    pipeline = stream_pipeline({var}, batch_size={batch}, shuffle={shuffle}, seed={seed}{cache}{prefetch})")
            if kw.get("validation_data") is not None:
                vvar, vinfo = self.load_data(body, kw["validation_data"])
                body.append(f"    validation = stream_pipeline({vvar}, batch_size={val_batch}, shuffle=False, seed=None{prefetch})")
                fit_args.append("validation_data=validation")
        else:
            first = not mv.built
            if first and model is None:
                raise UsageError(f"{self.where(step.node.span)}: expected a model defined in the file; received '{step.target}'")
            if first and self.uses_categorical:
                categories = self.var(mv, "categories")
                if info.categorical:
                    self.need("fit_categories")
                    body.append(f"    {categories} = fit_categories({var})  # the categories of the training rows")
                else:
                    body.append(f"    {categories} = {{}}")
                mv.categories_set = True
            rows = self.encoded(body, mv, var, info)
            if first:
                features, target = model.options.scale_features, model.options.scale_target
                after = ""
                body.append(f"    {self.var(mv, 'targets')} = {rows}.target_names")
                mv.targets_set = True
                if features != "none" and features in _PREPROCESSORS:
                    self.need(_PREPROCESSORS[features], "normalization")
                    stats = self.var(mv, "feature_scaling")
                    body.append(f"    {stats} = {_PREPROCESSORS[features]}({rows}.x)  # fitted on the training features")
                    after = f"after_input=[normalization(*{stats})]"
                if target != "none" and target in _PREPROCESSORS:
                    self.need(_PREPROCESSORS[target])
                    body.append(f"    {self.var(mv, 'target_scaling')} = {_PREPROCESSORS[target]}({rows}.y)  # fitted on the training target")
                    mv.scaled_target = True
                    mv.export_ready = False
                fn = self.allocate(("build", model.name), f"build_{model.name}")
                body.append(f"    {mv.var} = {fn}({after})")
                if features == "none" and _adapts_first_normalization(model):
                    body.append(f"    {mv.var}.layers[0].adapt({rows}.x)  # the un-fitted Normalization written first, as nndsl adapts it")
                mv.built = True
            if mv.scaled_target:
                self.need("scale")
                body.append(f"    x, y = {rows}.x, scale({rows}.y, *{self.var(mv, 'target_scaling')})  # training uses the scaled target")
            else:
                body.append(f"    x, y = {rows}.x, {rows}.y")
            validation = False
            if kw.get("validation_data") is not None:
                vvar, vinfo = self.load_data(body, kw["validation_data"])
                vrows = self.encoded(body, mv, vvar, vinfo)
                if mv.scaled_target:
                    body.append(f"    val_x, val_y = {vrows}.x, scale({vrows}.y, *{self.var(mv, 'target_scaling')})")
                else:
                    body.append(f"    val_x, val_y = {vrows}.x, {vrows}.y")
                validation = True
            elif kw.get("validation_split"):
                self.need("split_validation")
                body.append(f"    (x, y), (val_x, val_y) = split_validation(x, y, {self.kwarg_code(step, 'validation_split')})")
                validation = True
            self.need("array_pipeline")
            body.append(f"    pipeline = array_pipeline(x, y, batch_size={batch}, shuffle={shuffle}, seed={seed}{prefetch})")
            if validation:
                body.append(f"    validation = array_pipeline(val_x, val_y, batch_size={val_batch}, shuffle=False, seed=None{prefetch})")
                fit_args.append("validation_data=validation")
        if kw.get("steps_per_epoch") is not None:
            body.append("    pipeline = pipeline.repeat()")
        if model is None or "steps_per_execution" not in model.compile:
            self.need("one_call_per_epoch")
            body.append(f"    one_call_per_epoch({mv.var}, pipeline)")
        callbacks = []
        for cb in kw.get("callbacks") or []:
            self.need("with_paths_here")
            callbacks.append(f"with_paths_here({self.code(cb)})")
        callbacks.append("keras.callbacks.TerminateOnNaN()")  # nndsl stops at the first NaN loss too
        if len(callbacks) > 1:
            body.append(f"    callbacks = [{', '.join(callbacks)}]")
            fit_args.append("callbacks=callbacks")
        else:
            fit_args.append(f"callbacks=[{callbacks[0]}]")
        body.append(f"    {mv.var}.fit(pipeline, {', '.join(fit_args)}, verbose=2)")

    def step_test(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        var, info = self.load_data(body, step.on)
        model = self.uses_export(mv, body)
        self.need("report")
        title = self.literal(f"{step.verb} {step.target} on {step.on if not isinstance(step.on, CheckedData) else step.on.spec.name}")
        if info.streamed:
            batch = self.kwarg_code(step, "batch_size") if step.kwargs.get("batch_size") else "32"
            body.append(f"    results = {model}.evaluate({var}.batch({batch}), verbose=0, return_dict=True)")
        else:
            rows = self.encoded(body, mv, var, info)
            extra = "".join(f", {k}={self.kwarg_code(step, k)}" for k in ("batch_size", "steps") if step.kwargs.get(k) is not None)
            raw = "  # in raw units" if mv.scaled_target else ""
            body.append(f"    results = {model}.evaluate({rows}.x, {rows}.y, verbose=0, return_dict=True{extra}){raw}")
        body.append(f"    report({title}, results)")

    def step_save(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        model = self.uses_export(mv, body)
        target = str(step.to)
        suffix = Path(target).suffix
        fmt = step.kwargs.get("format") or ("h5" if suffix.lower() in (".h5", ".hdf5") else "export" if suffix == "" else "keras")
        if fmt == "keras" and suffix != ".keras":
            raise UsageError(f"{self.where(step.node.to.span)}: expected a path ending in .keras for the Keras format; received '{target}' "
                             "(nndsl run refuses it too)")
        if fmt == "export" and suffix != "":
            raise UsageError(f"{self.where(step.node.to.span)}: expected a folder path without an extension for format=export; received '{target}'")
        if fmt == "h5" and suffix.lower() not in (".h5", ".hdf5"):
            raise UsageError(f"{self.where(step.node.to.span)}: expected a path ending in .h5 for format=h5; received '{target}'")
        self.need("save_keras_file")
        categories = self.var(mv, "categories") if self.uses_categorical and mv.categories_set else None
        targets = self.var(mv, "targets") if mv.targets_set else None
        meta = f'{{"categorical": {categories or "{}"}, "target_names": {targets or "[]"}}}'
        node = step.node.to
        body.append(f"    save_keras_file({model}, BASE / {self.code(step.to, node)}, {meta})")

    def step_load(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        self.need("load_keras_file")
        body.append(f"    {mv.var}, meta = load_keras_file(BASE / {self.code(step.from_, step.node.from_)})")
        body.append(f"    {self.var(mv, 'targets')} = meta.get(\"target_names\") or []")
        mv.targets_set = True
        if self.uses_categorical:
            body.append(f"    {self.var(mv, 'categories')} = meta.get(\"categorical\") or {{}}")
            mv.categories_set = True
        mv.built = True
        mv.scaled_target = False
        mv.export_ready = False

    def step_predict(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        var, info = self.load_data(body, step.on)
        model = self.uses_export(mv, body)
        keep = step.kwargs.get("keep")
        keep_list = [keep] if isinstance(keep, str) else list(keep or [])
        if info.streamed:
            if keep_list:
                raise UsageError(f"{self.where(step.node.span)}: expected no keep= columns for the streamed folder source "
                                 f"'{step.on}'; received {keep_list}")
            body.append(f"    predictions = np.asarray({model}.predict({var}.batch({PREDICT_BATCH}), verbose=0))")
            table = "None"
        else:
            rows = self.encoded(body, mv, var, info)
            self.need("predict_rows")
            batch = f", batch_size={self.kwarg_code(step, 'batch_size')}" if step.kwargs.get("batch_size") else ""
            body.append(f"    predictions = predict_rows({model}, {rows}.x{batch})")
            table = rows
        self.need("prediction_names")
        targets = self.var(mv, "targets") if mv.targets_set else "[]"
        column = f", column={self.kwarg_code(step, 'column')}" if step.kwargs.get("column") else ""
        body.append(f"    names = prediction_names(predictions, {targets}{column})")
        keep_code = self.kwarg_code(step, "keep") if keep is not None else "()"
        if isinstance(keep, str):
            keep_code = f"[{keep_code}]"
        if step.to is None:
            self.need("print_predictions")
            rows_code = self.kwarg_code(step, "rows") if step.kwargs.get("rows") else "10"
            body.append(f"    print_predictions(predictions, names, {table}, keep={keep_code}, rows={rows_code})")
            return
        suffix = Path(str(step.to)).suffix.lower()
        if suffix not in (".npy", ".csv", ".txt", ""):
            raise UsageError(f"{self.where(step.node.to.span)}: expected a .csv or .npy path for predictions; received '{step.to}' "
                             "(nndsl run refuses it too)")
        self.need("write_predictions")
        body.append(f"    write_predictions(BASE / {self.code(step.to, step.node.to)}, predictions, names, {table}, keep={keep_code})")

    def step_summary(self, step: CheckedStep, body: list[str]) -> None:
        mv = self.model_vars(step.target)
        if mv.built:
            body.append(f"    {mv.var}.summary()")
            return
        model = mv.checked
        fn = self.allocate(("build", model.name), f"build_{model.name}")
        takes = model.options.scale_features != "none"
        body.append(f"    {fn}({'after_input=[keras.layers.Normalization()]' if takes else ''}).summary()  # before training: its layers")

    # ------------------------------------------------------------ the script
    def script(self) -> str:
        for model in self.checked.models.values():
            self.preprocessing_check(model)
        seed = self.checked.settings.get("seed")
        constants = self.let_constants()
        for name in self.checked.models:
            self.model_vars(name)
        try:
            builders = []
            for model in self.checked.models.values():
                if model.compile.get("loss") is not None:
                    builders.append(self.compile_function(model))
                builders.append(self.builder(model))
            main = ["def main():", f'    """The steps of {self.file}, in order."""']
            if seed is not None:
                main.append(f"    keras.utils.set_random_seed(SEED)  # seed {seed}: Python, NumPy and TensorFlow, as nndsl run seeds them")
            for step in self.checked.steps:
                main.extend(self.step_code(step))
        except _Unsupported as exc:
            raise UsageError(f"cannot export {self.file} to Python: {exc} has no plain-Keras form") from None
        if self.problems:
            listed = "\n".join(f"  {p}" for _, p in sorted(self.problems))
            raise UsageError(
                f"cannot export {self.file} to Python: expected only Keras names and nndsl's built-in data sources, preprocessing "
                f"and steps; received names a plain Keras script cannot reproduce:\n{listed}\n"
                "  (their code lives in a plugin; run the file with nndsl run instead)"
            )
        return self.assemble(constants, builders, main)

    def base_line(self) -> str:
        folder = self.source_path.resolve().parent
        if self.output_path is None:
            return f"BASE = HERE  # the folder of {self.file}: the paths below are relative to it"
        out_folder = self.output_path.resolve().parent
        try:
            rel = os.path.relpath(folder, out_folder)
        except ValueError:  # another drive: only an absolute path reaches it
            return f"BASE = pathlib.Path({self.literal(str(folder))})  # the folder of {self.file}: the paths below are relative to it"
        if rel == ".":
            return f"BASE = HERE  # the folder of {self.file}: the paths below are relative to it"
        rel = Path(rel).as_posix()
        return f"BASE = (HERE / {self.literal(rel)}).resolve()  # the folder of {self.file}: the paths below are relative to it"

    def assemble(self, constants: list[str], builders: list[list[str]], main: list[str]) -> str:
        seed = self.checked.settings.get("seed")
        imports = set(self.imports) | {"os", "pathlib"}
        out = [
            "#!/usr/bin/env python3",
            f'"""{self.file} as a plain Keras script.',
            "",
            f"Written by `nndsl export {self.file} --to python`: the same data, preprocessing, model, training",
            "and outputs as `nndsl run`, with the same seed, so the trained weights are the same. It needs",
            "only Keras, TensorFlow and NumPy, and runs from any folder: the files it reads and writes are",
            f"found relative to this script. The `let` variables of {self.file} are the constants below.",
            '"""',
            "",
        ]
        imports.add("warnings")
        out.extend(f"import {m}" for m in sorted(imports))
        out += [
            "",
            'os.environ.setdefault("KERAS_BACKEND", "tensorflow")',
            "",
            "import keras  # noqa: E402",
            "import numpy as np  # noqa: E402",
            "import tensorflow as tf  # noqa: E402",
            "",
            "# Expected here, as in nndsl run: fit's shuffle does not apply to a tf.data pipeline (the pipeline",
            "# shuffles), and a model saved before it ever trained has no optimizer state to load.",
            'warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed")',
            'warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")',
            "",
            "HERE = pathlib.Path(__file__).resolve().parent",
            self.base_line(),
        ]
        if seed is not None:
            out.append(f"SEED = {self.literal(seed)}")
        if constants:
            out += ["", f"# The let variables of {self.file}."]
            out.extend(constants)
        helpers = [h for h in _HELPER_ORDER if h in self.helpers]
        if helpers:
            out += ["", ""]
            out.append("# " + "-" * 40 + " data: read, scaled, fed and written as nndsl does")
            for h in helpers:
                out += ["", ""]
                out.append(_HELPERS[h][0].rstrip("\n"))
        out += ["", ""]
        out.append("# " + "-" * 40 + " the models")
        for block in builders:
            out += ["", ""]
            out.extend(block)
        out += ["", ""]
        out.append("# " + "-" * 40 + " the steps")
        out += ["", ""]
        out.extend(main)
        out += ["", "", 'if __name__ == "__main__":', "    main()", ""]
        return "\n".join(out)


# ---------------------------------------------------------------- small helpers


def _strictly_equal(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_strictly_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def _argument_nodes(node, params: list[str]) -> dict:
    """Parameter name -> the expression written for it in the call ``node``."""
    if not isinstance(node, ast.Call):
        return {}
    out = {}
    for p, arg in zip(params, node.args):
        out[p] = arg
    for k in node.kwargs:
        out[k.name] = k.value
    return out


def _kwarg_node(node, name: str):
    if not isinstance(node, ast.Call):
        return None
    return next((k.value for k in node.kwargs if k.name == name), None)


def _sequential_item_nodes(node, count: int) -> list:
    if not isinstance(node, ast.Call):
        return [None] * count
    if len(node.args) == 1 and isinstance(node.args[0], ast.List):
        items = list(node.args[0].items)
    elif node.args:
        items = list(node.args)
    else:
        value = _kwarg_node(node, "layers")
        items = list(value.items) if isinstance(value, (ast.List, ast.Tuple)) else []
    return items if len(items) == count else [None] * count


def _positional_params(kind: str, spec) -> set[str]:
    """The parameters a Keras constructor takes by position (not keyword-only, not **kwargs)."""
    from ..builtins.keras import catalogue

    entry = catalogue()["kinds"].get(kind, {}).get(spec.name, {})
    return {p["name"] for p in entry.get("params", ()) if p.get("kind") == "positional_or_keyword"}


def _compile_special(kind: str, written: str) -> bool:
    from ..builtins.keras import catalogue

    return bool(catalogue()["kinds"].get(kind, {}).get(written.lower(), {}).get("compile_special"))


def _class_path(kind: str, spec) -> str | None:
    """The Keras class nndsl instantiates for a name (``mean_squared_error`` -> ``keras.losses.MeanSquaredError``)."""
    if spec.kind == "class":
        return spec.impl.replace(":", ".")
    reg = registry(kind)
    for name in reg.names():
        if name[:1].isupper() and normalize(name) == normalize(spec.name):
            return reg.get(name).impl.replace(":", ".")
    return None


def _origin(kind: str, name: str) -> str:
    try:
        return registry(kind).entry(name).origin
    except KeyError:
        return "<unknown>"


def _adapts_first_normalization(model: CheckedModel) -> bool:
    """Whether nndsl adapts the model's first layer: a Normalization written without mean and variance."""
    resolved = list(model.resolved)
    if resolved and resolved[0].call.spec.name in ("Input", "InputLayer"):
        resolved = resolved[1:]
    if not resolved:
        return False
    first = resolved[0].call
    return first.spec.name == "Normalization" and first.args.get("mean") is None and not first.args.get("invert")


__all__ = ["eject"]
