"""The in-memory form of a loaded data source."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, RunError


@dataclass
class Dataset:
    """Features (and optionally targets) as float32 arrays, with their column names.

    ``x`` has shape (rows, features...) and ``y`` (rows, targets) or None for prediction data.
    ``ids`` holds identifying columns (kept out of the features) to copy into predictions.
    ``tf_dataset`` is set instead of x/y for sources Keras streams itself (image and text folders).
    """

    name: str
    x: Any = None
    y: Any = None
    feature_names: list[str] = field(default_factory=list)
    target_names: list[str] = field(default_factory=list)
    ids: dict[str, list] = field(default_factory=dict)
    columns: dict[str, list] = field(default_factory=dict)  # raw text of every column, for `keep=`
    path: Path | None = None
    fingerprint: str = ""
    tf_dataset: Any = None
    class_names: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)  # text columns to one-hot encode (see nndsl.data.schema)
    as_text: list[str] = field(default_factory=list)  # categorical columns of text= (categories as written, never numbers)
    missing: dict[str, int] = field(default_factory=dict)  # missing cells per feature (see nndsl.data.missing)
    dropped: int = 0  # rows dropped by missing="drop"
    labels: list[str] = field(default_factory=list)  # target columns of text class labels (their text in ``columns``)
    policies: dict[str, Any] = field(default_factory=dict)  # each feature's missing= policy (see nndsl.data.schema)
    unknown: str = "oov"  # what a category unseen in training becomes: "oov" (a slot of its own) or "error"
    encoded: bool = False  # features already encoded for a model (see nndsl.data.schema.encode)
    table: bool = False  # read from a table source (csv, parquet, json): columns with names and roles
    stream: Any = None  # a table larger than the memory budget, read in record batches (see nndsl.data.stream); x is None
    # each text column's Arrow dictionary encoding, made once for fitting and encoding (see nndsl.data.schema)
    text_codes: dict[str, tuple] = field(default_factory=dict, repr=False, compare=False)
    # where each row was read: its file and that file's row, for located errors (see nndsl.data.rows)
    origin: Any = field(default=None, repr=False, compare=False)

    @property
    def streamed(self) -> bool:
        return self.stream is not None

    @property
    def rows(self) -> int:
        if self.x is not None:
            return int(self.x.shape[0])
        if self.stream is not None:
            return self.stream.rows
        return -1

    def all_columns(self) -> list[str]:
        """Every column name: features, targets and text columns."""
        return list(dict.fromkeys([*self.feature_names, *self.target_names, *self.columns]))

    def column_text(self, name: str) -> list[str]:
        """A column's values as text (numeric columns formatted back from the arrays)."""
        if name in self.columns:
            return self.columns[name]
        if name in self.feature_names and self.x is not None and self.x.ndim == 2:
            return [f"{v:.9g}" for v in self.x[:, self.feature_names.index(name)]]
        if name in self.target_names and self.y is not None:
            return [f"{v:.9g}" for v in self.y[:, self.target_names.index(name)]]
        raise KeyError(name)

    def subset(self, index, name: str) -> Dataset:
        """The rows at ``index`` (a NumPy index array), as a new data set."""
        pick = list(index)
        x = self.x[index]
        columns = {k: [v[i] for i in pick] for k, v in self.columns.items()}
        return Dataset(
            name=name,
            x=x,
            y=None if self.y is None else self.y[index],
            feature_names=self.feature_names,
            target_names=self.target_names,
            ids={k: [v[i] for i in pick] for k, v in self.ids.items()},
            columns=columns,
            path=self.path,
            fingerprint=f"{self.fingerprint}[{len(pick)} rows]",
            categorical=list(self.categorical),
            as_text=list(self.as_text),
            missing=_count_missing(self.missing, self.feature_names, x, columns),
            labels=list(self.labels),
            policies=dict(self.policies),
            unknown=self.unknown,
            encoded=self.encoded,
            table=self.table,
            origin=None if self.origin is None else self.origin.subset(index),
        )


def _count_missing(missing: dict[str, int], feature_names: list[str], x, columns: dict[str, list]) -> dict[str, int]:
    """The missing cells of each column of ``missing`` among the rows of ``x`` and ``columns``."""
    import numpy as np

    from .missing import blank

    counts = {}
    for name in missing:
        if name in feature_names and x is not None and x.ndim == 2:
            n = int(np.isnan(x[:, feature_names.index(name)]).sum())
        elif name in columns:
            n = int(blank(columns[name]).sum())
        else:
            continue
        if n:
            counts[name] = n
    return counts


# The hash a file's fingerprint is made with, named in the fingerprint ("xxh3_128:<hex>"). XXH3 hashes
# a file about ten times faster than sha256 (7 ms against 54 ms for 73 MiB), which is most of
# what loading a large CSV costs beyond parsing it; a fingerprint tells files apart, it guards
# against no adversary.
FINGERPRINT_HASH = "xxh3_128"


def new_hash():
    """An empty hash of the kind every fingerprint is made with: ``update(bytes)``, then :func:`fingerprint_of`."""
    import xxhash

    return xxhash.xxh3_128()


def fingerprint_of(h) -> str:
    """The fingerprint a hash from :func:`new_hash` gives, named after its algorithm."""
    return f"{FINGERPRINT_HASH}:{h.hexdigest()}"


def fingerprint_file(path: Path) -> str:
    """The fingerprint of a file's bytes (for the run record, and what ``--resume`` compares)."""
    h = new_hash()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return fingerprint_of(h)


def data_error(message: str, *, where: str, hint: str | None = None, decl=None, source=None) -> RunError:
    """A located data error: ``file:row N, column 'c': expected X; received Y``.

    When the .nn declaration is known, a note shows where the data source is declared.
    """

    notes = ()
    span = None
    if decl is not None:
        span = decl.span
    diag = Diagnostic(code="bad-data", message=f"{where}: {message}", span=span, source=source, hint=hint, notes=notes)
    return RunError(diagnostics=[diag])
