"""An Arrow table's columns as training arrays, with the first bad cell located.

Every table source reads its file(s) into Arrow tables, then comes here: features and targets
become float32 arrays, every other column stays text (for ids, ``keep=`` and categories). A cell
that is not a finite number is reported by the caller's ``problem`` function, which words the
error for its format (a CSV row, a JSON line, a Parquet row) or, for CSV, falls back to the exact
row-by-row reader.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .columns import Roles

# A target cell left empty where missing= fills the features.
TARGET_HINT = 'missing= fills features only: leave out the rows without a target with missing="drop"'
# What a text cell in a numeric column usually means, and the three ways to say so.
TEXT_HINT = ("a column of categories is declared with categorical=[...]; leave other text out with exclude=[...] "
             "or keep it with id=[...]")
# Text in one of several target columns: class labels are one target column of their own.
CLASS_TARGET_HINT = "text class labels are read from a single target column: name only that column in target="
# An empty cell where no missing= policy is set.
MISSING_HINT = ('missing="error" refuses empty cells: leave it out to fill them with the training mean, '
                'or drop their rows with missing="drop"')


def text_hint(target: bool) -> str:
    """The hint for text where a number is expected: in a target column, or a feature column."""
    return CLASS_TARGET_HINT if target else TEXT_HINT


@dataclass
class Block:
    """The rows of one file: ``x`` (rows, features), ``y`` (rows, targets) or None, text columns."""

    x: Any
    y: Any
    texts: dict[str, list] = field(default_factory=dict)
    labels: tuple[str, ...] = ()  # a target column of text class labels (its text in ``texts``), y then None
    # The row (or line) of its file that a 0-based row of the block was read from, as an error
    # names it, where skipped blank lines make it more than a count; None: the rows follow the header.
    row_of: Callable[[int], int] | None = None

    @property
    def rows(self) -> int:
        return int(self.x.shape[0])


@dataclass(frozen=True)
class Problem:
    """The first cell of a column that is not a finite number: its 0-based row and its value."""

    row: int
    column: str
    kind: str  # "missing", "not-a-number", "not-finite", or "type" (a column of lists, dates...)
    value: str = ""
    target: bool = False  # in a target column


def concat_blocks(blocks: list[Block]) -> Block:
    """One block holding the rows of several, in order."""
    import numpy as np

    if len(blocks) == 1:
        return blocks[0]
    x = np.concatenate([b.x for b in blocks])
    labels = next((b.labels for b in blocks if b.labels), ())
    if labels:
        # a part read its target as numbers where another has text: its labels become text too
        for b in blocks:
            if not b.labels:
                b.texts.update({c: number_labels(b.y[:, 0]) for c in labels})
        y = None
    else:
        y = None if blocks[0].y is None else np.concatenate([b.y for b in blocks])
    texts = {c: [v for b in blocks for v in b.texts[c]] for c in blocks[0].texts}
    return Block(x, y, texts, labels)


def number_labels(values) -> list[str]:
    """Class labels read as numbers (a part file, or a record batch, of a table whose labels are
    text elsewhere), as text: ``1`` is ``"1"``; a missing one (NaN) is an empty label, as a
    missing text label is, so that a missing= policy treats it alike."""
    return ["" if v != v else f"{v:.9g}" for v in values.tolist()]


def table_to_block(table, roles: Roles, problem: Callable[[Problem], Exception], missing_ok: frozenset[str] = frozenset()) -> Block:
    """``table``'s numeric columns as float32 arrays and the others as text.

    ``problem`` receives the earliest bad cell (by row, then by the column's place among the
    features and targets) and returns the exception to raise. A missing value in a column of
    ``missing_ok`` is no problem: it becomes NaN (see :mod:`nndsl.data.missing`).
    """
    import numpy as np

    found: list[tuple[int, int, Problem]] = []
    columns = []
    labels = label_column(table, roles)
    for k, name in enumerate(roles.numeric):
        if name in labels:
            columns.append(None)
            continue
        col, bad = _as_float64(table.column(name), name, name in missing_ok)
        if bad is not None and bad.kind == "missing" and missing_ok and name in roles.targets:
            bad = Problem(bad.row, name, "missing", "target")  # a policy is set, but fills no target
        if bad is not None and name in roles.targets:
            bad = Problem(bad.row, bad.column, bad.kind, bad.value, target=True)
        if bad is not None:
            found.append((bad.row, k, bad))
        columns.append(col)
    if found:
        raise problem(_earliest(table, roles, min(found, key=lambda f: (f[0], f[1]))[2]))
    nf = len(roles.features)
    x = _stack(columns[:nf], table.num_rows)
    y = _stack(columns[nf:], table.num_rows) if roles.targets and not labels else None
    # NaN and infinity survive the cast to float32, so one pass over the result finds them; a
    # column is searched only then. (A number too large for float32 becomes infinity there
    # without being reported, as the row-by-row reader has always done.)
    if not (np.isfinite(x).all() and (y is None or np.isfinite(y).all())):
        for k, (name, col) in enumerate(zip(roles.numeric, columns)):
            if col is None:
                continue
            finite = np.isfinite(col.to_numpy()) | col.is_null().to_numpy()
            if not finite.all():
                i = int(np.argmin(finite))
                found.append((i, k, Problem(i, name, "not-finite", _cell_text(col, i))))
        if found:
            raise problem(min(found, key=lambda f: (f[0], f[1]))[2])
    texts = {c: text_values(table.column(c)) for c in (*roles.text, *labels)}
    return Block(x, y, texts, labels)


def _earliest(table, roles: Roles, p: Problem) -> Problem:
    """``p``, or a NaN or infinity in an earlier cell (by row, then column).

    A column's first missing cell or text is found before its values are read as numbers, and a
    NaN or infinity only after: the row-by-row reader reports whichever comes first, and so does
    :func:`table_to_block`, through this."""
    import numpy as np
    import pyarrow as pa

    if p.kind not in ("missing", "not-a-number"):
        return p
    at = (p.row, list(roles.numeric).index(p.column))
    for k, name in enumerate(roles.numeric):
        col = table.column(name).slice(0, p.row + 1)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_floating(col.type):
            values = col.to_numpy(zero_copy_only=False)
            bad = np.flatnonzero(np.isinf(values) | (np.isnan(values) & ~col.is_null().to_numpy(zero_copy_only=False)))
            first = (int(bad[0]), str(col[int(bad[0])].as_py()).lower()) if len(bad) else None  # as blocks words it
        elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):  # text: its cells as numbers where they are
            first = next(((i, v.strip()) for i, v in enumerate(col.to_pylist()) if v is not None and _infinite(v)), None)
        else:
            continue
        if first is not None and (first[0], k) < at:
            at, p = (first[0], k), Problem(first[0], name, "not-finite", first[1], target=name in roles.targets)
    return p


def _infinite(cell: str) -> bool:
    """Whether a cell reads as NaN or infinity."""
    try:
        return not math.isfinite(float(cell))
    except ValueError:
        return False


def label_column(table, roles: Roles) -> tuple[str, ...]:
    """The one target column holding text class labels (``("species",)``), or ``()``.

    A column of text with a value that is not a number holds labels. Several target columns
    are numbers: one of them with text is reported by the caller as a cell that is not a number.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(roles.targets) != 1:
        return ()
    name = roles.targets[0]
    col = table.column(name)
    t = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return ()
    col = col.cast(t) if t != col.type else col
    text = pc.utf8_trim_whitespace(col)
    # a column of numbers (and blanks) is a numeric target, read as today
    present = pc.filter(text, pc.and_(pc.is_valid(text), pc.not_equal(text, "")))
    try:
        pc.cast(present, pa.float64())
        return ()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Arrow refuses some numbers Python reads ("1_000"): labels only where Python refuses one too
    # (so "true" and "false" in a target are labels: classes named as written)
    for value in pc.unique(present).to_pylist():
        try:
            float(value)
        except ValueError:
            return (name,)
    return ()

