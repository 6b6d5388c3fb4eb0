"""The tables ``nndsl predict`` and ``nndsl evaluate`` read without a ``.nn`` file.

A CSV, Parquet or JSON lines file, or a folder or glob pattern of such part files, is read by
its format's own loader, as a ``csv(...)``, ``parquet(...)`` or ``json(...)`` source of a run
reads it: with the same located errors, and streamed in record batches when it is estimated
larger than the memory budget (:mod:`nndsl.data.stream`).
"""

from __future__ import annotations

from pathlib import Path

# The loader of each format (a module of nndsl.data), by the ending of its files.
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
WHAT = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSON lines"}


def is_pattern(text: str) -> bool:
    """Whether a command-line path is a glob pattern of part files (a file named ``data[1].csv`` is a file)."""
    from ..data.paths import is_pattern as pattern

    return pattern(text) and not Path(text).exists()


def table_format(path: Path) -> str | None:
    """The format of a table path: by its ending for a file or a pattern (a file of any other
    ending is read as CSV), by the part files it holds for a folder; None for a folder without
    any (a folder of images)."""
    if path.is_dir():
        for p in sorted(path.iterdir()):
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in FORMATS:
                return FORMATS[p.suffix.lower()]
        return None
    return FORMATS.get(path.suffix.lower(), "csv")


def header(text: str, fmt: str) -> list[str]:
    """The column names of a table's first file ([] when it cannot be read: the loader says why)."""
    from ..data.paths import resolve_parts
    from ..errors import NndslError

    suffixes = tuple(s for s, f in FORMATS.items() if f == fmt)
    try:
        first = resolve_parts(text, base=Path.cwd(), what=WHAT[fmt], suffixes=suffixes).files[0].path
    except NndslError:
        return []
    if fmt == "csv":
        return _csv_header(first)
    try:
        import pyarrow as pa

        if fmt == "parquet":
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(first).schema_arrow.names)
        from ..data import jsonl

        return jsonl.keys(first)  # the keys of all its lines, as the loader reads them
    except (pa.ArrowException, OSError):
        return []


def _csv_header(path: Path) -> list[str]:
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return [h.strip() for h in next(csv.reader(fh), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def model_columns(text: str, fmt: str, meta: dict, exclude, shown: str, *, targets=()) -> dict:
    """The loader arguments (without the path) that read the table at ``text`` as the saved model
    takes it: the feature columns it was trained on (``meta``'s recorded feature names, and the
    categorical columns of its table schema) picked by name, in any order, and every other column
    but ``targets`` left out, said once on stderr; for a model saved before its features were
    recorded, every column but its targets and ``exclude``.

    Args:
        text: the table's path, folder or pattern, as given on the command line.
        fmt: its format (:data:`FORMATS`).
        meta: the metadata saved with the model (:mod:`nndsl.run.modelmeta`).
        exclude: columns left out of the features (``--exclude``), or None.
        shown: how messages name the table.
        targets: the target columns read beside the features (``nndsl evaluate``); none for predictions.

    Raises:
        RunError: the table lacks a feature column the model was trained on.
    """
    import sys

    from ..data.schema import from_meta
    from ..errors import RunError

    schema = from_meta(meta)
    vocab = [f.name for f in schema.features if f.kind == "categorical"] if schema is not None else []
    exclude, targets = list(exclude or ()), list(targets)
    args: dict = {"exclude": exclude or None, "id": None, "categorical": vocab or None}
    if targets:
        args["target"] = targets
    head = header(text, fmt)
    features = meta.get("feature_names")
    if features:
        absent = [f for f in features if f not in head]
        if head and absent:
            raise RunError(f"{shown}: expected the feature column '{absent[0]}' the model was trained on; "
                           f"received a file without it (the model's feature columns: {', '.join(features)})")
        extra = [h for h in head if h not in features and h not in vocab and h not in exclude and h not in targets]
        if extra:
            print(f"note: {shown} has columns the model was not trained on, left out: {', '.join(extra)}", file=sys.stderr)
        args["features"] = [f for f in features if f not in exclude]
    else:  # a model saved before its features were recorded: every column but its targets
        recorded = [t for t in meta.get("target_names") or () if t in head and t not in exclude and t not in targets]
        args["exclude"] = exclude + recorded or None
    return args


def load_table(text: str, fmt: str, args: dict, *, name: str, memory_budget: int | None):
    """The table at ``text`` read by its format's loader (``args`` its source arguments, without
    the path): streamed when estimated larger than ``memory_budget`` (by default a quarter of the
    machine's memory)."""
    import importlib

    from ..data.budget import default_budget

    loader = importlib.import_module(f"..data.{fmt}", __package__).load
    return loader({"path": text, **args}, name=name, base=Path.cwd(), memory_budget=memory_budget or default_budget())


def row_failure(shown: str, fmt: str, ds=None):
    """``fail(message, row=None, column=None, hint=None)`` for a row of a table read whole: a CSV's
    rows counted after its header (row 2 is the first), a Parquet file's from 1, a JSON lines
    file's as lines from 1. With the table's Dataset ``ds``, the row is placed in the file it was
    read from, blank lines, dropped rows and part files counted (:mod:`nndsl.data.rows`)."""
    from ..data.table import data_error

    origin = getattr(ds, "origin", None)
    if origin is not None:
        from ..data.parts import part_failure
        from ..data.rows import located

        return located(origin, lambda file: part_failure(file, None, None, origin.word), whole=shown)

    first_row = 2 if fmt == "csv" else 1
    word = "line" if fmt == "jsonl" else "row"

    def fail(message, row=None, column=None, hint=None):
        where = shown + (f":{word} {row + first_row}, column '{column}'" if row is not None else f":column '{column}'" if column else "")
        return data_error(message, where=where, hint=hint)

    return fail
