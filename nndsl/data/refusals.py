"""What a model's schema refuses of a table streamed in record batches, told from its one pass.

Encoding a table read whole with a model's schema (:func:`nndsl.data.schema.encode`) refuses a
column the model takes that the table lacks, a missing cell the model was trained to refuse, a
category it never saw under ``unknown="error"``, and a class it was not trained on. The one
pass over a streamed table (:class:`nndsl.data.stream.Summary`) already holds the missing
cells, the categories and the class labels of every column, so ``nndsl check --data`` reads a
large table once: only where the summary shows a refusal is the table read again, encoding the
one part of the schema that refuses it, to find and locate the same first bad cell as the table
read whole gives.
"""

from __future__ import annotations

from dataclasses import replace

from .missing import OWN


def first_refusal(ds, schema, *, with_targets: bool = True):
    """The part of ``schema`` whose encoding refuses the streamed table ``ds``, or None.

    Parts are taken in the order encoding checks them (each feature column, then the targets),
    so that the error found by encoding that part alone is the one the whole table gives.

    Returns:
        ``(schema, with_targets)``: the schema cut down to the refusing part, and whether the
        targets are encoded; None when the summary shows nothing the schema refuses.
    """
    summary = ds.stream.summary
    for f in schema.features:
        if _refuses(summary, f):
            return replace(schema, features=(f,)), False
    if with_targets and _refuses_targets(ds, summary, schema):
        return replace(schema, features=()), True
    return None


def _refuses(summary, f) -> bool:
    if f.kind == "numeric":
        return f.name not in summary.feature_names or (f.fill is None and summary.missing(f.name))
    if f.name not in summary.counts:
        return True  # not a categorical column of this table: encoding says what it is
    known = set(f.categories)
    for value, n in summary.counts[f.name].items():
        if not n:
            continue
        if value == OWN and f.fill is not None:
            value = f.fill
        if value in known:
            continue
        if (value == OWN and f.fill is None) or f.unknown != "oov":
            return True
    return False


class _Undecided(Exception):
    """The one pass kept too few of the target's values to tell: the table is read again to decide."""


def _refuses_targets(ds, summary, schema) -> bool:
    labels = list(ds.labels)
    if not schema.classes:
        return bool(labels)  # text labels where the model takes numbers
    if labels:
        return not summary.labels(labels[0]) <= set(schema.classes)
    if not ds.target_names:
        return False
    try:
        values = summary.target_values(ds.target_names[0], lambda *args, **kwargs: _Undecided())
    except _Undecided:
        return True  # too many distinct values to have been kept: encoding decides
    if values is None:
        return True  # a value that is not whole: encoding decides
    # whole numbers are named by their digits, as encoding names them
    names = {str(int(v)) if v == int(v) else f"{v:.9g}" for v in values.tolist()}
    return not names <= set(schema.classes)
