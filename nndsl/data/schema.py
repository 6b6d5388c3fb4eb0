"""How a model sees a table: each feature column's encoding and each target's classes, fitted
on the training data.

A numeric column is one input; its missing cells become the fill of its ``missing=`` policy (the
training mean by default). A categorical column is one-hot encoded over the training data's
categories (sorted; numerically when they all read as numbers), with a first slot for a category
never seen in training (``unknown="oov"``, Keras's ``[UNK]``) unless ``unknown="error"``; a
missing cell becomes a category of its own by default. The encoded width of a table is the sum
of its columns' widths: that is the model's input width, so a model trained on a table needs no
``Input(shape=...)``.

A ``text=`` column is categorical with its categories as written, sorted as text, and always a
string input of the saved model: ``"02134"`` is a zip code, never the whole number 2134.

A target of text class labels (``"yes"``/``"no"``) is mapped to indices in sorted order, as is a
target of whole numbers under a classification loss; the class names travel with the model.

The schema is saved with the model (``to_dict``/``from_dict``) and becomes Keras layers in the
saved file (:mod:`nndsl.run.tablemodel`); here it encodes NumPy arrays for training. No
TensorFlow is imported here, so ``nndsl check --data`` can compute widths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .missing import DEFAULT, OWN

OOV = "[UNK]"  # the name of the slot of unseen categories: Keras's own oov_token
MISSING_SHOWN = "(missing)"  # how the category of missing cells is shown in names
# Losses whose targets are class indices (or one-hot rows, for categorical_crossentropy).
CLASS_LOSSES = {
    "sparse_categorical_crossentropy": "sparse", "SparseCategoricalCrossentropy": "sparse",
    "categorical_crossentropy": "one_hot", "CategoricalCrossentropy": "one_hot",
    "binary_crossentropy": "binary", "BinaryCrossentropy": "binary",
    "categorical_focal_crossentropy": "one_hot", "CategoricalFocalCrossentropy": "one_hot",
    "binary_focal_crossentropy": "binary", "BinaryFocalCrossentropy": "binary",
}


@dataclass(frozen=True)
class Feature:
    """One feature column.

    Attributes:
        kind: "numeric" or "categorical".
        fill: what a missing cell becomes: a number (numeric), a category (categorical, ``""``
            being the category of its own), or None when a missing cell is an error.
        categories: a categorical column's categories, in encoding order.
        unknown: "oov" (unseen categories share a slot) or "error".
        integer: every category is a whole number (the saved model takes integers for it).
        text: declared with ``text=`` (its categories as written), not ``categorical=``.
    """

    name: str
    kind: str = "numeric"
    fill: Any = None
    categories: tuple[str, ...] = ()
    unknown: str = "oov"
    integer: bool = False
    text: bool = False

    @property
    def width(self) -> int:
        if self.kind == "numeric":
            return 1
        return len(self.categories) + (1 if self.unknown == "oov" else 0)

    def encoded_names(self) -> list[str]:
        """The names of its encoded columns: itself, or ``plan=[UNK]``, ``plan=basic``, ..."""
        if self.kind == "numeric":
            return [self.name]
        slots = ([OOV] if self.unknown == "oov" else []) + [c if c != OWN else MISSING_SHOWN for c in self.categories]
        return [f"{self.name}={c}" for c in slots]

    def describe(self) -> str:
        """``plan: 4 (basic, plus, pro, [UNK])``: what the column contributes to the input width."""
        if self.kind == "numeric":
            return f"{self.name}: 1"
        shown = [c if c != OWN else MISSING_SHOWN for c in self.categories] + ([OOV] if self.unknown == "oov" else [])
        listed = ", ".join(shown[:6]) + (", ..." if len(shown) > 6 else "")
        return f"{self.name}: {self.width} ({listed})"


@dataclass(frozen=True)
class Target:
    """One target column; ``classes`` are its class names in index order (empty: numbers)."""

    name: str
    classes: tuple[str, ...] = ()
    one_hot: bool = False  # the loss takes one-hot rows (categorical_crossentropy)


@dataclass(frozen=True)
class TableSchema:
    features: tuple[Feature, ...]
    targets: tuple[Target, ...] = ()
    fitted: dict = field(default_factory=dict, compare=False)  # column -> fill, for the run's one line

    @property
    def width(self) -> int:
        return sum(f.width for f in self.features)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.targets[0].classes if len(self.targets) == 1 else ()

    @property
    def columns(self) -> list[str]:
        """The feature columns the model takes, by name."""
        return [f.name for f in self.features]

    def encoded_names(self) -> list[str]:
        return [n for f in self.features for n in f.encoded_names()]

    def contributions(self) -> str:
        """``age: 1, plan: 4 (basic, plus, pro, [UNK]), ...``: each column's part of the width."""
        return ", ".join(f.describe() for f in self.features)

    def to_dict(self) -> dict:
        return {
            # "text" only where set: a model's saved table of other columns reads as before
            "features": [{"name": f.name, "kind": f.kind, "fill": f.fill, "categories": list(f.categories),
                          "unknown": f.unknown, "integer": f.integer, **({"text": True} if f.text else {})}
                         for f in self.features],
            "targets": [{"name": t.name, "classes": list(t.classes), "one_hot": t.one_hot} for t in self.targets],
        }

    @staticmethod
    def from_dict(d: dict) -> TableSchema:
        return TableSchema(
            tuple(Feature(f["name"], f["kind"], f.get("fill"), tuple(f.get("categories") or ()), f.get("unknown", "oov"),
                          bool(f.get("integer")), bool(f.get("text"))) for f in d.get("features", [])),
            tuple(Target(t["name"], tuple(t.get("classes") or ()), bool(t.get("one_hot"))) for t in d.get("targets", [])),
        )


