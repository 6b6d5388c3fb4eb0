"""Where each row of a table came from: its file and that file's row (or line), as errors name it.

A table's rows are not always its files' rows in order: several part files are joined,
``missing="drop"`` leaves rows out, ``split`` keeps some rows of another table, and a file's
blank lines hold no row. A located error found after reading (an unseen category, a class label
the model was not trained on, a refused missing cell) knows only the row's place in the Dataset;
:class:`RowOrigin` turns that place into the file and row the user sees, whatever happened to the
rows before. Every located-error builder of a table asks it (:func:`located`).

Memory stays small: the files' row counts and, only once rows were dropped or picked, one integer
array mapping each row to its place among the files' rows read in order.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Rows past this count index their origin with int64 (int32 halves the map's memory below it).
_INT32_ROWS = 2**31 - 1


@dataclass(frozen=True)
class RowOrigin:
    """The files a table's rows were read from, in order, and the rows it kept of them.

    Attributes:
        files: each file as messages name it (``jparts/p2.jsonl``).
        counts: the rows read from each file.
        row_of: for each file, the row (or line) of the file its 0-based row was read from, as an
            error names it (a CSV's header is row 1; blank lines count).
        word: how a location names a row: "row", or "line" for JSON lines.
        single: the table is one file named by its path (not a folder or a pattern).
        index: the place among the files' rows of each row of the table, once rows were dropped
            or picked; None while the table holds every row in file order.
    """

    files: tuple[str, ...]
    counts: tuple[int, ...]
    row_of: tuple[Callable[[int], int], ...] = field(repr=False)
    word: str = "row"
    single: bool = True
    index: Any = field(default=None, repr=False, compare=False)

    def where(self, row: int) -> tuple[str, int]:
        """The file (as messages name it) and its row or line number of the table's 0-based ``row``."""
        at = int(self.index[row]) if self.index is not None else row
        starts = self._starts()
        k = max(bisect_right(starts, at) - 1, 0)
        # a file without rows starts where the next one does: bisect_right picks the one holding the row
        return self.files[k], self.row_of[k](at - starts[k])

    def _starts(self) -> list[int]:
        starts, total = [], 0
        for n in self.counts:
            starts.append(total)
            total += n
        return starts

    def subset(self, index) -> RowOrigin:
        """The origin of the table's rows at ``index`` (a NumPy index array), in that order."""
        import numpy as np

        index = np.asarray(index)
        picked = index if self.index is None else self.index[index]
        dtype = np.int32 if sum(self.counts) <= _INT32_ROWS else np.int64
        return RowOrigin(self.files, self.counts, self.row_of, self.word, self.single, picked.astype(dtype, copy=False))


def first_row(path: Path, word: str) -> int:
    """The row number of a file's first data row, where its reader gives no other: 2 in a CSV
    (its header is row 1), else 1 (a JSON line, a Parquet row)."""
    return 2 if word == "row" and path.suffix.lower() == ".csv" else 1


def counted_from(first: int) -> Callable[[int], int]:
    """The ``row_of`` of a file whose rows are its lines in order from row ``first`` (2 in a CSV, whose header is row 1)."""
    return lambda row: row + first


def located(origin: RowOrigin, fail_in: Callable[[str], Callable[..., Exception]],
            whole: str | None = None) -> Callable[..., Exception]:
    """``fail(message, row=None, column=None, hint=None)``: a data error at the file and row of the
    table's 0-based ``row``.

    Args:
        fail_in: ``fail_in(shown)`` gives the ``fail(message, where_row=, column=, hint=)`` of one
            file (:func:`nndsl.data.parts.part_failure`).
        whole: how the table is named without a row (and a single file with one); its first file by default.
    """

    def fail(message: str, row: int | None = None, column: str | None = None, hint: str | None = None) -> Exception:
        if row is None:
            return fail_in(whole or origin.files[0])(message, column=column, hint=hint)
        shown, number = origin.where(int(row))
        if origin.single and whole is not None:
            shown = whole
        return fail_in(shown)(message, where_row=number, column=column, hint=hint)

    return fail
