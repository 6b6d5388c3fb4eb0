"""The row-by-row CSV reader that words every mistake, used where the fast reader meets one.

Arrow reads a well-formed file many times faster, but its errors name neither the row nor,
always, the column. When it refuses a file, or the file holds an empty cell, NaN or infinity,
this reader goes through it again with Python's ``csv`` module and stops at the first bad row:
the message names the file, the row (the header is row 1, blank lines count) and the column.
It also reads a file Arrow refuses but Python accepts (a number written ``1_000``, a quoted
line break in a cell), so the two readers accept the same files.
"""

from __future__ import annotations

import csv as _csv
import math
from array import array
from collections.abc import Callable
from pathlib import Path

from .blocks import MISSING_HINT, TARGET_HINT, Block, text_hint
from .columns import Roles


def read_header(path: Path, delimiter: str, fail: Callable[..., Exception]) -> tuple[list[str], list[str]]:
    """The header row, as written and with each name stripped; blank lines before it are skipped."""
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise fail(f"expected a readable file; received {exc.strerror}") from None
    with fh:
        reader = _csv.reader(fh, delimiter=delimiter)
        try:
            for row in reader:
                if row and any(c.strip() for c in row):
                    return row, [h.strip() for h in row]
        except _csv.Error as exc:
            raise fail(f"expected CSV text; received {exc}", where_row=reader.line_num) from None
        except UnicodeDecodeError:
            raise _not_utf8(path, fail) from None
    raise fail("expected a header row and data rows; received an empty file")


# A boolean column reads as 0 and 1 (Arrow's words for a Parquet or JSON boolean are its own).
_BOOLEANS = {"true": 1.0, "false": 0.0}


class _TextTarget(Exception):
    """A target cell of text: the file holds class labels, and is read again with them as text."""


def scan_rows(path: Path, roles: Roles, delimiter: str, fail: Callable[..., Exception],
              missing_ok: frozenset[str] = frozenset()) -> Block:
    """Every data row of the file, or the located error for the first bad one.

    ``fail(message, where_row=N, column=c, hint=...)`` builds the error. An empty cell of a
    column in ``missing_ok`` is read as NaN (see :mod:`nndsl.data.missing`). A single target
    column with a cell of text holds class labels: it is kept as text.
    """
    try:
        return _scan(path, roles, delimiter, fail, missing_ok, labels=False)
    except _TextTarget:
        return _scan(path, roles, delimiter, fail, missing_ok, labels=True)


def _scan(path: Path, roles: Roles, delimiter: str, fail: Callable[..., Exception], missing_ok: frozenset[str],
          labels: bool) -> Block:
    import numpy as np

    if labels:
        roles = Roles(roles.header, roles.features, (), roles.ids + roles.targets, roles.categorical)

    header = list(roles.header)
    index = {h: j for j, h in enumerate(header)}
    numeric_names = list(roles.numeric)
    numeric_cols = [index[c] for c in numeric_names]
    text_cols = list(roles.text)
    text_index = [index[c] for c in text_cols]
    width = len(header)
    nf = len(roles.features)
    xs = array("f")  # features and targets go straight into their own buffers: no copy later
    ys = array("f")
    texts: dict[str, list] = {c: [] for c in text_cols}
    rows = 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = _csv.reader(fh, delimiter=delimiter)
        try:
            for row in reader:  # the header
                if row and any(c.strip() for c in row):
                    break
            for row in reader:
                line = reader.line_num
                if not row or not any(c.strip() for c in row):
                    continue
                if len(row) != width:
                    raise fail(f"expected {width} fields like the header; received {len(row)}", where_row=line)
                for k, (j, cname) in enumerate(zip(numeric_cols, numeric_names)):
                    cell = row[j].strip()
                    if not cell and cname in missing_ok:
                        (xs if k < nf else ys).append(math.nan)
                        continue
                    label = k >= nf and len(roles.targets) == 1  # a single target may hold class labels
                    try:
                        v = float(cell)
                    except ValueError:
                        if cell.lower() in _BOOLEANS and not label:
                            (xs if k < nf else ys).append(_BOOLEANS[cell.lower()])
                            continue
                        if label and holds_text(path, delimiter, j):
                            raise _TextTarget() from None
                        raise fail(f"expected a number; received '{cell}'" if cell else "expected a number; received an empty cell",
                                   where_row=line, column=cname,
                                   hint=(TARGET_HINT if missing_ok and k >= nf else MISSING_HINT) if not cell
                                   else text_hint(k >= nf)) from None
                    if math.isnan(v) or math.isinf(v):
                        if label and holds_text(path, delimiter, j):
                            raise _TextTarget()  # "nan" among class labels is one of them
                        raise fail(f"expected a finite number; received '{cell}'", where_row=line, column=cname,
                                   hint="remove or fill missing values before training")
                    (xs if k < nf else ys).append(v)
                for j, cname in zip(text_index, text_cols):
                    texts[cname].append(row[j])
                rows += 1
        except _csv.Error as exc:
            raise fail(f"expected CSV text; received {exc}", where_row=reader.line_num) from None
        except UnicodeDecodeError:
            raise _not_utf8(path, fail) from None
    x = np.frombuffer(xs, dtype=np.float32).reshape(rows, nf)
    y = np.frombuffer(ys, dtype=np.float32).reshape(rows, len(roles.targets)) if roles.targets else None
    if labels:
        # read as an id column, so as text: the ids are the roles' last column
        return Block(x, None, texts, (roles.ids[-1],))
    return Block(x, y, texts)


def file_row(path: Path, delimiter: str, row: int, *, arrow: bool = False) -> int:
    """The file row (the header is row 1, blank lines count) of the 0-based data row ``row``,
    as :func:`scan_rows` skips lines (a line of blank cells), or Arrow's reader does
    (``arrow``: an empty line only). Read only when an error needs it."""

    def kept(r) -> bool:
        return bool(r) and (arrow or any(c.strip() for c in r))

    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = _csv.reader(fh, delimiter=delimiter)
        next((r for r in reader if r and any(c.strip() for c in r)), None)  # the header
        seen = -1
        for r in reader:
            if kept(r):
                seen += 1
                if seen == row:
                    return reader.line_num
    return row + 2


def holds_text(path: Path, delimiter: str, j: int) -> bool:
    """Whether column ``j`` of the file has a cell that is not a number: a column of class labels.

    Asked only where a target cell would be an error (empty, or not a finite number), so that
    the error is not reported for a column the reader should read as labels.
    """
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = _csv.reader(fh, delimiter=delimiter)
        next((row for row in reader if row and any(c.strip() for c in row)), None)  # the header
        for row in reader:
            if j < len(row) and row[j].strip():
                try:
                    float(row[j])
                except ValueError:
                    return True
    return False


def _not_utf8(path: Path, fail) -> Exception:
    """The error for a file that is not UTF-8, naming the first bad byte's offset in the file."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = start = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            # the decoder may hold back the first bytes of a character from the previous chunk
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                start = offset - pending + exc.start
                break
            offset += len(chunk)
    return fail(f"expected UTF-8 text; received bytes that are not (at byte {start})")