def from_meta(meta: dict) -> TableSchema | None:
    """The table schema saved with a model; for a model saved before schemas, one built from its
    categories and fills (unknown categories refused, as they were then); None for no table."""
    if meta.get("table"):
        return TableSchema.from_dict(meta["table"])
    vocab, fills = meta.get("categorical") or {}, meta.get("fills") or {}
    if not vocab and not fills:
        return None
    features = [Feature(n, "numeric", fills.get(n)) for n in meta.get("feature_names") or ()]
    features += [Feature(n, "categorical", None, tuple(c), "error") for n, c in vocab.items()]
    return TableSchema(tuple(features), tuple(Target(t) for t in meta.get("target_names") or ()))


Fail = Callable[..., Exception]  # fail(message, row=None, column=None, hint=None)


def order(values) -> list[str]:
    """Categories in encoding order: numerically when they all read as numbers, else as text."""
    try:
        return sorted(values, key=float)
    except ValueError:
        return sorted(values)


def _whole(values) -> bool:
    try:
        return all(float(v) == int(float(v)) for v in values)
    except (ValueError, OverflowError):
        return False


def _text_column(values):
    """A text column as (Arrow dictionary indices, categories) with blanks stripped to ``""``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pc.utf8_trim_whitespace(pa.array(values, type=pa.string()))
    enc = arr.dictionary_encode()
    return enc.indices.to_numpy(zero_copy_only=False), enc.dictionary.to_pylist()


def _codes(ds, name: str):
    """``_text_column`` of the data set's column ``name``, made once: fitting and encoding the
    training data both need it. Kept with the list it was made of, so a data set that replaced
    the column (``dataclasses.replace`` copies the dict) makes it again."""
    raw = ds.columns[name]
    cache = getattr(ds, "text_codes", None)
    if cache is None:
        return _text_column(raw)
    made = cache.get(name)
    if made is None or made[0] is not raw:
        made = cache[name] = (raw, _text_column(raw))
    return made[1]


def category_counts(raw, codes=None):
    """(a text column's categories, ``""`` for a missing cell, and how many cells hold each);
    ``codes``: the column's ``_text_column``, when made already."""
    import numpy as np

    index, values = codes if codes is not None else _text_column(raw)
    return values, (np.bincount(index, minlength=len(values)) if len(values) else np.zeros(0, int))


def fit(ds, *, loss_kind: str | None, fail: Fail) -> TableSchema:
    """The schema of the training data set ``ds`` (a table source's Dataset).

    A streamed table (:mod:`nndsl.data.stream`) is fitted on what its one reading pass gathered;
    a table in memory, on its arrays: both answer the same questions (see :class:`_Arrays`).

    Args:
        loss_kind: "sparse", "one_hot" or "binary" for a classification loss (see CLASS_LOSSES), else None.
        fail: builds the located error for a column that cannot be fitted.
    """
    stream = getattr(ds, "stream", None)
    cols = stream.summary if stream is not None else _Arrays(ds)
    features = []
    fitted: dict[str, Any] = {}
    for name in ds.feature_names:
        policy = ds.policies.get(name, DEFAULT)
        fill = _numeric_fill(cols, policy, name, fail)
        if fill is not None and cols.missing(name):
            fitted[name] = fill
        features.append(Feature(name, "numeric", fill))
    for name in ds.categorical:
        policy = ds.policies.get(name, DEFAULT)
        values, counts = cols.categories(name)
        present = [v for v in values if v != OWN]
        if policy in ("error", "drop"):
            fill = None
        elif policy == "most_frequent":
            fill = _most_frequent(values, counts, name, fail)
        elif policy in (DEFAULT, "median"):
            fill = OWN
        else:
            fill = str(policy) if not isinstance(policy, float) or not policy.is_integer() else str(int(policy))
        as_text = name in getattr(ds, "as_text", ())
        cats = set(present) | ({fill} if fill not in (None, OWN) else set())
        cats = sorted(cats) if as_text else order(cats)
        if fill == OWN and OWN in values:
            cats = [OWN, *cats]  # a slot of its own (without missing cells in training, one is unknown there)
        if OWN in values:
            fitted[name] = fill
        # text= keeps "02134" and "007" as written: a string input in the saved model, never an integer one
        integer = not as_text and bool(cats) and all(c != OWN for c in cats) and _whole(cats)
        features.append(Feature(name, "categorical", fill, tuple(cats), ds.unknown, integer, as_text))
    # numeric columns with a fill first: the saved model fills them with one group of layers (see
    # nndsl.run.tablemodel); a column whose missing cells are refused passes NaN through as it is
    features.sort(key=lambda f: 2 if f.kind != "numeric" else 1 if f.fill is None else 0)
    targets = tuple(_target(ds, cols, name, loss_kind, fail) for name in ds.target_names)
    return TableSchema(tuple(features), targets, fitted)


class _Arrays:
    """What fitting asks of the training data, answered from a table in memory."""

    def __init__(self, ds) -> None:
        self.ds = ds

    def _column(self, name: str):
        return self.ds.x[:, self.ds.feature_names.index(name)]

    def missing(self, name: str) -> bool:
        import numpy as np

        return bool(np.isnan(self._column(name)).any())

    def statistic(self, name: str, policy: str, fail: Fail) -> float | None:
        """The ``mean``, ``median`` or ``most_frequent`` of a numeric column; None when it has no values."""
        import numpy as np

        column = self._column(name)
        present = column[~np.isnan(column)]
        if present.size == 0:
            return None
        if policy == "mean":
            return float(present.astype(np.float64).mean())
        if policy == "median":
            return float(np.median(present))
        values, counts = np.unique(present, return_counts=True)
        return float(values[int(np.argmax(counts))])  # the smallest of the most frequent

    def categories(self, name: str):
        return category_counts(None, _codes(self.ds, name))

    def labels(self, name: str) -> list[str]:
        return _codes(self.ds, name)[1]

    def target_values(self, name: str, fail: Fail):
        """The distinct values of the one numeric target, or None without one."""
        import numpy as np

        return None if self.ds.y is None else np.unique(self.ds.y[:, 0])


def _numeric_fill(cols, policy, name: str, fail: Fail):
    if policy in ("error", "drop"):
        return None
    if isinstance(policy, str) and policy not in ("mean", "median", "most_frequent"):
        raise fail(f"expected a number to fill the numeric column '{name}'; received the category {policy!r}",
                   column=name, hint=f"write missing={{\"{name}\": \"mean\"}} (or median, most_frequent, a number)")
    if not isinstance(policy, str):
        return float(policy)
    value = cols.statistic(name, policy, fail)
    if value is None:
        raise fail(f"expected values to fit the {policy} of column '{name}'; received only missing ones", column=name,
                   hint="fill it with a number instead: missing=0")
    return value


def _most_frequent(values, counts, name: str, fail: Fail) -> str:
    best = [(-int(n), v) for v, n in zip(values, counts) if v != OWN and n]
    if not best:
        raise fail(f"expected categories to fit the most frequent of column '{name}'; received only missing cells", column=name)
    return min(best)[1]


def _target(ds, cols, name: str, loss_kind: str | None, fail: Fail) -> Target:
    one_hot = loss_kind == "one_hot"
    if name in ds.labels:
        return Target(name, tuple(order(cols.labels(name))), one_hot)
    if loss_kind is None or len(ds.target_names) != 1:
        return Target(name)
    import numpy as np

    values = cols.target_values(name, fail)
    if values is None or not np.all(values == np.round(values)):
        return Target(name)  # soft labels or probabilities: numbers, as written
    return Target(name, tuple(str(int(v)) for v in values), one_hot)


def encode(ds, schema: TableSchema, fail: Fail, *, with_targets: bool = True):
    """``ds`` as the model takes it: the encoded features (float32) and the targets as numbers
    (class indices, or one-hot rows); ``fail(message, row=, column=, hint=)`` locates an error."""
    import numpy as np

    if ds.encoded:
        return ds
    rows = ds.rows
    out = np.empty((rows, schema.width), dtype=np.float32)
    at = 0
    numeric = {n: j for j, n in enumerate(ds.feature_names)}
    for f in schema.features:
        if f.kind == "numeric":
            if f.name not in numeric:
                raise fail(f"expected the numeric column '{f.name}' the model was trained with; received data without it",
                           column=f.name)
            column = ds.x[:, numeric[f.name]]
            out[:, at] = column
            holes = np.isnan(column)
            if holes.any():
                if f.fill is None:
                    i = int(np.argmax(holes))
                    raise fail(f"expected a number in column '{f.name}'; received a missing value (the model was trained "
                               "with missing values in it refused)", row=i, column=f.name,
                               hint=f"drop the rows with missing values: missing={{\"{f.name}\": \"drop\"}}")
                out[holes, at] = f.fill
        else:
            if f.name not in ds.columns:
                raise fail(f"expected the categorical column '{f.name}' the model was trained with; received data without it",
                           column=f.name, hint=f"declare it: csv(..., {'text' if f.text else 'categorical'}=[\"{f.name}\"])")
            _one_hot(out[:, at : at + f.width], _codes(ds, f.name), f, fail)
        at += f.width
    y = ds.y
    labels = list(ds.labels)
    if with_targets and schema.classes and (ds.y is not None or labels):
        y = _class_indices(ds, schema.targets[0], fail)
    elif labels and with_targets:
        raise fail(f"expected numbers in the target column '{labels[0]}'; received text class labels", column=labels[0])
    classes = list(schema.classes) if with_targets and schema.classes else ds.class_names
    return replace(ds, x=out, y=y, feature_names=schema.encoded_names(), categorical=[], labels=[], encoded=True,
                   class_names=classes, text_codes={})


def _one_hot(block, codes, f: Feature, fail: Fail) -> None:
    import numpy as np

    index, values = codes
    slot_of = {c: i + (1 if f.unknown == "oov" else 0) for i, c in enumerate(f.categories)}
    slots = np.empty(len(values), dtype=np.int64)
    for k, v in enumerate(values):
        if v == OWN and f.fill is not None:
            v = f.fill
        if v in slot_of:
            slots[k] = slot_of[v]
        elif v == OWN and f.fill is None:
            i = int(np.argmax(index == k))
            raise fail(f"expected a category in column '{f.name}'; received an empty cell (the model was trained with "
                       "missing categories refused)", row=i, column=f.name)
        elif f.unknown == "oov":
            slots[k] = 0
        else:
            i = int(np.argmax(index == k))
            shown = [c if c != OWN else MISSING_SHOWN for c in f.categories]
            raise fail(f"expected one of the training data's categories ({', '.join(shown[:8])}{', ...' if len(shown) > 8 else ''}); "
                       f"received '{v}'", row=i, column=f.name,
                       hint='a model trained with unknown="error" refuses categories it did not see in training')
    block[:] = 0.0
    if len(index):
        block[np.arange(len(index)), slots[index]] = 1.0


def _class_indices(ds, target: Target, fail: Fail):
    import numpy as np

    if ds.labels:
        rows, values = _codes(ds, target.name)
    else:
        # whole numbers: the class names are their digits (see _target)
        values, rows = np.unique(ds.y[:, 0], return_inverse=True)
        values = [str(int(v)) if v == int(v) else f"{v:.9g}" for v in values]
    index = {c: i for i, c in enumerate(target.classes)}
    of_value = np.empty(len(values), dtype=np.float32)
    for k, v in enumerate(values):
        if v not in index:
            i = int(np.argmax(rows == k))
            listed = ", ".join(target.classes[:8]) + (", ..." if len(target.classes) > 8 else "")
            raise fail(f"expected one of the training data's classes ({listed}); received '{v}'", row=i, column=target.name,
                       hint="a model predicts only the classes it was trained on")
        of_value[k] = index[v]
    out = of_value[rows]
    if target.one_hot:
        return np.eye(len(target.classes), dtype=np.float32)[out.astype(np.int64)]
    return out.reshape(-1, 1)