def problem_error(problem: Problem, fail, row: int) -> Exception:
    """The located error for a bad value of a feature or target column, at ``row`` as the format counts rows.

    ``fail(message, where_row=, column=, hint=)`` words the location (see :func:`nndsl.data.parts.part_failure`).
    """
    if problem.kind == "missing":
        return fail("expected a number; received a missing value", where_row=row, column=problem.column,
                    hint=TARGET_HINT if problem.value == "target" else "remove or fill missing values before training")
    if problem.kind == "not-finite":
        return fail(f"expected a finite number; received '{problem.value}'", where_row=row, column=problem.column,
                    hint="remove or fill missing values before training")
    if problem.kind == "type":
        return fail(f"expected a column of numbers; received a column of type {problem.value}", column=problem.column,
                    hint=text_hint(problem.target))
    return fail(f"expected a number; received '{problem.value}'", where_row=row, column=problem.column, hint=text_hint(problem.target))


# Rows of one band of _stack: 16,384 rows of float64 sources and float32 destination fit in a
# core's cache (measured faster than bands of 4,096 or 65,536 rows).
BAND_ROWS = 16_384
# Below this many cells an array is filled on the calling thread alone: starting threads costs more.
THREADED_CELLS = 1 << 20


def _stack(columns, rows: int):
    """Columns of float64 chunks side by side in one float32 array.

    The array is filled one band of rows at a time, each band's source columns and destination
    small enough to stay in a core's cache while all its columns are written: several times
    faster than writing whole columns into a row-major array. A large array is filled by
    several threads, a share of the bands each (NumPy's casting copy releases the GIL).
    """
    import numpy as np

    out = np.empty((rows, len(columns)), dtype=np.float32)
    if not columns or not rows:
        return out
    lengths = [len(c) for c in columns[0].chunks]
    if any([len(c) for c in col.chunks] != lengths for col in columns[1:]):
        chunks = [[col.combine_chunks()] for col in columns]
    else:
        chunks = [col.chunks for col in columns]
    bands = []
    offset = 0
    for pieces in zip(*chunks):
        arrays = [piece.to_numpy(zero_copy_only=False) for piece in pieces]  # a null becomes NaN
        n = len(arrays[0])
        for start in range(0, n, BAND_ROWS):
            bands.append((offset + start, [a[start : start + BAND_ROWS] for a in arrays]))
        offset += n

    def fill(share) -> None:
        for start, arrays in share:
            band = out[start : start + len(arrays[0])]
            for j, values in enumerate(arrays):
                band[:, j] = values

    workers = min(_threads(), len(bands)) if out.size >= THREADED_CELLS else 1
    if workers <= 1:
        fill(bands)
        return out
    from concurrent.futures import ThreadPoolExecutor

    shares = [bands[k * len(bands) // workers : (k + 1) * len(bands) // workers] for k in range(workers)]
    with ThreadPoolExecutor(workers - 1) as pool:
        others = [pool.submit(fill, share) for share in shares[1:]]
        fill(shares[0])
        for done in others:
            done.result()
    return out


def _threads() -> int:
    """How many threads fill an array: the CPUs this process may use, at most 4 (memory is the limit then)."""
    import os

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


def _as_float64(col, name: str, missing_ok: bool = False):
    """(the column as float64 Arrow chunks, None), or (None, the first Problem) for a column that has one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        if missing_ok:  # blank text is a missing value too
            col = pc.if_else(pc.equal(pc.utf8_trim_whitespace(col), ""), pa.scalar(None, col.type), col)
        try:
            col = pc.cast(col, pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None, _first_non_number(col, name, missing_ok)
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
        col = pc.cast(col, pa.float64()) if t != pa.float64() else col
    else:
        return None, Problem(0, name, "type", str(t))
    if col.null_count and not missing_ok:
        return None, Problem(_first_null(col), name, "missing")
    return col, None


def _first_null(col) -> int:
    import pyarrow.compute as pc

    return int(pc.index(pc.is_null(col), True).as_py())


def _first_non_number(col, name: str, missing_ok: bool = False) -> Problem:
    for i, v in enumerate(col.to_pylist()):
        if v is None or not v.strip():
            if missing_ok:
                continue
            return Problem(i, name, "missing")
        try:
            float(v)
        except ValueError:
            return Problem(i, name, "not-a-number", v)
    return Problem(0, name, "not-a-number", "text")  # unreachable: Arrow refused one of these values


def _cell_text(col, i: int) -> str:
    v = col[i].as_py()
    return str(v).lower() if isinstance(v, float) else str(v)


def text_values(col) -> list[str]:
    """A column's values as text, a missing value as an empty string."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = pc.cast(col, pa.string())
    if col.null_count:
        col = pc.fill_null(col, "")
    return col.to_pylist()
